"""What a bot's handler may look at besides the event: :class:`BotContext`.

It is a view of the session the bot runs on, so it lives with the session (below
``guiders_lab.bots``, which re-exports it): the session's :class:`~.protocols.BotLike`
can then say exactly what a bot's ``handle`` is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .._loop import io_loop
from ..events.records import LatencySample, Record
from ..store import Store
from ..store.chats import ChatRow
from ..transport import Transport

if TYPE_CHECKING:  # session.py imports this module (through protocols.py)
    from .session import Session

__all__ = ["BotContext"]


@dataclass(frozen=True)
class BotContext:
    """What a handler may look at besides the event: the session and the chats so far."""

    session: Session[Transport]
    mode: str  # "shadow" | "live"
    seq: int  # the event's sequence number in the session
    name: str  # the event name
    store: Store | None = None  # where the run records (a recording's own, under Recording.run)

    def notes(self) -> Store:
        """The store a bot's notes belong in (e.g. ``chats.min_sentiment``): the one its
        actions go to, which under ``Recording.run`` is the recording's, not the replay's."""
        return self.store if self.store is not None else self.session.store

    def note(self, chat_id: str, *, min_sentiment: float) -> None:
        """Note a derived fact about a chat (its lowest sentiment so far) in :meth:`notes`'
        store: visible in ``chats`` at once, and journaled (on the store's own thread,
        its one writer) so a rebuilt recording keeps it."""
        store = self.notes()
        store.chats.note_sentiment(chat_id, min_sentiment)  # the ledger has its own lock
        io = io_loop()
        if io.in_loop:
            store.journal_note(chat_id, min_sentiment=min_sentiment)
        else:
            io.call_soon(lambda: store.journal_note(chat_id, min_sentiment=min_sentiment))

    def chat(self, chat_id: str) -> ChatRow[datetime] | None:
        """The chat's current row (status, commercial, first response...), or None."""
        return self.session.store.chats.get(chat_id)

    @staticmethod
    def when(record: Record) -> datetime:
        """The event's own time (server time when known): replays keep their clock."""
        if isinstance(record, LatencySample):  # no receive time: its ``at`` is never None
            at: datetime = record.at  # (mypy types it Any once narrowed by isinstance)
            return at
        for field in ("sent_at", "created_at", "assigned_at", "closed_at", "at"):
            value: datetime | None = getattr(record, field, None)
            if value is not None:
                return value
        return record.received_at
