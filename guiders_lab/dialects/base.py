"""The dialect seam: how one flavour of the Guiders protocol maps onto canonical records."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from ..events.records import Record

__all__ = ["Dialect", "Malformed", "to_epoch"]

_MAX_EPOCH_S = 253_402_300_799.0  # 9999-12-31: beyond it Arrow/pandas cannot hold the time


class Malformed(Exception):
    """A server event that does not match its schema; the reason goes to ``quarantine``."""


class Dialect(Protocol):
    """Everything dialect-specific lives behind this interface, at the edge of the kit."""

    name: str
    client_events: dict[str, type[msgspec.Struct]]
    server_events: dict[str, type[msgspec.Struct]]

    def decode(self, name: str, payload: Any, received_at: float) -> Record | None:
        """Turn one raw server event into a raw row (times as epoch seconds, see
        :mod:`guiders_lab.events.records`); ``None`` for an unknown event name.

        Raises :class:`Malformed` when a known event does not match its schema.
        """
        ...

    def decode_json(self, name: str, raw: bytes, received_at: float) -> Record | None:
        """:meth:`decode` for a payload given as JSON bytes (replays and rebuilds)."""
        ...


def to_epoch(value: datetime | float | None) -> float | None:
    """A wire timestamp (ISO datetime, or epoch seconds or ms) as epoch seconds (UTC;
    a time without an offset is read as UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, bool) or not math.isfinite(value):
        raise Malformed(f"timestamp must be a date or a finite number, got {value!r}")
    seconds = value / 1000.0 if abs(value) > 1e11 else float(value)
    if abs(seconds) > _MAX_EPOCH_S:
        raise Malformed(f"timestamp out of range: {value!r}")
    return seconds
