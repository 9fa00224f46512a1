"""Triples from the user's chunks: a local GGUF model held to a JSON grammar, then checked and merged.

Two methods propose triples (`ExtractConfig.method`, `graph build --method`):
- "focused", the default: the chunk's names first, then for each name the entity it is a fact
  about and the relation the passage words between them (localrag/graph/focused.py), by a phrasing
  of the vocabulary or, with the relation matcher `build_graph` uses (localrag/graph/relate.py), by
  what the joining words mean and what kind of thing the object is. On WC2014 profiles it kept
  triples at precision 0.88, recall 0.71 where "single" reached recall 0.03, and recall 0.53 / 0.42
  / 0.46 / 0.43 / 0.39 at precision 0.78 / 0.61 / 0.81 / 0.89 / 0.65 on five sets of wordings written
  after the vocabulary (`benchmarks/bench_graph_extract.py --set paragraphs --paragraphs 12`;
  benchmarks/README.md, "Graph mode, eighth round" and its amendment).
- "single": a few-shot prompt (a worked example as an earlier user/assistant turn, because a
  135M model copies a shown format far better than it follows a described one) and a reply
  under `TRIPLES_GRAMMAR`: a JSON list of at most `MAX_TRIPLES` objects
  `{"subject", "relation", "object"}` with bounded string lengths, so every reply is parseable and
  cannot run on. A reply cut by the token budget keeps its complete objects.

Each proposed triple then goes through checks that a small model needs:
- the relation is mapped onto a small vocabulary (`RelationVocabulary` in vocabulary.py: snake_case
  names, each with synonyms; unknown relations fall back to `related_to`, or are dropped when the fallback is
  off), so the graph has few relations and the planners can tell them apart;
- subject and object must occur in the chunk, fuzzily (case, punctuation, plural endings and
  small misspellings are forgiven), otherwise the model invented them: dropped and counted;
- entity names are cleaned (leading articles, edge punctuation) and merged with the known entities:
  first by normalised name or alias, then by embedding cosine above `merge_threshold`, so
  "the Kestrel Point Lighthouse" and "Kestrel Point lighthouse" become one node.
Every kept triple records its chunk_id and doc_id.

`build_graph` is incremental. A row in the graph's `graph_built` table marks a chunk as done for
one content hash of its document: chunks already done are skipped, so a cancelled or killed build
resumes; a document that changed or was forgotten loses its triples before anything is extracted.
Work is committed every `commit_every` chunks, so a kill loses at most that much. A generation
that fails or replies with nothing parseable is skipped and counted, and not marked done, so the
next build tries it again.
"""

from __future__ import annotations

import difflib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from localrag.errors import LocalRagError
from localrag.generate import neutralize_special_tokens
from localrag.graph.focused import (
    MAX_ENTITIES,
    NO_RELATION,
    apposed_number,
    fact_grammar,
    heading_entity,
    linking_words,
    mentions,
    placed_name,
    relation_lines,
    relation_phrases,
    resolve_pronouns,
    titles,
)
from localrag.graph.relate import THRESHOLD as RELATE_THRESHOLD
from localrag.graph.relate import RelationMatcher
from localrag.graph.store import GraphStore, Triple, entity_vectors, normalise_entity
from localrag.graph.vocabulary import (
    AGE_WORDS,
    ARTICLES,
    AUXILIARIES,
    MAX_NOUN_WORDS,
    NOT_OBJECTS,
    PREDICATE_NOUN,
    RelationVocabulary,
)
from localrag.sizes import count_text
from localrag.types import Chunk, GenerationStats

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.generate import Generator
    from localrag.store import Store

MAX_TRIPLES = 5
MAX_ENTITY_CHARS = 48
MAX_RELATION_CHARS = 32

TRIPLES_GRAMMAR = f"""root ::= "[" ws ( triple ( "," ws triple ){{0,{MAX_TRIPLES - 1}}} )? ws "]"
triple ::= ( "{{" ws "\\"subject\\":" ws entity "," ws "\\"relation\\":" ws relation ","
  ws "\\"object\\":" ws entity ws "}}" )
entity ::= "\\"" char{{1,{MAX_ENTITY_CHARS}}} "\\""
relation ::= "\\"" [a-zA-Z] [a-zA-Z_ ]{{0,{MAX_RELATION_CHARS - 1}}} "\\""
char ::= [^"\\\\\\n]
ws ::= [ \\n]?
"""


