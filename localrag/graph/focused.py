"""The "focused" extraction: entities first, then a relation for each among only those entities.

A 135M model asked for free-text triples invents names, copies pronouns ("He") as subjects and
spends its few triples on the first sentence. This method narrows what it can say, in two passes:
1. Entities: the chunk's heading entity and the capitalised runs and numbers of the passage
   (`mentions`), each as written in the passage. (A model pass listing the names under a grammar of
   the passage's words was tried: it cost more than the rest of the extraction on two cores.)
2. Relations, one short generation per entity as the object: the model names the entity it is a
   fact about and the relation, as one of the vocabulary's phrasings or `none`, under a grammar
   that allows nothing else (`fact_grammar`). The 135M model picks the subject well and the
   relation hardly better than the first on the list, so the relation kept is the one whose
   phrasing the passage uses between subject and object (`linking_words`), trying the heading's
   entity as the subject when the model's has none; a pair the passage does not join in one
   sentence with a vocabulary phrasing gives no triple. One object per generation because the
   135M model, asked for a whole list, copies its first relation into every later entry; the
   prompts of one chunk share everything up to the object, so llama.cpp's prompt cache reads the
   passage once.
   The prompt shows each relation with its phrasings, names the heading as the passage's topic,
   and has the passage's personal pronouns replaced by the heading entity (`resolve_pronouns`), so
   "He wears number 10" under the heading "Karim Benzema" offers the model the subject it needs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from localrag.sentences import sentence_spans
from localrag.types import HEADING_JOIN

# Words that start a sentence with a capital without naming anything.
_NOT_NAMES = frozenset(
    "a an the he she it they his her its their this that these those at in on for of from with by to and "
    "or but as after before when while there here then also i we you our your every each last next "
    # adverbs of time and degree that open a sentence ("Now 28, ...", "Currently 26, ...", "Still only 21, ...")
    "now still already currently recently once soon today yesterday only just almost nearly".split()
)
# Words that follow an opening word ("Selected by", "Domestically she", "Recently,") rather than a subject.
_OPENER_FOLLOWERS = frozenset(
    "a an the he she it they his her its their by on in at with from for to of as into onto".split()
)
# Lower-case words allowed inside a capitalised run: "Bank of England", "Vasco da Gama".
_JOINERS = frozenset("of de da do del della di du la le van von der den y".split())
_POSSESSIVE_END = re.compile(r"'s$", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_](?:[\w'.&-]*[^\W_])?")
_SUBJECT_PRONOUN = re.compile(r"\b(?:he|she)\b", re.IGNORECASE)
_POSSESSIVE = re.compile(r"\b(?:his|her)\b", re.IGNORECASE)
# "him", and "her" before what cannot be its noun (punctuation, a preposition, an article, a time word): an object.
_OBJECT_PRONOUN = re.compile(
    r"\bhim\b|\bher\b(?=\s*(?:[.,;:!?)]|$|(?:to|for|in|on|at|with|by|from|as|and|or|but|the|a|an|into|onto|over|"
    r"after|before|since|until|during|last|this|that|again|twice|once|back|away|up|down|out|off)\b))",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Where a sentence's clauses end inside it: a semicolon joins two clauses (linking_words, apposed_number), and a colon
# ends a noun phrase or a label too (mentions, placed_name).
_CLAUSE_MARKS = ";"
_PHRASE_MARKS = ";:"
# A name's initial and the abbreviations of names ("J. R. R. Tolkien", "Michael J. Fox", "E.T.", "St. Louis", "Acme
# Inc.", "Bob Smith Jr."): their full stop ends no sentence here. `sentence_spans` keeps titles and "e.g." whole but
# cuts after these (it is written for quotes, where "King Sr. He was" ends one), and cut there a name lost its end:
# "written by J. R. R. Tolkien" related The Hobbit to "J".
_NAME_STOP = re.compile(r"(?:(?<![\w.])[A-Z]|\b[A-Z](?:\.[A-Z])+|\b(?:St|Jr|Sr|Inc|Ltd|Co|Dr|Mrs?|Ms))\.$")
# Of those, the ones that end a name: a run of capitalised words stops after them ("Acme Inc. The firm ...").
_NAME_ENDS = frozenset("Jr. Sr. Inc. Ltd. Co.".split())
_IT = re.compile(r"(^|[.!?]\s+)(It|Its)\b")

# Words that end a place's own noun phrase before a name: function words, pronouns and auxiliaries (placed_name).
# Modal auxiliaries too: "Lena Fischer will visit Leeds" is a clause, not Leeds's noun phrase holding a place.
_QUALIFIER_STOPS = frozenset(
    "a an the is are was were be been has have had he she it they his her its their this that these those who which "
    "where when what and or but as at in on for of from with by to than not will would shall should can could may "
    "might must do does did".split()
)

# A verb of being or becoming between a name and a bare number (apposed_number).
_COPULA = re.compile(r"\s+(?:is|was|(?:has |had |just )?turned|turns)\s+", re.IGNORECASE)
# What may follow a bare number: the clause's end, or a word that counts nothing ("is 41 and", "turned 41 this year").
_BARE_AFTER = re.compile(r"\s*(?:$|[.,;:!?)]|(?:and|but|or|this|last|in|on|at|when|since)\b)", re.IGNORECASE)

NO_RELATION = "none"
MAX_ENTITIES = 12
MAX_NAME_WORDS = 6
MAX_LABEL_WORDS = 3  # a label before a colon: "Club:", "Shirt number:", "Commentator's note:"
MAX_AGE = 120  # a bare number above this beside a name is no age


def heading_entity(heading: str) -> str:
    """The innermost heading of a chunk's heading path ("Players > Karim Benzema" -> "Karim Benzema")."""
    return heading.rsplit(HEADING_JOIN, 1)[-1].strip(" \t#*") if heading else ""


