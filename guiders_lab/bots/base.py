"""What a bot is: handlers for canonical events that return actions."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..events.records import (
    Assignment,
    ChatClosed,
    ChatCreated,
    Message,
    Presence,
    Record,
    ServerError,
    Typing,
    VisitorAction,
)
from ..session.context import BotContext
from .actions import BotAction

if TYPE_CHECKING:
    from typing_extensions import TypeIs

__all__ = ["HANDLERS", "Bot", "BotContext", "canonical_event"]

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

_BY_RECORD: dict[type, str] = {
    Message: "message:new",
    ChatCreated: "chat:created",
    Assignment: "chat:assigned",
    ChatClosed: "chat:closed",
    VisitorAction: "visitor:action",
    ServerError: "error",
}


def canonical_event(record: Record) -> str | None:
    """Which handler a record goes to, by what it is, not by the wire event's name: a
    guiders-v2 ``chat:commercial-assigned`` or a backfilled ``rest:message`` reach
    ``on_chat_assigned`` and ``on_message`` as their ai-api twins do."""
    kind = type(record)
    name = _BY_RECORD.get(kind)
    if name is not None:
        return name
    if kind is Typing:
        return "typing:start" if record.state == "start" else "typing:stop"  # type: ignore[union-attr]
    if kind is Presence:
        if record.role == "commercial":  # type: ignore[union-attr]
            return "commercial:status"
        if record.role == "visitor" and record.status == "online":  # type: ignore[union-attr]
            return "visitor:online"
    return None


Result = Iterable[BotAction] | BotAction | None
Handler = Callable[[Record, BotContext], "Result | Awaitable[Result]"]


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
        handler: Handler = getattr(self, HANDLERS[name])  # ``on_message`` and the like
        return handler(record, ctx)

    def __repr__(self) -> str:
        return f"<{self.name} on {sorted(self.events)}>"


def as_actions(result: Any) -> list[BotAction]:
    """Normalise a handler's return value to a list of actions (``Any``: a user's handler
    may return anything; what is not actions is refused here)."""
    if result is None:
        return []
    if isinstance(result, BotAction):
        return [result]
    actions = list(result)
    for action in actions:
        if not isinstance(action, BotAction):
            raise TypeError(f"a bot returned {action!r}, not an action from gl.bots")
    return actions


def is_async(result: object) -> TypeIs[Awaitable[object]]:
    return inspect.isawaitable(result)