EXTRACT_SYSTEM = (
    "You extract facts from a passage as a JSON list of triples. Each triple is "
    '{"subject": ..., "relation": ..., "object": ...}. Subject and object are short names copied '
    "from the passage. Relations: {relations}. At most {max} triples."
)

EXAMPLE_PASSAGE = (
    "The Harwick Bridge crosses the River Sell in Tamford. It was designed by the engineer Ruth Okafor "
    "and opened in 1902. Okafor also designed the Tamford Library, which is part of Tamford University."
)
EXAMPLE_REPLY = (
    '[{"subject": "Harwick Bridge", "relation": "located_in", "object": "Tamford"},\n'
    '{"subject": "Harwick Bridge", "relation": "created_by", "object": "Ruth Okafor"},\n'
    '{"subject": "Harwick Bridge", "relation": "date", "object": "1902"},\n'
    '{"subject": "Tamford Library", "relation": "created_by", "object": "Ruth Okafor"},\n'
    '{"subject": "Tamford Library", "relation": "part_of", "object": "Tamford University"}]'
)

# The focused method's prompt (see localrag/graph/focused.py) and its worked example: the object
# -> (subject, relation) of each fact the example passage states; its other names get `none`.
FOCUSED_SYSTEM = (
    "For the Object, say which other name of the passage it is a fact about and the words that relate "
    "them, or none when the passage states no such fact. A fact about the Topic has the Topic as its "
    "subject. Relations and the words that mean them:\n{relations}"
)
EXAMPLE_TOPIC = "Harwick Bridge"
EXAMPLE_FACTS = {
    "Tamford": ("Harwick Bridge", "in"),
    "Ruth Okafor": ("Harwick Bridge", "designed by"),
    "River Sell": ("Harwick Bridge", NO_RELATION),
    "1902": ("Harwick Bridge", "opened"),
    "Okafor": ("Tamford Library", "designed by"),
    "Tamford University": ("Tamford Library", "part of"),
}
FACT_TOKENS = 24

_ARTICLE = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_EDGE = " \t\n.,;:!?\"'`()[]{}*_#"
_WORDS = re.compile(r"[a-z0-9]+")
_OBJECT = re.compile(r"\{[^{}]*\}")


def clean_entity(name: str) -> str:
    """The surface name to store: edge punctuation, Markdown emphasis and a leading article removed."""
    text = " ".join(name.replace("*", "").replace("`", "").split()).strip(_EDGE)
    text = _ARTICLE.sub("", text).strip(_EDGE)
    return text


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def occurs_in(name: str, text: str, *, cutoff: float = 0.8) -> bool:
    """Whether `name` appears in `text` allowing case, punctuation, plurals and small misspellings.

    Exact word-sequence containment first; otherwise every word of the name must closely match
    some word of the text (difflib ratio >= cutoff, or a shared 5-letter stem).
    """
    target = _words(name)
    if not target:
        return False
    words = _words(text)
    if " ".join(target) in " ".join(words):
        return True
    vocab = set(words)
    for word in target:
        if word in vocab:
            continue
        if len(word) >= 5 and any(w[:5] == word[:5] for w in vocab):
            continue
        if not difflib.get_close_matches(word, vocab, n=1, cutoff=cutoff):
            return False
    return True


def parse_triples(reply: str) -> list[dict[str, str]] | None:
    """The triples in a reply, or None when nothing parses; a cut-off list keeps its whole objects."""
    try:
        data = json.loads(reply)
    except json.JSONDecodeError:
        data = []
        for match in _OBJECT.findall(reply):
            try:
                data.append(json.loads(match))
            except json.JSONDecodeError:
                continue
        if not data:
            return None
    if not isinstance(data, list):
        return None
    out = []
    for item in data:
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("subject", "relation", "object")):
            out.append({k: item[k] for k in ("subject", "relation", "object")})
    return out


def extraction_messages(chunk: Chunk, vocabulary: RelationVocabulary) -> list[dict[str, str]]:
    system = EXTRACT_SYSTEM.replace("{relations}", ", ".join(vocabulary.names)).replace("{max}", str(MAX_TRIPLES))
    passage = neutralize_special_tokens(chunk.text)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Passage: {EXAMPLE_PASSAGE}\nTriples:"},
        {"role": "assistant", "content": EXAMPLE_REPLY},
        {"role": "user", "content": f"Passage: {passage}\nTriples:"},
    ]