def mentions(text: str, known: Sequence[str] = ()) -> list[str]:
    """Capitalised word runs and numbers in `text`, in order of first appearance, each once.

    A run may hold lower-case joiners ("Bank of England") but not end on one; a lone capitalised
    word that is a function word or an adverb of time ("He", "At", "Every", "Now") is not a name, and a
    run loses such a first word ("Now 28" names 28), unless it is written in capitals, as an acronym is
    ("AS Monaco"). A run does not span a comma or a bracket ("Recently, Porto" is two runs), and a possessive
    ends it ("Italy's 28-year-old" names Italy and 28). "Of" between a name of two or more words and a name
    written alone elsewhere joins two names, not one ("Real Madrid CF of Spain" where "Spain" stands alone).

    A sentence's start capitalises any word, so there a capital is weak evidence of a name. A one-word
    run that opens a sentence is no name when it reads as an opener (a comma, a preposition, a pronoun
    or an article follows it: "Recently, ...", "Selected by ...", "Domestically she ...") and nothing
    else vouches for it: the text writes it capitalised inside a sentence, it opens two sentences or
    more, or it is a word of a name in `known` (the chunk's heading entity). Otherwise it stays a name:
    a subject opens its sentence ("Palmeiras is in Brazil.", "FRED plays for Brazil."). A longer run
    loses its opening word when the rest is a name written elsewhere ("Within Spain" where "Spain"
    stands alone elsewhere), or when the rest is a number counting the plural noun after it ("Born 28 years ago"
    names 28). A label of at most three words ended by a colon ("Club:", "Quiz card:") is no name.
    """
    runs = [run for sentence in clauses(text, _PHRASE_MARKS) if not _is_label(sentence) for run in _runs(sentence)]
    openers = Counter(run.words[0] for run in runs if run.opens)
    vouched = {word for run in runs for word in (run.words[1:] if run.opens else run.words)}
    vouched |= {word for word, count in openers.items() if count > 1}
    vouched |= {word for name in known for word in _TOKEN.findall(name)}
    runs_inside = {tuple(run.words) for run in runs if not run.opens}
    alone = {tuple(run.words) for run in runs}
    out: dict[str, None] = {}
    for run in runs:
        words = run.words
        if run.opens and not words[0][0].isdigit() and words[0] not in vouched:
            if len(words) == 1 and (run.then == "," or run.then.lower() in _OPENER_FOLLOWERS):
                continue
            if tuple(words[1:]) in runs_inside or _counts(words, run.then):
                words = words[1:]
        if len(words) == 1 and _function_word(words[0]):
            continue
        if _function_word(words[0]):
            words = words[1:]
        for part in _of_parts(words, alone):
            name = " ".join(part[:MAX_NAME_WORDS])
            number = _NUMBER.match(name)
            out.setdefault(number.group(0) if number else name, None)  # "26-year-old" names 26
    return [m for m in out if m]


