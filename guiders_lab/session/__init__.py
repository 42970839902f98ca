"""Sessions: a store, a transport, optionally a recorder; the tables and the actions."""

from __future__ import annotations

from .outbox import Outbox, OutboxLimits
from .session import (
    DEFAULT_BACKLOG_LIMIT,
    BotRunLike,
    BotRunner,
    RecorderLike,
    Replayable,
    Session,
)

__all__ = [
    "DEFAULT_BACKLOG_LIMIT",
    "BotRunLike",
    "BotRunner",
    "Outbox",
    "OutboxLimits",
    "RecorderLike",
    "Replayable",
    "Session",
]