class EntityMerger:
    """Maps a cleaned name to the entity it means: same normalised name or alias, else a close embedding of a name
    with the same numbers.

    Seeded with the graph's entities, it grows as the build meets new names, so two spellings met in
    the same build merge too. `aliases` collects canonical surface -> other surfaces for the store.
    """

    def __init__(self, embedder: Embedder, threshold: float = 0.9) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._surface: dict[str, str] = {}
        self._ids: list[str] = []
        self._vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        self.aliases: dict[str, set[str]] = {}
        self.merged = 0

    def seed(self, graph: GraphStore) -> None:
        rows = graph.entity_rows()
        ids = rows["entity_id"].to_pylist()
        for eid, name, aliases in zip(ids, rows["name"].to_pylist(), rows["aliases"].to_pylist(), strict=True):
            self._surface[eid] = name
            for alias in aliases or []:
                self._surface.setdefault(alias, name)
        self._ids = list(ids)
        self._vectors = entity_vectors(rows) if ids else self._vectors

    def resolve(self, names: Iterable[str]) -> dict[str, str]:
        """Cleaned name -> the surface name of the entity it merges into (itself when new)."""
        out: dict[str, str] = {}
        pending: list[str] = []
        for name in dict.fromkeys(names):
            key = normalise_entity(name)
            if key in self._surface:
                out[name] = self._surface[key]
            else:
                pending.append(name)
        if not pending:
            return out
        vectors = np.asarray(self.embedder.embed(pending), dtype=np.float32)
        for name, vector in zip(pending, vectors, strict=True):
            key = normalise_entity(name)
            if key in self._surface:  # an earlier name of this same batch
                out[name] = self._surface[key]
                continue
            if len(self._ids):
                sims = self._vectors @ vector
                # Names that differ in a number name different things however alike they read ("Apollo 11" and
                # "Apollo 12", "Born 27" and "Born 28"): a vector barely moves with a digit.
                digits = _digits(name)
                sims[[_digits(self._surface[i]) != digits for i in self._ids]] = -np.inf
                best = int(np.argmax(sims))
                if sims[best] >= self.threshold:
                    canonical = self._surface[self._ids[best]]
                    self._surface[key] = canonical
                    self.aliases.setdefault(canonical, set()).add(name)
                    self.merged += 1
                    out[name] = canonical
                    continue
            self._surface[key] = name
            self._ids.append(key)
            self._vectors = np.vstack([self._vectors, vector[None, :]])
            out[name] = name
        return out


def _digits(name: str) -> list[str]:
    return re.findall(r"\d+", name)


@dataclass
class ExtractConfig:
    """Knobs of graph building; the defaults suit the bundled 135M model."""

    vocabulary: RelationVocabulary = field(default_factory=RelationVocabulary)
    # Cosine of entity-name vectors above which two names are one entity; MiniLM puts spelling
    # variants of one name above 0.9 and different names sharing a word below.
    merge_threshold: float = 0.9
    # Enough for MAX_TRIPLES short triples; a reply cut here still keeps its complete triples.
    max_tokens: int = 256
    commit_every: int = 8
    # "focused" (localrag/graph/focused.py) or "single" (one prompt for a list of free-text
    # triples); see the module docstring for the measured difference.
    method: str = "focused"
    # The focused method relates a pair whose joining words no phrasing of the vocabulary matches when a
    # relation's meaning and kind score this much (localrag/graph/relate.py); None: phrasings only.
    relate_threshold: float | None = RELATE_THRESHOLD


@dataclass
class ChunkTriples:
    """What extraction made of one chunk: kept triples and why the others were dropped."""

    triples: list[Triple]
    proposed: int
    dropped: Counter[str]


@dataclass
class GraphBuildProgress:
    chunks_done: int
    chunks_total: int
    triples: int
    current: str
    elapsed: float
    eta: float | None


@dataclass
class GraphBuildReport:
    """What `build_graph` did; `dropped` counts the proposed triples refused, by reason."""

    chunks_total: int = 0
    chunks_extracted: int = 0
    chunks_skipped: int = 0
    failed: int = 0
    invalid_replies: int = 0
    proposed: int = 0
    triples_added: int = 0
    entities_added: int = 0
    entities_merged: int = 0
    triples_removed: int = 0
    documents_removed: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0
    generation_seconds: float = 0.0
    generated_tokens: int = 0

    @property
    def triples_per_chunk(self) -> float:
        return self.triples_added / self.chunks_extracted if self.chunks_extracted else 0.0


