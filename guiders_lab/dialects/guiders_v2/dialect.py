"""The ``guiders-v2`` decoder: the deployed backend's events to canonical records.

Most events are compiled from :data:`.wire.RECORDS`, as in ``ai-api``. Messages are read
by hand: their sender's role needs the session's :class:`~.roles.Directory` (which chat
is whose), so each store gets its own decoder (:func:`make`), and every event that names
a chat's visitor or a person's kind teaches it. That also means a batch cannot be
decoded by event name out of journal order: :meth:`decode_columns` refuses, and rebuilds
take this dialect's journals event by event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import pyarrow as pa

from ...events.records import Assignment, ChatClosed, LatencySample, Message, RawRecord
from ..base import BatchRefused, Malformed, ping_round_trip, to_epoch
from ..rows import RowBuilder, compile_row
from .roles import Directory, message_type
from .wire import client as wire_client
from .wire import server as wire
from .wire.notices import ViewChanged

__all__ = ["GuidersV2Dialect", "make"]

_CLOSED = {"CLOSED": "closed", "ABANDONED": "abandoned"}
_AI = frozenset({"ai", "bot"})
convert = msgspec.convert
Learn = Callable[[Directory, Any], None]


def _learn_chat(d: Directory, w: Any) -> None:
    d.visitor_of(w.chat_id, w.visitor_id)


def _learn_rest_chat(d: Directory, w: wire.RestChat) -> None:
    visitor = w.visitor_id or (w.visitor_info.id if w.visitor_info is not None else None)
    d.visitor_of(w.id, visitor)
    commercial = _assigned(w)
    if commercial:
        d.commercials.add(commercial)


def _learn_assigned(d: Directory, w: wire.CommercialAssigned) -> None:
    d.visitor_of(w.chat_id, w.visitor_id)
    d.commercials.add(w.commercial_id)


def _learn_presence(d: Directory, w: wire.PresenceChanged) -> None:
    d.person(w.user_id, w.user_type)
    if w.chat_id and w.user_type == "visitor":
        d.visitor_of(w.chat_id, w.user_id)


def _learn_typing(d: Directory, w: wire.Typing) -> None:
    d.person(w.user_id, w.user_type)


def _learn_view(d: Directory, w: ViewChanged) -> None:
    if w.user_id and w.user_role in ("commercial", "admin", "owner"):
        d.commercials.add(w.user_id)


_LEARN: dict[str, Learn] = {
    "chat:created": _learn_chat,
    "chat:escalation-requested": _learn_chat,
    "visitor:page-changed": _learn_chat,
    "chat:unread_count": _learn_chat,
    "rest:chat": _learn_rest_chat,
    "rest:chat-assigned": _learn_rest_chat,
    "rest:chat-closed": _learn_rest_chat,
    "chat:commercial-assigned": _learn_assigned,
    "presence:changed": _learn_presence,
    "typing:start": _learn_typing,
    "typing:stop": _learn_typing,
    "chat:view-opened": _learn_view,
    "chat:view-closed": _learn_view,
}


def _assigned(w: wire.RestChat) -> str | None:
    ref = w.assigned_commercial
    return (ref.id if ref is not None else None) or w.assigned_commercial_id


def _rest_assignment(w: wire.RestChat, received_at: float) -> Assignment[float]:
    commercial = _assigned(w)
    if not commercial:
        raise Malformed("rest:chat-assigned: the chat has no assigned commercial")
    name = w.assigned_commercial.name if w.assigned_commercial is not None else None
    return Assignment(
        chat_id=w.id,
        commercial_id=commercial,
        assigned_at=to_epoch(w.assigned_at),  # the backend's first response time, if any
        received_at=received_at,
        assigned_by=None,  # the REST chat does not say
        reason=None,
        metadata=None if name is None else msgspec.json.encode({"name": name}).decode(),
    )


def _rest_closed(w: wire.RestChat, received_at: float) -> ChatClosed[float]:
    reason = _CLOSED.get((w.status or "").upper())
    if reason is None:
        raise Malformed(f"rest:chat-closed: the chat's status is {w.status!r}, not closed")
    return ChatClosed(
        chat_id=w.id,
        closed_at=to_epoch(w.closed_at),
        received_at=received_at,
        closed_by=None,
        reason=reason,  # "closed": the backend records no outcome (resolved or not)
        converted=None,
        rating=w.satisfaction_rating,
    )


# the declarative builders hold no state: compiled once, shared by every decoder
_COMPILED: dict[str, RowBuilder] = {n: compile_row(s) for n, s in wire.RECORDS.items()}
_JSON = {n: msgspec.json.Decoder(s).decode for n, s in wire.SERVER_EVENTS.items()}


def _health_check(w: wire.HealthCheckAck, received_at: float) -> LatencySample[float]:
    return ping_round_trip("health-check", w.ping, w.timestamp, received_at)


class GuidersV2Dialect:
    """Decoder for the deployed backend's socket events and the kit's ``rest:*`` events.
    One per store (see :func:`make`): it remembers who is whose visitor."""

    name = "guiders-v2"
    client_events = wire_client.CLIENT_EVENTS
    server_events = wire.SERVER_EVENTS
    understood = wire.UNDERSTOOD
    history = frozenset(name for name in wire.SERVER_EVENTS if name.startswith("rest:"))
    unsupported_actions = wire_client.UNSUPPORTED

    def __init__(self) -> None:
        self.directory = Directory()
        builders = dict(_COMPILED)
        builders["message:new"] = self._message
        builders["rest:message"] = self._rest_message
        builders["rest:chat-assigned"] = _rest_assignment
        builders["rest:chat-closed"] = _rest_closed
        builders["ack:health-check"] = _health_check
        # one lookup per event: (validate, learn from it, build its record)
        self._decoders = {
            name: (schema, _LEARN.get(name), builders.get(name))
            for name, schema in wire.SERVER_EVENTS.items()
        }
        self._json_decoders = {
            name: (_JSON[name], _LEARN.get(name), builders.get(name)) for name in wire.SERVER_EVENTS
        }

    # ------------------------------------------------------------------ messages
    def _message(self, w: wire.MessageNew, received_at: float) -> Message[float]:
        return self._build_message(
            w.message_id, w.chat_id, w.sender_id, w.content, w.type, w.is_ai,
            w.ai_metadata, w.sent_at, received_at,
        )  # fmt: skip

    def _rest_message(self, w: wire.RestMessage, received_at: float) -> Message[float]:
        return self._build_message(
            w.id, w.chat_id, w.sender_id, w.content, w.type, w.is_ai,
            w.ai_metadata, w.created_at, received_at,
        )  # fmt: skip

    def _build_message(
        self, message_id: str, chat_id: str, sender_id: str, content: str, wire_type: str,
        is_ai: bool, meta: wire.AiMetadata | None, sent: wire.Timestamp | None,
        received_at: float,
    ) -> Message[float]:  # fmt: skip
        role = self.directory.role(chat_id, sender_id, is_ai)
        if meta is None:
            model = confidence = processing = None
        else:
            model, confidence, processing = meta.model, meta.confidence, meta.processing_time_ms
        # positional: the capture path (fields in Message's order, checked by the tests)
        return Message(
            message_id, chat_id, to_epoch(sent), received_at, sender_id, role,
            None,  # sender_name: the backend sends none
            message_type(wire_type, role), content,
            None, None, None,  # department, urgency, source: not on a message here
            bool(is_ai) or role in _AI, model, confidence, processing,
        )  # fmt: skip

    # ------------------------------------------------------------------ the seam
    def decode(self, name: str, payload: Any, received_at: float) -> RawRecord | None:
        entry = self._decoders.get(name)
        if entry is None:
            return None
        schema, learn, build = entry
        try:
            shape = convert(payload, schema)
        except msgspec.ValidationError as exc:
            raise Malformed(str(exc)) from None
        if learn is not None:
            learn(self.directory, shape)
        return None if build is None else build(shape, received_at)

    def decode_json(self, name: str, raw: bytes, received_at: float) -> RawRecord | None:
        entry = self._json_decoders.get(name)
        if entry is None:
            return None
        decode, learn, build = entry
        try:
            shape = decode(raw)
        except msgspec.DecodeError as exc:
            raise Malformed(str(exc)) from None
        if learn is not None:
            learn(self.directory, shape)
        return None if build is None else build(shape, received_at)

    def decode_columns(
        self, name: str, payloads: pa.Array[Any] | Sequence[bytes], received: pa.Array[Any]
    ) -> tuple[type[RawRecord], pa.Table] | None:
        """Never: a message's role depends on the events before it (see the module)."""
        raise BatchRefused("guiders-v2 decodes in journal order (sender roles)")

    def __repr__(self) -> str:
        return "<Dialect guiders-v2>"


def make() -> GuidersV2Dialect:
    """A fresh decoder: one per store (``get_dialect("guiders-v2")`` calls this)."""
    return GuidersV2Dialect()
