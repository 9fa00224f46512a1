"""Triple extraction with a scripted generator: grammar, checks, normalisation, merging, incremental build."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from localrag.embed import HashEmbedder, SentenceTransformerEmbedder
from localrag.errors import ModelError
from localrag.graph.extract import ExtractConfig, GraphBuildProgress, build_graph
from localrag.graph.extract_prompts import TRIPLES_GRAMMAR, extraction_messages, parse_triples
from localrag.graph.store import GraphStore
from localrag.graph.triple_checks import EntityMerger, check_triples, clean_entity, occurs_in
from localrag.graph.vocabulary import RelationVocabulary, VocabularyError, load_vocabulary
from localrag.types import Chunk, Document, GenerationStats

LIGHTHOUSE = (
    "Kestrel Point Lighthouse stands on the northern headland of Brannock Bay. Work began in 1868 under "
    "the engineer Margaret Ellery Voss."
)
# The build machinery is tested with the single-prompt method, whose scripted replies are whole lists;
# the focused method has its own tests (test_graph_focused.py).
SINGLE = ExtractConfig(method="single")
QUARRY = "The stone was quarried at Carrow Quarry and brought to the headland of Brannock Bay on a tramway."


def reply(*triples: tuple[str, str, str]) -> str:
    return json.dumps([{"subject": s, "relation": r, "object": o} for s, r, o in triples])


class ScriptedGenerator:
    """Replies by the passage in the last user message; records every call and the grammar it got."""

    name = "scripted"
    n_ctx = 2048

    def __init__(self, replies: dict[str, str | Exception]) -> None:
        self.replies = replies
        self.calls: list[str] = []
        self.grammars: list[str | None] = []

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        grammar: str | None = None,
        cancel: threading.Event | None = None,
        stats: GenerationStats | None = None,
    ) -> str:
        passage = messages[-1]["content"]
        self.calls.append(passage)
        self.grammars.append(grammar)
        if stats is not None:
            stats.completion_tokens = 10
            stats.generation_seconds = 0.1
        for key, answer in self.replies.items():
            if key in passage:
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return "[]"


class FakeStore:
    """What build_graph reads from the chunk store: documents and their chunks."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.chunks: dict[str, list[Chunk]] = {}

    def put(self, doc_id: str, texts: Sequence[str], digest: str = "h1") -> None:
        path = f"/docs/{doc_id}.md"
        self.docs[doc_id] = Document(doc_id, path, "md", digest, 10, 0.0, doc_id, len(texts))
        self.chunks[doc_id] = [
            Chunk(f"{doc_id}:{i:05d}", doc_id, path, i, t, 0, len(t)) for i, t in enumerate(texts)
        ]

    def documents(self) -> list[Document]:
        return list(self.docs.values())

    def doc_chunks(self, doc_id: str) -> list[Chunk]:
        return self.chunks.get(doc_id, [])


@pytest.fixture
def graph(tmp_path: Path) -> GraphStore:
    return GraphStore(tmp_path / "db", HashEmbedder(dim=64))


def chunk(text: str) -> Chunk:
    return Chunk("d:00000", "d", "/docs/d.md", 0, text, 0, len(text))


def test_grammar_bounds_the_list_and_the_strings() -> None:
    assert "triple ){0,4}" in TRIPLES_GRAMMAR
    assert "char{1,48}" in TRIPLES_GRAMMAR
    assert '[a-zA-Z_ ]{0,31}' in TRIPLES_GRAMMAR


def test_prompt_is_few_shot_and_lists_the_vocabulary() -> None:
    messages = extraction_messages(chunk(LIGHTHOUSE), RelationVocabulary())
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert parse_triples(messages[2]["content"])  # the worked example is itself a valid reply
    assert "located_in" in messages[0]["content"] and "related_to" in messages[0]["content"]
    assert LIGHTHOUSE in messages[-1]["content"]


