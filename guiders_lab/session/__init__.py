"""Sessions: a store, a transport, optionally a recorder; the tables and the actions."""

from __future__ import annotations

from .context import BotContext
from .outbox import Outbox, OutboxLimits
from .protocols import (
    DEFAULT_BACKLOG_LIMIT,
    BotLike,
    BotRunLike,
    BotRunner,
    RecorderLike,
    Replayable,
    SessionOptions,
)
from .session import Session

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "BotContext",
    "BotLike",
    "BotRunLike",
    "BotRunner",
    "Outbox",
    "OutboxLimits",
    "RecorderLike",
    "Replayable",
    "Session",
    "SessionOptions",
]
