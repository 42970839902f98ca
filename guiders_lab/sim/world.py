"""The simulated world: its clock, its state, and the events it emits.

The behaviour modules (:mod:`.visitors`, :mod:`.commercials`, :mod:`.chats`,
:mod:`.actions`) are functions of a :class:`World`; scheduling one calls it later with the
world as its first argument. Heap ties are broken by scheduling order, so the same calls in
the same order give the same event sequence.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .model import SimChat, SimCommercial, SimError, SimVisitor
from .scenario import Scenario

__all__ = ["ACCOUNT_ROOM", "SYSTEM_SENDER", "Emit", "World", "chat_room", "weighted"]

Emit = Callable[[str, dict[str, Any], str], None]  # (event, payload, room)
Step = Callable[..., None]  # called as step(world, *args)

ACCOUNT_ROOM = "account"
SYSTEM_SENDER = {"id": "system", "name": "Guiders", "role": "system"}
_SOURCE_BY_KIND = {"user": "web-widget", "commercial": "agent-console"}


def chat_room(chat_id: str) -> str:
    return f"chat:{chat_id}"


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class World:
    """Clock, state and emit helpers shared by every behaviour module."""

    def __init__(self, scenario: Scenario, seed: int, start: datetime, emit: Emit) -> None:
        self.scenario = scenario
        self.seed = seed
        self.start = start
        self.emit = emit
        self.now = 0.0
        self.day_end = scenario.hours * 3600.0
        self._heap: list[tuple[float, int, Step, tuple[Any, ...]]] = []
        self._counter = 0
        # one stream per concern, so a client action perturbs only what it touches
        self.arrivals = random.Random(f"{seed}:arrivals")
        self.ids = random.Random(f"{seed}:ids")
        self.n_visitors = 0
        self.visitors: dict[str, SimVisitor] = {}
        self.chats: dict[str, SimChat] = {}
        self.queue: list[SimChat] = []
        self.commercials = {
            spec.id: SimCommercial(spec, random.Random(f"{seed}:commercial:{spec.id}"))
            for spec in scenario.commercials
        }

    # ------------------------------------------------------------------ clock
    def at(self, delay: float, step: Step, *args: Any) -> None:
        """Run ``step(self, *args)`` ``delay`` simulated seconds from now."""
        self._counter += 1
        heapq.heappush(self._heap, (self.now + max(0.0, delay), self._counter, step, args))

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    @property
    def pending(self) -> int:
        return len(self._heap)

    def run_until(self, t: float, max_events: int | None = None) -> int:
        """Process every scheduled event up to simulated time ``t``; returns how many."""
        done = 0
        while self._heap and self._heap[0][0] <= t:
            when, _, step, args = heapq.heappop(self._heap)
            self.now = max(self.now, when)
            step(self, *args)
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

    # ------------------------------------------------------------------ lookups
    def chat(self, chat_id: str) -> SimChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise SimError("CHAT_NOT_FOUND", f"chat {chat_id!r} does not exist")
        return chat

    def open_chat(self, chat_id: str) -> SimChat:
        chat = self.chat(chat_id)
        if not chat.open:
            raise SimError("CHAT_CLOSED", f"chat {chat_id!r} is closed")
        return chat

    def commercial(self, commercial_id: str) -> SimCommercial:
        c = self.commercials.get(commercial_id)
        if c is None:
            raise SimError("COMMERCIAL_NOT_FOUND", f"commercial {commercial_id!r} does not exist")
        return c

    # ------------------------------------------------------------------ emit helpers
    def message(
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
                "source": _SOURCE_BY_KIND.get(kind, "ai-api"),
                **(extra_meta or {}),
            },
        }
        chat.last_activity_t = self.now
        self.emit("message:new", payload, ACCOUNT_ROOM)
        return payload

    def typing(self, chat: SimChat, typer_id: str, start: bool) -> None:
        """Typing indicators go to the chat room only, and a stop always follows a start."""
        if start == (typer_id in chat.typing):
            return
        if start:
            chat.typing.add(typer_id)
        else:
            chat.typing.discard(typer_id)
        event = "typing:start" if start else "typing:stop"
        self.emit(event, {"chatId": chat.id, "typerId": typer_id}, chat_room(chat.id))

    def commercial_status(self, c: SimCommercial) -> None:
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

    def visitor_action(self, v: SimVisitor, action: str, value: float | None = None) -> None:
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
