"""Sentence spans shared by the best-sentence rule, the RAFT builder's quotes and the inverse-cloze questions."""

from __future__ import annotations

import pytest

from localrag.ingest.structure import LIST_LINE, prose_kind
from localrag.sentences import chunk_sentences, is_label, key_path, one_line, sentence_spans, table_header
from localrag.types import Chunk


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_a_wrapped_sentence_is_one_and_a_blank_line_ends_it() -> None:
    text = "Bees leave the hive to\nfind a new home. They\nsettle nearby\n\nin a tree. Then they move."
    assert _sentences(text) == ["Bees leave the hive to\nfind a new home.", "They\nsettle nearby", "in a tree.",
                                "Then they move."]
    assert one_line("Bees leave the hive to\n  find a new home.") == "Bees leave the hive to find a new home."


def test_table_rows_without_bars_at_the_edges_are_units_of_their_own() -> None:
    """The HTML and sheet loaders write a row as "a | b | c", not "| a | b |"."""
    text = ("Plant | Light | Water\nMonstera | Bright, indirect | When dry\nSnake plant | Low | Monthly\n"
            "Water less\nin winter.")
    assert _sentences(text) == ["Plant | Light | Water", "Monstera | Bright, indirect | When dry",
                                "Snake plant | Low | Monthly", "Water less\nin winter."]
    # One bar is prose, not a table ("either | or" in a sentence), unless a line beside it has one too: the
    # rows of a two-column sheet.
    assert _sentences("Pick tea | coffee\nand sit down.") == ["Pick tea | coffee\nand sit down."]
    sheet = "Budget\n\nTeam | Budget 2027 (EUR)\nMarketing | 120000\nResearch | 340000\nSee the notes."
    assert _sentences(sheet) == ["Budget", "Team | Budget 2027 (EUR)", "Marketing | 120000", "Research | 340000",
                                 "See the notes."]


def test_a_rows_header_is_its_tables_first_row() -> None:
    sheet = "Budget\n\nTeam | Budget 2027 (EUR)\nMarketing | 120000\nResearch | 340000\nSee the notes."
    assert table_header(sheet, sheet.index("Research")) == (sheet.index("Team"), sheet.index("\nMarketing"))
    assert table_header(sheet, sheet.index("Team")) is None  # the first row has none
    assert table_header(sheet, sheet.index("See")) is None  # nor a line outside the table
    markdown = "| Year | Keeper |\n|---|---|\n| 1871 | Voss |"
    assert table_header(markdown, markdown.index("1871")) == (0, len("| Year | Keeper |"))


def test_headings_and_list_items_end_a_sentence() -> None:
    text = "# Swarms\nA swarm is calm\nat first.\n- check the queen cells\n  every week\n* Mark the queen."
    # A bullet's mark is not part of its sentence; a quote of one reads without it.
    assert _sentences(text) == ["# Swarms", "A swarm is calm\nat first.", "check the queen cells\n  every week",
                                "Mark the queen."]


@pytest.mark.parametrize("mark", ["\u2022", "\u2023", "\u25e6", "\u25aa", "\u25cf", "\u2043", "\u2013"])
def test_a_typographic_bullet_opens_an_item_as_a_dash_does(mark: str) -> None:
    """A list pasted from Word or a web page ("• Hotel stays ...") was one sentence: ask --extract quoted all of it."""
    text = (f"# Expenses policy\n{mark} Taxis are reimbursed after 10 pm\n{mark} Hotel stays are capped at 180 euros "
            f"per night\n{mark} Meals need an itemised receipt")
    assert _sentences(text) == ["# Expenses policy", "Taxis are reimbursed after 10 pm",
                                "Hotel stays are capped at 180 euros per night", "Meals need an itemised receipt"]
    assert LIST_LINE.match(f"{mark} Taxis")  # the loaders read such lines as a list


def test_an_en_dash_opening_a_wrapped_line_goes_on_with_its_sentence() -> None:
    """An en dash is prose's too: read as a bullet wherever it opened a line, a wrapped parenthetical dash cut the
    sentence in two, the second without its dash. It opens an item where a list can start."""
    text = ("The committee met on Tuesday morning after a long delay\n\u2013 three weeks in all \u2013 and approved "
            "the budget. Then it adjourned.")
    assert _sentences(text) == [text[: text.index(" Then")], "Then it adjourned."]
    assert prose_kind(text.split(" Then")[0]) == "paragraph"
    listed = "Bring:\n\u2013 a torch\n\u2013 boots that wrap\n  around the ankle\n\u2013 a map"
    assert _sentences(listed) == ["Bring:", "a torch", "boots that wrap\n  around the ankle", "a map"]
    assert _sentences("It rained.\n\u2013 Is it over?") == ["It rained.", "Is it over?"]
    assert prose_kind("\u2013 a torch\n\u2013 a map") == "list"


