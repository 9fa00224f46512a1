"""Folders that note-taking apps keep (Obsidian vaults, Logseq graphs), ingested as their users ingest them.

Real files, the real embedder and a real LanceDB: what gets indexed, what a search finds, what a re-ingest drops.
"""

from __future__ import annotations

from pathlib import Path

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


def test_a_logseq_graph_leaves_out_its_own_folder_and_an_older_index_drops_its_backups(
        engine: Engine, tmp_path: Path) -> None:
    graph = tmp_path / "graph"
    for folder in ("pages", "journals", "logseq/bak/pages/Kubernetes"):
        (graph / folder).mkdir(parents=True)
    (graph / "logseq" / "config.edn").write_text("{:meta/version 1}\n")
    (graph / "logseq" / "custom.css").write_text("")
    (graph / "pages" / "Kubernetes.md").write_text("- Kubernetes cluster runs on version 1.29\n")
    backup = graph / "logseq" / "bak" / "pages" / "Kubernetes" / "2026-11-30T10_00_00.000Z.Desktop.md"
    backup.write_text("- Kubernetes cluster runs on version 1.28\n")
    engine.ingest([backup])  # what an older localrag took from the folder
    report = engine.ingest([graph])
    assert report.errors == [] and report.removed_paths == [str(backup)]
    assert _names(engine) == ["Kubernetes.md"]


def test_excludes_written_as_paths_match_and_excluded_files_indexed_before_are_named(
        engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "notes"
    for folder in ("drafts", "old", "kept"):
        (root / folder).mkdir(parents=True)
        (root / folder / f"{folder}.md").write_text(f"# {folder}\n\nA note kept in {folder}.\n")
    engine.ingest([root])
    report = engine.ingest([root], exclude=["./drafts", "old/", str(root / "kept")])
    assert _names(engine) == ["drafts.md", "kept.md", "old.md"]  # left out now, but not deleted: they stay
    assert report.notes == [f"3 indexed files that --exclude leaves out stay in the index: {root}/drafts/drafts.md, "
                            f"{root}/kept/kept.md, {root}/old/old.md (`localrag forget PATH` takes one out)"]
    engine.forget(root)
    assert engine.ingest([root], exclude=["./drafts", "old/", str(root / "kept")]).added == 0


def test_leftovers_a_shell_glob_names_are_passed_over(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "plan.md").write_text("# Plan\n\nShip the tern survey in May.\n")
    (tmp_path / "~$plan.docx").write_bytes(b"\x0bJohn Smith")  # Word's owner file
    (tmp_path / "plan.md~").write_text("backup")
    report = engine.ingest(sorted(tmp_path.iterdir()))
    assert (report.added, report.errors) == (1, [])
