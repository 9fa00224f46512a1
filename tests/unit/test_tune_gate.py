"""The gate at the end of `tune`: a worse tuned model is registered as not better and not made default.

The comparison runs through the real eval runner, a real LanceDB store in the temp dir and the real
card and config files; only the two generators are stand-ins (a model that reads the answer from its
sources, and one that does not), so the verdict is known in advance and the test takes seconds.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from localrag.config import Settings, load_settings
from localrag.embed import HashEmbedder
from localrag.evaluate.metrics import MIN_QUESTIONS
from localrag.models import card_summary, extract_summary, extract_wins, gate_summary
from localrag.raft.dataset import RaftExample
from localrag.tune.card import write_card
from localrag.tune.gate import GateResult, make_default, run_gate, verdict
from localrag.types import Chunk, GenerationStats

CHUNKS = [Chunk(f"doc{i}:0", f"doc{i}", f"/docs/doc{i}.txt", 0, f"Document {i} says the code word is word{i}.", 0, 40)
          for i in range(40)]


class Reader:
    """Answers document i's question with its code word (good) or with nothing useful (worse)."""

    name = "reader"
    n_ctx = 2048

    def __init__(self, good: bool) -> None:
        self.good = good
        self.answer_caps: list[object] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    def _reply(self, messages: list[dict[str, str]]) -> str:
        number = messages[-1]["content"].split("document ")[1].split("?")[0]
        if not self.good:
            return "I am not sure about that."
        return f"##begin_quote##the code word is word{number}##end_quote## [1]\n\n<ANSWER>: word{number}"

    def stream_chat(self, messages: list[dict[str, str]], *, stats: GenerationStats | None = None,
                    **options: object) -> Iterator[str]:
        self.answer_caps.append(options.get("max_tokens"))
        if stats is not None:
            stats.completion_tokens, stats.generation_seconds, stats.time_to_first_token = 8, 0.5, 0.1
        yield self._reply(messages)

    def complete(self, messages: list[dict[str, str]], **_: object) -> str:
        return self._reply(messages)


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    raft = tmp_path / "raft"
    raft.mkdir()
    examples = [RaftExample(f"What is the code word of document {i}?", f"word{i}", "", c, [c], 0,
                            "test" if i < 32 else "train") for i, c in enumerate(CHUNKS)]
    (raft / "examples.jsonl").write_text("".join(json.dumps(e.to_json()) + "\n" for e in examples))
    models = tmp_path / "models"
    models.mkdir()
    base = tmp_path / "base.gguf"
    base.write_bytes(b"GGUF stand-in: the generators below never load it")
    model = models / "mine.gguf"
    model.write_bytes(b"GGUF stand-in")
    write_card(model.with_suffix(".json"), {"name": "mine", "quant": "Q8_0"})
    config = tmp_path / "config.toml"
    config.write_text('top_k = 3\nmodel = "previous"\n')
    return {"raft": raft, "base": base, "model": model, "config": config, "gate": tmp_path / "gate"}


def gate(paths: dict[str, Path], tuned_good: bool, settings: Settings | None = None,
         readers: list[Reader] | None = None, limit: int = 100) -> GateResult:
    tuned_spec = str(paths["model"].resolve())

    def generator_for(spec: str) -> Reader:
        reader = Reader(good=tuned_good if spec == tuned_spec else not tuned_good)
        if readers is not None:
            readers.append(reader)
        return reader

    result = run_gate(paths["model"], paths["base"], paths["raft"], paths["gate"], CHUNKS,
                      settings=settings or Settings(), embedder=HashEmbedder(),
                      generator_for=generator_for, limit=limit)  # type: ignore[arg-type]
    assert result is not None
    return result


