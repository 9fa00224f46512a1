"""Calendars (.ics, iCalendar) and contact cards (.vcf, vCard): each event or card a unit of readable fields.

Both formats are lines of `NAME;PARAMETERS:value`, folded at 75 octets (a line opening with a space or tab goes on
with the one before) and escaped (`\\,` `\\;` `\\n`). Read as text (renamed .txt, as localrag advised before
2026-12-08), a calendar was titled `BEGIN:VCALENDAR` and quoted as one blob of `DTSTART;TZID=...:20260304T090000`
lines: the records rule of `sentences.py` needs a label and `: `, which these formats never write. Here each event
(`VEVENT`, also a to-do or a journal entry) is a heading, its summary, over its fields in words, one to a line
(`When: 2026-03-04 09:00 to 10:30 (Europe/Berlin)`, `Where: Room 4`, `Organizer: Alice Chen`), then its description;
each card a heading, the person's name, over `Phone (cell): +49 ...`, `Email: ...`, `Organization: ...`, `Address:
...`. Fields no person reads (ids, stamps, sequence numbers, photos in base64, `X-` extensions) are left out. vCard
2.1's quoted-printable values are decoded.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

from localrag.ingest.structure import TextBuilder
from localrag.types import LoadedText

_UNITS = {"VEVENT": "Event", "VTODO": "To-do", "VJOURNAL": "Journal entry", "VCARD": "Contact"}
_STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)(?:T(\d\d)(\d\d)(\d\d)?(Z?))?")
_FREQ = {"DAILY": "daily", "WEEKLY": "weekly", "MONTHLY": "monthly", "YEARLY": "yearly"}
# vCard's kinds of a phone, mail or address a reader wants named; `pref`, `voice`, `internet` say nothing to one.
_QUIET_TYPES = frozenset({"pref", "voice", "internet", "x400"})
_CARD_LABELS = {"ORG": "Organization", "TITLE": "Job title", "ROLE": "Role", "BDAY": "Birthday", "URL": "Web",
                "NICKNAME": "Nickname", "ANNIVERSARY": "Anniversary"}


class _Property:
    """One content line: its name (upper case), parameters (names upper case, `TYPE`s gathered) and value."""

    def __init__(self, line: str) -> None:
        head, _, self.value = _split_unquoted(line)
        name, *params = head.split(";")
        self.name = name.split(".")[-1].upper()  # vCard's `item1.EMAIL` groups
        self.params: dict[str, str] = {}
        self.types: list[str] = []
        for param in params:
            key, equals, value = param.partition("=")
            if not equals:  # vCard 2.1 writes a type bare: `TEL;CELL:`
                self.types.append(key.lower())
            elif key.upper() == "TYPE":
                self.types += [t.strip('"').lower() for t in value.split(",")]
            else:
                self.params[key.upper()] = value.strip('"')
        if self.params.get("ENCODING", "").upper() == "QUOTED-PRINTABLE":
            charset = self.params.get("CHARSET", "utf-8")
            try:
                self.value = quopri.decodestring(self.value.encode("latin-1", "replace")).decode(charset, "replace")
            except LookupError:  # a charset Python does not know: its bytes as UTF-8
                self.value = quopri.decodestring(self.value.encode("latin-1", "replace")).decode("utf-8", "replace")

    def text(self) -> str:
        """The value with its escapes read, as one line."""
        return " ".join(_unescape(self.value).split())


def _split_unquoted(line: str) -> tuple[str, str, str]:
    """`line` split at its first colon outside a quoted parameter (`TZID="America/New York":...`)."""
    quoted = False
    for at, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return line[:at], ":", line[at + 1:]
    return line, "", ""


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _lines(text: str) -> Iterator[str]:
    """The content lines of `text`, unfolded; a quoted-printable value's soft line breaks (`=` at a line's end)
    joined too."""
    current = ""
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if line[:1] in (" ", "\t") and current:
            current += line[1:]
        elif current.endswith("=") and "QUOTED-PRINTABLE" in current.split(":", 1)[0].upper():
            current = current[:-1] + line
        else:
            if current:
                yield current
            current = line
    if current:
        yield current


def _units(text: str) -> tuple[list[_Property], list[tuple[str, list[_Property]]]]:
    """The file's own properties outside any unit (a calendar's name) and its units (events, to-dos, cards) in
    order, each with its own properties; a unit's alarms and a time zone's rules are not read."""
    outside: list[_Property] = []
    units: list[tuple[str, list[_Property]]] = []
    stack: list[str] = []
    for line in _lines(text):
        prop = _Property(line)
        if prop.name == "BEGIN":
            stack.append(prop.value.strip().upper())
            if stack[-1] in _UNITS:
                units.append((stack[-1], []))
        elif prop.name == "END":
            if stack:
                stack.pop()
        elif stack and stack[-1] in _UNITS and units:
            units[-1][1].append(prop)
        elif len(stack) == 1:
            outside.append(prop)
    return outside, units


def _moment(prop: _Property) -> tuple[str, date | None]:
    """A DTSTART's or DTEND's value in words (`2026-03-04 09:00 UTC`), and the day or time it stands for."""
    match = _STAMP.fullmatch(prop.value.strip())
    if not match:
        return prop.text(), None
    year, month, day, hour, minute, _, utc = match.groups()
    try:
        if hour is None:
            when = date(int(year), int(month), int(day))
            return when.isoformat(), when
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        return prop.text(), None
    zone = " UTC" if utc else (f" ({prop.params['TZID']})" if "TZID" in prop.params else "")
    return f"{moment:%Y-%m-%d %H:%M}{zone}", moment


def _when(props: dict[str, _Property]) -> str:
    """An event's time in words: its start, and its end where it is another day or time."""
    if "DTSTART" not in props:
        return ""
    start, began = _moment(props["DTSTART"])
    if "DTEND" not in props:
        return start
    end, ended = _moment(props["DTEND"])
    # All day only where both are dates: a DATE start with a DATE-TIME end (some exporters write it) compared a
    # date with a datetime, and the whole calendar failed with a TypeError before 2026-12-08.
    if isinstance(began, date) and not isinstance(began, datetime) \
            and isinstance(ended, date) and not isinstance(ended, datetime):
        last = ended - timedelta(days=1)  # an all-day event's end is the day after it
        return start if last <= began else f"{start} to {last.isoformat()}"
    if isinstance(began, datetime) and isinstance(ended, datetime) and began.date() == ended.date():
        zone = start[16:]  # the zone after "YYYY-MM-DD HH:MM" closes the span: "09:00 to 10:30 (Europe/Berlin)"
        return f"{start[:16]} to {ended:%H:%M}{zone}"
    return f"{start} to {end}"