def test_an_abbreviation_before_a_lower_case_word_does_not_end_a_sentence() -> None:
    text = "Tsetsarkin et al. found that the\nvirus was more infective, e.g. in mosquitoes. The strain spread."
    assert _sentences(text) == ["Tsetsarkin et al. found that the\nvirus was more infective, e.g. in mosquitoes.",
                                "The strain spread."]
    # The price of the rule: a sentence that opens with a lower-case name is read as going on ("et al." before a
    # capital still ends one, above: it ends sentences too often to be listed).
    assert _sentences("Sales fell. iPads sold well.") == ["Sales fell. iPads sold well."]
    assert _sentences("The dose was 5.2 mg. See Fig. 3 for it.") == ["The dose was 5.2 mg.", "See Fig. 3 for it."]
    assert _sentences("We thank Dr. Li (Figs. 2, 3). As Wang et al. Showed.") == ["We thank Dr. Li (Figs. 2, 3).",
                                                                                "As Wang et al.", "Showed."]
    assert _sentences("Andr. Next.") == ["Andr.", "Next."]  # a title only as a whole word


def test_a_word_that_numbers_what_follows_does_not_end_a_sentence() -> None:
    text = "Approved by the committee (Ref. No. 258/11). Take test no. 2 and see Vol. 82, pp. 387-413. Done."
    assert _sentences(text) == ["Approved by the committee (Ref. No. 258/11).",
                                "Take test no. 2 and see Vol. 82, pp. 387-413.", "Done."]
    assert _sentences("Processing is lawful under Art. 6 GDPR. It is.") == ["Processing is lawful under Art. 6 GDPR.",
                                                                           "It is."]
    # A contract's references, English and German: a quote of clause 5.2 began "9.3 the Supplier shall pay".
    assert _sentences("5.2 Except as provided in cl. 9.3 the Supplier shall pay, as in Sch. 2 and para. 4. Next.") \
        == ["5.2 Except as provided in cl. 9.3 the Supplier shall pay, as in Sch. 2 and para. 4.", "Next."]
    assert _sentences("Gemäß § 3 Abs. 2 und Nr. 5 der Anlage, Ziff. 4 gilt dies. Weiter.") == [
        "Gemäß § 3 Abs. 2 und Nr. 5 der Anlage, Ziff. 4 gilt dies.", "Weiter."]
    # Only before a number: a sentence may end in "no." ("The answer was no. Then ...").
    assert _sentences("The answer was no. Then we left.") == ["The answer was no.", "Then we left."]


def test_a_numbered_item_keeps_its_number_in_its_first_sentence() -> None:
    text = "Steps:\n1. Mark the queen. Close the hive.\n  2) Open it again\n3. "
    assert _sentences(text) == ["Steps:", "1. Mark the queen.", "Close the hive.", "2) Open it again"]


def test_a_line_of_code_or_data_is_a_unit_of_its_own() -> None:
    # Read as prose, an extract quoted five keys of a YAML file ("name: Carol Diaz role: Marketing lead budget:
    # ...") and three records of a JSON chat export as one sentence.
    from localrag.answer.evidence import candidate_sentences
    from localrag.answer.summary import document_sentences
    from localrag.types import Chunk, Hit

    text = ("name: Carol Diaz\nrole: Marketing lead\nbudget:\n  total_usd: 250000\n  spent_usd: 182000\n"
            "on_call_rotation: weekly, handover Mondays at 10:00")
    assert [text[s:e] for s, e in sentence_spans(text, file_type="code:yaml")] == text.replace("  ", "").split("\n")
    chunk = Chunk("d:0", "d", "/team.yaml", 0, text, 0, len(text), file_type="code:yaml")
    # A record of two words is a candidate when it holds an amount (since 2026-12-07: a recipe's "1 egg").
    assert [text[s:e] for _, s, e in candidate_sentences([Hit(chunk, 1.0)])] == [
        "name: Carol Diaz", "role: Marketing lead", "total_usd: 250000", "spent_usd: 182000",
        "on_call_rotation: weekly, handover Mondays at 10:00"]
    assert [text[s:e] for _, s, e in document_sentences([chunk])] == [
        "on_call_rotation: weekly, handover Mondays at 10:00"]  # a summary's sentences have six words or more
    prose = Chunk("d:0", "d", "/team.md", 0, text, 0, len(text), file_type="md")
    assert len(candidate_sentences([Hit(prose, 1.0)])) == 1  # Markdown wraps its sentences: one, as before


