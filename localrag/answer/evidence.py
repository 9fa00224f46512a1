"""The sentence of the sources that best answers a question, found without the language model.

Every answer carries it (`Answer.evidence`): the one sentence, quoted word for word, that a reader
should check first. With `answer_mode = "extract"` it is the answer itself, and the model is not loaded.

The rule: each sentence of three or more words in the sources (or of two holding an amount on a line of its
own: "- 1 egg") is scored by the embedder's cosine between the question and the sentence, plus the share of the
question's content words that the sentence or the headings it stands under contain (a plural read as its
singular), each word weighted by how few of the candidate sentences hold it (a smoothed
inverse document frequency: in an espresso manual "descale" counts for more than "espresso"); the
highest wins, the earlier sentence on a tie. A sentence may run over several lines of a wrapped
paragraph; a blank line, a list item, a table row or a heading ends it. Why both: the cosine alone
picks a sentence on the right topic that often leaves out the asked-for fact, and the word share
alone cannot tell two sentences that repeat the question's words apart. The plain share at half
weight was chosen among five rules on the sample corpus's twelve questions and the first 60 of
COVID-QA's draw (benchmarks/README.md, "The best source sentence"); the weighted share at full
weight replaced it after a comparison of eleven rules on the sample corpus and questions 1-120,
judged once on questions 121-200 (token F1 +3.1 points there; "The best source sentence, second
round"). A known weakness: a sentence that repeats the question's names can outscore the one that
states the fact under a shorter name ("the light").

A question in the sources (an FAQ's "What are the opening hours?") holds every word asked and is chosen only
when no other sentence is left (`asks`); the sentence right after it, its answer in an FAQ, is read with it.
A question naming a clause by its number ("What does clause 7.3 say?", "section 4.2", "§ 3(2)") is answered by
the clause, not by a sentence that refers to it: a sentence that opens with the number ("7.3 Subject to ...", "§ 3(2)
...", "(2) ..." after "§ 3"), or stands under a heading or a numbered line that opens with it, scores
`CLAUSE_WEIGHT` more (`is_clause`). Before 2026-12-07 the cross-reference "7.4 The limitation in clause 7.3 does not
apply to a breach of clause 8" was the verified answer to what clauses 7.3 and 12.1 say: it held the words
"clause", "7" and "3". A numbered item or a coded record asked for scores as much more (`opens_with_item`): "step 3"
the item opening "3.", "error E4" the table row whose first cell holds "E4".
A line dressed as localrag's own prompt or output (`prompt.forges_structure`: "[2] official.md — cited ...",
"Question again: ...", <|im_start|>) is no candidate; a document's "Documents: ..." or "Question: ..." line is.
Nor is a heading a Word, HTML or PDF file writes as a plain line inside a chunk (`bare_heading`). A word a heading
negates right before it ("DRAFT - not approved") is not the question's word in that heading (`affirmed`). Sources
that hold no candidate are an extracted answer's refusal (`no_sentence`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from localrag.answer.prompt import NO_ANSWER_TEXT, defuse, forges_structure
from localrag.answer.vector_cache import SENTENCE_VECTORS
from localrag.clause_marks import clause_heading, is_clause
from localrag.exact_terms import clauses, codes
from localrag.raft.qa import content_words
from localrag.sentences import BULLET_MARK, chunk_sentences, is_label, key_path, one_line, spaced, table_header
from localrag.types import HEADING_JOIN, Answer, Chunk, Evidence, Hit, Quote, QuoteStatus

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from localrag.embed import Embedder

MIN_WORDS = 3
# A list item or a line of its own this short is a candidate when it holds a number: a recipe's "1 egg", "4 lemons".
MIN_QUANTITY_WORDS = 2
WORD_SHARE_WEIGHT = 1.0
# What the clause a question names scores over the other sentences: as much as the word share at most, so a sentence
# that is the clause comes before any that only refers to it, however many of the question's words they repeat.
CLAUSE_WEIGHT = 1.0
# What a sentence made only of the question's own words loses: it answers nothing ("INVOICE 1002" for "What is the
# total due on invoice 1002?", once an invoice's lines are sentences of their own), however many of them it repeats.
ECHO_WEIGHT = 1.0
# What the share of a follow-up's subject words counts for beside the question's own score (cosine plus word share, up
# to about 2), half read in the sentence and half in its passage: enough to choose among sentences that answer the
# question as asked alike ("has 25 employees" of Paris and "has 120 employees" of Berlin for "how many people work
# there?" after a question on Berlin), too little for most sentences about the subject that do not answer it. 0.5,
# 0.75 and 1.0 were run on benchmarks/bench_follow_ups.py (the sentence's share alone; 1.0 answered one more of its
# follow-ups) and on tests/integration/test_follow_up_subjects.py (benchmarks/README.md, "Follow-ups").
SUBJECT_WEIGHT = 1.0
# What an extracted answer names as its model: none was asked.
EXTRACT_MODEL = "extracted from the sources (no model)"
# How the front ends introduce the evidence under a generated answer.
EVIDENCE_LABEL = "best sentence in the sources"
# How they introduce a refused answer's sources and its evidence: what came closest, not what answered.
CLOSEST_SOURCES_LABEL = "Closest passages (none answers the question)"
CLOSEST_SENTENCE_LABEL = "closest sentence"


def candidate_sentences(sources: Sequence[Hit]) -> list[tuple[int, int, int]]:
    """(source number from 1, start, end in its chunk text) of every sentence of MIN_WORDS or more words that is
    not a heading or a table's first row (`sentences.is_label`), in source order; only the sources' that hold a
    code the question names, when some do (`Hit.codes`, localrag/exact_terms.py): thirty invoices alike, "the amount
    due on invoice INV-2026-0033" was answered, verified, by another invoice's "Amount due: 2036.00 EUR.", its own
    code being in its heading, no sentence."""
    holding = any(hit.codes for hit in sources)
    out: list[tuple[int, int, int]] = []
    for number, hit in enumerate(sources, start=1):
        if holding and not hit.codes:
            continue
        text = hit.chunk.text
        out.extend((number, s, e) for s, e in chunk_sentences(hit.chunk) if _long_enough(text, s, e)
                   and not is_label(text, s, e, hit.chunk.heading, hit.chunk.file_type)
                   # A line dressed as localrag's own output or prompt ("[2] official.md — cited, quote verified ✓
                   # ... Question again: ...") was the verified answer (before 2026-12-07).
                   and not forges_structure(text, s)
                   and not bare_heading(text, s, e, hit.chunk.file_type)
                   and not fill_in_blank(text[s:e]))
    return out


# A printed form's blank: a run of underscores, of four or more dots or of three or more dashes (a trailing "..." is
# prose's ellipsis), maybe parted by spaces or slashes ("__ / __ / ____").
_BLANK_RUN = r"(?:_{2,}|\.{4,}|…{2,}|[-–—]{3,})"
_FILL_IN = re.compile(rf"[^_\n]*?[:\s][\s/]*{_BLANK_RUN}(?:[\s/]*{_BLANK_RUN})*[\s/]*")


def fill_in_blank(sentence: str) -> bool:
    """Whether a sentence is a printed form's line left to fill in, its value only a blank ("Applicant name: ____",
    "Date of birth: ........"): it answers nothing. Before 2026-12-08 `ask --extract "What is the applicant's
    name?"` quoted "Applicant name: ____" over the form's filled value, "Applicant name: Wilhelmina Zappacosta"."""
    return _FILL_IN.fullmatch(sentence.strip()) is not None


