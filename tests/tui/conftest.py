"""Shared helpers for the TUI tests: the app over a FakeEngine and a wait-until for pilots."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fakes import FakeEngine
from textual.pilot import Pilot

from localrag.tui.app import LocalRagApp


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds; fail the test if it never does."""
    steps = int(timeout / 0.02)
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.02)
    assert condition(), "condition not reached before the timeout"


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def app(fake_engine: FakeEngine) -> LocalRagApp:
    return LocalRagApp(fake_engine)
