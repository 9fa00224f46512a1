"""Spreadsheets and decks as their readers see them: cells as their formats show them, and a workbook or deck
without text refused as blank. Each test writes a real file with openpyxl or python-pptx and reads it with
the real loader."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from localrag.errors import NoTextError
from localrag.ingest.loaders import load_file
from localrag.types import LoadedText


def test_cells_read_as_their_number_and_date_formats_show_them(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Q1"
    cells: list[tuple[object, str, str]] = [  # (value, format code, what Excel shows)
        (0.25, "0%", "25%"),
        (0.1234, "0.00%", "12.34%"),
        (1250, '"€"#,##0.00', "€1,250.00"),
        (1250, "[$€-407] #,##0.00", "€ 1,250.00"),
        (1250, '_-* #,##0.00\\ "€"_-;-* #,##0.00\\ "€"_-;_-* "-"??\\ "€"_-;_-@_-', "1,250.00 €"),  # accounting
        (1234567.891, "#,##0", "1,234,568"),
        (2.5, "0", "3"),  # Excel rounds half away from zero
        (1.5, "0.0#", "1.5"),
        (-1250, "#,##0.00;(#,##0.00)", "(1,250.00)"),
        (-1250, "#,##0.00", "-1,250.00"),
        (12345.5, "0.00E+00", "12345.5"),  # scientific is not rendered: the bare value
        (3.0, "General", "3"),
        (datetime.datetime(2026, 1, 31), "d mmm yyyy", "31 Jan 2026"),
        (datetime.datetime(2026, 1, 31), "dddd, mmmm d, yyyy", "Saturday, January 31, 2026"),
        (datetime.datetime(2026, 1, 31), "DD.MM.YYYY", "31.01.2026"),
        (datetime.datetime(2026, 1, 31, 14, 5), "m/d/yy h:mm AM/PM", "1/31/26 2:05 PM"),
        (datetime.datetime(2026, 1, 31, 14, 5, 9), "yyyy-mm-dd h:mm:ss", "2026-01-31 14:05:09"),
        (datetime.datetime(2026, 1, 31), "mm-dd-yy", "2026-01-31"),  # the locale's short date: ISO, no 00:00:00
        (datetime.time(14, 5), "h:mm", "14:05"),
    ]
    sheet.append([f"c{n}" for n in range(len(cells))])
    sheet.append([value for value, _, _ in cells])
    for column, (_, code, _) in enumerate(cells, start=1):
        sheet.cell(row=2, column=column).number_format = code
    path = tmp_path / "q1.xlsx"
    workbook.save(path)

    loaded = load_file(path)
    row = loaded.text.split("\n")[-1].split(" | ")
    assert row == [shown for _, _, shown in cells]


def test_general_numbers_and_durations_read_as_excel_shows_them(tmp_path: Path) -> None:
    # A sum's binary noise was read as stored (0.30000000000000004, 15670.400000000001), and 25 hours under [h]:mm
    # as Python writes a timedelta ("1 day, 1:00:00").
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    cells: list[tuple[object, str, str]] = [  # (value, format code, what Excel shows)
        (0.25, "General", "0.3"),  # stored below as Excel stores =0.1+0.2: openpyxl writes 16 digits, Excel 17
        (15670.25, "General", "15670.4"),  # and a column's SUM
        (-2.675e-7, "General", "-2.675e-07"),
        (datetime.timedelta(hours=25), "[h]:mm", "25:00"),
        (datetime.timedelta(hours=25, seconds=7), "[h]:mm:ss", "25:00:07"),
        (datetime.timedelta(hours=1, seconds=59), "[h]:mm", "1:00"),  # a unit shown last is cut, as Excel does
        (datetime.timedelta(minutes=75, seconds=3), "[mm]:ss", "75:03"),
        (datetime.timedelta(minutes=2, seconds=5), "[ss]", "125"),
    ]
    sheet.append([f"c{n}" for n in range(len(cells))])
    sheet.append([value for value, _, _ in cells])
    for column, (_, code, _) in enumerate(cells, start=1):
        sheet.cell(row=2, column=column).number_format = code
    path = tmp_path / "sums.xlsx"
    workbook.save(path)
    _replace_in_zip(path, "xl/worksheets/sheet1.xml",
                    {"<v>0.25</v>": "<v>0.30000000000000004</v>", "<v>15670.25</v>": "<v>15670.400000000001</v>"})

    row = load_file(path).text.split("\n")[-1].split(" | ")
    assert row == [shown for _, _, shown in cells]

def test_a_blank_workbook_is_refused_and_a_blank_sheet_is_not_named(tmp_path: Path) -> None:
    import openpyxl

    blank = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(blank)
    with pytest.raises(NoTextError, match="no text to index"):
        load_file(blank)

    workbook = openpyxl.Workbook()
    workbook.active.title = "Empty"
    workbook.create_sheet("Rooms").append(["Room", "Seats"])
    path = tmp_path / "rooms.xlsx"
    workbook.save(path)
    assert load_file(path).text == "Rooms\n\nRoom | Seats"


def test_a_deck_of_pictures_alone_is_refused(tmp_path: Path) -> None:
    from PIL import Image
    from pptx import Presentation

    picture = tmp_path / "photo.png"
    Image.new("RGB", (20, 20)).save(picture)
    deck = Presentation()
    for _ in range(2):
        deck.slides.add_slide(deck.slide_layouts[6]).shapes.add_picture(str(picture), 0, 0)  # blank layout
    path = tmp_path / "photos.pptx"
    deck.save(str(path))
    with pytest.raises(NoTextError, match="no text to index"):
        load_file(path)

    deck.slides.add_slide(deck.slide_layouts[6]).notes_slide.notes_text_frame.text = "Thank the volunteers."
    deck.save(str(path))
    loaded = load_file(path)
    # An untitled slide with notes keeps its label; the notes stand under a heading, with no label of their own to be
    # quoted ("Notes: Thank the volunteers." before 2026-12-07).
    assert loaded.text == "Slide 3\n\nSpeaker notes\n\nThank the volunteers."
    assert [(s.kind, s.headings) for s in loaded.sections][1:] == [
        ("heading", ("Slide 3", "Speaker notes")), ("paragraph", ("Slide 3", "Speaker notes"))]


def _replace_in_zip(path: Path, member: str, replacements: dict[str, str]) -> None:
    """Write `path` again with each text in `member` replaced: what Excel writes and openpyxl does not."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {info: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts.items():
            if info.filename == member:
                text = data.decode()
                for old, new in replacements.items():
                    assert old in text
                    text = text.replace(old, new)
                data = text.encode()
            archive.writestr(info, data)


