"""The Engine's graph mode: build, import, inspect and clear the knowledge graph, answer from its paths.

`Engine` (localrag/engine.py) inherits these methods; they are kept apart because they hold a concern of
their own. The graph lives in the same LanceDB folder as the chunks (`GraphStore`), with an in-memory
`GraphIndex` of it that is read again only when the graph tables' versions change (`graph_index`).
`Engine.forget` deletes a document's triples with its chunks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.engine_writes import one_collection
from localrag.errors import EmptyGraphError, LocalRagError
from localrag.paths import typed_path
from localrag.questions import checked_question
from localrag.types import Chunk
from localrag.writer_lock import writer_lock

MAX_LISTED_TRIPLES = 1000

if TYPE_CHECKING:
    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.generate import Generator
    from localrag.graph.extract import ExtractConfig, GraphBuildProgress, GraphBuildReport
    from localrag.graph.paths import GraphIndex
    from localrag.graph.plan import EmbeddingPlanner
    from localrag.graph.reason import GraphAnswer
    from localrag.graph.related import RelatedResult, RelatedView
    from localrag.graph.store import GraphStats, GraphStore
    from localrag.graph.triple_file import ImportReport
    from localrag.graph.triples import ListedTriple
    from localrag.store import Store

GRAPH_PLANNERS = ("embedding", "grammar")


class GraphMode:
    """Graph mode over the parts an Engine loads (its store, graph store, embedder and generator)."""

    settings: Settings
    _lock: threading.RLock
    _graph_index: tuple[tuple[int, int], GraphIndex] | None
    _graph_planner: EmbeddingPlanner | None

    if TYPE_CHECKING:

        @property
        def store(self) -> Store: ...

        @property
        def graph(self) -> GraphStore: ...

        @property
        def embedder(self) -> Embedder: ...

        def collection_option(self, name: str | None = None) -> str: ...

        @property
        def generator(self) -> Generator: ...

        def _writer_lock_dir(self) -> Path: ...

    @one_collection
    def graph_build(
        self,
        *,
        progress: Callable[[GraphBuildProgress], None] | None = None,
        cancel: threading.Event | None = None,
        config: ExtractConfig | None = None,
    ) -> GraphBuildReport:
        """Extract triples from the chunks not yet in the graph; drop those of changed or forgotten files."""
        from localrag.graph.extract import build_graph

        # The graph tables are the store's too: one writer at a time (writer_lock.py).
        with writer_lock(self._writer_lock_dir()):
            return build_graph(
                self.store, self.graph, self.generator, self.embedder, config, progress=progress, cancel=cancel
            )

    @one_collection
    def graph_import(self, path: Path | str) -> ImportReport:
        with writer_lock(self._writer_lock_dir()):
            return self.graph.import_triples(typed_path(path))

    @one_collection
    def graph_clear(self, *, built: bool = True, imported: bool = True) -> int:
        """Forget the triples `graph build` made (and which chunks it read, so the next build reads them all
        again), those `graph import` read, or both; the number of triples removed. Documents stay indexed."""
        from localrag.graph.triples import imported_file

        with writer_lock(self._writer_lock_dir()):
            graph = self.graph
            sources = set(graph.triple_rows()["doc_id"].to_pylist())
            sources |= {doc_id for doc_id, _ in graph.built_chunks().values()}
            chosen = [d for d in sources if (imported if imported_file(d) else built)]
            return graph.delete_for_documents(chosen)

    def graph_stats(self) -> GraphStats:
        return self.graph.stats()

    def check_triples_limit(self, limit: int) -> None:
        """How many triples a listing of the API or MCP may return: their own words for one rule ("`limit` must be
        an integer from 1 to 1000" and pydantic's "input should be greater than or equal to 1")."""
        if not 1 <= limit <= MAX_LISTED_TRIPLES:
            raise LocalRagError(f"{limit} triples: a listing returns from 1 to {MAX_LISTED_TRIPLES}",
                                f"ask for 1 to {MAX_LISTED_TRIPLES} triples", field="limit")

    def graph_triples(self, entity: str = "", relation: str = "") -> list[ListedTriple]:
        """The graph's triples by name, each with where it came from; only those touching `entity` (its name or
        one of its aliases, as linking normalises them, else the nearest name) or of `relation`, when given."""
        from localrag.graph.triples import ListedTriple, imported_file, normalise_relation
        from localrag.shapes import step_source
        from localrag.store_schema import sql_in, sql_literal

        # Filters go to LanceDB: at a million triples, reading every row into Python took ~1.8 s a listing.
        kind = [f"relation = {sql_literal(normalise_relation(relation))}"] if relation else []

        def touching(ids: list[str]) -> list[str]:
            return [*kind, f"({sql_in('head', ids)} OR {sql_in('tail', ids)})"] if entity else kind

        where = touching(sorted(self.graph.entities_named(entity)) if entity else [])
        rows = self.graph.triple_rows(" AND ".join(where) or None).to_pylist()
        if entity and not rows:
            # Else the nearest name, as `related` and `ask --graph` link one ("creme brulee" for Crème brûlée): the
            # listing that shows what the graph holds must not say it holds nothing of what they found.
            near = [linked.entity_id for linked in self.graph_index().link(entity, self.embedder, limit=1)]
            if near:
                where = touching(near)
                rows = self.graph.triple_rows(" AND ".join(where)).to_pylist()
        # A filtered listing reads only its own names, unless the whole graph is in memory already (a server's).
        index = self._loaded_graph_index() if where else self.graph_index()
        names: Mapping[str, str] = (index.names if index is not None else
                                    self.graph.entity_names(i for r in rows for i in (r["head"], r["tail"])))
        # An imported triple's source is a line of its file, never a chunk: nothing to look up.
        chunks = self.source_chunks(r["source"] for r in rows if not imported_file(r["doc_id"] or ""))
        listed = [ListedTriple(names.get(r["head"], r["head"]), r["relation"], names.get(r["tail"], r["tail"]),
                               r["source"], step_source(r["source"], chunks)) for r in rows]
        return sorted(listed, key=lambda t: (t.head.lower(), t.relation, t.tail.lower(), t.source))

    def entity_aliases(self, entity_id: str) -> list[str]:
        """Other names entity linking merged into this entity (normalised), to show next to it."""
        return self.graph.aliases_of(entity_id)

    def _loaded_graph_index(self) -> GraphIndex | None:
        """The in-memory graph when it is loaded and current; None, without loading it, otherwise."""
        with self._lock:
            if self._graph_index is not None and self._graph_index[0] == self.graph.version():
                return self._graph_index[1]
            return None

    def graph_index(self) -> GraphIndex:
        """The in-memory graph, read again only when the graph tables changed since the last read."""
        from localrag.graph.paths import GraphIndex

        with self._lock:
            version = self.graph.version()
            if self._graph_index is None or self._graph_index[0] != version:
                self._graph_index = (version, GraphIndex.load(self.graph))
            return self._graph_index[1]

    def empty_graph(self, field: str | None = None) -> EmptyGraphError:
        """The refusal of a question to an empty graph, its fix naming this collection: `localrag graph build`
        as said built the default collection's graph, and the same refusal came back. `field`: the request's
        field that asked the graph, which the API names as `param`."""
        option = self.collection_option()
        return EmptyGraphError("the knowledge graph is empty",
                               f"run `localrag graph build{option}` or `localrag graph import FILE{option}` first",
                               field=field)

    def ask_graph(
        self,
        question: str,
        *,
        planner: str | None = None,
        k: int = 3,
        max_paths: int = 50,
        model_reasoner: bool = False,
    ) -> GraphAnswer:
        """Answer from reasoning paths in the knowledge graph; every planned path names its planner.

        `planner` is "embedding" (the default: a 135M model cannot plan) or "grammar" (the model
        chooses among relation paths the graph can follow); None reads the `graph_planner` setting.
        """
        from localrag.graph.plan import MAX_HOPS, EmbeddingPlanner, GrammarPlanner, Planner
        from localrag.graph.reason import ModelReasoner, answer_question

        question = checked_question(question)
        choice = planner or self.settings.graph_planner
        if choice not in GRAPH_PLANNERS:
            # The setting's own value is checked where settings are; only a planner asked for is the request's.
            raise LocalRagError(f"unknown graph planner '{choice}'", f"use one of: {', '.join(GRAPH_PLANNERS)}",
                                field="planner" if planner else None)
        index = self.graph_index()
        if not index.n_triples:
            raise self.empty_graph("question")
        hops = self.settings.graph_max_hops
        if not 1 <= hops <= MAX_HOPS:
            raise LocalRagError(f"graph_max_hops is {hops}", f"set it to 1 to {MAX_HOPS} (3 is the default)")
        # Kept, with its cache of relation-path vectors, while the embedder and the setting stay; it also
        # picks the paths the grammar planner offers the model.
        if self._graph_planner is None or self._graph_planner.max_hops != hops:
            self._graph_planner = EmbeddingPlanner(self.embedder, hops)
        chosen: Planner = self._graph_planner
        if choice == "grammar":
            chosen = GrammarPlanner(self.generator, hops, ranker=self._graph_planner)
        reasoner = ModelReasoner(self.generator) if model_reasoner else None
        return answer_question(
            question, index, chosen, embedder=self.embedder, reasoner=reasoner, k=k, max_paths=max_paths
        )

    def path_chunks(self, answer: GraphAnswer) -> dict[str, Chunk]:
        """The indexed chunks the answer's path steps came from, by chunk id (imported steps have none)."""
        return self.source_chunks(step.source for path in answer.paths for step in path.steps)

    def source_chunks(self, sources: Iterable[str]) -> dict[str, Chunk]:
        """The indexed chunks with these ids (graph steps' sources; `file:line` sources have none)."""
        return {c.chunk_id: c for c in self.store.chunks(sorted(set(sources)))}

    def related(
        self, entities: Sequence[str], *, relations: Sequence[str] | None = None, k: int = 10, scoring: str = "shared"
    ) -> RelatedResult:
        """Entities sharing the most specific neighbours with `entities`, each with the paths that join them;
        `scoring`: "shared" (inverse-degree shared neighbours) or "pagerank" (localrag/graph/related.py)."""
        from localrag.graph.related import find_related
        from localrag.types import MAX_SEARCH_K

        if not 1 <= k <= MAX_SEARCH_K:  # the rule of search, for the CLI, the API and MCP alike
            raise LocalRagError(f"{k} entities: related lists from 1 to {MAX_SEARCH_K}",
                                f"ask for 1 to {MAX_SEARCH_K} entities", field="k")
        index = self.graph_index()
        if not index.n_triples:
            raise self.empty_graph("entities")
        return find_related(index, entities, relations=relations, k=k, embedder=self.embedder, scoring=scoring)

    def related_view(self, result: RelatedResult) -> RelatedView:
        """Names, source chunks and seed aliases for showing `result`: one lookup for every front end."""
        from localrag.graph.related import RelatedView

        return RelatedView(
            names=self.graph_index().names,
            chunks=self.source_chunks(s.source for s in result.steps()),
            aliases={s.entity_id: self.entity_aliases(s.entity_id) for s in result.seeds},
        )

    def ask_related(self, question: str, *, k: int = 10) -> RelatedResult | None:
        """Entities like the ones a question names ("what else is like X?"), with their joining paths.

        None for any other question (`graph.related.question_related` decides), so `ask --graph` answers it.
        """
        from localrag.graph.related import question_related

        index = self.graph_index()
        if not index.n_triples:
            return None  # ask_graph says the graph is empty
        return question_related(index, question.strip(), k=k, embedder=self.embedder)
