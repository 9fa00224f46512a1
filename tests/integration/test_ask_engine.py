"""Asking through the Engine and the CLI with the bundled models over the sample corpus."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest
from network_probe import reached_out, run_cli

from localrag.answer.evidence import EXTRACT_MODEL
from localrag.answer.repeats import loop_start
from localrag.engine import Engine
from localrag.ingest.discover import sample_corpus_dir
from localrag.types import DoneEvent, QuoteStatus, SourcesEvent, TokenEvent

QUESTION = "When was the Kestrel Point lighthouse first lit?"


@pytest.fixture
def ingested(engine: Engine) -> Engine:
    engine.ingest([sample_corpus_dir()])
    return engine


def test_answer_cites_the_document_that_holds_it(ingested: Engine) -> None:
    answer = ingested.ask(QUESTION)
    assert not answer.refused
    assert "1871" in answer.text
    assert answer.cited, answer.text
    cited = {Path(answer.sources[n - 1].chunk.path).name for n in answer.cited}
    assert cited == {"kestrel-point-lighthouse.md"}
    assert answer.invalid_citations == []
    assert answer.stats.completion_tokens > 0
    # The best source sentence rides along, from the prompt's sources, word for word.
    assert answer.evidence is not None and "1871" in answer.evidence.text
    assert answer.evidence.text in answer.sources[answer.evidence.source - 1].chunk.text


def test_extract_mode_answers_with_the_best_sentence_and_loads_no_model(ingested: Engine) -> None:
    ingested.settings = ingested.settings.replace(answer_mode="extract")
    ingested._generator = None  # the fixture hands it a loaded model: dropped, to see none is loaded
    ingested.warm_up()
    events = list(ingested.stream(QUESTION))
    answer = events[-1].answer
    assert ingested._generator is None
    assert answer.model == EXTRACT_MODEL and answer.stats.completion_tokens == 0
    assert "1871" in answer.text and answer.evidence is not None
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == answer.text
    cited = {Path(answer.sources[n - 1].chunk.path).name for n in answer.cited}
    assert cited == {"kestrel-point-lighthouse.md"}
    # The answer is a quote of its source, so the answer's own check verifies it.
    assert [q.status for q in answer.quotes] == [QuoteStatus.VERIFIED]
    assert ingested.ask("What is the capital of Mongolia?").refused


def test_stream_order_and_text(ingested: Engine) -> None:
    events = list(ingested.stream(QUESTION))
    assert isinstance(events[0], SourcesEvent) and events[0].hits
    assert isinstance(events[-1], DoneEvent)
    tokens = [e.text for e in events if isinstance(e, TokenEvent)]
    assert len(tokens) > 3
    answer = events[-1].answer
    assert "".join(tokens).strip() == answer.text
    assert [h.chunk.chunk_id for h in answer.sources] == [h.chunk.chunk_id for h in events[0].hits]


def test_unrelated_question_is_refused_without_the_model(ingested: Engine) -> None:
    answer = ingested.ask("What is the capital of Mongolia?")
    assert answer.refused
    assert answer.sources == []
    assert answer.stats.completion_tokens == 0


def test_allow_model_knowledge_answers_anyway(ingested: Engine) -> None:
    ingested.settings = ingested.settings.replace(allow_model_knowledge=True, max_answer_tokens=24)
    answer = ingested.ask("What is the capital of Mongolia?")
    assert not answer.refused
    assert answer.text


def test_cancel_stops_generation_and_keeps_the_partial_answer(ingested: Engine) -> None:
    # Without the repeat guard, whose few held-back words would come after the third token event.
    ingested.settings = ingested.settings.replace(stop_repeats=False)
    cancel = threading.Event()
    seen = 0
    answer = None
    for event in ingested.stream("Describe how to descale the Aurora Duo espresso machine.", cancel=cancel):
        if isinstance(event, TokenEvent):
            seen += 1
            if seen == 3:
                cancel.set()
        elif isinstance(event, DoneEvent):
            answer = event.answer
    assert answer is not None
    assert answer.stats.cancelled
    assert answer.stats.completion_tokens <= 4
    assert answer.text


def test_an_answer_that_repeats_itself_ends_where_its_loop_began(ingested: Engine) -> None:
    # The bundled model loops on this question on the machines measured (benchmarks/README.md, "Answers
    # that repeat themselves"); what is asserted holds whether or not it loops on another CPU.
    question = "What does the travel policy say about rail travel?"
    ingested.settings = ingested.settings.replace(attribution_turn=False, stop_repeats=False)
    whole = ingested.ask(question)
    ingested.settings = ingested.settings.replace(stop_repeats=True)
    events = list(ingested.stream(question))
    guarded = events[-1].answer
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)).strip() == guarded.raw_text
    assert loop_start(guarded.raw_text) is None
    cut = loop_start(whole.raw_text, complete_only=True)
    # Greedy decoding: the guard only ends the same answer sooner.
    assert guarded.raw_text == (whole.raw_text[:cut].rstrip() if cut is not None else whole.raw_text)
    assert guarded.stats.stopped_repeating == (cut is not None)


def test_follow_up_is_rewritten_with_the_previous_question(ingested: Engine) -> None:
    history = [{"role": "user", "content": "How large is the water tank of the Aurora Duo?"},
               {"role": "assistant", "content": "2.5 litres [1]"}]
    assert ingested.rewrite_query("And how heavy is it?", history).startswith("How large is the water tank")
    assert ingested.rewrite_query("Who owns Larkspur?", history) == "Who owns Larkspur?"


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    # Every command runs as on a user's machine (no CI variable) and must not reach the network.
    return run_cli(*args, home=home, user_home=home.parent / "user-home")


def test_cli_ingest_ask_json_status_forget(tmp_path: Path, corpus_copy: Path) -> None:
    home = tmp_path / "cli-home"
    ingest = _cli("ingest", str(corpus_copy), home=home)
    assert ingest.returncode == 0, ingest.stderr
    assert "7 added" in ingest.stderr

    ask = _cli("ask", QUESTION, "--json", home=home)
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)
    assert "1871" in data["text"]
    assert data["sources"][0]["chunk"]["path"].endswith("kestrel-point-lighthouse.md")
    assert data["cited"]
    assert "1871" in data["evidence"]["text"] and data["evidence"]["source"] >= 1

    extracted = _cli("ask", QUESTION, "--extract", home=home)
    assert extracted.returncode == 0, extracted.stderr
    assert "1871" in extracted.stdout and "✓ verified" in extracted.stdout
    assert EXTRACT_MODEL in extracted.stdout and "tok/s" not in extracted.stdout

    status = json.loads(_cli("status", "--json", home=home).stdout)
    assert status["documents"] == 7 and status["chunks"] > 0

    forget = _cli("forget", str(corpus_copy / "kestrel-point-lighthouse.md"), home=home)
    assert forget.returncode == 0, forget.stderr
    assert json.loads(_cli("status", "--json", home=home).stdout)["documents"] == 6

    missing = _cli("ingest", str(tmp_path / "nowhere"), home=home)
    assert missing.returncode == 2
    assert "nowhere" in missing.stderr and "Traceback" not in missing.stderr
    # OpenVINO, the default embedding runtime, sent a usage event on import and wrote ~/intel/ until
    # localrag blocked its telemetry package.
    assert reached_out(tmp_path / "user-home") == ""