def test_european_abbreviations_and_dates_do_not_end_a_sentence() -> None:
    """German capitalises nouns and months, so a full stop before a capital was read as a sentence's end: a quote
    of the lease's start was "Der Mietbeginn ist der 1."."""
    minutes = ("Zürich, 1. März 2026. Die nächste Sitzung findet am 14. Mai 2026 um 19.30 Uhr im Café Central statt. "
               "Die Kosten für das Catering werden auf ca. 2500 CHF geschätzt. Der Mietbeginn ist der 1. April 2026. "
               "Die Kaution beträgt drei Monatsmieten, d.h. Mindestens 6000 Franken. "
               "Das Büro liegt im 2. Obergeschoss. Siehe Beilage S. 12 für Details, vgl. Ziff. 3. "
               "Es gilt z. B. Für Mieter, bzw. Eigentümer, u.a. Herrn Meier, am 3. Jan. 2026.")
    assert _sentences(minutes) == [
        "Zürich, 1. März 2026.", "Die nächste Sitzung findet am 14. Mai 2026 um 19.30 Uhr im Café Central statt.",
        "Die Kosten für das Catering werden auf ca. 2500 CHF geschätzt.", "Der Mietbeginn ist der 1. April 2026.",
        "Die Kaution beträgt drei Monatsmieten, d.h. Mindestens 6000 Franken.", "Das Büro liegt im 2. Obergeschoss.",
        "Siehe Beilage S. 12 für Details, vgl. Ziff. 3.",
        "Es gilt z. B. Für Mieter, bzw. Eigentümer, u.a. Herrn Meier, am 3. Jan. 2026."]
    titles = ("Il est venu. M. Dupont et Mme. Favre et M. Rochat, avec MM. Roux. La Dra. Ana García y el Sr. López. "
              "Il Sig. Rossi, la Sig.ra Bianchi e il Dott. Neri.")
    assert _sentences(titles) == ["Il est venu.", "M. Dupont et Mme. Favre et M. Rochat, avec MM. Roux.",
                                  "La Dra. Ana García y el Sr. López.",
                                  "Il Sig. Rossi, la Sig.ra Bianchi e il Dott. Neri."]
    # A number still ends a sentence after other words, and "M." after a name (a reference's initial) or a
    # number (molar), "usw." and "Me." before a capital as they did.
    assert _sentences("It rose by 2. Then it fell. Die Kosten stiegen um 12. Dann sanken sie.") == [
        "It rose by 2.", "Then it fell.", "Die Kosten stiegen um 12.", "Dann sanken sie."]
    assert _sentences("Lipsitch M. Identifying it. At 10 M. Consistent. Äpfel usw. Danach. Lonely Me. EP.") == [
        "Lipsitch M.", "Identifying it.", "At 10 M.", "Consistent.", "Äpfel usw.", "Danach.", "Lonely Me.", "EP."]


def test_a_blockquotes_marks_are_layout_and_a_callouts_first_line_a_label() -> None:
    # An Obsidian callout and a plain quote were quoted with their markup: "> [!note] Soil test > The soil pH ...".
    text = ("# Garden log\n\n> [!note] Soil test\n> The soil pH measured 6.2 on March 12; add garden lime.\n\n"
            "> Plain quote line one about the boiler\n> continues here. It ends now.\n>\n> - a quoted item\n"
            "> > nested line.\nA paragraph after the quote.")
    spans = sentence_spans(text)
    assert [one_line(text[s:e]) for s, e in spans] == [
        "# Garden log", "[!note] Soil test", "The soil pH measured 6.2 on March 12; add garden lime.",
        "Plain quote line one about the boiler continues here.", "It ends now.", "a quoted item", "nested line.",
        "A paragraph after the quote."]
    assert [is_label(text, s, e) for s, e in spans] == [True, True] + [False] * 6
    assert text[spans[3][0]:spans[3][1]] == "Plain quote line one about the boiler\n> continues here."
    # In code every line is a unit, and a line's ">" is code (a prompt, a comparison).
    assert _sentences_by_line(">>> import os\n> 5") == [">>> import os", "> 5"]


def _sentences_by_line(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text, file_type="code:yaml")]


def test_english_numbers_before_a_month_word_and_senior_end_a_sentence() -> None:
    """The German date rules glued English sentences: a month that is an English word ("August", "April", the planet
    "Mars"), "I am 30." read as German "am", and "Sr." (Senior) after a name."""
    for text in ["Earth is planet 3. Mars is planet 4.", "I am 30. My wife is 28.",
                 "Her jersey number was 7. August brought a new coach.", "He was born in room 12. April was cold.",
                 "Martin Luther King Sr. He was a pastor.", "It was issue 4. Jul. was quiet."]:
        assert len(_sentences(text)) == 2, text
    # A month followed by its year or day, a month that is no English word, and a title before a name still hold.
    german = "Der Mietbeginn ist der 1. April 2026. Am 2. Tag kam er. Bis 3. August 2026. Ab 5. Juni geht es."
    assert _sentences(german) == [
        "Der Mietbeginn ist der 1. April 2026.", "Am 2. Tag kam er.", "Bis 3. August 2026.", "Ab 5. Juni geht es."]
    titles = "El Sr. López y la Sra. García. Wilson, Sr. (February 1914) played. Steve Trevor Sr. & Jr. won."
    assert _sentences(titles) == [
        "El Sr. López y la Sra. García.", "Wilson, Sr. (February 1914) played.", "Steve Trevor Sr. & Jr. won."]


