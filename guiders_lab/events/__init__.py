"""Event schemas: wire shapes per dialect and the canonical records they normalise into."""

from __future__ import annotations

from .records import (
    Action,
    Assignment,
    ChatClosed,
    ChatCreated,
    Event,
    LatencySample,
    Message,
    Presence,
    Quarantined,
    Record,
    ServerError,
    Typing,
    VisitorAction,
)
from .validate import validate_outgoing

__all__ = [
    "Action",
    "Assignment",
    "ChatClosed",
    "ChatCreated",
    "Event",
    "LatencySample",
    "Message",
    "Presence",
    "Quarantined",
    "Record",
    "ServerError",
    "Typing",
    "VisitorAction",
    "validate_outgoing",
]
