"""``gl.ChatInspector(session)``: find a chat, read it, see its timeline and bot actions."""

from __future__ import annotations

import html
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, Protocol, TypeAlias, TypedDict, TypeVar, cast

import ipywidgets as widgets
import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.typing import NaTType

from .._protocols import InspectorSession
from ._follow import Following

__all__ = ["ChatInspector"]

ALL = "(all)"
_ROLE_STYLE = {
    "visitor": ("#f1f3f5", "flex-start", "#495057"),
    "commercial": ("#e7f1ff", "flex-end", "#1c4f9c"),
    "ai": ("#e6f6ea", "flex-end", "#1f7a3a"),
    "system": ("transparent", "center", "#868e96"),
}
_SENTIMENT_BINS = {"negative": (-1.01, -0.05), "neutral": (-0.05, 0.05), "positive": (0.05, 1.01)}

T = TypeVar("T")
# row positions per chat id: ``GroupBy.indices`` (int arrays at run time, where
# pandas-stubs also allows an Index or a list)
_Positions: TypeAlias = dict[Hashable, npt.NDArray[np.integer]]


class _Change(TypedDict, Generic[T]):
    """The part of a traitlets change an observer here reads: the new value."""

    new: T


# The rows of the kit's tables as the inspector reads them (dtypes: store/arrow.py):
# text is a str (NaN when missing), a flag np.bool_ or pd.NA, a time Timestamp or NaT.
class _MessageRow(Protocol):
    sender_role: str | float
    is_ai: object
    ai_model: str | float
    confidence: float
    sender_name: str | float
    sent_at: pd.Timestamp | NaTType
    content: str


class _ActionRow(Protocol):
    decided_at: pd.Timestamp | NaTType
    bot: str | float
    mode: str
    name: str
    ok: object
    error_code: str | float
    payload: str


def _missing(value: object) -> bool:
    """``pd.isna`` of one cell: None, NaN, pd.NA or NaT."""
    # ignore: pandas-stubs' scalar type leaves out numpy's bool (np.True_), a cell of a
    # ``boolean`` column, which pd.isna takes
    return bool(pd.isna(value))  # type: ignore[call-overload]


def _esc(value: object) -> str:
    return (
        ""
        if value is None or (not isinstance(value, str) and _missing(value))
        else html.escape(str(value))
    )


