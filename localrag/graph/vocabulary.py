"""The relation vocabulary of a built graph: its relations, the phrasings that map onto each, and the
noun phrases those phrasings and a copula introduce.

A small model names relations loosely ("was designed by", "designer"), so extraction maps every
relation onto a few snake_case names, each with synonyms (`RelationVocabulary`), and the planners then
tell a graph's few relations apart. The default vocabulary suits general documents; `load_vocabulary`
reads a user's own (`graph build --relations FILE`). The word rules here (a phrasing found in a passage,
the head of the noun phrase after it) are the ones the "focused" extraction (extract.py, wording.py,
focused.py) reads objects and relations with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from localrag.errors import LocalRagError, unreadable
from localrag.graph.triples import normalise_relation

DEFAULT_RELATIONS: dict[str, tuple[str, ...]] = {
    "is_a": ("is", "is a", "is an", "was", "type", "type of", "kind of", "instance of", "category"),
    "part_of": ("part of", "belongs to", "member of", "component of", "section of"),
    "has_part": ("has", "have", "contains", "includes", "consists of", "comprises", "has part"),
    "located_in": ("located in", "in", "is in", "lies in", "stands on", "situated in", "based in", "found in",
                   "located on", "located at", "near", "location", "place"),
    "created_by": ("built by", "made by", "designed by", "written by", "invented by", "founded by",
                   "created by", "developed by", "directed by", "composed by", "painted by", "engineer", "builder",
                   "author"),
    "used_for": ("used for", "used to", "for", "purpose", "serves"),
    "requires": ("needs", "requires", "must have", "depends on", "need"),
    "causes": ("causes", "leads to", "results in", "produces", "prevents"),
    "date": ("date", "year", "when", "built in", "lit on", "first lit", "opened", "founded in", "started",
             "began", "retired in", "since"),
    "role": ("keeper", "principal keeper", "works as", "job", "role", "position", "employed as"),
    "replaced_by": ("replaced by", "succeeded by", "followed by", "superseded by"),
    "amount": ("number", "count", "height", "size", "length", "weight", "cost", "costs", "measures", "tall"),
}
FALLBACK_RELATION = "related_to"


@dataclass
class RelationVocabulary:
    """The relations a built graph may use, each with the phrasings that map onto it.

    `canonical` maps a snake_case relation to its synonyms (any case or spacing); `fallback` is what
    an unmatched relation becomes, or None to drop the triple.
    """

    canonical: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(DEFAULT_RELATIONS))
    fallback: str | None = FALLBACK_RELATION

    def __post_init__(self) -> None:
        self._exact: dict[str, str] = {}
        for name, synonyms in self.canonical.items():
            rel = normalise_relation(name)
            self._exact[rel] = rel
            for synonym in synonyms:
                self._exact.setdefault(normalise_relation(synonym), rel)
        # Longest phrase first, so "built_in" (a date) beats "in" (a place) inside "was_built_in".
        self._phrases = sorted(self._exact, key=lambda p: (-len(p.split("_")), -len(p), p))

    @property
    def names(self) -> list[str]:
        out = sorted({normalise_relation(n) for n in self.canonical})
        return [*out, self.fallback] if self.fallback and self.fallback not in out else out

    def map(self, relation: str) -> str | None:
        """The vocabulary relation for a model's phrasing, the fallback, or None (drop)."""
        rel = normalise_relation(relation)
        if not rel:
            return None
        if rel in self._exact:
            return self._exact[rel]
        found = self.find(rel.split("_"))
        return found if found is not None else self.fallback

    def find(self, words: Sequence[str]) -> str | None:
        """The relation of the longest phrasing that occurs in `words` (lower case), or None.

        Words are compared without a plural or third-person "s", so "a 26-year-old" is worded by
        "years old" and "they play for" by "plays for".
        """
        phrase = self.find_phrase(words)
        return self._exact[phrase] if phrase is not None else None

    def find_phrase(self, words: Sequence[str]) -> str | None:
        """The longest phrasing (snake_case) that occurs in `words`, as `find` matches them, or None."""
        stems = [_stem(w) for w in words]
        for phrase in self._phrases:
            if _contains(stems, [_stem(w) for w in phrase.split("_")]):
                return phrase
        return None

    def phrase_length_at(self, words: Sequence[str], at: int) -> int:
        """How many of `words` from `at` on the longest phrasing starting there takes (0: none starts there)."""
        stems = [_stem(w) for w in words[at:]]
        for phrase in self._phrases:  # longest first
            parts = [_stem(w) for w in phrase.split("_")]
            if stems[: len(parts)] == parts:
                return len(parts)
        return 0

    def worded_by(self, phrase: str) -> list[str]:
        """The relations a phrasing found in a passage may mean: its own, then those with a phrasing
        that holds it ("plays for" is plays_in_club's, and part of plays_for_country's name)."""
        parts = [_stem(w) for w in phrase.split("_")]
        holding = (self._exact[p] for p in self._phrases if _contains([_stem(w) for w in p.split("_")], parts))
        return list(dict.fromkeys([self._exact[phrase], *holding]))

    def apposed_nouns(self, text: str, entity: str) -> list[str]:
        """The heads of the indefinite noun phrases set off in apposition right after `entity` ("Ana Ruiz, a chemist
        with ...", "Report on Ana Ruiz (Lisbon, 41): an engineer of note"): they say what the entity is, though no
        copula introduces them. Only the chunk's own entity's: an apposition after another name describes that one.
        """
        relation_words = {_stem(w) for phrase in self._phrases for w in phrase.split("_")}
        pattern = re.compile(r"(?<!\w)" + re.escape(entity) + _APPOSITION.format(n=MAX_NOUN_WORDS), re.IGNORECASE)
        found = (_head_noun(m.group(1).split(), relation_words) for m in pattern.finditer(text))
        return list(dict.fromkeys(noun for noun in found if noun))

    def objects_named_after(self, text: str, introducers: Sequence[str] = ()) -> list[str]:
        """Lower-case words a phrasing of this vocabulary introduces ("plays as a forward": forward).

        Capitalised runs are names already (`focused.mentions`); a common noun after a phrasing that
        relates things is the object the phrasing names, though written in lower case ("a
        26-year-old forward": the age's phrasing names the noun it qualifies, a fact of the same subject).
        `introducers` are more phrases that name the word after them (`PREDICATE_NOUN`: "is a forward").
        """
        # A word of a phrasing names a relation, not an object ("wears number 10": the object is 10).
        relation_words = {_stem(w) for phrase in self._phrases for w in phrase.split("_")}
        found: dict[str, tuple[int, int]] = {}  # word -> (clause, where it first follows a phrasing)
        # A noun phrase ends at punctuation, so its head is looked for clause by clause.
        for clause, part in enumerate(re.split(r"[,.;:!?()\[\]]", text)):
            words = re.findall(r"[A-Za-z0-9]+", part)
            stems = [_stem(w.lower()) for w in words]
            for phrase in [*self._phrases, *(normalise_relation(p) for p in introducers)]:
                parts = [_stem(w) for w in phrase.split("_")]
                for i in range(len(stems) - len(parts) + 1):
                    if stems[i : i + len(parts)] != parts:
                        continue
                    at = i + len(parts)
                    while at < len(words) and words[at].lower() in ARTICLES:
                        at += 1
                    noun = _head_noun(words[at : at + MAX_NOUN_WORDS], relation_words)
                    if noun:
                        found[noun] = min(found.get(noun, (clause, at)), (clause, at))
        return sorted(found, key=found.__getitem__)


