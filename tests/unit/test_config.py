from __future__ import annotations

from pathlib import Path

import pytest

from localrag import paths
from localrag.config import Settings, load_settings, save_settings
from localrag.errors import ConfigError


def test_defaults_without_file_or_env() -> None:
    assert load_settings() == Settings()


def test_file_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('top_k = 7\ntemperature = 0.5\nmodel = "a.gguf"\n')
    monkeypatch.setenv("LOCALRAG_TOP_K", "9")
    monkeypatch.setenv("LOCALRAG_ALLOW_MODEL_KNOWLEDGE", "yes")
    settings = load_settings(config, model="b.gguf", n_ctx=None)
    assert settings.top_k == 9
    assert settings.temperature == 0.5
    assert settings.allow_model_knowledge is True
    assert settings.model == "b.gguf"
    assert settings.n_ctx == Settings().n_ctx


def test_bad_values_name_their_origin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text("top_k = 'many'\n")
    with pytest.raises(ConfigError, match="c.toml: setting 'top_k' must be int"):
        load_settings(config)
    config.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(config)
    config.write_text("top_k = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(config)
    monkeypatch.setenv("LOCALRAG_N_CTX", "big")
    with pytest.raises(ConfigError, match="LOCALRAG_N_CTX"):
        load_settings(tmp_path / "missing.toml")


def test_save_round_trips_only_changes(localrag_home: Path) -> None:
    changed = Settings().replace(top_k=6, model='with "quote"', allow_model_knowledge=True)
    path = save_settings(changed)
    assert path == paths.config_file()
    assert "n_ctx" not in path.read_text()
    assert load_settings() == changed


def test_paths_follow_localrag_home(localrag_home: Path) -> None:
    assert paths.data_dir() == localrag_home / "data"
    assert paths.models_dir() == localrag_home / "models"
    assert paths.db_dir().is_relative_to(localrag_home)