def test_relations_map_onto_the_vocabulary() -> None:
    vocab = RelationVocabulary()
    assert vocab.map("Designed By") == "created_by"
    assert vocab.map("was built in") == "date"  # the longer phrase wins over "in"
    assert vocab.map("is located in") == "located_in"
    assert vocab.map("part_of") == "part_of"
    assert vocab.map("admires") == "related_to"
    strict = RelationVocabulary({"works_for": ("employed by",)}, fallback=None)
    assert strict.map("is employed by") == "works_for"
    assert strict.map("admires") is None
    assert strict.names == ["works_for"]


def test_entity_cleaning_and_fuzzy_occurrence() -> None:
    assert clean_entity("  the *Kestrel Point*  Lighthouse. ") == "Kestrel Point Lighthouse"
    assert clean_entity("An apple") == "apple"
    assert occurs_in("kestrel point lighthouse", LIGHTHOUSE)
    assert occurs_in("Margaret Voss", LIGHTHOUSE)  # every word is there
    assert occurs_in("Kestrel Point Lighthuose", LIGHTHOUSE)  # a small misspelling
    assert occurs_in("headlands", LIGHTHOUSE)  # a plural
    assert not occurs_in("Penny Marshall", LIGHTHOUSE)
    assert not occurs_in("", LIGHTHOUSE)


def test_parse_keeps_whole_objects_of_a_cut_reply() -> None:
    cut = '[{"subject": "A", "relation": "r", "object": "B"}, {"subject": "C", "rel'
    assert parse_triples(cut) == [{"subject": "A", "relation": "r", "object": "B"}]
    assert parse_triples("not json") is None
    assert parse_triples('[{"subject": 1, "relation": "r", "object": "B"}]') == []


def test_check_drops_invented_names_and_counts_why() -> None:
    raw = [
        {"subject": "Kestrel Point Lighthouse", "relation": "designed by", "object": "Margaret Ellery Voss"},
        {"subject": "the Kestrel Point Lighthouse", "relation": "created_by", "object": "Margaret Ellery Voss"},
        {"subject": "Kestrel Point Lighthouse", "relation": "located in", "object": "Paris"},
        {"subject": "Eiffel Tower", "relation": "located in", "object": "Brannock Bay"},
        {"subject": "Brannock Bay", "relation": "is", "object": "brannock  bay"},
        {"subject": "  ", "relation": "is", "object": "Bay"},
    ]
    kept, dropped = check_triples(raw, chunk(LIGHTHOUSE), RelationVocabulary())
    assert kept == [("Kestrel Point Lighthouse", "created_by", "Margaret Ellery Voss")]
    assert dropped == {
        "duplicate": 1,
        "object not in chunk": 1,
        "subject not in chunk": 1,
        "subject is the object": 1,
        "empty name": 1,
    }


def test_merger_joins_case_alias_and_close_embeddings(graph: GraphStore) -> None:
    merger = EntityMerger(HashEmbedder(dim=64), threshold=0.9)
    first = merger.resolve(["Kestrel Point Lighthouse", "Brannock Bay"])
    assert first == {"Kestrel Point Lighthouse": "Kestrel Point Lighthouse", "Brannock Bay": "Brannock Bay"}
    # Same words in another case and order: the hash embedding is identical, so they merge.
    again = merger.resolve(["kestrel point LIGHTHOUSE", "Lighthouse Kestrel Point", "Carrow Quarry"])
    assert again["kestrel point LIGHTHOUSE"] == "Kestrel Point Lighthouse"
    assert again["Lighthouse Kestrel Point"] == "Kestrel Point Lighthouse"
    assert again["Carrow Quarry"] == "Carrow Quarry"
    assert merger.merged == 1
    assert merger.aliases == {"Kestrel Point Lighthouse": {"Lighthouse Kestrel Point"}}


