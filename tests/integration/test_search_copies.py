"""Copies of one text in a search and under `ask`'s sources (`retrieve.copies_shown`), on a real LanceDB."""

from __future__ import annotations

import json
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
    assert f"[1] {final}:9 — Remote Work Policy > Equipment  (cited)\n    the same text in {draft}:9\n" in out
    assert f"] {draft}:" not in out  # no source of its own, only named under the approved one
    # Without the word, the draft comes first by path, the approved one named.
    assert run(["ask", "--extract", question.removesuffix(" -draft")]) == 0
    out = capsys.readouterr().out
    assert f"[1] {draft}:9 — Remote Work Policy > Equipment  (cited)\n    the same text in {final}:9\n" in out


# Two students' essays: each its own title and opening, then the same paragraph word for word, a chunk of its own.
COPIED = ("The Harrowgate phone study followed three hundred teenagers for a full school year and asked each of "
          "them to keep a sleep diary. Researchers found that students who kept their phones beside the bed slept "
          "on average forty minutes less than those who left them in another room. The effect was strongest on "
          "school nights, when notifications from group chats arrived well after midnight. Students also reported "
          "feeling more tired in morning lessons and finding it harder to concentrate during tests. When the same "
          "students were asked to charge their phones in the kitchen for two weeks, most of them fell asleep sooner"
          " and woke up less often during the night. The researchers concluded that the habit of checking a phone "
          "in bed, rather than the light of the screen alone, kept the teenagers awake, and that those who felt "
          "anxious about missing messages were the ones who would reach for their phones more often.")


def test_a_paragraph_copied_into_another_essay_names_that_essay_at_its_line(
        localrag_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # Kira's opening joined with the paragraph named no copy: Liam's copy of it, folded into Kira's hit, was named
    # nowhere (`copies` empty), and his hit showed only his own opening.
    import localrag.cli.common

    essays = tmp_path / "essays"
    essays.mkdir()
    # Sentences longer than a chunk's overlap: the paragraph's chunk starts at the paragraph in both.
    openings = {"green_kira": "Many people say that phones are ruining the sleep of young people, and I wanted to find "
                              "out if this is really true or just something adults like to complain about. " * 3,
                "hall_liam": "In my family everyone uses their phone at night, including my parents, so I was curious "
                             "whether the studies about teenagers and sleep also apply to grown ups who stay up late. "
                             * 3}
    for name, opening in openings.items():
        text = f"Essay 4: Phones at Night by {name}\n\n{opening.strip()}\n\n{COPIED}\n"
        (essays / f"{name}_essay4.txt").write_text(text)
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([essays])
    kira, liam = str(essays / "green_kira_essay4.txt"), str(essays / "hall_liam_essay4.txt")
    (holding,) = [hit for hit in engine.search("Harrowgate phone study sleep", k=3) if "Harrowgate" in hit.chunk.text]
    assert (holding.chunk.path, holding.chunk.line_start, holding.chunk.line_end) == (kira, 1, 5)
    (copy,) = holding.held_by
    assert (copy.chunk.path, copy.chunk.line_start, copy.part) == (liam, 5, True)
    monkeypatch.setattr(localrag.cli.common, "engine_from_args", lambda args, **overrides: engine)
    assert run(["search", "Harrowgate phone study sleep", "-k", "3"]) == 0
    assert f"part of it in {liam}:5\n" in capsys.readouterr().out
    assert run(["search", "Harrowgate phone study sleep", "-k", "3", "--json"]) == 0
    (hit,) = [hit for hit in json.loads(capsys.readouterr().out)["hits"] if hit["chunk"]["path"] == kira
              and "Harrowgate" in hit["chunk"]["text"]]
    assert hit["copies"] == [liam]
    assert hit["copy_places"] == [{"path": liam, "page": None, "line_start": 5, "line_end": 5, "part": True}]
