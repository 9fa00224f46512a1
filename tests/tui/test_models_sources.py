"""The Models screen groups other tools' models under a heading per tool and switches to them by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wait_for
from fakes import FakeEngine
from textual.widgets import OptionList

from localrag import discover_models
from localrag.config import Settings, load_settings
from localrag.models import ModelInfo
from localrag.tui.app import LocalRagApp
from tests.unit.model_stores import gguf_bytes, ollama_copy, ollama_model

pytestmark = pytest.mark.anyio


class StoresEngine(FakeEngine):
    def models(self) -> list[ModelInfo]:
        return [
            *super().models()[:2],
            ModelInfo("llama3.2:3b", Path("/ollama/blobs/sha256-aa"), "ollama", 2_000_000_000, "llama",
                      quantization="Q4_K_M", loadable=True),
            ModelInfo("qwen:0.5b", Path("/ollama/blobs/sha256-bb"), "ollama", 400_000_000, "qwen2",
                      quantization="Q4_0", loadable=True),
            ModelInfo("pub/repo/new-arch", Path("/lms/pub/repo/new-arch.gguf"), "lmstudio", 10, "newarch",
                      loadable=False),
        ]


async def test_other_tools_are_grouped_and_chosen_by_name() -> None:
    app = LocalRagApp(StoresEngine())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        box = app.screen.query_one("#models", OptionList)
        await wait_for(pilot, lambda: box.option_count == 7)
        labels = [str(box.get_option_at_index(i).prompt) for i in range(7)]
        assert labels[2] == "Ollama" and labels[5] == "LM Studio"
        assert box.get_option_at_index(2).disabled and box.get_option_at_index(5).disabled
        assert "ollama · llama · Q4_K_M · 2000 MB" in labels[3]
        assert "this llama.cpp cannot load it" in labels[6]
        box.focus()
        box.highlighted = 3
        await pilot.press("enter")
        # Saved by name, not by blob path: Ollama replaces the blob when the tag is pulled again.
        await wait_for(pilot, lambda: load_settings().model == "ollama:llama3.2:3b")


async def test_the_current_model_is_the_ollama_tag_the_setting_names(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Marked by file, every tag of the current model's blob had the dot: smol:latest, smol:135m and the hf.co copy.
    ollama = tmp_path / "ollama"
    ollama_model(ollama, "smol", "latest", gguf=gguf_bytes(name="smol"))
    ollama_copy(ollama, "smol", "latest", to_model="smol", to_tag="135m")
    ollama_copy(ollama, "smol", "latest", to_model="SmolLM2-GGUF", to_tag="Q4_1", to_namespace="bartowski",
                to_registry="hf.co")
    monkeypatch.setattr(discover_models, "ollama_root", lambda: ollama)

    class OllamaEngine(FakeEngine):
        def models(self) -> list[ModelInfo]:
            return discover_models.list_all(tmp_path / "models", self.settings.model)

    app = LocalRagApp(OllamaEngine(settings=Settings(model="smol")))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f4")
        box = app.screen.query_one("#models", OptionList)
        await wait_for(pilot, lambda: box.option_count == 5)  # bundled, the heading, three tags
        marked = [str(box.get_option_at_index(i).prompt) for i in range(5)
                  if str(box.get_option_at_index(i).prompt).startswith("●")]
        assert len(marked) == 1 and "smol:latest" in marked[0]
