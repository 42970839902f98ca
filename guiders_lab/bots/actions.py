"""What a bot can do: one small immutable class per client action of the page.

Bots return these; the runner records them (shadow) or sends them (live). Each knows its
wire event and payload, so bots never build raw dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

__all__ = [
    "Assign",
    "BotAction",
    "JoinChat",
    "Notify",
    "SendMessage",
    "Suggest",
    "TriggerConversion",
    "Typing",
    "UpdateChat",
]


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


@dataclass(frozen=True)
class BotAction:
    """Base class: ``event`` and ``payload()`` in the ``ai-api`` dialect."""

    if TYPE_CHECKING:  # read-only: a class constant, or a property (``Typing``)

        @property
        def event(self) -> str:
            """The wire event."""
    else:
        event = ""

    def payload(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def chat_id(self) -> str | None:
        return getattr(self, "chat", None)


@dataclass(frozen=True)
class SendMessage(BotAction):
    chat: str
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    type: str = "ai-response"
    event = "message:send"

    def payload(self) -> dict[str, Any]:
        return _compact(
            {
                "chatId": self.chat,
                "content": self.content,
                "type": self.type,
                "metadata": self.metadata or None,
            }
        )


@dataclass(frozen=True)
class Assign(BotAction):
    chat: str
    commercial: str
    reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    event = "chat:assign"

    def payload(self) -> dict[str, Any]:
        return _compact(
            {
                "chatId": self.chat,
                "commercialId": self.commercial,
                "reason": self.reason,
                "metadata": self.metadata or None,
            }
        )


@dataclass(frozen=True)
class UpdateChat(BotAction):
    chat: str
    status: str | None = None
    tags: tuple[str, ...] = ()
    priority: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    event = "chat:update"

    def payload(self) -> dict[str, Any]:
        updates = _compact(
            {
                "status": self.status,
                "tags": list(self.tags) or None,
                "priority": self.priority,
                "metadata": self.metadata or None,
            }
        )
        return {"chatId": self.chat, "updates": updates}


@dataclass(frozen=True)
class Typing(BotAction):
    chat: str
    active: bool = True
    typer: str = "ai-bot"

    @property
    def event(self) -> str:
        return "typing:start" if self.active else "typing:stop"

    def payload(self) -> dict[str, Any]:
        return {"chatId": self.chat, "typerId": self.typer}


@dataclass(frozen=True)
class JoinChat(BotAction):
    chat: str
    role: str = "ai-assistant"
    event = "chat:join"

    def payload(self) -> dict[str, Any]:
        return {"chatId": self.chat, "role": self.role}


@dataclass(frozen=True)
class Notify(BotAction):
    type: str
    target: str
    data: dict[str, Any] = field(default_factory=dict)
    event = "notification:send"

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "target": self.target, "data": self.data}

    @property
    def chat_id(self) -> str | None:
        return self.data.get("chatId")


@dataclass(frozen=True)
class Suggest(BotAction):
    chat: str
    commercial: str
    suggestions: tuple[Any, ...]
    private: bool = True
    event = "assistance:suggestions"

    def payload(self) -> dict[str, Any]:
        return {
            "chatId": self.chat,
            "commercialId": self.commercial,
            "suggestions": list(self.suggestions),
            "private": self.private,
        }


@dataclass(frozen=True)
class TriggerConversion(BotAction):
    visitor: str
    strategy: str = "premium_attention"
    event = "trigger:high_conversion_flow"

    def payload(self) -> dict[str, Any]:
        return {"visitorId": self.visitor, "strategy": self.strategy}
