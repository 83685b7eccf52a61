"""sse_edge: the stateless MCP edge. Clients connect here by workspace name; the edge asks the
control plane where the workspace runs and proxies the MCP transports to that worker.

Entry points: `sse_edge.app.create_app(resolver)` and `sse_edge.app.serve(app, bind, ...)`.
"""
