"""The one facade the CLI, the TUI and the evaluation share.

`Engine(settings)` is cheap: it resolves nothing and loads nothing, so the CLI's `--help` and the
TUI's first frame are instant. The embedder, the LanceDB store and the llama.cpp model load on
first use (or in `warm_up()`, which the TUI calls from a worker), each once, behind a lock, so
worker threads can share one Engine.

Answering: retrieve (hybrid search), then `answer/pipeline.py` refuses when nothing relevant came
back (unless the settings allow answering from the model's memory), fits the sources into the
context, streams the answer and checks every quote against the cited source. `stream()` yields
SourcesEvent, TokenEvent..., DoneEvent; `ask()` drains it.

Graph mode (`graph_build`, `graph_import`, `graph_triples`, `ask_graph`, `related`, ...) is
inherited from `GraphMode` (localrag/engine_graph.py). `forget` deletes a document's triples with its chunks;
with `purge` it also erases their text from the store's files and from saved conversations (localrag/forget.py).

Collections: an Engine works in one collection, the `collection` setting (default `default`): its
store, graph, fusion choice and watched folders are that collection's, so every front end gets
isolation by building its Engine with the setting, and the TUI switches with `update_settings`.
Ingest creates the collection when it does not exist; reading a missing one is a CollectionError.
`collections()`, `create_collection`, `rename_collection` and `delete_collection` manage the
folder's registry (inherited from `Collections`, localrag/engine_collections.py, with the watched
folders). Conversations are not per collection: a question's sources are kept in the conversation
as text, so an old conversation reads the same whichever collection is chosen.

`status()`, `models()` and `embedders()` are inherited from `Information` (engine_status.py).
"""

from __future__ import annotations

import shlex
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from localrag import paths
from localrag.collection import DEFAULT_COLLECTION, CollectionError
from localrag.config import (
    Settings,
    configured_collection,
    load_settings,
    remove_saved_settings,
    update_saved_settings,
)
from localrag.engine_collections import Collections
from localrag.engine_graph import GraphMode
from localrag.engine_status import Information
from localrag.engine_writes import one_collection
from localrag.errors import ConfigError, LoaderError, LocalRagError, ModelError, StoreError
from localrag.forget import (
    Forgotten,
    KeptPassages,
    conversations_keeping,
    derived_folders,
    forget_path,
    is_under,
    on_disk,
    still_held,
)
from localrag.models import (
    BUNDLED_GENERATOR,
    BUNDLED_NAME,
    bundled_embedder_path,
    bundled_generator_path,
    embedder_setting_names,
    read_gguf_header,
    resolve_generator,
    trained_on_whole_chunks,
)
from localrag.paths import refuse_unusable
from localrag.questions import checked_question
from localrag.safe_text import path_text, plain_text, printable, valid_text
from localrag.sizes import count_text
from localrag.types import (
    MAX_SEARCH_DEPTH,
    MAX_SEARCH_K,
    Answer,
    AnswerStream,
    Chunk,
    Document,
    DocumentList,
    DoneEvent,
    Hit,
    IngestProgress,
    IngestReport,
)
from localrag.writer_lock import LockWaitCancelled, writer_at_work, writer_lock

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from localrag.answer.summary import Summary
    from localrag.backup import BackupReport
    from localrag.conversations import ConversationStore
    from localrag.embed import Embedder
    from localrag.fusion import FusionChoice, PseudoQuery
    from localrag.generate import Generator
    from localrag.graph.paths import GraphIndex
    from localrag.graph.plan import EmbeddingPlanner
    from localrag.graph.store import GraphStore
    from localrag.ingest.prefetch import PrefetchingEmbedder
    from localrag.ingest.watch import WatchEvent
    from localrag.reembed import ReembedReport
    from localrag.retrieve import Retriever, SearchFilters
    from localrag.store import Store
    from localrag.store_repair import RepairReport


# Settings read when a part is built: changing one means building that part again.
_GENERATOR_FIELDS = frozenset({"model", "model_dirs", "memory_check", "n_ctx", "n_threads", "n_gpu_layers"})
_EMBEDDER_FIELDS = frozenset({"embedder", "embed_backend", "embed_batch_size", "vector_index_min_rows"})
_STORE_FIELDS = frozenset({"collection"})
_RETRIEVER_FIELDS = frozenset({"reranker"})
# File types whose documents' titles are their first line or their name, nothing the file declares (`_titled`).
_UNDECLARED_TITLES = frozenset({"txt", "csv"})


