"""Pages saved as one file (.mhtml, .mht): read through the MIME and HTML readers, without a mail's framing."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.errors import LoaderError
from localrag.ingest.discover import discover
from localrag.ingest.loaders import file_type, load_file

# Chrome's "Webpage, Single File": the page quoted-printable, then a style sheet and an ad's frame.
_CHROME = """From: <Saved by Blink>
Snapshot-Content-Location: https://example.org/ferry
Subject: =?utf-8?Q?Lisbon_ferries_=E2=80=94_timetable?=
Date: Sat, 5 Dec 2026 10:00:00 -0000
MIME-Version: 1.0
Content-Type: multipart/related;
\ttype="text/html";
\tboundary="----MultipartBoundary--abc----"


------MultipartBoundary--abc----
Content-Type: text/html
Content-ID: <frame-1@mhtml.blink>
Content-Transfer-Encoding: quoted-printable
Content-Location: https://example.org/ferry

<!DOCTYPE html><html><head><meta http-equiv=3D"Content-Type" content=3D"text/h=
tml; charset=3DUTF-8"><title>Ferry timetable</title><style>body{color:red}</styl=
e></head><body><h1>Lisbon ferries</h1><p>The ferry to Cacilhas leaves every tw=
enty minutes from Cais do Sodr=C3=A9.</p></body></html>
------MultipartBoundary--abc----
Content-Type: text/css
Content-Location: cid:css-1@mhtml.blink

body{color:red}
------MultipartBoundary--abc----
Content-Type: text/html
Content-Location: https://ads.example.com/frame

<html><body><p>Cheap flights!</p></body></html>
------MultipartBoundary--abc------
""".replace("\n", "\r\n")


def test_a_chrome_single_file_page_is_read_as_the_page_without_mail_framing(tmp_path: Path) -> None:
    saved = tmp_path / "ferry.mhtml"
    saved.write_text(_CHROME, encoding="ascii", newline="")
    # It was passed over as a type localrag does not read; named .eml, it was titled "— Saved by Blink, 5 December
    # 2026" and opened with `From: "Saved by Blink"`.
    assert file_type(saved) == "mhtml" and list(discover([tmp_path])) == [saved]
    loaded = load_file(saved)
    assert loaded.title == "Ferry timetable"
    assert loaded.text == ("Saved from: https://example.org/ferry\n\nLisbon ferries\n\nThe ferry to Cacilhas leaves "
                           "every twenty minutes from Cais do Sodré.")
    assert [(s.kind, loaded.text[s.start:s.end]) for s in loaded.sections][1:] == [
        ("heading", "Lisbon ferries"), ("paragraph", "The ferry to Cacilhas leaves every twenty minutes from Cais do "
                                                     "Sodré.")]


def test_an_ie_web_archive_is_read_in_its_parts_charset_and_titled_by_its_subject(tmp_path: Path) -> None:
    saved = tmp_path / "Menu.MHT"
    saved.write_bytes(b"Subject: Lunch menu\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; "
                      b"boundary=\"b1\"; type=\"text/html\"\r\n\r\n--b1\r\n"
                      b"Content-Type: text/html; charset=\"windows-1252\"\r\nContent-Location: file:///C:/menu.htm\r\n\r\n"
                      b"<html><body><p>Caf\xe9 cr\xe8me \x80 2,50</p>"
                      b"</body></html>\r\n--b1--\r\n")
    loaded = load_file(saved)
    assert (loaded.title, loaded.text) == ("Lunch menu", "Café crème € 2,50")  # a file's address is not named


def test_a_saved_page_without_a_page_is_one_clear_error(tmp_path: Path) -> None:
    saved = tmp_path / "empty.mht"
    saved.write_bytes(b"Subject: x\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\n"
                      b"Content-Type: image/png\r\n\r\nPNG\r\n--b--\r\n")
    with pytest.raises(LoaderError, match="no web page in this saved page"):
        load_file(saved)
