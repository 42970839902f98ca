"""The ``ai-api`` dialect: the events of the reference page, normalised to records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import orjson

from ..events import ai_api as wire
from ..events.records import (
    Assignment,
    ChatClosed,
    ChatCreated,
    LatencySample,
    Message,
    Presence,
    Record,
    ServerError,
    Typing,
    VisitorAction,
)
from ..events.roles import AI_ROLES
from . import ai_api_columns
from .base import EPOCH_RANGE_S, Malformed, to_epoch

__all__ = ["AI_API", "AiApiDialect"]


def _message(m: wire.MessageNew, received_at: float) -> Message:
    meta = m.metadata
    sender = m.sender
    is_ai = m.type == "ai-response" or sender.role in AI_ROLES
    return Message(
        m.message_id,
        m.chat_id,
        to_epoch(m.timestamp),
        received_at,
        sender.id,
        sender.role,
        sender.name,
        m.type,
        m.content,
        meta.department if meta else None,
        meta.urgency if meta else None,
        meta.source if meta else None,
        is_ai,
        meta.ai_model if meta else None,
        meta.confidence if meta else None,
        meta.processing_time if meta else None,
    )


def _chat_created(c: wire.ChatCreated, received_at: float) -> ChatCreated:
    visitor = c.visitor
    meta = c.metadata
    return ChatCreated(
        c.chat_id,
        c.visitor_id or (visitor.id if visitor else None),
        visitor.name if visitor else None,
        c.department,
        c.status,
        to_epoch(c.created_at),
        received_at,
        meta.source if meta else None,
        meta.urgency if meta else None,
        meta.language if meta else None,
    )


def _assigned(a: wire.ChatAssigned, received_at: float) -> Assignment:
    metadata = orjson.dumps(a.metadata).decode() if a.metadata else None
    return Assignment(
        a.chat_id,
        a.commercial_id,
        to_epoch(a.assigned_at),
        received_at,
        a.assigned_by,
        a.reason,
        metadata,
    )


def _closed(c: wire.ChatClosed, received_at: float) -> ChatClosed:
    meta = c.metadata
    return ChatClosed(
        c.chat_id,
        to_epoch(c.closed_at),
        received_at,
        c.closed_by,
        c.reason,
        meta.converted if meta else None,
        meta.rating if meta else None,
    )


def _visitor_online(v: wire.VisitorOnline, received_at: float) -> Presence:
    meta = v.metadata
    return Presence(
        to_epoch(v.timestamp),
        received_at,
        "visitor",
        v.visitor_id,
        v.name,
        "online",
        v.page,
        meta.source if meta else None,
        meta.returning if meta else None,
        None,
        None,
        None,
    )


def _commercial_status(c: wire.CommercialStatus, received_at: float) -> Presence:
    return Presence(
        to_epoch(c.timestamp),
        received_at,
        "commercial",
        c.commercial_id,
        c.name,
        c.status,
        None,
        None,
        None,
        c.active_chats,
        c.max_chats,
        ",".join(c.specialties) if c.specialties is not None else None,
    )


def _visitor_action(v: wire.VisitorActionIn, received_at: float) -> VisitorAction:
    return VisitorAction(
        v.visitor_id, v.chat_id, v.action, v.page, v.value, to_epoch(v.timestamp), received_at
    )


_MAX_RTT_MS = 3_600_000.0  # a pong answering a ping older than an hour is not ours


def _pong(p: wire.Pong, received_at: float) -> LatencySample:
    """The echo of our own ping's timestamp: a round trip outside 0 ms..1 h is junk that
    would poison the latency means (a timestamp of 1e308 gave -1e308 ms)."""
    rtt = received_at * 1000.0 - float(p.timestamp)
    if not -1.0 <= rtt <= _MAX_RTT_MS:  # -1: our clock's rounding
        raise Malformed(f"pong timestamp {p.timestamp!r} is not one of our pings")
    server_ms = p.server_time
    server_time = (
        float(server_ms) / 1000.0
        if server_ms is not None
        and EPOCH_RANGE_S[0] * 1000.0 <= server_ms <= EPOCH_RANGE_S[1] * 1000.0
        else None
    )
    return LatencySample(received_at, "ping", "pong", rtt, 1, rtt, server_time)


def _typing(state: str) -> Callable[[wire.TypingIn, float], Typing]:
    def build(t: wire.TypingIn, received_at: float) -> Typing:
        return Typing(t.chat_id, t.typer_id, state, received_at)

    return build


def _error(e: wire.ErrorIn, received_at: float) -> ServerError:
    code = None if e.code is None else str(e.code)
    return ServerError(code, e.message, e.event, received_at)


class AiApiDialect:
    """Decoder for the reference page's events (the default dialect)."""

    name = "ai-api"
    client_events = wire.CLIENT_EVENTS
    server_events = wire.SERVER_EVENTS

    def __init__(self) -> None:
        builders: dict[str, Callable[[Any, float], Record]] = {
            "message:new": _message,
            "chat:created": _chat_created,
            "chat:assigned": _assigned,
            "chat:closed": _closed,
            "visitor:online": _visitor_online,
            "commercial:status": _commercial_status,
            "visitor:action": _visitor_action,
            "pong": _pong,
            "typing:start": _typing("start"),
            "typing:stop": _typing("stop"),
            "error": _error,
        }
        # One decoder per event: validation into the wire Struct, then normalisation.
        self._decoders = {
            name: (msgspec.convert, wire.SERVER_EVENTS[name], build)
            for name, build in builders.items()
        }
        self._json_decoders = {
            name: (msgspec.json.Decoder(wire.SERVER_EVENTS[name]).decode, build)
            for name, build in builders.items()
        }

    def decode(self, name: str, payload: Any, received_at: float) -> Record | None:
        entry = self._decoders.get(name)
        if entry is None:
            return None
        convert, schema, build = entry
        try:
            shape = convert(payload, schema)
        except msgspec.ValidationError as exc:
            raise Malformed(str(exc)) from None
        return build(shape, received_at)

    def decode_json(self, name: str, raw: bytes, received_at: float) -> Record | None:
        entry = self._json_decoders.get(name)
        if entry is None:
            return None
        decode, build = entry
        try:
            shape = decode(raw)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
            raise Malformed(str(exc)) from None
        return build(shape, received_at)

    # bulk paths: many payloads of one event name straight to Arrow columns
    decode_columns = staticmethod(ai_api_columns.decode_columns)

    def __repr__(self) -> str:
        return "<Dialect ai-api>"


AI_API = AiApiDialect()
