"""Graph mode (Reasoning on Graphs): triples in LanceDB, relation-path planning, path following, answers.

The pieces go in this order: `store.GraphStore` holds entities and triples next to the chunks;
`columns.GraphColumns` is the graph as numbered columns with sorted adjacency both ways, saved
beside the tables and kept current by the store's writes; `paths.GraphIndex` over it links a
question's entities and follows relation paths; `plan` proposes relation paths of one to four
relations (grammar-constrained model, or beam search ranked by embedding); `reason` turns the
reasoning paths into an answer that names the path supporting it; `related` ranks the entities
that share specific neighbours with given ones, with the paths that join them; `turns` keeps a graph
answer in a conversation.
"""
