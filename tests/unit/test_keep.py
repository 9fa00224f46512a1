"""Google Keep notes from Google Takeout (`.json`, one a note) read as the note Keep shows; other JSON stays code."""

from __future__ import annotations

import json
from pathlib import Path

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.ingest.loaders import load_file

_NOTE = {"color": "DEFAULT", "isTrashed": False, "isPinned": True, "isArchived": False,
         "listContent": [{"textHtml": "oat milk", "text": "oat milk", "isChecked": False},
                         {"textHtml": "bread", "text": "bread", "isChecked": True}],
         "title": "Groceries", "userEditedTimestampUsec": 1762092192345000, "createdTimestampUsec": 1762000000000000,
         "labels": [{"name": "shopping"}, {"name": "home"}]}


def test_a_keep_note_is_read_as_the_note(tmp_path: Path) -> None:
    path = tmp_path / "Groceries.json"
    path.write_text(json.dumps(_NOTE), encoding="utf-8")
    loaded = load_file(path)
    # It was titled "Groceries.json", and an extract quoted '{"color": "DEFAULT", "isTrashed": false, ...'.
    assert (loaded.title, loaded.left_out) == ("Groceries", "")
    assert loaded.text == ("Groceries\n\nEdited: 2025-11-02 14:03 UTC\nCreated: 2025-11-01 12:26 UTC\n"
                           "Labels: shopping, home\nIn Keep: pinned\n\n☐ oat milk\n☑ bread")
    text = {**_NOTE, "title": "", "listContent": None, "isPinned": False, "isTrashed": True,
            "textContent": "The boiler pressure should sit at 1.5 bar.\n\nTop it up from the grey valve.",
            "annotations": [{"source": "WEBLINK", "title": "Boiler manual", "url": "https://example.org/m"}],
            "attachments": [{"filePath": "1a2b.jpg", "mimetype": "image/jpeg"}]}
    del text["listContent"]
    path = tmp_path / "2025-11-02T14_03_12.345+01_00.json"
    path.write_text(json.dumps(text), encoding="utf-8")
    loaded = load_file(path)
    assert loaded.title == "2025-11-02T14_03_12.345+01_00"
    assert loaded.text.endswith("In Keep: in the trash\nAttachments: 1a2b.jpg\n\nThe boiler pressure should sit at "
                                "1.5 bar.\n\nTop it up from the grey valve.\n\nLink: Boiler manual https://example.org/m")
    assert loaded.left_out == "a note in Google Keep's trash, read all the same (exclude the file to leave it out)"


def test_json_of_another_shape_stays_code(tmp_path: Path) -> None:
    for name, data in (("settings.json", {"isTrashed": False, "title": "x"}),
                       ("odd.json", {**_NOTE, "listContent": "oat milk"}),
                       ("list.json", [_NOTE])):
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        loaded = load_file(path)
        assert (loaded.title, loaded.text) == (name, json.dumps(data)), name
        assert {s.kind for s in loaded.sections} == {"code"}


def test_an_ingest_says_which_keep_note_is_in_the_trash(localrag_home: Path, tmp_path: Path) -> None:
    (tmp_path / "Groceries.json").write_text(json.dumps(_NOTE), encoding="utf-8")
    (tmp_path / "Old.json").write_text(json.dumps({**_NOTE, "title": "Old", "isTrashed": True}), encoding="utf-8")
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    report = engine.ingest([tmp_path])
    assert report.added == 2
    assert report.notes == [f"{tmp_path}/Old.json: a note in Google Keep's trash, read all the same (exclude the file "
                            "to leave it out)"]
    assert sorted(d.title for d in engine.documents()) == ["Groceries", "Old"]
