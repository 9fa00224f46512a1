"""Graph mode (Reasoning on Graphs): triples in LanceDB, relation-path planning, path following, answers.

The pieces go in this order: `store.GraphStore` holds entities and triples next to the chunks;
`paths.GraphIndex` is the in-memory adjacency built from it once, which links a question's entities
and follows relation paths; `plan` proposes relation paths (grammar-constrained model or embedding
ranking); `reason` turns the reasoning paths into an answer that names the path supporting it.
"""