def _offset(at: pd.Timestamp, origin: pd.Timestamp) -> str:
    if pd.isna(at) or pd.isna(origin):
        return ""
    seconds = int((at - origin).total_seconds())
    sign = "-" if seconds < 0 else "+"
    minutes, secs = divmod(abs(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{sign}{minutes}m{secs:02d}s"


def _true(value: object) -> bool:
    """True for True-like values; False for False, None, NaN and pd.NA."""
    return value is not None and not _missing(value) and bool(value)


def _clock(at: pd.Timestamp | NaTType | None) -> str:
    return "" if at is None or pd.isna(at) else at.strftime("%H:%M:%S")


# ignore: ipywidgets ships no type information, so its base class is Any to mypy
class ChatInspector(Following, widgets.VBox):  # type: ignore[misc]
    """Browse the chats of a session (live, loaded or replayed).

    Filter by status, department, commercial, sentiment and message text; pick a chat to
    see its transcript (who said what and when, AI replies marked, sentiment when scored),
    its timeline and what bots did or would have done. On a live session or a replay it
    follows new events and keeps your selection.

    ``messages`` replaces the session's messages (e.g. a frame scored with
    ``gl.analysis.add_sentiment``); ``scorer`` scores the visitor messages of the chat on
    screen on the fly.
    """

    def __init__(
        self,
        session: InspectorSession,
        *,
        messages: pd.DataFrame | None = None,
        scorer: Callable[[str], object] | None = None,
        follow: bool | None = None,
        interval: float = 2.0,
        max_listed: int = 300,
    ) -> None:
        self.session = session
        self.scorer = scorer
        self.max_listed = max_listed
        self._messages_override = messages
        self._seen = -1
        self._chats = pd.DataFrame()
        self._messages = pd.DataFrame()
        self._positions: _Positions = {}
        self._action_positions: _Positions = {}
        self._actions = pd.DataFrame()
        self._search_hits: set[str] | None = None

        dropdown = {"layout": widgets.Layout(width="210px"), "style": {"description_width": "80px"}}
        self.status = widgets.Dropdown(description="Status", options=[ALL], **dropdown)
        self.department = widgets.Dropdown(description="Department", options=[ALL], **dropdown)
        self.commercial = widgets.Dropdown(description="Commercial", options=[ALL], **dropdown)
        self.sentiment = widgets.Dropdown(
            description="Sentiment", options=[ALL, *_SENTIMENT_BINS, "not scored"], **dropdown
        )
        self.search = widgets.Text(
            placeholder="search messages…",
            continuous_update=False,
            layout=widgets.Layout(width="220px"),
        )
        self.chat_list = widgets.Select(options=[], rows=18, layout=widgets.Layout(width="380px"))
        self.count = widgets.HTML()
        self.header = widgets.HTML()
        self.timeline = widgets.HTML()
        self.transcript = widgets.HTML()
        self.bot_actions = widgets.HTML()
        for control in (self.status, self.department, self.commercial, self.sentiment):
            control.observe(self._on_filter, names="value")
        self.search.observe(self._on_search, names="value")
        self.chat_list.observe(self._on_select, names="value")

        filters = widgets.HBox(
            [self.status, self.department, self.commercial, self.sentiment, self.search],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        detail = widgets.VBox(
            [self.header, self.timeline, self.transcript, self.bot_actions],
            layout=widgets.Layout(width="100%", padding="0 0 0 12px"),
        )
        super().__init__(
            [filters, widgets.HBox([widgets.VBox([self.chat_list, self.count]), detail])]
        )
        self.add_class("guiders-chat-inspector")
        self.refresh()
        if follow is None:
            follow = getattr(session, "kind", "") in ("live", "replay")
        self.follower = self._follow(self._refresh_if_changed, interval) if follow else None

    _quiet = False

    # ------------------------------------------------------------------ data
    def refresh(self) -> None:
        """Re-read the session's tables and redraw, keeping filters and selection."""
        s = self.session
        self._seen = len(s.store)
        chats = s.chats
        self._chats = chats.set_index("chat_id", drop=False).sort_values(
            "created_at", ascending=False, na_position="first", kind="stable"
        )
        messages = self._messages_override if self._messages_override is not None else s.messages
        self._messages = messages.reset_index(drop=True)
        self._positions = cast(_Positions, self._messages.groupby("chat_id", sort=False).indices)
        self._actions = s.actions.reset_index(drop=True)
        self._action_positions = (
            cast(_Positions, self._actions.groupby("chat_id", sort=False).indices)
            if len(self._actions)
            else {}
        )
        if self._search_hits is not None:
            self._search_hits = self._matching(self.search.value)
        self._update_options()
        self._update_list()

    def _refresh_if_changed(self) -> None:
        if len(self.session.store) != self._seen:
            self.refresh()

    def _update_options(self) -> None:
        chats = self._chats
        for control, column in (
            (self.status, "status"),
            (self.department, "department"),
            (self.commercial, "commercial_id"),
        ):
            values = sorted(str(v) for v in chats[column].dropna().unique())
            options = [ALL, *values]
            if list(control.options) != options:
                current = control.value
                self._quiet = True  # changing options fires value events: ignore them
                try:
                    control.options = options
                    control.value = current if current in options else ALL
                finally:
                    self._quiet = False

    def _filtered(self) -> pd.DataFrame:
        chats = self._chats
        for control, column in (
            (self.status, "status"),
            (self.department, "department"),
            (self.commercial, "commercial_id"),
        ):
            if control.value != ALL:
                chats = chats[chats[column] == control.value]
        if self.sentiment.value != ALL:
            score = chats["min_sentiment"]
            if self.sentiment.value == "not scored":
                chats = chats[score.isna()]
            else:
                low, high = _SENTIMENT_BINS[self.sentiment.value]
                chats = chats[(score > low) & (score <= high)]
        if self._search_hits is not None:
            chats = chats[chats["chat_id"].isin(self._search_hits)]
        return chats

    def _matching(self, text: str) -> set[str] | None:
        if not text.strip():
            return None
        hits = self._messages["content"].str.contains(text, case=False, regex=False, na=False)
        return set(self._messages.loc[hits, "chat_id"])

    def _update_list(self) -> None:
        chats = self._filtered()
        shown = chats.head(self.max_listed)
        labels = [
            f"{_clock(created)}  {chat_id}  {visitor or ''}  · {status}{'  ⚠' if flag else ''}"
            for chat_id, created, visitor, status, flag in zip(
                shown["chat_id"],
                shown["created_at"],
                shown["visitor_name"].fillna(""),
                shown["status"].fillna("?"),
                shown["escalated"].fillna(False),
                strict=True,
            )
        ]
        options = list(zip(labels, shown["chat_id"], strict=True))
        current = self.chat_list.value
        self._quiet = True
        try:
            if self.chat_list.options != tuple(options):
                self.chat_list.options = options
            if current in set(shown["chat_id"]):
                self.chat_list.value = current
            elif options:
                self.chat_list.value = options[0][1]
        finally:
            self._quiet = False
        more = f" (showing {len(shown):,}; narrow the filters)" if len(chats) > len(shown) else ""
        self.count.value = f"<small>{len(chats):,} of {len(self._chats):,} chats{more}</small>"
        if self.chat_list.value is not None:
            self.show(self.chat_list.value)
        else:
            self.header.value = "<i>No chat matches these filters.</i>"
            self.timeline.value = self.transcript.value = self.bot_actions.value = ""

    # ------------------------------------------------------------------ events
    def _on_filter(self, _: object) -> None:
        if not self._quiet:
            self._update_list()

    def _on_search(self, change: _Change[str]) -> None:
        self._search_hits = self._matching(change["new"])
        self._update_list()

    def _on_select(self, change: _Change[str | None]) -> None:
        if change["new"] is not None and not self._quiet:
            self.show(change["new"])

    def select(self, chat_id: str) -> None:
        """Show a chat (it must be in the current list; clear filters to see any)."""
        if chat_id not in {value for _, value in self.chat_list.options}:
            raise KeyError(f"{chat_id!r} is not in the filtered list")
        self.chat_list.value = chat_id

    # ------------------------------------------------------------------ rendering
    def show(self, chat_id: str) -> None:
        """Render one chat's header, timeline, transcript and bot actions."""
        chat = cast(pd.Series, self._chats.loc[chat_id])  # one row: chat ids are unique
        positions = self._positions.get(chat_id, np.empty(0, dtype=np.intp))
        messages = self._messages.take(positions).sort_values("sent_at", kind="stable")
        self.header.value = self._render_header(chat)
        self.timeline.value = self._render_timeline(chat)
        self.transcript.value = self._render_transcript(messages, chat)
        self.bot_actions.value = self._render_actions(chat_id)

    def _render_header(self, chat: pd.Series) -> str:
        bits = [
            f"<b>{_esc(chat['chat_id'])}</b>",
            _esc(chat["visitor_name"]),
            _esc(chat["department"]),
            _esc(chat["language"]),
            f"status {_esc(chat['status'])}",
        ]
        if pd.notna(chat.get("commercial_id")):
            bits.append(f"commercial {_esc(chat['commercial_id'])}")
        if _true(chat.get("escalated")):
            bits.append("<span style='color:#c92a2a'>⚠ urgent</span>")
        if pd.notna(chat.get("min_sentiment")):
            bits.append(f"lowest sentiment {chat['min_sentiment']:+.2f}")
        return "<div class='gl-chat-header'>" + " · ".join(b for b in bits if b) + "</div>"

    def _render_timeline(self, chat: pd.Series) -> str:
        origin = chat["created_at"]
        steps = [
            ("created", chat["created_at"], ""),
            ("first visitor message", chat["first_visitor_message_at"], ""),
            (
                "assigned",
                chat["first_assigned_at"],
                f"{_esc(chat['commercial_id'])} · {int(chat['n_assignments'])} assignment(s)",
            ),
            ("first AI response", chat["first_ai_response_at"], ""),
            ("first human response", chat["first_human_response_at"], ""),
            (
                "closed",
                chat["closed_at"],
                f"{_esc(chat['close_reason'])}"
                + (" · converted" if _true(chat["converted"]) else ""),
            ),
        ]
        cells = "".join(
            f"<td style='padding:2px 10px 2px 0'><b>{label}</b><br>{_clock(at)} "
            f"<small>{_offset(at, origin)}</small><br><small>{detail}</small></td>"
            for label, at, detail in steps
            if at is not None and not pd.isna(at)
        )
        return f"<table class='gl-timeline'><tr>{cells}</tr></table>"

    def _render_transcript(self, messages: pd.DataFrame, chat: pd.Series) -> str:
        scores = messages.get("sentiment_score")
        parts = []
        rows = cast(Iterator[_MessageRow], messages.itertuples(index=False))
        for i, m in enumerate(rows):
            role = m.sender_role if isinstance(m.sender_role, str) else "system"
            role = role if role in _ROLE_STYLE else "system"
            if _true(m.is_ai):
                role = "ai"
            background, align, color = _ROLE_STYLE[role]
            badge = ""
            if role == "ai":
                model = f" {_esc(m.ai_model)}" if isinstance(m.ai_model, str) else ""
                confidence = (
                    f" · {m.confidence:.0%}"
                    if m.confidence is not None and not _missing(m.confidence)
                    else ""
                )
                badge = f"<span class='gl-ai-badge'>AI{model}{confidence}</span> "
            mood = ""
            score = scores.iloc[i] if scores is not None else None
            if (
                (score is None or pd.isna(score))
                and self.scorer is not None
                and m.sender_role == "visitor"
            ):
                result = self.scorer(m.content)
                score = getattr(result, "score", result)
            if score is not None and not pd.isna(score):
                tint = "#c92a2a" if score <= -0.05 else "#2b8a3e" if score >= 0.05 else "#868e96"
                mood = f" <span style='color:{tint}'>sentiment {score:+.2f}</span>"
            parts.append(
                f"<div class='gl-message gl-{role}' style='display:flex;justify-content:{align}'>"
                f"<div style='background:{background};border-radius:8px;padding:4px 8px;"
                f"margin:2px 0;max-width:80%'><small style='color:{color}'>{badge}"
                f"<b>{_esc(m.sender_name) or role}</b> ({role}) · {_clock(m.sent_at)}"
                f"{mood}</small><br>{_esc(m.content)}</div></div>"
            )
        body = "".join(parts) or "<i>No messages yet.</i>"
        return (
            f"<div class='gl-transcript' data-chat='{_esc(chat['chat_id'])}' "
            f"style='max-height:420px;overflow-y:auto'>{body}</div>"
        )

    def _render_actions(self, chat_id: str) -> str:
        positions = self._action_positions.get(chat_id)
        if positions is None or not len(positions):
            return "<small><i>No bot actions on this chat.</i></small>"
        rows = self._actions.take(positions)
        lines = "".join(
            f"<tr><td>{_clock(a.decided_at)}</td><td>{_esc(a.bot) or 'you'}</td>"
            f"<td>{_esc(a.mode)}</td><td>{_esc(a.name)}</td>"
            f"<td>{'–' if a.ok is None or _missing(a.ok) else '✓' if a.ok else '✗ '}"
            f"{_esc(a.error_code) if a.ok is False or a.ok is np.False_ else ''}"
            f"</td><td><code>{_esc(str(a.payload)[:90])}</code></td></tr>"
            for a in cast(Iterator[_ActionRow], rows.itertuples(index=False))
        )
        return (
            "<b>Actions</b><table class='gl-actions'><tr><th>at</th><th>bot</th><th>mode"
            f"</th><th>action</th><th>ok</th><th>payload</th></tr>{lines}</table>"
        )

    def __repr__(self) -> str:
        return (
            f"<ChatInspector {len(self._chats):,} chats, showing {self.chat_list.value or 'none'}>"
        )
