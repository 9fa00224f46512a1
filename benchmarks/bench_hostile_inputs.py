"""Peak memory and time of reading and chunking one hostile file, each in a fresh process.

    nice -n 10 .venv/bin/python benchmarks/bench_hostile_inputs.py --out benchmarks/summaries/hostile_inputs.json

Inputs (made in a temp folder): a single-line text file (--line-mb, default 20), a single-line
Markdown file (5 MB), a dense HTML page (400k tags), and a .docx that inflates to 1.2 GB. Each is
loaded and chunked with the bundled MiniLM's tokenizer (what `ingest` does before embedding) in its
own subprocess; the figure is that process's peak RSS (ru_maxrss) minus its RSS after loading the
model, so the model's own ~0.4 GB is not counted. Embedding then holds the document's chunks and one
float32 vector per chunk (a 20 MB line: ~30k x 384 x 4 B = 46 MB).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from localrag.embed import SentenceTransformerEmbedder
from localrag.errors import LoaderError
from localrag.ingest.chunker import chunk_document
from localrag.ingest.loaders import load_file
from localrag.models import bundled_embedder_path
embedder = SentenceTransformerEmbedder(bundled_embedder_path())
embedder.token_counts(["warm up"])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
path = Path(sys.argv[1])
try:
    loaded = load_file(path)
    chunks = chunk_document(loaded, doc_id="d", path=str(path), file_type="txt",
                            token_counts=embedder.token_counts, max_tokens=200, overlap=32)
    outcome = f"{len(chunks)} chunks"
except LoaderError as exc:
    outcome = f"refused: {exc.message}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "seconds": round(time.perf_counter() - started, 1),
                  "peak_growth_mb": round((peak - base) / 1024, 1)}))
"""


def _inputs(folder: Path, line_mb: float) -> dict[str, Path]:
    words = b"alpha beta gamma lighthouse keeper x9 of the "
    files = {}
    line = folder / "single-line.txt"
    line.write_bytes((words * int(line_mb * 1e6 / len(words) + 1))[: int(line_mb * 1e6)])
    files[f"single-line text, {line_mb:g} MB"] = line
    md = folder / "single-line.md"
    md.write_bytes(b"word *emph* [link](x) " * 250_000)
    files["single-line Markdown, 5.5 MB"] = md
    html = folder / "dense.html"
    html.write_bytes(b"<html><body>" + b"<p>a <b>x</b> y</p>" * 200_000 + b"</body></html>")
    files["HTML, 800k tags (3.8 MB)"] = html
    bomb = folder / "bomb.docx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("word/document.xml", "w", force_zip64=True) as member:
        for _ in range(1200):
            member.write(b"A" * 2**20)
    bomb.write_bytes(buffer.getvalue())
    files[f".docx inflating to 1.2 GB ({bomb.stat().st_size / 1e6:.1f} MB on disk)"] = bomb
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--line-mb", type=float, default=20.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in _inputs(Path(tmp), args.line_mb).items():
            run = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                                 timeout=3600, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
            if run.returncode != 0:
                results[name] = {"outcome": f"crashed: {run.stderr.strip().splitlines()[-1:]}"}
            else:
                results[name] = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{name}: {results[name]}", flush=True)
    summary = {"inputs": results, "load_average": os.getloadavg()}
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
