"""`import lancedb` without the REST namespace client's API modules, which localrag never calls.

Every command that opens the index imports lancedb, and in lancedb 0.40 that import pulls in
`lance_namespace`, whose models come from the generated REST client package
`lance_namespace_urllib3_client`. That package's `__init__` imports its nine API modules (REST calls
wrapped in pydantic validation) although `lance_namespace` only needs the package's `models`; on this
project's 2-core machines they were about 1.1 s of a 2.6 s `import lancedb`, paid by `status`,
`search`, `ask` and every other command (benchmarks/bench_startup.py; README figures there).

`defer_namespace_client` puts a stand-in for the package in `sys.modules` that carries the real
package's location, so its submodules (`models`) import as usual without running its `__init__`; the
first look-up of a name that is not a submodule runs the real `__init__` into the stand-in, so code
that does use the REST client (a LanceDB namespace connection) gets the whole package, unchanged.
The package's own code is not touched, and nothing happens when it is absent or already imported.
"""

from __future__ import annotations

import importlib.util
import sys
import types

CLIENT = "lance_namespace_urllib3_client"


class _DeferredPackage(types.ModuleType):
    """The package with its `__init__` not yet run: run on the first name it does not hold that is not
    one of its submodules."""

    _initialised = False

    def __getattr__(self, name: str) -> object:
        # Dunder look-ups (pickle, inspect, the import system's own checks) must not run the package.
        if name.startswith("__") or self._initialised:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        # `from package import submodule`, as the package's own modules write it, is answered with the
        # submodule: running `__init__` then would import the module asking, while it is half imported.
        if importlib.util.find_spec(f"{self.__name__}.{name}") is not None:
            return importlib.import_module(f"{self.__name__}.{name}")
        self._initialised = True
        spec = self.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(self)
        return object.__getattribute__(self, name)


def defer_namespace_client() -> bool:
    """Install the stand-in (see the module's docstring); whether it was installed."""
    if CLIENT in sys.modules:
        return False
    spec = importlib.util.find_spec(CLIENT)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    module = _DeferredPackage(CLIENT)
    module.__spec__ = spec
    module.__loader__ = spec.loader
    module.__file__ = spec.origin
    module.__path__ = list(spec.submodule_search_locations)
    module.__package__ = CLIENT
    sys.modules[CLIENT] = module
    return True