def test_an_org_planning_line_and_asciidoc_block_marks_are_no_part_of_a_sentence() -> None:
    # Quoted: "SCHEDULED: <2026-04-01 Wed> DEADLINE: <2026-04-15 Wed> The broker said the premium rises ..." and
    # "[source,bash] ---- kubectl rollout undo deployment/web ----".
    org = "SCHEDULED: <2026-04-01 Wed> DEADLINE: <2026-04-15 Wed>\nThe broker said the premium rises next year."
    assert [org[s:e] for s, e in sentence_spans(org, file_type="org")] == org.split("\n")
    adoc = "[source,bash]\n----\nkubectl rollout undo deployment/web\n----\nThen check the pods before you leave."
    spans = sentence_spans(adoc, file_type="adoc")
    # A delimiter line of one repeated mark is no sentence at all (`ADORNMENT`), as a title's underline is not.
    assert [adoc[s:e] for s, e in spans] == [line for line in adoc.split("\n") if line != "----"]
    assert [is_label(adoc, s, e, "", "adoc") for s, e in spans] == [True, False, False]


def test_a_paragraph_of_settings_is_a_line_each() -> None:
    # A Hugo post's TOML front matter: `summarize` quoted 'title = "Beekeeping Diary" date = ... tags = [...]' as one
    # key sentence. A sentence of prose holding " = " stays one.
    text = ('title = "Beekeeping Diary"\ndate = 2025-05-01\ntags = ["bees", "honey"]\n\n'
            "The value x = 5 is\nset = here.")
    assert [text[s:e] for s, e in sentence_spans(text, file_type="md")] == [
        'title = "Beekeeping Diary"', "date = 2025-05-01", 'tags = ["bees", "honey"]',
        "The value x = 5 is\nset = here."]


def test_a_titles_underline_is_no_part_of_a_sentence_and_the_title_is_a_label() -> None:
    # `ask --extract "grinder care instructions for cleaning the burrs"` answered with the title and its underline,
    # "BeanMill G2 Grinder Care Instructions =====...", and "Setup\n-----\nPlug it in." was one sentence.
    text = ("BeanMill G2 Grinder Care Instructions\n=====================================\n\nClean the burrs every "
            "two weeks with the brush.\n\nSetup\n-----\nPlug it in.\n\n> Quoted title\n> ============\n\n"
            "=========\nOverlined\n=========\nText.\n\nA paragraph.\n\n---\n\nAfter a break.")
    for file_type in ("md", "txt", ""):
        spans = sentence_spans(text, file_type=file_type)
        assert [text[s:e] for s, e in spans] == [
            "BeanMill G2 Grinder Care Instructions", "Clean the burrs every two weeks with the brush.", "Setup",
            "Plug it in.", "Quoted title", "Overlined", "Text.", "A paragraph.", "After a break."]
        # A label whatever the chunk's heading path holds (here nothing): never an answer or a key sentence.
        assert [is_label(text, s, e, "", file_type) for s, e in spans] == [
            True, False, True, False, True, True, False, False, False]


def test_a_logs_lines_are_units_of_their_own() -> None:
    log = ("2026-03-04T23:11:46Z INFO sshd[1111]: request 2111 processed ok latency=65ms\n"
           "2026-03-05T09:13:00Z ERROR payments: CRITICAL checksum mismatch ZXQ-7781 in ledger shard 42\n"
           "2026-03-04T23:12:46Z INFO sshd[1112]: request 2112 processed ok latency=12ms, retried\n"
           "Mar  4 23:13:46 host cron[88]: job started\n")
    lines = [line for line in log.split("\n") if line]
    # Before: one sentence of four lines, quoted glued with spaces.
    assert [log[s:e] for s, e in sentence_spans(log)] == lines
    assert [log[s:e] for s, e in sentence_spans(log, file_type="txt")] == lines
    # Wrapped prose with one time stamp stays prose.
    prose = "At 23:11:46 the request\nwas processed and the\nledger closed.\n"
    assert [prose[s:e] for s, e in sentence_spans(prose)] == [prose.strip()]


def test_a_log_files_lines_are_units_whatever_they_open_with() -> None:
    text = "compiling module a with flags\ncompiling module b with flags\nlinking the binary\n"
    chunk = Chunk(chunk_id="d:0", doc_id="d", path="/x/build.log", index=0, text=text, start=0, end=len(text),
                  page=None, heading="", file_type="txt", n_tokens=20)
    assert [text[s:e] for s, e in chunk_sentences(chunk)] == text.split("\n")[:3]
    assert len(sentence_spans(text, file_type="txt")) == 1  # a .txt of such lines is prose