def build_summary(report: GraphBuildReport) -> str:
    """One line on what a build did, as the CLI and the chat app show it."""
    line = (
        f"{count_text(report.chunks_extracted, 'chunk')} read ({report.chunks_skipped} already built), "
        f"{count_text(report.triples_added, 'triple')} and {count_text(report.entities_added, 'entity', 'entities')} "
        "added "
        f"({report.triples_per_chunk:.1f} per chunk, {report.entities_merged} names merged), "
        f"{report.failed + report.invalid_replies} generations failed; {report.seconds:.1f}s"
    )
    if report.triples_removed:
        line += f"; {count_text(report.triples_removed, 'triple')} of changed or forgotten documents removed"
    if report.cancelled:
        line += " (cancelled: run it again to go on)"
    return line


def check_triples(
    raw: Sequence[Mapping[str, str]], chunk: Chunk, vocabulary: RelationVocabulary
) -> tuple[list[tuple[str, str, str]], Counter[str]]:
    """Clean, map and verify proposed triples against the chunk text; returns kept triples and drops."""
    dropped: Counter[str] = Counter()
    kept: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str, str]] = set()
    for item in raw:
        subject, obj = clean_entity(item["subject"]), clean_entity(item["object"])
        relation = vocabulary.map(item["relation"])
        if not subject or not obj:
            dropped["empty name"] += 1
        elif normalise_entity(subject) == normalise_entity(obj):
            dropped["subject is the object"] += 1
        elif relation is None:
            dropped["relation not in vocabulary"] += 1
        elif not occurs_in(subject, chunk.text):
            dropped["subject not in chunk"] += 1
        elif not occurs_in(obj, chunk.text):
            dropped["object not in chunk"] += 1
        elif (normalise_entity(subject), relation, normalise_entity(obj)) in seen:
            dropped["duplicate"] += 1
        else:
            seen.add((normalise_entity(subject), relation, normalise_entity(obj)))
            kept.append((subject, relation, obj))
    return kept, dropped


def _generate(
    generator: Generator,
    messages: list[dict[str, str]],
    grammar: str,
    max_tokens: int,
    cancel: threading.Event | None,
    stats: GenerationStats | None,
) -> str:
    """One grammar-held greedy generation whose counts are added to `stats` (a chunk may take two)."""
    own = GenerationStats()
    reply = generator.complete(
        messages, max_tokens=max_tokens, temperature=0.0, grammar=grammar, cancel=cancel, stats=own
    )
    if stats is not None:
        stats.prompt_tokens += own.prompt_tokens
        stats.completion_tokens += own.completion_tokens
        stats.time_to_first_token += own.time_to_first_token
        stats.generation_seconds += own.generation_seconds
        stats.cancelled = stats.cancelled or own.cancelled
    return reply


def focused_entities(
    chunk: Chunk, vocabulary: RelationVocabulary | None = None, *, predicates: bool = False
) -> list[str]:
    """The entities the relation pass may use: the heading entity if the text names it, then the mentions,
    then the lower-case words the vocabulary's phrasings introduce ("plays as a forward") and, with
    `predicates`, those a copula and an article introduce ("is a forward") and the heading entity's appositions
    ("Ana Ruiz, a forward with ...").

    Once each by normalised name, at most MAX_ENTITIES.
    """
    heading = heading_entity(chunk.heading)
    names = [heading] if heading and occurs_in(heading, chunk.text) else []
    introducers = PREDICATE_NOUN if predicates else ()
    named = vocabulary.objects_named_after(chunk.text, introducers) if vocabulary is not None else []
    if predicates and heading and vocabulary is not None:
        named += vocabulary.apposed_nouns(chunk.text, heading)
    out: dict[str, str] = {}
    for name in [*names, *mentions(chunk.text, [heading] if heading else []), *named]:
        out.setdefault(normalise_entity(name), name)
    return list(out.values())[:MAX_ENTITIES]


