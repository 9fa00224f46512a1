"""The `collection` setting of the settings file follows its collection's rename and goes with its deletion (a
setting left naming a collection that is gone failed every command); real LanceDB, HashEmbedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from localrag import paths
from localrag.config import load_settings, saved_setting, update_saved_settings
from localrag.embed import HashEmbedder
from localrag.engine import Engine
from localrag.errors import LocalRagError


def test_rename_and_delete_of_the_configured_collection_keep_commands_working(
    localrag_home: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "hotel.md").write_text("# Hotel\n\nThe hotel cap in London is 180 pounds a night.\n")
    Engine(load_settings(), embedder=HashEmbedder(dim=32)).create_collection("work")
    update_saved_settings({"collection": "work"})
    engine = Engine(load_settings(), embedder=HashEmbedder(dim=32))
    engine.ingest([notes])

    engine.rename_collection("work", "job")
    assert saved_setting(paths.config_file(), "collection") == "job"
    later = Engine(load_settings(), embedder=HashEmbedder(dim=32))  # the next command, as a user runs it
    assert later.settings.collection == "job" and later.search("hotel cap London")[0].chunk.path.endswith("hotel.md")

    later.delete_collection("job")
    assert saved_setting(paths.config_file(), "collection") is None
    assert Engine(load_settings(), embedder=HashEmbedder(dim=32)).settings.collection == "default"
    with pytest.raises(LocalRagError, match="does not exist .*`localrag config set collection NAME`"):
        Engine(load_settings(collection="job"), embedder=HashEmbedder(dim=32)).store.documents()
