"""Commercials: shifts and breaks, and how (and how fast) they answer their chats."""

from __future__ import annotations

from . import chats, texts, visitors
from .model import SimChat, SimCommercial
from .world import World

__all__ = ["reply_delay", "schedule_shifts", "should_answer"]

_FAST_LANE = ("high", "urgent")  # priorities that get faster answers


def schedule_shifts(w: World) -> None:
    """Each commercial starts soon after the day does, takes its breaks, and stops at the end."""
    b = w.scenario.staff
    for c in w.commercials.values():
        w.at(c.rng.uniform(0.0, b.shift_start_spread_s), _shift_starts, c)
        for _ in range(c.spec.breaks):
            w.at(c.rng.uniform(*b.break_window) * w.day_end, _break_starts, c)
        w.at(w.day_end, _shift_ends, c)


def _shift_starts(w: World, c: SimCommercial) -> None:
    c.on_duty = True
    w.commercial_status(c)
    chats.drain_queue(w)


def _shift_ends(w: World, c: SimCommercial) -> None:
    c.off_duty = True
    w.commercial_status(c)


def _break_starts(w: World, c: SimCommercial) -> None:
    b = w.scenario.staff
    if c.off_duty:
        return
    if c.active:  # finish the current chats first
        w.at(b.break_retry_s, _break_starts, c)
        return
    c.on_break = True
    w.commercial_status(c)
    w.at(c.rng.uniform(*b.break_s), _break_ends, c)


def _break_ends(w: World, c: SimCommercial) -> None:
    c.on_break = False
    w.commercial_status(c)
    chats.drain_queue(w)


def reply_delay(w: World, c: SimCommercial, chat: SimChat) -> float:
    """Seconds until ``c`` answers ``chat``: its own pace, its load, and what bots did."""
    b, effects = w.scenario.staff, w.scenario.effects
    delay = c.spec.response_s * c.rng.lognormvariate(0.0, b.reply_spread)
    delay *= 1.0 + b.load_slowdown * max(0, len(c.active) - 1)  # juggling chats slows everyone
    if chat.priority in _FAST_LANE:
        delay *= effects.priority_reply_factor
    if chat.suggestions_pending:
        delay *= effects.suggestion_reply_factor
        chat.suggestions_pending = False
    return delay


def should_answer(w: World, chat: SimChat) -> None:
    """Schedule the assigned commercial's next turn, unless one is already coming."""
    c = chat.commercial
    if c is None or chat.commercial_turn_pending or not chat.open:
        return
    chat.commercial_turn_pending = True
    delay = reply_delay(w, c, chat)
    w.at(delay * w.scenario.staff.typing_share, _typing_if_assigned, chat, c, True)
    w.at(delay, _turn, chat, c)


def _typing_if_assigned(w: World, chat: SimChat, c: SimCommercial, start: bool) -> None:
    if chat.open and chat.commercial is c:
        w.typing(chat, c.id, start)


def _turn(w: World, chat: SimChat, c: SimCommercial) -> None:
    """The commercial writes: a goodbye, a greeting, or an answer (and the visitor replies)."""
    if not chat.open or chat.commercial is not c:
        return
    b = w.scenario.staff
    chat.commercial_turn_pending = False
    v = chat.visitor
    rng = c.rng
    sender = {"id": c.id, "name": c.spec.name, "role": "commercial"}
    w.typing(chat, c.id, False)
    if chat.status in ("pending", "assigned"):
        chat.status = "active"
    if chat.closing:
        w.message(chat, texts.commercial_closing(rng, v.lang), "commercial", sender)
        chats.answered(w, chat)
        w.at(rng.uniform(*b.close_after_goodbye_s), chats.close, chat, "resolved", c.id)
        return
    if not chat.greeted:
        chat.greeted = True
        greeting = texts.commercial_greeting(rng, v.lang, c.spec.name.split()[0], v.name.split()[0])
        if chat.anger >= b.apology_anger:
            greeting = f"{greeting} {texts.commercial_apology(rng, v.lang)}"
        w.message(chat, greeting, "commercial", sender)
        chats.answered(w, chat)
        chat.commercial_turn_pending = True
        pause = rng.uniform(*b.greeting_pause_s)
        w.at(pause * b.greeting_typing_share, _typing_if_assigned, chat, c, True)
        w.at(pause, _turn, chat, c)
        return
    w.message(chat, texts.commercial_answer(rng, v.lang, v.department), "commercial", sender)
    chats.answered(w, chat)
    vb = w.scenario.visitors
    if chat.turns_left > 0:
        chat.turns_left -= 1
        reply = texts.visitor_reply(v.rng, v.lang, v.department, v.mood)
        visitors.writes(w, chat, reply, v.rng.uniform(*vb.reply_s))
    else:
        chat.closing = True
        visitors.writes(w, chat, texts.visitor_thanks(v.rng, v.lang), v.rng.uniform(*vb.thanks_s))
