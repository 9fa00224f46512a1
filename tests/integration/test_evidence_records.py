"""The best sentence (`ask --extract`) in records written one to a line: an invoice, a catalogue, a timetable."""

from __future__ import annotations

from localrag.answer.evidence import best_sentence
from localrag.embed import SentenceTransformerEmbedder
from localrag.types import Chunk, Hit


def _hit(text: str, path: str = "/docs/records.txt") -> Hit:
    return Hit(Chunk("c0", "d0", path, 0, text, 0, len(text), file_type="txt"), 1.0)


INVOICE = ("INVOICE #US-5521\nInvoice date: December 7, 2026\nBill to: Greenfield Catering LLC\n\n"
           "Line 1: Commercial blender, 2 units, $1,234.56\nLine 2: Delivery and installation, $480.00\n"
           "Subtotal: $1,714.56\nSales tax (8.25%): $141.45\nTotal due: $1,856.01\n\n"
           "Payment due by 12/21/2026 (net 14).")


def test_an_invoices_and_a_catalogues_line_is_quoted_alone(real_embedder: SentenceTransformerEmbedder) -> None:
    """Before, the invoice's header lines were quoted as one sentence for its total, and the catalogue's 21 records
    around part 1250 as another."""
    total = best_sentence("What is the total due on invoice US-5521?", [_hit(INVOICE)], real_embedder)
    assert total is not None and total.text == "Total due: $1,856.01"
    catalogue = "".join(f"Part {n}: price ${n * 3}.{n % 89:02d}, weight {n % 70}.4 kg\n" for n in range(1221, 1281))
    part = best_sentence("What is the price of part 1250?", [_hit(catalogue)], real_embedder)
    assert part is not None and part.text == "Part 1250: price $3750.04, weight 60.4 kg"


TIMETABLE = ("Train | From | Departs | Arrives\nRE 4014 | Lindenau | 07:15 | 08:02\n"
             "RE 4016 | Lindenau | 08:15 | 09:02\nRE 4018 | Lindenau | 09:15 | 10:04\n"
             "RE 4020 | Lindenau | 10:15 | 11:02")


def test_a_clock_time_asked_finds_its_row(real_embedder: SentenceTransformerEmbedder) -> None:
    """"07:15" was read as "07" and "15", which the 09:15 row holds too, and that row was quoted."""
    for asked in ("07:15", "7:15", "9:15"):
        question = f"When does the {asked} train from Lindenau arrive?"
        evidence = best_sentence(question, [_hit(TIMETABLE)], real_embedder)
        assert evidence is not None and f"| {asked.zfill(5)} |" in evidence.text, (question, evidence)
