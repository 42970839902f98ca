"""The ``events`` table: every event in both directions, numbered in arrival order."""

from __future__ import annotations

from typing import Any

from ..events.records import Event
from .ids import Ids
from .table import ColumnTable

__all__ = ["EventLog"]

_INCOMING_ORDER = (
    "seq", "name", "direction", "dialect", "received_at", "server_time", "lag_ms",
    "chat_id", "visitor_id", "commercial_id", "message_id",  # ids.Ids, in this order
    "status", "server_seq", "delivery", "payload",
)  # fmt: skip
if Event._fields != _INCOMING_ORDER:  # pragma: no cover (fails at import, loudly)
    raise ImportError(f"EventLog.incoming builds {_INCOMING_ORDER}, Event is {Event._fields}")


class EventLog:
    """Appends ``events`` rows and hands out the session's event sequence numbers."""

    __slots__ = ("dialect", "seq", "table")

    def __init__(self, table: ColumnTable, dialect: str) -> None:
        self.table = table
        self.dialect = dialect
        self.seq = 0  # the last number given out

    def next(self) -> int:
        self.seq += 1
        return self.seq

    def take(self, n: int) -> int:
        """Reserve ``n`` numbers (the bulk path); returns the first."""
        first = self.seq + 1
        self.seq += n
        return first

    def incoming(
        self,
        seq: int,
        name: str,
        received_ts: float,
        server_time: float | None,
        lag_ms: float | None,
        ids: Ids,
        status: str,
        server_seq: int | None,
        delivery: str,
        raw: bytes,
    ) -> None:
        # a plain tuple in field order (checked once, above, so a new column cannot slip
        # in unseen): no keywords (~15% of a rebuild event by event), and the collector
        # stops tracking a plain tuple of plain values (see ColumnTable.append)
        self.table.append(
            (
                seq,
                name,
                "in",
                self.dialect,
                received_ts,
                server_time,
                lag_ms,
                *ids,
                status,
                server_seq,
                delivery,
                raw,
            )
        )

    def outgoing(self, seq: int, name: str, at: float, payload: dict[str, Any], raw: bytes) -> None:
        self.table.append(
            Event(
                seq=seq,
                name=name,
                direction="out",
                dialect=self.dialect,
                received_at=at,
                server_time=None,
                lag_ms=None,
                chat_id=payload.get("chatId"),
                visitor_id=payload.get("visitorId"),
                commercial_id=payload.get("commercialId"),
                message_id=None,
                status="ok",
                server_seq=None,
                delivery="live",
                payload=raw,
            )
        )