class Engine(GraphMode, Collections, Information):
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
        store: Store | None = None,
        config_file: Path | None = None,
    ) -> None:
        """Parts passed in are used as they are (an evaluation's own store, a test's fake embedder).
        `config_file`: the settings file a choice made here is saved to (None: the user's)."""
        self.settings = settings if settings is not None else load_settings(config_file)
        self.config_file = config_file
        self._embedder = embedder
        self._generator = generator
        self._store: Store | None = store
        # (the tables' suffix, the name it was opened as) of the collection this engine opened first: another process
        # may rename or delete it meanwhile, and give its name to a new one.
        self._opened_collection: tuple[str, str] | None = None if store is None else (store.suffix, store.collection)
        self._retriever: Retriever | None = None
        self._graph: GraphStore | None = None
        self._graph_index: tuple[tuple[int, int], GraphIndex] | None = None
        self._graph_planner: EmbeddingPlanner | None = None
        self._prefetcher: PrefetchingEmbedder | None = None
        self._given = (embedder, generator, store)  # kept by `close`: the caller's, not loaded here
        self._lock = threading.RLock()
        # Held by each write for its whole length (engine_writes.py); always taken before `_lock`.
        self._writes = threading.RLock()
        # The re-embedding marker as the store was opened (reembed.swap_stamp): another one since is another model's.
        # Only a store this engine opened in the data folder is watched for it, not one passed in (eval's own).
        self._swap_seen: tuple[int, int] | None = None
        self._opened_here = False

    # -- lazily loaded parts -------------------------------------------------------------------

    @property
    def models_dir(self) -> Path:
        return paths.models_dir()

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from localrag.embed import open_embedder

                self._embedder = open_embedder(
                    self.settings.embedder, self.settings.embed_backend, batch_size=self.settings.embed_batch_size
                )
            return self._embedder

    @property
    def store(self) -> Store:
        """The chosen collection's store; a collection that does not exist is a CollectionError."""
        return self._open_store(create=False)

    def reembedded_since(self) -> str:
        """Why this engine's embedder no longer reads its open index, "" when it does: another process re-embedded
        the index since (`tune --retriever` switches the embedder), and the open handles now read the new model's
        vectors. A server went on answering every search with no hits, and `status` saw nothing wrong."""
        from localrag.reembed import swap_stamp, swapped_to

        with self._lock:
            if self._store is None or not self._opened_here or swap_stamp(paths.db_dir()) == self._swap_seen:
                return ""
            now = swapped_to(paths.db_dir())
            if now == self.embedder.name:
                self._swap_seen = swap_stamp(paths.db_dir())
                return ""
            return (f"{paths.db_dir()}: the index was re-embedded with '{now or 'another embedder'}' by another "
                    f"command since this one started, and '{self.embedder.name}' no longer reads it")

    def unservable(self) -> LocalRagError | None:
        """Why every request to a server over this engine would be refused now, None when it can answer: its
        collection deleted since it opened, or its index re-embedded by another command (a server's health)."""
        from localrag.store_damage import collection_gone

        try:
            self._check_not_reembedded()
        except LocalRagError as exc:
            return exc
        with self._lock:
            store = self._store
        if store is not None:
            return collection_gone(store)
        try:
            self.check_collection()
        except LocalRagError as exc:
            return exc
        return None

    def served_collection(self) -> str:
        """The name the collection this engine works in has now, which a server names (a refused `collection`
        field): another process may have renamed it since, and the setting then named another collection, or none;
        a CollectionError when it was deleted since."""
        from localrag.store_damage import collection_gone

        with self._lock:
            store = self._store
        if store is None:
            self.check_collection()  # follows a rename into the settings, or says the collection is gone
            return self.settings.collection
        gone = collection_gone(store)
        if gone is not None:
            raise gone
        return store.current_name()

    def _check_not_reembedded(self) -> None:
        from localrag.errors import IndexReembeddedError

        why = self.reembedded_since()
        if why:
            raise IndexReembeddedError(why, "start this command (the server, the chat app, watch) again: it reads the "
                                            "embedder setting anew")

    def close(self) -> None:
        """Let go of what this Engine loaded (the model, the embedder, the index), so their memory is freed now and
        not as the interpreter ends, where llama.cpp's finaliser printed a traceback after a script's last line.
        Used again, it loads them again. Waits for the writes under way. `with Engine() as engine:` closes it."""
        with self._writes, self._lock:
            self._embedder, self._generator, self._store = self._given
            self._retriever = self._graph = self._graph_index = self._graph_planner = self._prefetcher = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _open_store(self, *, create: bool) -> Store:
        self._check_not_reembedded()
        with self._lock:
            if self._store is None:
                from localrag.reembed import finish_swap, swap_stamp
                from localrag.store import Store

                paths.ready_places(create=create)
                embedder = self.embedder
                # A re-embedding killed between its two folder renames is finished before opening.
                finish_swap(paths.db_dir())
                self._swap_seen, self._opened_here = swap_stamp(paths.db_dir()), True
                self._store = self._following_renames(lambda: Store(
                    paths.db_dir(),
                    embedder_name=embedder.name,
                    dim=embedder.dim,
                    vector_index_min_rows=self.settings.vector_index_min_rows,
                    collection=self.settings.collection,
                    create=create,
                ))
            return self._store

    def _following_renames(self, open_store: Callable[[], Store]) -> Store:
        """`open_store()`, which opens the chosen collection by name, once that name is the one the collection this
        engine opened before has now. Renamed by another process, it is opened by its new name, which the settings
        take: the chat app's Library, whose reads open the collection again each time, failed on every one ("does not
        exist"), in a loop of error dialogs, although the collection was only renamed. Deleted, it is a CollectionError
        saying so, as a store kept open says it (`collection_gone`): MCP's listings, which open the collection anew
        each time, listed a new collection given its name, and after a rename then a delete, advised creating the
        name it had last, which it would then have served empty."""
        self._follow_opened()
        try:
            store = open_store()
        except CollectionError:
            if self._opened_collection is None:
                raise
            self._follow_opened()  # renamed again between the look and the open
            store = open_store()
        with self._lock:
            if self._opened_collection is None:
                self._opened_collection = (store.suffix, store.collection)
            elif store.suffix != self._opened_collection[0]:  # deleted and made again between the look and the open
                raise self._deleted_since()
        return store

    def _follow_opened(self) -> None:
        """Take into the settings the name the collection this engine opened has now; a CollectionError when another
        process deleted it since."""
        from localrag.store import renamed_collection

        opened = self._opened_collection
        if opened is None or not opened[0]:  # none opened yet, or `default`, never renamed nor deleted
            return
        now = renamed_collection(paths.db_dir(), opened[0])
        if now is None:
            raise self._deleted_since()
        if now != self.settings.collection:
            with self._lock:
                self.settings = self.settings.replace(collection=now)

    def _deleted_since(self) -> CollectionError:
        from localrag.collection import deleted_since

        assert self._opened_collection is not None
        return deleted_since(self._opened_collection[1], self._folder().registry())

    def _status_store(self) -> Store | None:
        """The store for `status` and `documents`: opened with the embedder name and dimension the index records.

        They read counts and rows, not vectors: loading the embedder only to learn its dimension was a second
        of every `localrag status` (OpenVINO compiling the model), and an index built by another embedder than
        the setting names is still listed (status says searches refuse it) instead of refused. None before the
        first ingest (no index folder at all): status then reports an empty index instead of creating one,
        which is a writer's job.
        """
        from localrag.reembed import finish_swap
        from localrag.store import Store, recorded_embedder

        with self._lock:
            if self._store is not None:
                return self._store
        paths.check_places()  # a LOCALRAG_HOME naming a file: said, not listed as an empty index
        finish_swap(paths.db_dir())
        if not paths.db_dir().exists() and self.settings.collection == DEFAULT_COLLECTION:
            return None
        try:
            recorded = recorded_embedder(paths.db_dir())
        except (RuntimeError, OSError, ValueError):
            # A damaged meta table: `store` fails on it too, with the one-line error that names the repair.
            recorded = None
        if recorded is None:
            return self.store
        name, dim = recorded
        return self._following_renames(lambda: Store(
            paths.db_dir(), embedder_name=name, dim=dim, vector_index_min_rows=self.settings.vector_index_min_rows,
            collection=self.settings.collection))

    def _writer_lock_dir(self) -> Path:
        if self._store is not None:
            return self._store.path
        paths.ready_places(create=True)  # the lock's folder is the first one a write makes
        return paths.db_dir()

    @property
    def retriever(self) -> Retriever:
        self._check_not_reembedded()
        with self._lock:
            if self._retriever is None:
                from localrag.embedder_probe import check_embedder
                from localrag.retrieve import Retriever

                reranker = None
                if self.settings.reranker:
                    from localrag.models import resolve_reranker
                    from localrag.rerank import Reranker

                    reranker = Reranker(resolve_reranker(self.settings.reranker))
                check_embedder(self.store, self.embedder)
                retriever = Retriever(self.store, self.embedder, reranker=reranker)
                choice = self.fusion_choice()
                if choice is not None:
                    retriever.fusion = choice.fusion
                self._retriever = retriever
            return self._retriever

    @property
    def graph(self) -> GraphStore:
        self._check_not_reembedded()  # its entity vectors were made again by the new model too
        with self._lock:
            if self._graph is None:
                from localrag.graph.store import GraphStore

                store = self.store
                self._graph = GraphStore(store.path, self.embedder, store.suffix)
            return self._graph

    @property
    def generator(self) -> Generator:
        with self._lock:
            if self._generator is None:
                from localrag.generate import LlamaGenerator

                path = self.check_model(self.settings.model)
                generator = LlamaGenerator(
                    path,
                    n_ctx=self.settings.n_ctx,
                    n_threads=self.settings.n_threads,
                    n_gpu_layers=self.settings.n_gpu_layers,
                )
                if self.settings.model:
                    # An Ollama blob's file is named sha256-...: answers are labelled with the name asked for.
                    generator.name = _model_label(self.settings.model)
                self._generator = generator
            return self._generator

    def model_name(self) -> str:
        """The name answers are labelled with, the same before the model is loaded as after."""
        if self._generator is not None:
            return self._generator.name
        if self.settings.model:
            return _model_label(self.settings.model)
        try:
            return bundled_generator_path().stem  # as the loaded LlamaGenerator names itself
        except ModelError:
            return BUNDLED_GENERATOR

    def answer_label(self) -> str:
        """What writes the answers: the model's name, or, with `answer_mode = "extract"`, that no model does.

        A server's `/healthz`, `/v1/models` and streamed chunks named the configured model while every answer
        was extracted without it, and a client took the model for the one answering."""
        if self.settings.answer_mode == "extract":
            from localrag.answer.evidence import EXTRACT_MODEL

            return EXTRACT_MODEL
        return self.model_name()

    def resolve_model(self, spec: str) -> Path:
        """The GGUF file a --model value names (a path, a models/ name, or another tool's model)."""
        return resolve_generator(spec, self.models_dir, self.settings.model_dirs)

    def check_model(self, spec: str) -> Path:
        """Resolve, check the header, and refuse a model that will not fit in memory at n_ctx."""
        from localrag.generate import gpu_offload_supported

        path = self.resolve_model(spec)
        read_gguf_header(path)
        if self.settings.memory_check and not (self.settings.n_gpu_layers != 0 and gpu_offload_supported()):
            # Layers offloaded to a GPU live in its memory, which /proc/meminfo does not describe.
            from localrag.discover_models import shape_of
            from localrag.model_memory import check_fits

            check_fits(path, shape_of(path), self.settings.n_ctx)
        return path

    def warm_up(self) -> None:
        """Load everything now (the TUI calls this in a worker after its first frame)."""
        _ = self.retriever
        if self.settings.answer_mode != "extract":  # answers need no model then; it loads when first asked for
            self.generator.count_tokens("warm up")

    def set_model(self, spec: str) -> None:
        """Switch the generator to `spec`, loaded now; a file that is no model, or one llama.cpp cannot load,
        raises and leaves the model in use as it was. A model chosen is chosen to answer: in extract mode the
        answers come from it from now on, as `--model` does (`cli.common.answering_mode`); the chat app said
        "Now answering with X" and went on extracting."""
        self.check_model(spec)
        with self._lock:
            before = self.settings
            # The old model is let go before the new one loads: two in memory at once may not fit.
            self.settings = self.settings.replace(model=spec, answer_mode="generate")
            self._generator = None
        try:
            self.generator.count_tokens("loaded")
        except BaseException:
            with self._lock:
                self.settings = self.settings.replace(model=before.model, answer_mode=before.answer_mode)
                self._generator = None
            raise

    def update_settings(self, settings: Settings) -> None:
        """Use new settings; a part whose own settings changed is loaded again on its next use. A switch of
        collection first waits for the writes under way in this process (engine_writes.py)."""
        switching = settings.collection != self.settings.collection
        with self._writes if switching else nullcontext(), self._lock:
            changed = {f.name for f in fields(Settings) if getattr(self.settings, f.name) != getattr(settings, f.name)}
            self.settings = settings
            if changed & _GENERATOR_FIELDS:
                self._generator = None
            if changed & _EMBEDDER_FIELDS:
                self._embedder = None
                self._prefetcher = None
            if changed & _STORE_FIELDS:
                self._opened_collection = None  # another collection chosen: no rename or delete of it to follow
            if changed & (_EMBEDDER_FIELDS | _STORE_FIELDS):
                self._store = None
                self._graph = None
                self._graph_index = None
                self._graph_planner = None
            if changed & (_EMBEDDER_FIELDS | _STORE_FIELDS | _RETRIEVER_FIELDS):
                self._retriever = None

    def writing(self) -> AbstractContextManager[bool]:
        """Held, no collection switch happens in this process: for a caller whose several calls must write to one
        collection (a watched folder's round reads the documents, then forgets and ingests)."""
        return self._writes

    # -- documents -----------------------------------------------------------------------------

    @one_collection
    def ingest(
        self,
        paths_: Sequence[Path | str] | Path | str,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        progress: Callable[[IngestProgress], None] | None = None,
        cancel: threading.Event | None = None,
        refresh: bool = True,
        force: bool = False,
        stale: bool = False,
    ) -> IngestReport:
        """Add or update files and folders; `refresh=False` leaves compaction to `refresh_indexes()`;
        `force` reads unchanged files again; `stale` reads again those read differently from how they would
        be now (`ingest.readings`), and with no paths, every such document's file. `cancel` stops it at its next
        step, a wait for another writer included. One path may be given alone."""
        from localrag.fusion import needs_choice

        if isinstance(paths_, str | Path):
            # A script's `ingest("notes")` was read as the paths "n", "o", ...: "n: no such file or folder".
            paths_ = [paths_]
        if not paths_ and not stale:
            raise LocalRagError("nothing to ingest", "name a file or folder, or ask for the stale documents (--stale; "
                                                     "`stale` over the API and MCP)", field="paths")
        refuse_unusable(paths_)
        started = time.monotonic()
        try:
            with writer_lock(self._writer_lock_dir(), cancel=cancel, collection=self.settings.collection):
                report = self._ingest_locked(paths_, started, include, exclude, progress, cancel, refresh, force,
                                             stale)
        except LockWaitCancelled:
            return IngestReport(cancelled=True, seconds=time.monotonic() - started, notes=[
                "stopped while waiting for another writer: nothing was read; the next ingest reads it all"])
        except LoaderError as exc:
            # A file that cannot be read is reported and the rest go on: one raised is a path given (missing, a
            # link to nothing, a FIFO), the request's `paths`.
            exc.field = exc.field or "paths"
            raise
        # An index whose fusion was chosen (`retrieval tune-fusion`) is measured again once it grew a lot.
        if not report.cancelled and needs_choice(self.fusion_choice(), self.store.chunk_count()):
            report.fusion = self.tune_fusion().summary()
        return report

    def _ingest_locked(self, paths_: Sequence[Path | str], started: float, include: Sequence[str],
                       exclude: Sequence[str], progress: Callable[[IngestProgress], None] | None,
                       cancel: threading.Event | None, refresh: bool, force: bool, stale: bool) -> IngestReport:
        """`ingest` with the writer lock held."""
        from localrag.embed import loading_activity
        from localrag.embedder_probe import check_embedder
        from localrag.ingest.pipeline import doc_id_for, run_ingest
        from localrag.ingest.readings import (
            dropped_note,
            holding_files,
            not_held,
            split_app_folders,
            stale_documents,
        )

        if progress is not None and self._store is None:
            # Opening the store loads the embedder: on a new home that is an ONNX export, seconds
            # in which a progress line would otherwise sit at "0 files" saying nothing.
            progress(IngestProgress(0, 0, 0, "", 0.0, None, loading_activity(self.embedder)))
        # Looked up under the writer lock, which a collection's creation holds too: whether this ingest makes it.
        names = self._collection_names() if self._store is None else None
        store = self._open_store(create=True)
        created = names is not None and self.settings.collection not in names
        store.catch_up()  # refuses an index re-embedded by another process since this one opened it
        check_embedder(store, self.embedder)  # before a vector is written
        opened = time.monotonic() - started
        dropped: list[str] = []
        unfound: list[str] = []
        if stale and not paths_:
            stale_paths = stale_documents(store.document_readings(), self.settings, self.embedder.max_tokens)
            held, unfound = holding_files(stale_paths), not_held(stale_paths)
            paths_, dropped = split_app_folders(held, (d.path for d in store.documents()))
            store.delete_documents([doc_id_for(path) for path in dropped])
        report = run_ingest(
            [paths.typed_path(p) for p in paths_],  # a script's "~/notes" is typed text, not a Path yet
            store=store,
            embedder=self._ingest_embedder(),
            settings=self.settings,
            include=include,
            exclude=exclude,
            progress=progress,
            cancel=cancel,
            refresh=refresh,
            force=force,
            stale=stale,
            configured=configured_collection(self.config_file),
        )
        if created:
            from localrag.collection import created_note

            report.created_collection = True
            report.notes.insert(0, created_note(self.settings.collection, names or ()))
        report.removed += len(dropped)
        report.removed_paths = sorted([*report.removed_paths, *dropped])
        if dropped:
            report.notes.append(dropped_note(len(dropped)))
        if unfound:  # passed over in silence: "0 added ...", and as many stale as before
            from localrag.forget import not_found_note

            report.notes.append(not_found_note(
                unfound, (d.path for d in store.documents()), self.settings.collection,
                what=("stale document", "stale documents"), configured=configured_collection(self.config_file),
                listed_by=f"`localrag documents --stale{self.collection_option()}`"))
        if report.updated or report.removed or report.moved:
            self._drop_stale_triples(store, report)
        if report.removed_paths:
            self._say_removal_left(report)
        if stale and not report.cancelled:
            report.stale_elsewhere = self.stale_elsewhere(self.embedder.max_tokens)
            if report.stale_elsewhere:
                listed = ", ".join(f"{name} ({count})" for name, count in report.stale_elsewhere.items())
                report.notes.append(f"other collections hold stale documents too: {listed}; a stale ingest of each "
                                    "(`--stale --collection NAME`) reads them again")
        report.seconds += opened  # what the user waited for, the embedder's loading included
        return report

    def _say_removal_left(self, report: IngestReport) -> None:
        """Name in `report` where the removed documents' text still is, as `forget` does: the ingest after a file's
        deletion said "1 removed" alone, and its text stayed in the index's files and saved conversations."""
        from localrag.conversations import ConversationStore
        from localrag.forget import conversations_keeping, removed_note

        kept = conversations_keeping(ConversationStore(), report.removed_paths)
        report.removed_text_in = [k.conversation_id for k in kept]
        report.notes.append(removed_note(report.removed_paths, len(kept), self.settings.collection,
                                         configured=configured_collection(self.config_file),
                                         indexed=lambda: [d.path for d in self.store.documents()]))

    def _ingest_embedder(self) -> Embedder | PrefetchingEmbedder:
        prefetcher = self._prefetcher
        return prefetcher if prefetcher is not None and prefetcher.inner is self.embedder else self.embedder

    def prefetch(self, path: Path) -> bool:
        """Embed a changed file ahead of its ingest (ingest/prefetch.py); False: not started."""
        from localrag.ingest.prefetch import PrefetchingEmbedder

        with self._lock:
            if self._prefetcher is None or self._prefetcher.inner is not self.embedder:
                # The store as opened now and then, read without a lock: the ingest holds the locks it takes.
                self._prefetcher = PrefetchingEmbedder(self.embedder, self.settings, lambda: self._store)
            prefetcher = self._prefetcher
        return prefetcher.prefetch(path)

    @one_collection
    def refresh_indexes(self) -> str:
        """Compact and fold new rows into the indexes (after ingests run with `refresh=False`)."""
        with writer_lock(self._writer_lock_dir()):
            return self.store.refresh_indexes()

    @one_collection
    def switch_embedder(
        self,
        folder: Path,
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> ReembedReport:
        """Re-embed the index with the embedder in `folder` (resumable) and make it the configured one (the bundled
        one's folder: the `embedder` setting is unset). A re-embedding to another embedder stopped part way is
        dropped (`ReembedReport.dropped`); to the index's own embedder, dropping it is all there is to do."""
        from localrag.embed import load_embedder
        from localrag.reembed import ReembedReport, finish_swap, reembed_index

        new = load_embedder(folder, self.settings.embed_backend, self.settings.embed_batch_size)
        # Re-embedding writes the store: it waits for (and holds off) an ingest or forget like any writer, and
        # Ctrl-C gives up that wait (it went on waiting for the other writer, then started).
        try:
            with self._lock, writer_lock(paths.db_dir(), cancel=cancel):
                if cancel is not None and cancel.is_set():
                    return ReembedReport(cancelled=True)
                # The old store's handles must not outlive the folder swap.
                self._store = self._retriever = self._graph = self._graph_index = None
                # A swap a kill cut between its renames is finished first: read before it, the index's embedder was
                # the old one, and the whole index was copied again (or "nothing to do" left the setting behind).
                finish_swap(paths.db_dir())
                dropped = self._drop_stopped_reembedding(new.name)
                done = self._already_embedded(new.name, folder, dropped)
                if done is not None:
                    return done
                # The fusions chosen for the old vectors, in every collection (one embedder serves them all): the new
                # store's meta starts empty, and the choice (`retrieval tune-fusion`) was dropped in silence.
                chosen = self._fusion_choices()
                report = reembed_index(
                    paths.db_dir(), new, commit_chunks=self.settings.commit_chunks, progress=progress, cancel=cancel
                )
                report.dropped = dropped
                if report.cancelled:
                    return report
                report.swapped = True
                self._use_embedder_setting(folder)
                report.fusion = self._carry_fusions(chosen, new)
        except LockWaitCancelled:
            return ReembedReport(cancelled=True, waited=True)
        return report

    def _drop_stopped_reembedding(self, wanted: str) -> str:
        """Remove a re-embedding stopped part way to an embedder other than `wanted`; the name it was for, or "".
        Left, its store refused the embedder asked for now, and the fix it named broke every search."""
        import shutil

        from localrag.reembed import stopped_copy
        from localrag.store import recorded_embedder

        upcoming = stopped_copy(paths.db_dir())
        if upcoming is None:
            return ""
        try:
            stale = recorded_embedder(upcoming)
        except (RuntimeError, OSError, ValueError, StoreError):  # a damaged meta table: a copy to drop all the same
            stale = None
        if stale is not None and stale[0] == wanted:
            return ""  # the same switch: it goes on from there
        shutil.rmtree(upcoming)
        return stale[0] if stale is not None else "another embedder"

    def _already_embedded(self, name: str, folder: Path, dropped: str) -> ReembedReport | None:
        """The report when the index is already built with `name` (nothing to re-embed; `already` when not even
        the setting needed saving), else None."""
        from localrag.reembed import ReembedReport
        from localrag.store import recorded_embedder

        recorded = recorded_embedder(paths.db_dir())
        if recorded is None or recorded[0] != name:
            return None
        if embedder_setting_names(self.settings.embedder, folder):
            return ReembedReport(dropped=dropped, already="" if dropped else name)
        # Swapped in, then stopped before the setting was saved (a kill between the two): only the setting is left to
        # do, or every search refused the old embedder and this command said there was nothing to do.
        self._use_embedder_setting(folder)
        return ReembedReport(dropped=dropped)

    def _fusion_choices(self) -> dict[str, FusionChoice]:
        """Each collection's measured fusion choice, read with the embedder the index records (the setting may name
        another: after `config unset embedder` every choice was skipped, and the default came back in silence)."""
        from localrag.fusion import load_choice
        from localrag.store import Store

        chosen = {}
        for info in self.collections():
            choice = load_choice(Store.open_existing(paths.db_dir(), info.name))
            if choice is not None and choice.queries:
                chosen[info.name] = choice
        return chosen

    def _carry_fusions(self, chosen: dict[str, FusionChoice], new: Embedder) -> str:
        """Measure each collection's choice again on pseudo-queries where it was measured so (`reembed_index` carried
        it into the new store); what to say of them. A choice from written questions stays as it was (no new
        questions exist), and one whose measure fails stays in force."""
        from localrag.fusion import PSEUDO

        said = []
        for name, choice in chosen.items():
            other = Engine(self.settings.replace(collection=name), embedder=new, config_file=self.config_file)
            summary = (f"kept ({choice.summary()}); `localrag retrieval tune-fusion --questions RAFT_DIR` measures it "
                       "again")
            if choice.source == PSEUDO:
                try:
                    summary = other.tune_fusion(n_queries=choice.queries).summary()
                except LocalRagError as exc:
                    summary = f"kept ({choice.summary()}); measuring it again failed: {exc}"
            # Named unless it is this collection alone: another's choice read as this one's.
            said.append(f"{name}: {summary}" if len(chosen) > 1 or name != self.settings.collection else summary)
        return "; ".join(said)

    def _use_embedder_setting(self, folder: Path) -> None:
        bundled = folder.resolve() == bundled_embedder_path().resolve()
        if bundled:  # the default again, not a path that names the installed package's folder
            remove_saved_settings(["embedder"], self.config_file)
        else:
            update_saved_settings({"embedder": str(folder)}, self.config_file)
        self.update_settings(self.settings.replace(embedder="" if bundled else str(folder)))

    def backup(self, dest: Path | str, *, models: bool = False) -> BackupReport:
        """Copy localrag's folders (every collection, conversations, settings; models with `models`) into a new
        folder in `dest`, while the writes of every collection wait (localrag/backup.py)."""
        from localrag.backup import backup

        refuse_unusable([dest], "dest")
        return backup(Path(dest), models=models)

    @one_collection
    def repair(self, *, dry_run: bool = False) -> RepairReport:
        """Check the store (tables, indexes, row checksums), rebuild what is damaged, read lost files again."""
        from localrag.backup import reading_lock
        from localrag.reembed import finish_swap
        from localrag.store_repair import repair_store

        db_dir = paths.db_dir()
        # A check on a disk just gone read-only, when a user most wants one, or on a home this user may only read,
        # was refused for want of writing the lock file: a check only reads, and holds the lock for reading there.
        locked = reading_lock(db_dir) if dry_run else writer_lock(db_dir)
        with self._lock, locked:
            # The handles of a damaged store must not outlive its repair.
            self._store = self._retriever = self._graph = self._graph_index = None
            finish_swap(db_dir)
            report = repair_store(db_dir, self.embedder, dry_run=dry_run, collection=self.settings.collection)
        if not dry_run:
            from localrag.ingest.readings import holding_files, not_held

            # A mail's document is `inbox.mbox/ID`, an attachment's `mail.eml/report.pdf`: held by the file above
            # it, as `ingest --stale` reads them (a test of the path itself called every mail not on disk).
            report.lost = not_held(report.reingest + report.reimport)
            # A restore where the documents moved: every one was said to be read again, none was.
            report.not_on_disk = not_held(report.refresh)
            gone = set(report.not_on_disk)
            report.refresh = [p for p in report.refresh if p not in gone]
            if report.not_on_disk:
                from localrag.forget import not_found_note

                report.not_on_disk_note = not_found_note(
                    report.not_on_disk, (d.path for d in self.documents()), self.settings.collection,
                    what=("document kept from its chunks", "documents kept from their chunks"),
                    listed_by="`not_on_disk` in `--json`", configured=configured_collection(self.config_file))
            on_disk = holding_files(report.reingest + report.refresh)
            if on_disk:
                ingested = self.ingest(on_disk)
                report.reingest_errors = [e.reason for e in ingested.errors]
            for file in report.reimport:
                if Path(file).is_file():
                    imported = self.graph_import(file)
                    report.reingest_errors += [str(e) for e in imported.errors]
        return report

    def check_collection(self) -> None:
        """A CollectionError now when the chosen collection does not exist, without loading a model: `mcp`
        started on a misspelt one said nothing and answered every call with the error."""
        self._status_store()

    def check_filters(self, filters: SearchFilters | None) -> str | None:
        """The SQL of `filters`, or a LocalRagError naming the field at fault, by the one rule of every search and
        listing (`retrieve.filters_to_sql`: a type no loader reads, a pattern longer than any path). The API checks
        a streamed chat's filters so before its status line goes out: they were refused in an error event after
        a 200, where the same request not streamed was a 400."""
        from localrag.retrieve import filters_to_sql

        try:
            return filters_to_sql(filters)
        except LocalRagError as exc:
            # The type's refusal is the loaders' (`types_named`), which know no request field: the path's names its.
            exc.field = exc.field or "file_types"
            raise

    def documents(self, filters: SearchFilters | None = None) -> list[Document]:
        """The indexed documents in path order; `filters`: only those a search with them reads, by its own rule
        and refusals (`check_filters`)."""
        where = self.check_filters(filters)  # refused before the index is read, an empty one as well
        reading = self._status_store()
        return reading.documents(where) if reading is not None else []

    def document_list(self, filters: SearchFilters | None = None, *, only_stale: bool = False,
                      limit: int | None = None, offset: int = 0) -> DocumentList:
        """The one listing of every front end (`documents`, `GET /documents`, MCP's `list_documents`): the
        documents `filters` pass (`only_stale`: the stale ones of those), the first `limit` of them (1 or more;
        None: all) after the first `offset` (a page; before 2026-12-08 only the first page could be had) in path
        order, with how many passed and which are stale. Path order, as before: it is the order `forget` and
        `--path` think in, and the same from one run to the next."""
        if limit is not None and limit < 1:
            raise LocalRagError(f"a limit of {limit}: a listing shows 1 document or more",
                                "give a limit of 1 or more, or none for every document", field="limit")
        checked_offset(offset)
        documents = self.documents(filters)
        stale = self.stale_documents(documents)
        if only_stale:
            documents = [d for d in documents if d.path in stale]
        return DocumentList(documents[offset:None if limit is None else offset + limit], len(documents), stale,
                            sum(bool(d.left_out) for d in documents))

    def stale_documents(self, documents: Sequence[Document] | None = None) -> dict[str, str]:
        """path -> why, for each document read differently from how it would be now (`ingest.readings`); of
        `documents` when the caller has already read them, else of every indexed document."""
        from localrag.ingest.readings import stale_documents

        readings = ({d.path: (d.file_type, d.read_with) for d in documents} if documents is not None
                    else self.store.document_readings())
        return stale_documents(readings, self.settings, self.embedder.max_tokens)

    def _drop_stale_triples(self, store: Store, report: IngestReport) -> None:
        """Take out of the graph the triples of documents this ingest changed or removed, so that graph answers
        and related entities come only from what is indexed (`graph build` extracts the changed ones again)."""
        from localrag.graph.extract import stale_graph_documents
        from localrag.graph.store import BUILT

        if not (store.path / f"{BUILT}{store.suffix}.lance").is_dir():
            return  # no graph was ever built here: opening it would make its tables
        stale = stale_graph_documents({d.doc_id: d for d in store.documents()}, self.graph.built_chunks())
        removed = self.graph.delete_for_documents(stale) if stale else 0
        if removed:
            option = self.collection_option()
            report.notes.append(f"{count_text(removed, 'triple')} of changed or removed documents left the knowledge "
                                f"graph (`localrag graph build{option}` extracts the changed ones again)")

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
        """Keep this collection in step with `folders` until `stop` is set (ingest/watch.py); the folders
        to resume, and the patterns they are read by, are remembered by `remember_watched`
        (engine_collections.py). A deleted file's text is erased too (from `conversations` as well) with `purge`,
        by default the `watch_purge` setting."""
        from localrag.ingest.watch import watch

        include, exclude = self.watch_patterns()
        watch(self, folders, settle=settle, stop=stop, on_event=on_event, ready=ready,
              purge=self.settings.watch_purge if purge is None else purge, conversations=conversations,
              include=include, exclude=exclude)

    def _documents_at(self, path: str | Path, *, under: bool, named_only: bool = False,
                      field: str = "paths", command: str = "forget", hint: bool = True) -> list[Document]:
        """The indexed documents at `path` (and, with `under`, every one below it); a LocalRagError when none,
        naming `field`, the request's field that gave the path, and, when another collection holds them, the
        `localrag COMMAND` that reaches them there. A caller that drops the error asks no `hint`: looking through
        the other collections reads every one of their documents.

        A link stands for the documents under its own path (`forget_path`) and, unless `named_only`, for its
        target's too, where an ingest of a folder indexes a link inside it. `forget` asks `named_only`: it removes
        what is indexed under the path given, never a file the link leads to (that one may be indexed from its own
        folder too)."""
        named = forget_path(path)
        real = Path(path_text(paths.typed_path(path).resolve()))
        documents = self.store.documents()
        stored_paths = [Path(d.path) for d in documents]  # once, not once a place: a folder's forget asks them all

        def at(places: set[Path]) -> list[Document]:
            # Each place in both Unicode forms: a file unpacked from a Mac's zip is named decomposed (NFD), and the
            # name typed for it (NFC) found nothing, while a purge said its text lay in no file.
            places = {Path(unicodedata.normalize(form, str(p))) for p in places for form in ("NFC", "NFD")}
            return [d for d, stored in zip(documents, stored_paths, strict=True)
                    if any(stored == p or (under and stored.is_relative_to(p)) for p in places)]

        docs = at({named} if named_only else {named, real}) or self._shown_at(named, documents, under=under,
                                                                                      field=field)
        if docs:
            return docs
        if not hint:
            raise LocalRagError(f"{named}: not in the index", field=field)
        option = self.collection_option()
        if real != named and at({real}):
            raise LocalRagError(f"{named}: not in the index", f"it is a link to {real}, indexed under that path: "
                                f"`localrag forget {real}{option}` forgets it", field=field)
        elsewhere = self.indexed_elsewhere([named])
        if not under or command == "summarize":
            # A hint's command must take what it names: `localrag summarize FOLDER` is refused there too.
            elsewhere = {name: held for name, held in elsewhere.items() if any(Path(p) == named for p in held)}
        if not elsewhere:
            raise LocalRagError(f"{named}: not in the index", f"`localrag documents{option}` lists what is indexed",
                                field=field)
        # Asked of the wrong collection: the one that holds it, and the command there.
        which = ", ".join(f"'{name}'" for name in elsewhere)
        there = shlex.join(["localrag", command, str(named)]) + self.collection_option(next(iter(elsewhere)))
        raise LocalRagError(f"{named}: not in the index", f"collection {which} indexes it: `{there}`"
                            if len(elsewhere) == 1 else f"collections {which} index it: `{there}`", field=field)

    @staticmethod
    def _shown_at(shown: Path, documents: list[Document], *, under: bool, field: str) -> list[Document]:
        """The documents at `shown` read as a name localrag shows (`printable`), when no name is that text: a tab
        in a file's name shows as `tab␉here.md`, an invisible or reordering character as U+FFFD, and the name
        `documents` listed was "not in the index" to `forget`. Shown alike by two names (`a\\u200b.md`,
        `a\\u2060.md`), it stands for neither: an error says how to tell them apart."""
        parts = len(shown.parts)
        places = [Path(printable(d.path, multiline=False)) for d in documents]
        found = [d for d, place in zip(documents, places, strict=True)
                 if place == shown or (under and place.is_relative_to(shown))]
        names = {Path(*Path(d.path).parts[:parts]) for d in found}  # one character shows as one: the parts align
        if len(names) > 1:
            raise LocalRagError(f"{shown}: {len(names)} indexed names show as this one",
                                "`localrag documents --json` gives each one's exact name", field=field)
        return found

    @one_collection
    def forget(
        self, *paths: str | Path, purge: bool = False, conversations: ConversationStore | None = None,
        cancel: threading.Event | None = None,
    ) -> Forgotten:
        """Remove documents (each path a document, or every document under a folder) and their triples.

        Every path is checked before anything is removed: one that names nothing indexed is an error and
        nothing is forgotten, except with `purge`, which erases what a forget before it left behind. With
        `purge` the store is written anew once, so the text lies in no file of it, and `conversations` (when
        given) lose the text of these files but those another collection still indexes; without, the report
        names the conversations holding it (localrag/forget.py). `cancel`, set while it waits for another writer,
        ends the wait with nothing removed (an MCP forget its client gave up on removed the documents once the
        other writer ended, and held the server meanwhile).
        """
        if not paths:
            raise LocalRagError("nothing to forget", "name a document or a folder", field="paths")
        refuse_unusable(paths)
        ids: dict[str, None] = {}  # in order, once each: folders may overlap
        removed = 0
        try:
            with writer_lock(self.store.path, cancel=cancel):
                # Looked up under the lock: an ingest of the folder that holds it commits until its end, and what
                # the folder held before that ingest is only part of what it holds after.
                self.store.catch_up()
                for path in paths:
                    try:
                        ids.update(dict.fromkeys(d.doc_id for d in self._documents_at(
                            path, under=True, named_only=True, hint=not purge)))
                    except LocalRagError:
                        if not purge:
                            raise
                # The passages' words, for conversations that saved them under a name the file no longer has
                # (renamed, then forgotten): found by path alone, a purge left them their text.
                # One query a batch of documents: one per document added seconds to a large folder's forget.
                texts = self.store.chunk_texts(list(ids)) if conversations is not None else frozenset()
                if ids:
                    removed = self.store.delete_documents(list(ids))
                    self.graph.delete_for_documents(list(ids))
                if purge:
                    self.store.drop_old_versions()
                    self.graph.drop_old_versions()
                    self._drop_unfinished_reembedding()
        except LockWaitCancelled:
            raise LocalRagError("cancelled while waiting for another writer: nothing was forgotten",
                                "send the forget again once the other writer is done", field="paths") from None
        kept: list[KeptPassages] = []
        spared_in: dict[str, list[str]] = {}
        spared: list[str] = []
        if conversations is not None:
            spared_in = self.indexed_elsewhere(paths)
            spared = sorted({path for held in spared_in.values() for path in held})
            # Passages matched by their words alone are spared while any collection indexes their document.
            indexed = self.indexed_paths() if texts else set()
            kept = conversations_keeping(conversations, paths, purge=purge, spared=[*spared, *indexed], texts=texts)
        # Still on disk in a folder `watch` follows: its next round (or a resumed watch) reads it again, in silence.
        # Only a note: the forget is done, and a remembered-folders file that does not read must not undo its report.
        there = [held for held in (on_disk(forget_path(path)) for path in paths) if held.exists()]
        try:
            folders = self.watched_folders() if there else []
        except LocalRagError:
            folders = []
        watched = [str(folder) for folder in folders if any(is_under(str(p), [folder]) for p in there)]
        return Forgotten([str(forget_path(path)) for path in paths], len(ids), removed, purge,
                         kept, derived_folders() if purge else [], spared, watched, self.settings.collection,
                         still_held([forget_path(path) for path in paths]) if ids else [], spared_in,
                         configured_collection(self.config_file))

    def _drop_unfinished_reembedding(self) -> None:
        """A stopped re-embedding's copy holds the text of every document it reached: a purge erases it whole
        (the writer lock holds off the re-embedding), and the re-embedding starts over when run again. So does
        the scratch copy of the index a killed `retrieval tune-fusion` left (only its next run cleared it), the
        copies of mail attachments a killed ingest left, and the vectors a stopped ingest kept aside (of a file
        perhaps never indexed, so no forget could name it)."""
        import shutil

        from localrag.fusion_cut import clean_stale
        from localrag.ingest.mail import clear_dead_copies
        from localrag.ingest.pending import drop_all
        from localrag.reembed import next_dir

        copy = next_dir(self.store.path)
        if copy.exists():
            shutil.rmtree(copy)
        clean_stale(self.store.path.parent)
        clear_dead_copies()
        drop_all(self.store.path, self.store.collection)

    def summarize(self, path: str | Path, sentences: int = 5) -> tuple[Document, Summary]:
        """The key sentences of one indexed document, found without the model (localrag/answer/summary.py)."""
        from localrag.answer.summary import MAX_KEY_SENTENCES, summarise

        refuse_unusable([path], field="path")
        if not 1 <= sentences <= MAX_KEY_SENTENCES:
            raise LocalRagError(f"{sentences} sentences: a summary has from 1 to {MAX_KEY_SENTENCES}",
                                f"ask for 1 to {MAX_KEY_SENTENCES}", field="sentences")
        try:
            document = self._documents_at(path, under=False, field="path", command="summarize", hint=False)[0]
        except LocalRagError:
            # The same error when nothing is there.
            below = self._documents_at(path, under=True, field="path", command="summarize")
            folder = path_text(paths.typed_path(path).resolve())
            raise LocalRagError(f"{folder}: a folder of {count_text(len(below), 'indexed document')}",
                                "summarize one document of it", field="path") from None
        return document, summarise(self.store.doc_chunks(document.doc_id), self.embedder, sentences)

    def chunk(self, chunk_id: str) -> Chunk:
        found = self.store.chunks([chunk_id])
        if not found:
            raise LocalRagError(f"chunk {chunk_id} is not in the index", "it may have been re-ingested: ask again")
        return found[0]

    def document_chunks(self, doc_id: str) -> tuple[Document, list[Chunk]]:
        """One indexed document and its chunks in reading order."""
        found = [d for d in self.store.documents() if d.doc_id == doc_id]
        if not found:
            raise LocalRagError(f"document {doc_id} is not in the index", "list the indexed documents to get an id")
        return found[0], self.store.doc_chunks(doc_id)

    # -- answering -----------------------------------------------------------------------------

    def search(self, query: str, *, k: int | None = None, filters: SearchFilters | None = None,
               offset: int = 0) -> list[Hit]:
        """Hybrid search: each hit keeps both legs' ranks and scores beside its fused score; `k` from 1 to
        MAX_SEARCH_K passages (the rule of the CLI, the API and MCP, which ask for SEARCH_K unless told), by
        default the `top_k` setting; `offset`: after the first this many (a page of a longer list, which stopped
        at 100 before 2026-12-08), down to rank MAX_SEARCH_DEPTH."""
        query = plain_text(valid_text(query))  # written as documents' text is indexed
        if not query.strip():
            raise LocalRagError("the query is empty", "type some words to search for", field="query")
        if k is not None and not 1 <= k <= MAX_SEARCH_K:
            raise LocalRagError(f"{k} passages: a search returns from 1 to {MAX_SEARCH_K}",
                                f"ask for 1 to {MAX_SEARCH_K} passages", field="k")
        checked_offset(offset)
        shown = k or self.settings.top_k
        if offset + shown > MAX_SEARCH_DEPTH:
            raise LocalRagError(f"offset {offset} and k {shown} reach passage {offset + shown}: a search ranks the "
                                f"first {MAX_SEARCH_DEPTH}",
                                f"ask for an offset and k that add up to {MAX_SEARCH_DEPTH} at most", field="offset")
        # The passages before the page are ranked with it, so its ranks are offset+1 on; but a deeper search's legs
        # fetch more candidates (retrieve.py, FETCH_FACTOR) and may fuse otherwise, so the pages of one query may
        # repeat or pass over a passage (README, search): one list in one order is one search with a larger k.
        return self._titled(self._search(query, offset + shown, filters)[offset:])

    def check_sources(self, k: int | None) -> None:
        """That `k` sources may be put in an answer's prompt: the `top_k` setting's range, the rule of every front
        end (`ask -k`, the API's and MCP's `k`)."""
        from localrag.config import setting_range

        low, high = setting_range("top_k")
        if k is not None and not low <= k <= high:
            raise LocalRagError(f"{k} sources: an answer reads from {low:g} to {high:g}",
                                f"ask for {low:g} to {high:g} sources", field="k")

    def _search(self, query: str, k: int | None, filters: SearchFilters | None,
                query_vector: NDArray[np.float32] | None = None) -> list[Hit]:
        from localrag.ingest.lines import with_lines

        if k is not None and k < 1:
            raise ConfigError(f"k = {k}: at least one source must be searched for", "use k of 1 or more")
        self.check_filters(filters)  # refused naming its field, before the query is embedded
        return with_lines(self.retriever.search(query, k or self.settings.top_k, filters, query_vector=query_vector))

    def _titled(self, hits: list[Hit]) -> list[Hit]:
        """`hits` with their documents' titles where a title says more than the file's name (`Hit.title`), shown
        as the place of a passage before its document's first heading: before 2026-12-08 such a hit of a MkDocs site
        was only `.../p003/index.html`. A title the file does not declare is none: a plain-text file's (a log's),
        a table's or code's is its first line or its name whatever they are ("db.log:21 — 2026-03-05 03:00:00
        INFO worker heartbeat ok" read as a heading); nor is one ending as a sentence does ("kayak.txt — The warranty
        lasts two years from purchase."). One lookup for the whole search."""
        from localrag.sentences import ENDS_SENTENCE
        from localrag.store_schema import sql_in

        ids = {hit.chunk.doc_id for hit in hits}
        if not ids:
            return hits
        titles = {d.doc_id: d.title for d in self.retriever.store.documents(sql_in("doc_id", sorted(ids)))
                  if d.title and d.title != Path(d.path).stem and not ENDS_SENTENCE.search(d.title)
                  and d.file_type not in _UNDECLARED_TITLES and not d.file_type.startswith("code:")}
        return [replace(hit, title=titles.get(hit.chunk.doc_id, "")) for hit in hits]

    def why_nothing_found(self, filters: SearchFilters | None = None, *, query: str = "", offset: int = 0) -> str:
        """Why a search found no passage, in words a user can act on: an empty collection, filters that no
        indexed passage passes, or (neither) nothing that matched. `query` and `offset`: a page's search (`search`),
        which is empty past the search's last hit: before 2026-12-08 such a page read "nothing in the index matched
        the question" although its first page had hits."""
        if offset and query.strip():
            # The passages before the page: as many as the search ranks when it ends before the page.
            ranked = len(self._search(plain_text(valid_text(query)), offset, filters))
            if ranked:
                return (f"the search ranks {ranked} passage{'s' if ranked != 1 else ''}, fewer than offset + 1 "
                        f"({offset + 1}): ask with an offset below {ranked}")
        if not self.store.document_count():
            writer = writer_at_work(self._writer_lock_dir(), self.settings.collection)
            if writer:
                # Asked while the first ingest embedded its files, "add some with `localrag ingest PATH`" read as
                # if none had been started.
                return (f"collection {self.settings.collection} holds no documents yet: {writer} is writing to the "
                        "index, and an ingest's files are searched once they are embedded; ask again when it is done")
            return (f"collection {self.settings.collection} holds no documents yet: add some with "
                    "`localrag ingest PATH` (in the chat app, the Library)")
        if filters is not None and (filters.path_globs or filters.file_types):
            parts = ([f"type {', '.join(filters.file_types)}"] if filters.file_types else []) + (
                [f"path {', '.join(filters.path_globs)}"] if filters.path_globs else [])
            return f"no indexed passage passes the filters ({'; '.join(parts)}){self.wildcards_hint(filters)}"
        return "nothing in the index matched the question"

    def wildcards_hint(self, filters: SearchFilters) -> str:
        """What a path filter that passed nothing means, where a pattern of it is a bare word (no * or ?) that
        matches no file or folder of that name but lies inside indexed paths: `--path smith_anna` is a whole name,
        and `*smith_anna*` the pattern meant (before 2026-12-08 the refusal said only that nothing passed). ""
        when no pattern is such."""
        from localrag.retrieve import SearchFilters

        hints = []
        for glob in filters.path_globs:
            if any(ch in glob for ch in "*?") or not glob.strip() or self.documents(
                    SearchFilters(glob, filters.file_types)):
                continue
            wild = f"*{glob.strip('/')}*"
            if found := len(self.documents(SearchFilters(wild, filters.file_types))):
                hints.append(f"`{wild}` matches {found:,} document{'s' if found != 1 else ''}")
        if not hints:
            return ""
        return f"; {', '.join(hints)} (a pattern without * or ? is a whole file or folder name)"

    def fusion_choice(self) -> FusionChoice | None:
        """The fusion chosen for this index and its figures; None: never chosen (the default applies)."""
        from localrag.fusion import load_choice

        return load_choice(self.store)

    @one_collection
    def tune_fusion(self, *, n_queries: int | None = None, questions: Path | None = None) -> FusionChoice:
        """Choose the fusion for this index, store it and use it.

        Measured on pseudo-queries made from its chunks, or on `questions`: a RAFT build folder (or its
        qa.jsonl) whose questions were written per chunk of this index.
        """
        from localrag.fusion import N_QUERIES, choose_fusion, save_choice

        written = self._written_questions(questions) if questions is not None else None
        choice = choose_fusion(self.store, self.embedder, n_queries=n_queries or N_QUERIES, queries=written)
        save_choice(self.store, choice)
        with self._lock:
            if self._retriever is not None:
                self._retriever.fusion = choice.fusion
        return choice

    def _written_questions(self, path: Path) -> list[PseudoQuery]:
        from localrag.fusion import PseudoQuery
        from localrag.tune.retriever import read_pairs

        path = Path(path)
        pairs = read_pairs(path.parent if path.is_file() else path)
        live = {c.chunk_id for c in self.store.chunks([p.chunk.chunk_id for p in pairs])}
        kept = [PseudoQuery(p.question, p.chunk.chunk_id, "") for p in pairs if p.chunk.chunk_id in live]
        if not kept:
            raise ConfigError(f"{path}: none of its {len(pairs)} questions is about a chunk of this index",
                              "write them from this index: localrag raft build")
        return kept

    def rewrite_query(self, question: str, history: list[dict[str, str]]) -> str:
        """A standalone retrieval query for a follow-up question (answer/pipeline.py, `follow_up_query`)."""
        from localrag.answer.pipeline import follow_up_query

        return follow_up_query(question, history)

    def _searched(self, query: str) -> tuple[str, NDArray[np.float32]]:
        """The text `query` searches for, its search operators taken out (query_syntax: `hotel cap -draft` searches
        for "hotel cap"), and its vector. The refusal floors and the answer's evidence judge that text: judged with
        the operators, "draft" counted as a word asked for and its vector was not the one that searched."""
        from localrag.query_syntax import parse

        syntax = parse(query)
        return syntax.text, self.retriever.embedder.embed_queries([syntax.text])[0]

    def stream(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: SearchFilters | None = None,
        history: list[dict[str, str]] | None = None,
        cancel: threading.Event | None = None,
    ) -> AnswerStream:
        from localrag.answer.pipeline import answer_events, holds_own_words, leaning_query, refusal
        from localrag.query_syntax import parse

        question = checked_question(question)
        history = [{**m, "content": valid_text(m.get("content", ""))} for m in history or []]
        self.check_sources(k)
        # The model file is checked before retrieval, so a bad --model fails fast and alone.
        generator = None if self.settings.answer_mode == "extract" else self.generator
        query = self.rewrite_query(question, history or [])
        # Retrieval embeds the query; the answer scores source sentences against it and the question, the same
        # text unless a follow-up was rewritten, so it is embedded once for all.
        searched, vector = self._searched(query)
        hits = self._search(query, k, filters, vector)
        settings = self.settings
        leaning = leaning_query(question, history or []) if query == question else None
        # A passage holding a phrase the question quotes passes the vector floor (answer/pipeline.py, `refusal`).
        phrases = parse(query).phrases
        why = (refusal(searched, hits, self.embedder, vector, settings, phrases=phrases) if hits
               else self.why_nothing_found(filters))
        if leaning is not None and why:
            # A follow-up with no mark of one (`answer.pipeline.leans`: "And on the first day of a trip?", too long
            # for its "And" to mark it) that, alone, finds nothing that answers it: asked again after the previous
            # question, it is kept when that finds an answer. A question that stands alone is never searched twice
            # (benchmarks/README.md, "Follow-ups").
            leaning_searched, leaning_vector = self._searched(leaning)
            leaning_hits = self._search(leaning, k, filters, leaning_vector)
            # The previous question's words alone pass the floors: the passages must hold one of this question's
            # own words too, or "What is the population of Tokyo?" after a question on the lighthouse is answered
            # from the lighthouse (benchmarks/README.md, "Follow-ups").
            if (not refusal(leaning_searched, leaning_hits, self.embedder, leaning_vector, settings, phrases=phrases)
                    and holds_own_words(searched, leaning_hits)):
                searched, vector, hits, why = leaning_searched, leaning_vector, leaning_hits, ""
        if why and (generator is None or not settings.allow_model_knowledge):
            elsewhere = self._answered_elsewhere(query, searched, vector, k, filters, phrases)
            if elsewhere and hits:  # there, not a lower floor here, is the way to an answer
                why = refusal(searched, hits, self.embedder, vector, settings, floor_advice=False, phrases=phrases)
            why += elsewhere
        if generator is not None and settings.prompt_sentences and _tuned_here(generator):
            settings = settings.replace(prompt_sentences=0)
        # Titles after the floors: only the sources shown need them (`_titled`, one lookup).
        yield from answer_events(question, searched, self._titled(hits), generator=generator, embedder=self.embedder,
                                 settings=settings, history=history, cancel=cancel, query_vector=vector,
                                 refused_why=why)

    def _answered_elsewhere(self, query: str, searched: str, vector: NDArray[np.float32],
                            k: int | None, filters: SearchFilters | None, phrases: tuple[str, ...]) -> str:
        """What a refusal adds when other collections hold passages that pass the floors which refused `query` here:
        their names and the command there, as `forget` and `summarize` name the collection that indexes a file
        (`_documents_at`); "" when none does. One search in each other collection, made only for a refused question
        (with `query`'s operators, `searched` judged), without a reranker: the floors judge the cosines, which it
        leaves as they are. Before 2026-12-07 a question asked in the wrong collection was told to lower the floor.
        The command asks `query`, what was searched: a conversation's follow-up ("And on Sundays?") is rewritten to
        stand alone, and asked as typed in a one-off `ask` it would search for something else. A server's client
        reads it as `serve.wording.for_client` writes it (a server serves one collection)."""
        from localrag.answer.pipeline import refusal

        passing = []
        for name in sorted(self._collection_names() - {self.settings.collection}):
            other = Engine(self.settings.replace(collection=name, reranker=""), embedder=self.embedder,
                           config_file=self.config_file)
            try:
                hits = other._search(query, k, filters, vector)
            except LocalRagError:
                continue  # renamed, deleted or damaged meanwhile: its own commands say so
            if hits and not refusal(searched, hits, self.embedder, vector, self.settings, phrases=phrases):
                passing.append(name)
        if not passing:
            return ""
        which = ", ".join(f"'{name}'" for name in passing)
        there = shlex.join(["localrag", "ask", query]) + self.collection_option(passing[0])
        held = f"collection {which} holds a passage" if len(passing) == 1 else f"collections {which} hold passages"
        return f"; {held} that answers it: `{there}`"

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: SearchFilters | None = None,
        history: list[dict[str, str]] | None = None,
        cancel: threading.Event | None = None,
    ) -> Answer:
        answer: Answer | None = None
        for event in self.stream(question, k=k, filters=filters, history=history, cancel=cancel):
            if isinstance(event, DoneEvent):
                answer = event.answer
        assert answer is not None, "stream() always ends with a DoneEvent"
        return answer


def checked_offset(offset: int) -> None:
    """That a page (of a search or a listing) may start `offset` items in: the one rule of every front end (the
    CLI's --offset, the API's and MCP's `offset`)."""
    if offset < 0:
        raise LocalRagError(f"an offset of {offset}: the first item is at offset 0",
                            "give an offset of 0 or more", field="offset")


def _model_label(spec: str) -> str:
    """A path shows as its file name; `ollama:llama3.2:3b` or `mine` is already a name; `bundled` is the bundled
    file's, as answers are labelled with the setting left empty."""
    if spec == BUNDLED_NAME:
        return bundled_generator_path().stem
    return Path(spec).stem if paths.typed_path(spec).is_file() else spec


def _tuned_here(generator: Generator) -> bool:
    """A model `localrag tune` made from whole documents reads each source whole, as its RAFT examples showed them
    (models.trained_on_whole_chunks; one tuned in the sentence layout reads sentences like the base)."""
    path = getattr(generator, "path", None)
    return isinstance(path, Path) and trained_on_whole_chunks(path)
