"""Per-format load throughput: localrag's loader against the library's own raw text extraction.

    nice -n 10 .venv/bin/python benchmarks/bench_formats.py [--scale N] [--summary PATH]

For each format a file of a few hundred KB is written with the library such files come from (the
text is COVID-QA article sentences, so it reads like documents do). Then the same file is read two
ways, best of 5 each: `load_file` (text plus the structure the chunker needs) and the plainest
extraction the library offers (all text, no structure). Reported: MB/s of each and their ratio,
loader over raw (goal >= 0.9). `--scale` multiplies the file sizes.
"""

from __future__ import annotations

import argparse
import csv
import email
import email.message
import email.policy
import json
import mailbox
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from xml.etree import ElementTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from localrag.ingest.parts import load_parts  # noqa: E402

COVID = Path(__file__).resolve().parents[2] / "shared/data/covidqa/data/question-answering/200423_covidQA.json"


def sentences(count: int) -> list[str]:
    articles = [p["context"] for a in json.loads(COVID.read_text())["data"] for p in a["paragraphs"]]
    out = [s.strip() + "." for article in articles for s in article.split(". ") if 40 < len(s) < 400]
    return [" ".join(out[i % len(out)].split()) for i in range(count)]


# --- writers: one small real file per format -----------------------------------------------------


def write_pptx(path: Path, text: list[str]) -> None:
    from pptx import Presentation

    deck = Presentation()
    for start in range(0, len(text), 6):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = text[start][:60]
        frame = slide.placeholders[1].text_frame
        frame.text = text[start + 1] if start + 1 < len(text) else ""
        for line in text[start + 2 : start + 5]:
            frame.add_paragraph().text = line
        slide.notes_slide.notes_text_frame.text = text[start + 5] if start + 5 < len(text) else ""
    deck.save(str(path))


def write_xlsx(path: Path, text: list[str]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "source", "sentence", "length"])
    for number, line in enumerate(text):
        sheet.append([number, f"article {number % 98}", line, len(line)])
    book.save(path)


def write_csv(path: Path, text: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "source", "sentence", "length"])
        for number, line in enumerate(text):
            writer.writerow([number, f"article {number % 98}", line, len(line)])


def write_odt(path: Path, text: list[str]) -> None:
    ns = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" ' \
         'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    body = "".join(
        (f'<text:h text:outline-level="1">{line[:50]}</text:h>' if i % 20 == 0 else f"<text:p>{line}</text:p>")
        for i, line in enumerate(xml_escape(t) for t in text)
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", f"<office:document-content {ns}><office:body><office:text>{body}"
                         "</office:text></office:body></office:document-content>", zipfile.ZIP_DEFLATED)


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_epub(path: Path, text: list[str]) -> None:
    chapters = [text[i : i + 40] for i in range(0, len(text), 40)]
    manifest = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>'
                       for i in range(len(chapters)))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("META-INF/container.xml",
                         '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
                         '<rootfile full-path="content.opf"/></rootfiles></container>')
        archive.writestr("content.opf", '<package xmlns="http://www.idpf.org/2007/opf"><metadata/>'
                         f"<manifest>{manifest}</manifest><spine>{spine}</spine></package>")
        for i, lines in enumerate(chapters):
            body = f"<h1>Chapter {i}</h1>" + "".join(f"<p>{xml_escape(line)}</p>" for line in lines)
            archive.writestr(f"c{i}.xhtml", f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{body}</body></html>')


def write_rtf(path: Path, text: list[str]) -> None:
    body = "".join(line.encode("ascii", "ignore").decode().replace("\\", "").replace("{", "").replace("}", "")
                   + "\\par\n" for line in text)
    path.write_text("{\\rtf1\\ansi{\\fonttbl\\f0\\fswiss Helvetica;}\\f0\\pard " + body + "}", encoding="ascii")


def _message(subject: str, body: str) -> email.message.EmailMessage:
    message = email.message.EmailMessage()
    message["Subject"], message["From"], message["Date"] = subject, "a@example.org", "Tue, 03 Mar 2026 09:15:00 +0000"
    message.set_content(body)
    return message


def write_eml(path: Path, text: list[str]) -> None:
    path.write_bytes(_message("Report", "\n\n".join(text)).as_bytes())


def write_mbox(path: Path, text: list[str]) -> None:
    box = mailbox.mbox(str(path))
    for start in range(0, len(text), 10):
        box.add(_message(" ".join(text[start][:50].split()), "\n\n".join(text[start : start + 10])))
    box.close()


def write_ipynb(path: Path, text: list[str]) -> None:
    cells = []
    for start in range(0, len(text), 4):
        cells.append({"cell_type": "markdown", "metadata": {}, "source": f"## {text[start][:40]}\n\n{text[start + 1]}"})
        cells.append({"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
                      "source": f"print({text[start + 2]!r})"})
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))


