"""Per-host agent: runs the FastMCP workers the control plane assigns."""
