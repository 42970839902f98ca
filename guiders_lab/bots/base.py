"""What a bot is: handlers for canonical events that return actions."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._loop import io_loop
from ..events.records import Record
from ..store.chats import ChatRow
from .actions import BotAction

__all__ = ["HANDLERS", "Bot", "BotContext"]

# event name -> handler method a bot may define (sync or async)
HANDLERS = {
    "message:new": "on_message",
    "chat:created": "on_chat_created",
    "chat:assigned": "on_chat_assigned",
    "chat:closed": "on_chat_closed",
    "visitor:online": "on_visitor_online",
    "commercial:status": "on_commercial_status",
    "visitor:action": "on_visitor_action",
    "typing:start": "on_typing",
    "typing:stop": "on_typing",
    "error": "on_error",
}

Result = Iterable[BotAction] | BotAction | None


@dataclass(frozen=True)
class BotContext:
    """What a handler may look at besides the event: the session and the chats so far."""

    session: Any
    mode: str  # "shadow" | "live"
    seq: int  # the event's sequence number in the session
    name: str  # the event name
    store: Any = None  # where the run records (a recording's own, under Recording.run)

    def notes(self) -> Any:
        """The store a bot's notes belong in (e.g. ``chats.min_sentiment``): the one its
        actions go to, which under ``Recording.run`` is the recording's, not the replay's."""
        return self.store if self.store is not None else self.session.store

    def note(self, chat_id: str, *, min_sentiment: float) -> None:
        """Note a derived fact about a chat (its lowest sentiment so far) in :meth:`notes`'
        store: visible in ``chats`` at once, and journaled (on the store's own thread,
        its one writer) so a rebuilt recording keeps it."""
        store = self.notes()
        store.chats.note_sentiment(chat_id, min_sentiment)  # the ledger has its own lock
        io = io_loop()
        if io.in_loop:
            store.journal_note(chat_id, min_sentiment=min_sentiment)
        else:
            io.call_soon(lambda: store.journal_note(chat_id, min_sentiment=min_sentiment))

    def chat(self, chat_id: str) -> ChatRow | None:
        """The chat's current row (status, commercial, first response...), or None."""
        return self.session.store.chats.get(chat_id)

    @staticmethod
    def when(record: Record) -> datetime:
        """The event's own time (server time when known): replays keep their clock."""
        for field in ("sent_at", "created_at", "assigned_at", "closed_at", "at"):
            value = getattr(record, field, None)
            if value is not None:
                return value
        return record.received_at


class Bot:
    """Subclass and define ``on_message``, ``on_chat_created``, ... (see ``HANDLERS``).

    Each handler gets ``(record, ctx)`` and returns actions (one, a list, or None); it may
    be ``async`` (e.g. to call a model). ``concurrency`` > 1 lets a bot work on several
    events at once (the runner still hands them over in order).
    """

    concurrency = 1

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def events(self) -> frozenset[str]:
        """The event names this bot has handlers for."""
        return frozenset(name for name, method in HANDLERS.items() if hasattr(self, method))

    def handle(self, name: str, record: Record, ctx: BotContext) -> Result | Awaitable[Result]:
        return getattr(self, HANDLERS[name])(record, ctx)

    def __repr__(self) -> str:
        return f"<{self.name} on {sorted(self.events)}>"


def as_actions(result: Any) -> list[BotAction]:
    """Normalise a handler's return value to a list of actions."""
    if result is None:
        return []
    if isinstance(result, BotAction):
        return [result]
    actions = list(result)
    for action in actions:
        if not isinstance(action, BotAction):
            raise TypeError(f"a bot returned {action!r}, not an action from gl.bots")
    return actions


def is_async(result: Any) -> bool:
    return inspect.isawaitable(result)
