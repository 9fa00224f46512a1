"""KGQA format, WC2014 loader, metrics worked by hand, and graph mode run over a small hand-made graph."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from localrag.embed import HashEmbedder
from localrag.graph.kgqa import (
    KGQAFormatError,
    KGQAQuestion,
    answer_f1,
    evaluate_graph,
    fact_sentence,
    fact_sentences,
    hits_at_1,
    link_topics,
    load_kgqa,
    load_triples_index,
    load_wc2014,
    path_correct,
    predicted_entities,
    read_triples,
    run_kgqa,
    write_kgqa,
)
from localrag.graph.paths import GraphIndex, LinkedEntity
from localrag.graph.plan import PlannedPath

KB = """Tom_Hanks\tstarred_in\tBig
Tom_Hanks\tstarred_in\tCast_Away
Big\tdirected_by\tPenny_Marshall
Cast_Away\tdirected_by\tRobert_Zemeckis
Tom_Hanks\tborn_in\tConcord
Concord\tlocated_in\tCalifornia
"""


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    path = tmp_path / "kb.tsv"
    path.write_text(KB, encoding="utf-8")
    return path


def _write(path: Path, records: Sequence[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def good_record(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "question": "who directed the films Tom_Hanks starred in?",
        "answers": ["Penny_Marshall", "Robert_Zemeckis"],
        "topic_entity": "Tom_Hanks",
        "triples": "kb.tsv",
        "gold_path": ["starred_in", "directed_by"],
    }
    record.update(changes)
    return record


def test_load_kgqa_reads_fields_and_resolves_the_triples_path(tmp_path: Path, kb: Path) -> None:
    path = _write(
        tmp_path / "set.jsonl",
        [
            good_record(),
            "",
            good_record(id="q9", topic_entity=["Tom_Hanks", "Big"], gold_path=[["born_in"], ["a", "b"]]),
        ],
    )
    first, second = load_kgqa(path)
    assert first.triples == kb.resolve()
    assert first.answers == ("Penny_Marshall", "Robert_Zemeckis")
    assert first.topics == ("Tom_Hanks",)
    assert first.gold_paths == (("starred_in", "directed_by"),)
    assert first.id == "set-1"  # no id: file stem and line number
    assert second.id == "q9"
    assert second.topics == ("Tom_Hanks", "Big")
    assert second.gold_paths == (("born_in",), ("a", "b"))
    assert len(load_kgqa(path, limit=1)) == 1


def test_gold_path_is_optional(tmp_path: Path) -> None:
    record = good_record()
    del record["gold_path"]
    (question,) = load_kgqa(_write(tmp_path / "set.jsonl", [record]))
    assert question.gold_paths == ()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps(["a list"]), "JSON object"),
        (json.dumps(good_record(question="  ")), "'question'"),
        (json.dumps({k: v for k, v in good_record().items() if k != "answers"}), "'answers' is missing"),
        (json.dumps(good_record(answers=[])), "'answers' must be"),
        (json.dumps(good_record(topic_entity=3)), "'topic_entity' must be"),
        (json.dumps(good_record(triples="")), "'triples'"),
        (json.dumps(good_record(gold_path=[["ok"], "bad"])), "'gold_path'"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, words: str) -> None:
    path = _write(tmp_path / "set.jsonl", [good_record(), line])
    with pytest.raises(KGQAFormatError) as caught:
        load_kgqa(path)
    assert f"{path}:2:" in str(caught.value)
    assert words in str(caught.value)


def test_missing_file_is_a_kgqa_error(tmp_path: Path) -> None:
    with pytest.raises(KGQAFormatError, match="cannot read"):
        load_kgqa(tmp_path / "nope.jsonl")


def test_write_then_load_round_trips(tmp_path: Path, kb: Path) -> None:
    original = [
        KGQAQuestion("q one?", ("Big",), ("Tom_Hanks",), kb.resolve(), (("starred_in",),), "a"),
        KGQAQuestion("q two?", ("X", "Y"), ("Big", "Concord"), kb.resolve(), (), "b"),
    ]
    path = tmp_path / "out.jsonl"
    write_kgqa(original, path)
    assert '"triples": "kb.tsv"' in path.read_text(encoding="utf-8")
    assert load_kgqa(path) == original


def test_load_wc2014_two_hop_and_conjunctive_lines(tmp_path: Path, kb: Path) -> None:
    p2 = tmp_path / "P2.txt"
    p2.write_text(
        "where is the club that Ann_X plays for ?\tFrance\tAnn_X#plays_in_club#Lyon#is_in_country#France\t"
        "France/\tAnn_X#plays_in_club#Lyon\n",
        encoding="utf-8",
    )
    c = tmp_path / "C.txt"
    c.write_text(
        "who plays at Forward at Lyon ?\tAnn_X\tForward#plays_position_inverse#Ann_X#<end>#Ann_X*"
        "Lyon#plays_in_club_inverse#Ann_X#<end>#Ann_X\tAnn_X/Bo_Y/\tfacts\tForward/Lyon\n",
        encoding="utf-8",
    )
    (two_hop,) = load_wc2014(p2, triples=kb)
    assert two_hop.topics == ("Ann_X",)
    assert two_hop.answers == ("France",)
    assert two_hop.gold_paths == (("plays_in_club", "is_in_country"),)
    assert two_hop.triples == kb.resolve()
    (conj,) = load_wc2014(c)
    assert conj.topics == ("Forward", "Lyon")
    assert conj.answers == ("Ann_X", "Bo_Y")
    assert conj.gold_paths == (("plays_position_inverse",), ("plays_in_club_inverse",))
    assert conj.triples == (tmp_path / "WC2014.txt").resolve()


def test_load_wc2014_rejects_a_bad_gold_path(tmp_path: Path) -> None:
    bad = tmp_path / "P2.txt"
    bad.write_text("q\ta\tonly#three#parts\ta/\n", encoding="utf-8")
    with pytest.raises(KGQAFormatError, match=f"{bad}:1"):
        load_wc2014(bad)


def test_metrics_by_hand() -> None:
    assert hits_at_1(["Penny Marshall", "x"], ["penny_marshall"]) == 1.0
    assert hits_at_1(["x", "Penny Marshall"], ["penny_marshall"]) == 0.0
    assert hits_at_1([], ["a"]) == 0.0
    # predicted {a, b}, gold {b, c}: precision 1/2, recall 1/2, F1 1/2
    assert answer_f1(["a", "B"], ["b", "c"]) == pytest.approx(0.5)
    # predicted {a}, gold {a, b, c}: precision 1, recall 1/3, F1 = 2 * 1/3 / (4/3) = 0.5
    assert answer_f1(["A"], ["a", "b", "c"]) == pytest.approx(0.5)
    assert answer_f1([], ["a"]) == 0.0
    assert answer_f1(["a", "a"], ["A"]) == 1.0
    assert path_correct(("r1", "r2"), [("r0",), ("r1", "r2")])
    assert not path_correct(("r2", "r1"), [("r1", "r2")])
    assert not path_correct(None, [("r1",)])


class FixedPlanner:
    """Plans the same paths for every question, so the figures depend on the runner alone."""

    name = "fixed"

    def __init__(self, paths: Sequence[tuple[str, ...]]) -> None:
        self.paths = [PlannedPath(p, 1.0 / (i + 1), self.name) for i, p in enumerate(paths)]
        self.linked: list[Sequence[LinkedEntity]] = []

    def plan(self, question: str, index: GraphIndex, linked: Sequence[LinkedEntity], k: int = 3) -> list[PlannedPath]:
        self.linked.append(linked)
        return self.paths[:k]


def test_evaluate_graph_scores_each_question(tmp_path: Path, kb: Path) -> None:
    embedder = HashEmbedder(dim=64)
    index = load_triples_index(kb, embedder, tmp_path / "work")
    questions = [
        KGQAQuestion("who directed Tom_Hanks films?", ("Penny_Marshall",), ("Tom_Hanks",), kb,
                     (("starred_in", "directed_by"),), "a"),
        KGQAQuestion("where is Tom_Hanks from?", ("California",), ("tom hanks",), kb,
                     (("born_in", "located_in"),), "b"),
        KGQAQuestion("unknown topic?", ("Big",), ("Nobody",), kb, (), "c"),
    ]
    planner = FixedPlanner([("starred_in", "directed_by")])
    seen: list[tuple[int, int]] = []
    records = evaluate_graph(questions, index, planner, embedder=embedder,
                             progress=lambda d, t: seen.append((d, t)))
    first, second, third = records
    assert first.linked == ["tom hanks"] and first.linked_how == ["topic"]
    # both directors tie on the one planned path: the set is predicted, the top one is Hits@1's pick
    assert sorted(first.predicted) == ["penny marshall", "robert zemeckis"]
    assert first.prediction == "Penny_Marshall, Robert_Zemeckis" and first.hit == 1.0  # the answer names both
    assert first.f1 == pytest.approx(2 / 3)
    assert first.path_ok is True
    assert first.paths and first.paths[0].startswith("Tom_Hanks -> starred_in ->")
    assert second.path_ok is False and second.hit == 0.0 and second.f1 == 0.0
    assert third.path_ok is None  # no gold path: not counted for path accuracy
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_link_topics_uses_names_and_drops_unknown(tmp_path: Path, kb: Path) -> None:
    index = load_triples_index(kb, HashEmbedder(dim=32), tmp_path / "work")
    linked = link_topics(index, ["TOM_HANKS", "Nobody", "Big"])
    assert [e.entity_id for e in linked] == ["tom hanks", "big"]


def test_run_kgqa_summary_matches_records_and_reuses_the_store(tmp_path: Path, kb: Path) -> None:
    jsonl = _write(tmp_path / "set.jsonl", [good_record(), good_record(question="who was Tom_Hanks born in?",
                                                                       answers=["Concord"], gold_path=["born_in"])])
    questions = load_kgqa(jsonl)
    embedder = HashEmbedder(dim=256)
    work = tmp_path / "work"
    result = run_kgqa(questions, embedder=embedder, work_dir=work)
    summary = result.summary
    assert summary.questions == 2 and len(result.records) == 2
    assert summary.hits_at_1 == pytest.approx(sum(r.hit for r in result.records) / 2)
    assert summary.answer_f1 == pytest.approx(sum(r.f1 for r in result.records) / 2, abs=1e-4)
    assert summary.path_accuracy == pytest.approx(sum(bool(r.path_ok) for r in result.records) / 2)
    assert summary.with_gold_path == 2 and summary.linked == 1.0
    assert {r.planner for r in result.records} == {"embedding"}
    assert [r.id for r in result.records] == ["set-1", "set-2"]
    again = run_kgqa(questions, embedder=embedder, work_dir=work)
    assert [r.to_json() | {"seconds": 0} for r in again.records] == [
        r.to_json() | {"seconds": 0} for r in result.records
    ]
    assert len(list(work.iterdir())) == 1  # one store per triples file, imported once


def test_run_kgqa_checks_its_options(tmp_path: Path, kb: Path) -> None:
    with pytest.raises(ValueError, match="generator"):
        run_kgqa([], embedder=HashEmbedder(), work_dir=tmp_path, planner="grammar")
    with pytest.raises(ValueError, match="planner"):
        run_kgqa([], embedder=HashEmbedder(), work_dir=tmp_path, planner="beam")
    missing = KGQAQuestion("q?", ("a",), ("b",), tmp_path / "none.tsv")
    with pytest.raises(KGQAFormatError, match="does not exist"):
        run_kgqa([missing], embedder=HashEmbedder(), work_dir=tmp_path)


def test_facts_as_sentences_fold_inverse_triples(tmp_path: Path) -> None:
    path = tmp_path / "kb.tsv"
    path.write_text(
        "Ann_X\tplays_in_club\tLyon_FC\nLyon_FC\tplays_in_club_inverse\tAnn_X\nAnn_X\tis_aged\t23\nbad line\n",
        encoding="utf-8",
    )
    triples = read_triples(path)
    assert triples == [("Ann_X", "plays_in_club", "Lyon_FC"), ("Lyon_FC", "plays_in_club_inverse", "Ann_X"),
                       ("Ann_X", "is_aged", "23")]
    assert fact_sentence("Lyon_FC", "plays_in_club_inverse", "Ann_X") == "Ann X plays in club Lyon FC."
    assert fact_sentences(triples) == {
        ("Ann_X", "plays_in_club", "Lyon_FC"): "Ann X plays in club Lyon FC.",
        ("Ann_X", "is_aged", "23"): "Ann X is aged 23.",
    }


def test_predicted_entities_ties_at_the_top_or_the_model_pick() -> None:
    from localrag.graph.reason import Candidate, GraphAnswer

    candidates = [Candidate("a", "A", 1.0), Candidate("b", "B", 1.0), Candidate("c", "C", 0.5)]
    by_paths = GraphAnswer("q", [], [], [], candidates, "paths")
    assert predicted_entities(by_paths) == ["a", "b"]
    picked = GraphAnswer("q", [], [], [], [candidates[2], candidates[0], candidates[1]], "model")
    assert predicted_entities(picked) == ["c"]
    assert predicted_entities(GraphAnswer("q", [], [], [], [], "paths")) == []
