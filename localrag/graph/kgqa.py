"""Knowledge-graph QA evaluation: the KGQA question format, its metrics, and a runner for graph mode.

The format is JSON Lines, one question a line:

    {"question": "where is the club that Alan_PULIDO plays for ?", "answers": ["Mexico"],
     "topic_entity": "Alan_PULIDO", "triples": "kb.tsv", "gold_path": ["plays_in_club", "is_in_country"],
     "id": "p2-1"}

`answers` (a list; one right answer is enough for Hits@1) and `topic_entity` (a name, or a list of
names for questions about several entities) are entity names as the triples file writes them;
`triples` is a TSV/CSV of head, relation, tail that `GraphStore.import_triples` reads, relative to the
JSONL file's folder; `gold_path` is optional: one relation path, or a list of them when several are
right. A malformed line stops the load with an error naming file:line, since a silently skipped
question would change every figure. `load_wc2014` reads the WC2014 football set's own files (WC-P2
two-hop paths, WC-C conjunctive pairs) into the same records.

Metrics, per question, averaged over the set: Hits@1 (the top answer is a right one), answer F1 (set
F1 of the predicted entities against the answer set, names normalised as the graph store does) and
path accuracy (the planner's top-1 relation path equals a gold one; only questions with a gold path
count). Graph mode predicts a set, not one entity: the candidates that tie with the top score, i.e.
the end entities of the best-ranked planned path that reached anything, which is what "which clubs
have a player from Mexico" asks for.

`run_kgqa` is what the evaluation harness calls: it imports each distinct triples file once into a
GraphStore under `work_dir`, loads its `GraphIndex`, answers every question with graph mode
(`reason.answer_question`) and returns one `KGQARecord` per question plus a `KGQASummary`. The topic
entity the data set gives is used for linking by default (`link="topic"`), so the figures measure
planning and reasoning; `link="text"` links from the question text like the assistant does.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from localrag.errors import LocalRagError
from localrag.graph.paths import GraphIndex, LinkedEntity
from localrag.graph.plan import EmbeddingPlanner, GrammarPlanner, Planner
from localrag.graph.reason import GraphAnswer, ModelReasoner, answer_question
from localrag.graph.store import GraphStore
from localrag.graph.triples import normalise_entity, normalise_relation
from localrag.jsonl import read_jsonl, write_jsonl

if TYPE_CHECKING:
    from localrag.embed import Embedder
    from localrag.generate import Generator

Progress = Callable[[int, int], None]
PLANNERS = ("embedding", "grammar")
REASONERS = ("paths", "model")
LINKS = ("topic", "text")


class KGQAFormatError(LocalRagError):
    title = "Bad KGQA file"


@dataclass(frozen=True)
class KGQAQuestion:
    """One question; `gold_paths` holds relation paths (tuples of relation names), possibly none."""

    question: str
    answers: tuple[str, ...]
    topics: tuple[str, ...]
    triples: Path
    gold_paths: tuple[tuple[str, ...], ...] = ()
    id: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "question": self.question,
            "answers": list(self.answers),
            "topic_entity": self.topics[0] if len(self.topics) == 1 else list(self.topics),
            "triples": str(self.triples),
        }
        if self.gold_paths:
            paths = [list(p) for p in self.gold_paths]
            out["gold_path"] = paths[0] if len(paths) == 1 else paths
        return out


def _names(value: object, key: str, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise KGQAFormatError(f"{where}: '{key}' must be a non-empty name or list of names", "fix the line")
    return tuple(v.strip() for v in items)


def _gold_paths(value: object, where: str) -> tuple[tuple[str, ...], ...]:
    if value is None or value == []:
        return ()
    paths = [value] if isinstance(value, list) and all(isinstance(v, str) for v in value) else value
    if not isinstance(paths, list) or not all(
        isinstance(p, list) and p and all(isinstance(r, str) and normalise_relation(r) for r in p) for p in paths
    ):
        raise KGQAFormatError(
            f"{where}: 'gold_path' must be a list of relation names or a list of such lists", "fix the line"
        )
    return tuple(tuple(normalise_relation(r) for r in p) for p in paths)


def parse_question(data: object, where: str, base: Path) -> KGQAQuestion:
    """One KGQA record from its decoded JSON; `where` (file:line) names it in errors."""
    if not isinstance(data, dict):
        raise KGQAFormatError(f"{where}: a line must be a JSON object", "write one question object per line")
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        raise KGQAFormatError(f"{where}: 'question' is missing or empty", "give the question text")
    for key in ("answers", "topic_entity", "triples"):
        if key not in data:
            raise KGQAFormatError(f"{where}: '{key}' is missing", "every line needs answers, topic_entity, triples")
    triples = data["triples"]
    if not isinstance(triples, str) or not triples.strip():
        raise KGQAFormatError(f"{where}: 'triples' must be the path of a triples file", "fix the line")
    return KGQAQuestion(
        question=question.strip(),
        answers=_names(data["answers"], "answers", where),
        topics=_names(data["topic_entity"], "topic_entity", where),
        triples=(base / triples).resolve(),
        gold_paths=_gold_paths(data.get("gold_path"), where),
        id=str(data.get("id", "")),
    )


def _lines(path: Path, kind: str, hint: str) -> list[str]:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KGQAFormatError(f"{path}: cannot read the {kind} file ({exc})", hint) from exc


def load_kgqa(path: Path, *, limit: int | None = None) -> list[KGQAQuestion]:
    """Questions of a KGQA JSONL file; blank lines are skipped, a malformed one raises KGQAFormatError."""
    path = Path(path)
    out: list[KGQAQuestion] = []
    for number, data in read_jsonl(path, error=KGQAFormatError):
        question = parse_question(data, f"{path}:{number}", path.parent)
        out.append(question if question.id else _with_id(question, f"{path.stem}-{number}"))
        if limit is not None and len(out) >= limit:
            break
    return out


def load_questions(path: Path, *, limit: int | None = None) -> list[KGQAQuestion]:
    """A KGQA JSONL file, or a WC2014 question file (WC-P2.txt, WC-C.txt)."""
    load = load_kgqa if _is_json_lines(Path(path)) else load_wc2014
    return load(Path(path), limit=limit)


def _is_json_lines(path: Path) -> bool:
    """By its suffix (.jsonl or .json, in any case), else by its first line: `q.JSONL` was read as a WC2014 file
    and refused as "is this a WC2014 file?"."""
    if path.suffix.lower() in (".jsonl", ".json"):
        return True
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as lines:
            return next((line.lstrip().startswith("{") for line in lines if line.strip()), False)
    except OSError:
        return False  # the loader says what is wrong with the file


def _with_id(question: KGQAQuestion, qid: str) -> KGQAQuestion:
    return dataclasses.replace(question, id=qid)


def write_kgqa(questions: Iterable[KGQAQuestion], path: Path) -> None:
    """Write questions as KGQA JSONL, triples paths relative to the file's folder where they can be."""
    path = Path(path)
    records = []
    for q in questions:
        record = q.to_json()
        try:
            record["triples"] = str(q.triples.relative_to(path.parent.resolve()))
        except ValueError:
            pass  # a triples file outside the folder keeps its absolute path
        records.append(record)
    write_jsonl(path, records)


