"""Protocol dialects: one package each (``ai_api`` is the reference page's; the deployed
backend's ``guiders-v2`` plugs in the same way). A dialect package holds its wire shapes
and record specs (``wire.py``, shared with the simulator) and its decoder
(``dialect.py``); this module only finds them, so importing a wire module loads no
client code."""

from __future__ import annotations

import importlib

from .base import EPOCH_RANGE_S, BatchRefused, Dialect, Malformed, to_epoch

__all__ = [
    "EPOCH_RANGE_S",
    "BatchRefused",
    "Dialect",
    "Malformed",
    "get_dialect",
    "known_dialects",
    "to_epoch",
]

# dialect name -> module defining its instance (``DIALECT``), imported on first use
_MODULES = {
    "ai-api": "guiders_lab.dialects.ai_api.dialect",
    "guiders-v2": "guiders_lab.dialects.guiders_v2.dialect",
}
_LOADED: dict[str, Dialect] = {}


def known_dialects() -> list[str]:
    return sorted(_MODULES)


def get_dialect(name: str | Dialect) -> Dialect:
    """Look a dialect up by name; a Dialect instance is returned as is. A dialect whose
    decoder keeps state (``guiders-v2`` remembers whose visitor each chat is) is made
    fresh on every call, so each store has its own; a stateless one is shared."""
    if not isinstance(name, str):
        return name
    dialect = _LOADED.get(name)
    if dialect is None:
        try:
            path = _MODULES[name]
        except KeyError:
            raise ValueError(f"unknown dialect {name!r}; known: {known_dialects()}") from None
        module = importlib.import_module(path)
        make = getattr(module, "make", None)
        if make is not None:
            made: Dialect = make()
            return made
        dialect = _LOADED[name] = module.DIALECT
    return dialect
