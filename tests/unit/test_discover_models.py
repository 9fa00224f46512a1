"""Models other tools keep: found in place (never copied), named for --model, ambiguity explained.

Every store is built in a temp HOME with the layout its tool writes; the GGUF files are small real
ones (tests/unit/model_stores.py), and one Ollama blob is the bundled SmolLM2 itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_stores import gguf_bytes, hf_cache_model, ollama_copy, ollama_model, write_gguf

from localrag import discover_models
from localrag.cli import run
from localrag.config import Settings
from localrag.discover_models import HeaderCache, can_load, discover, full_name, list_all, resolve_name
from localrag.engine import Engine
from localrag.errors import ModelError
from localrag.models import bundled_generator_path, resolve_generator

REAL_ROOTS = {name: getattr(discover_models, name)
              for name in ("ollama_root", "lmstudio_roots", "gpt4all_roots", "hf_cache_root")}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name, function in REAL_ROOTS.items():  # undo conftest's guard: this HOME is the test's own
        monkeypatch.setattr(discover_models, name, function)
    for name in ("OLLAMA_MODELS", "HF_HUB_CACHE", "HF_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def stores(home: Path) -> dict[str, Path]:
    """One model in each tool's store, plus a second 'qwen' to make a plain name ambiguous."""
    ollama = home / ".ollama" / "models"
    return {
        "ollama": ollama_model(ollama, "smollm2", "latest", link_to=bundled_generator_path()),
        "ollama-tagged": ollama_model(ollama, "qwen", "0.5b", gguf=gguf_bytes("qwen2", name="qwen")),
        "ollama-user": ollama_model(ollama, "tiny", "q8", namespace="someone", gguf=gguf_bytes(name="tiny")),
        "lmstudio": write_gguf(home / ".lmstudio" / "models" / "pub" / "repo-GGUF" / "model-Q4_K_M.gguf",
                               arch="phi3", context_length=8192, size_label="3.8B"),
        "lmstudio-mmproj": write_gguf(home / ".lmstudio" / "models" / "pub" / "repo-GGUF" / "mmproj-model-f16.gguf",
                                      arch="clip"),
        "gpt4all": write_gguf(home / ".local" / "share" / "nomic.ai" / "GPT4All" / "qwen.gguf", arch="qwen2"),
        "hf": hf_cache_model(home / ".cache" / "huggingface" / "hub", "owner", "Model-GGUF",
                             {"model-q8_0.gguf": gguf_bytes(file_type=7)}) / "model-q8_0.gguf",
    }


def _by_full_name(models: list) -> dict[str, object]:
    return {full_name(m): m for m in models}


def test_every_store_is_found_in_place(stores: dict[str, Path], localrag_home: Path) -> None:
    found = _by_full_name(discover())
    assert set(found) == {
        "ollama:smollm2:latest", "ollama:qwen:0.5b", "ollama:someone/tiny:q8", "lmstudio:pub/repo-GGUF/model-Q4_K_M",
        "gpt4all:qwen", "hf:owner/Model-GGUF/model-q8_0",
    }
    smol = found["ollama:smollm2:latest"]
    assert smol.path == stores["ollama"]  # the blob itself, not a copy
    assert smol.architecture == "llama" and smol.quantization == "Q4_K_M" and smol.parameters == "1B"
    assert smol.size == bundled_generator_path().stat().st_size
    phi = found["lmstudio:pub/repo-GGUF/model-Q4_K_M"]
    assert (phi.architecture, phi.quantization, phi.context_length, phi.parameters) == ("phi3", "Q4_K_M", 8192, "3.8B")
    assert found["hf:owner/Model-GGUF/model-q8_0"].quantization == "Q8_0"
    assert not (localrag_home / "models").exists()


def test_plain_and_full_names_resolve(stores: dict[str, Path]) -> None:
    models = discover()
    assert resolve_name("ollama:smollm2:latest", models) == stores["ollama"]
    assert resolve_name("smollm2", models) == stores["ollama"]  # Ollama's rule: no tag means latest
    assert resolve_name("qwen:0.5b", models) == stores["ollama-tagged"]
    assert resolve_name("someone/tiny:q8", models) == stores["ollama-user"]
    assert resolve_name("lmstudio:pub/repo-GGUF/model-Q4_K_M", models) == stores["lmstudio"]
    assert resolve_name("model-Q4_K_M", models) == stores["lmstudio"]
    assert resolve_name("hf:owner/Model-GGUF/model-q8_0.gguf", models) == stores["hf"]
    assert resolve_name("nothing", models) is None


