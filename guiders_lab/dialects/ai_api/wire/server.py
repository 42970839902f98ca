"""Server -> client wire shapes of the ``ai-api`` dialect, and the records they become.

Incoming shapes are tolerant (unknown fields ignored, enum-like fields are plain ``str``
so a new value from the server is kept, not quarantined). :data:`RECORDS` says which
canonical record each server event becomes and where each of the record's fields is read
from: the per-event and the columnar decoders are both compiled from it
(:mod:`guiders_lab.dialects.rows`, :mod:`guiders_lab.dialects.columns`). Adding a field to
a table is an edit here (the wire field and where it goes) and in
:mod:`guiders_lab.events.records` (the column), nothing else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from ....events import records as r
from ....events.roles import AI_ROLES
from ...spec import AnyOf, Const, Equals, FirstOf, InSet, Joined, Json, Received, RecordSpec, Time

__all__ = ["RECORDS", "SERVER_EVENTS", "Int64", "Timestamp"]

Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]  # what Arrow can hold
Timestamp = datetime | Int64 | float  # ISO 8601 per the page; epoch numbers tolerated


class _In(msgspec.Struct, rename="camel", frozen=True, gc=False):
    """Incoming: tolerant of extra fields. Subclasses repeat ``frozen=True``: msgspec
    inherits it, but a type checker reads each class's own flags. ``gc=False``: they hold
    only strings, numbers and each other (no cycle), so the collector need not track
    the one decoded per captured event."""


class Sender(_In, frozen=True):
    id: str
    name: str | None = None
    role: str | None = None


class MessageMeta(_In, frozen=True):
    department: str | None = None
    urgency: str | None = None
    source: str | None = None
    ai_model: str | None = None
    confidence: float | None = None
    processing_time: float | None = None
    is_automated: bool | None = None


class MessageNew(_In, frozen=True):
    chat_id: str
    message_id: str
    content: str
    sender: Sender
    timestamp: Timestamp | None = None
    type: str = "user"
    metadata: MessageMeta | None = None


class VisitorRef(_In, frozen=True):
    id: str | None = None
    name: str | None = None


class ChatCreatedMeta(_In, frozen=True):
    source: str | None = None
    urgency: str | None = None
    language: str | None = None


class ChatCreated(_In, frozen=True):
    chat_id: str
    visitor_id: str | None = None
    visitor: VisitorRef | None = None
    department: str | None = None
    status: str | None = None
    created_at: Timestamp | None = None
    metadata: ChatCreatedMeta | None = None


class ChatAssigned(_In, frozen=True):
    chat_id: str
    commercial_id: str
    assigned_at: Timestamp | None = None
    assigned_by: str | None = None
    reason: str | None = None
    metadata: dict[str, Any] | None = None


class ChatClosedMeta(_In, frozen=True):
    converted: bool | None = None
    rating: float | None = None


class ChatClosed(_In, frozen=True):
    chat_id: str
    closed_at: Timestamp | None = None
    closed_by: str | None = None
    reason: str | None = None
    metadata: ChatClosedMeta | None = None


class VisitorOnlineMeta(_In, frozen=True):
    source: str | None = None
    returning: bool | None = None


class VisitorOnline(_In, frozen=True):
    visitor_id: str
    name: str | None = None
    page: str | None = None
    timestamp: Timestamp | None = None
    metadata: VisitorOnlineMeta | None = None


class CommercialStatus(_In, frozen=True):
    commercial_id: str
    status: str
    name: str | None = None
    active_chats: Int64 | None = None
    max_chats: Int64 | None = None
    specialties: list[str] | None = None
    timestamp: Timestamp | None = None


class VisitorActionIn(_In, frozen=True):
    visitor_id: str
    action: str
    chat_id: str | None = None
    page: str | None = None
    value: float | None = None
    timestamp: Timestamp | None = None


class Pong(_In, frozen=True):
    timestamp: Int64 | float
    server_time: Int64 | float | None = None


class TypingIn(_In, frozen=True):
    chat_id: str
    typer_id: str


class ErrorIn(_In, frozen=True):
    message: str
    code: str | Int64 | None = None
    event: str | None = None


SERVER_EVENTS: dict[str, type[msgspec.Struct]] = {
    "message:new": MessageNew,
    "chat:created": ChatCreated,
    "chat:assigned": ChatAssigned,
    "chat:closed": ChatClosed,
    "visitor:online": VisitorOnline,
    "commercial:status": CommercialStatus,
    "visitor:action": VisitorActionIn,
    "pong": Pong,
    "typing:start": TypingIn,
    "typing:stop": TypingIn,
    "error": ErrorIn,
}

_AT = Received()
_NONE = Const(None)

# server event -> the record it becomes, field by field (pong and error are read by hand
# in the dialect: a round trip to check, a code that may be a number)
RECORDS: dict[str, RecordSpec] = {
    "message:new": RecordSpec(
        MessageNew,
        r.Message,
        {
            "message_id": "message_id",
            "chat_id": "chat_id",
            "sent_at": Time("timestamp"),
            "received_at": _AT,
            "sender_id": "sender.id",
            "sender_role": "sender.role",
            "sender_name": "sender.name",
            "type": "type",
            "content": "content",
            "department": "metadata.department",
            "urgency": "metadata.urgency",
            "source": "metadata.source",
            "is_ai": AnyOf((Equals("type", "ai-response"), InSet("sender.role", AI_ROLES))),
            "ai_model": "metadata.ai_model",
            "confidence": "metadata.confidence",
            "processing_ms": "metadata.processing_time",
        },
    ),
    "chat:created": RecordSpec(
        ChatCreated,
        r.ChatCreated,
        {
            "chat_id": "chat_id",
            "visitor_id": FirstOf(("visitor_id", "visitor.id")),
            "visitor_name": "visitor.name",
            "department": "department",
            "status": "status",
            "created_at": Time("created_at"),
            "received_at": _AT,
            "source": "metadata.source",
            "priority": "metadata.urgency",
            "language": "metadata.language",
        },
    ),
    "chat:assigned": RecordSpec(
        ChatAssigned,
        r.Assignment,
        {
            "chat_id": "chat_id",
            "commercial_id": "commercial_id",
            "assigned_at": Time("assigned_at"),
            "received_at": _AT,
            "assigned_by": "assigned_by",
            "reason": "reason",
            "metadata": Json("metadata"),
        },
    ),
    "chat:closed": RecordSpec(
        ChatClosed,
        r.ChatClosed,
        {
            "chat_id": "chat_id",
            "closed_at": Time("closed_at"),
            "received_at": _AT,
            "closed_by": "closed_by",
            "reason": "reason",
            "converted": "metadata.converted",
            "rating": "metadata.rating",
        },
    ),
    "visitor:online": RecordSpec(
        VisitorOnline,
        r.Presence,
        {
            "at": Time("timestamp"),
            "received_at": _AT,
            "role": Const("visitor"),
            "person_id": "visitor_id",
            "name": "name",
            "status": Const("online"),
            "page": "page",
            "source": "metadata.source",
            "returning": "metadata.returning",
            "active_chats": _NONE,
            "max_chats": _NONE,
            "specialties": _NONE,
        },
    ),
    "commercial:status": RecordSpec(
        CommercialStatus,
        r.Presence,
        {
            "at": Time("timestamp"),
            "received_at": _AT,
            "role": Const("commercial"),
            "person_id": "commercial_id",
            "name": "name",
            "status": "status",
            "page": _NONE,
            "source": _NONE,
            "returning": _NONE,
            "active_chats": "active_chats",
            "max_chats": "max_chats",
            "specialties": Joined("specialties"),
        },
    ),
    "visitor:action": RecordSpec(
        VisitorActionIn,
        r.VisitorAction,
        {
            "visitor_id": "visitor_id",
            "chat_id": "chat_id",
            "action": "action",
            "page": "page",
            "value": "value",
            "at": Time("timestamp"),
            "received_at": _AT,
        },
    ),
    **{
        name: RecordSpec(
            TypingIn,
            r.Typing,
            {
                "chat_id": "chat_id",
                "typer_id": "typer_id",
                "state": Const(name.removeprefix("typing:")),
                "received_at": _AT,
            },
        )
        for name in ("typing:start", "typing:stop")
    },
}
