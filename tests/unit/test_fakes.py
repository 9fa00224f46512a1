"""The shared FakeEngine stays a faithful stand-in: every public method it has, the Engine has, with the same
parameters, so a TUI test cannot pass against a call the real Engine would refuse."""

from __future__ import annotations

import inspect

from fakes import FakeEngine

from localrag.engine import Engine


def _parameters(function: object) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]  # type: ignore[arg-type]


def test_fake_engine_methods_exist_on_engine_with_the_same_parameters() -> None:
    public = [name for name, member in inspect.getmembers(FakeEngine)
              if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))]
    assert "stream" in public and "ingest" in public
    for name in public:
        real = inspect.getattr_static(Engine, name, None)
        assert real is not None, f"FakeEngine.{name} is not an Engine method"
        fake = inspect.getattr_static(FakeEngine, name)
        if isinstance(fake, property):
            assert isinstance(real, property) or not callable(real), f"Engine.{name} is not an attribute"
            continue
        assert _parameters(fake) == _parameters(real), f"FakeEngine.{name} differs from Engine.{name}"
