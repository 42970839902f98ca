"""The dialect seam: how one flavour of the Guiders protocol maps onto canonical records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
import pyarrow as pa

from ..events.records import LatencySample, RawRecord

__all__ = [
    "EPOCH_RANGE_S",
    "BatchRefused",
    "Dialect",
    "Malformed",
    "ping_round_trip",
    "to_epoch",
]

# times a chat event can sensibly carry, and Python, Arrow and pandas can all hold
EPOCH_RANGE_S = (0.0, 253_402_300_799.0)  # 1970-01-01 .. 9999-12-31


class Malformed(Exception):
    """A server event that does not match its schema; the reason goes to ``quarantine``."""


class BatchRefused(Exception):
    """A batch cannot be proven to decode exactly as event by event: decode it that way."""


class Dialect(Protocol):
    """Everything dialect-specific lives behind this interface, at the edge of the kit."""

    name: str
    client_events: dict[str, type[msgspec.Struct]]
    server_events: dict[str, type[msgspec.Struct]]
    # events decoded (validated) that have no canonical table: ``ok`` in ``events``,
    # neither ``unknown`` nor a record
    understood: frozenset[str]
    # events the kit read back over a history API (REST) rather than had pushed: their
    # ``delivery`` is ``backfill`` and they carry no event lag
    history: frozenset[str]
    # client events the backend has no way to take: bots in live mode record them as
    # shadow rows; sent explicitly they raise ``UnsupportedActionError``
    unsupported_actions: frozenset[str]

    def decode(self, name: str, payload: Any, received_at: float) -> RawRecord | None:
        """Turn one server event (``payload``: its JSON value, as parsed) into a raw row
        (times as epoch seconds, see :mod:`guiders_lab.events.records`); ``None`` for an
        unknown event name.

        Raises :class:`Malformed` when a known event does not match its schema.
        """
        ...

    def decode_json(self, name: str, raw: bytes, received_at: float) -> RawRecord | None:
        """:meth:`decode` for a payload given as JSON bytes (replays and rebuilds)."""
        ...

    def decode_columns(
        self, name: str, payloads: pa.Array[Any] | Sequence[bytes], received: pa.Array[Any]
    ) -> tuple[type[RawRecord], pa.Table] | None:
        """Many JSON payloads of one event name (a binary Arrow array), received at
        ``received`` (timestamps), straight to a record table, exactly as
        :meth:`decode_json` one by one would give, or ``None`` when this event has no
        columnar form. Raises :class:`BatchRefused` when that cannot be shown for this
        batch."""
        ...


def to_epoch(value: datetime | float | None) -> float | None:
    """A wire timestamp (ISO datetime, or epoch seconds or ms) as epoch seconds (UTC;
    a time without an offset is read as UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        seconds = value.timestamp()
    elif isinstance(value, bool) or not math.isfinite(value):
        raise Malformed(f"timestamp must be a date or a finite number, got {value!r}")
    else:
        seconds = value / 1000.0 if abs(value) > 1e11 else float(value)
    if not EPOCH_RANGE_S[0] <= seconds <= EPOCH_RANGE_S[1]:
        raise Malformed(f"timestamp out of range (1970..9999): {value!r}")
    return seconds


_MAX_RTT_MS = 3_600_000.0  # an answer to a ping older than an hour is not ours


def ping_round_trip(
    name: str, ping_ms: float, server_ms: float | None, received_at: float
) -> LatencySample[float]:
    """A ``ping`` row of ``latency`` from the echo of our own ping's time (``ping_ms``,
    epoch ms) received at ``received_at``, with the server's clock when it said one. A
    round trip outside 0 ms..1 h is junk that would poison the means (a timestamp of 1e308
    gave -1e308 ms): :class:`Malformed`."""
    rtt = received_at * 1000.0 - float(ping_ms)
    if not -1.0 <= rtt <= _MAX_RTT_MS:  # -1: our clock's rounding
        raise Malformed(f"{name} timestamp {ping_ms!r} is not one of our pings")
    server_time = None
    if (
        server_ms is not None
        and EPOCH_RANGE_S[0] * 1000.0 <= server_ms <= EPOCH_RANGE_S[1] * 1000.0
    ):
        server_time = float(server_ms) / 1000.0
    return LatencySample(
        at=received_at, kind="ping", name=name, value_ms=rtt, n=1, max_ms=rtt,
        server_time=server_time,
    )  # fmt: skip