def test_a_title_above_the_header_is_a_heading_and_every_block_starts_with_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The title row was read as the header: every block began "Supplier invoices 2026", the column names were only
    # in the first one, and an extract quoted another invoice's row for INV-2026-0033's amount.
    import openpyxl

    from localrag.ingest import sheets

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "2026"
    sheet["A1"] = "Supplier invoices 2026"
    sheet.merge_cells("A1:D1")
    sheet.append(["Invoice", "Date", "Supplier", "Amount"])
    for number in range(1, 41):
        sheet.append([f"INV-2026-{number:04d}", f"2026-01-{number % 28 + 1:02d}", "Acme", 100 + number])
    sheet.append([])
    sheet["A44"] = "Sales"  # a two-row header: "Q1 2026" merged over its months, "Region" down both rows
    sheet.merge_cells("A44:A45")
    sheet["B44"] = "Q1 2026"
    sheet.merge_cells("B44:D44")
    sheet.append(["", "Jan", "Feb", "Mar"])
    sheet.append(["North", 1, 2, 3])
    path = tmp_path / "invoices.xlsx"
    workbook.save(path)

    monkeypatch.setattr(sheets, "ROWS_CHARS", 200)
    loaded = load_file(path)
    tables = [(loaded.text[s.start : s.end], s.headings) for s in loaded.sections if s.kind == "table"]
    invoices = [text for text, headings in tables if headings == ("2026", "Supplier invoices 2026")]
    assert len(invoices) > 3
    assert all(block.startswith("Invoice | Date | Supplier | Amount\nINV-2026-") for block in invoices)
    assert sum(block.count("INV-2026-") for block in invoices) == 40
    assert ("Sales | Q1 2026 Jan | Q1 2026 Feb | Q1 2026 Mar\nNorth | 1 | 2 | 3", ("2026",)) in tables


def test_hidden_sheets_and_rows_are_left_out_and_named_in_the_note(localrag_home: Path, tmp_path: Path) -> None:
    # A hidden Payroll sheet's salaries came up in a search.
    import openpyxl

    from localrag.config import Settings
    from localrag.embed import HashEmbedder
    from localrag.engine import Engine

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Staff"
    sheet.append(["Name", "Room"])
    sheet.append(["Ana", "12"])
    sheet.append(["Old", "secret row"])
    sheet.row_dimensions[3].hidden = True
    sheet.append(["Ben", "14"])
    payroll = workbook.create_sheet("Payroll")
    payroll.append(["Name", "Salary"])
    payroll.append(["Ana", 91000])
    payroll.sheet_state = "hidden"
    workbook.create_sheet("Macros").append(["x"])
    workbook["Macros"].sheet_state = "veryHidden"
    path = tmp_path / "staff.xlsx"
    workbook.save(path)

    loaded = load_file(path)
    assert loaded.text == "Staff\n\nName | Room\nAna | 12\nBen | 14"
    assert loaded.left_out == "hidden sheets Payroll, Macros left out; 1 hidden row left out"
    with Engine(Settings(), embedder=HashEmbedder(dim=32)) as engine:
        report = engine.ingest(path)
    assert f"{path}: hidden sheets Payroll, Macros left out; 1 hidden row left out" in report.notes


