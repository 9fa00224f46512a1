"""A seeded generator of malformed files mixed with good ones, for the ingest fuzz tests.

`generate(folder, count, seed)` writes `count` files (and links) into `folder` and returns what each
one is, so a test can check the outcome of one ingest over the whole folder:

- `good`: a small valid file in one of the supported formats holding a unique marker word; it must
  be indexed and findable by that word afterwards.
- `bad`: must be reported, once, as a skipped file (`IngestReport.errors`), never crash the run.
- `either`: damaged in a way a parser may shrug off (a flipped byte in a PDF): reported at most once,
  or indexed; the run must not crash.
- `ignored`: never indexed and never reported (symlink loops, dangling links, unsupported
  extensions; a link out of the folder is reported, and this generator makes none).

The same seed gives the same files, so a failure reproduces with the seed in the test's message.
Real sample files (the bundled PDF and .docx) are the base of the damaged binary cases.
"""

from __future__ import annotations

import io
import os
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localrag.ingest.discover import sample_corpus_dir

SAMPLE_PDF = sample_corpus_dir() / "aurora-espresso-manual.pdf"
SAMPLE_DOCX = sample_corpus_dir() / "larkspur-travel-policy.docx"
ESCAPES = ("\x1b[41m", "\x1b]0;pwned\x07", "\x9b2J", "\u202e", "\r")


@dataclass
class Case:
    path: Path
    expect: str  # good | bad | blank (passed over, named in a note) | either | ignored
    kind: str
    marker: str = ""


def _name(rng: random.Random, stem: str, suffix: str) -> bytes:
    """A file name, sometimes with a newline, an escape sequence or bytes that are not UTF-8."""
    roll = rng.random()
    base = stem.encode()
    if roll < 0.1:
        base += b"\nnext-line"
    elif roll < 0.2:
        base += rng.choice(ESCAPES).encode("utf-8")
    elif roll < 0.3:
        base += bytes([rng.randrange(0x80, 0x100)])  # invalid UTF-8 on its own
    return base + suffix.encode()


def _marker(rng: random.Random) -> str:
    return "zq" + "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(10))