ARTICLES = frozenset("a an the".split())
# A name, its bracketed asides, then a comma or a colon and an indefinite article: an apposition says what it is.
_APPOSITION = r"(?:\s*\([^()]*\))*\s*[,:]\s+(?:a|an)\s+((?:[A-Za-z]+\s*){{1,{n}}})"
# A noun after a copula and an article says what the subject is ("X is a forward"): an object for the
# relation matcher (localrag/graph/relate.py) to name, which no vocabulary phrasing introduces.
# "as a" does the same for what the subject serves as ("operates as a goalkeeper", "selected as a forward").
# "become a" likewise for what the subject has come to be ("has become a regular starter").
PREDICATE_NOUN = ("is a", "is an", "was a", "was an", "as a", "as an", "become a", "become an", "became a",
                  "became an", "becomes a", "becomes an")
# Auxiliaries and adverbs that may stand before a predicate noun's introducer in the joining words ("has become a").
AUXILIARIES = frozenset("has have had will would now already still also just since recently".split())
MAX_NOUN_WORDS = 3  # a predicate noun with at most two qualifiers before it
# How a bare number set off beside a name is read: an age, so worded as the age is.
AGE_WORDS = ("aged",)
NOT_OBJECTS = frozenset(
    "a an the is are was were be been has have had he she it they his her its their this that these those "
    "who which where when what and or but as at in on for of from with by to".split()
)


def _head_noun(words: Sequence[str], relation_words: set[str]) -> str:
    """The head of the lower-case noun phrase `words` opens, or "": its last word before a function word, a name, a
    number or a phrasing's word, not counting participles after it ("an established midfielder in": midfielder;
    "a forward playing for": forward). English puts a noun phrase's head last, after its qualifiers."""
    phrase: list[str] = []
    for word in words:
        if not (word.isalpha() and word.islower()) or word in NOT_OBJECTS or _stem(word) in relation_words:
            break
        phrase.append(word)
    while len(phrase) > 1 and _participle(phrase[-1]):
        phrase.pop()
    return phrase[-1] if phrase else ""


def _participle(word: str) -> bool:
    return len(word) > 4 and (word.endswith("ing") or (word.endswith("ed") and not word.endswith("eed")))


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _contains(words: Sequence[str], part: Sequence[str]) -> bool:
    size = len(part)
    return any(list(words[i : i + size]) == list(part) for i in range(len(words) - size + 1))


class VocabularyError(LocalRagError):
    title = "Bad relation vocabulary"


def load_vocabulary(path: Path, *, fallback: str | None = FALLBACK_RELATION) -> RelationVocabulary:
    """A vocabulary from a text file, one relation a line: `relation: synonym, synonym, ...`.

    Blank lines and lines starting with # are skipped; a line without a colon is a relation with
    no synonyms. The file replaces the default vocabulary, which is how a user with a known schema
    keeps the graph to their own relation names.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why, fix = unreadable(exc, "a UTF-8 text file, one relation a line")
        raise VocabularyError(f"{path}: cannot read the relation vocabulary ({why})", fix) from exc
    canonical: dict[str, tuple[str, ...]] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, synonyms = line.partition(":")
        relation = normalise_relation(name)
        if not relation:
            raise VocabularyError(f"{path}:{number}: no relation name before the colon", "write `relation: synonyms`")
        canonical[relation] = tuple(s.strip() for s in synonyms.split(",") if s.strip())
    if not canonical:
        raise VocabularyError(f"{path}: no relations in the file", "write one `relation: synonym, ...` per line")
    return RelationVocabulary(canonical, fallback)
