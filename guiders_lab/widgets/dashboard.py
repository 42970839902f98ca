"""``gl.LiveDashboard(session)``: counters and charts that keep up with the stream.

Each refresh reads only the rows added since the last one (``ColumnTable.to_arrow(start=)``)
and folds them into small running aggregates, then redraws plotly ``FigureWidget``s in one
batch. A 2,000 events/s stream costs a few milliseconds of kernel time per refresh. The
chats carried per commercial are recomputed at each refresh from the assignments folded so
far and the chats' close times (a chat closes long after its assignment was folded), with
the very function and traces of ``gl.charts.workload``.
"""

from __future__ import annotations

import html
import time
from collections import Counter, deque
from copy import deepcopy
from typing import Literal, cast

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from .._protocols import DashboardSession
from ..analysis import workload_steps
from ..charts._style import COLORS, PALETTE, finish
from ..charts._workload import TraceSpec, YAxis, workload_traces, y_axis
from ._chat_html import LOCAL_CLOCK, SERVER_CLOCK
from ._follow import Following

__all__ = ["LiveDashboard"]

_ROLES = ("visitor", "commercial", "ai", "system")
_ASSIGNMENT_COLUMNS = ["chat_id", "commercial_id", "assigned_at"]
# the chats' server times the carried chats need: when they closed, and the latest time
# seen (the end of the data, until which an open chat counts)
_CHAT_TIMES = ["created_at", "last_message_at", "closed_at"]
# what a refresh may change
_TRACE_DATA: tuple[Literal["x", "y", "customdata", "hovertemplate"], ...] = (
    "x",
    "y",
    "customdata",
    "hovertemplate",
)


def _same(new: np.ndarray | str | None, old: np.ndarray | str | None) -> bool:
    """Whether a trace property is unchanged (arrays compared by value)."""
    if new is None or old is None or isinstance(new, str):
        return new is old or (isinstance(new, str) and new == old)
    return len(new) == len(old) and bool(np.array_equal(new, old))


def _sync_widget_state(figure: go.FigureWidget) -> None:
    """Copy a FigureWidget's data into its synced state. Edits reach an open view as
    messages, but a view opened later (a FigureWidget inside a box, or Voila rendering the
    state left after the notebook ran) draws from this state, which plotly only refreshes
    when the figure itself is displayed (it does the same in ``_repr_mimebundle_``)."""
    figure._widget_layout = deepcopy(figure._layout_obj._props)
    figure._widget_data = deepcopy(figure._data)