class _Writer:
    def __init__(self, folder: Path, rng: random.Random, big: bool, long_line_max: int) -> None:
        self.folder = folder
        self.rng = rng
        self.big = big
        self.long_line_max = long_line_max
        self.number = 0
        self._bomb: bytes | None = None

    def path(self, stem: str, suffix: str) -> Path:
        self.number += 1
        return Path(os.fsdecode(os.path.join(os.fsencode(self.folder), _name(self.rng, f"{self.number:05d}-{stem}",
                                                                             suffix))))

    def write(self, stem: str, suffix: str, data: bytes) -> Path:
        path = self.path(stem, suffix)
        path.write_bytes(data)
        return path

    # --- good files ----------------------------------------------------------------------------

    def good(self) -> Case:
        marker = _marker(self.rng)
        sentence = f"The keeper wrote about {marker} in the logbook on a stormy night."
        suffix = self.rng.choice([".txt", ".md", ".html", ".py", ".docx"])
        if suffix == ".md":
            data = f"# Notes {self.number}\n\n{sentence}\n".encode()
        elif suffix == ".html":
            data = f"<html><body><h1>Notes</h1><p>{sentence}</p></body></html>".encode()
        elif suffix == ".py":
            data = f'def note():\n    return "{sentence}"\n'.encode()
        elif suffix == ".docx":
            data = _docx_with(sentence)
        else:
            data = (sentence + "\n").encode("utf-8-sig" if self.rng.random() < 0.2 else "utf-8")
        return Case(self.write("good", suffix, data), "good", f"good{suffix}", marker)

    # --- malformed files -----------------------------------------------------------------------

    def bad(self) -> Case:
        makers: list[tuple[str, Callable[[], Case]]] = [
            ("truncated-pdf", self.truncated_pdf),
            ("flipped-pdf", self.flipped_pdf),
            ("not-a-pdf", lambda: Case(self.write("fake", ".pdf", self.random_bytes(2000)), "bad", "not-a-pdf")),
            ("zip-bomb-docx", self.zip_bomb),
            ("truncated-docx", self.truncated_docx),
            ("random-docx", lambda: Case(self.write("rand", ".docx", self.random_bytes(3000)), "bad", "random-docx")),
            ("invalid-utf8", self.invalid_utf8),
            ("utf16-no-bom", self.utf16_no_bom),
            ("nul-bytes", self.nul_bytes),
            ("empty", lambda: Case(self.write("empty", self.rng.choice([".txt", ".md", ".html"]), b""), "blank",
                                   "empty")),
            ("blank", lambda: Case(self.write("blank", ".txt", b" \n\t\n   \n"), "blank", "blank")),
            ("long-line", self.long_line),
            ("deep-html", self.deep_html),
            ("deep-markdown", self.deep_markdown),
            ("escapes-in-text", self.escapes_in_text),
            ("symlink-loop", self.symlink_loop),
            ("dangling-link", self.dangling_link),
            ("unsupported", lambda: Case(self.write("thing", ".xyz", b"data"), "ignored", "unsupported")),
        ]
        kind, make = self.rng.choice(makers)
        case = make()
        case.kind = kind
        return case

    def random_bytes(self, n: int) -> bytes:
        return bytes(self.rng.randrange(256) for _ in range(n))

    def truncated_pdf(self) -> Case:
        data = SAMPLE_PDF.read_bytes()
        cut = self.rng.randrange(10, len(data) - 10)
        # A PDF cut past its text streams may still read; cut early ones are unreadable.
        return Case(self.write("cut", ".pdf", data[:cut]), "either" if cut > len(data) // 2 else "bad", "")

    def flipped_pdf(self) -> Case:
        data = bytearray(SAMPLE_PDF.read_bytes())
        for _ in range(self.rng.randrange(1, 20)):
            data[self.rng.randrange(len(data))] = self.rng.randrange(256)
        return Case(self.write("flip", ".pdf", bytes(data)), "either", "")

    def zip_bomb(self) -> Case:
        if self._bomb is None:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
                archive.writestr("[Content_Types].xml", "<Types/>")
                # One repeated byte deflates ~1000:1: 64 MB (1.2 GB with big=True, the size that once
                # took 7 GB to refuse) in a file of a few hundred kB.
                with archive.open("word/document.xml", "w", force_zip64=True) as member:
                    block = b"<w:t>" + b"A" * (2**20 - 5)
                    for _ in range(1200 if self.big else 64):
                        member.write(block)
            self._bomb = buffer.getvalue()
        return Case(self.write("bomb", ".docx", self._bomb), "bad", "")

    def truncated_docx(self) -> Case:
        data = SAMPLE_DOCX.read_bytes()
        return Case(self.write("cut", ".docx", data[: self.rng.randrange(100, len(data) - 100)]), "bad", "")

    def invalid_utf8(self) -> Case:
        # Bytes no encoding reads as text (control characters in any): a legacy 8-bit file is read, with a note.
        data = b"Some text " + bytes([0xC3, 0x28, 0x81, 0x02, 0x03]) + b" more text.\n"
        return Case(self.write("latin", self.rng.choice([".txt", ".md", ".py"]), data), "bad", "")

    def utf16_no_bom(self) -> Case:
        return Case(self.write("utf16", ".txt", "Text saved as UTF-16 without a BOM.".encode("utf-16-le")), "bad", "")

    def nul_bytes(self) -> Case:
        return Case(self.write("nul", self.rng.choice([".txt", ".md"]), b"text\x00with\x00nuls\n" * 10), "bad", "")

    def long_line(self) -> Case:
        size = 20_000_000 if self.big else self.rng.randrange(5_000, self.long_line_max)
        words = [b"alpha", b"beta", b"gamma", b"lighthouse", b"x9", b"of"]
        line = b" ".join(self.rng.choice(words) for _ in range(size // 5))[:size]
        return Case(self.write("long", ".txt", line), "either", "")

    def deep_html(self) -> Case:
        depth = self.rng.randrange(2_000, 20_000)
        data = b"<html><body>" + b"<div>" * depth + b"deep text" + b"</div>" * depth + b"</body></html>"
        return Case(self.write("deep", ".html", data), "either", "")

    def deep_markdown(self) -> Case:
        depth = self.rng.randrange(100, 5_000)
        data = (">" * depth + " quoted\n\n" + "".join("  " * i + "- item\n" for i in range(200))).encode()
        return Case(self.write("deep", ".md", data), "either", "")

    def escapes_in_text(self) -> Case:
        marker = _marker(self.rng)
        text = f"# Title {self.rng.choice(ESCAPES)} heading\n\nA line about {marker} {self.rng.choice(ESCAPES)}.\n"
        return Case(self.write("esc", ".md", text.encode()), "good", "escapes-in-text", marker)

    def symlink_loop(self) -> Case:
        a, b = self.path("loop-a", ".txt"), self.path("loop-b", ".txt")
        os.symlink(b, a)
        os.symlink(a, b)
        return Case(a, "ignored", "")

    def dangling_link(self) -> Case:
        link = self.path("dangling", ".md")
        os.symlink(self.folder / "does-not-exist.md", link)
        return Case(link, "ignored", "")


def _docx_with(sentence: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Notes", level=1)
    document.add_paragraph(sentence)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def generate(
    folder: Path, count: int, seed: int, *, good_share: float = 0.3, big: bool = False, long_line_max: int = 400_000
) -> list[Case]:
    """`count` files in `folder`, about `good_share` of them good; the same seed, the same files.

    Long single lines run from 5 kB to `long_line_max` characters (20 MB with `big`).
    """
    rng = random.Random(seed)
    writer = _Writer(folder, rng, big, long_line_max)
    return [writer.good() if rng.random() < good_share else writer.bad() for _ in range(count)]
