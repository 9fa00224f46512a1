"""What the per-row checksums cost: at ingest (computing them) and in `localrag repair --check` (verifying).

    nice -n 10 .venv/bin/python benchmarks/bench_row_sums.py --rows 20000 --out benchmarks/summaries/row_sums.json

Chunks of ~1,000 characters with 384-dim vectors (MiniLM's shape) are written to a real LanceDB store
in a temp folder in batches of 256, as an ingest commits them. Figures, all from the same run:
computing both sums per chunk; `Store.write_batch` per chunk (which includes them); the bundled
MiniLM's encoding per chunk of the same texts (the step an ingest spends its time in); and verifying
every row (`Store.damaged_rows`, what `repair --check` does) per chunk. Search reads no sum, so its
cost is unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

from localrag.row_sums import text_sums, vector_sums
from localrag.store import Store
from localrag.types import Chunk, Document

DIM = 384
BATCH = 256


def _corpus(rows: int) -> tuple[list[Document], list[Chunk], np.ndarray]:
    rng = random.Random(7)
    words = [f"w{i}" for i in range(5000)]
    docs, chunks = [], []
    for i in range(rows):
        doc_id = f"d{i // 4:06d}"
        if i % 4 == 0:
            docs.append(Document(doc_id=doc_id, path=f"/notes/{doc_id}.md", file_type="markdown", content_hash=doc_id,
                                 size=4000, mtime=0.0, title="", n_chunks=4))
        text = " ".join(rng.choices(words, k=180))[:1000]
        chunks.append(Chunk(chunk_id=f"{doc_id}:{i % 4:05d}", doc_id=doc_id, path=f"/notes/{doc_id}.md", index=i % 4,
                            text=text, start=0, end=len(text)))
    vectors = np.random.default_rng(7).standard_normal((rows, DIM)).astype(np.float32)
    return docs, chunks, vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--embed-sample", type=int, default=256, help="chunks MiniLM encodes for the per-chunk figure")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    docs, chunks, vectors = _corpus(args.rows)
    ids, texts = [c.chunk_id for c in chunks], [c.text for c in chunks]

    started = time.perf_counter()
    text_sums(ids, texts)
    vector_sums(ids, vectors)
    sums_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "db", embedder_name="bench", dim=DIM)
        started = time.perf_counter()
        for at in range(0, len(docs), BATCH // 4):
            part = docs[at : at + BATCH // 4]
            wanted = {d.doc_id for d in part}
            rows = [i for i in range(4 * at, min(4 * (at + len(part)), len(chunks))) if chunks[i].doc_id in wanted]
            store.write_batch(part, [chunks[i] for i in rows], vectors[rows])
        write_s = time.perf_counter() - started
        started = time.perf_counter()
        checked, bad = store.damaged_rows()
        verify_s = time.perf_counter() - started
        assert checked == len(chunks) and not bad

    from localrag.embed import SentenceTransformerEmbedder
    from localrag.models import bundled_embedder_path

    embedder = SentenceTransformerEmbedder(bundled_embedder_path())
    embedder.embed(texts[:8])
    started = time.perf_counter()
    embedder.embed(texts[: args.embed_sample])
    embed_s = time.perf_counter() - started

    per = 1e6 / len(chunks)
    result = {
        "rows": len(chunks),
        "dim": DIM,
        "sums_us_per_chunk": round(sums_s * per, 1),
        "write_batch_us_per_chunk": round(write_s * per, 1),
        "minilm_embed_us_per_chunk": round(embed_s * 1e6 / args.embed_sample, 1),
        "verify_us_per_chunk": round(verify_s * per, 1),
        "sums_percent_of_embed_plus_write": round(
            100 * sums_s * per / (embed_s * 1e6 / args.embed_sample + write_s * per), 4
        ),
        "loadavg": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
