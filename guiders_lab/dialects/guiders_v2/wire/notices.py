"""Events of the ``guiders-v2`` dialect with no canonical table: the gateway's
confirmations and the backend's notices. They are validated (a malformed one is
quarantined) and kept in ``events``; some teach the decoder whose visitor a chat is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

__all__ = ["Availability", "ChatStatus", "RoomJoined", "UnreadCount", "ViewChanged", "Welcome"]

Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
Timestamp = datetime | Int64 | float


class _In(msgspec.Struct, rename="camel", frozen=True, gc=False):
    """Incoming: tolerant of extra fields; decoded JSON is a tree (no cycle), so the
    collector need not track them (``gc=False``)."""


class Welcome(_In, frozen=True):
    message: str
    client_id: str | None = None
    timestamp: Timestamp | None = None


class RoomJoined(_In, frozen=True):
    """``tenant:joined`` / ``presence:joined`` / ``chat:joined`` and their ``*:left``."""

    room_name: str | None = None
    timestamp: Timestamp | None = None
    company_id: str | None = None
    user_id: str | None = None
    user_type: str | None = None
    chat_id: str | None = None
    visitor_id: str | None = None
    tenant_id: str | None = None
    automatic: bool | None = None


class UnreadCount(_In, frozen=True):
    chat_id: str
    visitor_id: str | None = None
    unread_messages_count: Int64 | None = None


class ViewChanged(_In, frozen=True):
    """``chat:view-opened`` / ``chat:view-closed``: a commercial looks at a chat."""

    chat_id: str
    user_id: str | None = None
    user_role: str | None = None
    opened_at: Timestamp | None = None
    closed_at: Timestamp | None = None


class Availability(_In, frozen=True):
    """``commercial:availability-changed``: the tenant has someone online, or not."""

    available: bool
    online_count: Int64 | None = None
    tenant_id: str | None = None
    timestamp: Timestamp | None = None


class ChatStatus(_In, frozen=True):
    """``chat:status`` (sent on a first response, which the backend never flags today)."""

    chat_id: str
    status: str | None = None