def test_a_worse_tuned_model_is_registered_as_not_better_and_not_made_default(setup: dict[str, Path]) -> None:
    result = gate(setup, tuned_good=False)
    assert result.verdict == "not better" and not result.better
    assert result.questions == 32 and result.difference is not None and result.difference < 0
    assert result.high is not None and result.high < 0
    card_path = setup["model"].with_suffix(".json")
    card = json.loads(card_path.read_text())
    assert card["gate"]["verdict"] == "not better" and card["gate"]["questions"] == 32
    assert card["gate"]["figures"]["base"]["f1"].startswith("100.0")
    assert gate_summary(card).startswith("not better than base: -100.0 [-100.0, -100.0] token F1 points")
    assert "not better than base" in card_summary(card)[1]
    markdown = card_path.with_suffix(".md").read_text()
    assert "**not better than base: -100.0" in markdown and "| tuned |" in markdown

    assert not make_default("mine", result, card_path=card_path, config_file=setup["config"])
    assert load_settings(setup["config"]).model == "previous"
    assert json.loads(card_path.read_text())["gate"]["default"] is False
    assert "Default model: not switched to it" in card_path.with_suffix(".md").read_text()

    # The user may still insist; the card then says it was made the default.
    assert make_default("mine", result, force=True, card_path=card_path, config_file=setup["config"])
    settings = load_settings(setup["config"])
    assert settings.model == "mine" and settings.top_k == 3
    assert json.loads(card_path.read_text())["gate"]["default"] is True


def test_a_better_tuned_model_becomes_the_default(setup: dict[str, Path]) -> None:
    result = gate(setup, tuned_good=True)
    assert result.better and result.low is not None and result.low > 0
    assert result.describe() == "better than base: +100.0 [+100.0, +100.0] token F1 points, 32 held-out questions"
    assert make_default("mine", result, card_path=setup["model"].with_suffix(".json"), config_file=setup["config"])
    assert load_settings(setup["config"]).model == "mine"
    # The comparison is an ordinary eval run folder, so `localrag eval show` reads it.
    assert (setup["gate"] / "records.jsonl").is_file() and result.run_dir == str(setup["gate"])


def test_the_gate_also_scores_the_best_source_sentence_against_both_models(setup: dict[str, Path]) -> None:
    # The tuned model here answers nothing useful and the base reads the code word: the extracted sentence
    # ("Document i says the code word is wordi.") holds the answer among other words, so it lies between.
    result = gate(setup, tuned_good=False)
    extract = result.extract
    assert extract["questions"] == 32 and (setup["gate"].with_name("gate-extract") / "records.jsonl").is_file()
    assert extract["against"]["tuned"]["value"] > 0 > extract["against"]["base"]["value"]
    card = json.loads(setup["model"].with_suffix(".json").read_text())
    line = extract_summary(card)
    assert line.startswith("the sources' best sentence, no model (ask --extract): ") and " against tuned" in line
    assert f"On the same questions, {line}." in setup["model"].with_suffix(".md").read_text()
    assert not extract_wins(card)
    # A stop during the extract run leaves the gate unfinished, as a stop during the comparison does.
    cancel = threading.Event()
    cancel.set()
    shutil.rmtree(setup["gate"].with_name("gate-extract"))
    assert run_gate(setup["model"], setup["base"], setup["raft"], setup["gate"], CHUNKS, embedder=HashEmbedder(),
                    cancel=cancel) is None
    records = setup["gate"].with_name("gate-extract") / "records.jsonl"
    assert not records.is_file() or not records.read_text()


def test_the_user_is_told_when_the_best_sentence_beats_both_models() -> None:
    above = {"value": 0.09, "low": 0.06, "high": 0.12, "n": 100}
    gate_json = GateResult("not better", "f1", 0.01, -0.03, 0.05, 100,
                           extract={"f1": "19.8 [16.1, 23.7]", "questions": 100,
                                    "against": {"base": above, "tuned": above}, "better": True}).to_json()
    assert extract_wins({"gate": gate_json})
    assert extract_summary({"gate": gate_json}) == (
        "the sources' best sentence, no model (ask --extract): 19.8 [16.1, 23.7] token F1, "
        "+9.0 [+6.0, +12.0] points against base, +9.0 [+6.0, +12.0] points against tuned")
    gate_json["extract"]["better"] = False
    assert not extract_wins({"gate": gate_json}) and not extract_wins({"gate": {}}) and not extract_summary({})
    # Written by the rule the gate's own line uses: a small interval wholly above 0 does not read "[+0.0, ...]".
    gate_json["extract"]["against"] = {"base": {"value": 0.001, "low": 0.0004, "high": 0.002, "n": 500}}
    assert extract_summary({"gate": gate_json}).endswith(", +0.10 [+0.04, +0.20] points against base")


