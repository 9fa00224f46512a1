"""Web pages saved as one file: `.mhtml` and `.mht` (Chrome's and Edge's "Webpage, Single File", Internet Explorer's
"Web Archive").

Such a file is a MIME message (`multipart/related`): the page's HTML, then each image, style sheet and frame it
showed. It is read with the mail reader's MIME parse and part decoding (`mail`) and the HTML reader (`html`), without
a mail's framing: named .eml it was read right but titled "— Saved by Blink, 5 December 2026", its text opening with
`From: "Saved by Blink"`. The page part (the `start` the message names, else its first HTML part) is read as a saved
`.html` file is, titled by its <title>, else the Subject the browser wrote; the address it was saved from opens the
text (`Saved from: https://...`, searchable). Its other parts are not read: style sheets, scripts and the frames of
its ads (`saved_resource.html` in a page saved as a folder was cited as "Cheap flights").
"""

from __future__ import annotations

import codecs
import dataclasses
from pathlib import Path

from localrag.errors import LoaderError
from localrag.ingest.html import load_html
from localrag.ingest.mail import parse_message, part_text
from localrag.ingest.structure import squash
from localrag.types import LoadedText, Section


def load_mhtml(path: Path, data: bytes) -> LoadedText:
    """The page saved in the `.mhtml` file at `path`, whose bytes are `data`."""
    message = parse_message(data)
    page = message.get_body(preferencelist=("html",))
    if page is None or page.get_content_type() != "text/html":
        raise LoaderError(f"{path}: no web page in this saved page (no text/html part)",
                          "open it in a browser and save it again, or exclude it")
    read = part_text(page)
    # The page's text as the HTML reader reads a saved page's, from the text the part's charset (else its <meta>)
    # gives: its UTF-8 mark makes the reader take that text as it is.
    loaded = load_html(path, codecs.BOM_UTF8 + read.text.encode("utf-8", "surrogatepass"))
    subject = squash(str(message.get("Subject") or ""))
    if subject and loaded.title == path.stem:  # no <title> nor heading: the Subject is the page's title
        loaded = dataclasses.replace(loaded, title=subject)
    source = squash(str(message.get("Snapshot-Content-Location") or page.get("Content-Location") or ""))
    if source.startswith(("http://", "https://")):
        loaded = _opened_by(loaded, f"Saved from: {source}")
    return dataclasses.replace(loaded, note=read.note or loaded.note)


def _opened_by(loaded: LoadedText, line: str) -> LoadedText:
    """`loaded` with `line` a paragraph of its own before its text, each section's offsets moved past it."""
    shift = len(line) + 2
    sections = (Section(0, len(line), "paragraph"),
                *(dataclasses.replace(s, start=s.start + shift, end=s.end + shift) for s in loaded.sections))
    return dataclasses.replace(loaded, text=f"{line}\n\n{loaded.text}", sections=sections)
