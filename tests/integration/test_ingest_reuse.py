"""An update embeds only what changed: the real MiniLM, real LanceDB, a spy counting what the embedder is given.

Appending one mail to an .mbox re-embedded every mail of it, and one paragraph changed in a long document every
chunk of it. The index the update leaves must search exactly as a fresh index of the same files does.
"""

from __future__ import annotations

import email.message
import mailbox
import random
from pathlib import Path

import pytest

from localrag.config import load_settings
from localrag.embed import SentenceTransformerEmbedder
from localrag.embedder_probe import PROBE_TEXT
from localrag.engine import Engine
from localrag.store import Store

_WORDS = ("harbour ferry timetable lighthouse keeper cargo tide river bridge council budget library archive orchard "
          "beekeeping glacier survey pottery kiln weaving loom bakery sourdough rye mill granary festival choir "
          "rehearsal violin museum fossil trilobite quarry limestone railway signal tunnel vineyard harvest cellar "
          "observatory comet telescope").split()
QUERIES = ("ferry timetable in winter", "fossil found in the quarry", "choir rehearsal before the festival",
           "budget of the council", "the new bakery's sourdough")


def _paragraph(rng: random.Random, number: int) -> str:
    sentences = [" ".join(rng.choice(_WORDS) for _ in range(12)).capitalize() + "." for _ in range(6)]
    return f"Item {number}. " + " ".join(sentences)


def _spy(monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder) -> list[str]:
    """Every chunk text the real embedder is given from now on (not the probe an opening checks it with)."""
    given: list[str] = []
    embed = embedder.embed

    def counted(texts: list[str]):  # type: ignore[no-untyped-def]
        given.extend(t for t in texts if t != PROBE_TEXT)
        return embed(texts)

    monkeypatch.setattr(embedder, "embed", counted)
    return given


def _results(engine: Engine) -> list[list[tuple[str, int, str, float]]]:
    return [[(h.chunk.path, h.chunk.index, h.chunk.text, round(h.score, 5)) for h in engine.search(q, k=8)]
            for q in QUERIES]


def _fresh(tmp_path: Path, embedder: SentenceTransformerEmbedder, paths: list[Path]) -> Engine:
    """A new index of `paths`, in a store of its own."""
    store = Store(tmp_path / "fresh", embedder_name=embedder.name, dim=embedder.dim, create=True)
    engine = Engine(load_settings(), embedder=embedder, store=store)
    assert not engine.ingest(paths).errors
    return engine


def _mail(subject: str, body: str, message_id: str) -> bytes:
    message = email.message.EmailMessage()
    message["Subject"] = subject
    message["From"] = "Ana Ferreira <ana@example.org>"
    message["To"] = "team@example.org"
    message["Message-ID"] = f"<{message_id}>"
    message.set_content(body)
    return message.as_bytes()


