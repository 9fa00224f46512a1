"""Metric functions against hand-worked examples."""

from __future__ import annotations

import pytest

from localrag.evaluate import metrics


def test_normalisation_follows_squad() -> None:
    assert metrics.normalize_answer("The  Cat, sat on a MAT!") == "cat sat on mat"


def test_exact_match_takes_the_best_answer() -> None:
    assert metrics.exact_match("the Eiffel tower.", ["Eiffel Tower", "Paris"]) == 1.0
    assert metrics.exact_match("Eiffel", ["Eiffel Tower"]) == 0.0


def test_token_f1_by_hand() -> None:
    # prediction "red big dog" vs gold "big red cat": 2 common tokens; P = 2/3, R = 2/3 -> F1 = 2/3
    assert metrics.token_f1("red big dog", ["big red cat"]) == pytest.approx(2 / 3)
    # "a dog" normalises to "dog": P = 1, R = 1/3 -> F1 = 0.5
    assert metrics.token_f1("a dog", ["dog and cat"]) == pytest.approx(0.5)
    assert metrics.token_f1("nothing here", ["dog"]) == 0.0
    # the best over several answers
    assert metrics.token_f1("dog", ["cat", "dog"]) == 1.0


def test_substring_hit_needs_whole_words() -> None:
    assert metrics.substring_hit("I think it was G. Stanley Hall, in 1892.", ["G. Stanley Hall"]) == 1.0
    assert metrics.substring_hit("Halloween", ["Hall"]) == 0.0


def test_raft_answer_part_and_labels() -> None:
    assert metrics.answer_part("reasoning ##begin_quote##x##end_quote## <ANSWER>: Paris") == "Paris"
    assert metrics.answer_part("plain answer") == "plain answer"
    assert metrics.label_of("Based on the study, No. It does not, yes?") == "no"
    assert metrics.label_of("The results are unclear") is None


def test_retrieval_metrics_by_hand() -> None:
    ranked = ["d3", "d1", "d3", "d7", "d2"]
    assert metrics.recall_at_k(ranked, ["d1", "d2"], 2) == 0.5
    assert metrics.recall_at_k(ranked, ["d1", "d2"], 5) == 1.0
    assert metrics.reciprocal_rank(ranked, ["d7"]) == 0.25
    assert metrics.reciprocal_rank(ranked, ["d9"]) == 0.0
    assert metrics.recall_at_k(ranked, [], 4) is None


def test_citation_precision_and_quote_rate() -> None:
    assert metrics.citation_precision(["d1", "d4", "d1"], ["d1"]) == pytest.approx(2 / 3)
    assert metrics.citation_precision([], ["d1"]) is None
    assert metrics.quote_rate(["verified", "close", "not_found", "verified"]) == 0.5
    assert metrics.quote_rate([]) is None
    assert metrics.citation_support(["d1", "d4"], ["d4"]) == 0.5
    assert metrics.citation_support([], []) is None


def test_accuracy_macro_f1_and_majority_baseline_by_hand() -> None:
    gold = ["yes", "yes", "no", "maybe"]
    predicted = ["yes", "no", "no", None]
    assert metrics.accuracy(predicted, gold) == 0.5
    # yes: tp 1, fp 0, fn 1 -> 2/3; no: tp 1, fp 1, fn 0 -> 2/3; maybe: tp 0 -> 0; mean = 4/9
    assert metrics.macro_f1(predicted, gold) == pytest.approx(4 / 9)
    label, acc, mf1 = metrics.majority_baseline(gold)
    # always "yes": accuracy 2/4; yes F1 = 2*2/(4+2) = 2/3, others 0 -> macro 2/9
    assert (label, acc) == ("yes", 0.5)
    assert mf1 == pytest.approx(2 / 9)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean() -> None:
    values = [1.0] * 30 + [0.0] * 70
    a = metrics.mean_figure(values, seed=3)
    b = metrics.mean_figure(values, seed=3)
    assert a == b
    assert a.value == pytest.approx(0.3) and a.n == 100
    assert a.low is not None and a.high is not None
    assert 0.18 < a.low < 0.3 < a.high < 0.42
    assert metrics.mean_figure([None, None]).value is None
    constant = metrics.mean_figure([None, 1.0, 1.0])
    assert (constant.value, constant.low, constant.high, constant.n) == (1.0, 1.0, 1.0, 2)


def test_label_figures_have_intervals() -> None:
    figures = metrics.label_figures(["yes"] * 8 + ["no"] * 2, ["yes"] * 6 + ["no"] * 4)
    assert figures["accuracy"].value == pytest.approx(0.8)
    assert figures["accuracy"].low is not None and figures["accuracy"].low <= 0.8 <= figures["accuracy"].high
    assert figures["macro_f1"].n == 10


def test_paired_difference_sign() -> None:
    diff = metrics.paired_difference([0.0, 0.0, 1.0, 0.0], [1.0, 1.0, 1.0, 0.0])
    assert diff.value == pytest.approx(0.5)
