"""Hybrid retrieval over a real LanceDB: legs, fusion, filters, merging, reranking, real MiniLM."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from localrag.embed import HashEmbedder
from localrag.errors import LocalRagError
from localrag.ingest.loaders import types_named
from localrag.rerank import Reranker
from localrag.retrieve import Retriever, SearchFilters
from localrag.store import Store
from localrag.types import Chunk, Document

EMB = HashEmbedder(dim=64)

DOCS = {
    "/notes/garden.md": ["Tomatoes need full sun and regular watering.", "Basil grows well next to tomatoes."],
    "/notes/o'brien.md": ["Invoice INV-20931 was paid on 3 March."],
    "/work/report.pdf": ["Quarterly revenue grew by twelve percent.", "Costs of watering systems fell."],
    "/work/notes.txt": ["The meeting about tomatoes moved to Friday."],
    # As macOS writes the name: "é" decomposed (NFD).
    "/work/cafe\u0301-menu.md": ["The espresso costs two euros."],
}


def fill(store: Store, embedder: object, docs: dict[str, list[str]], overlap: int = 0) -> None:
    all_docs, chunks = [], []
    for path, texts in docs.items():
        doc_id = "id" + str(abs(hash(path)))
        all_docs.append(Document(doc_id, path, path.rsplit(".", 1)[-1], "h", 1, 1.0))
        pos = 0
        for i, text in enumerate(texts):
            chunks.append(
                Chunk(f"{doc_id}:{i}", doc_id, path, i, text, pos, pos + len(text), file_type=path.rsplit(".", 1)[-1])
            )
            pos += len(text) - overlap
    store.write_batch(all_docs, chunks, embedder.embed([c.text for c in chunks]))  # type: ignore[attr-defined]


@pytest.fixture
def retriever(tmp_path: Path) -> Retriever:
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)
    fill(store, EMB, DOCS)
    return Retriever(store, EMB)


def test_hybrid_hits_carry_both_legs(retriever: Retriever) -> None:
    hits = retriever.search("tomatoes watering", k=3)
    assert hits and len(hits) <= 3
    assert all(h.vector_rank is not None or h.text_rank is not None for h in hits)
    both = [h for h in hits if h.vector_rank and h.text_rank]
    assert both, "a chunk found by both legs"
    assert all(h.vector_score is not None and h.text_score is not None for h in both)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_text_leg_finds_exact_codes(retriever: Retriever) -> None:
    hits = retriever.search("INV-20931", k=2, mode="text")
    assert hits[0].chunk.path == "/notes/o'brien.md"
    assert hits[0].vector_rank is None and hits[0].text_rank == 1
    hybrid = retriever.search("INV-20931", k=2)
    assert hybrid[0].chunk.path == "/notes/o'brien.md"


def test_vector_mode_scores_are_cosine(retriever: Retriever) -> None:
    hits = retriever.search("basil tomatoes", k=2, mode="vector")
    assert hits[0].text_rank is None and hits[0].vector_rank == 1
    assert hits[0].score == hits[0].vector_score and -1.0 <= hits[0].score <= 1.0001


def test_filters_restrict_results(retriever: Retriever) -> None:
    only_pdf = retriever.search("watering", k=5, filters=SearchFilters(file_types=("pdf",)))
    assert only_pdf and {h.chunk.path for h in only_pdf} == {"/work/report.pdf"}
    under_notes = retriever.search("tomatoes", k=5, filters=SearchFilters(path_glob="/notes"))
    assert under_notes and all(h.chunk.path.startswith("/notes/") for h in under_notes)
    quoted = retriever.search("invoice", k=5, filters=SearchFilters(path_glob="*/o'brien.md"))
    assert [h.chunk.path for h in quoted] == ["/notes/o'brien.md"]
    assert retriever.search("tomatoes", k=5, filters=SearchFilters(path_glob="*.docx")) == []
    # Typed composed (NFC), as a keyboard types it: the decomposed name matches.
    menu = retriever.search("espresso", k=5, filters=SearchFilters(path_glob="*caf\u00e9*"))
    assert [h.chunk.path for h in menu] == ["/work/cafe\u0301-menu.md"]


def test_a_path_filter_matches_in_any_case(tmp_path: Path) -> None:
    """As `--type` and ingest's globs match: `--path '*.txt'` left `DREDGING.TXT` out (before 2026-12-07)."""
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)
    fill(store, EMB, {"/x/notes/DREDGING.TXT": ["Harbour dredging is planned for October 2026."],
                      "/x/notes/tide.md": ["Harbour dredging waits for the tide."]})
    retriever = Retriever(store, EMB)
    for glob in ("*.txt", "notes/dredging.txt", "/X/Notes/*", "/x/NOTES", "*/Dredging.Txt"):
        found = {h.chunk.path for h in retriever.search("dredging", k=5, filters=SearchFilters(path_glob=glob))}
        assert "/x/notes/DREDGING.TXT" in found, glob
    only = retriever.search("dredging", k=5, filters=SearchFilters(path_glob="*.TXT"))
    assert [h.chunk.path for h in only] == ["/x/notes/DREDGING.TXT"]