def test_merger_keeps_names_that_differ_in_a_number_apart(real_embedder: SentenceTransformerEmbedder) -> None:
    merger = EntityMerger(real_embedder, threshold=0.9)
    merger.resolve(["Born 28", "Apollo 11", "Kestrel Point Lighthouse"])
    again = merger.resolve(["Born 27", "Apollo 12", "Apollo 11", "Kestrel Point lighthouses"])
    assert again["Born 27"] == "Born 27" and again["Apollo 12"] == "Apollo 12"  # MiniLM puts each pair above 0.9
    assert again["Apollo 11"] == "Apollo 11"
    assert again["Kestrel Point lighthouses"] == "Kestrel Point Lighthouse"  # no number: merged by its vector
    assert merger.merged == 1


def test_build_extracts_merges_and_keeps_provenance(graph: GraphStore) -> None:
    store = FakeStore()
    store.put("lighthouse", [LIGHTHOUSE])
    store.put("quarry", [QUARRY])
    gen = ScriptedGenerator(
        {
            "Margaret Ellery": reply(
                ("Kestrel Point Lighthouse", "stands on", "Brannock Bay"),
                ("Kestrel Point Lighthouse", "designed by", "Margaret Ellery Voss"),
                ("Kestrel Point Lighthouse", "located in", "Atlantis"),
            ),
            "Carrow Quarry": reply(("Carrow Quarry", "located near", "brannock bay")),
        }
    )
    seen: list[GraphBuildProgress] = []
    report = build_graph(store, graph, gen, HashEmbedder(dim=64), SINGLE, progress=seen.append)  # type: ignore[arg-type]
    assert all(g == TRIPLES_GRAMMAR for g in gen.grammars)
    assert (report.chunks_total, report.chunks_extracted, report.proposed) == (2, 2, 4)
    assert report.triples_added == 3 and report.dropped == {"object not in chunk": 1}
    assert report.triples_per_chunk == 1.5
    assert [p.chunks_done for p in seen] == [1, 2] and seen[-1].chunks_total == 2
    rows = graph.triple_rows().to_pylist()
    by_relation = {r["relation"]: r for r in rows}
    assert by_relation["created_by"]["source"] == "lighthouse:00000"
    assert by_relation["created_by"]["doc_id"] == "lighthouse"
    # "Brannock Bay" from one chunk and "brannock bay" from the other are one entity.
    assert by_relation["located_in"]["tail"] == "brannock bay"
    assert sorted(graph.relations()) == ["created_by", "located_in"]
    assert graph.stats().entities == 4


def test_ctrl_c_keeps_the_chunks_read_before_it(graph: GraphStore) -> None:
    # The CLI's Ctrl-C arrives as KeyboardInterrupt, not through `cancel`: everything since the last commit (up to
    # `commit_every` chunks, all of a small corpus) was lost and the next build started over.
    store = FakeStore()
    store.put("lighthouse", [LIGHTHOUSE])
    store.put("quarry", [QUARRY])

    class Interrupted(ScriptedGenerator):
        def complete(self, messages: list[dict[str, str]], **options: Any) -> str:
            if "Carrow Quarry" in messages[-1]["content"]:
                raise KeyboardInterrupt
            return super().complete(messages, **options)

    gen = Interrupted({"Margaret Ellery": reply(("Kestrel Point Lighthouse", "designed by", "Margaret Ellery Voss"))})
    with pytest.raises(KeyboardInterrupt):
        build_graph(store, graph, gen, HashEmbedder(dim=64), SINGLE)  # type: ignore[arg-type]
    assert list(graph.built_chunks()) == ["lighthouse:00000"] and graph.stats().triples == 1
    again = build_graph(store, graph, ScriptedGenerator({}), HashEmbedder(dim=64), SINGLE)  # type: ignore[arg-type]
    assert again.chunks_skipped == 1 and again.chunks_extracted == 1


