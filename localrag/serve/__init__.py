"""Servers that expose the Engine to other tools: an OpenAI-compatible HTTP API and an MCP server.

Both are thin over one `Engine` and render what it returns with `localrag.shapes`, the same JSON
shapes as `ask --json`. `http.py` (Starlette + uvicorn) is `localrag serve`; `mcp.py` (the official
`mcp` SDK, stdio) is `localrag mcp`; `gate.py` queues requests on the one loaded model.
"""
