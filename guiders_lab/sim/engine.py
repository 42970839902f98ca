"""The scenario engine: a seeded discrete-event simulation of a Guiders account.

Pure and socket-free: it advances a simulated clock, calls ``emit(event, payload, room)``
for every server event, and answers client actions. Each visitor and commercial draws from
its own ``random.Random`` seeded from (seed, who), so the same seed gives the same event
sequence, and a client action perturbs only the chat it touches.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from . import texts
from .model import SimChat, SimCommercial, SimError, SimVisitor
from .scenario import Scenario

__all__ = ["ACCOUNT_ROOM", "Emit", "Simulation", "chat_room"]

Emit = Callable[[str, dict[str, Any], str], None]  # (event, payload, room)

ACCOUNT_ROOM = "account"
FUNNEL = ("page_view", "product_view", "pricing_view", "add_to_cart", "checkout_start")
SOURCES = {"organic": 0.4, "ads": 0.25, "newsletter": 0.15, "direct": 0.2}
BASE_CONVERSION = {"sales": 0.35, "support": 0.12, "billing": 0.06, "technical": 0.1}
AI_SATISFACTION = {"neutral": 0.55, "positive": 0.7, "complaint": 0.15}
SYSTEM_SENDER = {"id": "system", "name": "Guiders", "role": "system"}


def chat_room(chat_id: str) -> str:
    return f"chat:{chat_id}"


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Simulation:
    """One simulated account. Drive it with :meth:`run_until`; act with the ``act_*``."""

    def __init__(self, scenario: Scenario, seed: int, start: datetime, emit: Emit) -> None:
        self.scenario = scenario
        self.seed = seed
        self.start = start
        self.emit = emit
        self.now = 0.0
        self.day_end = scenario.hours * 3600.0
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._counter = 0
        self._arrivals = random.Random(f"{seed}:arrivals")
        self._ids = random.Random(f"{seed}:ids")
        self._n_visitors = 0
        self.visitors: dict[str, SimVisitor] = {}
        self.chats: dict[str, SimChat] = {}
        self.queue: list[SimChat] = []
        self.commercials = {
            spec.id: SimCommercial(spec, random.Random(f"{seed}:commercial:{spec.id}"))
            for spec in scenario.commercials
        }
        self.started = False

    # ------------------------------------------------------------------ clock
    def _at(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (self.now + max(0.0, delay), self._counter, fn, args))

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_until(self, t: float, max_events: int | None = None) -> int:
        """Process every scheduled event up to simulated time ``t``; returns how many."""
        done = 0
        while self._heap and self._heap[0][0] <= t:
            when, _, fn, args = heapq.heappop(self._heap)
            self.now = max(self.now, when)
            fn(*args)
            done += 1
            if max_events is not None and done >= max_events:
                return done
        if self._heap:
            self.now = max(self.now, min(t, self._heap[0][0]))
        elif math.isfinite(t):
            self.now = max(self.now, t)
        return done

    def iso(self, t: float | None = None) -> str:
        moment = self.start + timedelta(seconds=self.now if t is None else t)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def begin(self) -> None:
        """Schedule the day: commercials start their shift, visitors start arriving."""
        if self.started:
            return
        self.started = True
        for c in self.commercials.values():
            self._at(c.rng.uniform(0.0, 90.0), self._shift_starts, c)
            for _ in range(c.spec.breaks):
                self._at(c.rng.uniform(0.2, 0.8) * self.day_end, self._break_starts, c)
            self._at(self.day_end, self._shift_ends, c)
        self._at(self._arrivals.uniform(1.0, 10.0), self._arrive)

    # ------------------------------------------------------------------ emit helpers
    def _message(
        self,
        chat: SimChat,
        content: str,
        kind: str,
        sender: dict[str, Any],
        urgency: str | None = None,
        extra_meta: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        payload = {
            "chatId": chat.id,
            "messageId": message_id or f"msg-{chat.visitor.rng.getrandbits(48):012x}",
            "content": content,
            "type": kind,
            "sender": sender,
            "timestamp": self.iso(),
            "metadata": {
                "department": chat.visitor.department,
                "urgency": urgency or chat.urgency,
                "source": {"user": "web-widget", "commercial": "agent-console"}.get(kind, "ai-api"),
                **(extra_meta or {}),
            },
        }
        chat.last_activity_t = self.now
        self.emit("message:new", payload, ACCOUNT_ROOM)
        return payload

    def _typing(self, chat: SimChat, typer_id: str, start: bool) -> None:
        """Typing indicators go to the chat room only, and a stop always follows a start."""
        if start == (typer_id in chat.typing):
            return
        if start:
            chat.typing.add(typer_id)
        else:
            chat.typing.discard(typer_id)
        event = "typing:start" if start else "typing:stop"
        self.emit(event, {"chatId": chat.id, "typerId": typer_id}, chat_room(chat.id))

    def _commercial_status(self, c: SimCommercial) -> None:
        """Report a commercial's status and load whenever either changes."""
        status = c.settled_status()
        if (status, len(c.active)) == c.last_reported:
            return
        c.last_reported = (status, len(c.active))
        c.status = status
        self.emit(
            "commercial:status",
            {
                "commercialId": c.id,
                "name": c.spec.name,
                "status": status,
                "activeChats": len(c.active),
                "maxChats": c.spec.max_chats,
                "specialties": list(c.spec.specialties),
                "timestamp": self.iso(),
            },
            ACCOUNT_ROOM,
        )

    def _visitor_action(self, v: SimVisitor, action: str, value: float | None = None) -> None:
        payload: dict[str, Any] = {
            "visitorId": v.id,
            "action": action,
            "page": v.page,
            "timestamp": self.iso(),
        }
        if v.chat is not None and v.chat.open:
            payload["chatId"] = v.chat.id
        if value is not None:
            payload["value"] = value
        self.emit("visitor:action", payload, ACCOUNT_ROOM)

    # ------------------------------------------------------------------ visitors
    def _arrive(self) -> None:
        s = self.scenario
        if self.now < self.day_end:
            rate = s.visitors_per_hour / 3600.0
            self._at(self._arrivals.expovariate(rate), self._arrive)
        rng = random.Random(f"{self.seed}:visitor:{self._n_visitors}")
        self._n_visitors += 1
        lang = _weighted(rng, s.languages)
        mood = _weighted(rng, s.moods)
        n_actions = 1 + min(11, int(rng.expovariate(1 / 3.5)))
        wants_chat = rng.random() < s.chat_probability * (1.5 if mood == "complaint" else 1.0)
        v = SimVisitor(
            id=f"visitor-{rng.getrandbits(32):08x}",
            name=texts.visitor_name(rng, lang),
            lang=lang,
            department=_weighted(rng, s.departments),
            mood=mood,
            intent=rng.betavariate(2.0, 4.0),
            source=_weighted(rng, SOURCES),
            returning=rng.random() < s.returning_share,
            rng=rng,
            n_actions=n_actions,
            chat_after_action=rng.randrange(n_actions) if wants_chat else None,
        )
        v.page = texts.page_for(rng, v.department)
        self.visitors[v.id] = v
        self.emit(
            "visitor:online",
            {
                "visitorId": v.id,
                "name": v.name,
                "page": v.page,
                "timestamp": self.iso(),
                "metadata": {"source": v.source, "returning": v.returning},
            },
            ACCOUNT_ROOM,
        )
        self._at(rng.uniform(2.0, 20.0), self._browse, v, 0)

    def _browse(self, v: SimVisitor, i: int) -> None:
        rng = v.rng
        if v.stage < len(FUNNEL) - 1 and rng.random() < 0.35 + 0.6 * (
            v.intent + v.conversion_boost
        ):
            v.stage += 1
        action = FUNNEL[v.stage]
        v.page = texts.page_for(rng, "sales" if v.stage >= 2 else v.department)
        value = (
            round(rng.uniform(19.0, 180.0), 2)
            if action in ("add_to_cart", "checkout_start")
            else None
        )
        self._visitor_action(v, action, value)
        if i == v.chat_after_action and v.chat is None:
            self._open_chat(v)
        if i + 1 < v.n_actions:
            self._at(rng.uniform(15.0, 90.0), self._browse, v, i + 1)
        elif v.chat is None and action == "checkout_start" and rng.random() < v.intent:
            self._purchase(v)

    def _purchase(self, v: SimVisitor) -> None:
        if not v.purchased:
            v.purchased = True
            v.page = "/checkout/confirmacion"
            self._visitor_action(v, "purchase", round(v.rng.uniform(25.0, 220.0), 2))

    def _open_chat(self, v: SimVisitor) -> None:
        rng = v.rng
        urgency = {
            "complaint": rng.choice(("medium", "high")),
            "neutral": rng.choice(("low", "medium")),
            "positive": "low",
        }[v.mood]
        chat = SimChat(
            id=f"chat-{rng.getrandbits(32):08x}",
            visitor=v,
            created_t=self.now,
            urgency=urgency,
            turns_left=rng.randint(0, 2),
            last_activity_t=self.now,
        )
        v.chat = chat
        self.chats[chat.id] = chat
        self.emit(
            "chat:created",
            {
                "chatId": chat.id,
                "visitorId": v.id,
                "visitor": {"id": v.id, "name": v.name},
                "department": v.department,
                "status": "pending",
                "createdAt": self.iso(),
                "metadata": {"source": "web-widget", "urgency": urgency, "language": v.lang},
            },
            ACCOUNT_ROOM,
        )
        first = texts.opening(rng, v.lang, v.department, v.mood)
        self._visitor_writes(chat, first, delay=rng.uniform(4.0, 15.0))
        if self.scenario.auto_assign_after_s is not None:  # the backend's own sweep
            self._at(
                self.scenario.auto_assign_after_s * rng.uniform(0.6, 1.4), self._auto_assign, chat
            )
        self._at(self.scenario.idle_timeout_s, self._idle_check, chat)

    def _visitor_writes(
        self, chat: SimChat, content: str, delay: float, urgency: str | None = None
    ) -> None:
        """Type for a while, then send (typing events go to the chat room only)."""
        self._at(max(0.0, delay - 3.0), self._typing_if_open, chat, chat.visitor.id, True)
        self._at(delay, self._visitor_says, chat, content, urgency)

    def _typing_if_open(self, chat: SimChat, typer_id: str, start: bool) -> None:
        if chat.open:
            self._typing(chat, typer_id, start)

    def _visitor_says(self, chat: SimChat, content: str, urgency: str | None) -> None:
        if not chat.open:
            return
        v = chat.visitor
        self._typing(chat, v.id, False)
        self._message(
            chat, content, "user", {"id": v.id, "name": v.name, "role": "visitor"}, urgency
        )
        if chat.waiting_since is None:
            chat.waiting_since = self.now
        chat.wait_token += 1
        token = chat.wait_token
        patience = v.rng.lognormvariate(math.log(self.scenario.patience_s), 0.4)
        if v.mood == "complaint":
            patience *= 0.7
        self._at(patience, self._patience_runs_out, chat, token)
        self._commercial_should_answer(chat)

    def _patience_runs_out(self, chat: SimChat, token: int) -> None:
        if not chat.open or chat.wait_token != token or chat.waiting_since is None:
            return
        v = chat.visitor
        chat.anger += 1
        if chat.anger > 3:
            if v.rng.random() < 0.6:
                self._message(
                    chat,
                    texts.visitor_gives_up(v.rng, v.lang),
                    "user",
                    {"id": v.id, "name": v.name, "role": "visitor"},
                    "high",
                )
            self._close(chat, "abandoned", v.id)
            return
        urgency = "medium" if chat.anger == 1 else "high"
        nudge = texts.follow_up(v.rng, v.lang, v.department, chat.anger)
        self._visitor_writes(chat, nudge, v.rng.uniform(3.0, 8.0), urgency)

    def _answered(self, chat: SimChat) -> None:
        chat.waiting_since = None
        chat.wait_token += 1
        if chat.first_response_t is None:
            chat.first_response_t = self.now

    def _idle_check(self, chat: SimChat) -> None:
        if not chat.open:
            return
        idle = self.now - chat.last_activity_t
        if idle >= self.scenario.idle_timeout_s:
            self._close(chat, "timeout", "system")
        else:
            self._at(self.scenario.idle_timeout_s - idle, self._idle_check, chat)

    # ------------------------------------------------------------------ commercials
    def _shift_starts(self, c: SimCommercial) -> None:
        c.on_duty = True
        self._commercial_status(c)
        self._drain_queue()

    def _shift_ends(self, c: SimCommercial) -> None:
        c.off_duty = True
        self._commercial_status(c)

    def _break_starts(self, c: SimCommercial) -> None:
        if c.off_duty:
            return
        if c.active:  # finish the current chats first
            self._at(300.0, self._break_starts, c)
            return
        c.on_break = True
        self._commercial_status(c)
        self._at(c.rng.uniform(300.0, 900.0), self._break_ends, c)

    def _break_ends(self, c: SimCommercial) -> None:
        c.on_break = False
        self._commercial_status(c)
        self._drain_queue()

    def _reply_delay(self, c: SimCommercial, chat: SimChat) -> float:
        delay = c.spec.response_s * c.rng.lognormvariate(0.0, 0.5)
        delay *= 1.0 + 0.3 * max(0, len(c.active) - 1)  # juggling chats slows everyone
        if chat.priority in ("high", "urgent"):
            delay *= 0.7
        if chat.suggestions_pending:
            delay *= 0.7
            chat.suggestions_pending = False
        return delay

    def _commercial_should_answer(self, chat: SimChat) -> None:
        c = chat.commercial
        if c is None or chat.commercial_turn_pending or not chat.open:
            return
        chat.commercial_turn_pending = True
        delay = self._reply_delay(c, chat)
        self._at(delay * 0.6, self._typing_if_assigned, chat, c, True)
        self._at(delay, self._commercial_turn, chat, c)

    def _typing_if_assigned(self, chat: SimChat, c: SimCommercial, start: bool) -> None:
        if chat.open and chat.commercial is c:
            self._typing(chat, c.id, start)

    def _commercial_turn(self, chat: SimChat, c: SimCommercial) -> None:
        if not chat.open or chat.commercial is not c:
            return
        chat.commercial_turn_pending = False
        v = chat.visitor
        rng = c.rng
        sender = {"id": c.id, "name": c.spec.name, "role": "commercial"}
        self._typing(chat, c.id, False)
        if chat.status in ("pending", "assigned"):
            chat.status = "active"
        if chat.closing:
            self._message(chat, texts.commercial_closing(rng, v.lang), "commercial", sender)
            self._answered(chat)
            self._at(rng.uniform(5.0, 20.0), self._close, chat, "resolved", c.id)
            return
        if not chat.greeted:
            chat.greeted = True
            greeting = texts.commercial_greeting(
                rng, v.lang, c.spec.name.split()[0], v.name.split()[0]
            )
            if chat.anger >= 2:
                greeting = f"{greeting} {texts.commercial_apology(rng, v.lang)}"
            self._message(chat, greeting, "commercial", sender)
            self._answered(chat)
            chat.commercial_turn_pending = True
            pause = rng.uniform(8.0, 25.0)
            self._at(pause * 0.4, self._typing_if_assigned, chat, c, True)
            self._at(pause, self._commercial_turn, chat, c)
            return
        self._message(
            chat, texts.commercial_answer(rng, v.lang, v.department), "commercial", sender
        )
        self._answered(chat)
        if chat.turns_left > 0:
            chat.turns_left -= 1
            reply = texts.visitor_reply(v.rng, v.lang, v.department, v.mood)
            self._visitor_writes(chat, reply, v.rng.uniform(20.0, 70.0))
        else:
            chat.closing = True
            self._visitor_writes(
                chat, texts.visitor_thanks(v.rng, v.lang), v.rng.uniform(15.0, 40.0)
            )

    def _assign(
        self,
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
            self._typing(chat, previous.id, False)
            previous.active.discard(chat.id)
            self._commercial_status(previous)
        if chat in self.queue:
            self.queue.remove(chat)
        chat.commercial = c
        chat.commercial_turn_pending = False
        c.active.add(chat.id)
        if chat.status == "pending":
            chat.status = "assigned"
        self.emit(
            "chat:assigned",
            {
                "chatId": chat.id,
                "commercialId": c.id,
                "assignedAt": self.iso(),
                "assignedBy": by,
                "reason": reason,
                "metadata": metadata or {},
            },
            ACCOUNT_ROOM,
        )
        self._commercial_status(c)
        joined = {
            "es": f"{c.spec.name} se ha unido a la conversación",
            "en": f"{c.spec.name} joined the conversation",
        }
        self._message(chat, joined.get(chat.visitor.lang, joined["es"]), "system", SYSTEM_SENDER)
        self._commercial_should_answer(chat)

    def _auto_assign(self, chat: SimChat) -> None:
        """The backend's own naive policy: least-loaded available agent, any specialty."""
        if not chat.open or chat.commercial is not None:
            return
        candidates = [c for c in self.commercials.values() if c.can_take]
        if not candidates:
            if chat not in self.queue:
                chat.queued_t = self.now
                self.queue.append(chat)
            return
        best = min(candidates, key=lambda c: len(c.active))
        self._assign(chat, best, "auto", "Asignación automática", {"algorithm": "least_loaded"})

    def _drain_queue(self) -> None:
        if self.scenario.auto_assign_after_s is None:
            return
        self.queue.sort(key=lambda ch: (ch.priority not in ("high", "urgent"), ch.queued_t or 0.0))
        for chat in list(self.queue):
            if not any(c.can_take for c in self.commercials.values()):
                break
            self.queue.remove(chat)
            self._auto_assign(chat)

    def _close(self, chat: SimChat, reason: str, closed_by: str) -> None:
        if not chat.open:
            return
        v = chat.visitor
        converted = reason == "resolved" and v.rng.random() < self._conversion_probability(chat)
        if converted:
            self._purchase(v)
        for typer in sorted(chat.typing):
            self._typing(chat, typer, False)
        chat.status = "closed"
        chat.wait_token += 1
        if chat in self.queue:
            self.queue.remove(chat)
        metadata: dict[str, Any] = {"converted": converted}
        if reason == "resolved":
            metadata["rating"] = max(
                1, min(5, 5 - chat.anger - (v.mood == "complaint") + v.rng.choice((-1, 0, 0, 1)))
            )
        self.emit(
            "chat:closed",
            {
                "chatId": chat.id,
                "closedAt": self.iso(),
                "closedBy": closed_by,
                "reason": reason,
                "metadata": metadata,
            },
            ACCOUNT_ROOM,
        )
        c = chat.commercial
        if c is not None:
            c.active.discard(chat.id)
            self._commercial_status(c)
            self._drain_queue()

    def _conversion_probability(self, chat: SimChat) -> float:
        v = chat.visitor
        p = BASE_CONVERSION.get(v.department, 0.1) * (0.5 + 1.5 * v.intent)
        wait = (chat.first_response_t or self.now) - chat.created_t
        p *= math.exp(-wait / 900.0) * (1.0 - 0.2 * chat.anger)
        return max(0.0, min(0.95, p + v.conversion_boost))

    # ------------------------------------------------------------------ client actions
    def _chat(self, chat_id: str) -> SimChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise SimError("CHAT_NOT_FOUND", f"chat {chat_id!r} does not exist")
        return chat

    def _open_chat_or_fail(self, chat_id: str) -> SimChat:
        chat = self._chat(chat_id)
        if not chat.open:
            raise SimError("CHAT_CLOSED", f"chat {chat_id!r} is closed")
        return chat

    def has_chat(self, chat_id: str) -> bool:
        return chat_id in self.chats

    def act_assign(self, p: dict[str, Any], by: str) -> dict[str, Any]:
        chat = self._open_chat_or_fail(p["chatId"])
        c = self.commercials.get(p["commercialId"])
        if c is None:
            raise SimError(
                "COMMERCIAL_NOT_FOUND", f"commercial {p['commercialId']!r} does not exist"
            )
        if chat.commercial is not c:
            if not c.on_duty or c.off_duty or c.on_break:
                raise SimError("COMMERCIAL_UNAVAILABLE", f"{c.id} is {c.status}")
            if not c.has_capacity:
                raise SimError(
                    "COMMERCIAL_AT_CAPACITY",
                    f"{c.id} already has {len(c.active)}/{c.spec.max_chats} chats",
                )
        self._assign(chat, c, by, p.get("reason"), p.get("metadata"))
        return {"chatId": chat.id, "commercialId": c.id, "assignedAt": self.iso()}

    def act_message(self, p: dict[str, Any], sender: dict[str, Any]) -> dict[str, Any]:
        chat = self._open_chat_or_fail(p["chatId"])
        kind = p.get("type", "ai-response")
        meta = {
            k: v
            for k, v in (p.get("metadata") or {}).items()
            if k not in ("department", "urgency", "source")
        }
        message_id = f"msg-{self._ids.getrandbits(48):012x}"
        self._message(chat, p["content"], kind, sender, extra_meta=meta, message_id=message_id)
        if kind == "ai-response":
            self._ai_answered(chat)
        return {"messageId": message_id, "chatId": chat.id, "timestamp": self.iso()}

    def _ai_answered(self, chat: SimChat) -> None:
        """The visitor reads an AI reply: maybe satisfied, maybe wants a human."""
        if chat.waiting_since is None:
            return  # e.g. a welcome before the visitor wrote anything
        self._answered(chat)
        chat.anger = max(0, chat.anger - 1)
        if chat.commercial is not None and chat.greeted:
            return  # talking to a human already; the AI reply only bridged the wait
        v = chat.visitor
        satisfied = v.rng.random() < AI_SATISFACTION.get(v.mood, 0.4) * (0.6 if chat.anger else 1.0)
        reaction = texts.visitor_after_ai(v.rng, v.lang, satisfied)
        delay = v.rng.uniform(10.0, 40.0)
        if satisfied:
            chat.closing = True
            self._at(delay, self._visitor_says_no_wait, chat, reaction)
            closer = chat.commercial.id if chat.commercial else "ai-system"
            self._at(delay + v.rng.uniform(10.0, 30.0), self._close, chat, "resolved", closer)
        else:
            self._visitor_writes(chat, reaction, delay, "medium")

    def _visitor_says_no_wait(self, chat: SimChat, content: str) -> None:
        if chat.open:
            v = chat.visitor
            self._message(chat, content, "user", {"id": v.id, "name": v.name, "role": "visitor"})

    def act_update(self, p: dict[str, Any], by: str) -> dict[str, Any]:
        chat = self._chat(p["chatId"])
        updates = p["updates"]
        if updates.get("priority"):
            chat.priority = updates["priority"]
        for tag in updates.get("tags") or ():
            if tag not in chat.tags:
                chat.tags.append(tag)
        status = updates.get("status")
        if status == "closed":
            self._close(chat, "resolved", by)
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

    def act_suggest(self, p: dict[str, Any]) -> None:
        chat = self._open_chat_or_fail(p["chatId"])
        if p["commercialId"] not in self.commercials:
            raise SimError(
                "COMMERCIAL_NOT_FOUND", f"commercial {p['commercialId']!r} does not exist"
            )
        chat.suggestions_pending = True  # the next human reply comes faster

    def act_trigger(self, p: dict[str, Any]) -> dict[str, Any]:
        v = self.visitors.get(p["visitorId"])
        if v is None:
            raise SimError("VISITOR_NOT_FOUND", f"visitor {p['visitorId']!r} does not exist")
        v.conversion_boost = min(0.5, v.conversion_boost + 0.25)
        v.page = "/ofertas/premium"
        self._visitor_action(v, "offer_view")
        return {
            "visitorId": v.id,
            "strategy": p.get("strategy"),
            "conversionBoost": v.conversion_boost,
        }

    def snapshot(self) -> dict[str, Any]:
        """Counts for reprs and tests."""
        open_chats = [c for c in self.chats.values() if c.open]
        return {
            "sim_time": self.iso(),
            "visitors": len(self.visitors),
            "chats": len(self.chats),
            "open_chats": len(open_chats),
            "queued": len(self.queue),
            "pending_events": len(self._heap),
            "commercials": {c.id: c.status for c in self.commercials.values()},
        }