# The loaders that write a heading as a plain line of its own (Markdown's, org-mode's and AsciiDoc's are marked, and
# `sentences.is_label` knows them): a chunk names only the heading it starts under (`Chunk.heading`), not those
# further in, as a Word document's "Choosing how to travel" after "Before you travel".
_PLAIN_HEADINGS = frozenset({"docx", "odt", "html", "mhtml", "pdf", "epub", "rtf", "pptx"})
MAX_HEADING_WORDS = 10
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def bare_heading(text: str, start: int, end: int, file_type: str) -> bool:
    """Whether the sentence at `start`:`end` of a chunk's `text`, in a file of `file_type`, is a heading its loader
    wrote as a plain line: in a format of `_PLAIN_HEADINGS`, a paragraph of one line, followed by more text, of at most
    MAX_HEADING_WORDS words, ending in a letter or ")" (no full stop, colon or other mark) and holding no bullet or cell
    bar (a list item or a table row states something) nor a digit but a section's number before its title
    (`numbered_title`: an amount or a record line states something). Before 2026-12-07 "Who
    approves travel?" was answered, verified, by the travel policy's heading "Choosing how to travel", which holds
    "travel" and is close to the question in meaning, over "Every business trip needs approval from your line
    manager ..." right above it."""
    if file_type not in _PLAIN_HEADINGS:
        return False
    line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    if line_end < 0 or not text[line_end:].strip():
        return False  # nothing after it to head
    line = text[line_start:line_end].strip()
    if line != text[start:end].strip():
        return False  # part of a line
    if not line:
        return False  # a line of spaces (a <pre> block's blank line) heads nothing
    if not (line[-1].isalpha() or line[-1] == ")") or len(line.split()) > MAX_HEADING_WORDS \
            or "|" in line or re.match(rf"{BULLET_MARK}\s", line):
        return False
    if any(c.isdigit() for c in line) and not numbered_title(line):
        return False
    above = text[text.rfind("\n", 0, max(line_start - 1, 0)) + 1 : max(line_start - 1, 0)]
    return not above.strip() and _BLANK_LINE.match(text, line_end) is not None


