"""Client -> server wire shapes of the ``ai-api`` dialect: the page's actions.

Outgoing shapes are strict: enums are ``Literal``, numbers are bounded, and unknown
top-level fields are refused, so a typo never reaches the server. The simulator validates
client events with these same shapes: client and server share only this schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .server import Int64

__all__ = ["CLIENT_EVENTS"]


class _Out(msgspec.Struct, rename="camel", forbid_unknown_fields=True, omit_defaults=True):
    """Outgoing: strict."""


class _Action(_Out, kw_only=True):
    """An outgoing action. ``idempotencyKey`` (a guiders-lab extension the simulator
    honours) lets the client resend after a lost ack without the server acting twice."""

    idempotency_key: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None


NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Probability = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Millis = Annotated[float, msgspec.Meta(ge=0.0)]


class AiMetadata(msgspec.Struct, rename="camel", omit_defaults=True):
    """The page's AI reply metadata; extra keys are allowed and forwarded."""

    ai_model: str | None = None
    confidence: Probability | None = None
    processing_time: Millis | None = None
    is_automated: bool | None = None


class MessageSend(_Action):
    chat_id: NonEmpty
    content: Content
    type: Literal["ai-response", "system", "commercial"] = "ai-response"
    metadata: AiMetadata | None = None


class ChatAssign(_Action):
    chat_id: NonEmpty
    commercial_id: NonEmpty
    reason: str | None = None
    metadata: dict[str, Any] | None = None


class ChatUpdates(msgspec.Struct, rename="camel", forbid_unknown_fields=True, omit_defaults=True):
    status: NonEmpty | None = None
    tags: list[NonEmpty] | None = None
    priority: Literal["low", "medium", "high", "urgent"] | None = None
    metadata: dict[str, Any] | None = None


class ChatUpdate(_Action):
    chat_id: NonEmpty
    updates: ChatUpdates


class ChatJoin(_Out):
    chat_id: NonEmpty
    role: str | None = None


class TypingOut(_Out):
    chat_id: NonEmpty
    typer_id: NonEmpty


class NotificationSend(_Action):
    type: NonEmpty
    target: NonEmpty
    data: dict[str, Any] = {}


class AssistanceSuggestions(_Action):
    chat_id: NonEmpty
    commercial_id: NonEmpty
    suggestions: Annotated[list[Any], msgspec.Meta(min_length=1, max_length=50)]
    private: bool = True


class TriggerHighConversion(_Action):
    visitor_id: NonEmpty
    strategy: NonEmpty = "premium_attention"


class Ping(_Out):
    timestamp: Int64 | float


class StateSync(_Out):
    """``state:sync`` (a guiders-lab extension, the page's ``sincronizarEstado``): after a
    reconnect, ask for the account events with a sequence number above ``sinceSeq``."""

    since_seq: Annotated[int, msgspec.Meta(ge=0)] | None = None
    # the client's frame limit: the server skips (and lists) events it could not take
    max_frame_bytes: Annotated[int, msgspec.Meta(gt=0)] | None = None


CLIENT_EVENTS: dict[str, type[msgspec.Struct]] = {
    "message:send": MessageSend,
    "chat:assign": ChatAssign,
    "chat:update": ChatUpdate,
    "chat:join": ChatJoin,
    "typing:start": TypingOut,
    "typing:stop": TypingOut,
    "notification:send": NotificationSend,
    "assistance:suggestions": AssistanceSuggestions,
    "trigger:high_conversion_flow": TriggerHighConversion,
    "ping": Ping,
    "state:sync": StateSync,
}