def clauses(text: str, marks: str = _CLAUSE_MARKS) -> list[str]:
    """The sentences of `text` (each line on its own, cut as `sentence_spans` cuts them), not cut after a name's
    initial or abbreviation (`_NAME_STOP`), and each cut again after the punctuation of `marks` and a space."""
    out: list[str] = []
    for line in text.split("\n"):
        spans: list[tuple[int, int]] = []
        for start, end in sentence_spans(line):
            if spans and _NAME_STOP.search(line[spans[-1][0] : spans[-1][1]]):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        out.extend(part for start, end in spans for part in re.split(rf"(?<=[{marks}])\s+", line[start:end]))
    return out


def _is_label(sentence: str) -> bool:
    """Whether a sentence is only a label ended by a colon ("Club:", "Quiz card:", "Commentator's note:"): it names
    what follows, not a thing of its own."""
    sentence = sentence.strip()
    return sentence.endswith(":") and 0 < len(_TOKEN.findall(sentence)) <= MAX_LABEL_WORDS


def _counts(words: Sequence[str], then: str) -> bool:
    """Whether a run is an opening word and a number that counts the plural noun after it ("Born 28 years ago, ...",
    "Scored 12 goals, ..."): a quantity, so the opening word is no part of a name."""
    return (len(words) == 2 and words[1].isdigit() and then.isalpha() and then.islower() and len(then) > 3
            and then.endswith("s") and not then.endswith("ss"))


def _of_parts(words: list[str], alone: set[tuple[str, ...]]) -> list[list[str]]:
    """`words` as one name, or as two where "of" joins a name of two or more words to a name written alone
    elsewhere: "Real Madrid CF of Spain" beside "for Spain" is a club and its country, while "Bank of England"
    (one word before "of") and "Real Madrid CF of Spain" where Spain stands nowhere alone stay one name."""
    for at, word in enumerate(words):
        if word == "of" and at >= 2 and tuple(words[at + 1 :]) in alone:
            return [words[:at], words[at + 1 :]]
    return [words]


def _function_word(word: str) -> bool:
    """Whether `word` is one of `_NOT_NAMES` as such: written in capitals it is an acronym ("AS Monaco", "US Open")."""
    return word.lower() in _NOT_NAMES and not (len(word) > 1 and word.isupper())


@dataclass(frozen=True)
class _Run:
    words: list[str]
    opens: bool  # the run's first word is the sentence's first
    then: str  # what follows it: the next word, "," or a bracket, or "" at the end of the sentence


def _runs(sentence: str) -> list[_Run]:
    """The capitalised runs of one sentence. A run is cut at commas (not a number's: "1,000") and brackets."""
    out: list[_Run] = []
    opening = True  # no word of the sentence read yet
    pieces = re.split(r"(,(?!\d)|[()\[\]])", sentence)
    for part, cut in zip(pieces[::2], [*pieces[1::2], ""], strict=True):
        run: list[str] = []
        run_opens = False
        for token in [*_tokens(part), ""]:
            capital = bool(token) and (token[0].isupper() or token[0].isdigit())
            if capital and _POSSESSIVE_END.search(token):
                # A possessive ends its noun phrase: "Italy's 28-year-old" is Italy and 28, "Real Madrid's Karim
                # Benzema" two names; the name is written without the "'s".
                run_opens = run_opens or (opening and not run)
                run.append(_POSSESSIVE_END.sub("", token))
                out.append(_Run(run, run_opens, "'s"))
                run, run_opens = [], False
            elif capital and token in _NAME_ENDS and run:
                run.append(token)  # "Acme Inc." ends its name: what follows starts another
                out.append(_Run(run, run_opens, ""))
                run, run_opens = [], False
            elif capital or (run and (token.lower() in _JOINERS or (token == "the" and run[-1] == "of"))):
                # "of the" joins a title's capitalised words too: "The Lord of the Rings", "Return of the King" (before
                # 2026-12-07 "Lord" and "Rings", and "part of" them related the wrong two names).
                run_opens = run_opens or (opening and not run)
                run.append(token)
            else:
                then = token
                while run and (run[-1].lower() in _JOINERS or run[-1] == "the"):
                    then = run.pop()
                if run:
                    out.append(_Run(run, run_opens, then or cut))
                run, run_opens = [], False
            opening = opening and not token
    return out


def _tokens(part: str) -> list[str]:
    """The words of `part`, an initial or a name's abbreviation with its full stop ("J.", "E.T.", "Inc.")."""
    return [m.group(0) + "." if part[m.end() : m.end() + 1] == "." and _NAME_STOP.search(m.group(0) + ".")
            else m.group(0) for m in _TOKEN.finditer(part)]


