"""Columnar, append-only storage of captured events and the canonical tables."""

from __future__ import annotations

from .arrow import arrow_schema, to_frame
from .chats import ChatLedger, ChatRow
from .retention import RowsDroppedWarning
from .store import TABLES, Store
from .table import ColumnTable

__all__ = [
    "TABLES",
    "ChatLedger",
    "ChatRow",
    "ColumnTable",
    "RowsDroppedWarning",
    "Store",
    "arrow_schema",
    "to_frame",
]
