"""The text the BM25 leg indexes and searches for, made so that LanceDB's tokenizer finds words in any script.

LanceDB's `simple` tokenizer splits at spaces and punctuation, lower-cases and folds Latin accents. Three
kinds of text it cannot match are rewritten here, the same way in a chunk's `fts_text` (`indexed_text`)
and in a query (`query_text`), so both sides meet:

- Chinese, Japanese and Korean put no space between words (Korean none between a word and its particle),
  so a whole clause was one token, found only by the whole clause (and left out past the tokenizer's
  length limit). Each such run is written as its overlapping character bigrams, as Lucene's CJK analyzer
  does: "潜伏期" is "潜伏 伏期", so a question's "潜伏期是多少天" shares two terms with the passage. The
  index also holds each character alone, which a one-character query ("猫") needs; a longer query asks
  for bigrams only, which are far more specific than single characters.
- Marks that the tokenizer's folding leaves: Greek accents (`Αθήνα` against a typed `Αθηνα`), the dot of
  Turkish `İ` (lower-cased it becomes `i` plus a combining dot, so `istanbul` missed `İstanbul`), Arabic
  harakat and tatweel, Hebrew points. They are dropped; Cyrillic `й` and the kana voicing marks are letters
  of their own and stay. Greek's final `ς` is read as `σ`, which the tokenizer makes of a capital `Σ`, and Russian
  `ё` as `е`, which Russian prints in its place.
- Compatibility forms are folded to their plain ones (NFKC): half-width katakana (`ﾊﾟﾝ` is `パン`), full-width
  letters and digits (`ＡＢＣ１２３`), ligatures; a decomposed (NFD) text, as macOS writes file names, is
  composed, so it meets its composed twin.

And two kinds of word it splits that a search means whole. An identifier joined by underscores (`parse_config`,
`HTTP_TIMEOUT`) was only its parts, so a question naming it matched any text holding them apart (`ACME_CONFIG` and
a `[http] timeout` line ranked above `HTTP_TIMEOUT = 30`). Its joined form (`parseconfig`) is added beside it on
both sides, which is also what the tokenizer makes of `parseConfig` and `ParseConfig`: the three spellings meet.
A number joined by dots, a contract's clause, gets one too (`4.2` as `4dot2`): split, "clause 4.2" matched any
text holding a 4 and a 2.

And German umlauts typed without them. The tokenizer folds "Kündigung" to "kundigung", so a "Kundigung" typed
without the dots finds it, but one typed as Swiss and non-German keyboards do, "Kuendigung", did not, nor did
"Mueller" find "Müller" or "Müller" find "Mueller". Each word with ä, ö or ü gets its spelled-out form
("kuendigung") beside it on both sides: the index holds it beside "Kündigung", a query for "Müller" asks for it
too, and a written "Mueller" is that form already. Only what holds an umlaut gains a term: ASCII text is untouched.

Other ASCII text is returned as it is, so English prose keeps its BM25 terms, with a joined one added for each
such identifier or number.
"""

from __future__ import annotations

import re
import unicodedata

# Han (with its extensions and the iteration marks 々 〆 〇), kana (full and half width, with ー) and Hangul.
_CJK = re.compile(
    "[\u3005-\u3007\u3041-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\U00020000-\U0003134f]+"
)
# After NFD: combining accents on a Latin or Greek letter (Cyrillic bases keep theirs: й is not и).
_ACCENTS = re.compile("(?<=[A-Za-z\u0370-\u03ff\u1f00-\u1fff])[\u0300-\u036f]+")
# Arabic harakat, superscript alef and tatweel; Hebrew points and cantillation (not maqaf or sof pasuq).
_POINTS = re.compile("[\u064b-\u065f\u0670\u0640\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]")


# The tokenizer lower-cases Σ to σ, never to the final ς: "ΚΑΤΟΙΚΟΥΣ" did not find "κατοίκους". Russian writes ё
# as е as often as not (in print almost always): "отчет" did not find "Отчёт".
_LETTER_FOLDS = str.maketrans({"ς": "σ", "ё": "е", "Ё": "Е"})