POLICIES = {
    "/n/travel-policy.md": ["Hotel costs are capped at 120 EUR per night outside London."],
    "/n/travel-policy-draft.md": ["Travel policy (DRAFT, not approved). Hotel costs are capped at 150 EUR everywhere."],
    "/d/newsletter-draft.md": ["The spring regatta starts in April. Volunteers meet at the club office."],
    "/n/treasurer.txt": ["The office of the club treasurer is open on Tuesdays. The club office club meets."],
    "/n/rules.txt": ["Club members may use the office printer; the office key is at the club bar."],
}


@pytest.fixture
def policies(tmp_path: Path) -> Retriever:
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)
    fill(store, EMB, POLICIES)
    return Retriever(store, EMB)


def test_a_minus_word_leaves_out_the_passages_holding_it(policies: Retriever) -> None:
    """`hotel cap -draft` ranked the draft first and a newsletter draft second: the minus word was searched for
    (before 2026-12-07)."""
    for mode in ("hybrid", "text", "vector"):
        found = [h.chunk.path for h in policies.search("hotel capped -draft", k=5, mode=mode)]  # type: ignore[arg-type]
        # Its text, in any case, not its file's name: the newsletter's text holds no "draft".
        assert found and "/n/travel-policy-draft.md" not in found, mode
        assert mode == "text" or "/d/newsletter-draft.md" in found, mode
    assert policies.search("hotel capped -draft", k=1)[0].chunk.path == "/n/travel-policy.md"
    assert "/n/travel-policy-draft.md" in [h.chunk.path for h in policies.search("hotel capped", k=5)]
    # With a vector of the query as typed (ask's), the words left out are not searched for either.
    vector = EMB.embed_queries(["hotel capped -draft"])[0]
    assert policies.search("hotel capped -draft", k=1, query_vector=vector)[0].chunk.path == "/n/travel-policy.md"
    with pytest.raises(LocalRagError, match="nothing to search for"):
        policies.search("-draft", k=3)


def test_a_quoted_phrase_puts_the_passages_holding_it_first(policies: Retriever) -> None:
    plain = [h.chunk.path for h in policies.search("club office", k=5)]
    assert plain[0] != "/d/newsletter-draft.md", "the case this is about: another passage ranks first unquoted"
    quoted = [h.chunk.path for h in policies.search('"club office"', k=5)]
    assert quoted[:2] == ["/n/treasurer.txt", "/d/newsletter-draft.md"] or quoted[:2] == [
        "/d/newsletter-draft.md", "/n/treasurer.txt"]


def test_a_word_start_with_a_star_finds_the_words_starting_so(policies: Retriever) -> None:
    assert policies.search("regat", k=3, mode="text") == []
    hits = policies.search("regat*", k=3, mode="text")
    assert [h.chunk.path for h in hits] == ["/d/newsletter-draft.md"]


def test_a_type_filter_takes_an_extension_or_a_type_and_refuses_what_names_neither(retriever: Retriever) -> None:
    """`--type py`, `yaml`, `markdown` found nothing, silently: the filter compared the extension with the type."""
    assert types_named("py") == ("code:python",) and types_named(".YAML") == ("code:yaml",)
    assert types_named("rst") == ("txt",) and types_named("code:python") == ("code:python",)
    assert "code:python" in types_named("code") and "txt" not in types_named("code")
    as_markdown = retriever.search("tomatoes", k=5, filters=SearchFilters(file_types=("markdown",)))
    assert as_markdown and all(h.chunk.path.endswith(".md") for h in as_markdown)
    with pytest.raises(LocalRagError, match="file type 'pyhton' is not one localrag reads"):
        retriever.search("tomatoes", k=5, filters=SearchFilters(file_types=("pyhton",)))