def focused_messages(
    chunk: Chunk, entities: Sequence[str], obj: str, vocabulary: RelationVocabulary
) -> list[dict[str, str]]:
    """The relation turn for one object: relations and phrasings, the worked example, then the chunk and object.

    Everything before the object is the same for all objects of a chunk, so the prompt cache holds it.
    """
    relations = relation_lines((name, vocabulary.canonical.get(name, ())) for name in vocabulary.names)
    topic = heading_entity(chunk.heading)
    example_entities = [EXAMPLE_TOPIC, *mentions(EXAMPLE_PASSAGE)]
    example = (f"Topic: {EXAMPLE_TOPIC}\nNames: {json.dumps(list(dict.fromkeys(example_entities)))}\n"
               f"Passage: {resolve_pronouns(EXAMPLE_PASSAGE, EXAMPLE_TOPIC)}\n")
    messages = [{"role": "system", "content": FOCUSED_SYSTEM.replace("{relations}", relations)}]
    for i, (name, (subject, phrase)) in enumerate(EXAMPLE_FACTS.items()):
        messages.append({"role": "user", "content": f"{example if i == 0 else ''}Object: {name}"})
        messages.append({"role": "assistant", "content": f"{subject} | {phrase}"})
    passage = resolve_pronouns(neutralize_special_tokens(chunk.text), topic)
    messages.append({
        "role": "user",
        "content": f"Topic: {neutralize_special_tokens(topic) or 'none'}\n"
                   f"Names: {json.dumps(list(entities), ensure_ascii=False)}\nPassage: {passage}\nObject: {obj}",
    })
    return messages


def propose_triples(
    chunk: Chunk,
    generator: Generator,
    config: ExtractConfig,
    *,
    cancel: threading.Event | None = None,
    stats: GenerationStats | None = None,
    matcher: RelationMatcher | None = None,
) -> list[dict[str, str]] | None:
    """The model's triples for one chunk by `config.method`, before any check; None: nothing parseable.

    With a `matcher` the focused method also relates pairs no vocabulary phrasing joins, and offers
    the model the nouns a copula introduces as objects.
    """
    if config.method == "single":
        messages = extraction_messages(chunk, config.vocabulary)
        return parse_triples(_generate(generator, messages, TRIPLES_GRAMMAR, config.max_tokens, cancel, stats))
    entities = focused_entities(chunk, config.vocabulary, predicates=matcher is not None)
    vocabulary = [(name, config.vocabulary.canonical.get(name, ())) for name in config.vocabulary.names]
    phrases = relation_phrases(vocabulary)
    heading = heading_entity(chunk.heading)
    topic = heading if entities and entities[0] == heading else ""
    # The words that decide a relation see object pronouns as the heading's entity too ("Ajax have turned down a bid
    # for him"); the prompt keeps them, as the model's replies were measured on it.
    passage = resolve_pronouns(chunk.text, heading, objects=True)
    out: list[dict[str, str]] = []
    for obj in entities[1:] if len(entities) > 1 else []:
        others = [e for e in entities if e != obj]
        reply = _generate(generator, focused_messages(chunk, entities, obj, config.vocabulary),
                          fact_grammar(others, phrases), FACT_TOKENS, cancel, stats)
        subject, _, phrase = reply.partition(" | ")
        if stats is not None and stats.cancelled:
            break
        located = located_triple(passage, obj, others, config.vocabulary, matcher, heading)
        if located is not None:
            out.append(located)
        if not subject or phrase in ("", NO_RELATION):
            continue
        # The heading's entity is the next subject to try: most facts of a chunk under a name are about it.
        for head in dict.fromkeys(h for h in (subject, topic) if h and h != obj):
            if head != heading and located_triple(passage, head, [obj], config.vocabulary, matcher) is not None:
                # `head` is a place inside the object's noun phrase ("Spain club Real Madrid CF"): their one fact is
                # where the object stands, given when the place was the object. The heading's entity qualifies no
                # other name: a chunk is about it.
                continue
            relation = worded_relation(passage, head, obj, config.vocabulary, matcher, others)
            if relation is not None:
                # A place inside another name's noun phrase is where that name stands, not where `head` does.
                if located is None or relation != located["relation"]:
                    out.append({"subject": head, "relation": relation, "object": obj})
                break
    return out


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
    if phrase is None and number:  # the words after a number qualify it: "26 years old"
        phrase = vocabulary.find_phrase(beside)
    verbatim = vocabulary.worded_by(phrase) if phrase is not None else []
    if matcher is None:
        return verbatim[0] if verbatim else None
    return matcher.match([*between, *beside] if number else between, obj, verbatim)


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


