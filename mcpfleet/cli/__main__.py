from mcpfleet.cli.main import main

main()
