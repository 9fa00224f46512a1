"""OCR quality and speed: real text pages rendered to images, read back by the bundled OCR engine.

    nice -n 10 .venv/bin/python benchmarks/bench_ocr.py [--pages N] [--summary PATH] [--turn 90|180|270]

Pages: every page of the sample corpus's PDF manual (reference: its text layer, from pypdf), and
the opening of N COVID-QA articles typeset one A4 page each with fpdf2 at 11 pt (reference: the text
typeset). Each page is rendered by PDFium at 150 and 300 dpi and read through `ingest.ocr`, exactly
as ingest reads a scanned page. Reported per resolution: character error rate (Levenshtein distance
over the reference length, after collapsing whitespace; case and punctuation count), wall seconds
per page (render + OCR, the engine already loaded; state the load average next to it) and CPU
seconds per page, which a busy machine inflates far less: on an idle 2-core machine the wall time
is about half the CPU time. `--turn` turns each rendered page anticlockwise before reading it, as a page scanned
on its side or upside down comes: the cost of finding its way up, and whether it is found.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.ingest import ocr  # noqa: E402
from localrag.ingest.discover import sample_corpus_dir  # noqa: E402

COVID = Path(__file__).resolve().parents[2] / "shared/data/covidqa/data/question-answering/200423_covidQA.json"
PAGE_CHARS = 2600  # about what fits an A4 page at 11 pt with fpdf2's margins


def squash(text: str) -> str:
    return " ".join(text.split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row at a time: insertions along the row resolved by a running minimum."""
    if not a or not b:
        return max(len(a), len(b))
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    positions = np.arange(len(b) + 1)
    row = positions.copy()
    for i, char in enumerate(a, start=1):
        substitution = row[:-1] + (codes_b != ord(char))
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, substitution)
        row = np.minimum.accumulate(best - positions) + positions
    return int(row[-1])


def covid_pages(count: int, folder: Path) -> list[tuple[str, Path, int, str]]:
    from fpdf import FPDF

    articles = [p["context"] for a in json.loads(COVID.read_text())["data"] for p in a["paragraphs"]][:count]
    pages = []
    for number, article in enumerate(articles, start=1):
        # Helvetica is a Latin-1 font: leave out what it cannot print, so the reference is what is on the page.
        text = article[:PAGE_CHARS].encode("latin-1", "ignore").decode("latin-1")
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(False)
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 5.2, text)
        path = folder / f"covid-{number}.pdf"
        pdf.output(str(path))
        pages.append((f"covidqa article {number}", path, 0, squash(text)))
    return pages


def manual_pages() -> list[tuple[str, Path, int, str]]:
    from pypdf import PdfReader

    path = sample_corpus_dir() / "aurora-espresso-manual.pdf"
    return [
        (f"sample manual page {i + 1}", path, i, squash(page.extract_text()))
        for i, page in enumerate(PdfReader(str(path)).pages)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2, help="COVID-QA articles to typeset (one page each)")
    parser.add_argument("--summary", type=Path, default=Path("benchmarks/summaries/ocr.json"))
    parser.add_argument("--dpi", type=int, action="append", help="render resolution(s) (default: 150 and 300)")
    parser.add_argument("--orientation-classifier", action="store_true",
                        help="turn on RapidOCR's per-line orientation classifier (off in localrag)")
    parser.add_argument("--turn", type=int, choices=(0, 90, 180, 270), default=0,
                        help="degrees each page is turned anticlockwise before it is read (default 0)")
    args = parser.parse_args()
    resolutions = args.dpi or [150, 300]
    ocr.USE_ORIENTATION_CLASSIFIER = args.orientation_classifier
    ocr.read_page(np.full((64, 64, 3), 255, dtype=np.uint8))  # load the engine before timing
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        pages = manual_pages() + covid_pages(args.pages, Path(folder))
        for dpi in resolutions:
            for name, path, index, reference in pages:
                started, cpu_started = time.perf_counter(), time.process_time()
                image = np.ascontiguousarray(np.rot90(ocr.render_pdf_page(path, index, dpi), args.turn // 90))
                reading = ocr.read_page(image)
                text = squash(" ".join(ocr.paragraphs(reading.lines)))
                seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                errors = levenshtein(text, reference)
                rows.append({"page": name, "dpi": dpi, "chars": len(reference), "errors": errors,
                             "cer": errors / len(reference), "seconds": round(seconds, 2),
                             "cpu_seconds": round(cpu, 2), "confidence": round(reading.confidence, 3)})
                print(f"{dpi} dpi  {name:<24} CER {errors / len(reference):6.2%}  {seconds:5.1f} s wall"
                      f"  {cpu:5.1f} s CPU", flush=True)
    summary: dict[str, object] = {"command": " ".join(sys.argv), "cpus": os.cpu_count(),
                                  "orientation_classifier": args.orientation_classifier, "turn": args.turn,
                                  "loadavg_end": Path("/proc/loadavg").read_text().split()[:3], "pages": rows}
    for dpi in resolutions:
        mine = [r for r in rows if r["dpi"] == dpi]
        cer = sum(int(r["errors"]) for r in mine) / sum(int(r["chars"]) for r in mine)
        per_page = sum(float(r["seconds"]) for r in mine) / len(mine)
        cpu_per_page = sum(float(r["cpu_seconds"]) for r in mine) / len(mine)
        summary[f"{dpi}dpi"] = {"cer": round(cer, 4), "seconds_per_page": round(per_page, 2),
                                "cpu_seconds_per_page": round(cpu_per_page, 2)}
        print(f"{dpi} dpi: CER {cer:.2%} over {len(mine)} pages, {per_page:.1f} s/page wall, "
              f"{cpu_per_page:.1f} CPU-s/page")
    print("load average:", " ".join(summary["loadavg_end"]))  # type: ignore[arg-type]
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
