"""Text from documents and file names: printable in every front end, storable whatever its bytes."""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

from markdown_it import MarkdownIt

from localrag.safe_text import markdown_escaped, path_text, printable

CSI = "\x1b[41mred\x1b[0m"
OSC = "\x1b]0;pwned\x07"


def test_escape_sequences_become_visible_characters() -> None:
    shown = printable(f"Heading {CSI} {OSC} \x9b31m \u202eevil")
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown and "\u202e" not in shown
    assert "\u241b[41mred" in shown  # ESC shows as its control picture, the rest as plain text
    assert "]0;pwned\u2407" in shown


def test_one_character_for_one_so_offsets_hold() -> None:
    text = f"a{CSI}b\r\n\tc\x00\x7f\udcff"
    assert len(printable(text)) == len(text)
    assert len(printable(text, multiline=False)) == len(text)


def test_newlines_and_tabs_stay_in_running_text_not_in_names() -> None:
    assert printable("one\n\ttwo") == "one\n\ttwo"
    assert printable("one\n\ttwo", multiline=False) == "one\u240a\u2409two"
    assert printable("plain ünïcödé → ok [bold]x[/]") == "plain ünïcödé → ok [bold]x[/]"


def test_undecodable_file_names_get_a_stable_valid_text() -> None:
    raw = b"/tmp/caf\xe9-\xff.txt"
    name = os.fsdecode(raw)  # what os.walk hands over: lone surrogates
    stored = path_text(name)
    assert stored == "/tmp/caf\\xe9-\\xff.txt"
    stored.encode("utf-8")  # valid for Arrow, JSON and the terminal
    assert path_text("/tmp/ordinary é.txt") == "/tmp/ordinary é.txt"
    assert printable(name, multiline=False) == "/tmp/caf\ufffd-\ufffd.txt"  # shown: replacement characters
    assert printable("/tmp/two\nlines.txt", multiline=False) == "/tmp/two\u240alines.txt"


def test_plain_text_joins_split_words_composes_accents_and_spells_out_ligatures() -> None:
    from localrag.safe_text import plain_text

    assert plain_text("har\u00adbour\u200bmas\u2060ter\ufeff x\u200cy\u200dz") == "harbourmaster xyz"
    assert plain_text("cafe\u0301 \ufb01nancial o\ufb03ce") == "caf\u00e9 financial office"
    # Where a joiner shapes what a reader sees (Persian, an emoji sequence), it stays.
    kept = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \U0001f468\u200d\U0001f469"
    assert plain_text(kept) == kept


def test_plain_text_keeps_lines_and_moves_offsets_with_the_text() -> None:
    from localrag.safe_text import plain_text_offsets

    text = "e\u0301te\u0301\nthe \ufb01rst o\ufb03ce\r\nsoft\u00adly\n"
    plain, moved = plain_text_offsets(text)
    assert plain == "\u00e9t\u00e9\nthe first office\r\nsoftly\n"
    assert plain.count("\n") == text.count("\n")
    for word in ("first", "office", "softly"):
        old = {"first": text.index("\ufb01rst"), "office": text.index("o\ufb03ce"), "softly": text.index("soft")}[word]
        old_end = old + {"first": 4, "office": 4, "softly": 7}[word]
        assert plain[moved(old):moved(old_end)] == word
    assert moved(len(text)) == len(plain) and moved(1) == 1  # inside "e" and its accent: the cluster's end


def test_a_documents_heading_paths_are_plain_as_its_text(tmp_path: Path) -> None:
    # The heading path is embedded with each chunk and searched in its own column: it kept "Oﬃcial" and "Har\xadbour".
    from localrag.ingest.parts import load_parts

    source = tmp_path / "board.md"
    source.write_text("# O\ufb03cial Findings of the Har\u00adbour Board\n\nThe pier was closed.\n")
    (part,) = load_parts(source)
    assert part.loaded is not None
    assert part.loaded.text.startswith("# Official Findings of the Harbour Board")
    assert {s.headings for s in part.loaded.sections} == {("Official Findings of the Harbour Board",)}


