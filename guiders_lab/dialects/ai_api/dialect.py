"""The ``ai-api`` decoder: server events to canonical records, per event and in bulk.

Both decoders are compiled from :data:`.wire.RECORDS`; only the pong (a round trip to
check against our own ping) and the server's ``error`` (a code that may be a number) are
read by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import pyarrow as pa

from ...events.records import LatencySample, RawRecord, ServerError
from ..base import Malformed, ping_round_trip
from ..columns import ColumnarDecoder, columnar_decoder, decode_with
from ..rows import RowBuilder, compile_row
from . import wire

__all__ = ["AI_API", "COLUMNAR_EVENTS", "AiApiDialect"]

# the events common enough to decode in bulk (rarer ones go event by event)
COLUMNAR_EVENTS = (
    "message:new",
    "chat:created",
    "chat:closed",
    "visitor:online",
    "commercial:status",
    "visitor:action",
)


def _pong(p: wire.Pong, received_at: float) -> LatencySample[float]:
    return ping_round_trip("pong", p.timestamp, p.server_time, received_at)


def _error(e: wire.ErrorIn, received_at: float) -> ServerError[float]:
    return ServerError(
        code=None if e.code is None else str(e.code),
        message=e.message,
        event=e.event,
        received_at=received_at,
    )


class AiApiDialect:
    """Decoder for the reference page's events (the default dialect)."""

    name = "ai-api"
    client_events = wire.CLIENT_EVENTS
    server_events = wire.SERVER_EVENTS
    understood: frozenset[str] = frozenset()  # every known event has its table
    history: frozenset[str] = frozenset()  # everything is pushed
    unsupported_actions: frozenset[str] = frozenset()

    def __init__(self) -> None:
        builders: dict[str, RowBuilder] = {n: compile_row(s) for n, s in wire.RECORDS.items()}
        builders["pong"] = _pong
        builders["error"] = _error
        # one decoder per event: validation into the wire Struct, then the record
        self._decoders = {
            name: (msgspec.convert, wire.SERVER_EVENTS[name], build)
            for name, build in builders.items()
        }
        self._json_decoders = {
            name: (msgspec.json.Decoder(wire.SERVER_EVENTS[name]).decode, build)
            for name, build in builders.items()
        }
        self._columnar: dict[str, ColumnarDecoder] = {
            name: columnar_decoder(wire.RECORDS[name]) for name in COLUMNAR_EVENTS
        }

    def decode(self, name: str, payload: Any, received_at: float) -> RawRecord | None:
        entry = self._decoders.get(name)
        if entry is None:
            return None
        convert, schema, build = entry
        try:
            shape = convert(payload, schema)
        except msgspec.ValidationError as exc:
            raise Malformed(str(exc)) from None
        return build(shape, received_at)

    def decode_json(self, name: str, raw: bytes, received_at: float) -> RawRecord | None:
        entry = self._json_decoders.get(name)
        if entry is None:
            return None
        decode, build = entry
        try:
            shape = decode(raw)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise Malformed(str(exc)) from None
        return build(shape, received_at)

    def decode_columns(
        self, name: str, payloads: pa.Array[Any] | Sequence[bytes], received: pa.Array[Any]
    ) -> tuple[type[RawRecord], pa.Table] | None:
        """Bulk paths: many payloads of one event name straight to Arrow columns."""
        decoder = self._columnar.get(name)
        return None if decoder is None else decode_with(decoder, payloads, received)

    def __repr__(self) -> str:
        return "<Dialect ai-api>"


AI_API = AiApiDialect()
DIALECT = AI_API  # what guiders_lab.dialects.get_dialect("ai-api") returns
