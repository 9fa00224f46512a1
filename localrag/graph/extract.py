"""Triples from the user's chunks: a local GGUF model held to a JSON grammar, then checked and merged.

Two methods propose triples (`ExtractConfig.method`, `graph build --method`):
- "focused", the default: the chunk's names first, then for each name the entity it is a fact
  about and the relation the passage words between them (localrag/graph/focused.py and
  localrag/graph/wording.py), by a phrasing of the vocabulary or, with the relation matcher
  `build_graph` uses (localrag/graph/relate.py), by what the joining words mean and what kind of
  thing the object is. On WC2014 profiles it kept triples at precision 0.88, recall 0.71 where
  "single" reached recall 0.03, and recall 0.53 / 0.42 / 0.46 / 0.43 / 0.39 at precision 0.78 /
  0.61 / 0.81 / 0.89 / 0.65 on five sets of wordings written after the vocabulary
  (`benchmarks/bench_graph_extract.py --set paragraphs --paragraphs 12`; benchmarks/README.md,
  "Graph mode, eighth round" and its amendment).
- "single": a few-shot prompt (a worked example as an earlier user/assistant turn, because a
  135M model copies a shown format far better than it follows a described one) and a reply
  under `TRIPLES_GRAMMAR`: a JSON list of at most `MAX_TRIPLES` objects
  `{"subject", "relation", "object"}` with bounded string lengths, so every reply is parseable and
  cannot run on. A reply cut by the token budget keeps its complete objects.
Both methods' prompts, worked examples and grammar are in localrag/graph/extract_prompts.py.

Each proposed triple then goes through checks that a small model needs (localrag/graph/triple_checks.py):
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

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from localrag.errors import LocalRagError
from localrag.graph.extract_prompts import (
    FACT_TOKENS,
    TRIPLES_GRAMMAR,
    extraction_messages,
    focused_messages,
    parse_triples,
)
from localrag.graph.focused import (
    MAX_ENTITIES,
    NO_RELATION,
    fact_grammar,
    heading_entity,
    mentions,
    relation_phrases,
    resolve_pronouns,
)
from localrag.graph.relate import THRESHOLD as RELATE_THRESHOLD
from localrag.graph.relate import RelationMatcher
from localrag.graph.store import GraphStore
from localrag.graph.triple_checks import EntityMerger, check_triples, occurs_in
from localrag.graph.triples import Triple, normalise_entity
from localrag.graph.vocabulary import PREDICATE_NOUN, RelationVocabulary
from localrag.graph.wording import located_triple, worded_relation
from localrag.sizes import count_text
from localrag.types import Chunk, Document, GenerationStats

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.generate import Generator
    from localrag.store import Store


# Why a pair the focused method's model related has no triple: no relation of the vocabulary is worded between them.
NOT_WORDED = "no relation of the vocabulary worded between them"

# Commits between compactions of the graph's tables during a build (benchmarks/README.md, "Graph tables
# compacted").
COMPACT_EVERY = 8


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


def propose_triples(
    chunk: Chunk,
    generator: Generator,
    config: ExtractConfig,
    *,
    cancel: threading.Event | None = None,
    stats: GenerationStats | None = None,
    matcher: RelationMatcher | None = None,
    dropped: Counter[str] | None = None,
) -> list[dict[str, str]] | None:
    """The model's triples for one chunk by `config.method`, before any check; None: nothing parseable.

    With a `matcher` the focused method also relates pairs no vocabulary phrasing joins, and offers
    the model the nouns a copula introduces as objects. A pair the model related that no relation of the
    vocabulary relates in the passage is counted in `dropped` (`NOT_WORDED`), so a build that keeps
    nothing says why.
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
        related = False
        # The heading's entity is the next subject to try: most facts of a chunk under a name are about it.
        for head in dict.fromkeys(h for h in (subject, topic) if h and h != obj):
            if head != heading and located_triple(passage, head, [obj], config.vocabulary, matcher) is not None:
                # `head` is a place inside the object's noun phrase ("Spain club Real Madrid CF"): their one fact is
                # where the object stands, given when the place was the object. The heading's entity qualifies no
                # other name: a chunk is about it.
                related = True
                continue
            relation = worded_relation(passage, head, obj, config.vocabulary, matcher, others)
            if relation is not None:
                related = True
                # A place inside another name's noun phrase is where that name stands, not where `head` does.
                if located is None or relation != located["relation"]:
                    out.append({"subject": head, "relation": relation, "object": obj})
                break
        if not related and dropped is not None:
            dropped[NOT_WORDED] += 1
    return out


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
    unrelated: Counter[str] = Counter()
    raw = propose_triples(chunk, generator, config, cancel=cancel, stats=stats, matcher=matcher, dropped=unrelated)
    if raw is None:
        return None
    kept, dropped = check_triples(raw, chunk, config.vocabulary)
    dropped.update(unrelated)
    canonical = merger.resolve([name for s, _, o in kept for name in (s, o)])
    triples: list[Triple] = []
    for s, r, o in kept:
        head, tail = canonical[s], canonical[o]
        # Two different names can merge into one entity, which would make a self-loop.
        if normalise_entity(head) == normalise_entity(tail):
            dropped["subject is the object"] += 1
            continue
        triples.append(Triple(head, r, tail, source=chunk.chunk_id, doc_id=chunk.doc_id))
    return ChunkTriples(triples, len(raw) + unrelated.total(), dropped)


def matcher_for(config: ExtractConfig, embedder: Embedder) -> RelationMatcher | None:
    """The relation matcher the focused method uses under `config`, or None (vocabulary phrasings only)."""
    if config.method != "focused" or config.relate_threshold is None:
        return None
    return RelationMatcher(embedder, config.vocabulary, threshold=config.relate_threshold)


def _eta(started: float, done: int, total: int) -> float | None:
    if done == 0:
        return None
    return (time.perf_counter() - started) / done * (total - done)


def stale_graph_documents(documents: Mapping[str, Document], built: Mapping[str, tuple[str, str]]) -> list[str]:
    """The documents whose triples were drawn from text the index no longer holds: forgotten, gone from a
    folder an ingest read again, or changed since (`built`: chunk id -> (doc id, content hash), as
    `GraphStore.built_chunks` gives it)."""
    return sorted(
        {doc for doc, digest in built.values() if doc not in documents or documents[doc].content_hash != digest}
    )


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
    stale = stale_graph_documents(documents, built)
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

    commits = 0

    def commit() -> None:
        nonlocal commits
        added, entities = graph.add_triples(pending, {k: sorted(v) for k, v in merger.aliases.items()})
        report.triples_added += added
        report.entities_added += entities
        graph.mark_built(marks)
        pending.clear()
        marks.clear()
        commits += 1
        if commits % COMPACT_EVERY == 0:  # each commit reads the entities: many fragments slow every next one
            graph.compact()

    try:
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
    except KeyboardInterrupt:
        # Ctrl-C in the CLI comes here, not through `cancel`: the chunks read so far are whole, so they are kept
        # (up to `commit_every` chunks of work were lost) and the next build goes on after them.
        if marks or pending:
            commit()
        raise
    if marks or pending:
        commit()
    graph.compact()  # also a graph built before builds compacted it: then nothing else may be new
    if report.triples_added or report.triples_removed:
        graph.index_columns()
        graph.columns()  # saved once at the end, not at every commit
    report.entities_merged = merger.merged
    report.seconds = time.perf_counter() - started
    return report