def _person(prop: _Property) -> str:
    """An organizer or attendee: the name (`CN`) and the address without `mailto:`."""
    address = re.sub(r"(?i)^mailto:", "", prop.value.strip())
    name = prop.params.get("CN", "")
    return f"{name} <{address}>" if name and address and name != address else name or address


def _event_fields(props: list[_Property]) -> list[str]:
    one = {p.name: p for p in props}
    fields = []
    when = _when(one)
    if when:
        fields.append(f"When: {when}")
    if "DUE" in one:
        fields.append(f"Due: {_moment(one['DUE'])[0]}")
    if "RRULE" in one:
        rule = dict(part.partition("=")[::2] for part in one["RRULE"].value.split(";"))
        until = f" until {_moment(_Property('UNTIL:' + rule['UNTIL']))[0]}" if "UNTIL" in rule else ""
        fields.append(f"Repeats: {_FREQ.get(rule.get('FREQ', '').upper(), rule.get('FREQ', '').lower())}{until}")
    for name, label in (("LOCATION", "Where"), ("STATUS", "Status"), ("CATEGORIES", "Categories"), ("URL", "Web")):
        if name in one and one[name].text():
            fields.append(f"{label}: {one[name].text()}")
    if "ORGANIZER" in one:
        fields.append(f"Organizer: {_person(one['ORGANIZER'])}")
    attendees = [_person(p) for p in props if p.name == "ATTENDEE"]
    if attendees:
        fields.append(f"Attendees: {', '.join(attendees)}")
    return fields


def _kinds(prop: _Property) -> str:
    kinds = [t for t in prop.types if t not in _QUIET_TYPES]
    return f" ({', '.join(kinds)})" if kinds else ""


def _card_name(one: dict[str, _Property]) -> str:
    if "FN" in one and one["FN"].text():
        return one["FN"].text()
    if "N" in one:  # family; given; additional; prefixes; suffixes
        family, given, *_ = (*(_unescape(part).strip() for part in re.split(r"(?<!\\);", one["N"].value)), "", "")
        return " ".join(part for part in (given, family) if part)
    return ""


def _card_fields(props: list[_Property]) -> list[str]:
    fields = []
    for prop in props:
        if prop.name == "TEL":
            fields.append(f"Phone{_kinds(prop)}: {re.sub(r'(?i)^tel:', '', prop.text())}")
        elif prop.name == "EMAIL":
            fields.append(f"Email{_kinds(prop)}: {prop.text()}")
        elif prop.name == "ADR":
            parts = [" ".join(_unescape(part).split()) for part in re.split(r"(?<!\\);", prop.value)]
            fields.append(f"Address{_kinds(prop)}: {', '.join(part for part in parts if part)}")
        elif prop.name in _CARD_LABELS:
            value = ", ".join(p for p in (" ".join(_unescape(part).split())
                                          for part in re.split(r"(?<!\\);", prop.value)) if p)
            if value:
                fields.append(f"{_CARD_LABELS[prop.name]}: {value}")
    return fields


def load_cards(path: Path, text: str) -> LoadedText:
    """A calendar's events or a file of contact cards, each a heading over its fields (module doc)."""
    outside, units = _units(text.replace("\r\n", "\n"))
    out = TextBuilder()
    headings = []
    for kind, props in units:
        one = {p.name: p for p in props}
        if kind == "VCARD":
            name, fields = _card_name(one), _card_fields(props)
            notes = [p.text() for p in props if p.name == "NOTE"]
        else:
            name, fields = (one["SUMMARY"].text() if "SUMMARY" in one else ""), _event_fields(props)
            notes = [_unescape(p.value).strip() for p in props if p.name == "DESCRIPTION"]
        heading = name or _UNITS[kind]
        headings.append(heading)
        out.add(heading, "heading", (heading,))
        out.add("\n".join(fields), "paragraph", (heading,))
        for note in notes:
            for paragraph in re.split(r"\n\s*\n", note):
                out.add(paragraph, "paragraph", (heading,))
    # Titled by the calendar's name, or a file of one card or event by it; else by the file's name.
    names = {p.name: p.text() for p in outside}
    title = names.get("X-WR-CALNAME") or names.get("NAME") or (headings[0] if len(headings) == 1 else "")
    return out.build(title or path.stem)
