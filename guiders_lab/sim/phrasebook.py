"""The simulator's phrase data: ``phrases/<lang>.json`` and ``phrases/shared.json``.

The phrases are data, so editing them (a new complaint, a third language) needs no code
change. Lists keep their order: ``rng.choice`` over the same list gives the same phrase for
the same random state, which is what keeps a seeded simulation reproducible.

Notes for editors of the files: Spanish products and gadgets are all masculine singular so
templates can say "el {product}"; templates stay unambiguous in sentiment (neutral
questions, clear complaints, clearly happy messages) because the generated chats double as
a labelled set for sentiment and escalation scorers; ``{slot}`` names are the keys of
``vocab`` (per language or shared) plus ``order``, ``amount``, ``days`` and ``minutes``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["DEPARTMENTS", "LANGUAGES", "MOODS", "Phrases", "Shared", "phrases", "shared"]

DEPARTMENTS: tuple[str, ...] = ("sales", "support", "billing", "technical")
LANGUAGES: tuple[str, ...] = ("es", "en")
MOODS: tuple[str, ...] = ("neutral", "complaint", "positive")
ANGER_LEVELS: tuple[int, ...] = (1, 2, 3)

Pool = tuple[str, ...]
_PACKAGE = __name__.rpartition(".")[0]


@dataclass(frozen=True)
class Phrases:
    """Everything written in one language."""

    first_names: Pool
    surnames: Pool
    vocab: Mapping[str, Pool]
    openings: Mapping[tuple[str, str], Pool]  # (department, mood)
    follow_ups: Mapping[int, Pool]  # anger level 1..3
    gives_up: Pool
    replies: Mapping[str, Pool]  # mood
    after_ai: Mapping[bool, Pool]  # satisfied?
    thanks: Pool
    greetings: Pool
    answers: Mapping[str, Pool]  # department
    apologies: Pool
    closings: Pool


@dataclass(frozen=True)
class Shared:
    """Language-independent data: site paths per department and their slot words."""

    pages: Mapping[str, Pool]
    vocab: Mapping[str, Pool]


class PhraseFileError(ValueError):
    """A phrase file is missing a section or has one of the wrong shape."""


def _read(name: str) -> dict[str, Any]:
    text = resources.files(_PACKAGE).joinpath("phrases", name).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise PhraseFileError(f"phrases/{name}: expected a JSON object")
    return data


def _pool(data: Any, where: str) -> Pool:
    if not (isinstance(data, list) and data and all(isinstance(s, str) for s in data)):
        raise PhraseFileError(f"{where}: expected a non-empty list of strings")
    return tuple(data)


def _section(data: Any, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != set(keys):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise PhraseFileError(f"{where}: expected the keys {list(keys)}, found {found}")
    return data


def _pools(data: Any, keys: tuple[str, ...], where: str) -> dict[str, Pool]:
    section = _section(data, keys, where)
    return {key: _pool(section[key], f"{where}.{key}") for key in keys}


def _vocab(data: Any, where: str) -> dict[str, Pool]:
    if not isinstance(data, dict):
        raise PhraseFileError(f"{where}: expected an object of word lists")
    return {key: _pool(words, f"{where}.{key}") for key, words in data.items()}


@functools.cache
def phrases(lang: str) -> Phrases:
    """The phrases of one of :data:`LANGUAGES` (read once, then cached)."""
    name = f"{lang}.json"
    d = _read(name)
    by_department = _section(d.get("openings"), DEPARTMENTS, f"{name}: openings")
    openings = {
        (dept, mood): pool
        for dept in DEPARTMENTS
        for mood, pool in _pools(by_department[dept], MOODS, f"{name}: openings.{dept}").items()
    }
    follow_ups = _pools(d.get("follow_ups"), tuple(map(str, ANGER_LEVELS)), f"{name}: follow_ups")
    after_ai = _pools(d.get("after_ai"), ("satisfied", "unsatisfied"), f"{name}: after_ai")
    return Phrases(
        first_names=_pool(d.get("first_names"), f"{name}: first_names"),
        surnames=_pool(d.get("surnames"), f"{name}: surnames"),
        vocab=_vocab(d.get("vocab"), f"{name}: vocab"),
        openings=openings,
        follow_ups={int(level): pool for level, pool in follow_ups.items()},
        gives_up=_pool(d.get("gives_up"), f"{name}: gives_up"),
        replies=_pools(d.get("replies"), MOODS, f"{name}: replies"),
        after_ai={True: after_ai["satisfied"], False: after_ai["unsatisfied"]},
        thanks=_pool(d.get("thanks"), f"{name}: thanks"),
        greetings=_pool(d.get("greetings"), f"{name}: greetings"),
        answers=_pools(d.get("answers"), DEPARTMENTS, f"{name}: answers"),
        apologies=_pool(d.get("apologies"), f"{name}: apologies"),
        closings=_pool(d.get("closings"), f"{name}: closings"),
    )


@functools.cache
def shared() -> Shared:
    """Site paths and the slot words they use (read once, then cached)."""
    d = _read("shared.json")
    return Shared(
        pages=_pools(d.get("pages"), DEPARTMENTS, "shared.json: pages"),
        vocab=_vocab(d.get("vocab"), "shared.json: vocab"),
    )