def test_empty_query_and_k(retriever: Retriever) -> None:
    assert retriever.search("   ", k=3) == []
    assert retriever.search("tomatoes", k=0) == []


def test_overlapping_neighbours_come_back_as_one_hit(tmp_path: Path) -> None:
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)
    source = "Pelicans fish together. Pelicans nest on islands. Pelicans migrate in winter."
    doc = Document("p", "/p.md", "md", "h", 1, 1.0)
    chunks = [
        Chunk("p:0", "p", "/p.md", 0, source[0:48], 0, 48),
        Chunk("p:1", "p", "/p.md", 1, source[24:], 24, len(source)),
    ]
    store.write_batch([doc], chunks, EMB.embed([c.text for c in chunks]))
    hits = Retriever(store, EMB).search("pelicans", k=4)
    assert len(hits) == 1
    assert hits[0].chunk.text == source and (hits[0].chunk.start, hits[0].chunk.end) == (0, len(source))


class _LengthReranker(Reranker):
    """Prefers shorter chunks: a fake cross-encoder whose order differs from the fused one."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"), top_n=10)

    def score_pairs(self, query: str, texts: Sequence[str]) -> list[float]:
        return [-float(len(t)) for t in texts]


def test_reranker_reorders_candidates(tmp_path: Path) -> None:
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)
    single = {f"/r/{i}.md": [text] for i, text in enumerate(t for texts in DOCS.values() for t in texts)}
    fill(store, EMB, single)
    plain = Retriever(store, EMB).search("tomatoes", k=3)
    hits = Retriever(store, EMB, reranker=_LengthReranker()).search("tomatoes", k=3)
    lengths = [len(h.chunk.text) for h in hits]
    assert lengths == sorted(lengths)
    assert lengths != [len(h.chunk.text) for h in plain], "the fake reranker must change the order"
    assert [h.rerank_score for h in hits] == [-float(n) for n in lengths]


def test_missing_reranker_folder_is_a_model_error() -> None:
    from localrag.errors import ModelError

    with pytest.raises(ModelError, match="not found"):
        Reranker(Path("/nonexistent/reranker")).score_pairs("q", ["text"])


def test_an_embedder_folder_is_no_reranker_and_config_set_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from localrag import paths
    from localrag.cli import run
    from localrag.errors import ModelError
    from localrag.models import bundled_embedder_path

    # sentence-transformers would give the bundled MiniLM an untrained head: every score ~0.5, a random order.
    with pytest.raises(ModelError, match="not a cross-encoder \\(its model is BertModel"):
        Reranker(bundled_embedder_path()).score_pairs("q", ["text"])
    assert run(["config", "set", "reranker", str(bundled_embedder_path())]) == 2
    assert "not a cross-encoder" in capsys.readouterr().err and not paths.config_file().exists()
    assert run(["config", "set", "reranker", str(tmp_path)]) == 2
    assert "no readable config.json" in capsys.readouterr().err

    # A cross-encoder folder (a tiny untrained one, made here: none is bundled) loads, scores and is accepted.
    from transformers import BertConfig, BertForSequenceClassification

    folder = tmp_path / "cross"
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(bundled_embedder_path() / name, folder / name)
    assert len(Reranker(folder).score_pairs("tomatoes", ["Tomatoes need sun.", "Invoices are paid."])) == 2
    assert run(["config", "set", "reranker", str(folder)]) == 0


def test_real_minilm_hybrid_finds_paraphrase_and_code(tmp_path: Path, real_embedder: object) -> None:
    store = Store(tmp_path / "db", embedder_name="all-MiniLM-L6-v2", dim=384)
    docs = {
        "/k/car.md": ["My automobile would not start this morning because the battery was flat."],
        "/k/tax.md": ["Form W-8BEN must be filed before the first payment."],
        "/k/cook.md": ["Simmer the onions slowly until they turn golden brown."],
    }
    fill(store, real_embedder, docs)
    retriever = Retriever(store, real_embedder)  # type: ignore[arg-type]
    paraphrase = retriever.search("vehicle engine failed to turn over", k=1, mode="vector")
    assert paraphrase[0].chunk.path == "/k/car.md"
    assert retriever.search("my vehicle has a dead battery", k=1)[0].chunk.path == "/k/car.md"
    code = retriever.search("W-8BEN", k=1)
    assert code[0].chunk.path == "/k/tax.md" and code[0].text_rank == 1


def _invoices() -> dict[str, list[str]]:
    clients = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Tyrell", "Soylent"]
    return {f"/books/invoice-{n:04d}.md": [
        f"Invoice INV-2026-{n:04d} to {clients[n % 10]} Ltd for consulting services in March: "
        f"{100 + 37 * n} EUR, payable within 30 days of the invoice date."] for n in range(1, 41)}


def test_an_invoice_asked_for_by_its_number_comes_first(tmp_path: Path, real_embedder: object) -> None:
    # Forty invoices alike but for their numbers: BM25 ranked INV-2026-0033 first and the vector leg 12th, so
    # the fused order put it 5th, out of ask's 4 sources; a hit holding the code the question names now leads.
    store = Store(tmp_path / "db", embedder_name="minilm", dim=384)
    fill(store, real_embedder, _invoices())
    store.refresh_indexes()
    retriever = Retriever(store, real_embedder)  # type: ignore[arg-type]
    for question in ("What is the amount of invoice INV-2026-0033?", "inv-2026-0033 amount"):
        hits = retriever.search(question, k=4)
        assert hits[0].chunk.path == "/books/invoice-0033.md", [h.chunk.path for h in hits]
        assert [h.codes for h in hits] == [(question.split()[-1 if "?" in question else 0].rstrip("?"),), (), (), ()]
    vector_only = retriever.search("What is the amount of invoice INV-2026-0033?", k=4, mode="vector")
    assert "/books/invoice-0033.md" not in [h.chunk.path for h in vector_only]  # the leg fusion has to overrule


def test_an_invoice_asked_for_by_its_amount_or_date_comes_first(tmp_path: Path, real_embedder: object) -> None:
    """An amount or a date is a code: "1,440.00" put the only invoice holding it 3rd, BM25's 1st and the vector
    leg's 4th, and "2026-03-14" the invoice dated so 3rd (before 2026-12-07)."""
    store = Store(tmp_path / "db", embedder_name="minilm", dim=384)
    fill(store, real_embedder, {f"/books/invoice-{n:04d}.txt": [
        f"INVOICE INV-2026-{n:04d}\nDate: 2026-{1 + n % 12:02d}-{1 + n % 28:02d}\nBill to: Harbour Sailing Club\n"
        f"Total due: {1000 + 37 * n:,}.00 EUR"] for n in range(1, 41)})
    retriever = Retriever(store, real_embedder)  # type: ignore[arg-type]
    for question, holder in (("1,444.00", 12), ("2026-03-27", 26), ("Which invoice is dated 2026-03-27?", 26),
                             ("What was billed for 1,925.00?", 25)):
        hits = retriever.search(question, k=4)
        assert hits[0].chunk.path == f"/books/invoice-{holder:04d}.txt", (question, [h.chunk.path for h in hits])


