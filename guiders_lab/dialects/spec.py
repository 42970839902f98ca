"""How a record is read from a wire shape: a small declarative vocabulary.

A dialect says, for each server event, which record it becomes and where each record
field comes from in the wire Struct (``RecordSpec``). From that one statement
:mod:`.rows` compiles the per-event decoder (live capture) and :mod:`.columns` the
columnar one (rebuilds, replays), so the two cannot drift apart, and adding a field is an
edit to the record and to the dialect's wire module, nothing else. This module holds only
data classes: the simulator may read dialect wire modules that use it.

Paths are the wire Struct's Python attribute names, dotted through nested Structs
(``"sender.id"``, ``"metadata.department"``); a missing (``None``) step gives ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..events.records import RawRecord

__all__ = [
    "AnyOf",
    "Const",
    "Equals",
    "FirstOf",
    "InSet",
    "Joined",
    "Json",
    "Lower",
    "Received",
    "RecordSpec",
    "Source",
    "Time",
]


@dataclass(frozen=True)
class Time:
    """A wire timestamp (ISO 8601, or epoch seconds or ms) as epoch seconds."""

    path: str


@dataclass(frozen=True)
class Received:
    """When the client received the event."""


@dataclass(frozen=True)
class Const:
    """The same value for every event of this kind."""

    value: Any


@dataclass(frozen=True)
class FirstOf:
    """The first of these paths holding a non-empty value (``a or b``)."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class Joined:
    """A list of strings joined with ``sep`` (``None`` stays ``None``)."""

    path: str
    sep: str = ","


@dataclass(frozen=True)
class Json:
    """A nested object kept as JSON text (``None`` or empty: ``None``)."""

    path: str


@dataclass(frozen=True)
class Lower:
    """A string in lower case (the deployed backend's ``PENDING`` is the kit's
    ``pending``: lossless, the original is its upper case)."""

    path: str


@dataclass(frozen=True)
class Equals:
    """Whether the value at ``path`` equals ``value``."""

    path: str
    value: Any


@dataclass(frozen=True)
class InSet:
    """Whether the value at ``path`` is one of ``values``."""

    path: str
    values: frozenset[str]


@dataclass(frozen=True)
class AnyOf:
    """Whether any of these tests holds."""

    tests: tuple[Equals | InSet, ...]


Source = str | Time | Received | Const | FirstOf | Joined | Json | Lower | AnyOf


@dataclass(frozen=True)
class RecordSpec:
    """Event ``wire`` becomes a ``record``; ``fields`` says where each record field comes
    from (every record field must be listed, in any order)."""

    wire: type[msgspec.Struct]
    record: type[RawRecord]  # the class: its rows are raw (epoch-second times)
    fields: dict[str, Source] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = set(self.record._fields) - set(self.fields)
        extra = set(self.fields) - set(self.record._fields)
        if missing or extra:
            raise TypeError(
                f"{self.record.__name__} from {self.wire.__name__}: "
                f"missing {sorted(missing)}, unknown {sorted(extra)}"
            )