def test_the_best_sentence_is_judged_by_the_gates_own_rule(setup: dict[str, Path]) -> None:
    # Both models answer nothing useful: the sentence beats both on all 32 questions, and says so.
    def bad_everywhere(spec: str) -> Reader:
        return Reader(good=False)

    result = run_gate(setup["model"], setup["base"], setup["raft"], setup["gate"], CHUNKS, embedder=HashEmbedder(),
                      generator_for=bad_everywhere)  # type: ignore[arg-type]
    assert result is not None and result.extract["better"] is True
    # On fewer questions than a verdict needs, a sentence that scored higher on each is not called better.
    resplit(setup, {"validation": 5})
    for folder in (setup["gate"], setup["gate"].with_name("gate-extract")):
        shutil.rmtree(folder)
    few = run_gate(setup["model"], setup["base"], setup["raft"], setup["gate"], CHUNKS, embedder=HashEmbedder(),
                   generator_for=bad_everywhere)  # type: ignore[arg-type]
    assert few is not None and few.extract["questions"] == 5 and few.extract["better"] is False
    assert few.extract["against"]["tuned"]["low"] > 0


def test_answers_are_as_long_as_the_users_setting_allows_and_at_most_an_eval_answer(
        setup: dict[str, Path], tmp_path: Path) -> None:
    readers: list[Reader] = []
    gate(setup, tuned_good=True, settings=Settings(max_answer_tokens=32), readers=readers)
    assert {cap for r in readers for cap in r.answer_caps} == {32}
    readers.clear()
    setup["gate"] = tmp_path / "gate-default-settings"
    gate(setup, tuned_good=True, readers=readers)  # the default 320 is cut to an eval answer's 128
    assert {cap for r in readers for cap in r.answer_caps} == {128}


def test_a_gate_stopped_under_another_answer_cap_is_judged_again(setup: dict[str, Path]) -> None:
    gate(setup, tuned_good=True, settings=Settings(max_answer_tokens=32))
    readers: list[Reader] = []
    result = gate(setup, tuned_good=True, readers=readers)  # the eval runner would refuse the old folder
    assert result.better and {cap for r in readers for cap in r.answer_caps} == {128}
    assert json.loads((setup["gate"] / "run.json").read_text())["config"]["max_answer_tokens"] == 128


def resplit(setup: dict[str, Path], splits: dict[str, int]) -> None:
    """The first examples to the given splits, in order ({"test": 20, "validation": 12}), the rest to train."""
    names = [name for name, count in splits.items() for _ in range(count)]
    lines = [json.loads(x) for x in (setup["raft"] / "examples.jsonl").read_text().splitlines()]
    (setup["raft"] / "examples.jsonl").write_text("".join(
        json.dumps({**x, "split": names[i] if i < len(names) else "train"}) + "\n" for i, x in enumerate(lines)))


def test_the_gate_asks_the_test_and_validation_questions(setup: dict[str, Path]) -> None:
    # Both splits hold documents never trained on; together they make enough questions to judge.
    resplit(setup, {"validation": 12, "test": 20})
    result = gate(setup, tuned_good=True)
    assert result.better and result.questions == 32 and result.split == "test+validation"
    assert "held-out test and validation splits" in setup["model"].with_suffix(".md").read_text()
    # `localrag eval show` of the gate's run says where its questions came from.
    split = json.loads((setup["gate"] / "run.json").read_text())["split"]
    assert split.startswith("held out by tune: the Q&A set's test and validation questions")


def test_too_few_held_out_questions_are_not_judged_better(setup: dict[str, Path]) -> None:
    # One held-out question made `tune --quick` switch the default model: its "interval" was a point.
    resplit(setup, {"validation": 5})
    result = gate(setup, tuned_good=True)
    assert result.verdict == "not better" and not result.better and result.low is not None and result.low > 0
    assert result.questions == 5 and result.split == "validation"
    assert result.describe() == ("not better than base: +100.0 [+100.0, +100.0] token F1 points, 5 held-out "
                                 f"questions (too few to judge: a verdict needs at least {MIN_QUESTIONS})")
    assert not make_default("mine", result, config_file=setup["config"])
    assert load_settings(setup["config"]).model == "previous"
    assert "held-out validation split " in setup["model"].with_suffix(".md").read_text()
    one = verdict([0.0], [0.4], metric="f1")
    assert not one.better and one.describe().endswith(", 1 held-out question (too few to judge: a verdict needs "
                                                      f"at least {MIN_QUESTIONS})")


