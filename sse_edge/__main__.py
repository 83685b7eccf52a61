from sse_edge.app import main

main()
