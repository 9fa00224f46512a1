"""`localrag export --ollama`: a Modelfile whose Go template matches the GGUF's Jinja chat format."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from model_stores import gguf_bytes, hf_cache_model, ollama_model, write_gguf

from localrag.cli import run
from localrag.errors import ModelError
from localrag.models import bundled_generator_path
from localrag.ollama_export import export_to_ollama, modelfile_text, ollama_name

# The opening of Llama 3.x Instruct's Jinja chat template, as its GGUF files carry it.
LLAMA3_JINJA = (
    "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)


def test_modelfile_for_the_bundled_chatml_model() -> None:
    text = modelfile_text(bundled_generator_path(), temperature=0.0, num_ctx=2048)
    assert f"FROM {bundled_generator_path().resolve()}\n" in text
    assert '<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>' in text
    # Ollama passes a request's system messages in .System and in .Messages: the loop must skip them.
    assert '{{- range .Messages }}{{ if ne .Role "system" }}<|im_start|>' in text
    assert text.count('TEMPLATE """') == 1 and "{{- if .System }}<|im_start|>system" in text
    assert 'PARAMETER stop "<|im_end|>"' in text and 'PARAMETER stop "<|im_start|>"' in text
    assert "PARAMETER temperature 0\n" in text and "PARAMETER num_ctx 2048\n" in text
    assert "{%" not in text  # no Jinja left


def test_modelfile_for_a_llama3_template(tmp_path: Path) -> None:
    gguf = write_gguf(tmp_path / "Llama-3.2-1B.gguf", chat_template=LLAMA3_JINJA)
    text = modelfile_text(gguf, temperature=0.7, num_ctx=8192)
    assert "<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>" in text
    assert '{{- range .Messages }}{{ if ne .Role "system" }}<|start_header_id|>' in text
    assert text.rstrip().endswith("PARAMETER num_ctx 8192")
    assert all(f'PARAMETER stop "{s}"' in text for s in ("<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"))
    assert "PARAMETER temperature 0.7" in text


def test_unknown_template_is_refused(tmp_path: Path) -> None:
    gguf = write_gguf(tmp_path / "odd.gguf", chat_template="{% for m in messages %}[INST] {{ m.content }}{% endfor %}")
    with pytest.raises(ModelError, match="odd.gguf: its chat template is neither ChatML nor Llama 3"):
        modelfile_text(gguf, temperature=0.0, num_ctx=2048)


def test_names_are_made_ollama_safe() -> None:
    assert ollama_name("Kettle RAFT v2") == "kettle-raft-v2"
    assert ollama_name("###") == "localrag-model"


def test_ollama_on_path_is_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ollama itself cannot run here: a stand-in executable records how it was called.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ollama"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'called'}\necho success\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    gguf = write_gguf(tmp_path / "models" / "Mine.gguf", chat_template="<|im_start|>")
    result = export_to_ollama(gguf)
    assert result.created and result.output == "success" and result.name == "mine"
    assert (tmp_path / "called").read_text().split() == ["create", "mine", "-f", str(gguf.with_suffix(".Modelfile"))]


def test_cli_export_ollama_for_an_existing_model(localrag_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(localrag_home))  # no ollama on PATH
    gguf = write_gguf(localrag_home / "models" / "tuned.gguf", chat_template="<|im_start|>")
    assert run(["export", "--ollama", "--name", "tuned"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"ollama create tuned -f {gguf.with_suffix('.Modelfile')}" in out
    assert "FROM " + str(gguf.resolve()) in gguf.with_suffix(".Modelfile").read_text()
    # --json was passed over here: stdout was the text, which no script could read.
    assert run(["export", "--ollama", "--name", "tuned", "--json"]) == 0
    handed = json.loads(capsys.readouterr().out)["ollama"]
    assert handed == {"modelfile": str(gguf.with_suffix(".Modelfile")), "name": "tuned",
                      "command": ["ollama", "create", "tuned", "-f", str(gguf.with_suffix(".Modelfile"))],
                      "created": False}
    assert run(["export", "--name", "tuned"]) == 2
    assert "export needs --run" in capsys.readouterr().err
    assert run(["export", "--name", "other", "--run", str(localrag_home / "nope")]) == 2
    assert "nope: no such run folder" in " ".join(capsys.readouterr().err.split())


def test_tune_ollama_hands_the_new_model_over(localrag_home: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from localrag.tune.stages import TuneResult

    monkeypatch.setenv("PATH", str(localrag_home))  # no ollama on PATH
    gguf = write_gguf(localrag_home / "models" / "kettle.gguf", chat_template="<|im_start|>")

    def fake_run_tune(engine: object, plan: object, **kwargs: object) -> TuneResult:
        return TuneResult("kettle", localrag_home / "tune" / "kettle", gguf)  # the chain itself is tested elsewhere

    monkeypatch.setattr("localrag.tune.chain.run_tune", fake_run_tune)
    assert run(["tune", "--name", "kettle", "--quick", "--ollama"]) == 0
    assert "ollama create kettle -f" in " ".join(capsys.readouterr().out.split())
    assert gguf.with_suffix(".Modelfile").is_file()
    assert run(["tune", "--name", "kettle", "--quick", "--ollama", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ollama"]["name"] == "kettle"


def test_cli_export_ollama_writes_nothing_into_another_tools_store(
    localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from localrag import discover_models

    monkeypatch.setenv("PATH", str(localrag_home))  # no ollama on PATH
    monkeypatch.setattr(discover_models, "ollama_root", lambda: tmp_path / "ollama")
    monkeypatch.setattr(discover_models, "hf_cache_root", lambda: tmp_path / "hub")
    ollama_model(tmp_path / "ollama", "smollm2", "135m", gguf=gguf_bytes(chat_template="<|im_start|>"))
    hf = hf_cache_model(tmp_path / "hub", "owner", "Model-GGUF",
                        {"model-q8_0.gguf": gguf_bytes(chat_template="<|im_start|>")}) / "model-q8_0.gguf"
    before = sorted(p.name for p in (tmp_path / "ollama").rglob("*")) + sorted(p.name for p in hf.parent.iterdir())

    assert run(["export", "--ollama", "--name", "ollama:smollm2:135m"]) == 2
    assert "a model in Ollama's own store already (run it there: ollama run smollm2:135m)" in capsys.readouterr().err
    assert run(["export", "--ollama", "--name", "hf:owner/Model-GGUF/model-q8_0"]) == 0
    modelfile = localrag_home / "models" / "model-q8_0.Modelfile"
    assert f"ollama create model-q8_0 -f {modelfile}" in " ".join(capsys.readouterr().out.split())
    assert f"FROM {hf.resolve()}" in modelfile.read_text()
    after = sorted(p.name for p in (tmp_path / "ollama").rglob("*")) + sorted(p.name for p in hf.parent.iterdir())
    assert after == before
