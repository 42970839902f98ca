"""One chat's state, folded from its events in *any* order.

Events reach the client out of order: after a reconnect the missed ones are re-delivered
behind newer live ones, a recording may be merged from several captures, a bot may note
something late. So no field of a chat is "whatever arrived last". Each is one of:

* a **minimum or maximum of times** (created, first assignment, first visitor message,
  first responses, last message): the value decides, whatever order it came in;
* a **count** or an **or** (messages, assignments, escalated), or a minimum of scores;
* **the earliest or latest event of a kind** (the current commercial, how the chat was
  closed, the status): events are ordered by their *order key*, ``(server time, server
  sequence number, id)``, where the server time is the event's ``serverTime`` when the
  server sends one, else the record's own timestamp, else the receive time.

The first response needs care: it is the first responder message *at or after* the
visitor's first message, and the visitor's first message may itself arrive last.
Responder messages older than the earliest visitor message known so far wait in a short
list (usually empty) and are promoted when an earlier visitor message shows up.

Definitions are the README's "Metrics" section; keep the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, NamedTuple

from ..events.records import Time
from ..events.roles import AI_ROLES

if TYPE_CHECKING:
    from ..events.records import Assignment, ChatClosed, ChatCreated, Message
    from .chats import AssignedView, ClosedView, CreatedView, MessageView

__all__ = ["ESCALATED_PRIORITIES", "ESCALATION_TAGS", "ChatRow", "ChatState"]

ESCALATED_PRIORITIES = frozenset({"high", "urgent"})
ESCALATION_TAGS = frozenset({"urgente", "urgent", "escalated", "sentimiento-negativo"})
# lifecycle statuses a later assignment or human reply may move on from
_UPGRADABLE = frozenset({None, "pending", "queued", "assigned"})
_ASSIGNABLE = frozenset({None, "pending", "queued"})

Key = tuple[float, int, str]  # (server time, server seq or -1, id): the order of events
# what the earliest chat:created said: visitor id and name, department, language, source, at
Created = tuple[str | None, str | None, str | None, str | None, str | None, float | None]
# what the latest close said: at, reason, closed by, converted, rating
Close = tuple[float | None, str | None, str | None, bool | None, float | None]


class ChatRow(NamedTuple, Generic[Time]):
    """One chat's row of the ``chats`` table (raw: epoch seconds; for users: datetimes)."""

    chat_id: str
    visitor_id: str | None
    visitor_name: str | None
    department: str | None
    language: str | None
    source: str | None
    status: str | None
    priority: str | None
    tags: str | None  # comma-separated, in the order they were first set
    created_at: Time | None
    first_assigned_at: Time | None
    commercial_id: str | None
    n_assignments: int
    first_visitor_message_at: Time | None
    first_response_at: Time | None
    first_human_response_at: Time | None
    first_ai_response_at: Time | None
    last_message_at: Time | None
    closed_at: Time | None
    close_reason: str | None
    closed_by: str | None
    converted: bool | None
    rating: float | None
    n_messages: int
    n_visitor_messages: int
    min_sentiment: float | None
    escalated: bool


def _key(t: float, seq: int | None, tie: str | None) -> Key:
    return (t, -1 if seq is None else seq, tie or "")


