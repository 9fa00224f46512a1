"""Importing any core module must not import textual: the core stays usable without the UI.

Each module is imported in a fresh interpreter, since one test process has textual loaded by the
TUI tests already. Everything in localrag/ except the tui package and the CLI (which starts the
app) counts as core; new modules are picked up automatically.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import localrag

UI_MODULES = ("localrag.tui", "localrag.cli", "localrag.__main__")


def core_modules() -> list[str]:
    found = ["localrag"]
    for info in pkgutil.walk_packages(localrag.__path__, prefix="localrag."):
        if not info.name.startswith(UI_MODULES):
            found.append(info.name)
    return sorted(found)


def test_core_module_list_is_complete() -> None:
    modules = core_modules()
    for expected in ("localrag.engine", "localrag.conversations", "localrag.config", "localrag.types"):
        assert expected in modules
    assert not any(m.startswith("localrag.tui") for m in modules)


@pytest.mark.parametrize("module", core_modules())
def test_core_module_does_not_import_textual(module: str) -> None:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports textual: {result.stdout.strip()}"


def test_the_check_would_catch_textual() -> None:
    code = "import importlib, sys\nimportlib.import_module('localrag.tui.app')\nprint('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "True"
