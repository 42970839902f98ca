"""The backend's chat handling: assignment (its own naive policy and the queue), idle
timeouts, closing, and how likely a chat is to end in a purchase."""

from __future__ import annotations

import math
from typing import Any

from . import commercials, visitors
from .model import SimChat, SimCommercial
from .world import ACCOUNT_ROOM, SYSTEM_SENDER, World

__all__ = ["answered", "assign", "auto_assign", "close", "conversion_probability", "drain_queue"]

_JOINED = {
    "es": "{name} se ha unido a la conversación",
    "en": "{name} joined the conversation",
}
_FAST_LANE = ("high", "urgent")  # priorities that jump the queue


def answered(w: World, chat: SimChat) -> None:
    """Someone answered the visitor: stale patience timers see the new token and stop."""
    chat.waiting_since = None
    chat.wait_token += 1
    if chat.first_response_t is None:
        chat.first_response_t = w.now


def idle_check(w: World, chat: SimChat) -> None:
    if not chat.open:
        return
    timeout = w.scenario.idle_timeout_s
    idle = w.now - chat.last_activity_t
    if idle >= timeout:
        close(w, chat, "timeout", "system")
    else:
        w.at(timeout - idle, idle_check, chat)


def assign(
    w: World,
    chat: SimChat,
    c: SimCommercial,
    by: str,
    reason: str | None,
    metadata: dict[str, Any] | None,
) -> None:
    previous = chat.commercial
    if previous is c:
        return
    if previous is not None:
        w.typing(chat, previous.id, False)
        previous.active.discard(chat.id)
        w.commercial_status(previous)
    if chat in w.queue:
        w.queue.remove(chat)
    chat.commercial = c
    chat.commercial_turn_pending = False
    c.active.add(chat.id)
    if chat.status == "pending":
        chat.status = "assigned"
    w.emit(
        "chat:assigned",
        {
            "chatId": chat.id,
            "commercialId": c.id,
            "assignedAt": w.iso(),
            "assignedBy": by,
            "reason": reason,
            "metadata": metadata or {},
        },
        ACCOUNT_ROOM,
    )
    w.commercial_status(c)
    joined = _JOINED.get(chat.visitor.lang, _JOINED["es"]).format(name=c.spec.name)
    w.message(chat, joined, "system", SYSTEM_SENDER)
    commercials.should_answer(w, chat)


def auto_assign(w: World, chat: SimChat) -> None:
    """The backend's own naive policy: least-loaded available agent, any specialty."""
    if not chat.open or chat.commercial is not None:
        return
    candidates = [c for c in w.commercials.values() if c.can_take]
    if not candidates:
        if chat not in w.queue:
            chat.queued_t = w.now
            w.queue.append(chat)
        return
    best = min(candidates, key=lambda c: len(c.active))
    assign(w, chat, best, "auto", "Asignación automática", {"algorithm": "least_loaded"})


def drain_queue(w: World) -> None:
    if w.scenario.auto_assign_after_s is None:
        return
    w.queue.sort(key=lambda ch: (ch.priority not in _FAST_LANE, ch.queued_t or 0.0))
    for chat in list(w.queue):
        if not any(c.can_take for c in w.commercials.values()):
            break
        w.queue.remove(chat)
        auto_assign(w, chat)


def close(w: World, chat: SimChat, reason: str, closed_by: str) -> None:
    if not chat.open:
        return
    v = chat.visitor
    converted = reason == "resolved" and v.rng.random() < conversion_probability(w, chat)
    if converted:
        visitors.purchase(w, v)
    for typer in sorted(chat.typing):
        w.typing(chat, typer, False)
    chat.status = "closed"
    chat.wait_token += 1
    if chat in w.queue:
        w.queue.remove(chat)
    metadata: dict[str, Any] = {"converted": converted}
    if reason == "resolved":
        noise = v.rng.choice(w.scenario.chats.rating_noise)
        metadata["rating"] = max(1, min(5, 5 - chat.anger - (v.mood == "complaint") + noise))
    w.emit(
        "chat:closed",
        {
            "chatId": chat.id,
            "closedAt": w.iso(),
            "closedBy": closed_by,
            "reason": reason,
            "metadata": metadata,
        },
        ACCOUNT_ROOM,
    )
    c = chat.commercial
    if c is not None:
        c.active.discard(chat.id)
        w.commercial_status(c)
        drain_queue(w)


def conversion_probability(w: World, chat: SimChat) -> float:
    """The chance a resolved chat ends in a purchase: intent, wait, anger, and any boost."""
    b = w.scenario.chats
    v = chat.visitor
    low, per_intent = b.conversion_by_intent
    p = b.base_conversion.get(v.department, b.other_conversion) * (low + per_intent * v.intent)
    wait = (chat.first_response_t or w.now) - chat.created_t
    p *= math.exp(-wait / b.conversion_wait_decay_s) * (
        1.0 - b.conversion_anger_penalty * chat.anger
    )
    return max(0.0, min(b.max_conversion, p + v.conversion_boost))
