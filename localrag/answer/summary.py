"""The sentences that sum a document up, found without the language model (`localrag summarize`).

The rule: every sentence of `MIN_WORDS` or more words is embedded; the document's centre is the mean of
those vectors, and a sentence's score is its cosine to that centre (how much of what the document is
about it says). Sentences are then taken one at a time by maximal marginal relevance: the score minus
`REDUNDANCY` times the highest cosine to a sentence already taken, so a summary does not say one thing
twice. The chosen sentences are shown in reading order, each quoted word for word with where it is.
Measured against the abstracts of COVID-QA's papers (92 with an abstract; their bodies summarised
without it): five sentences scored ROUGE-1 33.7 against 26.2 for the first five (+7.5 [+4.9, +9.6]),
ROUGE-2 11.1 against 7.0 (benchmarks/README.md, "Summaries without the model"). The redundancy weight
0.3 was chosen on that set; no weight scored apart from the others, and ROUGE does not count a
sentence said twice, which is what the term is for.

A sentence nearly the same as one already taken (cosine `NEAR_SAME` or more) is never taken: a contract's
boilerplate, repeated under each clause with another number ("2.2 The obligations in this clause apply ..."),
stood so near the centre that the weight did not hold it off, and a summary quoted it five times of five.

A document of more than `MAX_SENTENCES` sentences is read at evenly spaced sentences, and the result
says how many were read: embedding every sentence of a long book takes minutes on a laptop CPU.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from localrag.answer.evidence import section
from localrag.references import is_reference_entry, is_references_heading
from localrag.sentences import chunk_sentences, is_label, one_line, spaced
from localrag.types import HEADING_JOIN

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.types import Chunk

MIN_WORDS = 6
REDUNDANCY = 0.3
NEAR_SAME = 0.95
MAX_SENTENCES = 3000
# The most key sentences one summary gives, in every front end (a summary, not the document again).
MAX_KEY_SENTENCES = 50
# What every front end says of a document with no sentence to quote (`nothing_to_quote` says why).
NOTHING_TO_QUOTE = f"no sentence of {MIN_WORDS} words or more to quote"


@dataclass(frozen=True)
class KeySentence:
    """A sentence of the summary: its text on one line, the chunk it is in and where (`start`:`end` in the
    chunk's text), its page and heading, and the score it was chosen with."""

    text: str
    chunk_id: str
    start: int
    end: int
    page: int | None
    heading: str
    score: float

    @property
    def where(self) -> str:
        """"page 3, Manual > 6. Cleaning" as every front end shows it; "" when the document has neither."""
        return ", ".join(x for x in (f"page {self.page}" if self.page else "", self.heading) if x)


@dataclass(frozen=True)
class Summary:
    sentences: list[KeySentence]
    read: int  # sentences embedded and scored
    total: int  # sentences of MIN_WORDS or more words in the document
    references: int = 0  # sentences of MIN_WORDS or more words left out as a list of references


def nothing_to_quote(summary: Summary) -> str:
    """What a front end says of a summary with no sentence: why there is none."""
    if summary.references:
        return (f"no sentence to quote: its {summary.references} sentences of {MIN_WORDS} words or more are a list "
                "of references")
    return NOTHING_TO_QUOTE


def document_sentences(chunks: Sequence[Chunk]) -> list[tuple[Chunk, int, int]]:
    """(chunk, start, end) of each sentence of MIN_WORDS or more words, in reading order; a heading is not
    one (it is shown beside the sentences under it), nor is a table's first row (`sentences.is_label`), nor
    anything of a list of references (`_read`)."""
    return _read(chunks)[0]


def _read(chunks: Sequence[Chunk]) -> tuple[list[tuple[Chunk, int, int]], int]:
    """`document_sentences`, and how many sentences of MIN_WORDS or more words were left out as a list of
    references: a sentence shaped as an entry of one (`localrag.references`), which a summary of a paper quoted
    five times of five, and the whole of a References section most of whose sentences, short ones too, are (an
    entry's title alone has no entry's shape, its authors "[1] Guu, K., Chen, W." are short). A section of prose
    under such a heading is read ("Every candidate must provide two references ..." of a hiring guide was left out
    before 2026-12-07), and so is a document whose title it is."""
    top = next((chunk.heading.split(HEADING_JOIN)[0] for chunk in chunks if chunk.heading), "")
    # Each sentence with its references section ("" if none), whether it is an entry, whether it is long enough.
    found: list[tuple[Chunk, int, int, str, bool, bool]] = []
    read_to = 0  # where in the document the chunks before this one ended
    for chunk in chunks:
        section = _references_section(chunk.heading, top)
        # A chunk begins with the previous one's last sentences (its overlap): each sentence counts once, or a
        # 2,700-sentence text counted 3,216 and was read at every other one, its overlaps weighing double. Its
        # repeated table header (`Chunk.lead`) lies before its start, so it is never counted again either.
        found.extend((chunk, s, e, section, is_reference_entry(spaced(chunk.text[s:e])),
                      len(spaced(chunk.text[s:e]).split()) >= MIN_WORDS)
                     for s, e in chunk_sentences(chunk)
                     if chunk.start + s - chunk.lead >= read_to
                     and not is_label(chunk.text, s, e, chunk.heading, chunk.file_type))
        read_to = max(read_to, chunk.end)
    sizes = Counter(section for _, _, _, section, _, _ in found if section)
    entries = Counter(section for _, _, _, section, entry, _ in found if section and entry)
    listed = {section for section, size in sizes.items() if 2 * entries[section] > size}
    long = [(chunk, s, e, section, entry) for chunk, s, e, section, entry, enough in found if enough]
    kept = [(chunk, s, e) for chunk, s, e, section, entry in long if not entry and section not in listed]
    return kept, len(long) - len(kept)


def _heading_at(chunk: Chunk, start: int, level: int) -> str:
    """The heading path the sentence at `start` of `chunk`'s text stands under (`evidence.section`). A chunk holds the
    sections below the level the chunker splits at (`_split_level`), and its heading is where it starts: "The process
    control block stores ..." was labelled "Processes" (or "Processes > Process states") before 2026-12-07. A plain
    heading line inside it (HTML, EPUB, Word, slides) stands one level below `level`, its number unknown: one below it
    is the level at which the chunker packed them together (a chunk holding a sub-section inside one of these names
    it one level too high)."""
    return HEADING_JOIN.join(section(chunk, start, level))


def _split_level(chunks: Sequence[Chunk]) -> int:
    """The heading level below which a document's sections share chunks: the length of the heading path all its
    chunks' headings share (the chunker splits where the first level that varies changes)."""
    paths = [chunk.heading.split(HEADING_JOIN) for chunk in chunks if chunk.heading]
    shared = 0
    while paths and all(len(path) > shared and path[shared] == paths[0][shared] for path in paths):
        shared += 1
    return shared + 1


def _references_section(heading: str, top: str) -> str:
    """The heading path down to the references heading that `heading` is under ("" if none); the document's top
    heading (its title) never counts as one."""
    path = heading.split(HEADING_JOIN)
    for depth, name in enumerate(path):
        if is_references_heading(name) and not (depth == 0 and name == top):
            return HEADING_JOIN.join(path[:depth + 1])
    return ""


def choose(vectors: np.ndarray, n: int, redundancy: float = REDUNDANCY,
           alike: Sequence[str] = ()) -> tuple[list[int], list[float]]:
    """The rows of `vectors` (unit length) that the module's rule takes, in the order taken, with their scores.
    `alike`: a key per row (`_alike`); a row whose key is a taken row's is not taken."""
    if not len(vectors) or n < 1:
        return [], []
    centre = vectors.mean(axis=0)
    centre /= np.linalg.norm(centre) or 1.0
    relevance = vectors @ centre
    taken: list[int] = []
    scores: list[float] = []
    closest = np.full(len(vectors), -np.inf)
    for _ in range(min(n, len(vectors))):
        marginal = relevance - redundancy * np.where(np.isfinite(closest), closest, 0.0)
        marginal[taken] = -np.inf
        marginal[closest >= NEAR_SAME] = -np.inf
        if not np.isfinite(marginal).any():
            break  # every sentence left says one already taken
        best = int(np.argmax(marginal))
        if alike:  # its repeats count as the same as it, as a near-same vector does
            closest[[i for i, key in enumerate(alike) if key == alike[best] and i != best]] = np.inf
        taken.append(best)
        scores.append(float(marginal[best]))
        closest = np.maximum(closest, vectors @ vectors[best])
    return taken, scores


def _alike(sentence: str) -> str:
    """A sentence as a repeat of it reads: its digits left out (a clause's number: "2.2 The obligations ..." and
    "3.2 The obligations ..." scored a cosine of 0.94 with MiniLM, under `NEAR_SAME`, and were four of five)."""
    return " ".join(re.sub(r"[\d.()]+", " ", sentence.casefold()).split())


def summarise(chunks: Sequence[Chunk], embedder: Embedder, n: int = 5) -> Summary:
    """The `n` key sentences of a document given as its chunks in reading order; see the module docstring."""
    found, references = _read(chunks)
    step = max(1, -(-len(found) // MAX_SENTENCES))  # ceiling: at most MAX_SENTENCES are read
    read = found[::step]
    texts = [one_line(chunk.text[start:end]) for chunk, start, end in read]
    vectors = embedder.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    taken, scores = choose(vectors, n, alike=[_alike(text) for text in texts])
    chosen = sorted(zip(taken, scores, strict=True))
    level = _split_level(chunks)
    return Summary([KeySentence(texts[i], read[i][0].chunk_id, read[i][1], read[i][2], read[i][0].page,
                                _heading_at(read[i][0], read[i][1], level), round(score, 4)) for i, score in chosen],
                   len(read), len(found), references)