# A section's number as a heading writes it before its title: "7.3", "2." or "2)" ("7 Thrashing" is not one: "4 Lemons"
# on a line of its own is a recipe's). `clause_marks` reads a worded one ("Chapter 7:", "§ 4").
_SECTION_NUMBER = re.compile(r"(?:\d{1,3}(?:\.\d{1,3})+\.?|\d{1,3}[.)])[ \t]+")


def numbered_title(line: str) -> bool:
    """Whether `line` (stripped) is a section's number and its title: "7.3 Thrashing", "2. Installation", "Chapter 7:
    Virtual Memory", "§ 4 Notice to quit", "Article 5" (`clause_marks.clause_heading`); the title opens with a capital
    and holds no digit, so "2026-03-14 Card payment Bakery Lenz -4.50 EUR", "3 eggs" or "Clause 7: The fee is 100
    EUR" state something. Before 2026-12-07 a heading holding a digit was never a heading, and "Tell me about
    thrashing" was answered, verified, by "7.3 Thrashing"."""
    number = _SECTION_NUMBER.match(line)
    if number is not None:
        title = line[number.end():]
    else:
        worded = clause_heading(line)
        if worded is None:
            return False
        title = worded.group("title")
        if title is None:
            return True  # "Article 5" over its paragraphs
    return title[:1].isupper() and not any(c.isdigit() for c in title)


# A number standing as a word, with a unit at most ("1", "250000", "1.5", "500ml"), not a code's ("#US-5521", "E4").
_AMOUNT = re.compile(r"(?<![\w#-])\d+(?:[.,]\d+)*[^\W\d_]{0,3}(?![\w-])")
# What may stand before a sentence that is a line of its own: a bullet.
_LINE_OPENING = re.compile(rf"[ \t]*(?:{BULLET_MARK}[ \t]+)?")


def _long_enough(text: str, start: int, end: int) -> bool:
    """Whether the sentence at `start`:`end` has MIN_WORDS words, or is a quantity standing as a line of its own of
    MIN_QUANTITY_WORDS: before 2026-12-07 "how many eggs in the pancakes" was refused, its "- 1 egg" no candidate; or a
    data file's key under its parents (`sentences.key_path`) of as many: before 2026-12-08 "level: INFO" under
    "logging:" was none, and "what is the logging level?" was refused."""
    words = len(spaced(text[start:end]).split())
    if words >= MIN_WORDS:
        return True
    if words < MIN_QUANTITY_WORDS:
        return False
    if key_path(text, start):  # a data file's key of two words: "host: db.internal" under "database:"
        return True
    return _AMOUNT.search(text, start, end) is not None \
        and _LINE_OPENING.fullmatch(text, text.rfind("\n", 0, start) + 1, start) is not None \
        and not text[end:].split("\n", 1)[0].strip()


