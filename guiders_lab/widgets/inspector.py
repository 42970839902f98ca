"""``gl.ChatInspector(session)``: find a chat, read it, see its timeline and bot actions."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeAlias, TypedDict, TypeVar, cast

import ipywidgets as widgets
import numpy as np
import numpy.typing as npt
import pandas as pd

from .._protocols import InspectorSession
from ._chat_html import clock, render_actions, render_header, render_timeline, render_transcript
from ._follow import Following

__all__ = ["ChatInspector"]

ALL = "(all)"
_SENTIMENT_BINS = {"negative": (-1.01, -0.05), "neutral": (-0.05, 0.05), "positive": (0.05, 1.01)}

T = TypeVar("T")
# row positions per chat id: ``GroupBy.indices`` (int arrays at run time, where
# pandas-stubs also allows an Index or a list)
_Positions: TypeAlias = dict[Hashable, npt.NDArray[np.integer]]


class _Change(TypedDict, Generic[T]):
    """The part of a traitlets change an observer here reads: the new value."""

    new: T


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
        self._scores: dict[str, float] = {}  # message id -> the scorer's score, once each

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
        # new chats of a followed session are announced here, never slid in under the pointer
        self.new_chats = widgets.Button(
            description="", layout=widgets.Layout(display="none", width="380px")
        )
        self.new_chats.on_click(lambda _: self._update_list())
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
            [
                filters,
                widgets.HBox(
                    [
                        widgets.VBox(  # the list keeps its width; the transcript takes the rest
                            [self.new_chats, self.chat_list, self.count],
                            layout=widgets.Layout(flex="0 0 380px", min_width="380px"),
                        ),
                        detail,
                    ]
                ),
            ]
        )
        self.add_class("guiders-chat-inspector")
        self.refresh()
        if follow is None:
            follow = getattr(session, "kind", "") in ("live", "replay", "background")
        self.follower = self._follow(self._refresh_if_changed, interval) if follow else None

    _quiet = False

    # ------------------------------------------------------------------ data
    def refresh(self, *, hold_new: bool = False) -> None:
        """Re-read the session's tables and redraw, keeping filters and selection;
        ``hold_new`` (following a session) keeps the rows in place and announces new
        chats instead of inserting them (``new_chats`` shows them)."""
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
        self._update_list(hold_new=hold_new)

    def _refresh_if_changed(self) -> None:
        if len(self.session.store) != self._seen:
            self.refresh(hold_new=True)

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
            score = self._chat_sentiment().reindex(chats.index)
            if self.sentiment.value == "not scored":
                chats = chats[score.isna()]
            else:
                low, high = _SENTIMENT_BINS[self.sentiment.value]
                chats = chats[(score > low) & (score <= high)]
        if self._search_hits is not None:
            chats = chats[chats["chat_id"].isin(self._search_hits)]
        return chats

    def _chat_sentiment(self) -> pd.Series:
        """Each chat's lowest visitor sentiment: of the scored messages (a
        ``sentiment_score`` column, or ``scorer`` applied once per message) and of the
        chats table (a SentimentMonitor's notes), whichever is lower."""
        noted = self._chats["min_sentiment"]
        m = self._messages
        if not len(m) or ("sentiment_score" not in m.columns and self.scorer is None):
            return noted
        visitor = m[m["sender_role"] == "visitor"]
        if "sentiment_score" in m.columns:
            scores = pd.to_numeric(visitor["sentiment_score"], errors="coerce")
        else:
            for message_id, text in zip(visitor["message_id"], visitor["content"], strict=True):
                if message_id not in self._scores:
                    self._scores[message_id] = self._score(text)
            scores = visitor["message_id"].map(self._scores)
        lowest = scores.groupby(visitor["chat_id"]).min().reindex(noted.index)
        return pd.concat([lowest, noted], axis=1).min(axis=1)

    def _score(self, text: str) -> float:
        assert self.scorer is not None
        try:
            result = self.scorer(text)
            return float(cast(float, getattr(result, "score", result)))
        except Exception:  # a scorer that fails on one text leaves it unscored
            return float("nan")

    def _matching(self, text: str) -> set[str] | None:
        if not text.strip():
            return None
        hits = self._messages["content"].str.contains(text, case=False, regex=False, na=False)
        return set(self._messages.loc[hits, "chat_id"])

    def _update_list(self, *, hold_new: bool = False) -> None:
        chats = self._filtered()
        shown = chats.head(self.max_listed)
        listed = [value for _, value in self.chat_list.options]
        held = 0
        if hold_new and listed:  # rows stay where they are; newcomers wait for a click
            held = int((~shown["chat_id"].isin(set(listed))).sum())
            shown = self._chats.loc[[c for c in listed if c in self._chats.index]]
        self.new_chats.description = f"↑ {held:,} new chat{'s' * (held != 1)}: show" if held else ""
        self.new_chats.layout.display = "flex" if held else "none"
        labels = [
            f"{clock(created)}  {chat_id}  {visitor or ''}  · {status}{'  ⚠' if flag else ''}"
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
        self.header.value = render_header(chat)
        self.timeline.value = render_timeline(chat)
        self.transcript.value = render_transcript(messages, chat, self.scorer)
        actions = self._action_positions.get(chat_id)
        rows = None if actions is None else self._actions.take(actions)
        self.bot_actions.value = render_actions(rows)

    def __repr__(self) -> str:
        return (
            f"<ChatInspector {len(self._chats):,} chats, showing {self.chat_list.value or 'none'}>"
        )