def test_build_resumes_and_follows_changed_and_forgotten_documents(graph: GraphStore) -> None:
    store = FakeStore()
    store.put("lighthouse", [LIGHTHOUSE])
    store.put("quarry", [QUARRY])
    gen = ScriptedGenerator(
        {
            "Margaret Ellery": reply(("Kestrel Point Lighthouse", "designed by", "Margaret Ellery Voss")),
            "Carrow Quarry": reply(("Carrow Quarry", "located near", "Brannock Bay")),
            "Changed text": reply(("Ada Penhallow", "keeper", "Kestrel Point")),
        }
    )
    embedder = HashEmbedder(dim=64)
    build_graph(store, graph, gen, embedder, SINGLE)  # type: ignore[arg-type]
    gen.calls.clear()

    again = build_graph(store, graph, gen, embedder, SINGLE)  # type: ignore[arg-type]
    assert gen.calls == [] and again.chunks_skipped == 2 and again.triples_added == 0

    store.put("lighthouse", ["Changed text: Ada Penhallow kept Kestrel Point."], digest="h2")
    del store.docs["quarry"]
    changed = build_graph(store, graph, gen, embedder, SINGLE)  # type: ignore[arg-type]
    assert len(gen.calls) == 1 and changed.chunks_extracted == 1
    assert changed.triples_removed == 2 and changed.documents_removed == 1
    rows = graph.triple_rows().to_pylist()
    assert [(r["head"], r["relation"], r["tail"], r["doc_id"]) for r in rows] == [
        ("ada penhallow", "role", "kestrel point", "lighthouse")
    ]
    assert graph.stats().entities == 2  # the forgotten triples' entities went with them


def test_failed_and_unparseable_generations_are_counted_and_retried(graph: GraphStore) -> None:
    store = FakeStore()
    store.put("lighthouse", [LIGHTHOUSE, QUARRY])
    gen = ScriptedGenerator({"Margaret Ellery": ModelError("boom", "retry"), "Carrow Quarry": "garbage"})
    config = replace(SINGLE, commit_every=1)
    report = build_graph(store, graph, gen, HashEmbedder(dim=64), config)  # type: ignore[arg-type]
    assert (report.failed, report.invalid_replies, report.chunks_extracted) == (1, 1, 0)
    assert "boom" in report.errors[0]
    gen.replies = {}
    retry = build_graph(store, graph, gen, HashEmbedder(dim=64), config)  # type: ignore[arg-type]
    assert len(gen.calls) == 4 and retry.chunks_extracted == 2 and retry.chunks_skipped == 0


def test_cancel_stops_between_chunks_and_the_rest_resumes(graph: GraphStore) -> None:
    store = FakeStore()
    store.put("lighthouse", [LIGHTHOUSE, QUARRY, "A third chunk."])
    cancel = threading.Event()
    gen = ScriptedGenerator({})

    def stop_after_first(p: GraphBuildProgress) -> None:
        cancel.set()

    first = build_graph(store, graph, gen, HashEmbedder(dim=64), SINGLE, progress=stop_after_first, cancel=cancel)  # type: ignore[arg-type]
    assert first.cancelled and first.chunks_extracted == 1
    rest = build_graph(store, graph, gen, HashEmbedder(dim=64), SINGLE)  # type: ignore[arg-type]
    assert rest.chunks_skipped == 1 and rest.chunks_extracted == 2


def test_vocabulary_file(tmp_path: Path) -> None:
    path = tmp_path / "relations.txt"
    path.write_text("# football\nPlays In Club: plays for, club\nwears_number\n\n", encoding="utf-8")
    vocab = load_vocabulary(path, fallback=None)
    assert vocab.names == ["plays_in_club", "wears_number"]
    assert vocab.map("plays for") == "plays_in_club" and vocab.map("likes") is None
    path.write_text(": orphan synonym\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="relations.txt:1"):
        load_vocabulary(path)
    with pytest.raises(VocabularyError, match="cannot read"):
        load_vocabulary(tmp_path / "missing.txt")
