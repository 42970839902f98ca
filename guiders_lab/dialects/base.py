"""The dialect seam: how one flavour of the Guiders protocol maps onto canonical records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec

from ..events.records import Record

__all__ = ["Dialect", "Malformed", "to_utc"]


class Malformed(Exception):
    """A server event that does not match its schema; the reason goes to ``quarantine``."""


class Dialect(Protocol):
    """Everything dialect-specific lives behind this interface, at the edge of the kit."""

    name: str
    client_events: dict[str, type[msgspec.Struct]]
    server_events: dict[str, type[msgspec.Struct]]

    def decode(self, name: str, payload: Any, received_at: datetime) -> Record | None:
        """Turn one raw server event into a record; ``None`` for an unknown event name.

        Raises :class:`Malformed` when a known event does not match its schema.
        """
        ...


def to_utc(value: datetime | float | None) -> datetime | None:
    """Normalise a wire timestamp (ISO datetime or epoch seconds/ms) to aware UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if value.tzinfo is UTC:
            return value
        return value.astimezone(UTC)
    if isinstance(value, bool):
        raise Malformed("timestamp must be a date or a number, got bool")
    seconds = value / 1000.0 if abs(value) > 1e11 else float(value)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Malformed(f"timestamp out of range: {value!r}") from exc
