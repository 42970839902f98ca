"""Client actions on the simulated world, and what they change.

Each takes a payload already validated against the shared outgoing schema and returns the
ack's details, or raises :class:`~guiders_lab.sim.model.SimError` for a refusal.
"""

from __future__ import annotations

from typing import Any

from . import chats, texts, visitors
from .model import SimChat, SimError
from .world import World

__all__ = ["assign", "message", "suggest", "trigger", "update"]

_BACKEND_KEYS = ("department", "urgency", "source")  # metadata the backend sets itself


def assign(w: World, p: dict[str, Any], by: str) -> dict[str, Any]:
    """Hand a chat to a commercial: that commercial answers it from now on."""
    chat = w.open_chat(p["chatId"])
    c = w.commercial(p["commercialId"])
    if chat.commercial is not c:
        if not c.on_duty or c.off_duty or c.on_break:
            raise SimError("COMMERCIAL_UNAVAILABLE", f"{c.id} is {c.status}")
        if not c.has_capacity:
            raise SimError(
                "COMMERCIAL_AT_CAPACITY",
                f"{c.id} already has {len(c.active)}/{c.spec.max_chats} chats",
            )
    chats.assign(w, chat, c, by, p.get("reason"), p.get("metadata"))
    return {"chatId": chat.id, "commercialId": c.id, "assignedAt": w.iso()}


def message(w: World, p: dict[str, Any], sender: dict[str, Any]) -> dict[str, Any]:
    """Post a message in a chat; an AI reply may calm the visitor or resolve the chat."""
    chat = w.open_chat(p["chatId"])
    kind = p.get("type", "ai-response")
    meta = {k: v for k, v in (p.get("metadata") or {}).items() if k not in _BACKEND_KEYS}
    message_id = f"msg-{w.ids.getrandbits(48):012x}"
    w.message(chat, p["content"], kind, sender, extra_meta=meta, message_id=message_id)
    if kind == "ai-response":
        _ai_answered(w, chat)
    return {"messageId": message_id, "chatId": chat.id, "timestamp": w.iso()}


def _ai_answered(w: World, chat: SimChat) -> None:
    """The visitor reads an AI reply: maybe satisfied, maybe wants a human."""
    if chat.waiting_since is None:
        return  # e.g. a welcome before the visitor wrote anything
    e = w.scenario.effects
    chats.answered(w, chat)
    chat.anger = max(0, chat.anger - e.ai_calms)
    if chat.commercial is not None and chat.greeted:
        return  # talking to a human already; the AI reply only bridged the wait
    v = chat.visitor
    chance = e.ai_satisfaction.get(v.mood, e.ai_satisfaction_other)
    if chat.anger:
        chance *= e.ai_satisfaction_angry_factor
    satisfied = v.rng.random() < chance
    reaction = texts.visitor_after_ai(v.rng, v.lang, satisfied)
    delay = v.rng.uniform(*w.scenario.visitors.after_ai_s)
    if satisfied:
        chat.closing = True
        w.at(delay, visitors.says_without_waiting, chat, reaction)
        closer = chat.commercial.id if chat.commercial else "ai-system"
        w.at(delay + v.rng.uniform(*e.close_after_ai_s), chats.close, chat, "resolved", closer)
    else:
        visitors.writes(w, chat, reaction, delay, "medium")


def update(w: World, p: dict[str, Any], by: str) -> dict[str, Any]:
    """Priority (high and urgent chats jump the queue and get faster answers), tags, status."""
    chat = w.chat(p["chatId"])
    updates = p["updates"]
    if updates.get("priority"):
        chat.priority = updates["priority"]
    for tag in updates.get("tags") or ():
        if tag not in chat.tags:
            chat.tags.append(tag)
    status = updates.get("status")
    if status == "closed":
        chats.close(w, chat, "resolved", by)
    elif status:
        if not chat.open:
            raise SimError("CHAT_CLOSED", f"chat {chat.id!r} is closed")
        chat.status = status
    return {
        "chatId": chat.id,
        "status": chat.status,
        "priority": chat.priority,
        "tags": list(chat.tags),
    }


def suggest(w: World, p: dict[str, Any]) -> None:
    """Copilot suggestions for a commercial: their next reply in that chat comes faster."""
    chat = w.open_chat(p["chatId"])
    w.commercial(p["commercialId"])  # refuses an unknown commercial
    chat.suggestions_pending = True


def trigger(w: World, p: dict[str, Any]) -> dict[str, Any]:
    """A conversion trigger: the visitor sees an offer and is likelier to buy."""
    e = w.scenario.effects
    v = w.visitors.get(p["visitorId"])
    if v is None:
        raise SimError("VISITOR_NOT_FOUND", f"visitor {p['visitorId']!r} does not exist")
    v.conversion_boost = min(e.trigger_boost_max, v.conversion_boost + e.trigger_boost)
    v.page = "/ofertas/premium"
    w.visitor_action(v, "offer_view")
    return {
        "visitorId": v.id,
        "strategy": p.get("strategy"),
        "conversionBoost": v.conversion_boost,
    }
