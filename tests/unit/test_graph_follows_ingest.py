"""The graph answers only from what is indexed: an ingest that changes or removes documents takes their triples
out (real LanceDB; a scripted generator stands in for the model's extraction)."""

from __future__ import annotations

from pathlib import Path

from test_graph_extract import ScriptedGenerator, reply

from localrag.config import Settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.graph.extract import ExtractConfig
from localrag.graph.store import BUILT

VAULT = "Quillfeather Vault holds the payroll ledger. The Quillfeather Vault is in Tamford."
CANTEEN = "The Canteen is in Tamford, on the second floor."


def _engine() -> Engine:
    generator = ScriptedGenerator({
        "Quillfeather": reply(("Quillfeather Vault", "located in", "Tamford")),
        "Canteen is": reply(("Canteen", "located in", "Tamford")),
        "Mill is": reply(("Mill", "located in", "Tamford")),
    })
    return Engine(Settings(), embedder=HashEmbedder(dim=64), generator=generator)  # type: ignore[arg-type]


def _heads(engine: Engine) -> list[str]:
    return sorted(str(row["head"]) for row in engine.graph.triple_rows(None).to_pylist())


def test_a_folder_ingested_again_takes_the_triples_of_its_changed_and_removed_files_out(tmp_path: Path) -> None:
    engine = _engine()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vault.txt").write_text(VAULT, encoding="utf-8")
    (docs / "canteen.txt").write_text(CANTEEN, encoding="utf-8")
    engine.ingest([docs])
    assert engine.graph_build(config=ExtractConfig(method="single")).triples_added == 2

    (docs / "vault.txt").unlink()
    (docs / "canteen.txt").write_text("The Mill is in Tamford, by the river.", encoding="utf-8")
    report = engine.ingest([docs])
    assert (report.updated, report.removed) == (1, 1)
    assert _heads(engine) == []  # neither file's text is indexed any more
    assert any("2 triples of changed or removed documents left the knowledge graph" in n for n in report.notes)

    assert engine.graph_build(config=ExtractConfig(method="single")).triples_added == 1  # the changed file's
    assert _heads(engine) == ["mill"]
    unchanged = engine.ingest([docs])
    assert unchanged.unchanged == 1 and not unchanged.notes and _heads(engine) == ["mill"]


def test_an_ingest_where_no_graph_was_built_makes_no_graph_tables(tmp_path: Path) -> None:
    engine = _engine()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "canteen.txt").write_text(CANTEEN, encoding="utf-8")
    engine.ingest([docs])
    (docs / "canteen.txt").write_text("The canteen moved.", encoding="utf-8")
    assert engine.ingest([docs]).updated == 1
    assert not (engine.store.path / f"{BUILT}{engine.store.suffix}.lance").exists()
