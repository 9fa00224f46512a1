"""The tuned model's card states its base model's licence, read from the base itself."""

from __future__ import annotations

from pathlib import Path

from localrag.models import bundled_generator_path
from localrag.tune.card import base_licence, build_card, card_markdown


def test_licence_from_the_bundled_gguf_header() -> None:
    assert base_licence(bundled_generator_path()) == "apache-2.0"


def test_licence_from_a_hugging_face_folder_readme(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlanguage: en\nlicense: 'mit'\n---\n# A model\nlicense: no\n")
    assert base_licence(tmp_path) == "mit"
    (tmp_path / "README.md").write_text("# No front matter\nlicense: gpl\n")
    assert base_licence(tmp_path) == ""
    assert base_licence(tmp_path / "missing.gguf") == ""


def test_card_and_its_markdown_carry_the_licence() -> None:
    card = build_card("docs", base_path="/b.gguf", base_sha256="x", architecture="llama", licence="apache-2.0",
                      quant="Q8_0", data_hash="h", data_dir="/d", config={}, training={}, evaluation={}, files={})
    assert card["base"]["license"] == "apache-2.0"
    assert "| base licence | apache-2.0 |" in card_markdown(card)
