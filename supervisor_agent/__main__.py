from supervisor_agent.app import main

main()
