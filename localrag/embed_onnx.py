"""ONNX Runtime encoding of a local sentence-transformers folder: exported here, cached, batched by length.

Ingest is embedding time, and ONNX Runtime runs MiniLM faster than torch on a CPU, and far better
when other work competes for the cores (benchmarks/README.md, "ONNX Runtime encoding"). The export
is made from the folder's own weights on first use and cached (`paths.cache_dir()`, under the data
dir; the user's own folder under the temp folder where that cannot be written), keyed by a hash of the
folder's model files, so nothing is ever downloaded and a changed (for example re-tuned) folder gets a
new export.

Why not sentence-transformers' own `backend="onnx"`: it loads through optimum-onnx, whose only
release pins transformers < 4.58 while sentence-transformers 6 needs transformers 5, so the two
cannot be installed together. Instead torch's own exporter traces the whole sentence-transformers
pipeline (transformer, pooling, normalisation) into one graph, which onnxruntime runs with the
folder's fast tokenizer (`tokenizer.json`, the same one the torch path counts chunk tokens with).
Every export is checked against the torch model on texts of several lengths before it is kept.

Variants:
- "onnx": float32, the same vectors as torch (max difference ~1e-7), so an index built with either
  one is searched by the other; the embedder keeps its name.
- "onnx-int8": MatMul weights quantized to int8 per channel (dynamic quantization), faster again but
  its vectors differ (cosine 0.995 on average to the float ones), so it carries its own name
  (`+int8`) and the store refuses to mix it with the float vectors.
- "openvino" and "openvino-bf16": the same float export compiled by OpenVINO (embed_openvino), in
  float32 (the float vectors and name) or in bfloat16 (the `+bf16` name torch-bf16 has: both stay
  within cosine 0.9999 of float32).

Texts are sorted by token count and batched, so a batch pads to its own longest text, not to the
longest of the whole call.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from localrag import paths
from localrag.atomic import replace_synced
from localrag.config import DEFAULT_EMBED_BACKEND, EMBED_BACKENDS
from localrag.cpu import cpu_has_native_bf16, worker_threads
from localrag.disk_errors import existing_place, is_disk_full, is_read_only, lacks_permission, on_read_only_disk
from localrag.embed import BF16_SUFFIX, configured_max_tokens, counting_copy, embedder_name, unit_rows
from localrag.errors import ConfigError, ModelError
from localrag.offline import enforce_offline
from localrag.processes import remove_left_by_dead
from localrag.sizes import megabytes

if TYPE_CHECKING:
    from numpy.typing import NDArray

INT8_SUFFIX = "+int8"
# An export is kept only if it reproduces the torch vectors this closely (cosine, every probe text).
_MIN_EXPORT_COSINE = 0.9999
_PROBES = (
    "A short probe.",
    "A somewhat longer probe sentence, so the exported graph sees a second sequence length and padding.",
    " ".join(["Long inputs are truncated at the model's maximum length."] * 60),
)
_OPSET = 17
_CARD_PREFIXES = ("README", "localrag-card")


def check_backend(backend: str) -> str:
    if backend not in EMBED_BACKENDS:
        raise ConfigError(f"unknown embed_backend '{backend}'", f"use one of: {', '.join(EMBED_BACKENDS)}")
    if backend.endswith("-bf16") and not cpu_has_native_bf16():
        # Emulated bf16 arithmetic is slower than float32: the backend only pays on such a CPU.
        raise ConfigError(
            f"embed_backend '{backend}': this CPU has no native bfloat16 arithmetic (avx512_bf16 or AMX)",
            f"use embed_backend = \"{DEFAULT_EMBED_BACKEND}\"",
        )
    return backend


def backend_suffix(backend: str) -> str:
    """What `backend` adds to the name an index records: float backends share a name (their vectors agree to
    ~1e-7); int8 and bf16 have their own."""
    return {"onnx-int8": INT8_SUFFIX, "torch-bf16": BF16_SUFFIX, "openvino-bf16": BF16_SUFFIX}.get(backend, "")


def variant_name(folder: Path, backend: str) -> str:
    return embedder_name(folder) + backend_suffix(backend)


def folder_digest(folder: Path) -> str:
    """A hash of the model folder's files (names and bytes), so an edited folder is exported anew.

    Cards (README.md, localrag-card.*) are not the model: a tuned embedder judged before its card
    was written keeps the export it was judged with.
    """
    digest = hashlib.sha256()
    files = (p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith(_CARD_PREFIXES))
    for path in sorted(files):
        digest.update(str(path.relative_to(folder)).encode())
        with path.open("rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()[:16]


def export_dir(folder: Path) -> Path:
    # By content only: a tuned embedder judged in its staging folder keeps its export once renamed.
    return paths.cache_dir() / "onnx" / folder_digest(folder)


def _own_temp_cache(*, create: bool) -> Path | None:
    """This user's cache under the temp folder, where an export the cache cannot take is kept (made with `create`):
    None when missing, or when the name is taken by anything but a folder of this user's that no one else may enter
    (another account could have put an export of its own making there)."""
    place = Path(tempfile.gettempdir()) / f"localrag-{os.getuid()}-cache"
    try:
        info = place.lstat()
    except FileNotFoundError:
        if not create:
            return None
        try:
            place.mkdir(mode=0o700)
        except OSError:
            return None
        info = place.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    return place if private else None


_TEMP_SAID: set[Path] = set()
_PROCESS_TEMP: list[Path] = []  # this process's own folder (`_process_temp`), once made


def _process_temp() -> Path:
    """A folder of this process's own under the temp folder, removed when the process ends: where this user's temp
    cache cannot be used (`_own_temp_cache`), no later command could find an export kept in it, and each command
    left a new ~87 MB one in a folder of its own, never removed."""
    if not _PROCESS_TEMP:
        made = Path(tempfile.mkdtemp(prefix="localrag-cache-"))
        atexit.register(shutil.rmtree, made, ignore_errors=True)
        _PROCESS_TEMP.append(made)
    return _PROCESS_TEMP[0]


def _export_place(folder: Path, backend: str) -> Path:
    """The folder that holds (or is to hold) this folder's export for `backend`: the cache's. Where the cache cannot
    be written (a LOCALRAG_HOME on a disk mounted read-only, a backup searched where it lies, or one this user may
    only read) and holds no export, one under the temp folder, said once: a search there was refused "the disk is
    read-only" for the export it could not keep. An export made there serves every later command until the temp
    folder is cleared, where the torch backend instead would load torch at each one; where this user's temp cache
    cannot be used either, it serves this process only (`_process_temp`)."""
    directory = export_dir(folder)
    if _export_file(directory, backend).is_file():
        return directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if not (is_read_only(exc) or lacks_permission(exc)):
            raise
    else:
        if os.access(directory, os.W_OK):
            return directory
    temp = _own_temp_cache(create=True)
    place = (temp or _process_temp()) / "onnx" / directory.name
    place.mkdir(parents=True, exist_ok=True)
    if not _export_file(place, backend).is_file() and directory not in _TEMP_SAID:
        _TEMP_SAID.add(directory)
        why = "the disk is read-only" if on_read_only_disk(directory) else "you cannot write in it"
        lasts = "once while that folder lasts" if temp else "for this command only, and removed when it ends"
        # On stderr from here, for every front end alike (a search's, an MCP server's log): the export is made
        # deep inside the first embedding, which no front end's own notes reach.
        print(f"localrag: the embedder's ONNX export cannot be kept in {paths.cache_dir()} ({why}): it is made in "
              f"{place} instead, {lasts}; LOCALRAG_CACHE_DIR names a cache folder on a writable disk",
              file=sys.stderr, flush=True)
    return place


def _cache_takes(directory: Path) -> bool:
    """Whether an export can be written in `directory`, or in the folder it is to be made in; nothing is made."""
    return os.access(existing_place(directory), os.W_OK)


@contextmanager
def _quiet() -> Iterator[None]:
    """Tracer and quantizer warnings are about graph internals a user cannot act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def _tmp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