CHAT_EXPORTS = [
    # WhatsApp on iOS (a narrow no-break space before AM), on Android (day first; a German phone's dots; a US
    # phone's month first and PM), and Signal's.
    "[3/14/24, 9:01:10\u202fAM] Jonas Weber: I cancelled the gym membership, it cost 45 dollars a month\n"
    "[3/14/24, 9:02:11\u202fAM] Maria Lopez: ok good\n[3/14/24, 9:03:12\u202fAM] Tom Baker: I pay the rent\n"
    "[3/14/24, 9:04:13\u202fAM] Anna Schmidt: the dog needs a walk\n",
    "14/03/2024, 09:01 - Jonas Weber: I cancelled the gym membership\n14/03/2024, 09:02 - Maria Lopez: ok good\n"
    "14/03/2024, 09:03 - Tom Baker: I pay the rent\n",
    "14.03.24, 09:01 - Jonas Weber: I cancelled the gym membership\n14.03.24, 09:02 - Maria Lopez: ok good\n",
    "3/14/24, 9:01 PM - Jonas Weber: I cancelled the gym membership\n3/14/24, 9:02 PM - Maria Lopez: ok good\n",
    "[2024-04-02 19:12] Jonas Weber: I cancelled the gym membership\n[2024-04-02 19:13] Maria Lopez: ok good\n",
]


@pytest.mark.parametrize("chat", CHAT_EXPORTS, ids=["ios", "android", "dotted", "us", "signal"])
def test_a_chat_exports_messages_are_units_of_their_own(chat: str) -> None:
    # Before: the iOS and Android exports' messages, with no full stop, were one sentence across four speakers.
    assert [chat[s:e] for s, e in sentence_spans(chat, file_type="txt")] == chat.strip().split("\n")


def test_a_chat_message_over_lines_is_one_unit_with_its_sender() -> None:
    chat = ("14/03/2024, 09:01 - Jonas Weber: Shopping list for Saturday.\nThe bakery closes at noon.\n"
            "Bring the blue bag.\n14/03/2024, 09:02 - Maria Lopez: ok\n14/03/2024, 09:03 - Tom Baker: fine\n"
            "2026-03-04T23:11:46Z INFO request done\n  at line two of a trace\n")
    # Before: "The bakery closes at noon." was quoted without who said it, or when. A log line's next line stays
    # a unit of its own: only a chat message (a time, a sender and a colon) goes on over lines.
    assert [chat[s:e] for s, e in sentence_spans(chat, file_type="txt")] == [
        "14/03/2024, 09:01 - Jonas Weber: Shopping list for Saturday.\nThe bakery closes at noon.\n"
        "Bring the blue bag.", "14/03/2024, 09:02 - Maria Lopez: ok", "14/03/2024, 09:03 - Tom Baker: fine",
        "2026-03-04T23:11:46Z INFO request done", "at line two of a trace"]


INVOICE = ("INVOICE #US-5521\nInvoice date: December 7, 2026\nBill to: Greenfield Catering LLC\n\n"
           "Line 1: Commercial blender, 2 units, $1,234.56\nLine 2: Delivery and installation, $480.00\n"
           "Subtotal: $1,714.56\nSales tax (8.25%): $141.45\nTotal due: $1,856.01\n\n"
           "Payment due by 12/21/2026 (net 14).")


def test_a_records_lines_are_sentences_of_their_own_and_wrapped_prose_stays_one() -> None:
    """An invoice's "Label: value" lines, a catalogue's and a timetable's, written one to a line without a full
    stop, were one sentence: `ask --extract` quoted "INVOICE #US-5521 Invoice date: December 7, 2026 Bill to: ..."
    for the total due, and a catalogue's 400 lines were cut only where a price's full stop fell."""
    assert _sentences(INVOICE) == [line for line in INVOICE.split("\n") if line]
    catalogue = "".join(f"Part {n}: price ${n * 3}.{n % 89:02d}, weight {n % 70}.4 kg\n" for n in range(1240, 1260))
    assert _sentences(catalogue) == catalogue.split("\n")[:-1]
    # Lines that open alike, without a label, and a paragraph of lower-case labels alone.
    timetable = ("Trains to Lindenau\nRE 4014 Lindenau 07:15 08:02\nRE 4016 Lindenau 08:15 09:02\n"
                 "RE 4018 Lindenau 09:15 10:04")
    assert _sentences(timetable) == timetable.split("\n")
    assert _sentences("host: db1.internal\nport: 5432\nuser: reporting") == ["host: db1.internal", "port: 5432",
                                                                            "user: reporting"]
    # A value wrapped onto a line without a label goes on with its record.
    wrapped_value = ("Description: A cast-iron skillet, pre-seasoned, that wraps onto\nthe next line.\nPrice: $40\n"
                     "Weight: 2.3 kg")
    assert _sentences(wrapped_value) == ["Description: A cast-iron skillet, pre-seasoned, that wraps onto\nthe next "
                                         "line.", "Price: $40", "Weight: 2.3 kg"]
    # Hard-wrapped prose stays one sentence over its lines: one label, a lower-case one, or lines that open alike
    # only twice.
    for prose in ("Note: the committee met on Tuesday morning and\nagreed on the budget for next year as\n"
                  "follows: two posts and one laptop.",
                  "The committee met on Tuesday and the chair said\nthe budget was fine as it stood\n"
                  "and the meeting ended at noon.",
                  "The keeper lit the lamp at dusk and\nThe Times reported it the next day."):
        assert _sentences(prose) == [prose], prose