# --- raw extraction: the plainest text each library gives ----------------------------------------


def raw_pptx(path: Path) -> str:
    from pptx import Presentation

    parts = []
    for slide in Presentation(str(path)).slides:
        parts.extend(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
        if slide.has_notes_slide:
            parts.append(slide.notes_slide.notes_text_frame.text)
    return "\n".join(parts)


def raw_xlsx(path: Path) -> str:
    import openpyxl

    book = openpyxl.load_workbook(str(path), read_only=True, data_only=True)
    text = "\n".join(" ".join(str(v) for v in row if v is not None)
                     for sheet in book.worksheets for row in sheet.iter_rows(values_only=True))
    book.close()
    return text


def raw_csv(path: Path) -> str:
    with path.open(newline="", encoding="utf-8") as f:
        return "\n".join(" ".join(row) for row in csv.reader(f))


def raw_odt(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return " ".join(ElementTree.fromstring(archive.read("content.xml")).itertext())


def raw_epub(path: Path) -> str:
    from bs4 import BeautifulSoup

    with zipfile.ZipFile(path) as archive:
        return "\n".join(BeautifulSoup(archive.read(n), "html.parser").get_text()
                         for n in archive.namelist() if n.endswith(".xhtml"))


def raw_rtf(path: Path) -> str:
    from striprtf.striprtf import rtf_to_text

    return str(rtf_to_text(path.read_text(encoding="latin-1")))


def raw_eml(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(("plain",))  # type: ignore[attr-defined]
    return str(body.get_content()) if body is not None else ""


def raw_mbox(path: Path) -> str:
    box = mailbox.mbox(str(path), create=False)
    texts = []
    for key in box.iterkeys():
        message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        texts.append(str(body.get_content()) if body is not None else "")
    box.close()
    return "\n".join(texts)


def raw_ipynb(path: Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


FORMATS: dict[str, tuple[Callable[[Path, list[str]], None], Callable[[Path], str], int]] = {
    # suffix: (writer, raw extraction, sentences per --scale)
    ".pptx": (write_pptx, raw_pptx, 600),
    ".xlsx": (write_xlsx, raw_xlsx, 3000),
    ".csv": (write_csv, raw_csv, 6000),
    ".odt": (write_odt, raw_odt, 4000),
    ".epub": (write_epub, raw_epub, 4000),
    ".rtf": (write_rtf, raw_rtf, 1500),
    ".eml": (write_eml, raw_eml, 4000),
    ".mbox": (write_mbox, raw_mbox, 4000),
    ".ipynb": (write_ipynb, raw_ipynb, 4000),
}


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def load_all(path: Path) -> None:
    for part in load_parts(path):
        assert part.loaded is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--summary", type=Path, default=Path("benchmarks/summaries/formats.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for suffix, (write, raw, count) in FORMATS.items():
            path = Path(folder) / f"sample{suffix}"
            write(path, sentences(int(count * args.scale)))
            megabytes = path.stat().st_size / 1e6
            raw_chars = len(raw(path))
            loaded_chars = sum(len(p.loaded.text) for p in load_parts(path) if p.loaded is not None)
            raw_s = best_of(5, partial(raw, path))
            load_s = best_of(5, partial(load_all, path))
            row = {"format": suffix, "mb": round(megabytes, 3), "raw_mb_s": round(megabytes / raw_s, 2),
                   "load_mb_s": round(megabytes / load_s, 2), "ratio": round(raw_s / load_s, 2),
                   "raw_chars": raw_chars, "loaded_chars": loaded_chars}
            rows.append(row)
            print(f"{suffix:<6} {megabytes:6.2f} MB  raw {row['raw_mb_s']:7.2f} MB/s  loader {row['load_mb_s']:7.2f} "
                  f"MB/s  ratio {row['ratio']:.2f}  chars raw {raw_chars:,} loaded {loaded_chars:,}", flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    print("load average:", " ".join(load))
    summary = {"command": " ".join(sys.argv), "cpus": os.cpu_count(), "loadavg_end": load, "formats": rows}
    args.summary.parent.mkdir(parents=True, exist_ok=True)
    args.summary.write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
