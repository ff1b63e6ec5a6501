"""Lazy package exports (PEP 562), so importing a light submodule stays light.

The config imports the settings schemas of ``desk.sla``, ``desk.canned`` and
``desk.writing``; with eager re-exports in those packages' ``__init__`` that
would load holiday tables, dictionaries and the database layer on every start.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from typing import Any


def attach(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, loading ``exports[name]`` on first use."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals_of_package = importlib.import_module(package).__dict__
        globals_of_package[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    # A name that is also a submodule's name (``sla.compliance`` the function and the
    # module) would be shadowed by the module once anything imports it: load it now.
    namespace = importlib.import_module(package).__dict__
    for name, module in exports.items():
        if importlib.util.find_spec(f"{package}.{name}") is not None:
            namespace[name] = getattr(importlib.import_module(module), name)
    return __getattr__, __dir__
