"""Stand-ins the tests share: a fake engine, the sample chunks and a fake Q&A generator, the small films graph.

- `FakeEngine`: a stand-in for `localrag.engine.Engine` in the fast TUI tests and the snapshots
  (tests/unit/test_fakes.py checks its methods still match the Engine's names and signatures).
- `SAMPLE_CHUNKS` (ten documents of two chunks, each naming its topic) and `QAGenerator`, which writes
  the question and answer a RAFT build asks of each chunk: for the RAFT and tune tests, without a model.
- `FILMS`: the small films knowledge graph (head, relation, tail TSV) the graph tests import.

The fake engine has the Engine's public methods and returns the same types, from a fixed, tiny in-memory
corpus, with no model and no store, so widget tests run in milliseconds and snapshots are
identical on every run. The pilot tests in test_app_real.py drive the real Engine instead.

Knobs a test can turn:
- `hold_after_first_token`: the stream stops after its first token until `cancel` is set (or a
  timeout), so a test can press Esc mid-answer without timing races; `streaming` is set then.
- `hold_ingest`: the ingest waits on this event after the first file's progress.
- `fail_next`: the next `stream` raises it (to test error modals).
- `stop_repeating`: the answer is marked as ended by the repeat guard.
- `evidence`: the answer carries it as the sources' best sentence.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from localrag.answer.summary import Summary
from localrag.config import Settings
from localrag.conversations import ConversationStore
from localrag.embed import HashEmbedder
from localrag.engine_collections import CollectionInfo
from localrag.engine_status import Information
from localrag.errors import LocalRagError, ModelError
from localrag.forget import Forgotten, conversations_keeping
from localrag.ingest.watch import WatchEvent
from localrag.models import BUNDLED_GENERATOR, ModelInfo, bundled_generator_path, resolve_generator
from localrag.retrieve import SearchFilters
from localrag.types import (
    Answer,
    AnswerEvent,
    Chunk,
    Document,
    DoneEvent,
    Evidence,
    FileError,
    GenerationStats,
    Hit,
    IngestProgress,
    IngestReport,
    Quote,
    QuoteStatus,
    SourcesEvent,
    TokenEvent,
)

INJECTION = "[bold red]x[/] [@click=app.quit]y[/]"

CORPUS = {
    "/docs/kettle-manual.md": (
        "Descaling",
        "Descale the kettle every four weeks with white vinegar. Rinse twice before boiling water again.",
    ),
    "/docs/garden-notes.txt": (
        "Tomatoes",
        "Tomatoes need six hours of sun a day and deep watering twice a week in summer.",
    ),
    "/docs/[@click=app.quit]evil[bold red].md": (
        "Markup",
        f"This file contains literal markup: {INJECTION} and must be shown as typed.",
    ),
}


@dataclass
class FakeStatus:
    documents: int
    chunks: int
    size_bytes: int
    model: str
    model_path: str = "/models/fake.gguf"
    embedder: str = "hash-embedder"
    embedder_path: str = ""
    fts_index: str = "ready"
    vector_index: str = "flat"
    schema_version: int = 1
    stale_documents: int = 0
    data_dir: str = "/data"
    models_dir: str = "/models"
    collection: str = "default"
    gpu_offload: bool = False
    answered_by: str = ""


@dataclass
class FakeEngine:
    settings: Settings = field(default_factory=Settings)
    config_file: Path | None = None  # the user's settings file, as the app's engine has it
    answer_text: str = 'Descale it every four weeks [1]. The manual says "with white vinegar. Rinse twice" [1].'
    hold_after_first_token: bool = False
    stop_repeating: bool = False
    evidence: Evidence | None = None
    hold_ingest: threading.Event | None = None
    fail_next: LocalRagError | None = None
    calls: list[str] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)  # path -> why, what `stale_documents` answers
    streaming: threading.Event = field(default_factory=threading.Event)
    histories: list[list[dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._docs: dict[str, Document] = {}
        self._chunks: dict[str, Chunk] = {}
        for i, (path, (heading, text)) in enumerate(CORPUS.items()):
            self._add(path, heading, text, i)
        self._model = "fake-model"

    def _add(self, path: str, heading: str, text: str, i: int) -> None:
        doc_id = f"doc{i}"
        self._docs[path] = Document(doc_id, path, Path(path).suffix.lstrip("."), f"h{i}", len(text), 0.0,
                                    heading, 1)
        self._chunks[f"{doc_id}-0"] = Chunk(f"{doc_id}-0", doc_id, path, 0, text, 0, len(text), None, heading,
                                            Path(path).suffix.lstrip("."), len(text.split()))

    @property
    def models_dir(self) -> Path:
        return Path("/models")

    def model_name(self) -> str:
        return self._model

    def answer_label(self) -> str:
        from localrag.answer.evidence import EXTRACT_MODEL

        return EXTRACT_MODEL if self.settings.answer_mode == "extract" else self._model

    def warm_up(self) -> None:
        self.calls.append("warm_up")

    def status(self) -> FakeStatus:
        return FakeStatus(len(self._docs), len(self._chunks), 4096, self._model, stale_documents=len(self.stale),
                          answered_by=self.answer_label())

    def documents(self, filters: SearchFilters | None = None) -> list[Document]:
        # The chat app's Library lists every document: it passes no filters.
        assert filters is None, "the fake lists every document"
        return list(self._docs.values())

    def stale_documents(self, documents: Sequence[Document] | None = None) -> dict[str, str]:
        return dict(self.stale)

    def chunk(self, chunk_id: str) -> Chunk:
        return self._chunks[chunk_id]

    def summarize(self, path: str | Path, sentences: int = 5) -> tuple[Document, Summary]:
        from localrag.answer.summary import summarise

        doc = self._docs[str(path)]
        chunks = [c for c in self._chunks.values() if c.doc_id == doc.doc_id]
        return doc, summarise(chunks, HashEmbedder(), sentences)

    def forget(self, *paths: str | Path, purge: bool = False, conversations: ConversationStore | None = None,
               cancel: threading.Event | None = None) -> Forgotten:
        removed: list[str] = []
        for path in paths:
            doc = self._docs.pop(str(path), None)
            if doc is None:
                raise LocalRagError(f"{path}: not in the index", "`localrag documents` lists what is indexed")
            removed += [k for k, c in self._chunks.items() if c.doc_id == doc.doc_id]
        for k in removed:
            del self._chunks[k]
        # The conversations' part is the real one: only the store has no old versions to drop here.
        kept = conversations_keeping(conversations, paths, purge=purge) if conversations is not None else []
        return Forgotten([str(path) for path in paths], len(paths), len(removed), purge, kept)

    def ingest(
        self,
        paths_: Sequence[Path | str],
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        progress: Callable[[IngestProgress], None] | None = None,
        cancel: threading.Event | None = None,
        refresh: bool = True,
        force: bool = False,
        stale: bool = False,
    ) -> IngestReport:
        flags = (" force" if force else "") + (" stale" if stale else "")
        self.calls.append(f"ingest {[str(p) for p in paths_]}{flags}")
        report = IngestReport()
        total = len(paths_) + 1
        for done, path in enumerate(paths_, start=1):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            self._add(str(path), "Added", f"Text of {path}.", len(self._docs) + 10)
            report.added += 1
            report.chunks_written += 1
            if progress:
                progress(IngestProgress(done, total, report.chunks_written, str(path), 1.0 * done, 2.0))
            if done == 1 and self.hold_ingest is not None:
                self.hold_ingest.wait(10)
        # The reason names the file, as the Engine's do.
        report.errors.append(FileError("/docs/broken.pdf", "/docs/broken.pdf: not a PDF (bad header): re-save it"))
        report.seconds = 1.5
        return report

    def search(self, query: str, *, k: int | None = None, filters: object = None, offset: int = 0) -> list[Hit]:
        words = set(query.lower().split())
        scored = sorted(
            self._chunks.values(), key=lambda c: (-len(words & set(c.text.lower().split())), c.chunk_id)
        )
        ranked = [Hit(c, 1.0 / (i + 1), vector_rank=i + 1) for i, c in enumerate(scored)]
        return ranked[offset : offset + (k or self.settings.top_k)]

    def rewrite_query(self, question: str, history: list[dict[str, str]]) -> str:
        previous = [m["content"] for m in history if m["role"] == "user"]
        return f"{previous[-1]} {question}" if previous and " it" in f" {question}" else question

    def stream(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: object = None,
        history: list[dict[str, str]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        self.calls.append(f"stream {question}")
        self.histories.append(list(history or []))
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        query = self.rewrite_query(question, history or [])
        hits = self.search(query, k=k)
        yield SourcesEvent(hits, query)
        stats = GenerationStats(prompt_tokens=100, time_to_first_token=0.25, stopped_repeating=self.stop_repeating)
        pieces: list[str] = []
        for i, word in enumerate(self.answer_text.split(" ")):
            if cancel is not None and cancel.is_set():
                stats.cancelled = True
                break
            piece = word if i == 0 else " " + word
            pieces.append(piece)
            stats.completion_tokens += 1
            yield TokenEvent(piece)
            if i == 0 and self.hold_after_first_token:
                self.streaming.set()
                if cancel is not None:
                    cancel.wait(10)
        stats.generation_seconds = stats.completion_tokens / 40.0
        text = "".join(pieces)
        quotes = []
        source = hits[0].chunk.text
        quoted = "with white vinegar. Rinse twice"
        if quoted in text and quoted in source:
            start = source.index(quoted)
            quotes.append(Quote(quoted, 1, QuoteStatus.VERIFIED, 1.0, start, start + len(quoted)))
        cited = [1] if "[1]" in text else []
        yield DoneEvent(Answer(question, text, hits, cited, [], quotes, False, self._model, stats,
                               evidence=self.evidence))

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: object = None,
        history: list[dict[str, str]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        answer = None
        for event in self.stream(question, k=k, filters=filters, history=history, cancel=cancel):
            if isinstance(event, DoneEvent):
                answer = event.answer
        assert answer is not None
        return answer

    def models(self) -> list[ModelInfo]:
        return [
            ModelInfo(BUNDLED_GENERATOR, bundled_generator_path(), "bundled", 100_000_000, "llama"),
            ModelInfo("kettle-raft", Path("/models/kettle-raft.gguf"), "models/", 120_000_000, "llama",
                      {"base_model": "SmolLM2-135M-Instruct", "dataset": "raft-kettle.jsonl"}),
            ModelInfo("broken", Path("/models/broken.gguf"), "models/", 10,
                      error="/models/broken.gguf: not a GGUF file (wrong magic bytes)"),
        ]

    def resolve_model(self, spec: str) -> Path:
        return resolve_generator(spec, self.models_dir, self.settings.model_dirs)

    # The Engine's own rule, run over the fake's models.
    default_model = Information.default_model

    def update_settings(self, settings: Settings) -> None:
        self.settings = settings

    def collections(self) -> list[CollectionInfo]:
        return [CollectionInfo("default", len(self._docs), len(self._chunks))]

    def create_collection(self, name: str) -> None:
        self.calls.append(f"create_collection {name}")

    def watched_folders(self) -> list[Path]:
        return []

    def remember_watched(self, folders: Sequence[Path], *, add: bool = False, include: Sequence[str] | None = None,
                         exclude: Sequence[str] | None = None) -> None:
        self.calls.append(f"remember_watched {[str(f) for f in folders]}")

    def watch(
        self,
        folders: Sequence[Path],
        *,
        settle: float = 1.0,
        stop: threading.Event | None = None,
        on_event: Callable[[WatchEvent], None] | None = None,
        ready: threading.Event | None = None,
        purge: bool | None = None,
        conversations: ConversationStore | None = None,
    ) -> None:
        self.calls.append(f"watch {[str(f) for f in folders]}")
        if stop is not None:
            stop.wait(10)

    def set_model(self, spec: str) -> None:
        if spec.endswith("broken.gguf") or spec.endswith(".txt"):
            raise ModelError(f"{spec}: not a GGUF file (wrong magic bytes)", "point at a .gguf model file")
        self.settings = replace(self.settings, model=spec, answer_mode="generate")  # as Engine.set_model
        self._model = Path(spec).stem if spec else "fake-model"


SAMPLE_CHUNKS = [
    Chunk(f"d{d}:{i}", f"d{d}", f"/docs/doc{d}.txt", i,
          f"Document {d} part {i} talks about topic {d * 10 + i}. It has a second sentence here.", 0, 80)
    for d in range(10)
    for i in range(2)
]
SAMPLE_TOPIC = re.compile(r"Document (\d+) part (\d+) talks about topic (\d+)")


class QAGenerator:
    """Answers a RAFT Q&A prompt about a sample chunk with its topic, as the JSON the grammar asks for."""

    name = "fake-gen"
    n_ctx = 2048

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, messages: list[dict[str, str]], **_: object) -> str:
        self.calls += 1
        doc, part, topic = SAMPLE_TOPIC.search(messages[-1]["content"]).groups()  # type: ignore[union-attr]
        return json.dumps({"question": f"Which topic is covered in document {doc} section {part}?",
                           "answer": f"topic {topic}"})

    def count_tokens(self, text: str) -> int:
        return len(text) // 4


FILMS = """Tom_Hanks\tstarred_in\tBig
Tom_Hanks\tborn_in\tConcord
Big\tdirected_by\tPenny_Marshall
Concord\tlocated_in\tCalifornia
Meg_Ryan\tstarred_in\tSleepless_in_Seattle
Sleepless_in_Seattle\tdirected_by\tNora_Ephron
"""
