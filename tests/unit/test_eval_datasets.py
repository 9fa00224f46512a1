"""The adapters over the shared data sets (read in place) and the split they report; no models."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from localrag.evaluate.datasets import DatasetError, load_dataset, resolve_dataset, side, split_documents

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared evaluation data not present")


@needs_data
def test_covidqa_articles_are_the_corpus() -> None:
    data = load_dataset(DATA / "covidqa", "covidqa")
    assert len(data.documents) == 98 and len(data.questions) == 1380
    ids = {d.doc_id for d in data.documents}
    texts = {d.doc_id: d.text for d in data.documents}
    assert all(q.gold_ids[0] in ids for q in data.questions)
    # Every gold span occurs in its article (the bad answer_start offsets are not used).
    assert all(q.answers[0] in texts[q.gold_ids[0]] for q in data.questions)
    test, train = side(data, "test"), side(data, "train")
    assert len(test.questions) + len(train.questions) == 1380
    test_docs = {q.gold_ids[0] for q in test.questions}
    assert test_docs.isdisjoint({q.gold_ids[0] for q in train.questions})


@needs_data
def test_pubmedqa_uses_the_official_test_list() -> None:
    data = load_dataset(DATA / "pubmedqa_pqal", "pubmedqa")
    official = json.loads((DATA / "pubmedqa_pqal/data/test_ground_truth.json").read_text())
    test = side(data, "test")
    assert {q.qid: q.label for q in test.questions} == official
    assert len(side(data, "train").questions) == 500
    assert set(split_documents(data).values()) == {"train", "test"}
    assert data.kind == "label"
    # The official file is sorted by label; a --limit slice must still hold all three classes.
    assert {q.label for q in test.questions[:50]} == {"yes", "no", "maybe"}


@needs_data
@pytest.mark.parametrize(("fmt", "n_docs"), [("hotpotqa", 994), ("musique", 1890)])
def test_multihop_gold_paragraphs_are_in_the_corpus(fmt: str, n_docs: int) -> None:
    data = load_dataset(DATA / "hotpotqa_musique", fmt)
    ids = {d.doc_id for d in data.documents}
    assert len(data.questions) == 100
    assert len(ids) <= n_docs and len(ids) > n_docs * 0.9
    assert all(q.gold_ids and set(q.gold_ids) <= ids for q in data.questions)


def test_set_names_resolve_through_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DatasetError, match="LOCALRAG_EVAL_DATA"):
        resolve_dataset("covidqa")
    (tmp_path / "covidqa/data/question-answering").mkdir(parents=True)
    (tmp_path / "covidqa/data/question-answering/200423_covidQA.json").write_text("{}")
    monkeypatch.setenv("LOCALRAG_EVAL_DATA", str(tmp_path))
    assert resolve_dataset("covidqa") == (tmp_path / "covidqa", "covidqa")
    assert resolve_dataset(str(tmp_path / "covidqa")) == (tmp_path / "covidqa", "covidqa")
    with pytest.raises(DatasetError, match="cannot tell"):
        resolve_dataset(str(tmp_path))


def test_jsonl_with_a_utf8_bom_is_read(tmp_path: Path) -> None:
    from localrag.evaluate.datasets import load_jsonl

    path = tmp_path / "qa.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"question": "Who lit the lamp?", "answers": ["the keeper"]}\n')
    assert [q.question for q in load_jsonl(path).questions] == ["Who lit the lamp?"]


# The same adapters on small hand-written sets in each data set's own layout (tests/fixtures/eval_data),
# so a fresh clone without the shared data still runs them.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eval_data"


def test_covidqa_layout_fixture() -> None:
    data = load_dataset(FIXTURES / "covidqa", "covidqa")
    assert (data.name, data.kind) == ("covidqa", "extractive")
    assert [d.doc_id for d in data.documents] == ["501", "502", "503", "504"]
    assert len(data.questions) == 5  # the question with only blank answers is left out
    texts = {d.doc_id: d.text for d in data.documents}
    assert all(q.answers[0] in texts[q.gold_ids[0]] for q in data.questions)
    assert data.questions[1].answers == ("about seven days",)  # repeated answers once
    test, train = side(data, "test"), side(data, "train")
    assert len(test.questions) + len(train.questions) == 5
    assert {q.gold_ids[0] for q in test.questions}.isdisjoint({q.gold_ids[0] for q in train.questions})


def test_pubmedqa_layout_fixture_uses_its_test_list() -> None:
    data = load_dataset(FIXTURES / "pubmedqa_pqal", "pubmedqa")
    official = json.loads((FIXTURES / "pubmedqa_pqal/data/test_ground_truth.json").read_text())
    test = side(data, "test")
    assert {q.qid: q.label for q in test.questions} == official
    assert len(side(data, "train").questions) == 3
    assert data.kind == "label" and set(split_documents(data).values()) == {"train", "test"}
    # Test side first in ori_pqal order, not the label-sorted order of the official file.
    assert [q.qid for q in data.questions[:3]] == ["30002", "30003", "30004"]


@pytest.mark.parametrize(("fmt", "n_docs", "gold"), [
    ("hotpotqa", 3, [("Ada Pryce", "Kestrel Point"), ("Larkspur",)]),
    ("musique", 3, [2]),
])
def test_multihop_layout_fixtures_keep_gold_paragraphs_in_the_corpus(fmt: str, n_docs: int, gold: list[object]) -> None:
    data = load_dataset(FIXTURES / "hotpotqa_musique", fmt)
    ids = {d.doc_id for d in data.documents}
    assert len(ids) == n_docs  # MuSiQue's repeated paragraph is one document
    assert all(q.gold_ids and set(q.gold_ids) <= ids for q in data.questions)
    if fmt == "hotpotqa":
        assert [q.gold_ids for q in data.questions] == gold
    else:
        assert [len(q.gold_ids) for q in data.questions] == gold
        assert data.questions[0].answers == ("Brno", "Brno, Czechia")


def test_set_names_resolve_under_the_fixture_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALRAG_EVAL_DATA", str(FIXTURES))
    assert resolve_dataset("covidqa") == (FIXTURES / "covidqa", "covidqa")
    assert resolve_dataset(str(FIXTURES / "pubmedqa_pqal")) == (FIXTURES / "pubmedqa_pqal", "pubmedqa")


def test_questions_from_a_csv_file_with_paths(tmp_path: Path) -> None:
    from localrag.evaluate.datasets import load_jsonl

    path = tmp_path / "mine.csv"
    path.write_bytes("\ufeffquestion,answer,path\nWho lit the lamp?,the keeper,notes/light.md\n\n"
                     "How many hives?,fourteen,\n".encode())
    data = load_jsonl(path)
    assert [(q.qid, q.question, q.answers, q.gold_paths) for q in data.questions] == [
        ("2", "Who lit the lamp?", ("the keeper",), ("notes/light.md",)), ("4", "How many hives?", ("fourteen",), ())]
    path.write_text("query,answer\nWho?,me\n")
    with pytest.raises(DatasetError, match='no "question" column'):
        load_jsonl(path)


@pytest.mark.parametrize(("name", "data"), [
    # Excel in much of Europe: ";" between columns, a byte-order mark, CRLF; the header typed by hand.
    ("semicolons.csv", "\ufeffQuestion; Answer ;PATH\r\nWho lit the lamp?;the keeper;light.md\r\n".encode()),
    # A comma inside a quoted column name is no separator.
    ("quoted.csv", '\ufeffquestion;answer;path;"notes, misc"\nWho lit the lamp?;the keeper;light.md;x\n'.encode()),
    # Excel's "Unicode Text": UTF-16 with its byte-order mark, tabs between columns, named .txt as Excel names it.
    ("unicode.csv", "question\tanswer\tpath\nWho lit the lamp?\tthe keeper\tlight.md\n".encode("utf-16")),
    ("unicode.txt", "question\tanswer\tpath\r\nWho lit the lamp?\tthe keeper\tlight.md\r\n".encode("utf-16")),
    ("table.tsv", b"question\tanswer\tpath\nWho lit the lamp?\tthe keeper\tlight.md\n"),
    # Excel for Mac's "CSV (Macintosh)": lines end with CR alone.
    ("mac.csv", b"question,answer,path\rWho lit the lamp?,the keeper,light.md\r"),
    # The line some tools write for Excel, naming the delimiter, above the header.
    ("sep.csv", b"sep=;\r\nquestion;answer;path\r\nWho lit the lamp?;the keeper;light.md\r\n"),
])
def test_a_csv_file_as_spreadsheets_save_it_is_read(tmp_path: Path, name: str, data: bytes) -> None:
    """Each was "no question column" though the file has one, or a traceback."""
    from localrag.evaluate.datasets import load_jsonl

    path = tmp_path / name
    path.write_bytes(data)
    (question,) = load_jsonl(path).questions
    assert (question.question, question.answers, question.gold_paths) == (
        "Who lit the lamp?", ("the keeper",), ("light.md",))


def test_a_csv_file_that_cannot_be_read_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    from localrag.evaluate.datasets import load_jsonl

    path = tmp_path / "ansi.csv"
    path.write_bytes("question,answer\nWho supplies the lab?,Veski OÜ\n".encode("cp1252"))  # Excel's plain "CSV"
    with pytest.raises(DatasetError, match='ansi.csv: not UTF-8 text .*"CSV UTF-8'):
        load_jsonl(path)
    path.write_text('question,answer\n"Who opened a quote and never closed it?,yes\n' + "x" * 140_000 + "\n")
    with pytest.raises(DatasetError, match="ansi.csv:2: not readable as CSV .*a quote left open"):
        load_jsonl(path)
    path.write_text('question,answer\n"Who lit\nthe lamp?",\n')  # a row is named by the line it starts on
    with pytest.raises(DatasetError, match="ansi.csv:2: no"):
        load_jsonl(path)
    path.write_text("query,answer\nWho?,me\n")
    with pytest.raises(DatasetError, match="""no "question" column \\(its first row names 'query', 'answer'\\)"""):
        load_jsonl(path)


def test_a_table_without_an_answer_or_label_column_is_told_of_its_header(tmp_path: Path) -> None:
    from localrag.evaluate.datasets import load_jsonl

    path = tmp_path / "noans.csv"
    path.write_text("question,path\nWho lit the lamp?,light.md\n")
    with pytest.raises(DatasetError) as refused:
        load_jsonl(path)
    assert str(refused.value) == (f"{path}: no \"answer\" or \"label\" column (its first row names 'question', "
                                  "'path') (the first row names the columns: question, answer, path (or label: yes, "
                                  "no or maybe))")
    path.write_text("question\tlabel\nIs the lamp lit?\tyes\n")  # a labelled set needs no answer column
    assert load_jsonl(path.rename(tmp_path / "labels.tsv")).kind == "label"
    path = tmp_path / "blank.csv"
    path.write_text("question,answer\nWho lit the lamp?,\n")  # the column is there, one row's cell is empty
    with pytest.raises(DatasetError, match='blank.csv:2: no "answer" and no "label"'):
        load_jsonl(path)


def test_on_index_matches_paths_by_whole_path_tail_or_name(tmp_path: Path) -> None:
    from localrag.evaluate.datasets import EvalDataset, EvalQuestion, on_index

    docs = ["/home/u/notes/light.md", "/home/u/old/light.md", "/home/u/Réunions 2026/board meeting.md",
            str(tmp_path / "here.txt")]
    questions = [EvalQuestion("1", "a?", ("x",), gold_paths=("light.md",)),
                 EvalQuestion("2", "b?", ("x",), gold_paths=("notes/light.md",)),
                 EvalQuestion("3", "c?", ("x",), gold_paths=("Réunions 2026/board meeting.md",)),
                 EvalQuestion("4", "d?", ("x",), gold_paths=("here.txt",)),
                 EvalQuestion("5", "e?", ("x",), gold_ids=("corpus-id",), gold_paths=("missing.pdf",)),
                 EvalQuestion("6", "f?", ("x",))]
    data = EvalDataset("mine", "extractive", "mine.csv", questions, [])
    asked, notes = on_index(data, docs, "the index", tmp_path)
    assert [q.gold_ids for q in asked.questions] == [
        ("/home/u/notes/light.md", "/home/u/old/light.md"), ("/home/u/notes/light.md",),
        ("/home/u/Réunions 2026/board meeting.md",), (str(tmp_path / "here.txt"),), (), ()]
    assert asked.index == "the index" and asked.documents == []
    assert notes == ["mine.csv, question 5 ('e?'): no ingested document matches path 'missing.pdf'; it is scored "
                     "without a gold document"]
    # A question of the user's file is named by its line: "question 5" read as the fifth question.
    on_line = [replace(questions[4], line=7)]
    assert on_index(replace(data, questions=on_line), docs, "the index", tmp_path)[1][0].startswith("mine.csv:7 ('e?')")


def test_a_question_asked_twice_is_noted(tmp_path: Path) -> None:
    """Scored twice without a word: a spreadsheet's row pasted twice weighed double in the figures."""
    from localrag.evaluate.datasets import load_jsonl

    path = tmp_path / "mine.csv"
    path.write_text("question,answer\nWhen was it lit?,1871\nWho kept it?,Marta\nwhen was  it lit?,1871\n")
    data = load_jsonl(path)
    assert len(data.questions) == 3 and [q.line for q in data.questions] == [2, 3, 4]
    assert data.notes == [f"{path}:4: the question of line 2 again; each is scored"]


def test_a_quote_left_open_is_named_after_an_ingest_raised_the_csv_limit(tmp_path: Path) -> None:
    # The ingest's CSV loader raises Python's cell limit for the process: a server's or the chat app's eval then
    # read a quote left open as one cell of 140,000 characters, without a word (and the suite failed by its order).
    import csv

    from localrag.evaluate.datasets import load_jsonl

    path = tmp_path / "open.csv"
    path.write_text('question,answer\n"Who opened a quote and never closed it?,yes\n' + "x" * 140_000 + "\n")
    kept = csv.field_size_limit(1 << 24)
    try:
        with pytest.raises(DatasetError, match="open.csv:2: not readable as CSV .*a quote left open"):
            load_jsonl(path)
    finally:
        csv.field_size_limit(kept)