def load_wc2014(path: Path, *, triples: Path | None = None, limit: int | None = None) -> list[KGQAQuestion]:
    """WC-P2.txt (two-hop) or WC-C.txt (conjunctive) questions; `triples` defaults to WC2014.txt beside it.

    Fields per line: question, answer, gold path(s), answer set joined by '/', facts. A P2 gold path
    is `head#r1#e1#r2#answer`; a C line has two one-hop constraints `head#r#e#<end>#e` joined by
    '*', so its topic entities are both heads and each constraint's relation is a gold path.
    """
    path = Path(path)
    kb = Path(triples) if triples is not None else path.with_name("WC2014.txt")
    lines = _lines(path, "WC2014", "pass WC-P2.txt or WC-C.txt")
    out: list[KGQAQuestion] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        fields = line.split("\t")
        if len(fields) < 4:
            raise KGQAFormatError(f"{where}: expected at least 4 tab-separated fields", "is this a WC2014 file?")
        topics: list[str] = []
        gold: list[tuple[str, ...]] = []
        for part in fields[2].split("*"):
            items = part.split("#")
            if len(items) != 5:
                raise KGQAFormatError(f"{where}: gold path '{part}' is not head#r1#e1#r2#tail", "is this WC-P2/WC-C?")
            topics.append(items[0])
            relations = (items[1],) if items[3] == "<end>" else (items[1], items[3])
            gold.append(tuple(normalise_relation(r) for r in relations))
        answers = tuple(a for a in fields[3].split("/") if a.strip()) or (fields[1],)
        out.append(
            KGQAQuestion(fields[0].strip(), answers, tuple(dict.fromkeys(topics)), kb.resolve(), tuple(gold),
                         f"{path.stem}-{number}")
        )
        if limit is not None and len(out) >= limit:
            break
    return out


# --- the same facts as text, for plain RAG over them ---------------------------------------------


def read_triples(path: Path) -> list[tuple[str, str, str]]:
    """(head, relation, tail) of a tab-separated triples file, surface names as written; other lines skipped."""
    out = []
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) == 3 and all(fields) and not fields[0].startswith("#"):
            out.append((fields[0], fields[1], fields[2]))
    return out