def test_ollama_tags_of_one_blob_are_each_a_model(stores: dict[str, Path], home: Path) -> None:
    """`ollama pull llama3.2` and `llama3.2:3b` make two manifests naming one blob: both names must work."""
    ollama = home / ".ollama" / "models"
    ollama_model(ollama, "smollm2", "135m", link_to=bundled_generator_path())
    ollama_model(ollama, "tiny", "v1", namespace="someuser", link_to=bundled_generator_path())
    models = discover()
    names = [full_name(m) for m in models]
    assert {"ollama:smollm2:latest", "ollama:smollm2:135m", "ollama:someuser/tiny:v1"} <= set(names)
    for name in ("smollm2", "smollm2:135m", "ollama:smollm2:latest", "someuser/tiny:v1"):
        found = resolve_name(name, models)
        assert found is not None and found.resolve() == bundled_generator_path().resolve(), name


def test_ollama_models_from_another_registry_are_named_as_ollama_lists_them(stores: dict[str, Path],
                                                                           home: Path) -> None:
    # `ollama pull hf.co/OWNER/REPO:QUANT` was listed without its registry, a name --model did not take, and it hid
    # Ollama's own model of the same OWNER/REPO:QUANT.
    ollama = home / ".ollama" / "models"
    from_hf = ollama_model(ollama, "SmolLM2-GGUF", "Q4_1", namespace="bartowski", registry="hf.co",
                           gguf=gguf_bytes(name="from-hf"))
    own = ollama_model(ollama, "SmolLM2-GGUF", "Q4_1", namespace="bartowski", gguf=gguf_bytes(name="own"))
    models = discover()
    names = {full_name(m) for m in models}
    assert {"ollama:hf.co/bartowski/SmolLM2-GGUF:Q4_1", "ollama:bartowski/SmolLM2-GGUF:Q4_1"} <= names
    assert resolve_name("hf.co/bartowski/SmolLM2-GGUF:Q4_1", models) == from_hf
    assert resolve_name("ollama:hf.co/bartowski/SmolLM2-GGUF:Q4_1", models) == from_hf
    assert resolve_name("bartowski/SmolLM2-GGUF:Q4_1", models) == own
    # The name shown before the registry was (a saved `model` setting) still names the model, if only one has it.
    assert resolve_name("ollama:bartowski/SmolLM2-GGUF:Q4_1", [m for m in models if m.path != own]) == from_hf


def test_ambiguous_name_lists_the_candidates(stores: dict[str, Path], tmp_path: Path) -> None:
    write_gguf(tmp_path / "extra" / "smollm2.gguf")
    with pytest.raises(ModelError) as info:
        resolve_generator("smollm2", tmp_path / "models", str(tmp_path / "extra"))
    message = str(info.value)
    assert "ambiguous" in message and "ollama:smollm2:latest" in message and "dir:smollm2" in message
    assert "\n" not in message
    # models/ comes first: a name there is that file, whatever other tools hold.
    mine = write_gguf(tmp_path / "models" / "smollm2.gguf")
    assert resolve_generator("smollm2", tmp_path / "models", str(tmp_path / "extra")) == mine.resolve()


def test_not_found_says_where_it_looked(home: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="'ollama:nope:1b' not found"):
        resolve_generator("ollama:nope:1b", tmp_path / "models")


def test_split_models_and_projectors(home: Path) -> None:
    folder = home / ".lmstudio" / "models" / "pub" / "big-GGUF"
    first = write_gguf(folder / "big-00001-of-00002.gguf")
    second = write_gguf(folder / "big-00002-of-00002.gguf")
    found = discover()
    assert [m.name for m in found] == ["pub/big-GGUF/big-00001-of-00002"]
    assert found[0].size == first.stat().st_size + second.stat().st_size


def test_hf_cache_uses_the_revision_main_points_to(home: Path) -> None:
    hub = home / ".cache" / "huggingface" / "hub"
    hf_cache_model(hub, "o", "r", {"old.gguf": gguf_bytes()}, revision="old", main=False)
    newest = hf_cache_model(hub, "o", "r", {"new.gguf": gguf_bytes()}, revision="new")
    assert [m.path for m in discover()] == [newest / "new.gguf"]