class ChatState:
    """The facts of one chat that its row is computed from (times as epoch seconds)."""

    __slots__ = (
        "a_key",
        "c_key",
        "c_priority",
        "c_status",
        "chat_id",
        "close",
        "closed_key",
        "commercial_id",
        "created",
        "d_key",
        "department_seen",
        "early",
        "escalated",
        "first_ai",
        "first_assigned_at",
        "first_human",
        "first_response",
        "first_visitor",
        "h_at",
        "h_key",
        "last_message_at",
        "min_sentiment",
        "n_assignments",
        "n_messages",
        "n_visitor",
        "p_key",
        "priority",
        "tags",
        "u_key",
        "u_status",
        "v_key",
        "v_sender",
    )

    def __init__(self, chat_id: str) -> None:  # spelled out: much faster than a loop
        self.chat_id = chat_id
        self.c_key: Key | None = None  # the earliest chat:created, and what it said
        self.created: Created | None = None
        self.c_status: str | None = None
        self.c_priority: str | None = None
        self.first_assigned_at: float | None = None
        self.a_key: Key | None = None  # the latest assignment, and to whom
        self.commercial_id: str | None = None
        self.n_assignments = 0
        self.n_messages = 0
        self.n_visitor = 0
        self.last_message_at: float | None = None
        self.first_visitor: float | None = None
        self.v_key: Key | None = None  # the earliest visitor message, and its sender
        self.v_sender: str | None = None
        self.d_key: Key | None = None  # the earliest message naming a department
        self.department_seen: str | None = None
        self.first_response: float | None = None
        self.first_human: float | None = None
        self.first_ai: float | None = None
        self.early: list[tuple[float, bool]] | None = None  # replies before any visitor
        self.h_key: Key | None = None  # the latest human reply, and its time
        self.h_at: float | None = None
        self.closed_key: Key | None = None  # the latest close, and what it said
        self.close: Close | None = None
        self.u_key: Key | None = None  # the latest status set by an acknowledged update
        self.u_status: str | None = None
        self.p_key: Key | None = None
        self.priority: str | None = None
        self.tags: dict[str, tuple[float, int, int]] | None = None
        self.escalated = False
        self.min_sentiment: float | None = None

    # ------------------------------------------------------------------ folds
    def created_event(self, c: ChatCreated[float] | CreatedView, t: float, seq: int | None) -> None:
        key = _key(t, seq, c.visitor_id)
        if self.c_key is None or key < self.c_key:
            self.c_key = key
            at = c.created_at if c.created_at is not None else c.received_at
            self.created = (c.visitor_id, c.visitor_name, c.department, c.language, c.source, at)
            self.c_status = c.status or "pending"
            self.c_priority = c.priority

    def assigned(self, a: Assignment[float] | AssignedView, t: float, seq: int | None) -> None:
        at = a.assigned_at if a.assigned_at is not None else a.received_at
        if self.first_assigned_at is None or at < self.first_assigned_at:
            self.first_assigned_at = at
        key = _key(t, seq, a.commercial_id)
        if self.a_key is None or key > self.a_key:
            self.a_key, self.commercial_id = key, a.commercial_id
        self.n_assignments += 1

    def message(self, m: Message[float] | MessageView, t: float, seq: int | None) -> None:
        """A message from anyone (the hot path: about one event in three)."""
        at = m.sent_at if m.sent_at is not None else m.received_at
        self.n_messages += 1
        last = self.last_message_at
        if last is None or at > last:
            self.last_message_at = at
        if m.department is not None and (
            self.d_key is None or (t <= self.d_key[0] and _key(t, seq, m.message_id) < self.d_key)
        ):
            self.d_key, self.department_seen = _key(t, seq, m.message_id), m.department
        role = m.sender_role
        if role == "visitor":
            self._visitor(m, at, t, seq)
            return
        ai = bool(m.is_ai) or role in AI_ROLES  # events.roles, inlined: the hot path
        if not (ai or role == "commercial" or m.type == "commercial"):
            return  # system notices answer nothing
        if not ai:  # keys are built only on a tie: times decide almost always
            h = self.h_key
            if h is None or t > h[0] or (t == h[0] and _key(t, seq, m.message_id) > h):
                self.h_key, self.h_at = _key(t, seq, m.message_id), at
        first = self.first_visitor
        if first is None or at < first:  # before the visitor wrote (as far as we know)
            if self.early is None:
                self.early = []
            self.early.append((at, ai))
        else:
            self._response(at, ai)

    def _visitor(
        self, m: Message[float] | MessageView, at: float, t: float, seq: int | None
    ) -> None:
        self.n_visitor += 1
        v = self.v_key
        if v is None or t < v[0] or (t == v[0] and _key(t, seq, m.message_id) < v):
            self.v_key, self.v_sender = _key(t, seq, m.message_id), m.sender_id
        first = self.first_visitor
        if first is not None and at >= first:
            return
        self.first_visitor = at
        early = self.early
        if early:  # replies written before this message but not before it: answers now
            keep = []
            for reply_at, ai in early:
                if reply_at >= at:
                    self._response(reply_at, ai)
                else:
                    keep.append((reply_at, ai))
            self.early = keep or None

    def _response(self, at: float, ai: bool) -> None:
        if self.first_response is None or at < self.first_response:
            self.first_response = at
        if ai:
            if self.first_ai is None or at < self.first_ai:
                self.first_ai = at
        elif self.first_human is None or at < self.first_human:
            self.first_human = at

    def closed_event(self, c: ChatClosed[float] | ClosedView, t: float, seq: int | None) -> None:
        key = _key(t, seq, c.reason)
        if self.closed_key is None or key > self.closed_key:
            self.closed_key = key
            at = c.closed_at if c.closed_at is not None else c.received_at
            self.close = (at, c.reason, c.closed_by, c.converted, c.rating)

    def updated(self, updates: dict[str, Any], t: float, tie: int) -> None:
        """An acknowledged ``chat:update`` (status, tags, priority) at time ``t``."""
        key = (t, -1, f"{tie:020d}")
        status, priority = updates.get("status"), updates.get("priority")
        if status and (self.u_key is None or key > self.u_key):
            self.u_key, self.u_status = key, str(status)
        if priority and (self.p_key is None or key > self.p_key):
            self.p_key, self.priority = key, str(priority)
            self.escalated = self.escalated or self.priority in ESCALATED_PRIORITIES
        for position, tag in enumerate(updates.get("tags") or ()):
            tag = str(tag)
            if self.tags is None:
                self.tags = {}
            tag_key = (t, tie, position)  # in the order the update listed them
            if tag not in self.tags or tag_key < self.tags[tag]:
                self.tags[tag] = tag_key
            self.escalated = self.escalated or tag in ESCALATION_TAGS

    def sentiment(self, score: float) -> None:
        if self.min_sentiment is None or score < self.min_sentiment:
            self.min_sentiment = score

    # ------------------------------------------------------------------ the row
    def status(self) -> str | None:
        """The latest explicit status (created, updated, closed), moved on by a later
        assignment (``assigned``) or a later human reply to the visitor (``active``)."""
        explicit: tuple[Key, str | None] | None = None
        for key, status in (
            (self.c_key, self.c_status),
            (self.u_key, self.u_status),
            (self.closed_key, "closed"),
        ):
            if key is not None and (explicit is None or key > explicit[0]):
                explicit = (key, status)
        since, status = explicit if explicit is not None else (None, None)
        if status not in _UPGRADABLE:
            return status
        h_key, h_at, first = self.h_key, self.h_at, self.first_visitor
        replied = (
            h_key is not None
            and h_at is not None  # always, with h_key
            and first is not None
            and h_at >= first
            and (since is None or h_key > since)
        )
        if replied:
            return "active"
        if (
            status in _ASSIGNABLE
            and self.a_key is not None
            and (since is None or self.a_key > since)
        ):
            return "assigned"
        return status

    def row(self) -> ChatRow[float]:
        created = self.created or (None, None, None, None, None, None)
        visitor_id, visitor_name, department, language, source, created_at = created
        close = self.close or (None, None, None, None, None)
        tags = None
        seen = self.tags
        if seen:
            tags = ",".join(sorted(seen, key=lambda tag: (seen[tag], tag)))
        return ChatRow(
            self.chat_id,
            visitor_id if visitor_id is not None else self.v_sender,
            visitor_name,
            department if department is not None else self.department_seen,
            language,
            source,
            self.status(),
            self.priority if self.priority is not None else self.c_priority,  # updated or as opened
            tags,
            created_at,
            self.first_assigned_at,
            self.commercial_id,
            self.n_assignments,
            self.first_visitor,
            self.first_response,
            self.first_human,
            self.first_ai,
            self.last_message_at,
            close[0],
            close[1],
            close[2],
            close[3],
            close[4],
            self.n_messages,
            self.n_visitor,
            self.min_sentiment,
            self.escalated,
        )

    @classmethod
    def from_row(cls, row: ChatRow[float]) -> ChatState:
        """The state of a chat known only by its row (a loaded recording): later notes
        and updates apply on top of it as they would have live."""
        s = cls(row.chat_id)
        never = float("-inf")
        s.c_key = (row.created_at if row.created_at is not None else never, -1, "")
        s.created = (
            row.visitor_id,
            row.visitor_name,
            row.department,
            row.language,
            row.source,
            row.created_at,
        )
        s.c_status = row.status
        s.first_assigned_at = row.first_assigned_at
        s.commercial_id = row.commercial_id
        s.n_assignments = row.n_assignments
        s.n_messages, s.n_visitor = row.n_messages, row.n_visitor_messages
        s.last_message_at = row.last_message_at
        s.first_visitor = row.first_visitor_message_at
        s.first_response = row.first_response_at
        s.first_human = row.first_human_response_at
        s.first_ai = row.first_ai_response_at
        if row.closed_at is not None or row.close_reason is not None:
            s.close = (row.closed_at, row.close_reason, row.closed_by, row.converted, row.rating)
        s.priority = row.priority
        if row.tags:
            s.tags = {tag: (never, -1, i) for i, tag in enumerate(row.tags.split(","))}
        s.escalated = bool(row.escalated)
        s.min_sentiment = row.min_sentiment
        return s
