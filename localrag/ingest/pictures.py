"""How a picture's alt text is read where it stands in a Word file or a web page (`word`, `html`): as a screen reader
announces a picture that stands alone, "Image: …" (`picture_line`), never the description Office writes by itself
(`office_alt_text`), and not again where its caption says it already (`said_in`)."""

from __future__ import annotations

import re

from localrag.ingest.structure import squash
from localrag.sentences import ENDS_SENTENCE

# The alt text Office writes itself, guessing from the image, signed by its closing line: "A picture containing grass,
# outdoor\n\nDescription automatically generated", "Chart, bar chart\n\nDescription generated with high confidence",
# "A screenshot of a computer\n\nAI-generated content may be incorrect.", and as a German, French or Spanish Office
# signs it. Web pages Word saves carry it in their `<img alt>`.
_OFFICE_ALT = re.compile(
    r"description (?:automatically generated|generated with (?:very )?high confidence)"
    r"|ai-generated content may be incorrect|automatisch generierte beschreibung"
    r"|description générée automatiquement|descripción generada automáticamente", re.IGNORECASE)


def office_alt_text(alt: str) -> bool:
    """Whether `alt` is a description Office wrote itself for a picture (`_OFFICE_ALT`), not a person: "A picture
    containing grass, outdoor, ground, plant Description automatically generated" says nothing the document says, and
    before 2026-12-08 `summarize` quoted it as a key sentence. Text in the picture is still read by OCR, when on."""
    return _OFFICE_ALT.search(alt) is not None


def picture_line(alt: str) -> str:
    """The line a picture standing alone is read as: "Image: Pressure gauge on the boiler front panel.", as a screen
    reader announces it ("image, …"), ended as a sentence, so no rule takes it for a heading over the text after it
    (`evidence.bare_heading` reads a short line ending in a letter as one). Before 2026-12-08 its alt text was a bare
    line, and `summarize` labelled the paragraphs after it "(Service report > Pressure gauge on the boiler front
    panel)". "" for no alt text."""
    alt = squash(alt)
    if not alt:
        return ""
    return f"Image: {alt}" if ENDS_SENTENCE.search(alt) else f"Image: {alt}."


def said_in(alt: str, caption: str) -> bool:
    """Whether `caption` (a figure's caption, the paragraph around a picture) holds the whole of `alt`, word for word
    but for case and spacing: a picture captioned by its own alt text was read twice."""
    alt = squash(alt)
    return bool(alt) and re.search(rf"(?<!\w){re.escape(alt)}(?!\w)", squash(caption), re.IGNORECASE) is not None
