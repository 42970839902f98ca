"""Server -> client shapes of the ``guiders-v2`` dialect (socket events and REST bodies),
and the records they become.

Taken from the deployed backend's source (``RogerPugaRuiz/guiders-backend``: the gateway
``src/websocket/websocket.gateway.ts``, the ``notify-*-on-*.event-handler.ts`` files and
the v2 DTOs). Shapes are tolerant like the ai-api ones: unknown fields are ignored and
enum-like fields are plain ``str``, so a new status is kept, not quarantined. REST results
the kit fetches (backfill, status polls) enter the journal as ``rest:*`` events carrying
the REST object as it came, so a recording replays them exactly.

:data:`RECORDS` holds the events decoded declaratively; messages are built by the
dialect (a sender's role depends on which chat's visitor it is) and :data:`UNDERSTOOD`
lists the events that are validated but have no canonical table (they stay in ``events``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from ....events import records as r
from ...spec import Const, FirstOf, Json, Lower, Received, RecordSpec, Time
from .notices import (
    Availability,
    ChatStatus,
    RoomJoined,
    UnreadCount,
    ViewChanged,
    Welcome,
)

__all__ = ["RECORDS", "SERVER_EVENTS", "UNDERSTOOD"]

Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Timestamp = datetime | Int64 | float  # domain events: ISO 8601; gateway: epoch ms


class _In(msgspec.Struct, rename="camel", frozen=True, gc=False):
    """Incoming: tolerant of extra fields; decoded JSON is a tree (no cycle), so the
    collector need not track them (``gc=False``)."""


# ---------------------------------------------------------------- messages
class AiMetadata(_In, frozen=True):
    model: str | None = None
    confidence: float | None = None
    processing_time_ms: float | None = None


class Attachment(_In, frozen=True):
    url: str | None = None
    file_name: str | None = None
    file_size: Int64 | None = None
    mime_type: str | None = None


class MessageNew(_In, frozen=True):
    """``message:new`` (notify-message-sent-on-message-sent.event-handler.ts)."""

    message_id: str
    chat_id: str
    sender_id: str
    content: str = ""
    type: str = "TEXT"
    is_internal: bool = False
    is_first_response: bool = False
    sent_at: Timestamp | None = None
    attachment: Attachment | None = None
    is_ai: bool = False
    ai_metadata: AiMetadata | None = None


class RestMessage(_In, frozen=True):
    """``rest:message``: a MessageResponseDto (``GET /api/v2/messages/chat/{id}``)."""

    id: str
    chat_id: str
    sender_id: str
    content: str = ""
    type: str = "TEXT"
    is_internal: bool = False
    created_at: Timestamp | None = None
    attachment: Attachment | None = None
    is_ai: bool = False
    ai_metadata: AiMetadata | None = None


# ---------------------------------------------------------------- chats
class VisitorInfo(_In, frozen=True):
    id: str | None = None
    name: str | None = None


class ChatMeta(_In, frozen=True):
    department: str | None = None
    source: str | None = None


class ChatCreated(_In, frozen=True):
    """``chat:created`` (notify-chat-created-on-chat-created.event-handler.ts)."""

    chat_id: str
    visitor_id: str | None = None
    status: str | None = None
    priority: str | None = None
    visitor_info: VisitorInfo | None = None
    metadata: ChatMeta | None = None
    created_at: Timestamp | None = None


class CommercialRef(_In, frozen=True):
    id: str | None = None
    name: str | None = None


class CommercialAssigned(_In, frozen=True):
    """``chat:commercial-assigned`` (notify-commercial-assigned-on-commercial-assigned)."""

    chat_id: str
    commercial_id: str
    visitor_id: str | None = None
    status: str | None = None
    assigned_at: Timestamp | None = None
    assignment_reason: str | None = None
    commercial: CommercialRef | None = None


class RestChat(_In, frozen=True):
    """``rest:chat`` / ``rest:chat-assigned`` / ``rest:chat-closed``: a ChatResponseDto
    (``GET /api/v2/chats``, ``GET /api/v2/chats/{id}``)."""

    id: str
    status: str | None = None
    priority: str | None = None
    visitor_id: str | None = None
    visitor_info: VisitorInfo | None = None
    assigned_commercial_id: str | None = None
    assigned_commercial: CommercialRef | None = None
    department: str | None = None
    metadata: ChatMeta | None = None
    created_at: Timestamp | None = None
    assigned_at: Timestamp | None = None
    closed_at: Timestamp | None = None
    satisfaction_rating: float | None = None


# ---------------------------------------------------------------- people and visitors
class PresenceChanged(_In, frozen=True):
    """``presence:changed`` (notify-presence-changed-on-presence-changed)."""

    user_id: str
    user_type: str
    status: str
    previous_status: str | None = None
    timestamp: Timestamp | None = None
    tenant_id: str | None = None
    chat_id: str | None = None
    affected_chat_ids: list[str] | None = None


class PageChanged(_In, frozen=True):
    """``visitor:page-changed`` (to the assigned commercial's room)."""

    visitor_id: str
    chat_id: str | None = None
    previous_page: str | None = None
    current_page: str | None = None
    timestamp: Timestamp | None = None


class LeadScore(_In, frozen=True):
    score: float | None = None
    tier: str | None = None  # "hot" when this event fires


class HighIntent(_In, frozen=True):
    """``visitor:high-intent`` (tenant room; nothing publishes it today)."""

    visitor_id: str
    fingerprint: str | None = None
    site_id: str | None = None
    lead_score: LeadScore | None = None
    timestamp: Timestamp | None = None


class EscalationRequested(_In, frozen=True):
    """``chat:escalation-requested`` (to ``commercial:{id}``)."""

    chat_id: str
    visitor_id: str | None = None
    company_id: str | None = None
    message: str | None = None
    reason: str | None = None
    chat_url: str | None = None
    timestamp: Timestamp | None = None


class Typing(_In, frozen=True):
    """``typing:start`` / ``typing:stop``, relayed to the room's others."""

    chat_id: str
    user_id: str
    user_type: str | None = None
    timestamp: Timestamp | None = None


class HealthCheckAck(_In, frozen=True):
    """``ack:health-check``: the gateway's answer to our ``health-check`` (the heartbeat's
    ping: the backend has no ``ping``), ``{status, timestamp: epoch ms, uptime, message}``,
    with ``ping``, the time we asked (epoch ms), added by the kit."""

    ping: Int64 | float
    timestamp: Int64 | float | None = None
    status: str | None = None


class ErrorIn(_In, frozen=True):
    """``error`` from the gateway: ``{message, timestamp: epoch ms}``."""

    message: str
    timestamp: Timestamp | None = None


SERVER_EVENTS: dict[str, type[msgspec.Struct]] = {
    "message:new": MessageNew,
    "rest:message": RestMessage,
    "chat:created": ChatCreated,
    "chat:commercial-assigned": CommercialAssigned,
    "rest:chat": RestChat,
    "rest:chat-assigned": RestChat,
    "rest:chat-closed": RestChat,
    "presence:changed": PresenceChanged,
    "visitor:page-changed": PageChanged,
    "visitor:high-intent": HighIntent,
    "chat:escalation-requested": EscalationRequested,
    "typing:start": Typing,
    "typing:stop": Typing,
    "error": ErrorIn,
    "ack:health-check": HealthCheckAck,
    "welcome": Welcome,
    **{
        f"{room}:{what}": RoomJoined
        for room in ("tenant", "presence", "chat", "visitor")
        for what in ("joined", "left")
    },
    "chat:unread_count": UnreadCount,
    "chat:view-opened": ViewChanged,
    "chat:view-closed": ViewChanged,
    "commercial:availability-changed": Availability,
    "chat:status": ChatStatus,
}

# validated, kept in ``events``, no canonical table
UNDERSTOOD = frozenset(
    {
        "welcome",
        *(
            f"{room}:{what}"
            for room in ("tenant", "presence", "chat", "visitor")
            for what in ("joined", "left")
        ),
        "chat:unread_count",
        "chat:view-opened",
        "chat:view-closed",
        "commercial:availability-changed",
        "chat:status",
    }
)

_AT = Received()
_NONE = Const(None)


def _visitor_action(wire: type[msgspec.Struct], action: str, page: Any, value: Any) -> RecordSpec:
    return RecordSpec(
        wire,
        r.VisitorAction,
        {
            "visitor_id": "visitor_id",
            "chat_id": "chat_id" if action != "high_intent" else _NONE,
            "action": Const(action),
            "page": page,
            "value": value,
            "at": Time("timestamp"),
            "received_at": _AT,
        },
    )


RECORDS: dict[str, RecordSpec] = {
    "chat:created": RecordSpec(
        ChatCreated,
        r.ChatCreated,
        {
            "chat_id": "chat_id",
            "visitor_id": FirstOf(("visitor_id", "visitor_info.id")),
            "visitor_name": "visitor_info.name",
            "department": "metadata.department",
            "status": Lower("status"),
            "created_at": Time("created_at"),
            "received_at": _AT,
            "source": "metadata.source",
            "priority": Lower("priority"),
            "language": _NONE,
        },
    ),
    "rest:chat": RecordSpec(
        RestChat,
        r.ChatCreated,
        {
            "chat_id": "id",
            "visitor_id": FirstOf(("visitor_id", "visitor_info.id")),
            "visitor_name": "visitor_info.name",
            "department": FirstOf(("metadata.department", "department")),
            "status": Lower("status"),
            "created_at": Time("created_at"),
            "received_at": _AT,
            "source": "metadata.source",
            "priority": Lower("priority"),
            "language": _NONE,
        },
    ),
    "chat:commercial-assigned": RecordSpec(
        CommercialAssigned,
        r.Assignment,
        {
            "chat_id": "chat_id",
            "commercial_id": "commercial_id",
            "assigned_at": Time("assigned_at"),
            "received_at": _AT,
            "assigned_by": "assignment_reason",
            "reason": _NONE,
            "metadata": Json("commercial"),
        },
    ),
    "presence:changed": RecordSpec(
        PresenceChanged,
        r.Presence,
        {
            "at": Time("timestamp"),
            "received_at": _AT,
            "role": "user_type",
            "person_id": "user_id",
            "name": _NONE,
            "status": "status",
            "page": _NONE,
            "source": _NONE,
            "returning": _NONE,
            "active_chats": _NONE,
            "max_chats": _NONE,
            "specialties": _NONE,
        },
    ),
    "visitor:page-changed": _visitor_action(PageChanged, "page_view", "current_page", _NONE),
    "visitor:high-intent": _visitor_action(HighIntent, "high_intent", _NONE, "lead_score.score"),
    "chat:escalation-requested": _visitor_action(
        EscalationRequested, "escalation_requested", "chat_url", _NONE
    ),
    **{
        name: RecordSpec(
            Typing,
            r.Typing,
            {
                "chat_id": "chat_id",
                "typer_id": "user_id",
                "state": Const(name.removeprefix("typing:")),
                "received_at": _AT,
            },
        )
        for name in ("typing:start", "typing:stop")
    },
    "error": RecordSpec(
        ErrorIn,
        r.ServerError,
        {"code": _NONE, "message": "message", "event": _NONE, "received_at": _AT},
    ),
}