def forward(head: str, relation: str, tail: str) -> tuple[str, str, str]:
    """An `*_inverse` triple turned round to the relation it inverts: both state one fact."""
    if relation.endswith("_inverse"):
        return tail, relation.removesuffix("_inverse"), head
    return head, relation, tail


def fact_sentence(head: str, relation: str, tail: str) -> str:
    """'Alan PULIDO plays in club Tigres UANL.': the triple as one plain sentence, as a person might write it."""
    head, relation, tail = forward(head, relation, tail)
    return f"{head.replace('_', ' ')} {relation.replace('_', ' ')} {tail.replace('_', ' ')}."


def fact_sentences(triples: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """Forward triple -> its sentence, each fact once (a triple and its inverse share a sentence)."""
    out: dict[tuple[str, str, str], str] = {}
    for triple in triples:
        key = forward(*triple)
        out.setdefault(key, fact_sentence(*key))
    return out


# --- metrics -------------------------------------------------------------------------------------


def hits_at_1(predicted: Sequence[str], answers: Iterable[str]) -> float:
    """1.0 when the first prediction is one of the answers (names normalised), else 0.0."""
    gold = {normalise_entity(a) for a in answers}
    return float(bool(predicted) and normalise_entity(predicted[0]) in gold)


def answer_f1(predicted: Iterable[str], answers: Iterable[str]) -> float:
    """Set F1 of predicted against gold entities; 0.0 when either set is empty."""
    pred = {normalise_entity(p) for p in predicted}
    gold = {normalise_entity(a) for a in answers}
    common = len(pred & gold)
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def path_correct(planned: Sequence[str] | None, gold_paths: Iterable[Sequence[str]]) -> bool:
    """Whether the planned top-1 relation path is one of the gold paths."""
    if not planned:
        return False
    return tuple(planned) in {tuple(p) for p in gold_paths}


def predicted_entities(answer: GraphAnswer) -> list[str]:
    """The entity ids graph mode predicts: every candidate tied with the top score, best first.

    With the model reasoner the top candidate is the model's pick, whatever its score: it alone is predicted.
    """
    return [c.entity_id for c in answer.answers]


# --- running graph mode over a set ---------------------------------------------------------------


@dataclass
class KGQARecord:
    """One question's outcome; `path_ok` is None when the question has no gold path."""

    id: str
    question: str
    answers: list[str]
    linked: list[str]
    linked_how: list[str]
    planned: list[list[str]]
    planner: str
    prediction: str
    predicted: list[str]
    hit: float
    f1: float
    path_ok: bool | None
    paths: list[str]
    seconds: float
    # False when no answer is an entity of the question's triples file: the question cannot be answered right,
    # a typo in the set more often than a failure of graph mode (a run before this field: True).
    answers_in_graph: bool = True

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class KGQASummary:
    questions: int
    hits_at_1: float
    answer_f1: float
    path_accuracy: float | None
    with_gold_path: int
    linked: float
    planner: str
    reasoner: str
    link: str
    seconds_per_question: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class KGQAResult:
    records: list[KGQARecord]
    summary: KGQASummary


def summarise(records: Sequence[KGQARecord], *, planner: str, reasoner: str, link: str) -> KGQASummary:
    n = len(records)
    gold = [r for r in records if r.path_ok is not None]
    return KGQASummary(
        questions=n,
        hits_at_1=round(sum(r.hit for r in records) / n, 4) if n else 0.0,
        answer_f1=round(sum(r.f1 for r in records) / n, 4) if n else 0.0,
        path_accuracy=round(sum(bool(r.path_ok) for r in gold) / len(gold), 4) if gold else None,
        with_gold_path=len(gold),
        linked=round(sum(bool(r.linked) for r in records) / n, 4) if n else 0.0,
        planner=planner,
        reasoner=reasoner,
        link=link,
        seconds_per_question=round(sum(r.seconds for r in records) / n, 4) if n else 0.0,
    )


def _in_graph(index: GraphIndex, name: str) -> bool:
    norm = normalise_entity(name)
    return norm in index.names or norm in index.aliases


def link_topics(index: GraphIndex, topics: Sequence[str]) -> list[LinkedEntity]:
    """The data set's topic entities as linked entities, by normalised name or alias; unknown ones dropped."""
    out = []
    for topic in topics:
        norm = normalise_entity(topic)
        eid = norm if norm in index.names else index.aliases.get(norm)
        if eid is not None:
            out.append(LinkedEntity(eid, index.names[eid], 1.0, "topic", norm))
    return out


def evaluate_graph(
    questions: Sequence[KGQAQuestion],
    index: GraphIndex,
    planner: Planner,
    *,
    embedder: Embedder | None = None,
    reasoner: ModelReasoner | None = None,
    link: str = "topic",
    k: int = 3,
    progress: Progress | None = None,
    on_record: Callable[[KGQARecord], None] | None = None,
) -> list[KGQARecord]:
    """Graph mode on each question over one already loaded index; one record per question, in order, each also
    handed to `on_record` as it is made (a run cut short keeps what it answered)."""
    if link not in LINKS:
        raise ValueError(f"link must be one of {LINKS}")
    records: list[KGQARecord] = []
    for done, q in enumerate(questions, start=1):
        started = time.perf_counter()
        linked = link_topics(index, q.topics) if link == "topic" else None
        result = answer_question(q.question, index, planner, embedder=embedder, reasoner=reasoner,
                                 linked=linked or None, k=k)
        predicted = predicted_entities(result)
        top = [result.candidates[0].entity_id] if result.candidates else []
        records.append(
            KGQARecord(
                id=q.id,
                question=q.question,
                answers=list(q.answers),
                linked=[e.entity_id for e in result.linked],
                linked_how=[e.how for e in result.linked],
                planned=[list(p.relations) for p in result.planned],
                planner=result.planned[0].planner if result.planned else planner.name,
                prediction=result.answer,
                predicted=predicted,
                hit=hits_at_1(top, q.answers),
                f1=answer_f1(predicted, q.answers),
                path_ok=path_correct(result.planned[0].relations if result.planned else None, q.gold_paths)
                if q.gold_paths
                else None,
                paths=[p.render(index.names) for p in result.supporting[:3]],
                seconds=round(time.perf_counter() - started, 4),
                answers_in_graph=any(_in_graph(index, answer) for answer in q.answers),
            )
        )
        if on_record is not None:
            on_record(records[-1])
        if progress is not None:
            progress(done, len(questions))
    return records


def load_triples_index(triples: Path, embedder: Embedder, work_dir: Path) -> GraphIndex:
    """Import a triples file into a GraphStore under `work_dir` (once per file content) and load its index."""
    triples = Path(triples)
    if not triples.is_file():
        raise KGQAFormatError(f"{triples}: the triples file does not exist", "check the 'triples' field")
    digest = hashlib.sha256(triples.read_bytes()).hexdigest()[:16]
    store = GraphStore(Path(work_dir) / f"kg-{digest}", embedder)
    if not store.stats().triples:
        report = store.import_triples(triples)
        if not report.triples:
            raise KGQAFormatError(f"{triples}: no triple could be imported", "check it is a head/relation/tail TSV")
    return GraphIndex.load(store)


def run_kgqa(
    questions: Sequence[KGQAQuestion],
    *,
    embedder: Embedder,
    work_dir: Path,
    generator: Generator | None = None,
    planner: str = "embedding",
    reasoner: str = "paths",
    link: str = "topic",
    k: int = 3,
    max_hops: int = 3,
    progress: Progress | None = None,
    on_record: Callable[[KGQARecord], None] | None = None,
) -> KGQAResult:
    """Graph mode over a KGQA set: records in question order and the summary; see the module docstring.

    `planner="grammar"` and `reasoner="model"` need `generator`; `max_hops` bounds the planned paths.
    Graph stores are kept in `work_dir` (keyed by the triples file's content), so a second run over
    the same file does not re-import it.
    """
    if planner not in PLANNERS or reasoner not in REASONERS:
        raise ValueError(f"planner must be one of {PLANNERS}, reasoner one of {REASONERS}")
    if generator is None and (planner == "grammar" or reasoner == "model"):
        raise ValueError("the grammar planner and the model reasoner need a generator")
    ranker = EmbeddingPlanner(embedder, max_hops)  # also picks the paths the grammar planner offers
    chosen: Planner = ranker
    if planner == "grammar":
        chosen = GrammarPlanner(generator, max_hops, ranker=ranker)  # type: ignore[arg-type]
    model = ModelReasoner(generator) if reasoner == "model" and generator is not None else None
    by_file: dict[Path, list[int]] = {}
    for i, q in enumerate(questions):
        by_file.setdefault(q.triples, []).append(i)
    records: list[KGQARecord | None] = [None] * len(questions)
    done = 0
    for triples, positions in by_file.items():
        index = load_triples_index(triples, embedder, work_dir)
        offset = done

        def step(n: int, _total: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + n, len(questions))

        part = evaluate_graph([questions[i] for i in positions], index, chosen, embedder=embedder,
                              reasoner=model, link=link, k=k, progress=step, on_record=on_record)
        for i, record in zip(positions, part, strict=True):
            records[i] = record
        done += len(positions)
    finished = [r for r in records if r is not None]
    return KGQAResult(finished, summarise(finished, planner=planner, reasoner=reasoner, link=link))
