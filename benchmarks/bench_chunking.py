"""Loader and chunker throughput, with the bundled MiniLM tokenizer doing the counting.

    .venv/bin/python benchmarks/bench_chunking.py [--quick]

Inputs: the 98 COVID-QA articles (one ~24k-character paragraph each, so the chunker has to split
at sentences) written out as .txt files, and the bundled sample corpus (every format). Chunking
uses the ingest defaults: 200 tokens, 32 overlap. Reported: load and chunk seconds, MB/s of
chunking, chunk count and size, and how many `token_counts` calls were made per file (batching).
`--quick`: the first 20 articles.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.embed import SentenceTransformerEmbedder  # noqa: E402
from localrag.ingest import chunk_document, discover, file_type, load_file, sample_corpus_dir  # noqa: E402
from localrag.models import bundled_embedder_path  # noqa: E402

COVID = Path(__file__).resolve().parents[2] / "shared/data/covidqa/data/question-answering/200423_covidQA.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="first 20 articles only")
    args = parser.parse_args()
    if not COVID.is_file():
        sys.exit(f"evaluation data not found at {COVID}")
    articles = [p["context"] for a in json.loads(COVID.read_text())["data"] for p in a["paragraphs"]]
    articles = articles[:20] if args.quick else articles
    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    embedder.token_counts(["load the tokenizer before timing"])
    calls: list[int] = []

    def counted(texts: Sequence[str]) -> list[int]:
        calls.append(len(texts))
        return embedder.token_counts(texts)

    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(articles):
            (Path(tmp) / f"article{i:03d}.txt").write_text(text, encoding="utf-8")
        for label, root in (("covidqa", Path(tmp)), ("sample corpus", sample_corpus_dir())):
            files = list(discover([root]))
            megabytes = sum(p.stat().st_size for p in files) / 1e6
            started = time.perf_counter()
            loaded = [(p, load_file(p)) for p in files]
            loaded_at = time.perf_counter()
            calls.clear()
            sizes = []
            for path, doc in loaded:
                chunks = chunk_document(
                    doc,
                    doc_id="bench",
                    path=str(path),
                    file_type=file_type(path),
                    token_counts=counted,
                    max_tokens=200,
                    overlap=32,
                )
                sizes.extend(c.n_tokens for c in chunks)
            done = time.perf_counter()
            print(
                f"{label}: {len(files)} files, {megabytes:.2f} MB; load {loaded_at - started:.2f} s; "
                f"chunk {done - loaded_at:.2f} s ({megabytes / (done - loaded_at):.2f} MB/s); "
                f"{len(sizes)} chunks, mean {sum(sizes) / len(sizes):.0f} tokens, max {max(sizes)}; "
                f"{len(calls) / len(files):.1f} token_counts calls per file"
            )


if __name__ == "__main__":
    main()
