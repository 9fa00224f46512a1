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


def cached_vectors(texts: list[str], tag: str) -> np.ndarray:
    """MiniLM vectors for `texts`, from benchmarks/results/ when the same texts were embedded before."""
    digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:12]
    path = RESULTS / f"vectors_{tag}_{len(texts)}_{digest}.npy"
    if path.is_file():
        return np.load(path)
    RESULTS.mkdir(parents=True, exist_ok=True)
    embedder = load_embedder()
    started = time.perf_counter()
    parts = []
    step = 4096
    for i in range(0, len(texts), step):
        parts.append(embedder.embed(texts[i : i + step]))
        done = min(i + step, len(texts))
        rate = done / (time.perf_counter() - started)
        print(f"  embedded {done}/{len(texts)} ({rate:.0f}/s)", file=sys.stderr, flush=True)
    vectors = np.concatenate(parts).astype(np.float32)
    np.save(path, vectors)
    return vectors
