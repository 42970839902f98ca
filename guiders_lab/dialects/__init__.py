"""Protocol dialects: ``ai-api`` (the reference page) and, later, ``guiders-v2``."""

from __future__ import annotations

from .ai_api import AI_API, AiApiDialect
from .base import Dialect, Malformed, to_epoch

__all__ = ["AI_API", "AiApiDialect", "Dialect", "Malformed", "get_dialect", "to_epoch"]

_DIALECTS: dict[str, Dialect] = {AI_API.name: AI_API}


def get_dialect(name: str | Dialect) -> Dialect:
    """Look a dialect up by name; a Dialect instance is returned as is."""
    if not isinstance(name, str):
        return name
    try:
        return _DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; known: {sorted(_DIALECTS)}") from None