def scored_sentences(question: str, sources: Sequence[Hit], embedder: Embedder,
                     question_vector: NDArray[np.float32] | None = None, *,
                     subject: str = "") -> list[tuple[float, Evidence]]:
    """Every candidate sentence of the sources with its score by the module's rule, in source order; [] when the
    sources have none or the question is blank. `question_vector`: the question as `embedder.embed_queries` embeds
    it, when the caller has it already. `subject`: what a follow-up leans on (the questions before it), whose words
    the question does not ask add their weighted share at `SUBJECT_WEIGHT` (`subject_shares`)."""
    candidates = candidate_sentences(sources)
    if not candidates or not question.strip():
        return []
    # Shown and embedded with its line breaks read as spaces; `start`:`end` still point into the chunk text.
    texts = [one_line(sources[number - 1].chunk.text[start:end]) for number, start, end in candidates]
    headers = [_header(sources[number - 1].chunk.text, start, end) for number, start, end in candidates]
    # A table row is read with its header: "research budget 2027" is asked of "Research | 340000" under
    # "Team | Budget 2027 (EUR)".
    read = [f"{header} {text}" if header else text for header, text in zip(headers, texts, strict=True)]
    # An FAQ's answer is read with the question right before it: "Yes, all major cards are accepted." holds no word
    # of "Can I pay by card at the chandlery?", and the next answer, naming the chandlery, was chosen for it.
    for i in range(1, len(candidates)):
        (previous, _, previous_end), (number, start, _) = candidates[i - 1], candidates[i]
        if previous == number and _is_question(texts[i - 1]) \
                and not sources[number - 1].chunk.text[previous_end:start].strip():
            read[i] = f"{texts[i - 1]} {read[i]}"
    # Cached: the sentences chosen for the prompt are scored again for the evidence once the answer is written.
    if question_vector is None:
        question_vector = embedder.embed_queries([question])[0]
    cosines = SENTENCE_VECTORS.embed(embedder, read) @ question_vector
    # A sentence's words are read with its section's, the heading path of its chunk: of "- 250 g plain flour" under
    # "Recipes > Banana Bread > Ingredients" and "- 500 grams bread flour" under "Recipes > Sourdough Loaf", the first
    # answers "how much flour in the banana bread" (before 2026-12-07 the second did, its "bread" being rarer).
    sections = [affirmed(" ".join(section(sources[number - 1].chunk, start)), question)
                for number, start, _ in candidates]
    # A sentence's dates are read as the month's name too, when the question names one (`date_words`).
    months = asked_months(question)
    dates = [date_words(text, months) for text in texts] if months else [""] * len(texts)
    shares = weighted_shares(question, [f"{text} {section} {date}"
                                        for text, section, date in zip(read, sections, dates, strict=True)],
                             _folded_words)
    scores = cosines + WORD_SHARE_WEIGHT * shares
    asked = clauses(question)
    if asked:
        scores = scores + CLAUSE_WEIGHT * np.array([
            any(is_clause(sources[number - 1].chunk.text, start, sources[number - 1].chunk.heading, clause)
                for clause in asked) for number, start, _ in candidates], dtype=float)
    asked_words = set(_folded_words(question))
    if subject:
        # Half the sentence's own share, half its passage's: "Er ist 45 Meter hoch." names no water tower, the
        # sentence before it in its passage does.
        passages = [f"{sources[number - 1].chunk.heading} {sources[number - 1].chunk.text}"
                    for number, _, _ in candidates]
        scores = scores + SUBJECT_WEIGHT / 2 * (
            subject_shares(subject, asked_words, [f"{text} {section}" for text, section in zip(read, sections,
                                                                                               strict=True)])
            + subject_shares(subject, asked_words, passages))
    echoes = [bool(own) and own <= asked_words for own in (set(_folded_words(text)) for text in texts)]
    scores = scores - ECHO_WEIGHT * np.array(echoes, dtype=float)
    items = [int(number) for number in _ITEM_ASKED.findall(question)]
    labels = codes(question)
    if items or labels:
        scores = scores + CLAUSE_WEIGHT * np.array([opens_with_item(text, items, labels) for text in texts],
                                                   dtype=float)
    return [(float(score), Evidence(source=number, text=text, score=round(float(score), 4), start=start, end=end,
                                    header=header))
            for (number, start, end), text, score, header in zip(candidates, texts, scores, headers, strict=True)]


