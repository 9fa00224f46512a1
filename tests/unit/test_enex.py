"""Evernote exports (.enex): one document per note, its attachments of a type localrag reads documents of their
own, never base64 in the text; hostile XML refused. Real files, the real loaders and a real (hash-embedded) index."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import LoaderError, NoTextError
from localrag.ingest.html import load_html
from localrag.ingest.parts import load_parts

_MANUAL = base64.b64encode(b"Reset the boiler by holding the red button for ten seconds.\n").decode()
_ZIP = base64.b64encode(b"PK\x03\x04 not read").decode()


def _note(title: str, body: str, extra: str = "") -> str:
    return (f"<note><title>{title}</title><created>20260312T091500Z</created><updated>20260314T180000Z</updated>"
            "<tag>house</tag><tag>heating</tag><note-attributes><author>Ana</author></note-attributes>"
            '<content><![CDATA[<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<!DOCTYPE en-note SYSTEM "http://xml.evernote.com/pub/enml2.dtd">\n'
            f"<en-note>{body}</en-note>]]></content>{extra}</note>")


def _export(path: Path, *notes: str, head: str = "") -> Path:
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                    f'<!DOCTYPE en-export SYSTEM "http://xml.evernote.com/pub/evernote-export4.dtd"{head}>\n'
                    '<en-export export-date="20261201T101500Z" application="Evernote">\n'
                    + "\n".join(notes) + "\n</en-export>\n", encoding="utf-8")
    return path


_BOILER = _note(
    "Boiler service",
    "<div>The boiler was serviced by Hartmann Heating on 12 March.</div><div>Next service is due in "
    '<b>March 2027</b>.</div><div><en-todo checked="true"/>Bleed the radiators</div>'
    '<div><en-todo checked="false"/>Order a new filter</div><en-media hash="00ff" type="text/plain"/>'
    '<en-crypt cipher="AES" length="128">U2VjcmV0IGNpcGhlcg==</en-crypt>',
    f'<resource><data encoding="base64">{_MANUAL}</data><mime>text/plain</mime>'
    "<resource-attributes><file-name>manual.txt</file-name></resource-attributes></resource>"
    f'<resource><data encoding="base64">{_ZIP}</data><mime>application/zip</mime>'
    "<resource-attributes><file-name>photos.zip</file-name></resource-attributes></resource>")


def test_each_note_is_a_document_and_its_readable_attachments_are_parts(tmp_path: Path) -> None:
    path = _export(tmp_path / "Notes.enex", _BOILER, _note("Garden / plan", "<p>Plant the tomatoes in May.</p>"),
                   _note("Garden / plan", "<p>A second note of that title.</p>"))
    parts = {p.name: p for p in load_parts(path)}
    assert list(parts) == ["Boiler service", "Boiler service/manual.txt", "Garden _ plan", "Garden _ plan-2"]
    boiler = parts["Boiler service"].loaded
    assert boiler is not None and parts["Boiler service"].kind == "enex"
    assert boiler.title == "Boiler service"
    assert boiler.text == (
        "Boiler service\n\nCreated: 2026-03-12 09:15 UTC\nUpdated: 2026-03-14 18:00 UTC\nTags: house, heating\n"
        "Attachments: photos.zip\n\nThe boiler was serviced by Hartmann Heating on 12 March.\n\n"
        "Next service is due in March 2027.\n\n☑ Bleed the radiators\n\n☐ Order a new filter")
    assert boiler.left_out == ("1 encrypted passage left out (decrypt it in Evernote and export the note again "
                               "to index it)")
    manual = parts["Boiler service/manual.txt"].loaded
    assert manual is not None and "red button" in manual.text
    assert parts["Garden _ plan"].loaded is not None and parts["Garden _ plan"].loaded.title == "Garden / plan"


def test_an_export_that_declares_entities_is_refused(tmp_path: Path) -> None:
    # A "billion laughs": each entity ten of the one before. An Evernote export declares none.
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    path = _export(tmp_path / "bomb.enex", _note("&l9;", "<p>x</p>"),
                   head=f' [<!ENTITY l0 "lol">{laughs}]')
    with pytest.raises(LoaderError, match="declares XML entities"):
        list(load_parts(path))
    broken = tmp_path / "broken.enex"
    broken.write_text("<en-export><note><title>Cut off", encoding="utf-8")
    with pytest.raises(LoaderError, match="not a readable Evernote export"):
        list(load_parts(broken))
    # An export of no notes, or an empty file, is passed over as a blank file is, not failed.
    for text in ("", '<?xml version="1.0"?>\n<en-export></en-export>\n'):
        broken.write_text(text, encoding="utf-8")
        with pytest.raises(NoTextError):
            list(load_parts(broken))


def test_a_page_that_opens_as_xml_is_read_without_bs4s_warning(tmp_path: Path) -> None:
    # An export renamed .html printed bs4's 15-line XMLParsedAsHTMLWarning among the ingest's lines.
    path = _export(tmp_path / "notes.html", _BOILER)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_html(path, path.read_bytes())
    assert [w.category.__name__ for w in caught] == []


def test_a_note_deleted_from_an_export_is_reported_removed(localrag_home: Path, tmp_path: Path) -> None:
    path = _export(tmp_path / "Notes.enex", _BOILER, _note("Garden", "<p>Plant the tomatoes in May.</p>"))
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    report = engine.ingest([path])
    assert (report.added, report.errors) == (1, [])
    assert sorted(d.path for d in engine.documents()) == [
        f"{path}/Boiler service", f"{path}/Boiler service/manual.txt", f"{path}/Garden"]
    assert report.notes == [f"{path}/Boiler service: 1 encrypted passage left out (decrypt it in Evernote and "
                            "export the note again to index it)"]
    _export(path, _note("Garden", "<p>Plant the tomatoes in May.</p>"))
    again = engine.ingest([path])
    assert (again.updated, again.removed) == (1, 2)
    assert sorted(d.path for d in engine.documents()) == [f"{path}/Garden"]


def test_a_summary_quotes_the_note_not_its_created_line(localrag_home: Path, tmp_path: Path) -> None:
    # Every note's summary opened with "Created: 2026-03-12 09:15 UTC Updated: ... Tags: house, heating".
    path = _export(tmp_path / "Notes.enex", _BOILER)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([path])
    assert engine.search("Created 2026-03-12 heating", k=1)  # the fields stay searchable
    _, summary = engine.summarize(f"{path}/Boiler service")
    texts = [sentence.text for sentence in summary.sentences]
    assert texts and not any(text.startswith(("Created:", "Updated:", "Tags:")) for text in texts), texts
