"""Wire shapes of the ``ai-api`` dialect (the reference page), as msgspec Structs:
:mod:`.server` (what the server sends, and the record each event becomes) and
:mod:`.client` (the actions a client sends). Python attribute names are snake_case; on the
wire they are camelCase (``rename="camel"``). The simulator reads these modules: they hold
schema only, no client code.
"""

from __future__ import annotations

from .client import (
    CLIENT_EVENTS,
    AiMetadata,
    AssistanceSuggestions,
    ChatAssign,
    ChatJoin,
    ChatUpdate,
    ChatUpdates,
    MessageSend,
    NotificationSend,
    Ping,
    StateSync,
    TriggerHighConversion,
    TypingOut,
)
from .server import (
    RECORDS,
    SERVER_EVENTS,
    ChatAssigned,
    ChatClosed,
    ChatCreated,
    CommercialStatus,
    ErrorIn,
    Int64,
    MessageNew,
    Pong,
    Sender,
    Timestamp,
    TypingIn,
    VisitorActionIn,
    VisitorOnline,
)

__all__ = [
    "CLIENT_EVENTS",
    "RECORDS",
    "SERVER_EVENTS",
    "AiMetadata",
    "AssistanceSuggestions",
    "ChatAssign",
    "ChatAssigned",
    "ChatClosed",
    "ChatCreated",
    "ChatJoin",
    "ChatUpdate",
    "ChatUpdates",
    "CommercialStatus",
    "ErrorIn",
    "Int64",
    "MessageNew",
    "MessageSend",
    "NotificationSend",
    "Ping",
    "Pong",
    "Sender",
    "StateSync",
    "Timestamp",
    "TriggerHighConversion",
    "TypingIn",
    "TypingOut",
    "VisitorActionIn",
    "VisitorOnline",
]