_HEADING_LINE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_LINE = re.compile(r"[^\n]+")


def section(chunk: Chunk, start: int, level: int | None = None) -> list[str]:
    """The heading path the sentence at `start` of `chunk`'s text stands under, the one rule of the answer's evidence
    and a summary's labels: the chunk's own (`Chunk.heading`, the path where it starts) as the "#" headings inside
    the chunk before the sentence change it, each at its level (a chunk that runs from "## Pancakes" into "## Sourdough
    Loaf" reads its flour under the second), then each plain heading line (`bare_heading`) before it. Such a line's
    level is unknown: one the path holds (the chunk's opening heading line) names the path down to it; any other
    stands below the path's first `level` headings, the level at which the chunker packed sections together where
    the caller knows it (a summary, `summary._split_level`), else in place of the path's last heading, but never of
    its first, the document's title. The sentences after an HTML chapter's "7.2 Page Replacement", in a chunk that
    starts under "Chapter 7 > 7.1 Demand Paging", read as "Chapter 7 > 7.2 Page Replacement" (before 2026-12-07 the
    heading itself was quoted for "Tell me about page replacement", and once no candidate, no sentence under it held
    "replacement"); those after "Page Replacement" in a chunk under "Virtual Memory" as "Virtual Memory > Page
    Replacement" (before 2026-12-07 "Page Replacement" alone here, while a summary labelled them so)."""
    path = chunk.heading.split(HEADING_JOIN) if chunk.heading else []
    for match in _HEADING_LINE.finditer(chunk.text, 0, start):
        heading_level = len(match.group(1))
        path = [*path[:heading_level - 1], match.group(2)]
    if chunk.file_type in _PLAIN_HEADINGS:
        text, base = chunk.text, path
        below = max(len(base) - 1, 1) if level is None else level
        for line in _LINE.finditer(text, 0, start):
            if line.end() < start and bare_heading(text, line.start(), line.end(), chunk.file_type):
                name = line.group().strip()
                path = base[:base.index(name) + 1] if name in base else [*base[:below], name]
    return path


# A word negated right before it: "not approved", "non-binding", "non binding".
_NEGATED = re.compile(r"(?<!\w)(?:not|non)(?:[ \t]+|-)(\w+)", re.IGNORECASE)


def affirmed(heading: str, question: str) -> str:
    """`heading` without the words it negates right before them ("not approved", "non-binding"), unless `question`
    negates the same word ("What is not reimbursed?" of the section "What is not reimbursed"). A heading's status
    says what the whole section is not: before 2026-12-07 "What is the approved hotel limit per night?" quoted the
    draft's "180 EUR per night", verified, under "Travel Policy (DRAFT - not approved)", whose "approved" counted as
    much as the board-approved policy's. Only headings: in a sentence "Dogs are not allowed on the beach" answers
    "Are dogs allowed on the beach?", and its "allowed" counts."""
    asked = {match.group(1).casefold() for match in _NEGATED.finditer(question)}
    return _NEGATED.sub(lambda match: match.group(0) if match.group(1).casefold() in asked else "not", heading)


def negates_asked(heading: str, question: str) -> bool:
    """Whether `heading` negates a word `question` asks for and does not negate itself: "Sick leave - not approved
    proposal" of "What is the approved sick leave cap?" (`affirmed` reads the rest)."""
    asked = set(_folded_words(question)) - set(_folded_words(" ".join(m.group(1) for m in _NEGATED.finditer(question))))
    return any(set(_folded_words(match.group(1))) & asked for match in _NEGATED.finditer(heading))


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
# A month's name or its abbreviation ("Mar", "Sept", "Sep."), read only capitalised, as a month is written ("march"
# and "may" are also a verb), and the question's "May" not as its first word ("May I pay by card?").
_MONTH_NAME = re.compile(r"(?<![\w-])(?:(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)[a-z]*|may)\.?(?![\w-])",
                         re.IGNORECASE)
