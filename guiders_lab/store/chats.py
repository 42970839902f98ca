"""The ``chats`` table: one row per chat, folded incrementally from chat and message events.

Times are the server's (business) timestamps, so durations mean the same at any simulator
speed and on a recording as on the live backend. The result does not depend on the order
events arrive in (see :mod:`.chat_state`): the live, replayed and rebuilt tables agree even
when a reconnect re-delivers old events behind new ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

import msgspec
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..events.records import Assignment, ChatClosed, ChatCreated, Message, as_record
from .arrow import arrow_schema, rows_to_batch, to_frame
from .chat_state import ChatRow, ChatState

__all__ = ["FOLDS", "VIEWS", "ChatLedger", "ChatRecord", "ChatRow", "ChatView", "with_durations"]


class _View(msgspec.Struct, gc=False, frozen=True):
    """Only what a fold reads of a record, for bulk paths: built from columns with
    ``map(View, *columns)``, a C-level constructor about ten times cheaper than a record.
    ``t`` and ``seq`` are the event's order key (server time and sequence number).
    Subclasses repeat ``frozen=True`` (msgspec inherits it; a type checker does not)."""


class MessageView(_View, frozen=True):
    chat_id: str
    message_id: str
    sent_at: float | None
    received_at: float
    department: str | None
    sender_role: str | None
    sender_id: str
    is_ai: bool
    type: str
    t: float
    seq: int | None


class CreatedView(_View, frozen=True):
    chat_id: str
    visitor_id: str | None
    visitor_name: str | None
    department: str | None
    language: str | None
    source: str | None
    status: str | None
    priority: str | None
    created_at: float | None
    received_at: float
    t: float
    seq: int | None


class AssignedView(_View, frozen=True):
    chat_id: str
    commercial_id: str
    assigned_at: float | None
    received_at: float
    t: float
    seq: int | None


class ClosedView(_View, frozen=True):
    chat_id: str
    closed_at: float | None
    received_at: float
    closed_by: str | None
    reason: str | None
    converted: bool | None
    rating: float | None
    t: float
    seq: int | None


ChatRecord = Message[float] | ChatCreated[float] | Assignment[float] | ChatClosed[float]
ChatView = MessageView | CreatedView | AssignedView | ClosedView

# Any: each fold takes the record (or view) type it is filed under
Fold = Callable[[ChatState, Any, float, "int | None"], None]
# how each chat record (or its view) changes its chat's state; times are epoch seconds
FOLDS: dict[type, Fold] = {
    Message: ChatState.message,
    ChatCreated: ChatState.created_event,
    Assignment: ChatState.assigned,
    ChatClosed: ChatState.closed_event,
    MessageView: ChatState.message,
    CreatedView: ChatState.created_event,
    AssignedView: ChatState.assigned,
    ClosedView: ChatState.closed_event,
}
VIEWS: dict[type, type[ChatView]] = {
    Message: MessageView,
    ChatCreated: CreatedView,
    Assignment: AssignedView,
    ChatClosed: ClosedView,
}


class ChatLedger:
    """Per-chat state, applied record by record; frames built on demand."""

    def __init__(self) -> None:
        self._by_id: dict[str, ChatState] = {}
        self._loaded: pa.Table | None = None  # a loaded recording, not yet needed as states
        self._lock = threading.Lock()
        self._updates = 0  # a tie-break for updates acknowledged at the same instant

    @property
    def _chats(self) -> dict[str, ChatState]:
        if self._loaded is not None:
            self._materialize()
        return self._by_id

    def __len__(self) -> int:
        loaded = self._loaded
        return loaded.num_rows if loaded is not None else len(self._by_id)

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self._chats

    def _state(self, chat_id: str) -> ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = ChatState(chat_id)
        return state

    def get(self, chat_id: str) -> ChatRow[datetime] | None:
        """The current row of one chat (e.g. is a commercial assigned?)."""
        state = self._chats.get(chat_id)
        if state is None:
            return None
        # as_record's overloads know the records of events/, not this store's row
        return cast("ChatRow[datetime]", as_record(state.row()))

    def apply(self, record: ChatRecord, t: float, seq: int | None) -> None:
        """Fold one chat record; ``t`` and ``seq`` order it among the chat's events (the
        server's time for the event and its sequence number, see :mod:`.chat_state`)."""
        fold = FOLDS.get(type(record))
        if fold is not None:
            chat_id = record.chat_id
            with self._lock:
                state = self._chats.get(chat_id)  # _state(), inlined: the hot path
                if state is None:
                    state = self._chats[chat_id] = ChatState(chat_id)
                fold(state, record, t, seq)

    def apply_many(self, views: Iterable[ChatView]) -> None:
        """:meth:`apply` for many views (each carrying its ``t`` and ``seq``) under one
        lock. Any order gives the same states."""
        folds = FOLDS
        with self._lock:
            chats = self._chats
            for view in views:
                chat_id = view.chat_id
                state = chats.get(chat_id)
                if state is None:
                    state = chats[chat_id] = ChatState(chat_id)
                folds[type(view)](state, view, view.t, view.seq)

    def update(self, chat_id: str, updates: dict[str, Any], at: float) -> None:
        """Apply an acknowledged ``chat:update`` (status, tags, priority) made at ``at``."""
        with self._lock:
            self._updates += 1
            self._state(chat_id).updated(updates, at, self._updates)

    def note_sentiment(self, chat_id: str, score: float) -> None:
        """Keep the lowest sentiment seen in a chat (filled in by sentiment scorers)."""
        with self._lock:
            self._state(chat_id).sentiment(score)

    def load(self, table: pa.Table) -> None:
        """Replace the content with a ``chats`` table (a loaded recording). Per-chat states
        are only built if something updates the ledger later, which keeps loading a big
        recording fast."""
        with self._lock:
            self._by_id = {}
            self._loaded = table

    def _materialize(self) -> None:
        table = self._loaded
        if table is None:
            return
        columns = {}
        for field in arrow_schema(ChatRow):
            column = table.column(field.name)
            if pa.types.is_timestamp(field.type):  # back to raw form: epoch seconds
                column = pc.divide(
                    pc.cast(column.cast(pa.timestamp("us", "UTC")), pa.int64()), 1_000_000.0
                )
            columns[field.name] = column.to_pylist()
        by_id = {}
        for values in zip(*columns.values(), strict=True):
            state = ChatState.from_row(ChatRow(*values))
            by_id[state.chat_id] = state
        self._by_id, self._loaded = by_id, None

    def to_arrow(self) -> pa.Table:
        with self._lock:
            loaded = self._loaded
            if loaded is not None:
                return loaded
            rows = [state.row() for state in self._by_id.values()]
        rows.sort(key=_row_order)  # by creation: never by arrival
        schema = arrow_schema(ChatRow)
        if not rows:
            return schema.empty_table()
        return pa.Table.from_batches([rows_to_batch(rows, schema)])

    def to_frame(self) -> pd.DataFrame:
        return with_durations(to_frame(self.to_arrow()))


_NEVER = float("inf")


def _row_order(row: ChatRow[float]) -> tuple[float, str]:
    """Chats in the order they were created (a chat seen only through later events goes
    by the earliest time known of it), ties by id."""
    if row.created_at is not None:
        return row.created_at, row.chat_id
    known = [
        t
        for t in (row.first_assigned_at, row.first_visitor_message_at, row.last_message_at)
        if t is not None
    ]
    return (min(known) if known else _NEVER), row.chat_id


def with_durations(chats: pd.DataFrame) -> pd.DataFrame:
    """Add the derived durations: time to assign and to first response (both from the
    chat's creation) and the chat's duration (creation to close). See the README's
    "Metrics"."""
    out = chats.copy()
    out["time_to_assign"] = out["first_assigned_at"] - out["created_at"]
    out["time_to_first_response"] = out["first_response_at"] - out["created_at"]
    out["duration"] = out["closed_at"] - out["created_at"]
    return out
