"""Folders that note-taking apps keep (Obsidian vaults, Logseq graphs), ingested as their users ingest them.

Real files, the real embedder and a real LanceDB: what gets indexed, what a search finds, what a re-ingest drops.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.engine import Engine


def _names(engine: Engine) -> list[str]:
    return sorted(Path(d.path).name for d in engine.documents())


def _found(engine: Engine, query: str) -> str:
    return "\n".join(h.chunk.text for h in engine.search(query, k=3))


def test_an_obsidian_note_hides_its_comments_and_is_found_by_its_properties(engine: Engine, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / ".obsidian").mkdir(parents=True)
    (vault / ".obsidian" / "workspace.md").write_text("# Workspace\n\nlayout\n")
    (vault / "Ferry.md").write_text("---\naliases: [Fährmann]\ndue: 2027-04-01\n---\n# Ferry\n\n"
                                    "The ferry captain is called Olaf. %% the captain is really Sven %%\n\n"
                                    "%%\nprivate: the code is 4471\n%%\n")
    (vault / "Carol Diaz.md").write_text("---\ntitle: Carol Diaz\nrole: vendor contact\nphone: 555-0199\n---\n")
    report = engine.ingest([vault])
    assert (report.added, report.errors) == (2, [])  # a note of properties alone was "empty or blank", exit 1
    assert _names(engine) == ["Carol Diaz.md", "Ferry.md"]
    assert "Sven" not in _found(engine, "captain Sven") and "4471" not in _found(engine, "private code 4471")
    assert "555-0199" in _found(engine, "Carol Diaz phone")
    assert "2027-04-01" in _found(engine, "Fährmann due")


def test_a_logseq_graph_leaves_out_its_own_folder_and_a_backup_named_stays(engine: Engine, tmp_path: Path) -> None:
    graph = tmp_path / "graph"
    for folder in ("pages", "journals", "logseq/bak/pages/Kubernetes"):
        (graph / folder).mkdir(parents=True)
    (graph / "logseq" / "config.edn").write_text("{:meta/version 1}\n")
    (graph / "logseq" / "custom.css").write_text("")
    (graph / "pages" / "Kubernetes.md").write_text("- Kubernetes cluster runs on version 1.29\n")
    backup = graph / "logseq" / "bak" / "pages" / "Kubernetes" / "2026-11-30T10_00_00.000Z.Desktop.md"
    backup.write_text("- Kubernetes cluster runs on version 1.28\n")
    report = engine.ingest([graph])
    assert report.errors == [] and _names(engine) == ["Kubernetes.md"]
    # Named, as a hidden file is: the index keeps no record of how it came in, so the next ingest of the graph keeps
    # it (an older localrag's backup leaves through `ingest --stale`, below).
    engine.ingest([backup])
    assert engine.ingest([graph]).removed == 0 and len(_names(engine)) == 2


def test_excludes_written_as_paths_match_and_excluded_files_indexed_before_are_named(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "notes"
    for folder in ("drafts", "old", "kept", "top"):
        (root / folder).mkdir(parents=True)
        (root / folder / f"{folder}.md").write_text(f"# {folder}\n\nA note kept in {folder}.\n")
    (tmp_path / "link").symlink_to(root)
    monkeypatch.chdir(tmp_path)
    engine.ingest([root])
    # From the current folder (as --path reads ./x, and without its ./ as tab completion writes it), with a folder's
    # slash, whole through a link.
    patterns = ["./notes/drafts", "notes/old/", str(tmp_path / "link" / "kept"), "nosuch"]
    report = engine.ingest([tmp_path / "link"], exclude=patterns)
    assert _names(engine) == ["drafts.md", "kept.md", "old.md", "top.md"]  # left out now, not deleted: they stay
    assert report.notes == [
        "exclude 'nosuch' left out nothing: a pattern is matched against each file's and folder's path below the "
        "folder given, and against its bare name",
        f"3 indexed files that exclude leaves out stay in the index: {root}/drafts/drafts.md, {root}/kept/kept.md, "
        f"{root}/old/old.md (a forget takes one out)"]
    assert report.excluded_paths == [f"{root}/{name}/{name}.md" for name in ("drafts", "kept", "old")]
    engine.forget(root)
    assert engine.ingest([root], exclude=patterns).added == 1


def test_a_hidden_file_named_stays_when_its_folder_is_ingested(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / ".private").mkdir()
    (tmp_path / ".private" / "plan.md").write_text("# Plan\n\nThe vault code is mango.\n")
    (tmp_path / "pub.md").write_text("# Pub\n\nThe pub opens at noon.\n")
    engine.ingest([tmp_path / ".private" / "plan.md"])
    report = engine.ingest([tmp_path])
    assert (report.added, report.removed) == (1, 0) and _names(engine) == ["plan.md", "pub.md"]


def test_obsidian_comment_marks_pair_outside_code() -> None:
    from localrag.ingest.loaders import visible_markdown

    # A mark in code was paired with the comment's opening one, and the private text stayed in.
    shown = visible_markdown('Format with `printf "%%d"` in C.\nThe door code is %% 4471 %% for guests.\n'
                             "A %% see `x` %% done.\n```\n%% a cell\n```\n")
    assert "4471" not in shown and "see" not in shown and "%%d" in shown and "%% a cell" in shown
    # One left open hides the rest, as an unclosed HTML comment does: its private text was indexed.
    assert visible_markdown("Shown.\n\n%% begins\n\nmore secret\n").split() == ["Shown."]


def test_leftovers_a_shell_glob_names_are_passed_over(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("# Plan\n\nShip the tern survey in May.\n")
    (tmp_path / "~$plan.docx").write_bytes(b"\x0bJohn Smith")  # Word's owner file
    (tmp_path / "plan.md~").write_text("backup")
    report = engine.ingest(sorted(tmp_path.iterdir()))
    assert (report.added, report.errors) == (1, [])
    assert report.notes == [f"skipped {tmp_path / name}: an editor's, office suite's or download's leftover, not a "
                            "document" for name in ("plan.md~", "~$plan.docx")]


def test_a_stale_read_drops_a_logseq_backup_and_names_other_collections_stale_documents(
        engine: Engine, tmp_path: Path) -> None:
    from localrag.config import load_settings
    from localrag.store_schema import READ_WITH

    graph = tmp_path / "graph"
    (graph / "logseq" / "bak").mkdir(parents=True)
    (graph / "logseq" / "config.edn").write_text("{}\n")
    (graph / "pages").mkdir()
    (graph / "pages" / "Recipes.md").write_text("- Pancakes need flour, eggs and milk.\n")
    backup = graph / "logseq" / "bak" / "Recipes.md"
    backup.write_text("- OLDBACKUP Pancakes need flour and water.\n")
    engine.ingest([graph / "pages", backup])  # what an older localrag took from the graph
    other, damaged = (Engine(load_settings(collection=name), embedder=engine.embedder) for name in ("notes", "zz"))
    for each in (other, damaged):
        each.create_collection(each.settings.collection)
        each.ingest([graph / "pages"])
    for store in (engine.store, other.store):  # read by an older localrag: every document stale
        store.documents_table.update(values_sql={READ_WITH: "''"})
    damaged.store._db.drop_table(f"documents{damaged.store.suffix}")  # its own commands say so: not this one's
    report = engine.ingest([], stale=True)
    # It was read again and kept, and ranked above the page it is an old copy of.
    assert report.removed_paths == [str(backup)] and _names(engine) == ["Recipes.md"]
    assert report.notes == [
        "dropped 1 document held in an application's or the system's own folder (a Logseq graph's `logseq`, a "
        "recycle bin, a saved page's files) or written by Windows (`desktop.ini`), as an ingest of the folder holding "
        "it leaves them out; `localrag ingest PATH` takes one back",
        # Taken out of the index, as a forget does: its text is where a forget leaves it.
        "1 document removed, not erased: its text stays in the index's files (a delete only marks rows, and old "
        "versions are kept for readers) until a later ingest compacts them, usually; "
        f"`localrag forget {backup} --purge` erases it now",
        "other collections hold stale documents too: notes (1); a stale ingest of each (`--stale --collection NAME`) "
        "reads them again"]
    assert report.stale_elsewhere == {"notes": 1}


def test_a_drives_recycle_bin_and_a_saved_pages_files_are_left_out_named_and_a_desktop_ini_dropped(
        engine: Engine, tmp_path: Path) -> None:
    drive = tmp_path / "USBSTICK"
    deleted = drive / "$RECYCLE.BIN" / "S-1-5-21-1" / "$R7QK2ZD.txt"
    deleted.parent.mkdir(parents=True)
    deleted.write_text("Layoff plan DRAFT: cut the Lisbon office.\n")
    (deleted.parent / "$I7QK2ZD.txt").write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00\x10\x00" + b"\x00" * 40)
    (drive / "desktop.ini").write_text("[.ShellClassInfo]\nIconResource=C:\\icon.ico,0\n")
    (drive / "Page.html").write_text("<title>Trip</title><p>The ferry leaves at nine from pier four.</p>")
    (drive / "Page_files").mkdir()
    (drive / "Page_files" / "saved_resource.html").write_text("<title>Cheap flights</title><p>Cheap flights!</p>")
    # What an older localrag took, as a named file or in a walk; none takes it now.
    (drive / "view.ini").write_text((drive / "desktop.ini").read_text())
    engine.ingest([drive / "view.ini"])
    (drive / "view.ini").unlink()
    for table in (engine.store.documents_table, engine.store.chunks_table):
        table.update(values={"path": str(drive / "desktop.ini")})
    report = engine.ingest([drive], include=["*.HTML", "*.pdf"])
    # It failed on the binary record (exit status 1), and the deleted draft was a cited source.
    assert report.errors == [] and _names(engine) == ["Page.html"]
    assert report.removed_paths == [str(drive / "desktop.ini")]
    assert report.notes[:3] == [
        "include '*.pdf' took in nothing: a pattern is matched against each file's and folder's path below the folder "
        "given, and against its bare name",
        f"skipped {drive}/$RECYCLE.BIN: Windows' recycle bin (deleted files, and a binary record of each), left out",
        f"skipped {drive}/Page_files: what a browser saved with the page Page.html (its scripts, styles, images and "
        "ads' frames), left out"]


def test_a_saved_pages_folder_or_a_recycle_bin_named_itself_stays_through_a_stale_read(
        engine: Engine, tmp_path: Path) -> None:
    from localrag.ingest.discover import discover
    from localrag.store_schema import READ_WITH

    dl = tmp_path / "dl"
    (dl / "Page_files").mkdir(parents=True)
    (dl / "Page.html").write_text("<title>Trip</title><p>The ferry leaves at nine from pier four.</p>")
    notes = dl / "Page_files" / "notes.txt"
    notes.write_text("The spare key is under the blue flowerpot by the shed.\n")
    deleted = tmp_path / "USB" / "$RECYCLE.BIN" / "S-1-5-21-1" / "$R7QK2ZD.txt"
    deleted.parent.mkdir(parents=True)
    deleted.write_text("Draft letter to the council about the bus stop.\n")
    named = [dl / "Page_files", tmp_path / "USB" / "$RECYCLE.BIN"]
    # Named, a folder is walked whatever its name: its files are taken, and an ingest of it keeps them.
    assert list(discover(named)) == [deleted, notes]
    assert engine.ingest(named).added == 2
    engine.store.documents_table.update(values_sql={READ_WITH: "''"})  # read by an older localrag: stale
    # Before: "dropped 2 documents held in an application's or the system's own folder", as if a walk of dl and of
    # USB had taken them.
    report = engine.ingest([], stale=True)
    assert (report.removed, report.updated, report.notes) == (0, 2, [])
    assert _names(engine) == ["$R7QK2ZD.txt", "notes.txt"]


def _stick(root: Path) -> Path:
    """A stick's root as Windows leaves it: a recycle bin holding a deleted file and its binary record, its own
    folder, a folder's view settings, and the user's file."""
    bin_ = root / "$RECYCLE.BIN" / "S-1-5-21-9"
    bin_.mkdir(parents=True)
    (bin_ / "$R7QK2ZD.txt").write_text("Draft letter to the council about the bus stop.\n")
    (bin_ / "$I7QK2ZD.txt").write_bytes(b"\x02" + bytes(7) + b"\x31\x00" + bytes(14) + b"\x1e\x00\x00\x00E\x00:\x00")
    (root / "System Volume Information").mkdir()
    (root / "System Volume Information" / "IndexerVolumeGuid").write_bytes(b"{0123}")
    (root / "System Volume Information" / "tracking.log").write_text("volume tracking\n")
    (root / "desktop.ini").write_text("[.ShellClassInfo]\nIconResource=C:\\icon.ico,0\n")
    (root / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "plan.txt").write_text("Ship the tern survey in May.\n")
    return root


def test_a_shells_star_at_a_sticks_root_reads_the_recycle_bin_without_failing_and_skips_windows_files(
        engine: Engine, tmp_path: Path) -> None:
    stick = _stick(tmp_path / "USB")
    # `cd /media/USB && localrag ingest *`: each entry named, as the user's choice. Before: "3 added, 1 failed" (the
    # deletion record looked binary), desktop.ini indexed as code.
    report = engine.ingest(sorted(stick.iterdir()))
    assert (report.added, report.errors) == (2, [])
    assert _names(engine) == ["$R7QK2ZD.txt", "plan.txt"]  # a recycle bin named is read: its user may be recovering
    assert report.notes == [
        f"skipped {stick}/System Volume Information: Windows' own folder (restore points, the search indexer's files), "
        "never read",
        f"skipped {stick}/Thumbs.db: a file Windows writes into a folder it shows (its view settings or thumbnails), "
        "not a document",
        f"skipped {stick}/desktop.ini: a file Windows writes into a folder it shows (its view settings or thumbnails), "
        "not a document"]
    record = stick / "$RECYCLE.BIN" / "S-1-5-21-9" / "$I7QK2ZD.txt"
    report = engine.ingest([record, stick / "System Volume Information" / "tracking.log"])
    assert (report.added, report.errors) == (0, [])
    assert report.notes == [
        f"skipped {record}: the recycle bin's record of a deleted file (its size, time and place), not a document",
        f"skipped {stick}/System Volume Information/tracking.log: Windows' own folder (restore points, the search "
        "indexer's files), never read"]


def test_a_recycle_bin_a_saved_pages_files_or_a_hidden_folder_named_stay_through_an_ingest_of_the_folder_above(
        engine: Engine, tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    for folder in ("Page_files", ".notes", "$RECYCLE.BIN/S-1"):
        (dl / folder).mkdir(parents=True)
    (dl / "Page.html").write_text("<title>Trip</title><p>The ferry leaves at nine from pier four.</p>")
    (dl / "Page_files" / "att.txt").write_text("The spare key is under the blue flowerpot.\n")
    (dl / ".notes" / "n.txt").write_text("Call the plumber on Friday.\n")
    (dl / "doc.txt").write_text("The budget meeting moved to Tuesday.\n")
    (dl / "$RECYCLE.BIN" / "S-1" / "$RX1.txt").write_text("Draft letter to the council about the bus stop.\n")
    engine.ingest([dl])
    assert engine.ingest([dl / "Page_files", dl / "$RECYCLE.BIN", dl / ".notes"]).added == 3
    # Before: "2 documents removed", the recycle bin's and the saved page's, the hidden one kept.
    report = engine.ingest([dl])
    assert (report.removed, report.errors) == (0, [])
    assert _names(engine) == ["$RX1.txt", "Page.html", "att.txt", "doc.txt", "n.txt"]
