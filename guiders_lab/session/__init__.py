"""Sessions: the canonical tables plus, when live, the client actions."""

from __future__ import annotations

from .base import Session
from .live import LiveSession, connect, connect_sync

__all__ = ["LiveSession", "Session", "connect", "connect_sync"]
