"""The search operators a query may hold, one rule for `search`, `ask`, the API, MCP and the chat app
(`retrieve.Retriever.search` applies it):

- `-word` leaves out every passage holding the word (in its heading or text, in any case, as a whole word:
  `-draft` leaves out "Travel policy (DRAFT)" and `newsletter-draft`, not "drafted"), and the word is not searched
  for. Read as a word before 2026-12-07, `hotel cap -draft` ranked the draft policy first and a newsletter draft
  with no hotel in it second. A dash glued to a word (`e-mail`, `COVID-19`), before a number (`-5 degrees`) or
  before fewer than 3 letters (a command's flag: `grep -i`, `tar -x`, `ls -la`) is text: `grep -i` must not leave out
  every passage holding "I".
- A "quoted phrase" (straight or curly quotes, two words or more) puts the passages holding those words in that
  order first; its words are searched for as any other. `"club office"` ranked a file without the phrase above
  the only one holding it. The full-text index holds no word positions (store_indexes.build_fts_index), so the
  candidates' text is read instead. Whatever is quoted is text, a single word included: `"-v"` and `"cap -draft"`
  leave nothing out (the quotes are taken off after the operators are read). A quote right after a digit is an
  inch or second mark, not a quote: `a 5" by 7" frame` holds no phrase.
- `word*` (3 letters or more before the star) also searches for the words the index holds that start so (those
  of the passages nearest the query holding one): `regat*` found nothing by its words before.

Anything else, `NOT`, `OR`, `AND` and brackets included, is read as words, as it always was: a question asks
"why did it NOT work" and means the word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from localrag.fts_terms import DASHES, folded

# A phrase between straight or curly double quotes. A quote right after a digit opens none: it is an inch or second
# mark ('a 5" by 7" frame').
_PHRASE = re.compile(r'(?<!\d)"([^"]*)"|(?<!\d)\u201c([^\u201d]*)\u201d')
# A word left out: a dash at a word's start, then a letter and 2 more (a dash before a digit is a minus: "-5 degrees";
# before one or two letters a command's flag: "grep -i", "ls -la").
_EXCLUDED = re.compile(r"(?<!\S)-([^\W\d_][\w'-]{2,})(?!\S)")
# A word's start and a star. Shorter stems match too much to be searched for.
_PREFIX = re.compile(r"(?<!\S)([^\W_][\w'-]{2,})\*(?!\S)")
# The most words a prefix is searched for by: its commonest among the passages read.
PREFIX_WORDS = 8


@dataclass(frozen=True)
class QuerySyntax:
    """A query with its operators read: `text` is what the retrieval legs search for (the query without its left-out
    words, quotes and stars), `excluded` the words whose passages are left out, `phrases` those put first, `prefixes`
    the word starts searched for by the index's words, each lower-cased."""

    text: str
    excluded: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    @property
    def plain(self) -> bool:
        """Whether the query holds no operator."""
        return not (self.excluded or self.phrases or self.prefixes)

    def note(self) -> str:
        """What the operators did, in a line for a user ("" for a plain query)."""
        said = []
        if self.excluded:
            said.append(f"left out passages holding {_listed(self.excluded)}")
        if self.phrases:
            quoted = ", ".join(f'"{phrase}"' for phrase in self.phrases)
            said.append(f"put passages holding {quoted} first")
        if self.prefixes:
            said.append(f"searched for words starting {_listed(self.prefixes)}")
        return "; ".join(said)

    def holds_phrases(self, text: str) -> int:
        """How many of the phrases `text` holds (in any case, spacing and line breaks aside)."""
        plain = _plain(text)
        return sum(1 for phrase in self.phrases if _word_pattern(_plain(phrase)).search(plain))


def _listed(words: tuple[str, ...]) -> str:
    return ", ".join(f"'{word}'" for word in words)


def _plain(text: str) -> str:
    return " ".join(folded(text).lower().split())


def _word_pattern(words: str) -> re.Pattern[str]:
    spaced = r"\s+".join(re.escape(word) for word in words.split())
    return re.compile(rf"(?<!\w){spaced}(?!\w)")


def parse(query: str) -> QuerySyntax:
    """`query`'s operators (the module's rules) and the text left to search for."""
    phrases: list[str] = []
    excluded: list[str] = []
    prefixes: list[str] = []

    def unquoted(text: str) -> str:
        # Only text outside quotes holds -word and word*: what is quoted is meant as written.
        excluded.extend(match.group(1).lower() for match in _EXCLUDED.finditer(text))
        text = _EXCLUDED.sub(" ", text)
        found = [match.group(1).lower() for match in _PREFIX.finditer(text)]
        prefixes.extend(found)
        return _PREFIX.sub(lambda match: match.group(1), text) if found else text

    parts = []
    start = 0
    for match in _PHRASE.finditer(query):
        parts.append(unquoted(query[start:match.start()]))
        words = " ".join((match.group(1) if match.group(1) is not None else match.group(2)).split())
        if len(words.split()) > 1:
            phrases.append(words.lower())
        parts.append(f" {words} ")
        start = match.end()
    parts.append(unquoted(query[start:]))
    if not (phrases or excluded or prefixes):
        return QuerySyntax(query)
    return QuerySyntax(" ".join("".join(parts).split()), tuple(dict.fromkeys(excluded)), tuple(dict.fromkeys(phrases)),
                       tuple(dict.fromkeys(prefixes)))


def word_regex(word: str, *, prefix: bool = False) -> str:
    """A regular expression (Rust's, as LanceDB's `regexp_like` reads it) matching `word` whole, in any case, or a
    word starting with it (`prefix`), in the full-text column, which holds the text folded (`fts_terms.folded`)."""
    # The words hold letters, digits, "'" and "-" only (`_EXCLUDED`, `_PREFIX`): none is a regex's operator but "-",
    # which stands for any hyphen or dash (`fts_terms.DASHES`): an index built before 2026-12-08 holds a PDF's
    # "IL\u20106" as written, which `-IL-6` did not leave out.
    end = r"\w*" if prefix else r"\b"
    return rf"(?i)\b{folded(word).replace('-', f'[{DASHES}]')}{end}"


def prefix_words(prefix: str, texts: list[str]) -> list[str]:
    """The words of `texts` starting with `prefix` (in any case), the commonest first, `PREFIX_WORDS` at most."""
    pattern = re.compile(rf"(?<!\w){re.escape(folded(prefix))}[\w'-]*", re.IGNORECASE)
    counts: dict[str, int] = {}
    for text in texts:
        for match in pattern.finditer(folded(text)):
            word = match.group().lower().rstrip("'-")
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda word: -counts[word])[:PREFIX_WORDS]
