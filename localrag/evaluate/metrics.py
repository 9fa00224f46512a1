"""Scores for one question and for a set of them, each with a bootstrap confidence interval.

Answer scores follow SQuAD's evaluation: lower-case, drop punctuation and the articles a/an/the,
collapse spaces; exact match and token F1 take the best over the accepted answers. Substring hit (the
multi-hop measure for chatty models) asks whether a normalised gold answer appears inside the
normalised prediction. Yes/no/maybe answers are mapped to the first of those words in the reply
(no word: no label, which counts as wrong), then scored by accuracy and macro-F1 over the three
classes, as PubMedQA's own evaluation does.

Retrieval scores compare ranked document ids with the gold ones: recall@k is the share of gold
documents in the top k, reciprocal rank is 1/rank of the first gold one. Citation precision is the
share of cited sources that are gold documents (undefined when nothing was cited); the quote rate is
the share of quotes that verified against their source.

`bootstrap_ci` resamples questions with replacement (seeded, 1000 times by default) and recomputes the
statistic, so a set-level figure such as macro-F1 gets an interval too; two systems scored on the same
questions should be compared by `paired_bootstrap_ci` of their difference, which is far tighter than
two overlapping intervals suggest.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from localrag.evaluate.datasets import LABELS

BOOTSTRAP_SAMPLES = 1000
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
_LABEL_WORD = re.compile(r"\b(yes|no|maybe)\b", re.IGNORECASE)
_RAFT_ANSWER = re.compile(r"<ANSWER>\s*:?", re.IGNORECASE)


@dataclass(frozen=True)
class Figure:
    """A metric over `n` questions with its 95 % bootstrap interval (None when it has no defined value)."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    def to_json(self) -> dict[str, float | int | None]:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def normalize_answer(text: str) -> str:
    text = text.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(a) for a in answers))