_CONTRACT = {
    "2. SERVICES": ["2.1 The Supplier will provide the Services with reasonable skill and care.",
                    "2.2 The Supplier will meet the service levels in the Statement of Work."],
    "3. FEES AND PAYMENT": ["3.1 The Customer will pay the Fees within thirty days of receiving a valid invoice.",
                            "3.2 Late payments carry interest at four per cent above the base rate."],
    "7. LIABILITY": ["7.1 Nothing in this Agreement limits either party's liability for death or personal injury.",
                     "7.2 Neither party is liable for any indirect or consequential loss, or for loss of profits.",
                     "7.3 Subject to clauses 7.1 and 7.2, each party's total liability is limited to the Fees paid.",
                     "7.4 The limitation in clause 7.3 does not apply to a breach of clause 8."],
    "8. CONFIDENTIALITY": ["8.1 Each party must keep the other party's Confidential Information secret.",
                           "8.3 The obligations in clause 8.1 do not apply to information that is already public.",
                           "8.4 The obligations in this clause 8 survive termination for five years."],
    "9. INTELLECTUAL PROPERTY": ["9.1 Each party keeps the intellectual property it owned before this Agreement."],
    "10. DATA PROTECTION": ["10.1 Each party will comply with data protection law when processing personal data."],
    "12. TERMINATION": ["12.1 Either party may terminate this Agreement by giving the other party ninety days' "
                        "written notice.", "12.2 Either party may terminate this Agreement immediately if the other "
                        "party commits a material breach that is not remedied within thirty days of notice."],
    "14. GENERAL": ["14.1 This Agreement is governed by the law of England.",
                    "14.2 Notices must be given in writing to the address in the Statement of Work."],
}


