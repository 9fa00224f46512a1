"""End-to-end `localrag eval` on a 3-question slice of each shared set, with the bundled models.

The corpus is cut to six documents (the slice's gold ones first) and answers to 24 tokens, so each
set stays within half a minute on 2 cores; what is checked is the pipeline (adapter -> fresh store -> Engine
answer path -> scored records -> report), not the model's quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from network_probe import reached_out, run_cli

from localrag.config import Settings
from localrag.evaluate.datasets import load_dataset
from localrag.evaluate.report import write_report
from localrag.evaluate.runner import EvalConfig, read_records, run_eval

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FOLDERS = {"covidqa": "covidqa", "pubmedqa": "pubmedqa_pqal", "hotpotqa": "hotpotqa_musique",
           "musique": "hotpotqa_musique"}

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not DATA.is_dir(), reason="shared evaluation data not present")]


@pytest.mark.parametrize("fmt", ["covidqa", "pubmedqa", "hotpotqa", "musique"])
def test_three_question_slice(fmt: str, tmp_path: Path) -> None:
    dataset = load_dataset(DATA / FOLDERS[fmt], fmt)
    modes = ("model", "rag") if fmt == "pubmedqa" else ("rag",)
    config = EvalConfig(modes=modes, limit=3, k=2, max_answer_tokens=24, max_documents=6)
    run = run_eval(dataset, tmp_path / "run", config, settings=Settings(max_answer_tokens=24))
    assert len(run.records) == 3 * len(modes)
    rag = [r for r in run.records if r["mode"] == "rag"]
    assert all(r["answer"] for r in run.records)
    # Gold documents are in the cut corpus and the questions name their topics: retrieval finds some.
    assert sum(r["scores"]["recall@2"] for r in rag) > 0
    assert all(r["ttft"] > 0 and r["completion_tokens"] > 0 and r["threads"] >= 1 for r in run.records)
    if fmt == "pubmedqa":
        assert all(r["gold_label"] in ("yes", "no", "maybe") for r in run.records)
    summary = write_report(tmp_path / "run")
    headline = {"covidqa": "f1", "pubmedqa": "accuracy", "hotpotqa": "hit", "musique": "hit"}[fmt]
    assert summary.headline == headline and summary.n_questions == 3
    assert all(headline in row.figures for row in summary.rows)
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert len(results["records"]) == len(read_records(tmp_path / "run"))
    assert "Split:" in (tmp_path / "run" / "report.md").read_text()


def test_cli_eval_as_a_user_runs_it(tmp_path: Path) -> None:
    """`localrag eval` in a child process under tests/network_probe.py: nothing reaches the network, and
    nothing is written to the user's home (matplotlib's font cache, for the plot, went there until
    MPLCONFIGDIR was set to localrag's cache)."""
    user_home = tmp_path / "user-home"
    run = run_cli("eval", str(DATA / "covidqa"), "--format", "covidqa", "--limit", "1", "--max-documents", "1",
                  "--modes", "extract", "--out", str(tmp_path / "run"), home=tmp_path / "home", user_home=user_home)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "run" / "plot.png").stat().st_size > 0
    assert reached_out(user_home) == ""