def extract_chunk(
    chunk: Chunk,
    generator: Generator,
    merger: EntityMerger,
    config: ExtractConfig,
    *,
    cancel: threading.Event | None = None,
    stats: GenerationStats | None = None,
    matcher: RelationMatcher | None = None,
) -> ChunkTriples | None:
    """Triples of one chunk, or None when the reply had nothing parseable (a failed generation)."""
    raw = propose_triples(chunk, generator, config, cancel=cancel, stats=stats, matcher=matcher)
    if raw is None:
        return None
    kept, dropped = check_triples(raw, chunk, config.vocabulary)
    canonical = merger.resolve([name for s, _, o in kept for name in (s, o)])
    triples: list[Triple] = []
    for s, r, o in kept:
        head, tail = canonical[s], canonical[o]
        # Two different names can merge into one entity, which would make a self-loop.
        if normalise_entity(head) == normalise_entity(tail):
            dropped["subject is the object"] += 1
            continue
        triples.append(Triple(head, r, tail, source=chunk.chunk_id, doc_id=chunk.doc_id))
    return ChunkTriples(triples, len(raw), dropped)


def matcher_for(config: ExtractConfig, embedder: Embedder) -> RelationMatcher | None:
    """The relation matcher the focused method uses under `config`, or None (vocabulary phrasings only)."""
    if config.method != "focused" or config.relate_threshold is None:
        return None
    return RelationMatcher(embedder, config.vocabulary, threshold=config.relate_threshold)


def _eta(started: float, done: int, total: int) -> float | None:
    if done == 0:
        return None
    return (time.perf_counter() - started) / done * (total - done)


def build_graph(
    store: Store,
    graph: GraphStore,
    generator: Generator,
    embedder: Embedder,
    config: ExtractConfig | None = None,
    *,
    progress: Callable[[GraphBuildProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> GraphBuildReport:
    """Bring the graph up to date with the indexed documents; see the module docstring."""
    config = config or ExtractConfig()
    report = GraphBuildReport()
    started = time.perf_counter()
    documents = {d.doc_id: d for d in store.documents()}
    built = graph.built_chunks()
    stale = sorted(
        {doc for doc, digest in built.values() if doc not in documents or documents[doc].content_hash != digest}
    )
    if stale:
        report.documents_removed = sum(1 for d in stale if d not in documents)
        report.triples_removed = graph.delete_for_documents(stale)
        built = {c: v for c, v in built.items() if v[0] not in stale}
    todo: list[Chunk] = []
    for doc in sorted(documents.values(), key=lambda d: d.path):
        for chunk in store.doc_chunks(doc.doc_id):
            if chunk.chunk_id in built:
                report.chunks_skipped += 1
            else:
                todo.append(chunk)
    report.chunks_total = report.chunks_skipped + len(todo)
    merger = EntityMerger(embedder, config.merge_threshold)
    matcher = matcher_for(config, embedder) if todo else None
    merger.seed(graph)
    pending: list[Triple] = []
    marks: list[tuple[str, str, str, int]] = []

    def commit() -> None:
        added, entities = graph.add_triples(pending, {k: sorted(v) for k, v in merger.aliases.items()})
        report.triples_added += added
        report.entities_added += entities
        graph.mark_built(marks)
        pending.clear()
        marks.clear()

    for done, chunk in enumerate(todo, start=1):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        stats = GenerationStats()
        try:
            result = extract_chunk(chunk, generator, merger, config, cancel=cancel, stats=stats, matcher=matcher)
        except LocalRagError as exc:
            report.failed += 1
            report.errors.append(f"{chunk.path}#{chunk.index}: {exc}")
            result = None
        else:
            report.generation_seconds += stats.time_to_first_token + stats.generation_seconds
            report.generated_tokens += stats.completion_tokens
            if stats.cancelled:
                report.cancelled = True
                break
            if result is None:
                report.invalid_replies += 1
        if result is not None:
            report.chunks_extracted += 1
            report.proposed += result.proposed
            report.dropped.update(result.dropped)
            pending.extend(result.triples)
            marks.append((chunk.chunk_id, chunk.doc_id, documents[chunk.doc_id].content_hash, len(result.triples)))
        if len(marks) >= config.commit_every:
            commit()
        if progress is not None:
            progress(
                GraphBuildProgress(
                    done,
                    len(todo),
                    report.triples_added + len(pending),
                    chunk.path,
                    time.perf_counter() - started,
                    _eta(started, done, len(todo)),
                )
            )
    if marks or pending:
        commit()
    if report.triples_added or report.triples_removed:
        graph.index_columns()
        graph.columns()  # saved once at the end, not at every commit
    report.entities_merged = merger.merged
    report.seconds = time.perf_counter() - started
    return report