def test_german_invoice_abbreviations_before_a_number_do_not_end_a_sentence() -> None:
    """"Pos. 1: Knetmaschine ..." was the sentences "Pos." and "1: Knetmaschine ... Pos.", "MwSt. 19 %" two too."""
    invoice = ("Rechnung Nr. 2026-118\nPos. 1: Knetmaschine KM-40, 1 Stück, 1.234,56 €\n"
               "Pos. 2: Lieferung und Aufbau, 1 Stück, 480,00 €\nMwSt. 19 %: 325,77 €\nGesamtbetrag: 2.040,33 €")
    assert _sentences(invoice) == invoice.split("\n")
    text = ("Der Preis gilt inkl. Versand, zzgl. Zoll und ggf. Gebühren. Tel. +49 30 1234 oder Tel. 030 1234. "
            "Es sind 3 Stk. zu 12,50 €, USt. 7 % inklusive. Der Preis versteht sich inkl. MwSt. Die Lieferung folgt.")
    assert _sentences(text) == ["Der Preis gilt inkl. Versand, zzgl. Zoll und ggf. Gebühren.",
                                "Tel. +49 30 1234 oder Tel. 030 1234.",
                                "Es sind 3 Stk. zu 12,50 €, USt. 7 % inklusive.", "Der Preis versteht sich inkl. MwSt.",
                                "Die Lieferung folgt."]
    # A sentence still starts with a number after a word that is no abbreviation.
    assert _sentences("It happened in 2019. 2020 was worse. It began in Wuhan. 2019-nCoV spread.") == [
        "It happened in 2019.", "2020 was worse.", "It began in Wuhan.", "2019-nCoV spread."]


def test_a_clause_heading_and_its_sub_clauses_are_sentences_of_their_own() -> None:
    # `summarize` of a statute quoted "§ 4 Notice to quit (1) A landlord may give notice ..." as one sentence, the
    # heading glued to its first sub-clause; a wrapped line opening with a number or "(1)" mid-sentence goes on.
    statute = ("§ 4 Notice to quit\n(1) A landlord may give notice.\n(2) It is written and\nsigned.\n(a) by hand;\n"
               "(b) by post.")
    assert _sentences(statute) == ["§ 4 Notice to quit", "(1) A landlord may give notice.",
                                   "(2) It is written and\nsigned.", "(a) by hand;", "(b) by post."]
    spans = sentence_spans(statute, file_type="txt")
    assert [is_label(statute, s, e, "§ 4 Notice to quit") for s, e in spans] == [True] + [False] * 4
    contract = "1. DELIVERY\n1.1 The Seller delivers.\n1.2 At the warehouse.\n\nGENERAL TERMS\n(a) The Buyer pays."
    assert _sentences(contract) == ["1. DELIVERY", "1.1 The Seller delivers.", "1.2 At the warehouse.",
                                    "GENERAL TERMS", "(a) The Buyer pays."]
    for prose in ["The bag weighs\n3.5 kg in all.", "as set out under subsection\n(1) above, the tenant pays.",
                  # a COVID-QA paper's reference, wrapped: a numbered line too long for a heading
                  "43. Krostensen, Mette; Hellem-Hansen, Viktoria L.; Tandstad, B. Folkehelseinstituttet mener\n"
                  "23.000 kan vaere smittet.",
                  # a bare count and a sentence opening with a clause's name lead no clauses (before 2026-12-07
                  # "2.5 mg ..." and "1.5 times ..." were sentences of their own)
                  "12 patients received a daily dose of\n2.5 mg and recovered.",
                  "Section 4 applies where the amount is at least\n1.5 times the rent."]:
        assert _sentences(prose)[-1].endswith(prose[prose.rindex(" ", 0, prose.index("\n")) + 1:])
    # Every clause word heads its clause's sub-clauses, as the loaders and the questions read them.
    for heading in ("Rule 4 Notice to quit", "Regulation 12", "Schedule 2", "Paragraph 3: Scope", "Art. 5"):
        assert _sentences(f"{heading}\n(1) A landlord may give notice.") == [heading, "(1) A landlord may give notice."]


