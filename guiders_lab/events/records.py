"""Canonical records: one immutable, snake_case row per fact, whatever the dialect.

A record *is* a table row: each class below is the schema of the table of the same
meaning (``Message`` -> ``messages``). They are ``NamedTuple`` rather than dataclasses
because the capture path builds one per event and transposes thousands at a time into
Arrow columns (``zip(*rows)``), which tuples make nearly free. They are still immutable,
typed, and have ``_asdict()`` / ``_replace()``.

Records handed to users (bots, ``ChatLedger.get``) carry timezone-aware UTC ``datetime``.
Inside the store the same classes travel in *raw form*, with every time field as epoch
seconds (a float): creating and converting a million ``datetime`` objects would cost more
than all the rest of capture. The types say which is which: every record is generic in
its time type, ``Message[float]`` in raw form and ``Message[datetime]`` for users, and
:func:`as_record` turns the one into the other.

Columns are the public API: rename nothing without a schema version bump.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Generic, NamedTuple, TypeVar, overload

__all__ = [
    "UNDECODABLE",
    "Action",
    "Assignment",
    "ChatClosed",
    "ChatCreated",
    "Event",
    "JsonText",
    "LatencySample",
    "Message",
    "Presence",
    "Quarantined",
    "RawRecord",
    "Record",
    "ServerError",
    "Time",
    "Typing",
    "VisitorAction",
    "as_record",
    "time_fields",
]

# a record's time type: epoch seconds in raw form (the store), ``datetime`` for users
Time = TypeVar("Time", float, datetime)
JsonText = str | bytes  # JSON text, kept as the bytes it arrived as inside the store

# Name given to a frame the transport could not even split into (event, args).
UNDECODABLE = "__undecodable__"


class Event(NamedTuple, Generic[Time]):
    """Every event in either direction, raw payload kept (``events`` table)."""

    seq: int
    name: str
    direction: str  # "in" | "out"
    dialect: str
    received_at: Time
    server_time: Time | None
    lag_ms: float | None
    chat_id: str | None
    visitor_id: str | None
    commercial_id: str | None
    message_id: str | None
    status: str  # "ok" | "duplicate" | "quarantined" | "unknown"
    server_seq: int | None
    # "live": sent while this connection was up; "resync": sent before it opened and
    # re-delivered after a reconnect (left out of event-lag statistics)
    delivery: str
    payload: JsonText


class Message(NamedTuple, Generic[Time]):
    """A chat message from anyone: visitor, commercial, AI or system (``messages``)."""

    message_id: str
    chat_id: str
    sent_at: Time | None
    received_at: Time
    sender_id: str | None
    sender_role: str | None
    sender_name: str | None
    type: str
    content: str
    department: str | None
    urgency: str | None
    source: str | None
    is_ai: bool
    ai_model: str | None
    confidence: float | None
    processing_ms: float | None


class ChatCreated(NamedTuple, Generic[Time]):
    """A visitor opened a chat (feeds the ``chats`` table)."""

    chat_id: str
    visitor_id: str | None
    visitor_name: str | None
    department: str | None
    status: str | None
    created_at: Time | None
    received_at: Time
    source: str | None
    priority: str | None  # as the chat was opened with (ai-api: metadata.urgency)
    language: str | None


class Assignment(NamedTuple, Generic[Time]):
    """A chat was given to a commercial (``assignments``)."""

    chat_id: str
    commercial_id: str
    assigned_at: Time | None
    received_at: Time
    assigned_by: str | None
    reason: str | None
    metadata: str | None  # JSON text


class ChatClosed(NamedTuple, Generic[Time]):
    """A chat ended: resolved, abandoned or timed out (feeds ``chats``)."""

    chat_id: str
    closed_at: Time | None
    received_at: Time
    closed_by: str | None
    reason: str | None
    converted: bool | None
    rating: float | None


class Presence(NamedTuple, Generic[Time]):
    """A visitor came online or a commercial changed status (``presence``)."""

    at: Time | None
    received_at: Time
    role: str  # "visitor" | "commercial"
    person_id: str
    name: str | None
    status: str
    page: str | None
    source: str | None
    returning: bool | None
    active_chats: int | None
    max_chats: int | None
    specialties: str | None  # comma-separated, sorted as sent


class VisitorAction(NamedTuple, Generic[Time]):
    """A visitor did something on the site (``visitor_actions``)."""

    visitor_id: str
    chat_id: str | None
    action: str
    page: str | None
    value: float | None
    at: Time | None
    received_at: Time


class Typing(NamedTuple, Generic[Time]):
    """Someone started or stopped typing in a chat room (``typing_events``)."""

    chat_id: str
    typer_id: str
    state: str  # "start" | "stop"
    received_at: Time


class ServerError(NamedTuple, Generic[Time]):
    """The server's ``error`` event, e.g. for a rejected emit (``errors``)."""

    code: str | None
    message: str
    event: str | None
    received_at: Time