def test_one_mail_appended_to_an_mbox_embeds_that_mail_alone(
    engine: Engine, real_embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(7)
    path = tmp_path / "mail" / "inbox.mbox"
    path.parent.mkdir()
    box = mailbox.mbox(str(path))
    for i in range(12):
        box.add(_mail(f"Note {i} on the {_WORDS[i]}", "\n\n".join(_paragraph(rng, i * 10 + j) for j in range(3)),
                      f"m{i}@mail.example.org"))
    box.close()
    first = engine.ingest([path])
    assert first.added == 1 and not first.errors
    box = mailbox.mbox(str(path))
    box.add(_mail("The new bakery", "The new bakery's sourdough and rye sell out before noon.", "new@mail.example.org"))
    box.close()

    given = _spy(monkeypatch, real_embedder)
    report = engine.ingest([path])
    # Only the new mail's chunk was embedded; the twelve others kept their vectors.
    assert len(given) == 1 and "sourdough and rye" in given[0]
    assert report.chunks_written == engine.store.chunk_count() == first.chunks_written + 1
    assert report.chunks_reused == first.chunks_written
    # The file is updated, the mail in it added (named as the index names it).
    assert (report.added, report.updated, report.removed) == (1, 1, 0)
    assert report.added_paths == [f"{path}/new@mail.example.org"] and report.updated_paths == [str(path)]
    assert f"({first.chunks_written} unchanged, not embedded again)" in report.summary()
    assert _results(engine) == _results(_fresh(tmp_path, real_embedder, [path]))


def test_one_paragraph_changed_in_a_long_document_embeds_its_chunks_alone(
    engine: Engine, real_embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    path = tmp_path / "docs" / "minutes.md"
    path.parent.mkdir()
    sections = [f"## Section {s}\n\n" + "\n\n".join(_paragraph(rng, s * 10 + j) for j in range(6)) for s in range(8)]
    path.write_text("# Minutes\n\n" + "\n\n".join(sections) + "\n")
    first = engine.ingest([path])
    assert first.chunks_written >= 20
    text = path.read_text()
    old = text.split("\n\n")[20]
    path.write_text(text.replace(old, old + " The ferry timetable changes in winter, said the harbour council."))

    given = _spy(monkeypatch, real_embedder)
    report = engine.ingest([path])
    assert (report.added, report.updated) == (0, 1) and report.updated_paths == [str(path)]
    assert report.chunks_written == engine.store.chunk_count()
    # The changed section's chunks were embedded again, the other sections' kept their vectors.
    assert 1 <= len(given) <= report.chunks_written // 4
    assert report.chunks_reused == report.chunks_written - len(given)
    assert any("The ferry timetable changes in winter" in t for t in given)
    assert _results(engine) == _results(_fresh(tmp_path, real_embedder, [path]))


def _notes(folder: Path, rng: random.Random) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(3):
        paths.append(folder / f"n{i}.md")
        paths[-1].write_text(f"# Note {i}\n\n" + "\n\n".join(_paragraph(rng, i * 10 + j) for j in range(3)) + "\n")
    return paths


def test_a_folder_renamed_moves_its_documents_with_their_vectors(
    engine: Engine, real_embedder: SentenceTransformerEmbedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Renamed, a folder was 3 added and 0 removed: every chunk embedded again, and the dead paths stayed, cited.
    # Its old place must be in the folder ingested (`r2`), where a file not met is known to be gone.
    _notes(tmp_path / "r2" / "notes", random.Random(5))
    first = engine.ingest([tmp_path / "r2" / "notes"])
    (tmp_path / "r2" / "notes").rename(tmp_path / "r2" / "archive")

    given = _spy(monkeypatch, real_embedder)
    report = engine.ingest([tmp_path / "r2"])
    assert given == []
    assert (report.added, report.removed, report.moved) == (0, 0, 3)
    assert report.added_paths == report.removed_paths == []
    assert report.moved_paths == [f"{tmp_path}/r2/notes/n{i}.md -> {tmp_path}/r2/archive/n{i}.md" for i in range(3)]
    assert report.chunks_reused == report.chunks_written == first.chunks_written
    assert "3 moved" in report.summary() and any(n.startswith("moved 3 files") for n in report.notes)
    assert sorted(d.path for d in engine.store.documents()) == [str(p) for p in sorted(
        (tmp_path / "r2" / "archive").iterdir())]
    for hits in _results(engine):
        assert all("/r2/archive/" in path for path, *_ in hits)


def test_a_file_copied_is_added_not_moved(engine: Engine, tmp_path: Path) -> None:
    # Only a file whose old place is empty moved: a copy beside it leaves both indexed, one search hit naming both.
    notes = _notes(tmp_path / "notes", random.Random(5))
    engine.ingest([tmp_path / "notes"])
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "n0.md").write_bytes(notes[0].read_bytes())
    report = engine.ingest([tmp_path / "copy"])
    assert (report.added, report.moved) == (1, 0)
    assert len(engine.store.documents()) == 4


def test_a_search_shows_the_copy_whose_file_is_there(engine: Engine, tmp_path: Path) -> None:
    # An index that kept a file's old path (moved out of a folder ingested since) showed the dead path first.
    notes = _notes(tmp_path / "notes", random.Random(5))
    engine.ingest([tmp_path / "notes"])
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "n0.md").write_bytes(notes[0].read_bytes())
    engine.ingest([tmp_path / "copy"])
    query = notes[0].read_text().split("\n\n")[1]
    first = engine.search(query, k=1)[0]
    other = ({str(notes[0]), str(tmp_path / "copy" / "n0.md")} - {first.chunk.path}).pop()
    assert first.copies == (other,)
    Path(first.chunk.path).unlink()
    hit = engine.search(query, k=1)[0]
    assert hit.chunk.path == other and hit.copies == (first.chunk.path,)
