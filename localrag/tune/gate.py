"""The gate at the end of `localrag tune`: is the tuned model better than its base on documents it never saw?

How it works. The RAFT set is split by document (`localrag.raft.dataset`), so its test and validation
splits hold questions about documents no training example came from (validation loss is only watched,
never used to pick a checkpoint); the gate asks both. Those questions, with the user's own
ingested chunks as the corpus, become an `EvalDataset`, and `localrag eval`'s runner answers each of
them twice through the answer path of `localrag ask` (hybrid retrieval, the cited-answer prompt,
greedy decoding): once with the base GGUF, once with the tuned one. The score is token F1 of the
answer (of a RAFT reply, the part after `<ANSWER>:`), and the verdict rests on the paired bootstrap
interval of tuned minus base over the same questions (`localrag.evaluate.metrics.paired_difference`):
"better" only when the whole 95 % interval lies above zero and at least `localrag.evaluate.metrics.MIN_QUESTIONS`
questions were answered by both (`difference_verdict`, the rule `localrag eval` says its differences by).
A difference inside the noise, too few questions to judge, or no comparison at all
(no held-out questions, a base that is not a GGUF) is "not better", and the user's default model stays
what it was unless they ask for the tuned one with `--force-default`.

The comparison is an ordinary eval run in data_dir/tune/NAME/gate/: resumed question by question
after a stop, and readable with `localrag eval show`. Its cost is two answers per question, for at
most `GATE_QUESTIONS` questions, over a corpus cut to `GATE_MAX_DOCUMENTS` chunks (the gold ones
first; retrieval is then a little easier than in the full index, for both models alike).

Beside the verdict. The same questions are answered once more with `ask --extract` (the sources' best
sentence, no model; an eval run in data_dir/tune/NAME/gate-extract/), and its paired token F1 difference
against both models goes on the card: with the bundled model that sentence has scored about twice either
model's answer (benchmarks/README.md, "RAFT on all of COVID-QA"), and a user should hear so from the
command that measured it. It never changes the verdict or the default.

Reuse. `verdict` and `GateResult` know nothing about generators: a tuned embedder is judged by the
same rule from per-question retrieval scores (say recall@k) of the base and the tuned embedder, and
`record_gate` writes any verdict into a model card (JSON and Markdown); `make_default` applies the
default-model rule. The wording of a verdict is `localrag.models.gate_summary`, shared by every front end.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localrag.jsonl import read_jsonl
from localrag.models import card_section, gate_summary
from localrag.paths import typed_path

if TYPE_CHECKING:
    from localrag.config import Settings
    from localrag.embed import Embedder
    from localrag.evaluate.datasets import EvalDataset
    from localrag.evaluate.runner import EvalProgress
    from localrag.generate import Generator
    from localrag.types import Chunk

# 100 questions give a paired interval of a few F1 points (benchmarks/README.md, "RAG vs RAFT-tuned + RAG"), and
# each costs two answers at the end of `tune`. A gain of that size needs more: the sentence-layout model's +2.5
# points cleared zero on 600 questions, not on 300 ("RAFT in the sentence layout, replicated"), so `tune
# --gate-questions N` asks up to N where the held-out split has them.
GATE_QUESTIONS = 100
# Re-embedding the corpus for the comparison costs about a second per 100 chunks on two cores.
GATE_MAX_DOCUMENTS = 2000
METRIC_LABELS = {"f1": "token F1", "recall@k": "recall@k", "hit": "substring hit", "em": "EM"}
# Figures of each model kept on the card beside the verdict (eval's names; missing ones are left out).
CARD_FIGURES = ("f1", "em", "citation_precision", "citation_support", "quote_rate", "recall@k")


@dataclass(frozen=True)
class GateResult:
    """A tuned model against its base on the same held-out questions (fractions: 0.05 is 5 points).

    `verdict` is "better" (the interval of tuned - base lies above 0), "not better", or "not compared"
    with `reason`. `figures` maps "base" / "tuned" to eval's formatted figures for the card.
    """

    verdict: str
    metric: str
    difference: float | None = None
    low: float | None = None
    high: float | None = None
    questions: int = 0
    base: str = ""
    tuned: str = ""
    reason: str = ""
    figures: dict[str, dict[str, str]] = field(default_factory=dict)
    run_dir: str = ""
    split: str = "test"
    # The sources' best sentence without a model (`ask --extract`) on the same questions: `extract_figures`.
    extract: dict[str, Any] = field(default_factory=dict)
    # The most questions the gate asked for (`tune --gate-questions`); a verdict written before the option: 100.
    limit: int = GATE_QUESTIONS
    # The held-out questions there were to ask (0: not counted), so a verdict inside the noise can say how many
    # more a larger --gate-questions would add.
    available: int = 0

    @property
    def better(self) -> bool:
        return self.verdict == "better"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "metric_label": METRIC_LABELS.get(self.metric, self.metric)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GateResult:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def describe(self) -> str:
        """"better than base: +X [lo, hi] token F1 points, N held-out questions" or "not better than base: ..."."""
        return gate_summary({"gate": self.to_json()})


def not_compared(reason: str, *, metric: str = "f1", base: str = "", tuned: str = "") -> GateResult:
    return GateResult("not compared", metric, base=base, tuned=tuned, reason=reason)


def from_difference(
    difference: Mapping[str, Any], *, metric: str, base: str, tuned: str, **extra: Any
) -> GateResult:
    """A verdict from a paired difference (`Figure.to_json()`: value, low, high, n) of tuned - base."""
    from localrag.evaluate.metrics import TOO_FEW, Figure, difference_verdict

    value, low, high, n = (difference.get(k) for k in ("value", "low", "high", "n"))
    if value is None or low is None or high is None or not n:
        return not_compared("no question was answered by both models", metric=metric, base=base, tuned=tuned)
    # eval's rule (`difference_verdict`), so a run judged by both says the same: the gate's "not better" is eval's
    # "worse" or "no clear difference", and its caveat eval's under too few questions.
    said, why = difference_verdict(Figure(float(value), float(low), float(high), int(n)))
    reason = f"{TOO_FEW}: {why}" if said == TOO_FEW else ""
    return GateResult("better" if said == "better" else "not better", metric, float(value), float(low),
                      float(high), int(n), base, tuned, reason=reason, **extra)


def verdict(
    base_values: Sequence[float], tuned_values: Sequence[float], *, metric: str, base: str = "", tuned: str = "",
    seed: int = 0, figures: dict[str, dict[str, str]] | None = None,
) -> GateResult:
    """The verdict from per-question scores of base and tuned on the same questions, in the same order."""
    from localrag.evaluate.metrics import paired_difference

    if len(base_values) != len(tuned_values):
        raise ValueError("base and tuned scores must cover the same questions")
    diff = paired_difference(base_values, tuned_values, seed=seed)
    return from_difference(diff.to_json(), metric=metric, base=base, tuned=tuned, figures=figures or {})


# -- the tuned generator against its base --------------------------------------------------------


def gate_dataset(raft_dir: Path, chunks: Sequence[Chunk]) -> EvalDataset:
    """The RAFT set's test and validation questions over the user's chunks, each chunk a document.

    The data set's `name` says which splits the questions came from ("test", "validation" or
    "test+validation"); test questions come first, so a `GATE_QUESTIONS` cut keeps them.
    """
    from localrag.evaluate.datasets import EvalDataset, EvalDocument, EvalQuestion, digested

    by_split: dict[str, list[EvalQuestion]] = {"test": [], "validation": []}
    path = Path(raft_dir) / "examples.jsonl"
    for number, example in read_jsonl(path):
        split = example.get("split")
        if split in by_split:
            by_split[split].append(EvalQuestion(f"{split}-{number}", str(example["question"]),
                                                (str(example["answer"]),),
                                                gold_ids=(str(example["oracle"]["doc_id"]),)))
    name = "+".join(split for split, questions in by_split.items() if questions) or "test"
    documents = [EvalDocument(c.doc_id, c.text) for c in chunks]
    # Known by what it holds, so a data folder moved elsewhere resumes a stopped gate.
    return digested(EvalDataset(name, "extractive", str(path), by_split["test"] + by_split["validation"], documents,
                                split_note=f"held out by tune: the Q&A set's {name.replace('+', ' and ')} questions, "
                                           "from documents no training example came from"))


def compare_generators(
    dataset: EvalDataset,
    base_spec: str,
    tuned_spec: str,
    run_dir: Path,
    *,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    generator_for: Callable[[str], Generator] | None = None,
    limit: int = GATE_QUESTIONS,
    max_documents: int = GATE_MAX_DOCUMENTS,
    progress: Callable[[EvalProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> GateResult | None:
    """Base + RAG vs tuned + RAG on `dataset` through `localrag eval`; None when cancelled (resumable)."""
    from localrag.evaluate.report import format_figure, summarise
    from localrag.evaluate.runner import EvalConfig, holds_other_run, run_eval

    if not dataset.questions:
        return not_compared("the Q&A set has no test or validation questions", base=base_spec, tuned=tuned_spec)
    # Both models answer as the user's own settings let them, never longer than an eval answer.
    answer_tokens = EvalConfig.max_answer_tokens
    if settings is not None:
        answer_tokens = min(answer_tokens, settings.max_answer_tokens)
    config = EvalConfig(modes=("rag",), models=(base_spec, tuned_spec), limit=limit, side="all",
                        max_documents=max_documents, max_answer_tokens=answer_tokens,
                        prompt_sentences=EvalConfig.prompt_sentences if settings is None else settings.prompt_sentences)
    if holds_other_run(run_dir, config.fingerprint(dataset), config.fingerprints(dataset)):
        # A gate stopped under another answer cap is judged again from the start, not refused by eval's runner.
        shutil.rmtree(run_dir)
    run = run_eval(dataset, run_dir, config, settings=settings, embedder=embedder, generator_for=generator_for,
                   progress=progress, cancel=cancel)
    if run.cancelled:
        return None
    summary = summarise(run_dir)
    rows = {row.model: row for row in summary.rows}
    figures = {
        side: {name: format_figure(rows[spec].figures.get(name), name) for name in CARD_FIGURES
               if name in rows[spec].figures}
        for side, spec in (("base", base_spec), ("tuned", tuned_spec)) if spec in rows
    }
    difference = dict(summary.differences[0]) if summary.differences else {}
    if difference and difference.get("a") != f"{base_spec}/rag":
        # eval reports B - A with A the first model in its records; the verdict needs tuned - base.
        value, low, high = (difference.get(k) for k in ("value", "low", "high"))
        if value is not None and low is not None and high is not None:
            difference.update(value=-value, low=-high, high=-low)
    return from_difference(difference, metric=summary.headline, base=base_spec, tuned=tuned_spec,
                           figures=figures, run_dir=str(run_dir), split=dataset.name)


def extract_figures(
    dataset: EvalDataset,
    run_dir: Path,
    answered_dir: Path,
    specs: Mapping[str, str],
    *,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    limit: int = GATE_QUESTIONS,
    cancel: threading.Event | None = None,
) -> dict[str, Any] | None:
    """`ask --extract` (no model) on the questions of the eval run in `answered_dir`, and its paired token F1
    difference against each of `specs` (side -> model spec, as in that run's records); None when cancelled.

    {"f1": "19.8 [16.1, 23.7]", "questions": N, "against": {side: {value, low, high, n}}, "better": bool}: extract
    minus the side, so above zero is the extracted sentence scoring higher; "better" as the gate's verdict would
    say it against every side. A tuned model that loses to it, or a base that does, is worth knowing: the user
    can answer that way today, at a fraction of the time.
    """
    from localrag.evaluate.metrics import mean_figure, paired_difference
    from localrag.evaluate.report import format_figure
    from localrag.evaluate.runner import RUN_FILE, EvalConfig, holds_other_run, read_records, run_eval

    config = EvalConfig(modes=("extract",), limit=limit, side="all", max_documents=GATE_MAX_DOCUMENTS)
    if holds_other_run(run_dir, config.fingerprint(dataset), config.fingerprints(dataset)):
        shutil.rmtree(run_dir)
    if run_eval(dataset, run_dir, config, settings=settings, embedder=embedder, cancel=cancel).cancelled:
        return None
    # The folder keeps the answers of a gate that once asked more questions; this one judges on its own.
    asked = set(json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))["questions"])
    extracted = {r["qid"]: float(r["scores"]["f1"]) for r in read_records(run_dir) if r["qid"] in asked}
    answered = read_records(answered_dir)
    against = {}
    for side, spec in specs.items():
        scores = {r["qid"]: float(r["scores"]["f1"]) for r in answered if r.get("spec") == spec}
        both = [qid for qid in extracted if qid in scores]
        if both:
            difference = paired_difference([scores[q] for q in both], [extracted[q] for q in both])
            against[side] = difference.to_json()
    # The gate's own rule for "better", against every side.
    better = len(against) == len(specs) and all(
        from_difference(figure, metric="f1", base=side, tuned="extract").better for side, figure in against.items())
    return {"f1": format_figure(mean_figure(list(extracted.values())), "f1"), "questions": len(extracted),
            "against": against, "better": better}


def run_gate(
    model_path: Path,
    base: Path,
    raft_dir: Path,
    run_dir: Path,
    chunks: Sequence[Chunk],
    *,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    generator_for: Callable[[str], Generator] | None = None,
    limit: int = GATE_QUESTIONS,
    progress: Callable[[EvalProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> GateResult | None:
    """The `tune` chain's last stage: compare on at most `limit` questions, then write the verdict into the model's
    card. A gate asked again with a larger `limit` keeps the answers it has and asks only the new questions."""
    base_spec, tuned_spec = str(typed_path(base).resolve()), str(Path(model_path).resolve())
    available = 0
    if not Path(base_spec).is_file():
        result: GateResult | None = not_compared(
            "the base is a Hugging Face folder, with no GGUF of it to answer with", base=base_spec, tuned=tuned_spec)
    else:
        dataset = gate_dataset(raft_dir, chunks)
        available = len(dataset.questions)
        result = compare_generators(dataset, base_spec, tuned_spec, run_dir,
                                    settings=settings, embedder=embedder, generator_for=generator_for,
                                    limit=limit, progress=progress, cancel=cancel)
        if result is not None and result.verdict != "not compared" and result.metric == "f1":
            extract = extract_figures(dataset, Path(run_dir).with_name(f"{Path(run_dir).name}-extract"), Path(run_dir),
                                      {"base": base_spec, "tuned": tuned_spec}, settings=settings,
                                      embedder=embedder, limit=limit, cancel=cancel)
            result = None if extract is None else replace(result, extract=extract)
    if result is not None:
        result = replace(result, limit=limit, available=available)
        record_gate(Path(model_path).with_suffix(".json"), result)
    return result


# -- the card and the default model ----------------------------------------------------------------


def record_gate(card_path: Path, result: GateResult, *, default: bool | None = None) -> dict[str, Any]:
    """Write `result` into the card at `card_path` (and its Markdown twin); `default`: whether it was made default."""
    from localrag.tune.card import read_card, write_card

    card: dict[str, Any] = read_card(card_path) if card_path.is_file() else {"name": card_path.stem}
    previous = card_section(card, "gate")
    gate = result.to_json()
    gate["default"] = bool(previous.get("default")) if default is None else default
    card["gate"] = gate
    write_card(card_path, card)
    return card


def make_default(
    name: str, result: GateResult, *, force: bool = False, card_path: Path | None = None,
    config_file: Path | None = None, setting: str = "model",
) -> bool:
    """Save `name` as the configured `setting` ("model"; "embedder" for a tuned embedder's folder) when it
    beat its base, or when `force`; True when it became the default."""
    from localrag.config import update_saved_settings

    switch = result.better or force
    if switch:
        update_saved_settings({setting: name}, config_file)
    if card_path is not None and card_path.is_file():
        record_gate(card_path, result, default=switch)
    return switch
