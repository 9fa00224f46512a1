"""RoG-style training data from a knowledge graph and its questions: planning and reasoning examples.

Reasoning on Graphs (Luo et al. 2024) tunes one model for two jobs, and so does this set:

- planning: question -> the relation path that leads from the question's entity to its answer.
  The target is the gold relation path when the question has one and it reaches an answer in the
  graph; otherwise the shortest relation sequences (up to `max_hops`) that lead from the topic
  entity to any answer are found by search, as RoG does, keeping at most `max_plans` of them (one
  example each). A question no path answers is dropped and counted.
- reasoning: question + numbered reasoning paths -> the number of a path that ends at an answer.
  The listing mixes the paths along the target relation paths with paths along `distractor_plans`
  other relation sequences from the same entity (seeded choice), shuffled, at most `max_paths`, so
  the model has to read the paths, not learn that the answer is path 1.

Both prompts are the ones graph mode uses at run time (`plan.plan_messages` with the relations the
grammar planner would list for that entity; `reason.reason_messages`, answered with a path number
as `ModelReasoner` expects), so what the model learns is what it is asked. Records are chat
messages, `{"messages": [system, user, assistant]}`, the shape of `localrag.raft`'s chat files,
written to `{train,validation,test}.chat.jsonl` so the fine-tune step reads a graph set exactly as
it reads a RAFT set (or both, concatenated). The split is by topic entity: all questions about one
entity land on one side, so validation measures planning for entities the model has not seen.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from localrag.atomic import write_text_atomic
from localrag.graph.kgqa import KGQAQuestion, link_topics
from localrag.graph.paths import GraphIndex, LinkedEntity, ReasoningPath
from localrag.graph.plan import SEPARATOR, plan_messages
from localrag.graph.reason import reason_messages
from localrag.graph.triples import normalise_entity
from localrag.jsonl import write_jsonl
from localrag.raft.dataset import SPLITS, split_groups

KINDS = ("plan", "reason")


@dataclass(frozen=True)
class GraphTrainingConfig:
    """How the graph examples are drawn."""

    # Longest relation path searched; RoG and the KGQA sets stay within 2 hops, and each hop more
    # multiplies the sequences to try from a hub entity.
    max_hops: int = 2
    # Answer-reaching relation paths kept per question, one planning example each: the planner's beam.
    max_plans: int = 3
    # Other relation sequences whose paths are mixed into a reasoning example as distractors.
    distractor_plans: int = 2
    # Paths listed in a reasoning example; ModelReasoner shows at most 20 at run time.
    max_paths: int = 20
    # Which kinds of example to make.
    kinds: tuple[str, ...] = KINDS
    # Seeds the distractor choice, the shuffles and the split, so a re-run builds the same set.
    seed: int = 0
    # Target shares of questions for train / validation / test; a topic entity is never split.
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)

    def __post_init__(self) -> None:
        if self.max_hops < 1 or self.max_plans < 1 or self.max_paths < 1 or self.distractor_plans < 0:
            raise ValueError("max_hops, max_plans and max_paths must be >= 1, distractor_plans >= 0")
        if not self.kinds or any(k not in KINDS for k in self.kinds):
            raise ValueError(f"kinds must be a non-empty subset of {KINDS}")
        if len(self.split) != 3 or min(self.split) < 0 or sum(self.split) <= 0:
            raise ValueError("split needs three non-negative shares")


@dataclass
class GraphExample:
    """One chat example; `path` is the target relation path (plan) or the path the answer cites (reason)."""

    kind: str
    question: str
    topic: str
    messages: list[dict[str, str]]
    path: list[str]
    origin: str  # "gold" (the data set's path) or "search" (found in the graph)
    split: str = "train"
    id: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def chat_record(self) -> dict[str, object]:
        return {"messages": self.messages}


@dataclass
class GraphTrainingReport:
    questions: int = 0
    examples: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    origins: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, object]:
        return {
            "questions": self.questions,
            "examples": dict(self.examples),
            "dropped": dict(self.dropped),
            "origins": dict(self.origins),
        }


def answer_paths(
    index: GraphIndex, starts: Sequence[str], answers: set[str], config: GraphTrainingConfig
) -> list[tuple[str, ...]]:
    """The shortest relation sequences from `starts` whose paths reach an answer, at most `max_plans`."""
    found: list[tuple[str, ...]] = []
    for sequence in sorted(index.relation_sequences(starts, config.max_hops), key=len):
        if found and len(sequence) > len(found[0]):
            break
        if any(p.end in answers for p in index.follow(starts, sequence)):
            found.append(sequence)
            if len(found) >= config.max_plans:
                break
    return found


def assign_splits(groups: Sequence[str], config: GraphTrainingConfig) -> dict[str, str]:
    """topic entity -> split, with the RAFT set's rule (whole groups, seeded, toward each share)."""
    return split_groups(groups, config.split, config.seed)