def test_date_led_lines_and_a_lone_field_are_records_wrapped_prose_stays_one() -> None:
    # Before 2026-12-07 a statement's page of date-led lines was one sentence (their first words differ), and so was
    # "INVOICE 1002" / "Total due: $412.90" / "Payable within ...": `ask --extract` quoted them whole.
    statement = "".join(f"2026-03-{day:02d}  Card payment {shop}  -{amount:.2f} EUR\n" for day, shop, amount in
                        ((1, "Bakery Lenz", 3), (2, "Fuel Station Ost", 54.2), (14, "Bakery Lenz", 4.5)))
    assert _sentences(statement) == statement.split("\n")[:-1]
    for dates in (("14.03.2026", "15.03.2026"), ("03/14/2026", "03/15/2026"), ("14 Mar 2026", "15 Mar 2026"),
                  ("Mar 14, 2026", "Mar 15, 2026")):
        lines = [f"{dates[0]} Card payment Bakery Lenz -4.50 EUR", f"{dates[1]} Transfer rent -900.00 EUR"]
        assert _sentences("\n".join(lines)) == lines, dates
    invoice = "INVOICE 1002\nTotal due: $412.90\nPayable within 30 days to IBAN DE12 3456 7890."
    assert _sentences(invoice) == invoice.split("\n")
    # Most lines labelled: a plain line among them is a record too.
    card = "Invoice no: 1002\nDate: 2026-03-14\nGreenfield Catering LLC\nTotal due: $412.90"
    assert _sentences(card) == card.split("\n")
    # Prose with one date-led line, or one field wrapped on, stays one sentence.
    for prose in ("The study enrolled patients between\n2020-03-01 and 2020-05-01 at two sites, and it\nfollowed "
                  "them for a year.",
                  "Note: the committee met on 3 May and\nagreed on the budget."):
        assert _sentences(prose) == [prose], prose


def test_a_quotation_ends_its_sentence_after_its_closing_mark_and_stays_with_its_speaker() -> None:
    """A full stop, "!" or "?" followed by a closing quote ends a sentence (before 2026-12-08 the sentence went on
    into the next one); a quotation of a few sentences is not cut from its speaker, a long one is cut as prose."""
    twain = ('As Mark Twain once said, "Clothes make the man. Naked people have little or no influence on society." '
             "This quote shows why my view matters.")
    assert _sentences(twain) == [
        'As Mark Twain once said, "Clothes make the man. Naked people have little or no influence on society."',
        "This quote shows why my view matters."]
    assert _sentences("He said, \u201cWe leave at dawn.\u201d Then he slept.") == [
        "He said, \u201cWe leave at dawn.\u201d", "Then he slept."]
    assert _sentences("She asked, 'Are you coming?' Nobody answered.") == [
        "She asked, 'Are you coming?'", "Nobody answered."]
    # A closing mark before a lower-case word goes on with the sentence; so does a quotation closed mid-sentence.
    assert _sentences('He said "Stop!" and left. Then it rained.') == ['He said "Stop!" and left.', "Then it rained."]
    assert _sentences('"We leave at dawn. Bring water," he said. Nobody slept.') == [
        '"We leave at dawn. Bring water," he said.', "Nobody slept."]
    assert _sentences("Sie sagte: \u201eWir gehen. Morgen kommen wir.\u201c Dann ging sie.") == [
        "Sie sagte: \u201eWir gehen. Morgen kommen wir.\u201c", "Dann ging sie."]
    assert _sentences("Il a dit : « Nous partons. Il est tard. » Puis il est parti.") == [
        "Il a dit : « Nous partons. Il est tard. »", "Puis il est parti."]
    # A quotation of a whole paragraph is read sentence by sentence, and one never closed (an inch mark, a quote
    # that runs on into the next paragraph) joins nothing.
    long = " ".join(f"Sentence number {i} of the speech goes on for a good while longer." for i in range(8))
    assert len(_sentences(f'The mayor said: "{long}" Then she sat down.')) == 9
    assert _sentences('He shouted, "Run. Do not stop. Keep going') == ['He shouted, "Run.', "Do not stop.",
                                                                        "Keep going"]
    assert _sentences('Cut a 12" pipe. Then fit it.') == ['Cut a 12" pipe.', "Then fit it."]
    # A quote after a space opens a quotation, also inside an open one: before 2026-12-08 it closed the one never
    # closed here, which joined all four sentences.
    assert _sentences('She wrote "Sorry, I am late. The train stopped. We start at 9. Please read the "Safety" memo '
                      'first.') == ['She wrote "Sorry, I am late.', "The train stopped.", "We start at 9.",
                                    'Please read the "Safety" memo first.']
    assert _sentences('He said, "Read the "Safety" memo. Then sign it." We did.') == [
        'He said, "Read the "Safety" memo. Then sign it."', "We did."]


POLICY = ("Private Car Policy\n\nSchedule\n\nVehicle | 2019 Toyota Corolla, reg. KX19 ZTU\n"
          "Renewal date | 15 March 2025\nAnnual premium | $642.00\n\nRenewal\n\nWe will send your renewal notice "
          "at least 21 days before the renewal date.")