def resolve_pronouns(text: str, entity: str, *, objects: bool = False) -> str:
    """`text` with he/she -> `entity`, his/her -> `entity`'s, and sentence-initial It/Its likewise; with `objects`,
    the object pronouns too: him -> `entity`, and "her" where no noun follows it ("a bid for her.", "signed her in
    2012").

    Only for a chunk under a heading that names one entity: there the pronouns almost always mean it ("them" is
    left alone: it names more than the one entity).
    """
    if not entity:
        return text
    if objects:
        text = _OBJECT_PRONOUN.sub(entity, text)
    text = _POSSESSIVE.sub(f"{entity}'s", text)
    text = _SUBJECT_PRONOUN.sub(entity, text)
    return _IT.sub(lambda m: m.group(1) + (f"{entity}'s" if m.group(2) == "Its" else entity), text)


def _literal(text: str) -> str:
    """A GBNF string literal for `text` (already free of quotes, backslashes and newlines)."""
    return '"' + text + '"'


def _json_safe(name: str) -> bool:
    """Whether `name` can sit in a GBNF literal and a JSON string as it is."""
    return bool(name) and not any(c in name for c in '"\\\n\r\t')


def linking_words(passage: str, subject: str, obj: str, *, around: int = 2) -> tuple[list[str], list[str]]:
    """The words that join `subject` and `obj` in the first sentence naming both, lower case.

    Returns the words between the two names and the `around` words on the far side of the object
    ("26 years old", "number 10" read either way); two empty lists when no sentence names both.
    The relation is then the vocabulary phrasing found between, else (for a number) beside the
    object, so a relation is kept only when the passage words it.
    """
    target_s, target_o = _lower_words(subject), _lower_words(obj)
    for sentence in clauses(passage):
        words = _lower_words(sentence)
        s_at, o_at = _find(words, target_s), _find(words, target_o)
        if s_at < 0 or o_at < 0:
            continue
        o_end = o_at + len(target_o)
        if s_at < o_at:
            return words[s_at + len(target_s) : o_at], words[o_end : o_end + around]
        return words[o_end:s_at], words[max(o_at - around, 0) : o_at]
    return [], []


def apposed_number(passage: str, subject: str, number: str) -> bool:
    """Whether `number` stands beside `subject` as a bare number, in the first sentence naming both.

    "Ana Ruiz, 41, lives ...", "Ana Ruiz (41) lives ...", "Now 41, Ana Ruiz lives ...", and a bare number
    after a verb of being or becoming, "Ana Ruiz is 41 and ...", "Ana Ruiz turned 41.": English prose writes a
    person's age so, with no word for it; a year or a count is written otherwise ("in 2014", "41 goals", "is 41
    points clear"). Only a whole number up to `MAX_AGE`, and (before the name) only in the sentence's opening phrase.
    """
    if not number.isdigit() or int(number) > MAX_AGE:
        return False
    name = re.compile(r"(?<!\w)" + re.escape(subject) + r"(?!\w)", re.IGNORECASE)
    digits = re.compile(r"(?<![\w.,-])" + number + r"(?![\w-]|[.,]\d)")
    for sentence in clauses(passage):
        s_at, n_at = name.search(sentence), digits.search(sentence)
        if s_at is None or n_at is None:
            continue
        if s_at.start() < n_at.start():
            joining, after = sentence[s_at.end() : n_at.start()], sentence[n_at.end() :]
            if _COPULA.fullmatch(joining):
                return bool(_BARE_AFTER.match(after))
            return bool(re.fullmatch(r"\s*[,(]\s*", joining)) and bool(re.match(r"\s*[,)]", after))
        opening = sentence[: n_at.start()]
        return bool(re.fullmatch(r"\s*,\s*", sentence[n_at.end() : s_at.start()])) and not re.search(r"[\d,]", opening)
    return False


# Words that may stand between a name and a place after it inside the name's noun phrase: a prepositional phrase or
# an apposition ("Hull City FC in the England first division", "Sao Paulo FC, a Brazil institution", "C of Q").
_PLACE_AFTER = frozenset("in of the a an one".split())
MAX_PLACE_QUALIFIERS = 2  # "Q club C", "Q first-division side C": the place's own noun phrase before the name