def test_env_overrides_and_model_dirs(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "ollama-elsewhere"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-elsewhere"))
    ollama_model(tmp_path / "ollama-elsewhere", "m", "1b")
    hf_cache_model(tmp_path / "hub-elsewhere", "o", "r", {"sub/f.gguf": gguf_bytes()})
    write_gguf(tmp_path / "mine" / "deep" / "x.gguf")
    names = {full_name(m) for m in discover(f"{tmp_path / 'mine'}:{tmp_path / 'absent'}")}
    assert names == {"ollama:m:1b", "hf:o/r/sub/f", "dir:deep/x"}


def test_a_broken_file_is_listed_with_its_error(home: Path) -> None:
    bad = home / ".local" / "share" / "nomic.ai" / "GPT4All" / "bad.gguf"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a model")
    [info] = discover()
    assert "not a GGUF file" in info.error
    with pytest.raises(ModelError, match="not a GGUF file"):
        resolve_name("bad", [info])


def test_header_cache_skips_unchanged_files(stores: dict[str, Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cache_file = tmp_path / "index.json"
    cache = HeaderCache(cache_file)
    first = discover(cache=cache)
    assert not cache_file.exists()  # a caller's cache is saved by the caller
    cache.save()

    def refuse(path: Path) -> None:
        raise AssertionError(f"header of {path} read again")

    monkeypatch.setattr(discover_models, "read_gguf_header", refuse)
    again = discover(cache=HeaderCache(cache_file))
    assert [(m.name, m.architecture) for m in again] == [(m.name, m.architecture) for m in first]
    write_gguf(stores["gpt4all"], arch="gemma3")  # changed file: read again
    with pytest.raises(AssertionError, match="read again"):
        discover(cache=HeaderCache(cache_file))


def test_loadable_flag_comes_from_this_llama_cpp() -> None:
    if can_load("llama") is None:
        pytest.skip("llama.cpp library file not found")
    assert can_load("llama") is True and can_load("qwen2") is True
    assert can_load("phi3") is True and can_load("gemma3") is True
    assert can_load("surely-not-an-architecture") is False


def test_engine_loads_an_ollama_blob_by_name(stores: dict[str, Path]) -> None:
    engine = Engine(Settings(model="ollama:smollm2"))
    assert engine.check_model("ollama:smollm2") == stores["ollama"]
    assert engine.model_name() == "ollama:smollm2"
    # The blob is a link to the bundled file here: listed once, as the bundled model.
    listed = [m for m in list_all(engine.models_dir) if m.path.resolve() == bundled_generator_path().resolve()]
    assert [m.source for m in listed] == ["bundled"]


def test_models_command_json_and_pipe(stores: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_use = {r["use"]: r for r in rows}
    assert by_use["bundled"]["source"] == "bundled"
    # ... and that name is the bundled model wherever a model is named, though the setting is another's.
    assert resolve_generator("bundled", Path("/nowhere")) == bundled_generator_path()
    assert Engine(Settings(model="bundled")).model_name() == bundled_generator_path().stem
    assert by_use["ollama:qwen:0.5b"]["architecture"] == "qwen2"
    assert by_use["ollama:qwen:0.5b"]["path"] == str(stores["ollama-tagged"])
    # Memory at n_ctx 2048: weights + KV cache (2 layers x 2 KV heads x (16 + 16) x 2 bytes a token) + buffers.
    qwen = by_use["ollama:qwen:0.5b"]
    assert qwen["memory"] == qwen["size"] + 2048 * 2 * 2 * 32 * 2 + int(qwen["size"] * 0.1) + 256 * 1024**2
    assert run(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all("\t" in line for line in lines)
    assert lines[0].startswith("source\tmodel\tarch\t") and lines[0].endswith("\tnotes\tpath\tdefault")
    assert any(line.startswith("gpt4all\tgpt4all:qwen\tqwen2\t") for line in lines)
    # The bundled row's model column was empty: a script reading the default's name got "" to pass to --model.
    assert [line.split("\t")[1] for line in lines if line.startswith("bundled\t")] == ["bundled"]


def test_models_marks_the_default_model_as_the_model_setting_resolves_it(
        stores: dict[str, Path], localrag_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def defaults(*flags: str) -> list[str]:
        assert run(["models", *flags]) == 0
        printed = capsys.readouterr().out
        if flags:
            return [r["use"] for r in json.loads(printed) if r.get("default")]
        return [line.split("\t")[1] for line in printed.splitlines()[1:] if line.endswith("\tyes")]

    assert defaults("--json") == ["bundled"] and defaults() == ["bundled"]
    write_gguf(localrag_home / "models" / "mine.gguf")
    monkeypatch.setenv("LOCALRAG_MODEL", "mine")  # as `tune --force-default` sets it
    assert defaults("--json") == ["models:mine"] and defaults() == ["models:mine"]
    monkeypatch.setenv("LOCALRAG_MODEL", "qwen:0.5b")
    assert defaults("--json") == ["ollama:qwen:0.5b"]


def test_models_marks_only_the_ollama_tag_the_setting_names_not_every_tag_of_its_blob(
        home: Path, localrag_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # `config set model smol` marked smol:latest, smol:135m and hf.co/bartowski/SmolLM2-GGUF:Q4_1 as the default:
    # all three name one blob.
    ollama = home / ".ollama" / "models"
    ollama_model(ollama, "smol", "latest", gguf=gguf_bytes(name="smol"))
    ollama_copy(ollama, "smol", "latest", to_model="smol", to_tag="135m")
    ollama_copy(ollama, "smol", "latest", to_model="SmolLM2-GGUF", to_tag="Q4_1", to_namespace="bartowski",
                to_registry="hf.co")
    monkeypatch.setenv("LOCALRAG_MODEL", "smol")
    assert run(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len({r["path"] for r in rows if r["use"].startswith("ollama:")}) == 1  # one blob, three names
    assert [r["use"] for r in rows if r.get("default")] == ["ollama:smol:latest"]
    assert run(["models"]) == 0
    assert [line.split("\t")[1] for line in capsys.readouterr().out.splitlines() if line.endswith("\tyes")] == [
        "ollama:smol:latest"]
    monkeypatch.setenv("LOCALRAG_MODEL", "hf.co/bartowski/SmolLM2-GGUF:Q4_1")
    assert run(["models", "--json"]) == 0
    assert [r["use"] for r in json.loads(capsys.readouterr().out) if r.get("default")] == [
        "ollama:hf.co/bartowski/SmolLM2-GGUF:Q4_1"]
    monkeypatch.setenv("LOCALRAG_MODEL", str(ollama / "manifests"))  # names nothing: none marked
    assert run(["models", "--json"]) == 0
    assert not [r for r in json.loads(capsys.readouterr().out) if r.get("default")]
    monkeypatch.delenv("LOCALRAG_MODEL")
    assert run(["models", "--json"]) == 0
    assert [r["use"] for r in json.loads(capsys.readouterr().out) if r.get("default")] == ["bundled"]


def test_a_broken_ollama_model_is_named_with_what_is_wrong_and_the_ollama_fix(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Both named the blob, not the model: "/…/blobs/sha256-ab00…: No such file or directory", and a cut blob was
    # to be "re-downloaded or re-exported" with no word of Ollama.
    ollama = home / ".ollama" / "models"
    missing = ollama_model(ollama, "ghost", "7b", gguf=gguf_bytes(name="ghost"))
    missing.unlink()
    cut = ollama_model(ollama, "cut", "1b", gguf=gguf_bytes(name="cut")[:-64])
    assert run(["ask", "x", "--model", "ghost:7b"]) == 2
    err = capsys.readouterr().err
    assert "ollama:ghost:7b: its manifest names a blob that is not in Ollama's store" in err
    assert "ollama pull ghost:7b" in err and str(missing) not in err and "\n" not in err.strip()
    assert run(["ask", "x", "--model", "ollama:cut:1b"]) == 2
    err = capsys.readouterr().err
    assert "ollama:cut:1b: its blob in Ollama's store (sha256-" in err and "GGUF file is truncated" in err
    assert "ollama pull cut:1b" in err and str(cut) not in err
    assert run(["models", "--json"]) == 0  # the listing says the same
    notes = {r["use"]: r["error"] for r in json.loads(capsys.readouterr().out)}
    assert "ollama pull ghost:7b" in notes["ollama:ghost:7b"] and "ollama pull cut:1b" in notes["ollama:cut:1b"]


def test_a_name_without_its_tag_suggests_the_tags_ollama_has(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `--model ghost` said "no other tool's store has it" beside ollama:ghost:7b: a name without a tag is :latest.
    ollama = home / ".ollama" / "models"
    ollama_model(ollama, "ghost", "7b", gguf=gguf_bytes(name="ghost"))
    ollama_model(ollama, "ghost", "13b", gguf=gguf_bytes(name="ghost13"))
    ollama_model(ollama, "ghostly", "latest", gguf=gguf_bytes(name="ghostly"))
    for spec in ("ghost", "ollama:ghost"):
        assert run(["ask", "x", "--model", spec]) == 2
        err = capsys.readouterr().err
        assert "ghost:latest" in err and "did you mean ollama:ghost:13b or ollama:ghost:7b" in err, err
        assert "ghostly" not in err
    assert run(["ask", "x", "--model", "ghost:70b"]) == 2  # a tag named is that tag: no guess
    assert "did you mean" not in capsys.readouterr().err


def test_unknown_model_is_a_one_line_cli_error(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["ask", "hi", "--model", "ollama:nope"]) == 2
    err = capsys.readouterr().err
    assert "'ollama:nope' not found" in err and "Traceback" not in err
