"""Which ids and which server time an event's row in ``events`` carries, per record type:
one rule, in its per-event form (:func:`event_ids`) and its columnar form for the bulk
path (:func:`event_id_columns`); tests hold the two equal.

Every incoming event passes :func:`event_ids`, so it takes a record's type once and
compares it. A type checker does not see that ``kind is Message`` says what ``record``
is: an assert under ``TYPE_CHECKING`` tells it, at no cost at run time (and as
``record.__class__ is Message``: mypy narrows a generic record to its own time type
through that test, to ``Any`` times through ``isinstance``). :func:`.intake.accept` does
the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ..dialects.base import EPOCH_RANGE_S
from ..events.records import (
    Assignment,
    ChatClosed,
    ChatCreated,
    LatencySample,
    Message,
    Presence,
    RawRecord,
    Typing,
    VisitorAction,
)

__all__ = [
    "NO_IDS",
    "SERVER_MS_RANGE",
    "SERVER_TIME_FIELD",
    "WALL_CLOCK_RECORDS",
    "Ids",
    "assignment_key",
    "event_id_columns",
    "event_ids",
]

Ids = tuple[str | None, str | None, str | None, str | None]  # chat, visitor, commercial, message
NO_IDS: Ids = (None, None, None, None)

# a server time (the ``serverTime`` of an event's second argument) outside 1970..9999 is junk
SERVER_MS_RANGE = (EPOCH_RANGE_S[0] * 1000.0, EPOCH_RANGE_S[1] * 1000.0)

# the record's own field that says when the server sent it, when the event has no serverTime
SERVER_TIME_FIELD: dict[type, str] = {
    Message: "sent_at",
    ChatCreated: "created_at",
    Assignment: "assigned_at",
    ChatClosed: "closed_at",
    Presence: "at",
    VisitorAction: "at",
    LatencySample: "server_time",  # a pong's serverTime
}
# records whose own time is the server's wall clock even on a simulator (whose domain times,
# e.g. a message's ``sent_at``, run on its compressed day; see ``Store.simulated_clock``)
WALL_CLOCK_RECORDS: frozenset[type] = frozenset({LatencySample})


def assignment_key(a: Assignment[float]) -> tuple[str, str, int] | None:
    """What makes an assignment the same one when it comes twice (e.g. read back over REST
    and pushed on the socket): chat, commercial and time (whole microseconds, as its table
    holds it). ``None`` without a time: such a row cannot be told apart, so it is kept."""
    if a.assigned_at is None:
        return None
    return (a.chat_id, a.commercial_id, round(a.assigned_at * 1_000_000.0))


def event_ids(record: RawRecord) -> Ids:
    """(chat_id, visitor_id, commercial_id, message_id) of one raw record."""
    kind = type(record)
    if kind is Message:
        if TYPE_CHECKING:
            assert record.__class__ is Message
        role = record.sender_role
        return (
            record.chat_id,
            record.sender_id if role == "visitor" else None,
            record.sender_id if role == "commercial" else None,
            record.message_id,
        )
    if kind is Presence:
        if TYPE_CHECKING:
            assert record.__class__ is Presence
        if record.role == "visitor":
            return None, record.person_id, None, None
        return None, None, record.person_id, None
    if kind is ChatCreated or kind is VisitorAction:
        if TYPE_CHECKING:
            assert record.__class__ is ChatCreated or record.__class__ is VisitorAction
        return record.chat_id, record.visitor_id, None, None
    if kind is Assignment:
        if TYPE_CHECKING:
            assert record.__class__ is Assignment
        return record.chat_id, None, record.commercial_id, None
    if kind is ChatClosed or kind is Typing:
        if TYPE_CHECKING:
            assert record.__class__ is ChatClosed or record.__class__ is Typing
        return record.chat_id, None, None, None
    return NO_IDS


def event_id_columns(
    kind: type[RawRecord] | None, table: pa.Table | None, n: int
) -> list[pa.Array[Any]]:
    """:func:`event_ids` of ``n`` records of one type, decoded into ``table``, as columns.
    (pyarrow-stubs want a Scalar where Arrow's compute functions take a Python value.)"""
    none = pa.nulls(n, pa.string())
    if kind is None or table is None:
        return [none, none, none, none]
    t = table
    if kind is Message:
        role, sender = t.column("sender_role"), t.column("sender_id")
        columns = [
            t.column("chat_id"),
            pc.if_else(pc.equal(role, "visitor"), sender, none),  # type: ignore[call-overload]
            pc.if_else(pc.equal(role, "commercial"), sender, none),  # type: ignore[call-overload]
            t.column("message_id"),
        ]
    elif kind is Presence:
        visitor = pc.equal(t.column("role"), "visitor")  # type: ignore[call-overload]
        person = t.column("person_id")
        columns = [none, pc.if_else(visitor, person, none), pc.if_else(visitor, none, person), none]
    elif kind is ChatCreated or kind is VisitorAction:
        columns = [t.column("chat_id"), t.column("visitor_id"), none, none]
    elif kind is Assignment:
        columns = [t.column("chat_id"), none, t.column("commercial_id"), none]
    elif kind is ChatClosed or kind is Typing:
        columns = [t.column("chat_id"), none, none, none]
    else:
        columns = [none, none, none, none]
    return [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in columns]
