"""Which vocabulary relation a passage's words state between two names, for the focused extraction.

The focused method (localrag/graph/extract.py, localrag/graph/focused.py) takes the model's subject for an
object, then keeps the relation the passage itself words between them: a phrasing of the vocabulary found
verbatim (`worded_relation`), or with a `RelationMatcher` (localrag/graph/relate.py) the relation the
joining words mean; a place written inside another name's noun phrase is where that name stands
(`located_triple`). Apart from the prompting and the build, as these are word rules tested on their own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from localrag.graph.focused import apposed_number, linking_words, placed_name, titles
from localrag.graph.relate import RelationMatcher
from localrag.graph.vocabulary import (
    AGE_WORDS,
    ARTICLES,
    AUXILIARIES,
    MAX_NOUN_WORDS,
    NOT_OBJECTS,
    PREDICATE_NOUN,
    RelationVocabulary,
)

# How a place inside another name's noun phrase relates to that name (located_triple).
LOCATED_WORDS = ("located", "in")


def located_triple(
    passage: str,
    place: str,
    others: Sequence[str],
    vocabulary: RelationVocabulary,
    matcher: RelationMatcher | None,
    topic: str = "",
) -> dict[str, str] | None:
    """The triple a place written inside another name's noun phrase states, or None (`focused.placed_name`).

    "Spain club Real Madrid CF" and "Hull City FC in the England first division" say where the club is, whatever
    the model named as the place's subject: the relation is the one the vocabulary words as "located in", when the
    `matcher` scores it best for the place's kind and over its threshold (a name that is no place scores another
    relation higher, or none high enough).
    """
    if place[:1].isdigit() or place.islower():
        return None
    name = placed_name(passage, place, others, topic)
    if not name:
        return None
    phrase = vocabulary.find_phrase(list(LOCATED_WORDS))
    verbatim = vocabulary.worded_by(phrase) if phrase is not None else []
    relation = verbatim[0] if verbatim else None
    # A name of another kind scores another relation higher ("located in" Hull City FC is plays_in_club's kind).
    if matcher is not None and relation is not None and matcher.match(list(LOCATED_WORDS), place, verbatim) != relation:
        return None
    return {"subject": name, "relation": relation, "object": place} if relation is not None else None


def worded_relation(
    passage: str,
    subject: str,
    obj: str,
    vocabulary: RelationVocabulary,
    matcher: RelationMatcher | None = None,
    others: Sequence[str] = (),
) -> str | None:
    """The vocabulary relation the passage words between `subject` and `obj` in one sentence, or None.

    Without a `matcher`, only a phrasing of the vocabulary found verbatim; with one, the relation the
    joining words after the chunk's `others` names mean and the object's kind fit best
    (localrag/graph/relate.py). A number set off beside the subject by punctuation alone is read as
    worded by `AGE_WORDS` (`focused.apposed_number`); a common noun in apposition to the subject (after an
    article or a name's possessive), its title, or a predicate noun with its qualifiers ("has become a regular
    forward"), as joined by "is a".
    """
    between, beside = linking_words(passage, subject, obj)
    number = obj[:1].isdigit()
    if number and apposed_number(passage, subject, obj):
        # A bare number set off beside a name is its age ("Ana Ruiz, 41,"), whatever words stand around it.
        between, beside = list(AGE_WORDS), []
    if matcher is not None:
        joining = between
        between = after_other_names(between, others, vocabulary)
        noun = obj.islower() and not number
        apposed = _introduces_noun(joining) or _possessed(joining, others)
        if noun and (_predicates(joining) or (not between and (apposed or titles(passage, subject, obj)))):
            # A common noun after its subject with only an article and its own qualifiers between is an
            # apposition ("Ana Ruiz, a 30-year-old engineer") or a predicate whose words went with the age
            # ("Ana Ruiz is a 30-year-old engineer"), and one right before it is its title ("the engineer Ana
            # Ruiz"): it says what the subject is, so it is scored as "is a".
            between = PREDICATE_NOUN[0].split()
    phrase = vocabulary.find_phrase(between)
    agent = _agent_phrasing(between, vocabulary)
    if agent is not None:
        between, phrase = agent
    if phrase is None and number:  # the words after a number qualify it: "26 years old"
        phrase = vocabulary.find_phrase(beside)
    verbatim = vocabulary.worded_by(phrase) if phrase is not None else []
    if matcher is None:
        return verbatim[0] if verbatim else None
    return matcher.match([*between, *beside] if number else between, obj, verbatim)


def _agent_phrasing(words: Sequence[str], vocabulary: RelationVocabulary) -> tuple[list[str], str | None] | None:
    """For joining words that end with "by", the object is a passive verb's agent and the phrasing nearest it
    decides: the words from the last phrasing of the vocabulary on, with that phrasing where it is the one ending at
    "by" ("is a film made by": made by), else with none ("is a film directed by": "film directed by", no phrasing).
    None for other words, or none of the vocabulary's. Before, the longest phrasing anywhere decided, and "Heat is a
    film directed by Michael Mann" gave `Heat is_a Michael Mann` from its "is a"."""
    if len(words) < 2 or words[-1] != "by":
        return None
    last = max(((at, at + n) for at in range(len(words)) if (n := vocabulary.phrase_length_at(words, at))),
               key=lambda span: (span[1], -span[0]), default=None)
    if last is None:
        return None
    start, end = last
    if end == len(words):
        return list(words[start:]), vocabulary.find_phrase(words[start:])
    return list(words[end:]), None


def _introduces_noun(words: Sequence[str]) -> bool:
    """Whether joining words start as an apposition ("a", "the") or a predicate noun ("is a") does."""
    return bool(words) and (words[0] in ARTICLES or " ".join(words[:2]) in PREDICATE_NOUN)


def _possessed(words: Sequence[str], others: Sequence[str]) -> bool:
    """Whether joining words open with another name's possessive, which stands before a noun as an article does
    ("Ana Ruiz, Spain's 30-year-old engineer": the engineer is what Ana Ruiz is)."""
    for name in others:
        target = re.findall(r"[a-z0-9]+", name.lower())
        if target and not name.islower() and list(words[: len(target) + 1]) == [*target, "s"]:
            return True
    return False


def _phrased_noun(before: Sequence[str], vocabulary: RelationVocabulary) -> bool:
    """Whether the words `before` a common noun end with a phrasing of the vocabulary and then only articles."""
    end = len(before)
    while end and before[end - 1] in ARTICLES:
        end -= 1
    return any(vocabulary.phrase_length_at(before, at) == end - at for at in range(end))


def _predicates(words: Sequence[str]) -> bool:
    """Whether joining words are a predicate noun's introducer and only the noun's qualifiers: auxiliaries, "is a" or
    "become a", then words that are no function words ("has become a regular", "is an established")."""
    at = 0
    while at < len(words) and words[at] in AUXILIARIES:
        at += 1
    if " ".join(words[at : at + 2]) not in PREDICATE_NOUN:
        return False
    qualifiers = words[at + 2 :]
    return len(qualifiers) < MAX_NOUN_WORDS and not any(w in NOT_OBJECTS for w in qualifiers)


def after_other_names(words: Sequence[str], others: Sequence[str], vocabulary: RelationVocabulary) -> list[str]:
    """The joining words after the last of the chunk's other names among them, with a number's own phrasing.

    A phrasing before another name relates the subject to that name, not to the object: in "plays as
    a forward for Spain" Spain is joined by "for"; in "is a 28 years old midfielder" by nothing.
    A common noun cuts only after a phrasing of the vocabulary: otherwise no phrasing is there to be
    misread, and the cut would leave a bare preposition or nothing ("operates as a midfielder for
    Italy": for; "Selected by Brazil as a midfielder, P": nothing).
    """
    cut = 0
    for name in others:
        target = re.findall(r"[a-z0-9]+", name.lower())
        for at in range(len(words) - len(target) + 1):
            if not target or list(words[at : at + len(target)]) != target:
                continue
            if not name.islower() or _phrased_noun(words[:at], vocabulary):
                end = at + len(target)
                cut = max(cut, end + (vocabulary.phrase_length_at(words, end) if name[:1].isdigit() else 0))
    return list(words[cut:])
