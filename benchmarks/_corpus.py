"""Shared benchmark inputs: real text from /work/shared/data, embedded once with the bundled MiniLM.

Random vectors make every ANN index look broken (no cluster structure), so the speed benchmark uses
real sentence embeddings. Building them takes minutes on a laptop CPU, so they are cached in
benchmarks/results/ (gitignored) keyed by the corpus size and a hash of the texts.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _require_data() -> None:
    if not DATA.is_dir():
        sys.exit(f"evaluation data not found at {DATA}; the benchmarks need the shared data sets")


def source_texts() -> list[tuple[str, str]]:
    """(title, passage) pairs from COVID-QA, PubMedQA, HotpotQA and MuSiQue."""
    _require_data()
    out: list[tuple[str, str]] = []
    covid = json.loads((DATA / "covidqa/data/question-answering/200423_covidQA.json").read_text())
    for article in covid["data"]:
        for para in article["paragraphs"]:
            out.append((str(para.get("document_id", "covid")), para["context"]))
    pubmed = json.loads((DATA / "pubmedqa_pqal/data/ori_pqal.json").read_text())
    for pmid, item in pubmed.items():
        out.append((pmid, " ".join(item["CONTEXTS"])))
    hotpot = json.loads((DATA / "hotpotqa_musique/data/hotpotqa_train_corpus.json").read_text())
    out.extend((title, "".join(sentences)) for title, sentences in hotpot.items())
    musique = json.loads((DATA / "hotpotqa_musique/data/musique_train_corpus.json").read_text())
    out.extend((item["title"], item["text"]) for item in musique)
    return out


def benchmark_pieces(n: int) -> list[tuple[str, str]]:
    """n (source, text) pieces: windows of 1 to 4 consecutive sentences, like overlapping chunks.

    The shared data holds ~35k sentences; the four window sizes give ~125k pieces.
    """
    pieces: list[tuple[str, str]] = []
    sources = source_texts()
    split = [(title, [s for s in _SENTENCE_END.split(text) if len(s) > 20]) for title, text in sources]
    for width in (1, 2, 3, 4):
        for title, sentences in split:
            for start in range(0, max(len(sentences) - width + 1, 0), 1):
                pieces.append((title, " ".join(sentences[start : start + width])))
                if len(pieces) >= n:
                    return pieces
    if len(pieces) < n:
        sys.exit(f"only {len(pieces)} pieces available, asked for {n}")
    return pieces


def covid_questions(limit: int) -> list[str]:
    covid = json.loads((DATA / "covidqa/data/question-answering/200423_covidQA.json").read_text())
    questions = [qa["question"] for a in covid["data"] for p in a["paragraphs"] for qa in p["qas"]]
    return questions[:limit]


def load_embedder():  # type: ignore[no-untyped-def]
    from localrag.embed import SentenceTransformerEmbedder
    from localrag.models import bundled_embedder_path

    return SentenceTransformerEmbedder(bundled_embedder_path(), batch_size=64)


def onnx_embedder(backend: str = "onnx"):  # type: ignore[no-untyped-def]
    """The bundled MiniLM over its ONNX export (ONNX Runtime unless `backend` names OpenVINO), its threads by the
    free-cores rule.

    The rule takes LOCALRAG_N_THREADS when it is set.
    """
    from localrag.embed import load_embedder as load
    from localrag.models import bundled_embedder_path

    return load(bundled_embedder_path(), backend, batch_size=32)


def vectors_path(texts: list[str], tag: str) -> Path:
    """Where cached_vectors keeps the vectors of these texts."""
    digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    return RESULTS / f"vectors_{tag}_{len(texts)}_{digest}.npy"


def cached_prefix(texts: list[str], tag: str, n: int) -> np.ndarray | None:
    """Vectors of texts[:n] from the cache of all of `texts`, finished or still being embedded; None if short."""
    path = vectors_path(texts, tag)
    if path.is_file():
        return np.asarray(np.load(path, mmap_mode="r")[:n], dtype=np.float32)
    blocks = sorted(path.with_name(f"{path.stem}.blocks").glob("*[0-9].npy"))
    parts, have = [], 0
    for block in blocks:
        if int(block.name[:8]) != have or have >= n:
            break
        parts.append(np.load(block))
        have += len(parts[-1])
    return np.concatenate(parts)[:n] if have >= n else None


def cached_vectors(texts: list[str], tag: str, embedder=None, step: int = 4096) -> np.ndarray:  # type: ignore[no-untyped-def]
    """MiniLM vectors for `texts`, from benchmarks/results/ when the same texts were embedded before.

    `embedder`: the one to embed with (default: sentence-transformers on torch). A long embedding is
    kept in blocks as it goes, so a killed run resumes where it stopped; the blocks' wall time is
    recorded beside the vectors (`.json`: rows, seconds, embedder). `step`: texts per block (smaller for a slow
    embedder, so a kill loses less).
    """
    path = vectors_path(texts, tag)
    if path.is_file():
        return np.load(path)
    RESULTS.mkdir(parents=True, exist_ok=True)
    embedder = embedder or load_embedder()
    blocks = RESULTS / f"{path.stem}.blocks"
    blocks.mkdir(exist_ok=True)
    log = blocks / "seconds.json"
    seconds: dict[str, float] = json.loads(log.read_text()) if log.is_file() else {}
    for i in range(0, len(texts), step):
        block = blocks / f"{i:08d}.npy"
        if block.is_file():
            continue
        started = time.perf_counter()
        vectors = np.asarray(embedder.embed(texts[i : i + step]), dtype=np.float32)
        seconds[block.name] = time.perf_counter() - started
        _save_atomic(block, vectors)
        log.write_text(json.dumps(seconds))
        done = min(i + step, len(texts))
        rate = sum(min(step, len(texts) - int(name[:8])) for name in seconds) / sum(seconds.values())
        print(f"  embedded {done}/{len(texts)} ({rate:.0f}/s)", file=sys.stderr, flush=True)
    vectors = np.concatenate([np.load(blocks / f"{i:08d}.npy") for i in range(0, len(texts), step)])
    info = {"rows": len(texts), "seconds": round(sum(seconds.values()), 1), "embedder": getattr(embedder, "name", "")}
    info["backend"] = getattr(embedder, "backend", "torch")
    info["threads"] = getattr(embedder, "session_threads", 0)
    path.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
    _save_atomic(path, vectors)
    for block in blocks.iterdir():
        block.unlink()
    blocks.rmdir()
    return vectors


def _save_atomic(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as f:
        np.save(f, array)
    tmp.replace(path)