def test_a_clause_asked_for_by_its_number_comes_first(tmp_path: Path, real_embedder: object) -> None:
    # Before 2026-12-07 "clause 12.2" put LIABILITY first (the vector leg's first) and TERMINATION 4th (BM25's
    # first), and "What does clause 12.1 say?" the same; a dotted clause number the question names is a code now.
    store = Store(tmp_path / "db", embedder_name="minilm", dim=384)
    fill(store, real_embedder, {f"/c/msa-{heading.split('.')[0]}.txt": [f"{heading}\n\n" + "\n".join(clauses)]
                                for heading, clauses in _CONTRACT.items()})
    store.refresh_indexes()
    retriever = Retriever(store, real_embedder)  # type: ignore[arg-type]
    for question, code in (("clause 12.2", "12.2"), ("What does clause 12.1 say?", "12.1")):
        hits = retriever.search(question, k=4)
        assert hits[0].chunk.path == "/c/msa-12.txt" and hits[0].codes == (code,), [h.chunk.path for h in hits]
    assert retriever.search("clause 12.2", k=1, mode="vector")[0].chunk.path != "/c/msa-12.txt"


def test_a_type_filter_naming_an_extension_of_a_shared_type_keeps_to_that_extension(localrag_home: Path,
                                                                                   tmp_path: Path) -> None:
    """`--type rst` found .txt and .log files too: all three are stored as type txt. `--type txt` still takes all."""
    from localrag.config import Settings
    from localrag.engine import Engine

    for name in ("guide.rst", "GUIDE2.RST", "notes.txt", "server.log"):
        (tmp_path / name).write_text(f"Puffins nest on the cliffs, says {name}.\n")
    engine = Engine(Settings(), embedder=EMB)
    assert engine.ingest([tmp_path]).added == 4

    def found(*types: str) -> list[str]:
        hits = engine.search("puffins nest cliffs", k=10, filters=SearchFilters(file_types=types))
        return sorted(Path(h.chunk.path).name for h in hits)

    assert found("rst") == ["GUIDE2.RST", "guide.rst"]
    assert found(".log", "markdown") == ["server.log"]
    assert found("txt") == found("rst", "txt") == ["GUIDE2.RST", "guide.rst", "notes.txt", "server.log"]


def test_a_minus_word_and_a_phrase_match_a_pdfs_hyphen(tmp_path: Path) -> None:
    """`pneumonia -IL-6` kept the passage writing "IL\u20106" (U+2010, as publishers' PDFs do) first, and '"IL-6
    levels"' did not put it first (before 2026-12-08)."""
    store = Store(tmp_path / "db", embedder_name=EMB.name, dim=EMB.dim)
    fill(store, EMB, {
        "/p/pneumonia.md": ["Serum IL\u20106 levels above 80 pg/mL predicted respiratory failure in pneumonia."],
        "/p/cytokines.md": ["Cytokines are measured in many studies of inflammation and respiratory disease."],
        "/p/ward.md": ["Pneumonia patients on the ward were given oxygen and fluids."],
    })
    retriever = Retriever(store, EMB)
    assert "/p/pneumonia.md" not in [h.chunk.path for h in retriever.search("pneumonia -IL-6", k=5)]
    assert retriever.search('"IL-6 levels" respiratory', k=3)[0].chunk.path == "/p/pneumonia.md"
