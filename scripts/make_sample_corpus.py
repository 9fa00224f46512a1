"""Write the binary files of the bundled sample corpus: a PDF manual and a Word travel policy.

The text of both documents lives here, so the binaries can be regenerated and reviewed as text:

    .venv/bin/pip install -e '.[test]'        # fpdf2 (python-docx is a core dependency)
    .venv/bin/python scripts/make_sample_corpus.py [--out localrag/sample_corpus]

The PDF uses larger type for headings and starts the cleaning section on a new page, so tests can
check heading detection and page numbers. Creation dates are fixed: the PDF comes out byte for byte
the same on every run; the .docx differs only in the timestamps of its zip entries. All names and
facts are made up; the text is CC0 (see SOURCE.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

FIXED_DATE = dt.datetime(2024, 1, 15, 9, 0, 0, tzinfo=dt.UTC)

# (heading, [paragraphs]); a paragraph starting with "- " is a bullet list, one item per line.
ESPRESSO_TITLE = "Aurora Duo Espresso Machine - User Manual"
ESPRESSO: list[tuple[str, list[str]]] = [
    ("1. About your Aurora Duo", [
        "Thank you for choosing the Aurora Duo, model AD-220, made by Ventoso Appliances of Turin. "
        "The Aurora Duo is a dual-boiler espresso machine for the home: one boiler heats water for "
        "brewing and a second one makes steam, so you can pull a shot and steam milk at the same time. "
        "Read this manual before first use and keep it with the machine.",
    ]),
    ("2. Technical specifications", [
        "- Brew boiler: 0.45 litres, stainless steel, PID temperature control from 88 to 96 degrees C\n"
        "- Steam boiler: 1.2 litres, maximum steam pressure 1.5 bar\n"
        "- Pump: vibration pump, 15 bar maximum, brewing pressure set to 9 bar at the factory\n"
        "- Water tank: 2.5 litres, removable, filled from the top\n"
        "- Power: 1450 W, 220-240 V, 50/60 Hz\n"
        "- Heat-up time: about 12 minutes from cold to brewing temperature\n"
        "- Weight: 16.8 kg; size 31 x 42 x 39 cm (width x depth x height)",
    ]),
    ("3. First use", [
        "Unpack the machine and place it on a level, heat-resistant surface at least 10 cm from the wall. "
        "Rinse the water tank, fill it with fresh, cold water and slide it back into place. Insert the "
        "AquaPure filter cartridge supplied in the box into the tank; it softens the water and should be "
        "replaced every 60 days.",
        "Switch the machine on with the rocker switch on the right-hand side. The display shows HEAT while "
        "the boilers warm up. On first use, run two full tanks of water through the group head and the hot "
        "water wand to rinse the system. Do not use the steam wand until the display shows READY.",
    ]),
    ("4. Brewing espresso", [
        "The factory setting for the brew temperature is 93 degrees C, which suits most medium roasts. "
        "Light roasts often taste better at 94 or 95 degrees C, dark roasts at 90 to 92 degrees C. To change "
        "the temperature, hold the P button for three seconds and use the plus and minus buttons.",
        "For a double espresso, grind 18 grams of coffee fine, distribute it evenly in the double basket and "
        "tamp firmly and level. Lock the portafilter into the group head and press the cup button. Aim for "
        "36 grams of espresso in the cup in 25 to 30 seconds. If the shot runs faster, grind finer; if it "
        "runs slower, grind coarser.",
    ]),
    ("5. Steaming milk", [
        "Fill a cold stainless steel jug one third full with cold milk. Purge the steam wand for two seconds "
        "to clear condensed water, then place the tip just below the surface of the milk and open the steam "
        "knob fully. When the jug becomes too hot to hold, at about 60 to 65 degrees C, close the knob. Wipe "
        "the wand with a damp cloth and purge it again straight after every use, before the milk dries.",
    ]),
    ("6. Cleaning and descaling", [
        "Clean the group head every day: remove the portafilter, run water for five seconds and brush the "
        "gasket. Once a week, backflush the group with the blind basket and one scoop of Ventoso GroupClean "
        "powder.",
        "Scale from hard water is the most common cause of faults. Descale the Aurora Duo every 200 shots or "
        "every 8 weeks, whichever comes first; the display shows CALC when it is due. Use only Ventoso "
        "Clean D7 descaler: other products can damage the boiler seals and void the warranty.",
        "To descale, remove the AquaPure filter, dissolve one 100 ml bottle of Clean D7 in 1 litre of water "
        "in the tank, then hold the P and cup buttons together for five seconds to start the descaling "
        "program. The program pauses twice and asks you to empty the drip tray. It takes about 45 minutes in "
        "total, including two rinse cycles with fresh water.",
    ]),
    ("7. Troubleshooting", [
        "- E1: the water tank is empty or not seated. Fill the tank and push it fully into place.\n"
        "- E4: the brew boiler did not reach temperature within 20 minutes. Switch off, wait 10 minutes and "
        "switch on again; if E4 returns, contact service.\n"
        "- E7: the steam boiler overheated. Switch off and let the machine cool for 30 minutes.\n"
        "- CALC: descaling is due. See section 6.\n"
        "- Espresso runs very slowly or not at all: the grind is too fine or the basket is overfilled.",
        "If the pump sounds loud and no water comes out, the tank may have run dry. Refill it and run the hot "
        "water wand for 20 seconds to prime the pump.",
    ]),
    ("8. Warranty and service", [
        "Ventoso Appliances gives a 3-year warranty on the Aurora Duo from the date of purchase, covering "
        "defects in materials and workmanship. The warranty does not cover damage from scale, from descalers "
        "other than Clean D7, or from commercial use. Register your machine within 30 days using the serial "
        "number printed under the drip tray. Service centres are listed at the back of the quick-start card.",
    ]),
]
ESPRESSO_NEW_PAGE_BEFORE = "6. Cleaning and descaling"

TRAVEL_TITLE = "Larkspur Analytics Travel and Expenses Policy"
# (style, text): "h1"/"h2" headings, "p" paragraphs, "li" bullet items, "table" rows split on "|".
TRAVEL: list[tuple[str, str]] = [
    ("p", "Policy number FIN-07, version 3. Effective from 1 February 2024. Owner: Finance Operations "
          "(travel@larkspur.example). This policy applies to every employee and contractor of Larkspur "
          "Analytics who travels on company business."),
    ("h1", "Before you travel"),
    ("p", "Every business trip needs approval from your line manager before anything is booked. Trips with an "
          "estimated total cost above 2,500 euros also need approval from a director. Book all travel through "
          "the company travel desk, Wayfarer Travel, at least 14 days before departure; bookings made later "
          "need a written reason."),
    ("h2", "Choosing how to travel"),
    ("li", "Take the train for any journey that takes under 4 hours by rail, even when a flight is cheaper."),
    ("li", "Fly economy class on flights shorter than 6 hours."),
    ("li", "Premium economy is allowed on flights of 6 hours or longer; business class needs approval from the "
           "Chief Financial Officer."),
    ("li", "Private cars are reimbursed at 0.30 euros per kilometre, up to 400 kilometres per trip."),
    ("h1", "Hotels and daily allowances"),
    ("p", "Book a standard room in a hotel within 30 minutes of the place of work. The nightly rate, including "
          "taxes and breakfast, must not exceed the cap for the city. Where no city is listed, the cap is "
          "140 euros per night."),
    ("table", "City | Hotel cap per night | Daily meal allowance"),
    ("table", "Amsterdam | 190 euros | 55 euros"),
    ("table", "Berlin | 160 euros | 48 euros"),
    ("table", "London | 210 euros | 60 euros"),
    ("table", "Lisbon | 130 euros | 42 euros"),
    ("p", "The daily meal allowance covers breakfast, lunch, dinner and drinks. On the first and last day of a "
          "trip, 70 percent of the allowance applies. Alcohol is never reimbursed above the allowance."),
    ("h1", "Claiming expenses"),
    ("p", "Submit every claim in the Ledgerly expenses app within 30 days of returning. Attach an itemised "
          "receipt for every expense above 25 euros; for smaller amounts a note of the date, place and amount "
          "is enough. Claims submitted later than 90 days after the trip are not paid."),
    ("p", "Approved claims are paid with the next monthly salary run, on the 25th of each month. Company credit "
          "card holders must reconcile their statements in Ledgerly by the 5th working day of the month."),
    ("h2", "What is not reimbursed"),
    ("li", "Upgrades of flights, rail tickets or rooms that were not approved in advance."),
    ("li", "Fines for parking or traffic offences, and lost-luggage fees that the airline refunds."),
    ("li", "Minibar items, in-room films and personal laundry on trips shorter than five nights."),
    ("h1", "Safety and help"),
    ("p", "Register every trip abroad in the Wayfarer app so that the company can reach you in an emergency. "
          "The 24-hour travel assistance line is +44 20 7946 0321. Questions about this policy go to Finance "
          "Operations; the policy is reviewed every January."),
]


def write_pdf(out: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_title(ESPRESSO_TITLE)
    pdf.set_author("Ventoso Appliances (fictional)")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(20, 20, 20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, ESPRESSO_TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, paragraphs in ESPRESSO:
        if heading == ESPRESSO_NEW_PAGE_BEFORE:
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.set_font("Helvetica", "", 11)
        for paragraph in paragraphs:
            if paragraph.startswith("- "):
                for item in paragraph.split("\n"):
                    pdf.multi_cell(0, 6, item, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    path = out / "aurora-espresso-manual.pdf"
    pdf.output(str(path))
    return path


def write_docx(out: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = TRAVEL_TITLE
    document.core_properties.author = "Larkspur Analytics Finance Operations (fictional)"
    document.core_properties.created = FIXED_DATE.replace(tzinfo=None)
    document.core_properties.modified = FIXED_DATE.replace(tzinfo=None)
    document.add_heading(TRAVEL_TITLE, level=0)
    rows: list[list[str]] = []
    for index, (style, text) in enumerate(TRAVEL):
        if style == "table":
            rows.append([cell.strip() for cell in text.split("|")])
            if index + 1 < len(TRAVEL) and TRAVEL[index + 1][0] == "table":
                continue
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
            rows = []
        elif style in ("h1", "h2"):
            document.add_heading(text, level=int(style[1]))
        elif style == "li":
            document.add_paragraph(text, style="List Bullet")
        else:
            document.add_paragraph(text)
    path = out / "larkspur-travel-policy.docx"
    document.save(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1] / "localrag" / "sample_corpus"
    parser.add_argument("--out", type=Path, default=default, help="folder to write into")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in (write_pdf(args.out), write_docx(args.out)):
        print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