def test_a_two_column_table_whose_first_row_is_a_record_has_no_header() -> None:
    """A key-value table (an insurance schedule in Word) has no header row: before 2026-12-08 its first row was one,
    so no candidate, and "Which vehicle is insured?" was answered by "Annual premium | $642.00" (a row under
    "Vehicle | 2019 Toyota Corolla, reg. KX19 ZTU")."""
    for row in ("Vehicle", "Renewal date", "Annual premium"):
        start = POLICY.index(row)
        assert table_header(POLICY, start) is None
        assert not is_label(POLICY, start, POLICY.index("\n", start), "Private Car Policy > Schedule", "docx")
    # A row is one sentence, whatever full stops its cells hold.
    assert _sentences(POLICY)[2:5] == ["Vehicle | 2019 Toyota Corolla, reg. KX19 ZTU", "Renewal date | 15 March 2025",
                                       "Annual premium | $642.00"]
    assert _sentences("> Fee | Paid. Late fees apply.\n> Tax | 3") == ["Fee | Paid. Late fees apply.", "Tax | 3"]
    # A record's value: a number, an amount, a phrase with its commas or stops, many words.
    for value in ("42", "$642.00", "Hotel Adlon, Berlin", "Paid in full.", "The deposit is held in a separate account"):
        table = f"Item | {value}\nFee | 12\nTax | 3"
        assert table_header(table, table.index("Fee")) is None, value
    # Values of several kinds under the first row (a name, an address, an amount, a date): a schedule's fields, not a
    # column under its name (before 2026-12-08 "Insured | Ottoline Varga" headed its table).
    for table in ("Insured | Ottoline Varga\nProperty | Rose Cottage, Mill Lane\nBuildings cover | £320,000\n"
                  "Insurer | Northwind Mutual",
                  "| Policy holder | Anneliese Brandt |\n| Vehicle | 2021 Skoda Octavia, reg. HB21 XKQ |\n"
                  "| Annual premium | €588.40 |\n| Excess | €250 |\n| Renewal date | 2 September 2026 |"):
        assert table_header(table, table.index("\n") + 1) is None, table
        assert not is_label(table, 0, table.index("\n")), table
    # A column's name, a year's among them, or three columns, or a Markdown table's first row, still heads its table;
    # so does one over values of one kind ("Years kept" over spans of years, "Role" over words).
    for table in ("Team | Budget 2027 (EUR)\nFee | 12\nTax | 3", "Region | 2024\nFee | 12\nTax | 3",
                  "Keeper | Years kept at the lighthouse\nFee | 12\nTax | 3", "Plant | 42 | Water\nFee | 12 | 1",
                  "| Item | 42 |\n|---|---|\n| Fee | 12 |",
                  "Keeper | Years kept at the lighthouse\nFee | 1871 to 1894\nTax | 1950 to 1987",
                  "Name | Role\nFee | Chair\nTax | Treasurer", "Team | Budget 2027 (EUR)\nFee | €120,000\nTax | €3",
                  # A unit after a comma, an abbreviation's full stop: column names (before 2026-12-08 values).
                  "Item | Price, EUR\nFee | 3\nTax | 4", "Item | Amount, €\nFee | 3\nTax | 4",
                  "Name | No.\nFee | 12\nTax | 3", "Item | Weight,  kg\nFee | 3\nTax | 4"):
        first = len(table.split("\n")[0])
        assert table_header(table, table.index("Fee")) == (0, first), table
        assert is_label(table, 0, first), table


APP_YAML = ("server:\n  host: 0.0.0.0\n  port: 8081\ndatabase:\n  host: db.internal\n  port: 5432\n  name: shop\n"
            "  pool:\n    size: 20\n\n# logs\nlogging:\n  level: INFO\n")


def test_a_data_files_key_is_named_with_its_parents() -> None:
    """A nested key means little alone: "host: db.internal" and "host: 0.0.0.0" are alike."""
    assert key_path(APP_YAML, APP_YAML.index("0.0.0.0")) == "server:"
    assert key_path(APP_YAML, APP_YAML.index("db.internal")) == "database:"
    assert key_path(APP_YAML, APP_YAML.index("size")) == "database: pool:"
    assert key_path(APP_YAML, APP_YAML.index("level")) == "logging:"
    assert key_path(APP_YAML, APP_YAML.index("database")) == ""  # a top-level key stands under none
    ini = "[server]\nhost = 0.0.0.0\n\n; the shop's\n[database]\nhost = db.internal\nport = 5432\n"
    assert key_path(ini, ini.index("db.internal")) == "[database]"
    assert key_path(ini, ini.index("0.0.0.0")) == "[server]"
    # Prose is no mapping: a line of text above the key, or no key at all.
    assert key_path("We met on Monday.\n  host: db1", 22) == ""
    assert key_path("The host is db1.", 4) == ""