def test_formulas_without_stored_values_are_named_and_a_workbook_of_them_alone_refused(tmp_path: Path) -> None:
    # A workbook a script wrote (openpyxl stores no values) lost those columns in silence, and one of formulas
    # alone was passed over as "empty or blank".
    import openpyxl

    from localrag.errors import LoaderError

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Totals"
    sheet.append(["Item", "Net", "Gross"])
    sheet.append(["Desk", 100, "=B2*1.2"])
    sheet.append(["Lamp", 20, "=B3*1.2"])
    path = tmp_path / "totals.xlsx"
    workbook.save(path)
    loaded = load_file(path)
    assert loaded.text == "Totals\n\nItem | Net | Gross\nDesk | 100\nLamp | 20"
    assert loaded.left_out == ("2 formulas have no stored values in Totals, read as empty: open it in Excel or "
                               "LibreOffice and save it, so the values are stored")

    only = openpyxl.Workbook()
    only.active.append(["=1+1", "=2+2"])
    path = tmp_path / "only.xlsx"
    only.save(path)
    with pytest.raises(LoaderError, match=r"its 2 formulas have no stored values") as refused:
        load_file(path)
    assert not isinstance(refused.value, NoTextError)
    assert "save it, so the values are stored" in refused.value.hint


def _tables(loaded: LoadedText) -> list[tuple[str, tuple[str, ...]]]:
    return [(loaded.text[s.start : s.end], s.headings) for s in loaded.sections if s.kind == "table"]


def test_label_rows_above_a_table_are_its_properties_and_the_header_leads_every_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `Report date: | 1 Dec 2026` above the header was read as the header: every block began with it, the column
    # names were in the first block alone, and `ask --extract` quoted ORD-0033's row with no column names.
    import openpyxl

    from localrag.ingest import sheets

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(["Report date:", datetime.date(2026, 12, 1)])
    sheet["B1"].number_format = "d mmm yyyy"
    sheet.append(["Owner:", "Sales Ops"])
    sheet.append(["Order", "Customer", "Product", "Qty", "Unit price", "Delivery date"])
    for number in range(1, 41):
        sheet.append([f"ORD-{number:04d}", "Globex Ltd", "Widget", number, 9.5, f"{number % 28 + 1} Jan 2027"])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)
    # A bank's CSV export: the account's line, narrower than the table, above the header.
    lines = ["Konto;DE12 3456 7890 1234 5678 90;;", "Buchungstag;Empfänger;Verwendungszweck;Betrag"]
    lines += [f"{day:02d}.11.2026;Firma {day} GmbH;Rechnung R-{day:04d};{day * 10},50" for day in range(1, 31)]
    csv_path = tmp_path / "konto.csv"
    csv_path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())

    monkeypatch.setattr(sheets, "ROWS_CHARS", 200)
    loaded = load_file(path)
    facts = [(loaded.text[s.start : s.end], s.headings) for s in loaded.sections if s.kind == "properties"]
    assert facts == [("Report date: 1 Dec 2026\nOwner: Sales Ops", ("Orders",))]
    blocks = _tables(loaded)
    assert len(blocks) > 3
    assert all(block.startswith("Order | Customer | Product | Qty | Unit price | Delivery date\nORD-")
               and headings == ("Orders",) for block, headings in blocks)
    assert sum(block.count("ORD-") for block, _ in blocks) == 40

    loaded = load_file(csv_path)
    assert loaded.text.startswith("Konto: DE12 3456 7890 1234 5678 90\n\nBuchungstag | Empfänger")
    blocks = _tables(loaded)
    assert len(blocks) > 2
    assert all(block.startswith("Buchungstag | Empfänger | Verwendungszweck | Betrag\n") for block, _ in blocks)

    # A two-column table's first row is still its header, ":" or not, and so is a header with gaps.
    (tmp_path / "pairs.csv").write_text("Name:,Ana\nEmail:,ana@example.com\nPhone:,555\n")
    assert load_file(tmp_path / "pairs.csv").text == "Name: | Ana\nEmail: | ana@example.com\nPhone: | 555"
    (tmp_path / "gaps.csv").write_text("Date,,,Amount\n2026-01-02,a,b,10\n2026-01-03,c,d,20\n")
    assert load_file(tmp_path / "gaps.csv").text.startswith("Date |  |  | Amount\n2026-01-02")


