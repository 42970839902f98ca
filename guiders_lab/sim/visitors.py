"""Visitors: they arrive, browse the funnel, open chats, write, lose patience and leave.

Each visitor draws from its own ``random.Random`` (seeded from the simulation's seed and
its arrival number), so what one visitor does never shifts another's draws.
"""

from __future__ import annotations

import math
import random

from . import chats, commercials, texts
from .model import SimChat, SimVisitor
from .world import ACCOUNT_ROOM, World, weighted

__all__ = ["FUNNEL", "arrive", "purchase", "schedule_arrivals", "writes"]

FUNNEL = ("page_view", "product_view", "pricing_view", "add_to_cart", "checkout_start")
_VALUED_ACTIONS = ("add_to_cart", "checkout_start")


def _sender(v: SimVisitor) -> dict[str, str]:
    return {"id": v.id, "name": v.name, "role": "visitor"}


def schedule_arrivals(w: World) -> None:
    w.at(w.arrivals.uniform(*w.scenario.visitors.first_arrival_s), arrive)


def arrive(w: World) -> None:
    """A new visitor lands on the site; the next arrival is scheduled (Poisson)."""
    s = w.scenario
    b = s.visitors
    if w.now < w.day_end:
        rate = s.visitors_per_hour / 3600.0
        w.at(w.arrivals.expovariate(rate), arrive)
    rng = random.Random(f"{w.seed}:visitor:{w.n_visitors}")
    w.n_visitors += 1
    lang = weighted(rng, s.languages)
    mood = weighted(rng, s.moods)
    extra = int(rng.expovariate(1 / b.browse_actions_mean))
    n_actions = 1 + min(b.browse_actions_max - 1, extra)
    chat_factor = b.complaint_chat_factor if mood == "complaint" else 1.0
    wants_chat = rng.random() < s.chat_probability * chat_factor
    v = SimVisitor(
        id=f"visitor-{rng.getrandbits(32):08x}",
        name=texts.visitor_name(rng, lang),
        lang=lang,
        department=weighted(rng, s.departments),
        mood=mood,
        intent=rng.betavariate(*b.intent_beta),
        source=weighted(rng, b.sources),
        returning=rng.random() < s.returning_share,
        rng=rng,
        n_actions=n_actions,
        chat_after_action=rng.randrange(n_actions) if wants_chat else None,
    )
    v.page = texts.page_for(rng, v.department)
    w.visitors[v.id] = v
    w.emit(
        "visitor:online",
        {
            "visitorId": v.id,
            "name": v.name,
            "page": v.page,
            "timestamp": w.iso(),
            "metadata": {"source": v.source, "returning": v.returning},
        },
        ACCOUNT_ROOM,
    )
    w.at(rng.uniform(*b.first_browse_s), browse, v, 0)


def browse(w: World, v: SimVisitor, i: int) -> None:
    """One page action: maybe a step down the funnel, maybe a chat, maybe a purchase."""
    b = w.scenario.visitors
    rng = v.rng
    step_chance = b.funnel_step_base + b.funnel_step_per_intent * (v.intent + v.conversion_boost)
    if v.stage < len(FUNNEL) - 1 and rng.random() < step_chance:
        v.stage += 1
    action = FUNNEL[v.stage]
    v.page = texts.page_for(rng, "sales" if v.stage >= 2 else v.department)
    value = round(rng.uniform(*b.cart_value), 2) if action in _VALUED_ACTIONS else None
    w.visitor_action(v, action, value)
    if i == v.chat_after_action and v.chat is None:
        open_chat(w, v)
    if i + 1 < v.n_actions:
        w.at(rng.uniform(*b.browse_gap_s), browse, v, i + 1)
    elif v.chat is None and action == "checkout_start" and rng.random() < v.intent:
        purchase(w, v)


def purchase(w: World, v: SimVisitor) -> None:
    if not v.purchased:
        v.purchased = True
        v.page = "/checkout/confirmacion"
        w.visitor_action(
            v, "purchase", round(v.rng.uniform(*w.scenario.visitors.purchase_value), 2)
        )