# A date written in numbers: year first (2024-03-07, 2024/03/07), day first with dots or dashes (15.03.2024,
# 15-03-2024), or with slashes, month first unless its first number cannot be a month (03/15/2024, 15/03/2024).
_ISO_DATE = re.compile(r"(?<![\d.])\d{4}([-/.])(\d{1,2})\1\d{1,2}(?![\d.]|-\d)")
_DAY_FIRST = re.compile(r"(?<![\d.])\d{1,2}([.-])(\d{1,2})\1(\d{4})(?![\d.]|-\d)")
_SLASHED = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")


def _month_of(word: str) -> int | None:
    """The month (1-12) `word` names, in full or abbreviated ("Mar", "Sept."); None for any other word."""
    word = word.rstrip(".").casefold()
    for number, name in enumerate(_MONTHS, start=1):
        if len(word) >= 3 and name.startswith(word) and (word == name or len(word) <= 4):
            return number
    return None


def asked_months(question: str) -> set[int]:
    """The months `question` names by their name ("in March", "Mar 2024"), capitalised."""
    months = set()
    for match in _MONTH_NAME.finditer(question):
        word = match.group()
        if word[0].isupper() and not (word.casefold() == "may" and not question[:match.start()].strip()):
            month = _month_of(word)
            if month is not None:
                months.add(month)
    return months


def date_words(sentence: str, months: set[int]) -> str:
    """For each date of `sentence` in one of `months`, written in numbers or with the month's name, that month's name
    and abbreviation and the date's year, as words: "2024-03-07" reads as "march mar 2024" when March is asked.
    Before 2026-12-08 "How much did I pay Acme in March?" of a bank statement quoted, verified, the February row
    "2024-02-14 | ACME CORP INV 2024-109 | ...": no word of a numeric date is "March", and the rows were told apart
    by their cosines alone."""
    found: list[tuple[int, str]] = []
    found += [(int(m.group(2)), m.group()[:4]) for m in _ISO_DATE.finditer(sentence)]
    found += [(int(m.group(2)), m.group(3)) for m in _DAY_FIRST.finditer(sentence)]
    for m in _SLASHED.finditer(sentence):
        first, second = int(m.group(1)), int(m.group(2))
        found.append((second if first > 12 else first, m.group(3)))
    for m in _MONTH_NAME.finditer(sentence):
        if not m.group()[0].isupper():  # "payments may be late" names no May (before 2026-12-08 it did)
            continue
        month = _month_of(m.group())
        year = re.match(r"[ \t,]*(?:\d{1,2}(?:st|nd|rd|th)?[ \t,]+)?(\d{4})(?!\d)", sentence[m.end():])
        if month is not None:
            found.append((month, year.group(1) if year else ""))
    return " ".join(f"{_MONTHS[month - 1]} {_MONTHS[month - 1][:3]} {year}".strip()
                    for month, year in found if month in months)


def subject_shares(subject: str, asked_words: set[str], texts: Sequence[str]) -> np.ndarray:
    """Each text's weighted share (`weighted_shares`) of `subject`'s words that are not among `asked_words`: the
    name a follow-up's pronoun stands for ("Berlin office" for "how many people work there?"); zeros when the
    subject holds no other word."""
    extra = sorted(set(_folded_words(subject)) - asked_words)
    return weighted_shares(" ".join(extra), texts, _folded_words) if extra else np.zeros(len(texts))


def _folded_words(text: str) -> list[str]:
    """`content_words` with a plural's "s" taken off, so "eggs" is asked of "1 egg" and "cookies" of "Cookie"."""
    return [word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
            for word in content_words(text)]