def placed_name(passage: str, place: str, others: Sequence[str], topic: str = "") -> str:
    """The other name whose noun phrase holds `place`, in the first sentence where one does, or "".

    A place written inside another name's noun phrase says where that name's thing is: before the name with only
    lower-case qualifiers between ("Spain club Real Madrid CF", "Mexico side Club America"), or after it with only
    articles and "in" / "of" between ("Hull City FC in the England first division", "Sao Paulo FC, a Brazil
    institution", "Genoa CFC of Italy") or in brackets ("Genoa CFC (Italy)"). The chunk's `topic` is left out: a
    place beside the name a chunk is about says what that name is ("Spain forward Ana Ruiz"), not where it stands.
    Names are capitalised, not numbers.
    """
    target = _lower_words(place)
    candidates = [(n, _lower_words(n)) for n in others if n[:1].isupper() and n != topic and n != place]
    # A colon ends a noun phrase too: "Club: Real Madrid CF (Spain)" holds Spain in Real Madrid CF's, not "Club".
    for sentence in clauses(passage, _PHRASE_MARKS):
        words = _lower_words(sentence)
        at = _find(words, target)
        if at < 0:
            continue
        end = at + len(target)
        best: tuple[int, str] | None = None
        for name, parts in candidates:
            for start in (i for i in range(len(words) - len(parts) + 1) if words[i : i + len(parts)] == parts):
                if start + len(parts) <= at:
                    between = words[start + len(parts) : at]
                    # With no word between, only a bracket sets the place off as the name's ("C (Q)"): a comma may
                    # end a fronted phrase instead ("Within Spain, Real Madrid CF is ...").
                    fits = all(w in _PLACE_AFTER for w in between)
                    fits = fits and bool(between or _bracketed(sentence, name, place))
                elif start >= end:
                    between = words[end:start]
                    fits = 0 < len(between) <= MAX_PLACE_QUALIFIERS and all(_qualifier(w) for w in between)
                else:
                    continue
                if fits and (best is None or len(between) < best[0]):
                    best = (len(between), name)
        if best is not None:
            return best[1]
    return ""


def _qualifier(word: str) -> bool:
    """Whether a lower-case word may qualify a name's noun phrase ("club", "side"): no function word, and not in a
    verb's finite forms ("joined", "plays", "represents"), which would make a clause of the words between."""
    return word.isalpha() and word not in _QUALIFIER_STOPS and not word.endswith(("ed", "s"))


def _bracketed(sentence: str, name: str, place: str) -> bool:
    pattern = r"(?<!\w)" + re.escape(name) + r"\s*\(\s*" + re.escape(place) + r"(?!\w)"
    return re.search(pattern, sentence, re.IGNORECASE) is not None


def titles(passage: str, subject: str, noun: str) -> bool:
    """Whether `noun` stands right before `subject` as its title: after an article and only the noun's own
    hyphenated or numeric qualifiers ("the engineer Ruth Okafor", "The 26-year-old forward Ana Ruiz"), it says what
    the name is. Without the article it is no title ("At club level Ana Ruiz ...").
    """
    qualifiers = r"(?:[\w]*\d[\w-]*\s+|\w+-[\w-]+\s+)*"
    pattern = r"\b(?:the|a|an)\s+" + qualifiers + re.escape(noun) + r"\s+" + re.escape(subject) + r"(?!\w)"
    return re.search(pattern, passage, re.IGNORECASE) is not None


def _lower_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _find(words: Sequence[str], target: Sequence[str]) -> int:
    size = len(target)
    return next((i for i in range(len(words) - size + 1) if size and list(words[i : i + size]) == list(target)), -1)


def fact_grammar(entities: Sequence[str], phrases: Sequence[str]) -> str:
    """`subject | phrase` for one object: the subject one of `entities`, the phrase one of `phrases` or none."""
    names = " | ".join(_literal(e) for e in entities if _json_safe(e))
    rels = " | ".join(_literal(r) for r in dict.fromkeys([*phrases, NO_RELATION]) if _json_safe(r))
    return f'root ::= entity " | " relation\nentity ::= {names}\nrelation ::= {rels}\n'


def relation_phrases(vocabulary: Iterable[tuple[str, Sequence[str]]]) -> list[str]:
    """Every phrasing the model may write as a relation: each relation's name in words, then its synonyms."""
    out: dict[str, None] = {}
    for name, synonyms in vocabulary:
        for phrase in (name.replace("_", " "), *synonyms):
            out.setdefault(" ".join(phrase.lower().split()), None)
    return [p for p in out if p]


def relation_lines(vocabulary: Iterable[tuple[str, Sequence[str]]]) -> str:
    """One line per relation with the phrasings that mean it: `- located_in: located in, lies in, ...`."""
    return "\n".join(f"- {name}: {', '.join(synonyms)}" if synonyms else f"- {name}" for name, synonyms in vocabulary)