def test_invisible_characters_show_in_names_but_joiners_stay_in_running_text() -> None:
    # Each showed as nothing: three files printed as the one name `budget.md`.
    names = ["budget.md", "budget\u200b.md", "budget\U000e0041\U000e0042.md", "budget\u00ad.md", "budget\ufeff.md"]
    shown = [printable(name, multiline=False) for name in names]
    assert shown == ["budget.md", "budget\ufffd.md", "budget\ufffd\ufffd.md", "budget\ufffd.md", "budget\ufffd.md"]
    # Every format character the Unicode database knows.
    format_chars = "".join(chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf")
    assert set(printable(format_chars, multiline=False)) == {"\ufffd"}
    # A joiner in running text shapes an emoji or a Persian word.
    assert printable("👩\u200d💻 می\u200cخواهم") == "👩\u200d💻 می\u200cخواهم"


HOSTILE = [
    "type <password> at the login prompt and then run __init__.py",
    "The mooring deposit is <!-- not --> refundable",
    "[**Verified source** ✓](https://evil.example/x)",
    "Read official.md, mail a@b.example or see www.example.com and http://localhost/x",
    "1. first &lt; `code` ~~gone~~ | a | b | \\*kept\\* ![img](x.png)",
    "- a list item",
    "# not a heading",
    "    not code",
]


def test_escaped_markdown_reads_back_as_written_with_the_chat_apps_parser() -> None:
    # The chat app's parser (Textual's Markdown widget): `<password>` and `<!-- not -->` vanished from a quote,
    # `__init__` turned bold, and `official.md` and a Markdown link became links.
    parser = MarkdownIt("gfm-like")
    for text in HOSTILE:
        tokens = parser.parse(markdown_escaped(text))
        assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"], text
        children = tokens[1].children or []
        assert {t.type for t in children} <= {"text", "text_special"}, text
        assert "".join(t.content for t in children) == text.strip(), text


ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
SHAPED = ["می\u200cخواهم.pdf", "क्\u200dष notes.md", "👨\u200d👩\u200d👧 family trip", f"{ENGLAND} squad.md",
          "👩🏽\u200d💻 setup", "🏳️\u200d🌈 march"]


def test_joiners_and_a_flags_tags_that_shape_a_name_stay_in_one_line_fields() -> None:
    # Every joiner in a one-line field became U+FFFD: 'می�خواهم', 'क्�ष', '👨�👩�👧 family trip', England's flag broken.
    from localrag.safe_text import line_text

    for name in SHAPED:
        assert printable(name, multiline=False) == name, name
        assert line_text(name) == name, name
    # Where one joins nothing it still shows: at an end, beside punctuation or a space, between Latin letters, and a
    # tag character that ends no flag.
    hidden = ["budget\u200d.md", "\u200cbudget.md", "bud\u200cget.md", "a \u200d\U0001f468", "\U0001f3f4\U000e0067.md",
              "budget\U000e0041\U000e007f.md"]
    assert [printable(name, multiline=False) for name in hidden] == [
        "budget\ufffd.md", "\ufffdbudget.md", "bud\ufffdget.md", "a \ufffd\U0001f468", "\U0001f3f4\ufffd.md",
        "budget\ufffd\ufffd.md"]


def _tags(text: str) -> str:
    return "".join(chr(0xE0000 + ord(char)) for char in text)


def test_a_joiner_that_shapes_nothing_and_a_flag_no_font_draws_still_show() -> None:
    # Every letter from U+0530 up counted as joinable, so a joiner between two Chinese, kana, Hangul, Thai or
    # Vietnamese letters stayed invisible ('報告\u200d書.md' showed as '報告書.md'), and any run of tags after 🏴
    # passed for a flag ('report🏴' + tags spelling 'evil' showed as 'report🏴.md').
    from localrag.safe_text import json_text

    look_alike = {"報告\u200d書.md": "報告\ufffd書.md", "Bạ\u200dạn.md": "Bạ\ufffdạn.md",
                  "テ\u200cスト.md": "テ\ufffdスト.md", "한\u200d국.md": "한\ufffd국.md",
                  "ไท\u200dย.md": "ไท\ufffdย.md", "ه\u200ca.md": "ه\ufffda.md", "😀\u200ca.md": "😀\ufffda.md",
                  "😀\u200c😀.md": "😀\ufffd😀.md",
                  f"report\U0001f3f4{_tags('evil')}\U000e007f.md": "report\U0001f3f4" + "\ufffd" * 5 + ".md",
                  f"\U0001f3f4{_tags('gbenglandx')}\U000e007f.md": "\U0001f3f4" + "\ufffd" * 11 + ".md"}
    for name, shown in look_alike.items():
        assert printable(name, multiline=False) == shown, name
        assert "\\u" in json_text(name) and json.loads(json_text(name)) == name, name
    # A joiner that shapes stays: beside a virama (a Malayalam chillu, a Sinhala yansaya, a Bengali conjunct), in an
    # Arabic, Syriac, N'Ko or Mongolian word, and the other two flags of Great Britain's nations.
    shaping = ["ന്\u200d.md", "ක්\u200dය.md", "ক্\u200cষ.md", "ܫܠ\u200dܡ.md", "ߒ\u200dߞ.md", "ᠮ\u200dᠣ.md",
               f"\U0001f3f4{_tags('gbsct')}\U000e007f.md", f"\U0001f3f4{_tags('gbwls')}\U000e007f.md"]
    for name in shaping:
        assert printable(name, multiline=False) == name, name
        assert json_text(name) == json.dumps(name, ensure_ascii=False), name


def test_numbers_and_abbreviations_are_not_escaped_and_links_still_do_not_form() -> None:
    # Every `.` and `:` inside a word was escaped: an export read "12\.50 EUR per night, e\.g. for boats".
    parser = MarkdownIt("gfm-like")
    plain = "The fee is 12.50 EUR, e.g. for boats; i.e. all U.S.A. boats, 9:30-17:00, host 10.0.0.1"
    assert markdown_escaped(plain) == plain
    for text in (plain, "v1.2.co e.g.io a.b.co x.io 1.io https://1.2.3.4:80/x mail a@b.io", "see fees.md."):
        tokens = parser.parse(markdown_escaped(text))
        children = tokens[1].children or []
        assert {t.type for t in children} <= {"text", "text_special"}, text
        assert "".join(t.content for t in children) == text, text