def test_tables_side_by_side_are_read_apart_each_under_its_header(tmp_path: Path) -> None:
    # Joined row by row across the empty columns: "Ben Müller | IT | x202 |  |  | Meeting room | Capacity | Floor",
    # and "How many people fit in meeting room Boreal?" was answered from the wrong row.
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Office"
    staff = [("Employee", "Department", "Phone"), ("Ana Silva", "HR", "x201"), ("Ben Müller", "IT", "x202"),
             ("Cara Jones", "Sales", "x203"), ("Dev Patel", "IT", "x204"), ("Eve Kim", "Finance", "x205"),
             ("Finn Ode", "Legal", "x206")]
    rooms = [("Meeting room", "Capacity", "Floor"), ("Aurora", 12, 2), ("Boreal", 8, 3), ("Cirrus", 20, 1)]
    for top, left, table in ((1, 1, staff), (3, 6, rooms)):
        for row, values in enumerate(table, start=top):
            for column, value in enumerate(values, start=left):
                sheet.cell(row=row, column=column, value=value)
    # A one-column gap inside one table (a spacer column, its rows the same on both sides) keeps it one table.
    for row, values in enumerate([("Name", "Team", None, "Q1", "Q2"), ("Ana", "HR", None, 3, 4)], start=10):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value)
    path = tmp_path / "office.xlsx"
    workbook.save(path)

    assert _tables(load_file(path)) == [
        ("Employee | Department | Phone\nAna Silva | HR | x201\nBen Müller | IT | x202\nCara Jones | Sales | x203\n"
         "Dev Patel | IT | x204\nEve Kim | Finance | x205\nFinn Ode | Legal | x206", ("Office",)),
        ("Meeting room | Capacity | Floor\nAurora | 12 | 2\nBoreal | 8 | 3\nCirrus | 20 | 1", ("Office",)),
        ("Name | Team |  | Q1 | Q2\nAna | HR |  | 3 | 4", ("Office",)),
    ]
    csv_path = tmp_path / "office.csv"
    csv_path.write_text("Employee,Phone,,Room,Floor\nAna,x201,,Aurora,2\nBen,x202,,Boreal,3\nCara,x203,,,\n")
    assert _tables(load_file(csv_path)) == [("Employee | Phone\nAna | x201\nBen | x202\nCara | x203", ()),
                                            ("Room | Floor\nAurora | 2\nBoreal | 3", ())]


def test_an_excel_sep_line_sets_the_csv_delimiter_and_is_not_read(tmp_path: Path) -> None:
    # Excel's `sep=;` hint was sniffed with the rows: it was the heading, and rows were cut at the decimal comma.
    path = tmp_path / "lager.csv"
    path.write_bytes("\ufeffsep=;\r\nArtikel;Preis;Lager;Datum\r\nSchraube M8;0,45 €;1.200;03.11.2026\r\n"
                     "Mutter M8;0,12 €;3.400;04.11.2026\r\n".encode())
    loaded = load_file(path)
    assert loaded.text == ("Artikel | Preis | Lager | Datum\nSchraube M8 | 0,45 € | 1.200 | 03.11.2026\n"
                           "Mutter M8 | 0,12 € | 3.400 | 04.11.2026")
    assert [s.headings for s in loaded.sections] == [()]


def test_a_merged_title_above_a_two_row_header_is_a_heading(tmp_path: Path) -> None:
    # The title led every column's name ("Regional revenue 2026 H1") and the months' row was read as data.
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Revenue"
    sheet["A1"] = "Regional revenue 2026"
    sheet.merge_cells("A1:G1")
    sheet["A2"] = "Region"
    sheet.merge_cells("A2:A3")
    sheet["B2"] = "H1"
    sheet.merge_cells("B2:D2")
    sheet["E2"] = "H2"
    sheet.merge_cells("E2:G2")
    sheet.append(["", "Jan", "Feb", "Mar", "Jul", "Aug", "Sep"])
    sheet.append(["North", 1, 2, 3, 4, 5, 6])
    path = tmp_path / "revenue.xlsx"
    workbook.save(path)

    assert _tables(load_file(path)) == [(
        "Region | H1 Jan | H1 Feb | H1 Mar | H2 Jul | H2 Aug | H2 Sep\nNorth | 1 | 2 | 3 | 4 | 5 | 6",
        ("Revenue", "Regional revenue 2026"))]


def test_a_title_merged_two_rows_down_is_one_heading(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Stock"
    sheet["A1"] = "Warehouse stock"
    sheet.merge_cells("A1:C2")
    for row, values in enumerate([("Item", "Bin", "Count"), ("Bolt", "A4", 120)], start=3):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=value)
    path = tmp_path / "stock.xlsx"
    workbook.save(path)
    assert _tables(load_file(path)) == [("Item | Bin | Count\nBolt | A4 | 120", ("Stock", "Warehouse stock"))]
