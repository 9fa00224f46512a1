"""The chain's plan: `tune --retriever`'s stages, the RAFT set's layout, and old runs that still resume."""

from __future__ import annotations

import json
from pathlib import Path

from localrag.tune.plan import make_plan, plan_identity, planned_stages
from localrag.tune.retriever import QUICK_MAX_STEPS, held_out_documents


def test_retriever_plan_runs_questions_then_the_embedder_only(tmp_path: Path) -> None:
    plan = make_plan("docs", tmp_path / "base.gguf", retriever={}, model=False)
    assert planned_stages(plan) == ("raft", "retriever")
    both = make_plan("docs", tmp_path / "base.gguf", retriever={"epochs": 2.0})
    assert planned_stages(both) == ("raft", "retriever", "finetune", "export", "verify", "gate")
    assert both.retriever is not None and both.retriever.epochs == 2.0
    quick = make_plan("docs", tmp_path / "base.gguf", quick=True, retriever={}, model=False)
    assert quick.retriever is not None and quick.retriever.max_steps == QUICK_MAX_STEPS


def test_a_plan_without_the_retriever_keeps_its_old_identity(tmp_path: Path) -> None:
    plan = make_plan("docs", tmp_path / "base.gguf")
    assert planned_stages(plan) == ("raft", "finetune", "export", "verify", "gate")
    identity = plan_identity(plan)
    assert "retriever" not in identity and "model" not in identity
    assert "prompt_sentences" not in identity["raft"]  # whole documents, as every run before the sentence layout
    assert "retriever" in plan_identity(make_plan("docs", tmp_path / "base.gguf", retriever={}, model=False))
    sentences = plan_identity(make_plan("docs", tmp_path / "base.gguf", raft={"prompt_sentences": 4}))
    assert sentences["raft"]["prompt_sentences"] == 4


def test_held_out_documents_are_stable_and_never_all() -> None:
    docs = [f"doc{i}" for i in range(10)]
    held = held_out_documents(docs, 0.2)
    assert len(held) == 2 and held == held_out_documents(list(reversed(docs)), 0.2)
    assert len(held_out_documents(docs[:2], 0.9)) == 1


def test_retriever_pairs_reach_the_plan_from_the_command_line(tmp_path: Path) -> None:
    from localrag.cli import _parser
    from localrag.cli.tune import _retriever_overrides

    args = _parser().parse_args(["tune", "--name", "docs", "--retriever", "--retriever-pairs", "ict"])
    plan = make_plan("docs", tmp_path / "base.gguf", retriever=_retriever_overrides(args), model=False)
    assert plan.retriever is not None and plan.retriever.pairs == "ict"
    default = make_plan("docs", tmp_path / "base.gguf", retriever={}, model=False)
    assert default.retriever is not None and default.retriever.pairs == "model"


def test_an_embedder_only_run_on_inverse_cloze_pairs_writes_no_questions(tmp_path: Path) -> None:
    ict = make_plan("docs", tmp_path / "base.gguf", retriever={"pairs": "ict"}, model=False)
    assert planned_stages(ict) == ("retriever",)
    # With the generator tuned too, the RAFT set is needed anyway, and its questions join the gate.
    assert planned_stages(make_plan("docs", tmp_path / "base.gguf", retriever={"pairs": "ict"}))[:2] == (
        "raft", "retriever")
    assert planned_stages(make_plan("docs", tmp_path / "base.gguf", retriever={"pairs": "both"}, model=False)) == (
        "raft", "retriever")


def test_the_sentence_layout_reaches_the_raft_config_from_the_command_line(tmp_path: Path) -> None:
    from localrag.cli import _parser
    from localrag.cli.tune import _raft_overrides

    for command in (["tune", "--name", "docs"], ["raft", "build"]):
        args = _parser().parse_args([*command, "--prompt-sentences", "4"])
        assert _raft_overrides(args)["prompt_sentences"] == 4
    plan = make_plan("docs", tmp_path / "base.gguf", raft=_raft_overrides(_parser().parse_args(
        ["tune", "--name", "docs", "--prompt-sentences", "4"])))
    assert plan.raft.prompt_sentences == 4


def test_a_new_tune_takes_the_measured_recipe_and_a_resumed_one_keeps_the_recipe_it_began_with(
        localrag_home: Path) -> None:
    from localrag.cli import _parser
    from localrag.cli.tune import new_recipe, tune_recipe
    from localrag.raft.dataset import COMMAND_RECIPE
    from localrag.tune.chain import STATE_FILE
    from localrag.tune.runs import tune_dir

    fresh = tune_recipe(_parser().parse_args(["tune", "--name", "docs"]), 4)
    assert fresh == {**COMMAND_RECIPE, "prompt_sentences": 4}
    assert new_recipe(_parser().parse_args(["raft", "build"]), 4) == fresh  # raft build has no --quick
    # The answer_language setting too, so the examples' prompts state the language as answers' do.
    assert new_recipe(_parser().parse_args(["raft", "build"]), 4, "de") == {**fresh, "answer_language": "de"}
    assert tune_recipe(_parser().parse_args(["tune", "--name", "docs", "--cot", "full"]), 4)["cot"] == "full"
    quick = tune_recipe(_parser().parse_args(["tune", "--name", "docs", "--quick"]), 4)
    assert "k" not in quick and make_plan("docs", Path("/m.gguf"), quick=True, raft=quick).raft.k == 2
    # A run begun under the paper's defaults, before the layout existed: its state names no layout.
    older = plan_identity(make_plan("docs", Path("/models/base.gguf")))
    assert older["raft"]["cot"] == "full" and "prompt_sentences" not in older["raft"]
    tune_dir("docs").mkdir(parents=True)
    (tune_dir("docs") / STATE_FILE).write_text(json.dumps({"version": 1, "plan": older, "stages": {}}))
    resumed = tune_recipe(_parser().parse_args(["tune", "--name", "docs"]), 4)
    assert resumed == {"k": 4, "p_oracle": 0.8, "distractors": "hard", "cot": "full", "prompt_sentences": 0}
    assert plan_identity(make_plan("docs", Path("/models/base.gguf"), raft=resumed)) == older  # so it resumes
    assert tune_recipe(_parser().parse_args(["tune", "--name", "docs", "--restart"]), 4) == fresh


def test_inverse_cloze_pairs_alone_are_not_told_to_write_more_questions() -> None:
    # `--retriever-pairs ict` on a small index was told to raise --max-chunks or use a larger --model, neither
    # of which writes an inverse-cloze pair.
    from localrag.tune.retriever import _nothing_to_judge

    alone = str(_nothing_to_judge(0, 7))
    assert "7 inverse-cloze pairs and none held out" in alone and "ingest more documents" in alone
    assert "--max-chunks" not in alone and "--model" not in alone
    assert "raise --max-chunks" in str(_nothing_to_judge(12, 7))