def _urgency(rng: random.Random, mood: str) -> str:
    # every mood's urgency is drawn, whatever the mood: the visitor's stream then advances
    # the same way for every mood, as it always has (the committed sample depends on it)
    drawn = {
        "complaint": rng.choice(("medium", "high")),
        "neutral": rng.choice(("low", "medium")),
        "positive": "low",
    }
    return drawn[mood]


def open_chat(w: World, v: SimVisitor) -> None:
    s = w.scenario
    rng = v.rng
    urgency = _urgency(rng, v.mood)
    chat = SimChat(
        id=f"chat-{rng.getrandbits(32):08x}",
        visitor=v,
        created_t=w.now,
        urgency=urgency,
        turns_left=rng.randint(*s.visitors.more_questions),
        last_activity_t=w.now,
    )
    v.chat = chat
    w.chats[chat.id] = chat
    w.emit(
        "chat:created",
        {
            "chatId": chat.id,
            "visitorId": v.id,
            "visitor": {"id": v.id, "name": v.name},
            "department": v.department,
            "status": "pending",
            "createdAt": w.iso(),
            "metadata": {"source": "web-widget", "urgency": urgency, "language": v.lang},
        },
        ACCOUNT_ROOM,
    )
    first = texts.opening(rng, v.lang, v.department, v.mood)
    writes(w, chat, first, delay=rng.uniform(*s.visitors.first_message_s))
    if s.auto_assign_after_s is not None:  # the backend's own sweep
        jitter = rng.uniform(*s.chats.auto_assign_jitter)
        w.at(s.auto_assign_after_s * jitter, chats.auto_assign, chat)
    w.at(s.idle_timeout_s, chats.idle_check, chat)


def writes(w: World, chat: SimChat, content: str, delay: float, urgency: str | None = None) -> None:
    """Type for a while, then send (typing events go to the chat room only)."""
    lead = w.scenario.visitors.typing_lead_s
    w.at(max(0.0, delay - lead), _typing_if_open, chat, chat.visitor.id, True)
    w.at(delay, says, chat, content, urgency)


def _typing_if_open(w: World, chat: SimChat, typer_id: str, start: bool) -> None:
    if chat.open:
        w.typing(chat, typer_id, start)


def says(w: World, chat: SimChat, content: str, urgency: str | None) -> None:
    """The message lands; the visitor starts waiting for an answer."""
    if not chat.open:
        return
    b = w.scenario.visitors
    v = chat.visitor
    w.typing(chat, v.id, False)
    w.message(chat, content, "user", _sender(v), urgency)
    if chat.waiting_since is None:
        chat.waiting_since = w.now
    chat.wait_token += 1
    token = chat.wait_token
    patience = v.rng.lognormvariate(math.log(w.scenario.patience_s), b.patience_spread)
    if v.mood == "complaint":
        patience *= b.complaint_patience_factor
    w.at(patience, _patience_runs_out, chat, token)
    commercials.should_answer(w, chat)


def says_without_waiting(w: World, chat: SimChat, content: str) -> None:
    """A last word (e.g. thanks to the AI) that expects no answer."""
    if chat.open:
        w.message(chat, content, "user", _sender(chat.visitor))


def _patience_runs_out(w: World, chat: SimChat, token: int) -> None:
    if not chat.open or chat.wait_token != token or chat.waiting_since is None:
        return
    b = w.scenario.visitors
    v = chat.visitor
    chat.anger += 1
    if chat.anger > b.nudges_before_leaving:
        if v.rng.random() < b.goodbye_probability:
            w.message(chat, texts.visitor_gives_up(v.rng, v.lang), "user", _sender(v), "high")
        chats.close(w, chat, "abandoned", v.id)
        return
    urgency = "medium" if chat.anger == 1 else "high"
    nudge = texts.follow_up(v.rng, v.lang, v.department, chat.anger)
    writes(w, chat, nudge, v.rng.uniform(*b.nudge_s), urgency)
