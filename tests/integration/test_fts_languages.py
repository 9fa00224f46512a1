"""The BM25 leg in languages its tokenizer alone could not search, through a real LanceDB store.

tests/fixtures/cjk/passages.jsonl: 26 one-sentence passages written for this test (10 Chinese, 8 Japanese,
8 Korean) with a question each that shares some, not all, of its passage's words. Before fts_terms the leg
found none of the Chinese or Japanese passages and 5 of the 8 Korean ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from localrag.store import Store
from localrag.store_schema import FTS_COLUMN
from localrag.types import Chunk, Document

DIM = 8
PASSAGES = [json.loads(line) for line in (Path(__file__).parents[1] / "fixtures/cjk/passages.jsonl").open()]
MIGRATION = "migration:0007_fts_terms"
OTHER = ["Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.", "Konstantinopel heißt heute İstanbul.",
         "Donaudampfschifffahrtsgesellschaftskapitänsmütze ist ein langes Wort."]


def _store(path: Path, texts: list[str]) -> Store:
    store = Store(path, embedder_name="e", dim=DIM)
    docs = [Document(f"d{i}", f"/docs/{i}.txt", "txt", f"h{i}", len(t), 0.0) for i, t in enumerate(texts)]
    chunks = [Chunk(f"d{i}:0", f"d{i}", f"/docs/{i}.txt", 0, t, 0, len(t)) for i, t in enumerate(texts)]
    store.write_batch(docs, chunks, np.random.default_rng(0).standard_normal((len(texts), DIM)).astype(np.float32))
    store.refresh_indexes()
    return store


def _first(store: Store, query: str) -> str | None:
    hits = store.text_search(query, 3)
    return hits[0][0].text if hits else None


def test_each_cjk_question_finds_its_passage_first(tmp_path: Path) -> None:
    store = _store(tmp_path / "db", [p["passage"] for p in PASSAGES])
    assert [_first(store, p["question"]) for p in PASSAGES] == [p["passage"] for p in PASSAGES]
    assert [_first(store, c) for c in "竹寿"] == [PASSAGES[1]["passage"], PASSAGES[12]["passage"]]  # one character


def test_accents_as_typed_and_long_words_are_found(tmp_path: Path) -> None:
    store = _store(tmp_path / "db", OTHER)
    asked = ("Αθηνα", "istanbul", "Donaudampfschifffahrtsgesellschaftskapitänsmütze")
    assert [_first(store, q) for q in asked] == OTHER


def test_a_store_written_before_is_searchable_once_opened_again(tmp_path: Path) -> None:
    texts = [p["passage"] for p in PASSAGES[:3]] + OTHER
    store = _store(tmp_path / "db", texts)
    # What an older localrag wrote: the text as it is, under LanceDB's default tokenizer settings.
    store.chunks_table.update(values_sql={FTS_COLUMN: "text"})
    from lancedb.index import FTS

    store.chunks_table.create_index(FTS_COLUMN, config=FTS(with_position=False), replace=True)
    store._meta.delete(f"key = '{MIGRATION}'")
    assert _first(store, PASSAGES[0]["question"]) is None
    reopened = Store(tmp_path / "db", embedder_name="e", dim=DIM)
    assert _first(reopened, PASSAGES[0]["question"]) == texts[0]
    assert _first(reopened, "Donaudampfschifffahrtsgesellschaftskapitänsmütze") == OTHER[2]


CODE = ["ACME_CONFIG = load_config()  # the config of acme", "[http]\ntimeout = 30\nretries = 2",
        "HTTP_TIMEOUT_MS = 30000", "HTTP_TIMEOUT = 30", "def parse_config(path):\n    return read(path)"]


CLAUSES = ["Clause 2. 2.1 Each party keeps the other's information secret. 2.2 This clause holds for 4 years.",
           "Clause 4. 4.1 Either party may end this agreement. 4.2 Notice of thirty days is given in writing.",
           "Clause 5. 5.1 Liability under clause 2.4 and clause 4 is capped at EUR 50,000 for 2 years."]


def test_a_clause_number_finds_its_clause(tmp_path: Path) -> None:
    # Split into 4 and 2, "clause 4.2" matched any text holding both (a contract's clause 4.2 ranked 12th).
    store = _store(tmp_path / "db", CLAUSES)
    assert [_first(store, q) for q in ("clause 4.2", "what does 2.4 say")] == [CLAUSES[1], CLAUSES[2]]


def test_an_identifier_finds_where_it_is_written_whole_in_any_case_style(tmp_path: Path) -> None:
    # Split at its underscores, `HTTP_TIMEOUT` matched a `[http] timeout` block and HTTP_TIMEOUT_MS as well as its
    # own line (ranked 8th in a code repository), and `parseConfig` did not find `parse_config` at all.
    store = _store(tmp_path / "db", CODE)
    assert [_first(store, q) for q in ("HTTP_TIMEOUT", "where is HTTP_TIMEOUT set?")] == [CODE[3]] * 2
    assert [_first(store, q) for q in ("parse_config", "parseConfig", "ParseConfig")] == [CODE[4]] * 3
    # An index written before: its identifiers get their joined form when it is opened again.
    store.chunks_table.update(values_sql={FTS_COLUMN: "text"})
    store.rebuild_fts_index()
    store._meta.delete("key = 'migration:0008_fts_identifiers'")
    assert _first(store, "parseConfig") is None
    assert _first(Store(tmp_path / "db", embedder_name="e", dim=DIM), "parseConfig") == CODE[4]


UMLAUTS = ["Die Kündigung ist schriftlich einzureichen.", "Herr Mueller zahlt die Miete im Voraus.",
           "Frau Müller wohnt im zweiten Stock.", "The tenant pays the rent in advance."]


def _found(store: Store, query: str) -> list[str]:
    return [hit.text for hit, _score in store.text_search(query, 3)]


def test_an_umlaut_typed_as_two_letters_finds_the_word_and_back(tmp_path: Path) -> None:
    # "Kuendigung" found no "Kündigung", and "Mueller" and "Müller" did not find each other.
    store = _store(tmp_path / "db", UMLAUTS)
    assert _first(store, "Kuendigung") == _first(store, "Kundigung") == _first(store, "Kündigung") == UMLAUTS[0]
    assert UMLAUTS[2] in _found(store, "Mueller") and UMLAUTS[1] in _found(store, "Müller")
    # An index written before: its words with an umlaut get the spelled-out form when it is opened again.
    store.chunks_table.update(values_sql={FTS_COLUMN: "text"})
    store.rebuild_fts_index()
    store._meta.delete("key = 'migration:0009_fts_umlauts'")
    assert _first(store, "Kuendigung") is None
    assert _first(Store(tmp_path / "db", embedder_name="e", dim=DIM), "Kuendigung") == UMLAUTS[0]


RUSSIAN = ["Отчёт за третий квартал готов.", "Ещё один счёт оплачен в пятницу.", "Йогурт хранится в холодильнике.",
           "The quarterly report is ready."]


def test_russian_yo_and_ye_find_each_other_and_short_i_stays_its_own_letter(tmp_path: Path) -> None:
    # Russian prints ё as е: "отчет" found no "Отчёт".
    store = _store(tmp_path / "db", RUSSIAN)
    assert _first(store, "отчет") == _first(store, "отчёт") == _first(store, "ОТЧЕТ") == RUSSIAN[0]
    assert _first(store, "еще счет") == RUSSIAN[1]
    assert _first(store, "йогурт") == RUSSIAN[2] and _first(store, "иогурт") is None
    # An index written before: its words with ё get е when it is opened again.
    store.chunks_table.update(values_sql={FTS_COLUMN: "text"})
    store.rebuild_fts_index()
    store._meta.delete("key = 'migration:0010_fts_yo'")
    assert _first(store, "отчет") is None
    assert _first(Store(tmp_path / "db", embedder_name="e", dim=DIM), "отчет") == RUSSIAN[0]