def _linked(index: GraphIndex, question: KGQAQuestion) -> list[LinkedEntity]:
    return link_topics(index, question.topics) or index.link(question.question)


def _rng(config: GraphTrainingConfig, question: KGQAQuestion) -> random.Random:
    digest = hashlib.sha256(f"{config.seed}\x00{question.id}\x00{question.question}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "little"))


def _reasoning_listing(
    index: GraphIndex,
    starts: Sequence[str],
    targets: Sequence[tuple[str, ...]],
    answers: set[str],
    config: GraphTrainingConfig,
    rng: random.Random,
) -> tuple[list[ReasoningPath], int]:
    """Answer paths plus distractor paths, shuffled; returns them and the 1-based number of an answer path.

    Paths along a target relation path that end elsewhere are distractors too: at run time the
    planned path's wrong ends are listed beside its right ones.
    """
    along = [p for seq in targets for p in index.follow(starts, seq)]
    right = [p for p in along if p.end in answers]
    others = [s for s in index.relation_sequences(starts, config.max_hops) if s not in set(targets)]
    chosen = rng.sample(others, min(config.distractor_plans, len(others)))
    wrong = [p for p in along if p.end not in answers]
    for seq in chosen:
        wrong += [p for p in index.follow(starts, seq, max_paths=config.max_paths) if p.end not in answers]
    rng.shuffle(wrong)
    keep_right = max(1, config.max_paths - len(wrong))
    shown = right[:keep_right] + wrong[: config.max_paths - min(len(right), keep_right)]
    rng.shuffle(shown)
    number = next(i for i, p in enumerate(shown, start=1) if p.end in answers)
    return shown, number


def build_graph_examples(
    questions: Sequence[KGQAQuestion], index: GraphIndex, config: GraphTrainingConfig | None = None
) -> tuple[list[GraphExample], GraphTrainingReport]:
    """Planning and reasoning examples for each usable question, in question order; see the module docstring."""
    config = config or GraphTrainingConfig()
    report = GraphTrainingReport(questions=len(questions))
    prepared: list[tuple[KGQAQuestion, list[LinkedEntity]]] = []
    seen: set[tuple[str, str]] = set()
    for q in questions:
        key = (" ".join(q.question.lower().split()), normalise_entity(q.topics[0]))
        if key in seen:
            report.dropped["duplicate"] += 1
            continue
        seen.add(key)
        linked = _linked(index, q)
        if not linked:
            report.dropped["topic entity not in the graph"] += 1
            continue
        prepared.append((q, linked))
    splits = assign_splits([linked[0].entity_id for _, linked in prepared], config)
    examples: list[GraphExample] = []
    for q, linked in prepared:
        starts = [e.entity_id for e in linked]
        answers = {normalise_entity(a) for a in q.answers}
        gold = [p for p in q.gold_paths if any(r.end in answers for r in index.follow(starts, p))]
        if q.gold_paths and not gold:
            report.dropped["gold path reaches no answer (searched instead)"] += 1
        if gold:
            targets, origin = gold[: config.max_plans], "gold"
        else:
            targets, origin = answer_paths(index, starts, answers, config), "search"
        if not targets:
            report.dropped["no path reaches an answer"] += 1
            continue
        report.origins[origin] += 1
        split = splits[linked[0].entity_id]
        topic = linked[0].name
        if "plan" in config.kinds:
            candidates = index.relation_sequences(starts, config.max_hops)
            relations = sorted({r for seq in candidates for r in seq})
            prompt = plan_messages(q.question, relations, linked)
            for target in targets:
                messages = [*prompt, {"role": "assistant", "content": SEPARATOR.join(target)}]
                examples.append(GraphExample("plan", q.question, topic, messages, list(target), origin, split, q.id))
        if "reason" in config.kinds:
            shown, number = _reasoning_listing(index, starts, targets, answers, config, _rng(config, q))
            messages = [*reason_messages(q.question, index, shown), {"role": "assistant", "content": str(number)}]
            cited = list(shown[number - 1].relations)
            examples.append(GraphExample("reason", q.question, topic, messages, cited, origin, split, q.id))
    report.examples.update(f"{e.split}.{e.kind}" for e in examples)
    return examples, report


def write_graph_dataset(
    examples: Sequence[GraphExample], report: GraphTrainingReport, out_dir: Path
) -> dict[str, int]:
    """{split}.chat.jsonl (the fine-tune input), graph_examples.jsonl (every field) and graph_report.json.

    Returns the number of chat records written per split.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for split in SPLITS:
        chosen = [e for e in examples if e.split == split]
        write_jsonl(out_dir / f"{split}.chat.jsonl", [e.chat_record() for e in chosen])
        counts[split] = len(chosen)
    write_jsonl(out_dir / "graph_examples.jsonl", [e.to_json() for e in examples])
    write_text_atomic(out_dir / "graph_report.json", json.dumps(report.to_json(), indent=2) + "\n")
    return counts