# ignore: ipywidgets ships no type information, so its base class is Any to mypy
class LiveDashboard(Following, widgets.VBox):  # type: ignore[misc]
    """Key counters, message volume, latency, chat outcomes and the chats each commercial
    carried over time (as ``gl.charts.workload``: from assignment until reassigned or
    closed), updated at most every ``interval`` seconds while it runs."""

    def __init__(
        self,
        session: DashboardSession,
        *,
        interval: float = 1.0,
        freq: str = "1min",
        follow: bool | None = None,
        height: int = 300,
    ) -> None:
        self.session = session
        self.freq = freq
        self._offsets: Counter[str] = Counter()
        self._volume: Counter[tuple[pd.Timestamp, str]] = Counter()
        self._pings: deque[tuple[pd.Timestamp, float]] = deque(maxlen=2_000)
        self._lag: deque[tuple[pd.Timestamp, float]] = deque(maxlen=2_000)
        self._commercials: dict[str, tuple[str, int, int]] = {}
        self._assignments = pd.DataFrame(columns=_ASSIGNMENT_COLUMNS)
        self._colors: dict[str, str] = {}  # kept across refreshes: a commercial keeps its color
        self._load_sent: dict[str, TraceSpec] = {}  # what each load trace was last given
        self._load_hidden: set[str] = set()
        self._load_layout: tuple[str, YAxis] | None = None
        self._load_drawn: tuple[object, ...] | None = None  # see _load_inputs
        # (monotonic time, events) for events/s
        self._rate: deque[tuple[float, int]] = deque(maxlen=10)
        self.redraws = 0

        self.counters = widgets.HTML()
        self.volume = go.FigureWidget(
            finish(go.Figure(), "Messages", x=SERVER_CLOCK, y=f"per {freq}", height=height)
        )
        for role in _ROLES:
            self.volume.add_bar(x=[], y=[], name=role, marker_color=COLORS[role])
        self.volume.update_layout(barmode="stack", bargap=0.05)
        self.latency = go.FigureWidget(
            finish(go.Figure(), "Latency", x=LOCAL_CLOCK, y="ms", height=height)
        )
        self.latency.add_scatter(
            x=[], y=[], mode="lines+markers", name="ping round trip", line={"color": COLORS["ping"]}
        )
        self.latency.add_scatter(
            x=[], y=[], mode="lines", name="event lag", line={"color": COLORS["event_lag"]}
        )
        self.outcomes = go.FigureWidget(finish(go.Figure(), "Chats", y="chats", height=height))
        self.outcomes.add_bar(x=[], y=[], marker_color=[])
        self.load = go.FigureWidget(
            finish(
                go.Figure(),
                "Chats carried per commercial",
                x=SERVER_CLOCK,
                y="chats carried",
                height=height,
            )
        )
        grid = widgets.GridBox(
            [self.volume, self.latency, self.outcomes, self.load],
            layout=widgets.Layout(grid_template_columns="1fr 1fr"),
        )
        super().__init__([self.counters, grid])
        self.add_class("guiders-live-dashboard")
        self.refresh()
        if follow is None:
            follow = getattr(session, "kind", "") in ("live", "replay")
        self.follower = self._follow(self.refresh, interval) if follow else None

    # ------------------------------------------------------------------ data
    def _new(self, table: str, columns: list[str]) -> pd.DataFrame:
        """Rows added to ``table`` since the last refresh (only ``columns``)."""
        store_table = self.session.store.tables[table]
        start = self._offsets[table]
        arrow = store_table.to_arrow(columns=columns, start=start)
        self._offsets[table] = start + arrow.num_rows
        return arrow.to_pandas()

    def _fold(self) -> None:
        messages = self._new("messages", ["sent_at", "received_at", "sender_role", "is_ai"])
        if len(messages):
            at = messages["sent_at"].fillna(messages["received_at"]).dt.floor(self.freq)
            role = messages["sender_role"].where(~messages["is_ai"].astype(bool), "ai")
            role = role.where(role.isin(_ROLES), "system")
            # count per (bucket, role) in pandas: hashing a Timestamp per row is slow
            for key, n in pd.DataFrame({"at": at, "role": role}).value_counts().items():
                bucket, who = cast(tuple[pd.Timestamp, str], key)  # the two-level index
                self._volume[(bucket, who)] += int(n)
        assignments = self._new("assignments", _ASSIGNMENT_COLUMNS)
        if len(assignments):
            self._assignments = (
                pd.concat([self._assignments, assignments], ignore_index=True)
                if len(self._assignments)
                else assignments
            )
        latency = self._new("latency", ["at", "kind", "value_ms"])
        for at, kind, value in latency.itertuples(index=False):
            (self._pings if kind == "ping" else self._lag).append((at, value))
        presence = self._new(
            "presence", ["role", "person_id", "status", "active_chats", "max_chats"]
        )
        commercials = presence[presence["role"] == "commercial"]
        for person, status, active, most in commercials.iloc[:, 1:].itertuples(index=False):
            self._commercials[person] = (
                status,
                0 if pd.isna(active) else int(active),
                0 if pd.isna(most) else int(most),
            )

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Fold in what arrived since the last refresh and redraw."""
        self._fold()
        store = self.session.store
        now = time.monotonic()
        self._rate.append((now, len(store)))
        first_t, first_n = self._rate[0]
        rate = (len(store) - first_n) / (now - first_t) if now > first_t else 0.0
        chats = store.chats
        counts = dict(store.counts)
        # closes arrive as chat:closed (ai-api) or, polled over REST, rest:chat-closed
        closed = counts.get("chat:closed", 0) + counts.get("rest:chat-closed", 0)
        open_chats = max(0, len(chats) - closed)
        m = self.session.metrics()
        cells = [
            ("events", f"{m['events_received']:,}"),
            ("events/s", f"{rate:,.0f}"),
            ("messages", f"{sum(self._volume.values()):,}"),  # rows, whatever the event
            ("chats open", f"{open_chats:,}"),
            ("closed", f"{closed:,}"),
            ("assignments", f"{len(self._assignments):,}"),
            ("quarantined", f"{m['quarantined']:,}"),
            ("ping", "–" if m["last_latency_ms"] is None else f"{m['last_latency_ms']:.1f} ms"),
            ("lag", "–" if m["event_lag_ms"] is None else f"{m['event_lag_ms']:.1f} ms"),
        ]
        if m.get("bots"):  # how the attached bots keep up with the stream
            lag = m["bot_lag_ms"]
            cells.append(("bot lag", "–" if lag is None else f"{lag:,.0f} ms"))
            cells.append(("bot backlog", f"{m['bot_backlog']:,}"))
            if m["bot_skipped"]:
                cells.append(("bot skipped", f"{m['bot_skipped']:,}"))
        self.counters.value = (
            "<div class='gl-counters' style='display:flex;gap:18px'>"
            + "".join(
                f"<div><small>{html.escape(k)}</small><br><b class='gl-counter' data-name="
                f"'{html.escape(k)}'>{v}</b></div>"
                for k, v in cells
            )
            + "</div>"
        )
        self._draw(open_chats)
        self.redraws += 1

    def _draw(self, open_chats: int) -> None:
        buckets = sorted({at for at, _ in self._volume})
        with self.volume.batch_update():
            for trace, role in zip(self.volume.data, _ROLES, strict=True):
                trace.x = buckets
                trace.y = [self._volume.get((b, role), 0) for b in buckets]
        with self.latency.batch_update():
            self.latency.data[0].x = [at for at, _ in self._pings]
            self.latency.data[0].y = [v for _, v in self._pings]
            self.latency.data[1].x = [at for at, _ in self._lag]
            self.latency.data[1].y = [v for _, v in self._lag]
        chats = self.session.store.chats.to_arrow()
        reasons = self._closed_reasons_now(chats)
        reasons["open"] = open_chats
        with self.outcomes.batch_update():
            self.outcomes.data[0].x = list(reasons)
            self.outcomes.data[0].y = list(reasons.values())
            self.outcomes.data[0].marker.color = [COLORS.get(r, "#72B7B2") for r in reasons]
        figures = [self.volume, self.latency, self.outcomes]
        if self._draw_load(chats):
            figures.append(self.load)  # a big figure: its state is copied only when it changed
        for figure in figures:
            _sync_widget_state(figure)

    @staticmethod
    def _closed_reasons_now(chats: pa.Table) -> dict[str, int]:
        """Close reasons so far, from the chats ledger's small state (no table read)."""
        counts = chats.column("close_reason").value_counts()
        reasons = counts.field("values").to_pylist()
        n = cast(list[int], counts.field("counts").to_pylist())  # counts are never null
        return {reason: k for reason, k in zip(reasons, n, strict=True) if reason is not None}

    def _color(self, label: str) -> str:
        return self._colors.setdefault(label, PALETTE[len(self._colors) % len(PALETTE)])

    def _load_inputs(self, chats: pa.Table, notes: dict[str, str]) -> tuple[object, ...]:
        """A cheap fingerprint of what the carried chats depend on: the assignments folded,
        every chat's close time, the latest server time (the end of the data) and the
        hover notes. The same fingerprint, the same chart."""
        times = chats.select(_CHAT_TIMES)
        closed = pc.cast(times.column("closed_at"), pa.int64())
        return (
            len(self._assignments),
            closed.null_count,
            pc.sum(closed).as_py(),
            tuple(pc.max(column).as_py() for column in times.columns),
            tuple(sorted(notes.items())),
        )

    def _draw_load(self, chats: pa.Table) -> bool:
        """Chats carried per commercial: the traces of ``gl.charts.workload``, with the
        capacity and status each commercial last reported in its hover. False when
        nothing it depends on changed since the last refresh (nothing redrawn)."""
        notes = {
            person: f"capacity {most} chats, {status}"
            for person, (status, _, most) in self._commercials.items()
            if most
        }
        inputs = self._load_inputs(chats, notes)
        if inputs == self._load_drawn:
            return False
        self._load_drawn = inputs
        chat_times = chats.select(["chat_id", *_CHAT_TIMES]).to_pandas()
        steps = workload_steps(self._assignments, chat_times)
        traces, title = workload_traces(steps, color=self._color, notes=notes)
        axis = y_axis(steps, title)
        shown = {trace.name: trace for trace in self.load.data}
        drawn = {spec["name"] for spec in traces}
        with self.load.batch_update():
            if (title, axis) != self._load_layout:
                self.load.layout.title.text = title
                self.load.update_yaxes(**axis)
                self._load_layout = (title, axis)
            for spec in traces:
                name = spec["name"]
                if name not in shown:
                    self.load.add_scatter(**spec)
                else:
                    # hand plotly only what changed: it checks every property it is given
                    # (most refreshes move only the lines' last point, the end of data)
                    sent = self._load_sent.get(name)
                    changed: dict[str, object] = {
                        k: spec.get(k)
                        for k in _TRACE_DATA
                        if not _same(spec.get(k), None if sent is None else sent.get(k))
                    }
                    if name in self._load_hidden:
                        changed["showlegend"] = spec.get("showlegend", True)
                        self._load_hidden.discard(name)
                    if changed:
                        shown[name].update(changed)
                self._load_sent[name] = spec
            for name, trace in shown.items():  # e.g. step lines after switching to bins
                if name not in drawn and name not in self._load_hidden:
                    trace.update(x=[], y=[], customdata=None, showlegend=False)
                    self._load_hidden.add(name)
                    self._load_sent.pop(name, None)
        return True

    def __repr__(self) -> str:
        return f"<LiveDashboard {self.redraws} redraws of {self.session!r}>"