def test_no_held_out_questions_or_a_folder_base_is_not_compared(setup: dict[str, Path]) -> None:
    resplit(setup, {})
    result = gate(setup, tuned_good=True)
    assert result.verdict == "not compared" and "no test or validation questions" in result.reason
    assert result.describe().startswith("not better than base: not compared")
    assert not make_default("mine", result, config_file=setup["config"])

    folder = setup["base"].parent / "hf-base"
    folder.mkdir()
    setup["base"] = folder
    assert "Hugging Face folder" in gate(setup, tuned_good=True).reason


def test_verdict_needs_the_whole_interval_above_zero() -> None:
    noisy = verdict([0.5, 0.2, 0.9, 0.1] * 10, [0.6, 0.1, 0.85, 0.2] * 10, metric="recall@k")
    assert noisy.verdict == "not better" and noisy.low is not None and noisy.low <= 0 < noisy.high  # type: ignore[operator]
    clear = verdict([0.1] * 40, [0.3] * 40, metric="recall@k")
    assert clear.better and clear.describe().startswith("better than base: +20.0 [+20.0, +20.0] recall@k points")
    assert GateResult.from_json(clear.to_json()) == clear
    with pytest.raises(ValueError):
        verdict([0.1], [0.1, 0.2], metric="f1")


def test_the_models_screen_shows_the_verdict_beside_the_model() -> None:
    from localrag.models import ModelInfo
    from localrag.tui.screens.models import model_label

    card = {"name": "mine", "gate": GateResult("not better", "f1", -0.02, -0.05, 0.01, 30).to_json()}
    label = model_label(ModelInfo("mine", Path("/m/mine.gguf"), "models/", 1, "llama", card), current=False)
    assert "not better than base: -2.0 [-5.0, +1.0] token F1 points, 30 held-out questions" in label.plain
    assert "ask --extract" not in label.plain
    card["gate"]["extract"] = {"f1": "19.8 [16.1, 23.7]", "questions": 30, "better": False,
                               "against": {"tuned": {"value": 0.05, "low": -0.01, "high": 0.1, "n": 30}}}
    label = model_label(ModelInfo("mine", Path("/m/mine.gguf"), "models/", 1, "llama", card), current=False)
    assert "(ask --extract): 19.8 [16.1, 23.7] token F1, +5.0 [-1.0, +10.0] points against tuned" in label.plain


def test_tune_recommends_extract_mode_only_to_a_user_not_already_using_it(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from rich.console import Console

    from localrag.cli.tune import _print_tune

    above = {"value": 0.09, "low": 0.06, "high": 0.12, "n": 100}
    gate_json = GateResult("not better", "f1", 0.01, -0.03, 0.05, 100,
                           extract={"f1": "19.8 [16.1, 23.7]", "questions": 100, "better": True,
                                    "against": {"base": above, "tuned": above}}).to_json()
    result = SimpleNamespace(summaries={"gate": gate_json})
    for extracting in (False, True):
        out = Console(record=True, width=400)
        _print_tune(result, out, tmp_path / "config.toml", extracting)
        text = out.export_text()
        assert "(ask --extract): 19.8 [16.1, 23.7] token F1" in text
        recommended = f'answer_mode = "extract" in {tmp_path / "config.toml"}' in text
        assert recommended is not extracting


def test_the_gate_asks_at_most_its_limit_and_a_larger_one_asks_only_the_new_questions(
        setup: dict[str, Path]) -> None:
    readers: list[Reader] = []
    small = gate(setup, tuned_good=True, readers=readers, limit=20)
    assert small.questions == 20 and small.limit == 20 and small.extract["questions"] == 20
    assert small.available == 32  # the held-out questions there were to ask
    card = setup["model"].with_suffix(".md").read_text()
    assert "Compared on 20 of the 32 questions of the held-out test split" in " ".join(card.split())
    assert json.loads(setup["model"].with_suffix(".json").read_text())["gate"]["limit"] == 20
    asked = sum(len(r.answer_caps) for r in readers)
    readers.clear()
    larger = gate(setup, tuned_good=True, readers=readers, limit=32)
    assert larger.questions == 32 and larger.limit == 32 and larger.extract["questions"] == 32
    # Two answers for each of the 12 new questions; the first 20 kept theirs.
    assert asked == 40 and sum(len(r.answer_caps) for r in readers) == 24
    # A smaller limit again judges on its own questions alone, the extracted sentence's figures too.
    smaller = gate(setup, tuned_good=True, limit=20)
    assert smaller.questions == 20 and smaller.extract["questions"] == 20
