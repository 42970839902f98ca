"""What the backend's database would hold: chats and messages, read by the REST routes.

Chats and messages are kept in the shapes the backend's DTOs give them (``ChatResponseDto``
and the list item of ``GetChatsWithFiltersQueryHandler``, ``MessageResponseDto``), so the
REST routes only select and page. Keys the backend leaves ``undefined`` are left out, as
JSON serialisation drops them there.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Store", "V2Chat", "decode_cursor", "encode_cursor"]

PREVIEW_CHARS = 100
OPEN_STATUSES = ("PENDING", "ASSIGNED", "ACTIVE", "TRANSFERRED")


@dataclass(eq=False)
class V2Chat:
    id: str
    visitor_id: str
    visitor_name: str
    department: str
    created_at: str
    engine_id: str | None = None
    status: str = "PENDING"
    priority: str = "NORMAL"
    source: str = "website"
    custom_fields: dict[str, Any] = field(default_factory=dict)
    assigned_id: str | None = None
    assigned_name: str | None = None
    assigned_at: str | None = None
    closed_at: str | None = None
    last_message_date: str | None = None
    last_message_preview: str | None = None
    total_messages: int = 0
    unread: int = 0
    manual_owner: bool = False  # assigned over REST to a user outside the scenario
    updated_at: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)  # MessageResponseDto, oldest first

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    def commercial_info(self) -> dict[str, Any] | None:
        if self.assigned_id is None or self.assigned_name is None:
            return None  # an id no user answers to: the backend finds no data for it
        return {"id": self.assigned_id, "name": self.assigned_name or "", "avatarUrl": None}

    def _metadata(self, default_source: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "department": self.department,
            "source": self.source or default_source,
        }
        if self.custom_fields:
            meta["customFields"] = dict(self.custom_fields)
        return meta

    def list_item(self) -> dict[str, Any]:
        """One element of ``GET /v2/chats``' ``chats`` (the query handler's own mapping)."""
        item: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "priority": self.priority,
            "visitorInfo": {
                "id": self.visitor_id,
                "name": self.visitor_name,
                "email": "",
                "additionalData": {},
            },
        }
        if self.assigned_id is not None:
            item["assignedCommercialId"] = self.assigned_id
        item["assignedCommercial"] = self.commercial_info()
        item["availableCommercialIds"] = []
        item["metadata"] = self._metadata("")
        item["createdAt"] = self.created_at
        self._optional(item, closedAt=self.closed_at, lastMessageDate=self.last_message_date)
        self._optional(item, lastMessagePreview=self.last_message_preview)
        item.update(
            unreadMessagesCount=0,
            isActive=self.status != "CLOSED",
            visitorId=self.visitor_id,
            department=self.department,
            tags=[],
            updatedAt=self.updated_at,
        )
        return item

    def detail(self) -> dict[str, Any]:
        """``GET /v2/chats/{id}`` and the assign answer (``ChatResponseDto.fromDomain``)."""
        dto: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "priority": self.priority,
            "visitorId": self.visitor_id,
        }
        if self.assigned_id is not None:
            dto["assignedCommercialId"] = self.assigned_id
        dto["assignedCommercial"] = self.commercial_info()
        dto["availableCommercialIds"] = []
        dto["createdAt"] = self.created_at
        self._optional(dto, assignedAt=self.assigned_at, closedAt=self.closed_at)
        self._optional(dto, lastMessageDate=self.last_message_date)
        self._optional(dto, lastMessagePreview=self.last_message_preview)
        dto.update(
            totalMessages=self.total_messages,
            unreadMessagesCount=0,  # the backend's TODO: always 0 here
            isActive=self.closed_at is None,
            department=self.department or "general",
            tags=[],
            updatedAt=self.updated_at,
            visitorInfo={"id": self.visitor_id, "name": self.visitor_name, "additionalData": {}},
            metadata=self._metadata("website"),
        )
        return dto

    @staticmethod
    def _optional(target: dict[str, Any], **values: Any) -> None:
        target.update({k: v for k, v in values.items() if v is not None})


def encode_cursor(data: dict[str, Any]) -> str:
    """``cursorToBase64``: base64 of the JSON object."""
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.b64decode(cursor, validate=False).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


class Store:
    """Chats by UUID, in creation order."""

    def __init__(self) -> None:
        self.chats: dict[str, V2Chat] = {}
        self.by_engine: dict[str, V2Chat] = {}

    def add_chat(self, chat: V2Chat) -> None:
        self.chats[chat.id] = chat
        if chat.engine_id is not None:
            self.by_engine[chat.engine_id] = chat

    def add_message(self, chat: V2Chat, message: dict[str, Any]) -> int:
        """Store a message; returns the chat's new unread count."""
        chat.messages.append(message)
        content = message["content"]
        chat.last_message_preview = (
            f"{content[:PREVIEW_CHARS]}..." if len(content) > PREVIEW_CHARS else content
        )
        chat.last_message_date = message["createdAt"]
        chat.total_messages = len(chat.messages)
        chat.updated_at = message["createdAt"]
        chat.unread += 1
        return chat.unread

    def visible(self, user_id: str, sees_all: bool) -> list[V2Chat]:
        """Newest first (``createdAt DESC, id DESC``); a commercial sees its assigned only."""
        chats = [c for c in self.chats.values() if sees_all or c.assigned_id == user_id]
        chats.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return chats

    def page_chats(
        self, chats: list[V2Chat], cursor: dict[str, Any] | None, limit: int
    ) -> dict[str, Any]:
        """``GetChatsWithFiltersQueryHandler``: ``createdAt < c`` or (``=`` and ``id < c``)."""
        if cursor is not None and cursor.get("createdAt"):
            at, last = str(cursor["createdAt"]), str(cursor.get("id", ""))
            chats_after = [c for c in chats if (c.created_at, c.id) < (at, last)]
        else:
            chats_after = chats
        page = chats_after[:limit]
        next_cursor = (
            encode_cursor({"createdAt": page[-1].created_at, "id": page[-1].id}) if page else None
        )
        has_more = bool(next_cursor) and len(page) == limit and len(chats_after) > limit
        return {
            "chats": [c.list_item() for c in page],
            "total": len(chats),
            "hasMore": has_more,
            "nextCursor": next_cursor if has_more else None,
        }

    @staticmethod
    def page_messages(chat: V2Chat, cursor: str | None, limit: int) -> dict[str, Any]:
        """``GetChatMessagesQueryHandler``: newest first, the cursor an offset; ``hasMore``
        is "the page came back full" (so a full last page is followed by an empty one)."""
        offset = 0
        if cursor:
            data = decode_cursor(cursor)
            raw = data.get("offset") if data else None
            offset = raw if isinstance(raw, int) and raw > 0 else 0
        newest_first = chat.messages[::-1]
        page = newest_first[offset : offset + limit]
        has_more = len(page) == limit
        out: dict[str, Any] = {
            "messages": page,
            "total": len(chat.messages),
            "hasMore": has_more,
        }
        if has_more and page:
            out["nextCursor"] = encode_cursor({"lastId": page[-1]["id"], "offset": offset + limit})
        return out
