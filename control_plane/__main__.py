from control_plane.app import main

main()