class LatencySample(NamedTuple, Generic[Time]):
    """A ping round trip, an ack round trip, or a window of event lag (``latency``)."""

    at: Time
    kind: str  # "ping" | "ack" | "event_lag"
    name: str | None
    value_ms: float
    n: int
    max_ms: float
    server_time: Time | None  # the server's clock when it answered a ping, if it said


class Action(NamedTuple, Generic[Time]):
    """Something the client did or, in shadow mode, would have done (``actions``)."""

    action_id: int
    bot: str | None
    mode: str  # "live" | "shadow"
    name: str
    chat_id: str | None
    payload: str  # JSON text
    trigger_seq: int | None
    decided_at: Time
    acked_at: Time | None
    ok: bool | None
    error_code: str | None
    error_message: str | None
    ack_ms: float | None
    processing_ms: float | None


class Quarantined(NamedTuple, Generic[Time]):
    """An event that could not be understood, with the reason (``quarantine``)."""

    received_at: Time
    name: str
    reason: str
    payload: str  # JSON or repr, truncated
    size_bytes: int


Record = (
    Message[datetime]
    | ChatCreated[datetime]
    | Assignment[datetime]
    | ChatClosed[datetime]
    | Presence[datetime]
    | VisitorAction[datetime]
    | Typing[datetime]
    | ServerError[datetime]
    | LatencySample[datetime]
)  # what bots and subscribers get
RawRecord = (
    Message[float]
    | ChatCreated[float]
    | Assignment[float]
    | ChatClosed[float]
    | Presence[float]
    | VisitorAction[float]
    | Typing[float]
    | ServerError[float]
    | LatencySample[float]
)  # what a dialect decodes and the store keeps


def _time_fields(row_type: type[NamedTuple]) -> tuple[str, ...]:
    """Names of the time fields of a record type (epoch floats in raw form)."""
    hints = typing.get_type_hints(row_type)
    return tuple(
        name
        for name in row_type._fields
        if hints[name] in (Time, datetime) or {Time, datetime} & set(typing.get_args(hints[name]))
    )


# cached per class (typed as a plain function: see ``schema.arrow_schema``)
time_fields: Callable[[type[NamedTuple]], tuple[str, ...]] = cache(_time_fields)


def _from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@overload
def as_record(row: Message[float]) -> Message[datetime]: ...
@overload
def as_record(row: ChatCreated[float]) -> ChatCreated[datetime]: ...
@overload
def as_record(row: Assignment[float]) -> Assignment[datetime]: ...
@overload
def as_record(row: ChatClosed[float]) -> ChatClosed[datetime]: ...
@overload
def as_record(row: Presence[float]) -> Presence[datetime]: ...
@overload
def as_record(row: VisitorAction[float]) -> VisitorAction[datetime]: ...
@overload
def as_record(row: Typing[float]) -> Typing[datetime]: ...
@overload
def as_record(row: ServerError[float]) -> ServerError[datetime]: ...
@overload
def as_record(row: LatencySample[float]) -> LatencySample[datetime]: ...
@overload
def as_record(row: RawRecord) -> Record: ...
@overload
def as_record(row: NamedTuple) -> NamedTuple: ...  # another row generic in Time (ChatRow)
def as_record(row: NamedTuple) -> NamedTuple:
    """A raw row (epoch-second times) as a user-facing record (``datetime`` times)."""
    names = time_fields(type(row))
    if not names:
        return row
    values = {name: _from_epoch(getattr(row, name)) for name in names}
    return row._replace(**values)
