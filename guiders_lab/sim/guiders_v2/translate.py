"""The scenario engine's events, as the deployed backend would publish them.

The engine speaks ``ai-api`` (readable ids, one account-wide feed). This module turns each
of its events into what the backend's ``notify-*`` handlers emit, on their rooms, and
keeps the REST store in step: ``chat:created`` to ``tenant:`` and ``visitor:`` rooms,
``message:new`` to ``chat:{id}`` only, ``chat:commercial-assigned`` to the chat room,
``presence:changed`` and ``commercial:availability-changed`` for commercials' statuses,
``visitor:page-changed`` to the assigned commercial. A close changes the chat's status in
the store and emits nothing, as on the real server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .ids import uuid_for
from .store import Store, V2Chat

if TYPE_CHECKING:
    from ..engine import Simulation

__all__ = ["Translator"]

Out = Callable[[str, dict[str, Any], str], None]  # (event, payload, room)

# engine commercial statuses -> the backend's commercial connection statuses
_PRESENCE = {"available": "online", "busy": "busy", "away": "away", "offline": "offline"}
_TYPE_BY_ROLE = {"visitor": "TEXT", "commercial": "TEXT", "integration": "TEXT", "system": "SYSTEM"}
_HIGH_INTENT_ACTIONS = ("add_to_cart", "checkout_start")
CHAT_CREATED_MESSAGE = "Un comercial ha iniciado una conversación contigo"


class Translator:
    """Engine event in, backend events out (through ``out``), store updated."""

    def __init__(
        self,
        seed: int,
        company_id: str,
        store: Store,
        engine: Simulation,
        out: Out,
        *,
        high_intent: bool = False,
    ) -> None:
        self.seed = seed
        self.company_id = company_id
        self.tenant_room = f"tenant:{company_id}"
        self.store = store
        self.engine = engine
        self.out = out
        self.high_intent = high_intent
        self.presence: dict[str, str] = {}  # commercial UUID -> connection status
        self.pages: dict[str, str] = {}  # visitor UUID -> current page
        self.hot: set[str] = set()
        self.override: dict[str, Any] | None = None  # the next message's REST specifics
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "visitor:online": self._visitor_online,
            "visitor:action": self._visitor_action,
            "chat:created": self._chat_created,
            "message:new": self._message,
            "chat:assigned": self._assigned,
            "chat:closed": self._closed,
            "commercial:status": self._commercial_status,
            "typing:start": lambda p: self._typing("typing:start", p),
            "typing:stop": lambda p: self._typing("typing:stop", p),
        }

    def uuid(self, engine_id: str) -> str:
        return uuid_for(self.seed, engine_id)

    def __call__(self, event: str, payload: dict[str, Any], room: str) -> None:
        handler = self._handlers.get(event)
        if handler is not None:  # the rest (pong, notifications) has no backend equivalent
            handler(payload)

    # ------------------------------------------------------------------ visitors
    def _visitor_online(self, p: dict[str, Any]) -> None:
        vid = self.uuid(p["visitorId"])
        self.pages[vid] = p["page"]
        self.presence_changed(vid, "visitor", "offline", "online")

    def _visitor_action(self, p: dict[str, Any]) -> None:
        vid = self.uuid(p["visitorId"])
        previous, current = self.pages.get(vid), p["page"]
        self.pages[vid] = current
        if self.high_intent and p["action"] in _HIGH_INTENT_ACTIONS and vid not in self.hot:
            self.hot.add(vid)
            self._high_intent(vid, p)
        if previous == current:
            return
        notified: set[str] = set()
        for chat in self._chats_of_visitor(vid, open_only=True):
            if chat.assigned_id is None or chat.assigned_id in notified:
                continue
            notified.add(chat.assigned_id)
            payload = {
                "visitorId": vid,
                "chatId": chat.id,
                "previousPage": previous,
                "currentPage": current,
                "timestamp": p["timestamp"],
            }
            self.out("visitor:page-changed", payload, f"commercial:{chat.assigned_id}")

    def _high_intent(self, vid: str, p: dict[str, Any]) -> None:
        """Only when asked (``high_intent=True``): nothing in the backend publishes it."""
        score = 80 if p["action"] == "checkout_start" else 70
        payload = {
            "visitorId": vid,
            "fingerprint": uuid_for(self.seed, f"fingerprint:{vid}").replace("-", ""),
            "siteId": uuid_for(self.seed, "site"),
            "leadScore": {
                "score": score,
                "tier": "hot",
                "signals": {
                    "isRecurrentVisitor": False,
                    "hasHighEngagement": True,
                    "hasInvestedTime": True,
                    "needsHelp": False,
                },
            },
            "timestamp": p["timestamp"],
        }
        self.out("visitor:high-intent", payload, self.tenant_room)

    def _chats_of_visitor(self, vid: str, *, open_only: bool) -> list[V2Chat]:
        return [
            c
            for c in self.store.chats.values()
            if c.visitor_id == vid and (c.open or not open_only)
        ]

    # ------------------------------------------------------------------ chats
    def _chat_created(self, p: dict[str, Any]) -> None:
        meta = p.get("metadata") or {}
        chat = V2Chat(
            id=self.uuid(p["chatId"]),
            visitor_id=self.uuid(p["visitorId"]),
            visitor_name=p["visitor"]["name"],
            department=p["department"],
            created_at=p["createdAt"],
            engine_id=p["chatId"],
            custom_fields={"language": meta.get("language"), "urgency": meta.get("urgency")},
            updated_at=p["createdAt"],
        )
        self.store.add_chat(chat)
        payload = {
            "chatId": chat.id,
            "visitorId": chat.visitor_id,
            "status": chat.status,
            "priority": chat.priority,
            "visitorInfo": {"name": chat.visitor_name},
            "metadata": {
                "department": chat.department,
                "source": chat.source,
                "customFields": dict(chat.custom_fields),
            },
            "createdAt": chat.created_at,
            "message": CHAT_CREATED_MESSAGE,
        }
        self.out("chat:created", payload, f"visitor:{chat.visitor_id}")
        self.out("chat:created", payload, self.tenant_room)

    def _assigned(self, p: dict[str, Any]) -> None:
        chat = self.store.by_engine.get(p["chatId"])
        if chat is None or chat.manual_owner:
            return  # assigned over REST to someone the scenario does not know: it stays so
        commercial = self.engine.commercials.get(p["commercialId"])
        name = commercial.spec.name if commercial is not None else p["commercialId"]
        self.assign(chat, self.uuid(p["commercialId"]), name, p["assignedAt"])

    def assign(self, chat: V2Chat, commercial_id: str, name: str | None, at: str) -> None:
        """Record an assignment and emit ``chat:commercial-assigned`` (also REST's path)."""
        chat.status = "ASSIGNED"
        chat.assigned_id, chat.assigned_name = commercial_id, name
        chat.assigned_at = chat.updated_at = at
        payload = {
            "chatId": chat.id,
            "commercialId": commercial_id,
            "visitorId": chat.visitor_id,
            "status": chat.status,
            "assignedAt": at,
            "assignmentReason": "auto",  # the handler's fallback: always "auto" in practice
            "commercial": chat.commercial_info(),
        }
        self.out("chat:commercial-assigned", payload, f"chat:{chat.id}")

    def _closed(self, p: dict[str, Any]) -> None:
        chat = self.store.by_engine.get(p["chatId"])
        if chat is None:
            return
        self.close(chat, p["closedAt"])
        if p.get("reason") == "abandoned":  # the visitor left the site
            self.presence_changed(chat.visitor_id, "visitor", "online", "offline")

    @staticmethod
    def close(chat: V2Chat, at: str) -> None:
        """Closing emits nothing on the socket: only REST shows the new status."""
        chat.status = "CLOSED"
        chat.closed_at = chat.updated_at = at

    # ------------------------------------------------------------------ messages
    def _message(self, p: dict[str, Any]) -> None:
        chat = self.store.by_engine.get(p["chatId"])
        if chat is None:
            return
        sender = p["sender"]
        role = sender.get("role")
        if role == "visitor" or sender["id"] in self.engine.commercials:
            sender_id = self.uuid(sender["id"])
        elif role == "ai":
            sender_id = "ai"
        elif role == "system":
            sender_id = "system"
        else:  # a REST user (its UUID) or an integration ("integration:bot")
            sender_id = sender["id"]
        fields: dict[str, Any] = {"type": _TYPE_BY_ROLE.get(role or "", "AI"), "isAI": role == "ai"}
        if role == "ai":
            fields["aiMetadata"] = {
                "model": "sim-assistant",
                "confidence": 0.9,
                "processingTimeMs": 250,
                "context": {},
            }
        if self.override is not None:
            fields.update(self.override)
            self.override = None
        message = build_message(
            self.uuid(p["messageId"]), chat.id, sender_id, p["content"], p["timestamp"], **fields
        )
        self.publish_message(chat, message)

    def publish_message(self, chat: V2Chat, message: dict[str, Any]) -> None:
        """Store a message and emit it as the backend's handlers do (also REST's path)."""
        unread = self.store.add_message(chat, message)
        wire = wire_message(message)
        room = f"chat:{chat.id}:commercial" if message["isInternal"] else f"chat:{chat.id}"
        self.out("message:new", wire, room)
        self.out(
            "chat:unread_count",
            {"chatId": chat.id, "unreadMessagesCount": unread},
            f"chat:{chat.id}:commercial",
        )
        self.out(
            "chat:unread_count",
            {"chatId": chat.id, "visitorId": chat.visitor_id, "unreadMessagesCount": unread},
            self.tenant_room,
        )

    # ------------------------------------------------------------------ presence
    def _commercial_status(self, p: dict[str, Any]) -> None:
        cid = self.uuid(p["commercialId"])
        new = _PRESENCE.get(p["status"], "offline")
        previous = self.presence.get(cid, "offline")
        if new == previous:
            return  # only its load changed: no presence event
        self.presence[cid] = new
        self.presence_changed(cid, "commercial", previous, new)

    def presence_changed(self, user_id: str, user_type: str, previous: str, new: str) -> None:
        """``NotifyPresenceChangedOnPresenceChangedEventHandler`` (and, for commercials,
        ``NotifyTenantOnCommercialPresenceChangedEventHandler``)."""
        payload = {
            "userId": user_id,
            "userType": user_type,
            "status": new,
            "previousStatus": previous,
            "timestamp": self.engine.iso(),
            "tenantId": self.company_id,
        }
        self.out("presence:changed", payload, f"{user_type}:{user_id}")
        if user_type == "visitor":
            chats = self._chats_of_visitor(user_id, open_only=True)
            if not chats:
                chats = [c for c in self._chats_of_visitor(user_id, open_only=False)]
            elif not any(c.assigned_id for c in chats):
                return
            targets = {c.id: c.assigned_id for c in chats if c.assigned_id}
            self._dual(payload, targets, "commercial")
        else:
            chats = [c for c in self.store.chats.values() if c.open and c.assigned_id == user_id]
            self._dual(payload, {c.id: c.visitor_id for c in chats}, "visitor")
            online = sum(1 for status in self.presence.values() if status != "offline")
            availability = {
                "available": online > 0,
                "onlineCount": online,
                "tenantId": self.company_id,
                "timestamp": self.engine.iso(),
            }
            self.out("commercial:availability-changed", availability, self.tenant_room)

    def _dual(self, payload: dict[str, Any], targets: Mapping[str, str | None], kind: str) -> None:
        """A copy per chat room (with ``chatId``), then one per target with its
        ``affectedChatIds``."""
        grouped: dict[str, list[str]] = {}
        for chat_id, target in targets.items():
            if target:
                self.out("presence:changed", {**payload, "chatId": chat_id}, f"chat:{chat_id}")
                grouped.setdefault(target, []).append(chat_id)
        for target, chat_ids in grouped.items():
            self.out(
                "presence:changed", {**payload, "affectedChatIds": chat_ids}, f"{kind}:{target}"
            )

    # ------------------------------------------------------------------ typing
    def _typing(self, event: str, p: dict[str, Any]) -> None:
        chat = self.store.by_engine.get(p["chatId"])
        if chat is None:
            return
        typer = p["typerId"]
        user_type = "commercial" if typer in self.engine.commercials else "visitor"
        payload = {
            "chatId": chat.id,
            "userId": self.uuid(typer),
            "userType": user_type,
            "timestamp": self.engine.iso(),
        }
        self.out(event, payload, f"chat:{chat.id}")


def build_message(
    message_id: str,
    chat_id: str,
    sender_id: str,
    content: str,
    at: str,
    *,
    type: str = "TEXT",  # the backend's field name
    is_internal: bool = False,
    attachment: dict[str, Any] | None = None,
    isAI: bool = False,
    aiMetadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A stored message, as ``MessageResponseDto`` (the REST shape)."""
    message: dict[str, Any] = {
        "id": message_id,
        "chatId": chat_id,
        "senderId": sender_id,
        "content": content,
        "type": type,
    }
    if attachment is not None:
        message["attachment"] = attachment
    message.update(isInternal=is_internal, isFirstResponse=False, isRead=False, isAI=isAI)
    if aiMetadata is not None:
        message["aiMetadata"] = aiMetadata
    message.update(createdAt=at, updatedAt=at)
    return message


def wire_message(m: dict[str, Any]) -> dict[str, Any]:
    """The ``message:new`` payload of ``NotifyMessageSentOnMessageSentEventHandler``."""
    wire: dict[str, Any] = {
        "messageId": m["id"],
        "chatId": m["chatId"],
        "senderId": m["senderId"],
        "content": m["content"],
        "type": m["type"],
        "isInternal": m["isInternal"],
        "isFirstResponse": m["isFirstResponse"],
        "sentAt": m["createdAt"],
    }
    if "attachment" in m:
        wire["attachment"] = m["attachment"]
    wire["isAI"] = m["isAI"]
    if "aiMetadata" in m:
        wire["aiMetadata"] = m["aiMetadata"]
    return wire
