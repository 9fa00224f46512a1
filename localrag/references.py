"""A document's list of references, by its heading and by the shape of its entries.

A research paper ends in a list of works cited, often longer than its body and set in smaller type. Read as
text it misled twice: the PDF loader took its type size for the body's (every body line became a heading),
and `localrag summarize` quoted its entries ("In Proceedings of ACL, pages 108-118.") as key sentences.
"""

from __future__ import annotations

import re

# A heading that opens the list: "References", "7 Bibliography", "Works Cited", German "Literatur". Not the singular:
# "Reference" heads a manual's reference part, prose ("# Reference" of a command manual was left out of its summary).
_REFERENCES_HEADING = re.compile(
    r"\s*(?:[\dIVX]+\.?\s+)?(?:references(?: and notes)?|bibliography|works cited|literature cited|"
    r"cited literature|literatur|literaturverzeichnis)\s*",
    re.IGNORECASE,
)
# An entry's marks: an author as lists give them ("Guu, K.") after a numbered label ("[39] Guu, K."), two authors in
# a row ("Guu, K., Chen, W."), a venue opening it ("In Proceedings of", "In Advances in"), or a page range after a
# comma (", pages 108-118", ", pp. 3-9"). Not a label alone: a paper's prose opens sentences with its citations
# ("[59] did not provide a web server", 55 of COVID-QA's sentences), nor a DOI, which figure captions carry too.
_AUTHOR = r"\b[A-Z][\w'\u2019-]+, (?:[A-Z]\.\s?)+"
_REFERENCE_ENTRY = re.compile(
    rf"^\s*\[\d+\]\s+{_AUTHOR}|^\s*In (?:Proceedings|Advances)\b|, (?:pages|pp?\.) \d+\s*[-\u2013]\s*\d+"
    rf"|{_AUTHOR},?\s+(?:and\s+|&\s+)?{_AUTHOR}"
)


def is_references_heading(text: str) -> bool:
    """Whether a heading's text names a list of references."""
    return _REFERENCES_HEADING.fullmatch(text) is not None


def is_reference_entry(sentence: str) -> bool:
    """Whether a sentence has the shape of an entry of a list of references (see `_REFERENCE_ENTRY`)."""
    return _REFERENCE_ENTRY.search(sentence) is not None
