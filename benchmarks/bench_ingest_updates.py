"""What an update costs: one paragraph changed in a long document, one mail appended to an .mbox, the folder renamed,
and an ingest stopped halfway through a long file then run again.

    .venv/bin/python benchmarks/bench_ingest_updates.py [--code DIR] [--compare DIR] [--summary S]

The files are made of real passages from the shared data (`_corpus.benchmark_pieces`): a plain-text document of
about 400 chunks (paragraphs of a few sentences, no headings), the same paragraphs as Markdown under a heading
every 12 paragraphs, and an .mbox of 279 mails of one to five paragraphs each (about 420 chunks). All three are
ingested (bundled MiniLM, real LanceDB, a fresh LOCALRAG_HOME); then each is edited once (a sentence added to its
middle paragraph; one mail appended) and ingested again, alone. For that second ingest the chunks written, the
chunks the embedder was given (a spy on the real embedder) and the wall time are reported. Then the folder is
renamed and ingested under its new name, and last a new plain-text document of about 400 other passages is put in
it: an ingest of it is stopped (the Engine's cancel, as Ctrl-C sets it) once half its chunks are embedded, and the
ingest run again is measured.

`--code DIR` measures another checkout (`git archive HEAD~1 | tar -x -C /tmp/before`); `--compare DIR` runs DIR and
this checkout one after the other, each in a child process, and reports both and their ratios (one load average,
read before the first).
"""

from __future__ import annotations

import argparse
import email.message
import json
import mailbox
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _checkout  # noqa: F401  (first: it chooses which localrag the imports below get)
from _corpus import benchmark_pieces, load_embedder
from _summary import load_at_start, write_summary

PARAGRAPHS, PER_HEADING, MAILS = 1900, 12, 279
ADDED = " The harbour council moved the winter ferry timetable to the first Monday of November."


def _files(folder: Path) -> tuple[Path, Path, Path]:
    pieces = [text for _, text in benchmark_pieces(40_000)[::17]]
    paragraphs = pieces[:PARAGRAPHS]
    txt = folder / "report.txt"
    txt.write_text("\n\n".join(paragraphs) + "\n")
    md = folder / "report.md"
    md.write_text("# Report\n\n" + "\n\n".join(
        (f"## Part {i // PER_HEADING + 1}\n\n" if i % PER_HEADING == 0 else "") + p for i, p in enumerate(paragraphs)))
    box_path = folder / "inbox.mbox"
    box = mailbox.mbox(str(box_path))
    rest = pieces[PARAGRAPHS:]
    for i in range(MAILS):
        box.add(_mail(f"Re: {rest[i][:40]}", "\n\n".join(rest[i : i + 1 + i % 5]), f"m{i}@mail.example.org"))
    box.close()
    return txt, md, box_path


def _mail(subject: str, body: str, message_id: str) -> bytes:
    message = email.message.EmailMessage()
    message["Subject"] = subject
    message["From"] = "Ana Ferreira <ana@example.org>"
    message["To"] = "team@example.org"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content(body)
    return message.as_bytes()


def _edit_middle(path: Path) -> None:
    blocks = path.read_text().split("\n\n")
    middle = len(blocks) // 2
    blocks[middle] += ADDED
    path.write_text("\n\n".join(blocks))


def _append_mail(path: Path) -> None:
    box = mailbox.mbox(str(path))
    box.add(_mail("Winter ferry timetable", "The new timetable starts in November." + ADDED, "new@mail.example.org"))
    box.close()


def _fresh(folder: Path) -> Path:
    """A long plain-text document of passages none of the others holds."""
    path = folder / "fresh.txt"
    path.write_text("\n\n".join(text for _, text in benchmark_pieces(40_000)[8::17][:PARAGRAPHS]) + "\n")
    return path


def _stopped_halfway(engine: object, path: Path) -> None:
    """An ingest of `path` stopped once half of its chunks are embedded."""
    from localrag.types import IngestProgress

    cancel = threading.Event()

    def halfway(progress: IngestProgress) -> None:
        done, _, total = progress.activity.removeprefix("Embedding ").partition("/")
        if progress.activity.startswith("Embedding ") and int(done) * 2 >= int(total.split()[0]):
            cancel.set()

    report = engine.ingest([path], cancel=cancel, progress=halfway)  # type: ignore[attr-defined]
    assert report.cancelled and report.chunks_written == 0, report.summary()


def measure() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        os.environ["LOCALRAG_HOME"] = str(Path(tmp) / "home")
        from localrag.config import load_settings
        from localrag.embedder_probe import PROBE_TEXT
        from localrag.engine import Engine

        folder = Path(tmp) / "files"
        folder.mkdir()
        txt, md, box = _files(folder)
        embedder = load_embedder()
        given: list[str] = []
        embed = embedder.embed

        def counted(texts):  # type: ignore[no-untyped-def]
            given.extend(t for t in texts if t != PROBE_TEXT)
            return embed(texts)

        embedder.embed = counted
        engine = Engine(load_settings(), embedder=embedder)
        first = engine.ingest([folder])
        assert not first.errors, first.errors
        rows = []

        def measured(case: str, path: Path) -> None:
            given.clear()
            started = time.perf_counter()
            report = engine.ingest([path])
            seconds = time.perf_counter() - started
            assert not report.errors, report.errors
            rows.append({"case": case, "chunks_written": report.chunks_written, "chunks_embedded": len(given),
                         "seconds": round(seconds, 2), "summary": report.summary(),
                         "added_paths": [p.removeprefix(str(path.parent) + "/") for p in report.added_paths]})

        for case, path, edit in (("txt, one paragraph changed", txt, _edit_middle),
                                 ("md, one paragraph changed", md, _edit_middle),
                                 ("mbox, one mail appended", box, _append_mail)):
            edit(path)
            measured(case, path)
        moved = folder.rename(Path(tmp) / "renamed")
        measured("the folder renamed", moved)
        fresh = _fresh(moved)
        _stopped_halfway(engine, fresh)
        measured("a long file again after a stop halfway", fresh)
        engine.close()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, help="the checkout to measure (default: this one)")
    parser.add_argument("--compare", type=Path, help="another checkout, measured before this one, both compared")
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)  # a child's rows, for --compare
    parser.add_argument("--summary", type=Path)
    args = parser.parse_args()
    load = load_at_start()
    if args.compare is None:
        rows = measure()
        if args.rows is not None:
            args.rows.write_text(json.dumps(rows))
            return
        write_summary("bench_ingest_updates.py", load, rows, args.summary)
        return
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, code in (("before", args.compare), ("after", args.code)):
            out = Path(tmp) / f"{label}.json"
            command = [sys.executable, __file__, "--rows", str(out)] + (["--code", str(code)] if code else [])
            subprocess.run(command, check=True)
            runs[label] = json.loads(out.read_text())
    rows = []
    for before, after in zip(runs["before"], runs["after"], strict=True):
        rows.append({"case": before["case"], "before": before, "after": after,
                     "embedded_ratio": round(before["chunks_embedded"] / max(after["chunks_embedded"], 1), 1),
                     "time_ratio": round(before["seconds"] / after["seconds"], 1)})
    write_summary("bench_ingest_updates.py", load, rows, args.summary)


if __name__ == "__main__":
    main()
