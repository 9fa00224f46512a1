"""How `related` may rank entities: the one list the CLI, MCP and HTTP offer and `find_related` checks.

A module of its own so that front ends can name the choices without importing the graph code (numpy):
`localrag --help` stays fast.
"""

SCORINGS = ("shared", "pagerank")
