"""The `mcpfleet` operator CLI (gRPC to the control plane) and the one-host launcher `up`."""
