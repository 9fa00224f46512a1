"""Calendars (.ics) and contact cards (.vcf): each event or card a heading over its fields in words. Before
2026-12-08 they were passed over with advice to rename them .txt, which gave the title `BEGIN:VCALENDAR` and one
blob of `DTSTART;TZID=...:20260304T090000` lines."""

from __future__ import annotations

from pathlib import Path

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.ingest.discover import as_text
from localrag.ingest.loaders import load_file
from localrag.sentences import sentence_spans

CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nX-WR-CALNAME:Team calendar\r\n"
    "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZNAME:CET\r\n"
    "END:STANDARD\r\nEND:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\nUID:1@x\r\nDTSTAMP:20260301T100000Z\r\nSUMMARY:Orion launch review\r\n"
    "DTSTART;TZID=Europe/Berlin:20260304T090000\r\nDTEND;TZID=Europe/Berlin:20260304T103000\r\n"
    "LOCATION:Room 4\\, Building B\r\nORGANIZER;CN=Alice Chen:mailto:alice@example.com\r\n"
    "ATTENDEE;CN=Bob Keller;ROLE=REQ-PARTICIPANT:mailto:bob@example.com\r\n"
    "DESCRIPTION:We decide whether the Orion launch moves to April.\\nBring the \r\n budget figures.\r\n"
    "BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nEND:VALARM\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nSUMMARY:Company holiday\r\nDTSTART;VALUE=DATE:20260501\r\nDTEND;VALUE=DATE:20260502\r\n"
    "RRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
CARDS = (
    "BEGIN:VCARD\nVERSION:3.0\nN:Keller;Bob;;;\nFN:Bob Keller\nORG:Acme GmbH;Sales\nTITLE:Account manager\n"
    "TEL;TYPE=CELL:+49 170 1234567\nTEL;TYPE=WORK,VOICE:+49 30 987654\nEMAIL;TYPE=INTERNET,WORK:bob@example.com\n"
    "ADR;TYPE=WORK:;;Hauptstrasse 5;Berlin;;10115;Germany\nBDAY:1980-04-12\nNOTE:Prefers calls after 10.\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQ\nEND:VCARD\n"
    "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen\n"
    "TEL;CELL:+49 151 000\nEND:VCARD\n"
)


def test_a_calendar_is_read_as_its_events(tmp_path: Path) -> None:
    path = tmp_path / "team.ics"
    path.write_text(CALENDAR, newline="")
    loaded = load_file(path)
    assert loaded.title == "Team calendar"
    assert loaded.text == (
        "Orion launch review\n\n"
        "When: 2026-03-04 09:00 to 10:30 (Europe/Berlin)\nWhere: Room 4, Building B\n"
        "Organizer: Alice Chen <alice@example.com>\nAttendees: Bob Keller <bob@example.com>\n\n"
        "We decide whether the Orion launch moves to April.\nBring the budget figures.\n\n"
        "Company holiday\n\nWhen: 2026-05-01\nRepeats: yearly")
    assert [(s.kind, s.headings) for s in loaded.sections][:2] == [
        ("heading", ("Orion launch review",)), ("paragraph", ("Orion launch review",))]
    # Each field a sentence of its own: an extract quotes "Where: Room 4, Building B", not the whole event.
    assert "Where: Room 4, Building B" in [loaded.text[a:b] for a, b in sentence_spans(loaded.text)]


def test_an_event_from_a_day_to_a_time_is_read(tmp_path: Path) -> None:
    # A DATE start and a DATE-TIME end: the calendar failed with "can't compare datetime.datetime to datetime.date".
    path = tmp_path / "trip.ics"
    path.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Site visit\r\n"
                    "DTSTART;VALUE=DATE:20260304\r\nDTEND:20260306T100000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                    newline="")
    assert load_file(path).text == "Site visit\n\nWhen: 2026-03-04 to 2026-03-06 10:00"


def test_contact_cards_are_read_as_people(tmp_path: Path) -> None:
    path = tmp_path / "people.vcf"
    path.write_text(CARDS)
    loaded = load_file(path)
    assert loaded.title == "people"
    assert loaded.text == (
        "Bob Keller\n\n"
        "Organization: Acme GmbH, Sales\nJob title: Account manager\nPhone (cell): +49 170 1234567\n"
        "Phone (work): +49 30 987654\nEmail (work): bob@example.com\n"
        "Address (work): Hauptstrasse 5, Berlin, 10115, Germany\nBirthday: 1980-04-12\n\nPrefers calls after 10.\n\n"
        "Jürgen Müller\n\nPhone (cell): +49 151 000")
    # A street's abbreviation before its number ends no sentence (a card's "Hauptstr. 5" was cut after "Hauptstr.").
    short = loaded.text.replace("strasse", "str.")
    spans = [short[a:b] for a, b in sentence_spans(short)]
    assert "Address (work): Hauptstr. 5, Berlin, 10115, Germany" in spans
    receipt = "VISA ****4821. Receipt no. R-558120. Order No. INV/2026 ships. Say no. Then go."
    assert [receipt[a:b] for a, b in sentence_spans(receipt)] == [
        "VISA ****4821.", "Receipt no. R-558120.", "Order No. INV/2026 ships.", "Say no.", "Then go."]
    one = tmp_path / "bob.vcf"
    one.write_text(CARDS.split("BEGIN:VCARD\nVERSION:2.1")[0])
    assert load_file(one).title == "Bob Keller"


def test_calendars_and_cards_are_ingested_and_no_longer_advised_to_be_renamed(localrag_home: Path,
                                                                              tmp_path: Path) -> None:
    (tmp_path / "team.ics").write_text(CALENDAR, newline="")
    (tmp_path / "people.vcf").write_text(CARDS)
    engine = Engine(Settings(), embedder=HashEmbedder(dim=32))
    report = engine.ingest([tmp_path])
    assert (report.added, report.errors, report.notes) == (2, [], [])
    hit = engine.search("Bob Keller phone", k=1)[0]
    assert hit.chunk.path == str(tmp_path / "people.vcf") and "Phone (cell): +49 170 1234567" in hit.chunk.text
    assert as_text([tmp_path / "x.ics", tmp_path / "y.vcf"]) == ""
