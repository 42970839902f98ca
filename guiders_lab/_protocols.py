"""What the leaves (summary, report, widgets, lab) need of the core's objects.

The leaves take a session (live, loaded or replayed) or its store; they are typed against
these small structural types rather than the core's classes, so that the core can change
shape behind them. Each protocol declares exactly what its users read: a session class
satisfies it by having those members, with no registration and no import of this module.
The table properties are pandas snapshots (see :class:`guiders_lab.Session`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sized
from typing import TYPE_CHECKING, Protocol

import pandas as pd
import pyarrow as pa

if TYPE_CHECKING:
    from .bots.base import Bot

__all__ = [
    "BotHost",
    "BotRunHandle",
    "ChatsLedger",
    "DashboardSession",
    "DashboardStore",
    "HasMessages",
    "InspectorSession",
    "ReportSource",
    "SessionTables",
    "TableTail",
]


class HasMessages(Protocol):
    """Anything with the kit's ``messages`` table: any session (``gl.lab``, playground)."""

    @property
    def messages(self) -> pd.DataFrame: ...


class SessionTables(HasMessages, Protocol):
    """A session as :func:`guiders_lab.summary.summarize` reads it."""

    @property
    def source(self) -> str: ...

    @property
    def events(self) -> pd.DataFrame: ...

    @property
    def chats(self) -> pd.DataFrame: ...

    @property
    def assignments(self) -> pd.DataFrame: ...

    @property
    def latency(self) -> pd.DataFrame: ...

    @property
    def quarantine(self) -> pd.DataFrame: ...

    def counts(self) -> Mapping[str, int]:
        """Received events by name."""
        ...


class ReportSource(SessionTables, Protocol):
    """A session as the HTML report reads it: the summary's tables, the actions, and any
    table by name (what the report masks with ``redact_pii=True``)."""

    @property
    def actions(self) -> pd.DataFrame: ...

    def table(self, name: str) -> pd.DataFrame: ...


class InspectorSession(HasMessages, Protocol):
    """A session as ``ChatInspector`` reads it; ``len(store)`` (events so far) tells it
    whether anything changed since the last refresh."""

    @property
    def store(self) -> Sized: ...

    @property
    def chats(self) -> pd.DataFrame: ...

    @property
    def actions(self) -> pd.DataFrame: ...


class TableTail(Protocol):
    """An append-only store table read from an offset on (``ColumnTable``)."""

    def to_arrow(self, columns: list[str] | None = ..., start: int = ...) -> pa.Table: ...

    def tail(self, columns: list[str] | None = ..., start: int = ...) -> tuple[pa.Table, int]: ...


class ChatsLedger(Sized, Protocol):
    """The store's derived chats: how many, and a snapshot as Arrow."""

    def to_arrow(self) -> pa.Table: ...


class DashboardStore(Sized, Protocol):
    """A store as ``LiveDashboard`` reads it: ``len()`` is the events so far."""

    @property
    def tables(self) -> Mapping[str, TableTail]: ...

    @property
    def chats(self) -> ChatsLedger: ...

    @property
    def counts(self) -> Mapping[str, int]:
        """Received events by name."""
        ...


class DashboardSession(Protocol):
    """A session as ``LiveDashboard`` reads it. ``metrics()`` values are numbers or None
    for the keys the dashboard shows; other keys (a replay adds its transport's) may hold
    anything, hence ``object``."""

    @property
    def store(self) -> DashboardStore: ...

    def metrics(self) -> Mapping[str, object]: ...


class BotRunHandle(Protocol):
    """An attached bot, as ``gl.lab.watch`` holds it: it can be stopped."""

    async def stop(self) -> None: ...


class BotHost(Protocol):
    """A session a bot can be attached to (live or replayed), as ``gl.lab.watch`` uses it."""

    async def run(self, bot: Bot, mode: str = ...) -> BotRunHandle: ...
