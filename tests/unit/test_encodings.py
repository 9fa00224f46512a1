"""Text, pages and mails not in UTF-8: read in the encoding they name (as browsers and mail clients read the
label), else in one guessed only where its text reads as text, and said; refused where none does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import LoaderError
from localrag.ingest.encodings import Decoded
from localrag.ingest.lines import with_lines
from localrag.ingest.loaders import load_file
from localrag.types import Chunk, Hit

LETTER = "Sehr geehrter Herr Müller,\r\n\r\ndie Rechnung über 250 € für das Café – bis Ende März.\r\n"


@pytest.mark.parametrize(("name", "text", "encoding", "shown"), [
    ("brief.txt", LETTER, "cp1252", "windows-1252"),
    ("preise.csv", "Artikel;Preis;Größe\r\nKäse;3,50 €;groß\r\nBrötchen;0,40 €;klein\r\n", "cp1252", "windows-1252"),
    ("otchet.md", "# Отчёт\n\nВстреча прошла в понедельник. Мы обсудили бюджет.\n", "cp1251", "windows-1251"),
    ("koi8.txt", "Встреча прошла в понедельник. Мы обсудили бюджет на год.\n", "koi8_r", "KOI8-R"),
    ("mac.txt", "Café crème à la française – très bon. Größe: groß.\n", "mac_roman", "Mac Roman"),
    ("kaigi.txt", "①会議は髙橋さんの部屋で行われました。来年の予算について話し合いました。\n", "cp932", "Shift-JIS"),
    ("huiyi.txt", "会议于星期一举行。我们讨论了明年的预算和工作计划。\n", "gbk", "GBK"),
])
def test_a_legacy_file_is_read_in_its_encoding_and_said(tmp_path: Path, name: str, text: str, encoding: str,
                                                        shown: str) -> None:
    # Each was refused: "not valid UTF-8 text (byte 0xfc at offset 20) (re-save the file as UTF-8)".
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    loaded = load_file(path)
    assert {c for c in text if not c.isascii()} <= set(loaded.text)
    assert f"read as {shown}" in loaded.note and "guess" in loaded.note


def test_utf8_with_one_stray_byte_keeps_the_rest_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "stray.txt"
    path.write_bytes("Das Café in München, Eintritt 5 ".encode() + b"\x80" + ".\nFührungen täglich.\n".encode())
    loaded = load_file(path)
    assert loaded.text == "Das Café in München, Eintritt 5 \ufffd.\nFührungen täglich.\n"
    assert loaded.note == "1 byte not valid UTF-8 read as \ufffd"


def test_bytes_no_encoding_reads_as_text_are_refused_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "blob.csv"
    # A binary file without a NUL byte: none of 200 such blobs was read as text.
    rng = random.Random(1)
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(300)))
    with pytest.raises(LoaderError) as info:
        load_file(path)
    assert "not valid UTF-8 text" in str(info.value) and "iconv -f" in str(info.value)
    assert "CSV UTF-8" in str(info.value)


def test_a_guessed_encoding_is_a_note_of_the_ingest_and_lines_stay_right(localrag_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "brief.txt").write_bytes((LETTER + "\r\nZweiter Absatz: Quittung.\r\n").encode("cp1252"))
    report = Engine(Settings(), embedder=HashEmbedder(dim=32)).ingest([folder])
    assert report.added == 1 and not report.errors
    assert report.decoded_paths == [f"{folder / 'brief.txt'} (read as windows-1252, a guess)"]
    assert any("brief.txt (read as windows-1252, a guess)" in note for note in report.notes)
    text = load_file(folder / "brief.txt").text
    start = text.index("Zweiter")
    chunk = Chunk("d:00000", "d", str(folder / "brief.txt"), 0, "Zweiter Absatz: Quittung.", start, start + 25,
                  file_type="txt")
    (hit,) = with_lines([Hit(chunk, 1.0)])
    assert hit.chunk.line_start == 5
    # Its encoding is guessed once, not at every search that cites it (2 s for a 3 MB file, each time).
    from localrag.ingest import lines

    guessed: list[Path] = []
    read_as_before = lines.decode_file

    def counted(data: bytes, path: Path, known: tuple[str, str] | None = None) -> Decoded:
        guessed.append(path)
        return read_as_before(data, path, known=known)

    lines._READ.clear()
    try:
        lines.decode_file = counted  # type: ignore[assignment]
        for _ in range(3):
            assert with_lines([Hit(chunk, 1.0)])[0].chunk.line_start == 5
    finally:
        lines.decode_file = read_as_before
    assert len(guessed) == 1


@pytest.mark.parametrize(("label", "text", "encoding"), [
    ("iso-8859-1", "Preis 5 € – „gut“", "cp1252"),  # € and quotes were control characters (Latin-1)
    ("shift_jis", "①会議は髙橋さんの部屋で", "cp932"),  # read as windows-1251
    ("gb2312", "会议于星期一举行，镕", "gbk"),  # 镕 is GBK, not GB2312
    ("euc-kr", "회의는 월요일에 똠방각하", "cp949"),  # 똠 is cp949, not EUC-KR
])
def test_a_page_is_read_in_the_encoding_its_label_means(tmp_path: Path, label: str, text: str, encoding: str) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(f'<html><head><meta charset="{label}"></head><body><p>{text}</p></body></html>'.encode(encoding))
    loaded = load_file(path)
    assert loaded.text == text and loaded.note == ""


def test_a_utf8_page_with_a_stray_byte_stays_utf8(tmp_path: Path) -> None:
    # UnicodeDammit read it as cp932: "Stadtfﾃｼhrung".
    path = tmp_path / "fuehrung.html"
    path.write_bytes(b'<html><head><meta charset="utf-8"><title>Stadtf\xc3\xbchrung</title></head><body><p>Caf'
                     b'\xc3\xa9 in M\xc3\xbcnchen, 5 \x80.</p></body></html>')
    loaded = load_file(path)
    assert loaded.title == "Stadtführung" and loaded.text == "Café in München, 5 \ufffd."
    assert loaded.note == "1 byte not valid UTF-8 read as \ufffd"


@pytest.mark.parametrize(("label", "encoding", "note"), [
    ("iso-8859-1", "utf-8", ""),  # UTF-8 through and through: read "CafÃ©" under the label, right before labels
    ("utf-8", "cp1252", "read as windows-1252, a guess"),  # a wrong utf-8 label: as with none, each byte a U+FFFD
    ("base64", "cp1252", "read as windows-1252, a guess"),  # no text encoding: the whole file failed
    ("cp037", "utf-8", ""),  # EBCDIC, which no browser reads: indexed as garbage without a word
])
def test_a_label_the_bytes_belie_or_no_browser_knows_gives_way(tmp_path: Path, label: str, encoding: str,
                                                                note: str) -> None:
    text = "Der Café in München – Übersicht"
    path = tmp_path / "page.html"
    path.write_bytes(f'<html><head><meta charset="{label}"></head><body><p>{text}</p></body></html>'.encode(encoding))
    loaded = load_file(path)
    assert (loaded.text, loaded.note) == (text, note)


@pytest.mark.parametrize("text", ["Ôté", "Été à côté", "À faire: été, côté, idée"])
def test_short_western_text_is_read_as_windows_1252(tmp_path: Path, text: str) -> None:
    # Most of its letters accented, it was kept from windows-1252 and taken as EBCDIC, Arabic cp1006 or UTF-16.
    path = tmp_path / "fr.txt"
    path.write_bytes(text.encode("cp1252"))
    loaded = load_file(path)
    assert (loaded.text, loaded.note) == (text, "read as windows-1252, a guess")


def _mail(tmp_path: Path, head: bytes, body: bytes) -> Path:
    path = tmp_path / "mail.eml"
    path.write_bytes(b"From: old@example.com\r\nSubject: Old mail\r\n" + head + b"\r\n" + body)
    return path


@pytest.mark.parametrize(("head", "body", "expected"), [
    (b"", "Grüße, das Café kostet 5 €.".encode("cp1252"), "Grüße, das Café kostet 5 €."),  # each a U+FFFD
    (b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 8bit\r\n", "Grüße".encode(),
     "Grüße"),
    # UTF-8 throughout under a Latin-1 label, as a page so labelled is read now (the review: "GrÃ¼ÃŸe" in a mail).
    (b"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n",
     "Grüße aus München".encode(), "Grüße aus München"),
    (b"Content-Type: text/plain; charset=iso-8859-1\r\n", "5 € – gut".encode("cp1252"), "5 € – gut"),
    (b"Content-Type: text/plain; charset=ks_c_5601-1987\r\n", "똠방각하 회의".encode("cp949"), "똠방각하 회의"),
    (b"Content-Type: text/plain; charset=gb2312\r\n", "镕基会议".encode("gbk"), "镕基会议"),
    (b"Content-Type: text/html\r\n", '<meta charset="windows-1251"><p>Отчёт готов</p>'.encode("cp1251"),
     "Отчёт готов"),
])
def test_a_mail_body_is_read_as_mail_clients_read_it(tmp_path: Path, head: bytes, body: bytes, expected: str) -> None:
    loaded = load_file(_mail(tmp_path, head, body))
    assert loaded.text.endswith(expected)


def test_raw_8bit_mail_headers_are_read(tmp_path: Path) -> None:
    path = tmp_path / "raw.eml"
    path.write_bytes(b"From: M\xfcller <m@example.com>\r\nSubject: Rechnung f\xfcr das Caf\xe9\r\n"
                     b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nDie Rechnung liegt bei.\r\n")
    loaded = load_file(path)
    assert loaded.title == "Rechnung für das Café — Müller" and "From: Müller <m@example.com>" in loaded.text


def test_a_file_version_s_encoding_is_guessed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lines of a search's sources read their files again at each search, and a 60 MB cp1252 log's encoding was
    guessed again every time (11 to 15 s a search); now once for each version of the file (its size and time)."""
    import os

    from localrag.ingest import encodings, lines

    guesses: list[int] = []
    real_guess = encodings.guess

    def counted(data: bytes) -> encodings.Decoded | None:
        guesses.append(len(data))
        return real_guess(data)

    monkeypatch.setattr(encodings, "guess", counted)

    def decoded(path: Path) -> str:  # as the lines of a search's sources read the file: its version stat'd first
        version = lines._version(str(path))
        assert version is not None
        return lines._decoded(path.read_bytes(), path, version)

    cases = {"brief.txt": LETTER.encode("cp1252"), "mostly.txt": "Café, Grüße\n".encode() + b"caf\xe9\r\n",
             "bom.txt": b"\xef\xbb\xbf" + "Grüße\r\n".encode(), "wide.txt": "Grüße\r\n".encode("utf-16"),
             "otchet.md": "Встреча прошла в понедельник. Мы обсудили бюджет.\n".encode("cp1251")}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        first = decoded(path)
        count = len(guesses)
        assert decoded(path) == first, name
        assert len(guesses) == count, name  # the same version: the way it was read, not a guess
        assert first == encodings.decode_file(data, path).text and "\r" not in first and "\ufeff" not in first
    # Edited (another size and time): guessed again, its new text read.
    path = tmp_path / "brief.txt"
    path.write_bytes("Привет, мир. Встреча прошла в понедельник.\n".encode("cp1251"))
    os.utime(path, ns=(1, 1))
    count = len(guesses)
    assert decoded(path).startswith("Привет") and len(guesses) == count + 1
