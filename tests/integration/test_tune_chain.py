"""`localrag tune --quick` end to end on the sample corpus with the real stages and the bundled model.

The Q&A pairs come from a file (the bundled model's own questions are too few and too random to
test with): ingest -> tune -> `models --json` lists the model with its card -> `ask --model NAME`
answers from it -> a second `tune` skips every stage. Training is cut to a few steps: the test is
about the chain and its files, not about what ten steps of LoRA teach a 135M model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from network_probe import reached_out, run_cli

from localrag.cli import run
from localrag.ingest.discover import sample_corpus_dir

pytestmark = pytest.mark.integration

QA = [
    ("When was the Hollow Brook Beekeepers Association founded?", "1962", "beekeeping-basics.txt"),
    ("How many frames does a brood box hold?", "eleven frames", "beekeeping-basics.txt"),
    ("How long does a worker bee live in summer?", "about six weeks", "beekeeping-basics.txt"),
    ("When was the Kestrel Point light first lit?", "14 March 1871", "kestrel-point-lighthouse.md"),
    ("How tall is the Kestrel Point tower?", "38 metres", "kestrel-point-lighthouse.md"),
    ("Who was the engineer who built Kestrel Point Lighthouse?", "Margaret Ellery Voss", "kestrel-point-lighthouse.md"),
    ("Which Quillpad version introduced formatting codes?", "version 4.2", "quillpad-formatting-codes.md"),
    ("How deep can Quillpad formatting codes be nested?", "up to 8 levels deep", "quillpad-formatting-codes.md"),
    ("How many plants do the Fernhill volunteers look after?", "more than 300 plants", "houseplant-care.html"),
    ("How long may a pot stand in a saucer of water?", "30 minutes", "houseplant-care.html"),
    ("Which trips need approval from a director at Larkspur?", "above 2,500 euros", "larkspur-travel-policy.docx"),
    ("How are private cars reimbursed at Larkspur?", "0.30 euros per kilometre", "larkspur-travel-policy.docx"),
]


def test_quick_tune_exports_a_model_that_is_listed_and_answers(
    tmp_path: Path, localrag_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Short answers: the gate generates four, and their length is not what this test checks.
    (localrag_home / "config").mkdir(exist_ok=True)
    (localrag_home / "config" / "config.toml").write_text("max_answer_tokens = 32\n")
    qa_file = tmp_path / "qa.jsonl"
    qa_file.write_text("".join(json.dumps({"question": q, "answer": a, "path": p}) + "\n" for q, a, p in QA))
    assert run(["ingest", str(sample_corpus_dir())]) == 0
    capsys.readouterr()

    tune = ["tune", "--name", "sample-tuned", "--quick", "--qa-file", str(qa_file), "--steps", "2",
            "--eval-every", "2", "--save-every", "2"]
    # The first run as on a user's machine (tests/network_probe.py): torch, transformers, peft, llama.cpp and
    # the embedder all load in it, and none may reach the network or write to the user's home.
    first = run_cli(*tune, home=localrag_home, user_home=tmp_path / "user-home", timeout=900)
    assert first.returncode == 0, first.stderr
    assert reached_out(tmp_path / "user-home") == ""
    out = " ".join(first.stdout.split())
    assert "'sample-tuned' is ready" in out and "check on a held-out question" in out

    model = localrag_home / "models" / "sample-tuned.gguf"
    assert model.is_file() and model.with_suffix(".json").is_file()
    state = json.loads((localrag_home / "data" / "tune" / "sample-tuned" / "chain.json").read_text())
    assert list(state["stages"]) == ["raft", "finetune", "export", "verify", "gate"]
    assert state["stages"]["finetune"]["steps"] == 2
    assert state["stages"]["export"]["agreement_f16"] >= 0.99
    # The gate compared it with the bundled base on the test split; ten steps rarely make a better model,
    # and only a better one becomes the default.
    card = json.loads(model.with_suffix(".json").read_text())
    gate = card["gate"]
    # The RAFT set showed the sentences answers show (the prompt_sentences setting), and the card says so.
    assert state["plan"]["raft"]["prompt_sentences"] == card["training"]["prompt_sentences"] == 4
    assert state["plan"]["raft"]["cot"] == card["training"]["cot"] == "short"  # whether quote_grammar suits it
    assert gate["verdict"] == state["stages"]["gate"]["verdict"] and gate["questions"] > 0
    assert gate["verdict"] in ("better", "not better", "not compared") and "than base" in out
    assert gate["default"] == (gate["verdict"] == "better")
    assert ("model = \"sample-tuned\"" in (localrag_home / "config" / "config.toml").read_text()) == gate["default"]
    assert "than base" in model.with_suffix(".md").read_text()

    assert run(["models", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert listed["sample-tuned"]["architecture"] == "llama" and not listed["sample-tuned"]["error"]
    assert listed["sample-tuned"]["card"]["quant"] == "Q8_0"

    assert run(["ask", "--model", "sample-tuned", "--json", "When was the Kestrel Point light first lit?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["model"] == "sample-tuned" and answer["raw_text"].strip() and not answer["refused"]

    assert run(tune) == 0
    err = " ".join(capsys.readouterr().err.split())
    for stage in ("Q&A and RAFT set", "fine-tuning", "export to GGUF", "verify and register",
                  "compare with the base model"):
        assert f"{stage}: skipped" in err

    # --json: stdout is one JSON document (the figures of every stage), the rest goes to stderr.
    assert run([*tune, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["ran"] == [] and printed["model_path"] == str(model) and not printed["default_changed"]
    assert printed["summaries"]["gate"]["verdict"] == gate["verdict"]
    assert printed["summaries"]["finetune"]["steps"] == 2