def best_sentence(question: str, sources: Sequence[Hit], embedder: Embedder,
                  question_vector: NDArray[np.float32] | None = None, *, subject: str = "") -> Evidence | None:
    """The sources' sentence that best answers `question` by the module's rule, a question only when no sentence
    states anything (`asks`); None when they have none. `subject`: as `scored_sentences` reads it."""
    scored = scored_sentences(question, sources, embedder, question_vector, subject=subject)
    stated = [pair for pair in scored if not asks(pair[1].text, question)] or scored
    # One under a heading that negates a word asked for comes after the others, as a question does: `affirmed` only
    # keeps that word from counting, and before 2026-12-07 "What is the approved sick leave cap?" quoted, verified,
    # the 20 days under "Sick leave - not approved proposal" over the 30 days under "Sick leave", neither holding
    # "approved". Only the choice: the floors still judge the best score of all.
    stated = [pair for pair in stated if not negates_asked(
        " ".join(section(sources[pair[1].source - 1].chunk, pair[1].start)), question)] or stated
    return max(stated, key=lambda pair: pair[0])[1] if stated else None  # the first of equal scores


# What may close a sentence after its question mark: "Why?" or (why?).
_CLOSERS = "\"'”’»」』)]） \t"


def asks(sentence: str, question: str) -> bool:
    """Whether `sentence` is a question (its last mark "?", "？" or "؟") or repeats `question`'s words: it shares
    the words asked, so outscores the answer, and states nothing (before 2026-12-07 an FAQ's "What are the opening
    hours of the chandlery?" was the verified answer to that question, not the next line's hours)."""
    return _is_question(sentence) or _words(sentence) == _words(question)


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(_CLOSERS).endswith(("?", "？", "؟"))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


# A numbered item the question asks for ("step 3", "item 2", "no. 4"), and how a sentence opens that is that item.
_ITEM_ASKED = re.compile(r"(?<!\w)(?:step|item|point|no\.|number|#)\s*(\d{1,3})(?!\w)", re.IGNORECASE)
_ITEM_OPENING = re.compile(r"(?:step\s*)?(\d{1,3})[.):]\s", re.IGNORECASE)
# The label a line opens with before a colon, of at most three words ("Error E4: ...").
_LABEL = re.compile(r"([^:|\n]{1,40}?):\s")


def opens_with_item(sentence: str, items: Sequence[int], labels: Sequence[str]) -> bool:
    """Whether `sentence` is the numbered item or the coded record a question asks for: it opens with one of `items`'
    numbers ("3. Place a container ...", "Step 3: ..."), or its first table cell or its label before a colon holds one
    of `labels`, the question's codes (`exact_terms.codes`: "| Error E4 | Machine needs descaling |", "E4: ...").
    Before 2026-12-07 "what is step 3 of descaling" quoted step 2, which holds more of the question's words."""
    opening = _ITEM_OPENING.match(sentence)
    if opening and int(opening.group(1)) in items:
        return True
    if not labels:
        return False
    if sentence.startswith("|"):
        head = sentence[1:].split("|", 1)[0]
    else:
        label = _LABEL.match(sentence)
        head = label.group(1) if label and len(label.group(1).split()) <= 3 else ""
    return any(re.search(rf"(?<!\w){re.escape(code)}(?!\w)", head, re.IGNORECASE) for code in labels)


def _header(text: str, start: int, end: int) -> str:
    """A table row's header (its table's first row), or a data file's key's parents (`sentences.key_path`): what the
    sentence is read, scored and shown with."""
    # Every table row holds a cell bar; prose skips re-reading its chunk's lines for each of its sentences.
    span = table_header(text, start) if "|" in text[start:end] else None
    return one_line(text[span[0]:span[1]]) if span else key_path(text, start)


# How a row's header follows the row: the quote checker reads this note back (`citations`).
ROW_NOTE = "(a row under “{}”)"


def header_note(header: str) -> str:
    """How the front ends show a table row's header after the row (`ROW_NOTE`), or a key's parents after the key:
    "(under database:)". A header holds a cell bar, a key path none."""
    return ROW_NOTE.format(header) if "|" in header else f"(under {header})"


