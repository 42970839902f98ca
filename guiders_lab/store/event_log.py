"""The ``events`` table: every event in both directions, numbered in arrival order."""

from __future__ import annotations

from typing import Any

from ..events.records import Event
from .ids import Ids
from .table import ColumnTable

__all__ = ["EventLog"]


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
        chat_id, visitor_id, commercial_id, message_id = ids
        self.table.append(
            Event(
                seq=seq,
                name=name,
                direction="in",
                dialect=self.dialect,
                received_at=received_ts,
                server_time=server_time,
                lag_ms=lag_ms,
                chat_id=chat_id,
                visitor_id=visitor_id,
                commercial_id=commercial_id,
                message_id=message_id,
                status=status,
                server_seq=server_seq,
                delivery=delivery,
                payload=raw,
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
