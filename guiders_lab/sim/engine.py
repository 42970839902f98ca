"""The scenario engine: a seeded discrete-event simulation of a Guiders account.

Pure and socket-free: it advances a simulated clock, calls ``emit(event, payload, room)``
for every server event, and answers client actions. Each visitor and commercial draws from
its own ``random.Random`` seeded from (seed, who), so the same seed gives the same event
sequence, and a client action perturbs only the chat it touches. The behaviour lives in
:mod:`.visitors`, :mod:`.commercials`, :mod:`.chats` and :mod:`.actions`; its numbers in
the scenario (:mod:`.behaviour`).
"""

from __future__ import annotations

from typing import Any

from . import actions, chats, commercials, visitors
from .model import SimChat
from .world import ACCOUNT_ROOM, Emit, World, chat_room

__all__ = ["ACCOUNT_ROOM", "Emit", "Simulation", "chat_room"]


class Simulation(World):
    """One simulated account. Drive it with :meth:`run_until`; act with the ``act_*``."""

    started = False

    def begin(self) -> None:
        """Schedule the day: commercials start their shift, visitors start arriving."""
        if self.started:
            return
        self.started = True
        commercials.schedule_shifts(self)
        visitors.schedule_arrivals(self)

    # ------------------------------------------------------------------ client actions
    def has_chat(self, chat_id: str) -> bool:
        return chat_id in self.chats

    def act_assign(self, p: dict[str, Any], by: str) -> dict[str, Any]:
        return actions.assign(self, p, by)

    def act_message(self, p: dict[str, Any], sender: dict[str, Any]) -> dict[str, Any]:
        return actions.message(self, p, sender)

    def act_update(self, p: dict[str, Any], by: str) -> dict[str, Any]:
        return actions.update(self, p, by)

    def act_suggest(self, p: dict[str, Any]) -> None:
        actions.suggest(self, p)

    def act_trigger(self, p: dict[str, Any]) -> dict[str, Any]:
        return actions.trigger(self, p)

    # ------------------------------------------------------------------ inspection
    def conversion_probability(self, chat: SimChat) -> float:
        """The chance ``chat`` converts if it is resolved now (tests, notebooks)."""
        return chats.conversion_probability(self, chat)

    def snapshot(self) -> dict[str, Any]:
        """Counts for reprs and tests."""
        open_chats = [c for c in self.chats.values() if c.open]
        return {
            "sim_time": self.iso(),
            "visitors": len(self.visitors),
            "chats": len(self.chats),
            "open_chats": len(open_chats),
            "queued": len(self.queue),
            "pending_events": self.pending,
            "commercials": {c.id: c.status for c in self.commercials.values()},
        }