# What `_tmp_beside` names, its pid first: a killed export leaves one the size of the model.
_TMP_NAME = re.compile(r"^\..+\.onnx\.(\d+)\.\d+\.tmp$")


def _export_float(folder: Path, target: Path) -> None:
    """Trace the sentence-transformers pipeline into `target` and check it against torch first."""
    enforce_offline()
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True).eval()
    features = {k: v for k, v in model.preprocess(list(_PROBES[:2])).items() if isinstance(v, torch.Tensor)}
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in features]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(names, inputs, strict=True)))["sentence_embedding"]

    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["sentence_embedding"] = {0: "batch"}
    tmp = _tmp_beside(target)
    try:
        with _quiet(), torch.no_grad():
            torch.onnx.export(
                Pipeline().eval(),
                tuple(features[n] for n in names),
                str(tmp),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes=axes,
                opset_version=_OPSET,
                dynamo=False,
            )
        reference = model.encode(list(_PROBES), normalize_embeddings=True, convert_to_numpy=True)
        _check_against(tmp, folder, np.asarray(reference, dtype=np.float32), _MIN_EXPORT_COSINE)
        replace_synced(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _tmp_beside(target)
    try:
        with _quiet():
            # MatMul only and per channel: quantizing the embedding Gather too, or per tensor, cost
            # cosine 0.96 to the float vectors where this keeps ~0.995. Recipes that stay closer
            # (the feed-forward outputs in float: 0.9975) cost the 2x speed-up and still missed
            # MuSiQue's dense recall by 0.015 (benchmarks/README.md, "int8 recipes").
            quantize_dynamic(
                str(source), str(tmp), op_types_to_quantize=["MatMul"], per_channel=True, weight_type=QuantType.QInt8
            )
        replace_synced(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _check_against(onnx_file: Path, folder: Path, reference: NDArray[np.float32], min_cosine: float) -> None:
    probe = OnnxEmbedder(folder, onnx_file=onnx_file, threads=0)  # a one-off check: no CPU sample
    cosines = (probe.embed(list(_PROBES)) * reference).sum(axis=1)
    if float(cosines.min()) < min_cosine:
        raise ModelError(
            f"{folder}: the ONNX export does not reproduce the model (cosine {cosines.min():.4f})",
            "set embed_backend = \"torch\" for this embedder",
        )


def _export_file(directory: Path, backend: str) -> Path:
    return directory / ("model.int8.onnx" if backend == "onnx-int8" else "model.onnx")


def ensure_export(folder: Path, backend: str) -> Path:
    """The cached ONNX file for this folder and backend, exported (atomically) on first use."""
    folder = Path(folder)
    if not (folder / "tokenizer.json").is_file():
        raise ModelError(
            f"{folder}: no tokenizer.json, which the ONNX backend needs",
            "set embed_backend = \"torch\" for this embedder",
        )
    directory = _export_place(folder, backend)
    remove_left_by_dead(directory, _TMP_NAME)
    float_file = directory / "model.onnx"
    if not float_file.is_file():
        try:
            _export_float(folder, float_file)
        except (RuntimeError, ValueError, OSError) as exc:
            if is_disk_full(exc):  # not the embedder's fault: the torch backend was no fix
                raise ModelError(f"{directory}: the disk is full (the embedder's ONNX export takes about "
                                 f"{megabytes(_weights_size(folder))})",
                                 "free space on that disk, or point LOCALRAG_CACHE_DIR at another one, then run "
                                 "it again") from exc
            raise ModelError(
                f"{folder}: could not export the embedder to ONNX ({exc})",
                "set embed_backend = \"torch\" for this embedder",
            ) from exc
    if backend != "onnx-int8":
        return float_file
    int8_file = _export_file(directory, backend)
    if not int8_file.is_file():
        _quantize(float_file, int8_file)
    return int8_file


def _weights_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("*.safetensors")) or sum(
        f.stat().st_size for f in folder.glob("*.bin"))


def _max_seq_length(folder: Path) -> int:
    configured = configured_max_tokens(folder)
    if configured:
        return configured
    try:
        data = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 512
    value = data.get("model_max_length") if isinstance(data, dict) else None
    return value if isinstance(value, int) and 0 < value <= 100_000 else 512


class OnnxEmbedder:
    """The Embedder protocol over the ONNX export, run by ONNX Runtime or OpenVINO; exports (or finds) the file
    on first use."""

    def __init__(
        self,
        folder: Path,
        *,
        backend: str = "onnx",
        batch_size: int = 32,
        onnx_file: Path | None = None,
        threads: int | Callable[[], int] = worker_threads,
    ) -> None:
        """`threads`: the runtime's threads, or the rule that gives them when the runtime is made.

        The default is training's free-cores rule (LOCALRAG_N_THREADS when set), so an ingest beside
        other work takes the cores that are free instead of fighting for busy ones; it is asked once,
        when the runtime is made (its CPU sample runs beside the loading). 0 leaves the runtime's
        default (one thread per physical core).
        """
        self.folder = Path(folder)
        self.backend = check_backend(backend)
        self.name = variant_name(self.folder, backend)
        self.batch_size = max(1, batch_size)
        self._onnx_file = onnx_file
        self.threads = threads
        self._max_tokens = _max_seq_length(self.folder)
        self._runtime: Any = None
        # The float `openvino` backend embeds questions on ONNX Runtime over the same file: see embed_queries.
        self._query_runtime: _OrtRuntime | None = None
        self._made_with: tuple[Path, int] | None = None
        self._dim: int | None = None
        self._tokenizers: tuple[Any, Any] | None = None
        self._lock = threading.Lock()

    def _load(self) -> tuple[Any, Any, Any]:
        """(runtime, truncating tokenizer, counting tokenizer), built once."""
        with self._lock:
            if self._runtime is None:
                from tokenizers import Tokenizer

                chosen: list[int] = []
                rule = None
                if callable(self.threads):
                    ask: Callable[[], int] = self.threads
                    # The rule's CPU sample (0.3 s) runs while the export is found (its files hashed) and
                    # the tokenizers load: the rule does not count this process's own CPU as a neighbour's.
                    rule = threading.Thread(target=lambda: chosen.append(ask()), daemon=True)
                    rule.start()
                else:
                    chosen.append(self.threads)
                onnx_file = self._onnx_file or ensure_export(self.folder, self.backend)
                truncating = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
                truncating.no_padding()
                truncating.enable_truncation(self._max_tokens)
                self._tokenizers = (truncating, counting_copy(truncating))
                if rule is not None:
                    rule.join()
                threads = chosen[0] if chosen else 0  # a rule that failed leaves the runtime's default
                self._made_with = (onnx_file, threads)
                if self.backend.startswith("openvino"):
                    from localrag.embed_openvino import OpenVinoRuntime

                    self._runtime = OpenVinoRuntime(onnx_file, bf16=self.backend == "openvino-bf16", threads=threads)
                else:
                    self._runtime = _OrtRuntime(onnx_file, threads)
            assert self._tokenizers is not None
            return self._runtime, *self._tokenizers

    def needs_export(self) -> bool:
        """Whether loading will first export the model to ONNX (its first use under this cache: ~10 s for MiniLM
        on 2 cores, where a cached export loads in under a second)."""
        if self._runtime is not None or self._onnx_file is not None:
            return False
        directory = export_dir(self.folder)
        # The temp folder's export serves only a cache that cannot take one (`_export_place`): found there beside a
        # writable cache, it said "Loading the embedder" while the export into the cache ran.
        temp = None if _cache_takes(directory) else _own_temp_cache(create=False)
        return not any(_export_file(place, self.backend).is_file()
                       for place in (directory, *([temp / "onnx" / directory.name] if temp else [])))

    @property
    def dim(self) -> int:
        if self._dim is None:
            width = self._load()[0].width
            # The exporter keeps the embedding width static; a symbolic one is read off a probe vector.
            self._dim = width if width is not None else int(self._run(["dim"]).shape[1])
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    @property
    def session_threads(self) -> int:
        """The threads the runtime was made with (0: ONNX Runtime's default); loads the model."""
        return int(self._load()[0].threads)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._load()[2].encode_batch(list(texts), add_special_tokens=True)]

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit_rows(self._run(texts))

    def embed_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Questions embedded as `embed` would: the same vectors. For the float `openvino` backend they run on
        ONNX Runtime over the same export, because OpenVINO is slower on one short text on one thread (a
        question: 8-10 ms against 6-7 at 15 tokens; benchmarks/README.md, "Questions on ONNX Runtime"), while
        it is the faster of the two on an ingest's batches."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return unit_rows(self._run(texts, self._question_runtime()))

    def _question_runtime(self) -> Any:
        runtime = self._load()[0]
        if self.backend != "openvino":
            return runtime
        with self._lock:
            if self._query_runtime is None:
                assert self._made_with is not None
                self._query_runtime = _OrtRuntime(*self._made_with)
            return self._query_runtime

    def _run(self, texts: Sequence[str], runtime: Any = None) -> NDArray[np.float32]:
        loaded, tokenizer, _ = self._load()
        runtime = runtime or loaded
        encodings = tokenizer.encode_batch(list(texts), add_special_tokens=True)
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        parts: list[tuple[Any, NDArray[np.float32]]] = []
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
                types[r, :n] = encodings[i].type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            vectors = runtime.run(feed)
            if len(vectors) != len(rows):
                # Seen with too little memory (a 1.5 GB `ulimit -v`): ONNX Runtime answered with no rows instead of
                # failing, and the caller failed later on a shape.
                raise ModelError(f"{self.name}: the embedder gave {len(vectors)} vectors for {len(rows)} texts",
                                 "too little memory? close other programs and run it again, or set embed_backend "
                                 '= "torch"')
            parts.append((rows, vectors))
        out = np.zeros((len(texts), parts[0][1].shape[1]), dtype=np.float32)
        for rows, vectors in parts:
            out[rows] = vectors
        return out


class _OrtRuntime:
    """An ONNX Runtime session over the export, with the interface embed_openvino's runtime shares."""

    def __init__(self, onnx_file: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads would otherwise spin on the cores llama.cpp needs right after a
        # query is embedded.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if threads > 0:
            # ONNX Runtime ignores OMP_NUM_THREADS: a job given one core says so here.
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.inputs = frozenset(i.name for i in self._session.get_inputs())

    @property
    def threads(self) -> int:
        return int(self._session.get_session_options().intra_op_num_threads)

    @property
    def width(self) -> int | None:
        width = self._session.get_outputs()[0].shape[-1]
        return width if isinstance(width, int) else None

    def run(self, feed: dict[str, NDArray[np.int64]]) -> NDArray[np.float32]:
        out: NDArray[np.float32] = self._session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        return out