def weighted_shares(question: str, texts: Sequence[str],
                    words: Callable[[str], list[str]] = content_words) -> np.ndarray:
    """Each text's share of the question's content words (as `words` reads them), a word weighted by
    log((n + 1) / (df + 1)) + 1 where df of the n texts hold it: the words every candidate holds tell the
    candidates apart least."""
    asked = sorted(set(words(question)))
    if not asked or not texts:
        return np.zeros(len(texts))
    # A source's passage stands beside each of its sentences: its words are read once.
    word_sets = {text: set(words(text)) for text in dict.fromkeys(texts)}
    held = [word_sets[text] for text in texts]
    present = np.array([[word in text_words for word in asked] for text_words in held], dtype=float)
    weights = np.log((len(texts) + 1) / (present.sum(axis=0) + 1)) + 1.0
    return np.asarray(present @ weights / weights.sum())


def extracted_answer(question: str, evidence: Evidence | None, sources: list[Hit]) -> Answer:
    """`answer_mode = "extract"`'s answer: the evidence quoted and cited, its quote verified where it stands.

    Built here rather than parsed back from its text: a sentence of a paper often carries the paper's own
    reference marks ("... 15-45% [1] ."), which a parse would take for citations of localrag's sources.
    Without evidence (the sources hold no sentence to quote) it is a refusal that says so (`no_sentence`).
    """
    if evidence is None:
        return Answer(question, NO_ANSWER_TEXT, sources=list(sources), refused=True, model=EXTRACT_MODEL,
                      refusal=no_sentence(len(sources)))
    text = extracted_text(evidence)
    quote = Quote(evidence.text, evidence.source, QuoteStatus.VERIFIED, 1.0, evidence.start, evidence.end)
    return Answer(question, text, sources=list(sources), cited=[evidence.source], quotes=[quote], model=EXTRACT_MODEL,
                  raw_text=text, evidence=evidence)


def no_sentence(passages: int) -> str:
    """Why an extracted answer is refused when its `passages` hold no candidate sentence. Before 2026-12-07 it said
    "could not find anything" while listing a title-only note ("# Idea 94: Morning Raga") as a source, not cited, and
    the API's answer said `"refused": false` with no reason."""
    closest = "the closest passage holds no" if passages == 1 else f"none of the {passages} closest passages holds a"
    return (f"{closest} sentence to quote, only headings, table labels or lines of under {MIN_WORDS} words "
            f"(answer_mode = \"generate\" lets the model read them whole)")


def extracted_text(evidence: Evidence) -> str:
    """The evidence as an answer's text: the sentence in quotation marks, then its source's citation, then a table
    row's header. Straight marks unless the sentence holds one."""
    if '"' in evidence.text:
        text = f"\u201c{evidence.text}\u201d [{evidence.source}]"
    else:
        text = f'"{evidence.text}" [{evidence.source}]'
    return f"{text} {header_note(evidence.header)}" if evidence.header else text


def prompt_sentences(question: str, sources: Sequence[Hit], embedder: Embedder, n: int,
                     question_vector: NDArray[np.float32] | None = None, *,
                     subject: str = "") -> list[tuple[Hit, list[Evidence]]]:
    """With `prompt_sentences = n`: each source that holds one of the `n` best-scored sentences, in the sources'
    order, with those sentences in reading order. `subject`: as `scored_sentences` reads it."""
    scored = scored_sentences(question, sources, embedder, question_vector, subject=subject)
    kept = sorted(sorted(range(len(scored)), key=lambda i: -scored[i][0])[:n])
    by_source: dict[int, list[Evidence]] = {}
    for i in kept:
        by_source.setdefault(scored[i][1].source, []).append(scored[i][1])
    return [(sources[number - 1], chosen) for number, chosen in sorted(by_source.items())]


def shown_text(chosen: Sequence[Evidence]) -> str:
    """A source's chosen sentences as the prompt shows them: joined by " … ", a table row with its header, each
    defused as a line of its own (`prompt.defuse`): joined, a "SYSTEM: ..." line of the document no longer opened
    one, and went in as it stood."""
    return " … ".join(defuse(f"{e.text} {header_note(e.header)}" if e.header else e.text) for e in chosen)


def prompt_texts(question: str, sources: Sequence[Hit], embedder: Embedder, n: int) -> list[tuple[Hit, str]]:
    """The sources as the prompt shows them with `prompt_sentences = n` (`prompt_sentences`, `shown_text`)."""
    return [(hit, shown_text(chosen)) for hit, chosen in prompt_sentences(question, sources, embedder, n)]
