"""Copies of one text in a search and under `ask`'s sources (`retrieve.copies_shown`), on a real LanceDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.cli import run
from localrag.config import load_settings
from localrag.embed import HashEmbedder, SentenceTransformerEmbedder
from localrag.engine import Engine

WIFI = "# Wifi password\nThe guest wifi password is hunter2-garden.\n"
# Two sections word for word the same in both versions, each cited at its own heading (joined with the one before
# it, before 2026-12-07 the equipment was cited under "Core hours"); the status line is each version's own.
EQUIPMENT = ("## Core hours\n\nCore hours are 10:00 to 15:00 in the employee's own time zone.\n\n## Equipment\n\n"
             "Employees working from home receive a one-time allowance of 450 EUR for a desk, chair and monitor.\n")


def test_many_copies_of_one_note_leave_room_for_other_texts(localrag_home: Path, tmp_path: Path) -> None:
    # 50 copies filled both legs' candidates: `-k 5` gave 1 hit, `-k 25` 3, the copy shown and the copies named
    # changed with k.
    notes = tmp_path / "mini"
    notes.mkdir()
    for i in range(1, 51):
        (notes / f"wifi {i}.md").write_text(WIFI)
    (notes / "allotment.md").write_text("# Allotment\nThe community garden plot 14 needs new fencing before spring.\n")
    (notes / "roses.md").write_text("# Roses\nPrune the garden roses in late February.\n")
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([notes])
    for k in (5, 25):
        hits = engine.search("guest wifi password", k=k)
        names = [Path(hit.chunk.path).name for hit in hits]
        assert names[0] == "wifi 1.md" and sorted(names[1:]) == ["allotment.md", "roses.md"]
        assert hits[0].copies == tuple(str(notes / f"wifi {i}.md") for i in sorted(range(2, 51), key=str))
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert {Path(hit.chunk.path).name for hit in engine.search("garden", k=3)} == {
        "wifi 1.md", "allotment.md", "roses.md"}


@pytest.fixture
def policies(localrag_home: Path, tmp_path: Path, real_embedder: SentenceTransformerEmbedder,
             monkeypatch: pytest.MonkeyPatch) -> Path:
    """A draft and the approved version of a policy, two sections word for word the same, ingested through the CLI."""
    import localrag.cli.common

    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "remote_work_policy_DRAFT.md").write_text(
        f"# Remote Work Policy\n\nStatus: draft, not approved.\n\n{EQUIPMENT}")
    (folder / "remote_work_policy_FINAL.md").write_text(
        f"# Remote Work Policy\n\nStatus: approved by the board on 2026-03-02 and in force.\n\n{EQUIPMENT}")

    def engine_from_args(args: object, **overrides: object) -> Engine:
        return Engine(load_settings(getattr(args, "config", None), **overrides), embedder=real_embedder)

    monkeypatch.setattr(localrag.cli.common, "engine_from_args", engine_from_args)
    assert run(["ingest", str(folder)]) == 0
    return folder


def test_a_word_left_out_shows_the_copy_it_does_not_mark_and_ask_names_the_other(
        policies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `-draft` left out the draft's status line, yet cited the draft's copy of the equipment section (first by path),
    # and `ask` did not say the approved policy holds it too.
    capsys.readouterr()
    question = "What equipment allowance does the approved remote work policy give? -draft"
    assert run(["ask", "--extract", question]) == 0
    out = capsys.readouterr().out
    draft, final = policies / "remote_work_policy_DRAFT.md", policies / "remote_work_policy_FINAL.md"
    assert f"[1] {final}:9 — Remote Work Policy > Equipment  (cited)\n    the same text in {draft}\n" in out
    assert "remote_work_policy_DRAFT.md:" not in out
    # Without the word, the draft comes first by path, the approved one named.
    assert run(["ask", "--extract", question.removesuffix(" -draft")]) == 0
    out = capsys.readouterr().out
    assert f"[1] {draft}:9 — Remote Work Policy > Equipment  (cited)\n    the same text in {final}\n" in out