# Characters that print as another one does, written as that one: curly quotes and primes as straight ones, the
# hyphens and minus of publishers' PDFs (U+2010, U+2011, U+2212) and the dashes as "-", a no-break space as a space.
# NFKC leaves them as they are: a question's "IL-6" did not match a paper's "IL\u20106" in `-word`, "phrases" or a
# code's boost (before 2026-12-08), while the quote checker (`answer.citations`) read them alike.
# The invisible characters `safe_text.plain_text` drops go too: a source indexed before it, or a quote, holds them.
# A joiner goes after any letter, since a quote copied without a Persian or Indic joiner still quotes its source
# (plain_text keeps those, for display).
SAME_CHARACTERS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u200b": "", "\u00ad": "",
    "\u200c": "", "\u200d": "", "\u2060": "", "\ufeff": "",
}
_SAME = str.maketrans(SAME_CHARACTERS)
# Every character written as "-" (`SAME_CHARACTERS`), for a pattern over text folded before they were (an index
# built before 2026-12-08 holds them as written).
DASHES = "".join(["-", *(ch for ch, plain in SAME_CHARACTERS.items() if plain == "-")])


def same_characters(text: str) -> str:
    """`text` with each character written as the one it prints as (`SAME_CHARACTERS`) and its compatibility forms
    folded (NFKC: "CO\u2082" is "CO2"): one spelling of a term, however a PDF or a keyboard wrote it, for every
    comparison of words and quotes (`folded`, `exact_terms`, `answer.citations`)."""
    return unicodedata.normalize("NFKC", text.translate(_SAME))


def folded(text: str) -> str:
    """`text` with the marks the BM25 leg drops dropped and its characters written one way (`same_characters`),
    as `indexed_text` and `query_text` fold them: what another search by words (saved conversations) compares, so
    it finds what `search` does."""
    text = _ACCENTS.sub("", unicodedata.normalize("NFKD", same_characters(text)))
    return unicodedata.normalize("NFC", _POINTS.sub("", text)).translate(_LETTER_FOLDS)


# Letters or digits joined by underscores: a snake_case or SCREAMING_CASE identifier (`__init__` has no joined form).
_JOINED = re.compile(r"[^\W_]+(?:_+[^\W_]+)+")
# Numbers joined by dots: a clause (`4.2`, `9.3.1`), a version, a decimal. Split, "clause 4.2" matched any text
# holding a 4 and a 2 (a contract's clause 4.2 ranked 12th, under clauses citing "2"); joined as `4dot2`, a term no
# word is, it meets its own number.
_NUMBERED = re.compile(r"(?<![\d.])\d+(?:\.\d+)+(?![\d])")


# A word with an umlaut (after NFC: a macOS file name's decomposed "u" and diaeresis is composed first).
_UMLAUTED = re.compile(r"\w*[äöüÄÖÜ]\w*")
_SPELLED_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _spelled_out(text: str) -> list[str]:
    """Each word with an umlaut as it is typed without one: "Kündigung" as "kuendigung"."""
    return [match.group().lower().translate(_SPELLED_OUT)
            for match in _UMLAUTED.finditer(unicodedata.normalize("NFC", text))]


def _with_joined(text: str, written: str = "") -> str:
    """`text` with the joined form of each identifier and dotted number, and the spelled-out form of each word of
    `written` (the text before folding) with an umlaut."""
    joined = [match.group().replace("_", "") for match in _JOINED.finditer(text)]
    joined += [match.group().replace(".", "dot") for match in _NUMBERED.finditer(text)]
    joined += _spelled_out(written)
    return f"{text} {' '.join(joined)}" if joined else text


# Superscript digits: a footnote's mark glued to its word ("the surveyor¹"). Folded as they stand they joined the word
# (`surveyor1`), which no search for "surveyor" found; apart, they are a term of their own.
_SUPERSCRIPTS = re.compile("[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+")


def _footnotes_apart(text: str) -> str:
    return _SUPERSCRIPTS.sub(lambda match: f" {match.group()}", text)


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)] or [run]


def indexed_text(text: str) -> str:
    """`text` as the full-text index should hold it: each CJK run as its characters and bigrams, each identifier
    also joined."""
    if text.isascii():
        return _with_joined(text)

    def terms(match: re.Match[str]) -> str:
        run = match.group()
        return f" {' '.join([*_bigrams(run), *run]) if len(run) > 1 else run} "

    return _with_joined(_CJK.sub(terms, folded(_footnotes_apart(text))), text)


def query_text(query: str) -> str:
    """`query` as the full-text index is searched for it: each CJK run as its bigrams, each identifier also
    joined."""
    if query.isascii():
        return _with_joined(query)
    text = folded(_footnotes_apart(query))
    return _with_joined(_CJK.sub(lambda match: f" {' '.join(_bigrams(match.group()))} ", text), query)