def _f1(prediction: str, answer: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(answer).split()
    if not pred or not gold:
        return float(pred == gold)
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    return max((_f1(prediction, a) for a in answers), default=0.0)


def substring_hit(prediction: str, answers: Sequence[str]) -> float:
    pred = f" {normalize_answer(prediction)} "
    return float(any(normalize_answer(a) and f" {normalize_answer(a)} " in pred for a in answers))


def answer_part(text: str) -> str:
    """What a RAFT-tuned model put after `<ANSWER>:` (the whole text when it has no such marker)."""
    parts = _RAFT_ANSWER.split(text)
    return parts[-1].strip() if len(parts) > 1 else text.strip()


def has_answer_tag(text: str) -> bool:
    """True when `text` has a RAFT `<ANSWER>:` tag."""
    return _RAFT_ANSWER.search(text) is not None


def label_of(text: str) -> str | None:
    """The first yes/no/maybe word of a reply, lower-cased; None when there is none."""
    found = _LABEL_WORD.search(text)
    return found.group(1).lower() if found else None


def recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float | None:
    """Share of the gold ids among the first k ranked ids (duplicates in `ranked` count once)."""
    wanted = set(gold)
    if not wanted:
        return None
    return len(wanted & set(ranked[:k])) / len(wanted)


def reciprocal_rank(ranked: Sequence[str], gold: Sequence[str]) -> float | None:
    wanted = set(gold)
    if not wanted:
        return None
    for rank, doc in enumerate(ranked, start=1):
        if doc in wanted:
            return 1.0 / rank
    return 0.0


def citation_precision(cited: Sequence[str], gold: Sequence[str]) -> float | None:
    """Share of cited sources (by document id) that are gold; None when nothing was cited or nothing is gold."""
    if not cited or not gold:
        return None
    wanted = set(gold)
    return sum(1 for c in cited if c in wanted) / len(cited)


def citation_support(cited: Sequence[str], unsupported: Sequence[str]) -> float | None:
    """Share of cited sources that hold some of the words the answer cites them for (`localrag.answer.claims`);
    None when nothing was cited. Needs no gold, so it reads a model's citations on any question set."""
    if not cited:
        return None
    return 1.0 - len(unsupported) / len(cited)


def quote_rate(statuses: Sequence[str]) -> float | None:
    """Share of quotes that verified; None when the answer quoted nothing."""
    if not statuses:
        return None
    return sum(1 for s in statuses if s == "verified") / len(statuses)


def accuracy(predicted: Sequence[str | None], gold: Sequence[str]) -> float:
    return float(np.mean([p == g for p, g in zip(predicted, gold, strict=True)])) if gold else 0.0


def macro_f1(predicted: Sequence[str | None], gold: Sequence[str], labels: Sequence[str] = LABELS) -> float:
    """Mean over `labels` of each class's F1; a class absent from both gold and predictions scores 0, as in
    scikit-learn's default, so the figure is comparable across slices."""
    scores = []
    for label in labels:
        tp = sum(1 for p, g in zip(predicted, gold, strict=True) if p == label and g == label)
        fp = sum(1 for p, g in zip(predicted, gold, strict=True) if p == label and g != label)
        fn = sum(1 for p, g in zip(predicted, gold, strict=True) if p != label and g == label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def majority_baseline(gold: Sequence[str], labels: Sequence[str] = LABELS) -> tuple[str, float, float]:
    """(majority label, its accuracy, its macro-F1) on these questions: what always answering it scores."""
    label = Counter(gold).most_common(1)[0][0] if gold else labels[0]
    always = [label] * len(gold)
    return label, accuracy(always, gold), macro_f1(always, gold, labels)


def bootstrap_ci(
    items: Sequence[object],
    statistic: Callable[[Sequence[object]], float],
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile interval of `statistic` over `samples` resamples (with replacement) of `items`."""
    if not items:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    n = len(items)
    values = [statistic([items[i] for i in rng.integers(0, n, n)]) for _ in range(samples)]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def mean_figure(values: Sequence[float | None], *, seed: int = 0) -> Figure:
    """Mean of the defined values with its bootstrap interval; `n` counts only the defined ones."""
    defined = [float(v) for v in values if v is not None]
    if not defined:
        return Figure(None, None, None, 0)
    array = np.asarray(defined)
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, len(array), (BOOTSTRAP_SAMPLES, len(array)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Figure(float(array.mean()), float(low), float(high), len(defined))


def label_figures(predicted: Sequence[str | None], gold: Sequence[str], *, seed: int = 0) -> dict[str, Figure]:
    """Accuracy and macro-F1 of yes/no/maybe predictions, each with its interval."""
    pairs = list(zip(predicted, gold, strict=True))
    if not pairs:
        return {"accuracy": Figure(None, None, None, 0), "macro_f1": Figure(None, None, None, 0)}

    def acc(sample: Sequence[Any]) -> float:
        return accuracy([p for p, _ in sample], [g for _, g in sample])

    def mf1(sample: Sequence[Any]) -> float:
        return macro_f1([p for p, _ in sample], [g for _, g in sample])

    out = {}
    for name, stat in (("accuracy", acc), ("macro_f1", mf1)):
        low, high = bootstrap_ci(pairs, stat, seed=seed)  # type: ignore[arg-type]
        out[name] = Figure(stat(pairs), low, high, len(pairs))  # type: ignore[arg-type]
    return out


def paired_difference(a: Sequence[float], b: Sequence[float], *, seed: int = 0) -> Figure:
    """Mean of b - a over the same questions with its bootstrap interval (b better when above 0)."""
    return mean_figure([y - x for x, y in zip(a, b, strict=True)], seed=seed)


# Below this many questions a percentile bootstrap interval is too narrow: when neither model is better it lay
# above zero in 45 % of draws of 1 question, 6 % of 10, 5.2 % of 20, 3.3 % of 30 and 2.6 % of 100, against the
# 2.5 % it promises (benchmarks/bench_gate_questions.py, on real per-question F1 differences). The one floor for every
# choice made on questions: `tune`'s gates, the fusion's choice (localrag/fusion.py: a leg replaces the default on one
# question more, which on three questions is chance; the smallest set a choice was measured on, 49 in
# benchmarks/README.md, is above it) and judging a tuned embedder on written questions (localrag/tune/retriever.py:
# on COVID-QA 150 chunks gave 7 held-out written questions, all already found by MiniLM, while inverse-cloze tuning
# raised gold dense hit@5 by 8.5 points).
MIN_QUESTIONS = 30
TOO_FEW = "too few to judge"


def difference_verdict(difference: Figure) -> tuple[str, str]:
    """A paired difference B - A in words, and why: ("better", "the interval lies above 0"), ("worse", "... below
    0"), ("no clear difference", "the interval holds 0"), or (TOO_FEW, "a verdict needs at least 30") on fewer
    than `MIN_QUESTIONS` questions, whatever the interval says. The one rule `tune`'s gate and `eval` judge by."""
    low, high = difference.low, difference.high
    if low is None or high is None or difference.n < MIN_QUESTIONS:
        return TOO_FEW, f"a verdict needs at least {MIN_QUESTIONS}"
    if low > 0:
        return "better", "the interval lies above 0"
    if high < 0:
        return "worse", "the interval lies below 0"
    return "no clear difference", "the interval holds 0"
