"""``gl.LiveDashboard(session)``: counters and charts that keep up with the stream.

Each refresh reads only the rows added since the last one (``ColumnTable.tail(start=)``)
and folds them into small running aggregates, then replaces the charts whose data changed.
The charts are plain plotly figures (``PlotView``), not ``FigureWidget``s: opening the
dashboard sends tens of KB, not the 27 MB of four copies of plotly.js, and an update sends
only the charts that changed. The chats carried per commercial are recomputed from the
assignments folded so far and the chats' close times (a chat closes long after its
assignment was folded), with the very function and traces of ``gl.charts.workload``.
"""

from __future__ import annotations

import html
import time
from collections import Counter, deque
from typing import Any, cast

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pyarrow.compute as pc

from .._protocols import DashboardSession
from ..analysis import workload_steps
from ..charts._style import COLORS, PALETTE, finish
from ..charts._workload import TITLE, workload_traces, y_axis
from ._chat_html import LOCAL_CLOCK, SERVER_CLOCK
from ._follow import Following
from ._plot_view import PlotView, base_layout

__all__ = ["LiveDashboard"]

_ROLES = ("visitor", "commercial", "ai", "system")
_ASSIGNMENT_COLUMNS = ["chat_id", "commercial_id", "assigned_at"]
# the chats' server times the carried chats need: when they closed, and the latest time
# seen (the end of the data, until which an open chat counts)
_CHAT_TIMES = ["created_at", "last_message_at", "closed_at"]
# the latency chart shows the latest points (a ping every few seconds: minutes of them)
_LATENCY_POINTS = 600
# charts side by side down to this width each, one above the other below it
_CHART_MIN_WIDTH = "420px"
MAX_WIDTH = "1000px"


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
        self._load_drawn: tuple[object, ...] | None = None  # see _load_inputs
        # (monotonic time, events) for events/s
        self._rate: deque[tuple[float, int]] = deque(maxlen=10)
        self.redraws = 0

        self.counters = widgets.HTML()
        self._layouts = {
            "volume": base_layout(
                finish(go.Figure(), "Messages", x=SERVER_CLOCK, y=f"per {freq}", height=height)
            )
            | {"barmode": "stack", "bargap": 0.05},
            "latency": base_layout(
                finish(go.Figure(), "Latency", x=LOCAL_CLOCK, y="ms", height=height)
            ),
            "outcomes": base_layout(finish(go.Figure(), "Chats", y="chats", height=height)),
            "load": base_layout(
                finish(go.Figure(), TITLE, x=SERVER_CLOCK, y="chats carried", height=height)
            ),
        }
        self.volume = PlotView(height)
        self.latency = PlotView(height)
        self.outcomes = PlotView(height)
        self.load = PlotView(height)
        grid = widgets.GridBox(
            [self.volume, self.latency, self.outcomes, self.load],
            layout=widgets.Layout(
                grid_template_columns=f"repeat(auto-fit, minmax({_CHART_MIN_WIDTH}, 1fr))"
            ),
        )
        super().__init__([self.counters, grid], layout=widgets.Layout(max_width=MAX_WIDTH))
        self.add_class("guiders-live-dashboard")
        self.refresh()
        if follow is None:
            follow = getattr(session, "kind", "") in ("live", "replay", "background")
        self.follower = self._follow(self.refresh, interval) if follow else None

    # ------------------------------------------------------------------ data
    def _new(self, table: str, columns: list[str]) -> pd.DataFrame:
        """Rows added to ``table`` since the last refresh (only ``columns``)."""
        store_table = self.session.store.tables[table]
        # the next offset comes with the rows: past any a retention limit dropped meanwhile
        arrow, self._offsets[table] = store_table.tail(columns, self._offsets[table])
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
            "<div class='gl-counters' style='display:flex;flex-wrap:wrap;gap:6px 18px'>"
            + "".join(
                f"<div><small>{html.escape(k)}</small><br><b class='gl-counter' data-name="
                f"'{html.escape(k)}'>{v}</b></div>"
                for k, v in cells
            )
            + "</div>"
        )
        self._draw(open_chats)
        self.redraws += 1

    @property
    def views(self) -> tuple[PlotView, ...]:
        return (self.volume, self.latency, self.outcomes, self.load)

    @property
    def bytes_sent(self) -> int:
        """JSON of the figures sent to the browser so far (the counters' HTML aside)."""
        return sum(view.bytes_sent for view in self.views)

    def _figure(self, chart: str, data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
        return {"data": data, "layout": self._layouts[chart] | layout}

    def _draw(self, open_chats: int) -> None:
        buckets = sorted({at for at, _ in self._volume})
        bars = [
            {
                "type": "bar",
                "name": role,
                "x": buckets,
                "y": [self._volume.get((b, role), 0) for b in buckets],
                "marker": {"color": COLORS[role]},
            }
            for role in _ROLES
        ]
        self.volume.show(self._figure("volume", bars))
        lines = [
            (self._pings, "ping round trip", "lines+markers", COLORS["ping"]),
            (self._lag, "event lag", "lines", COLORS["event_lag"]),
        ]
        traces = []
        for points, name, mode, color in lines:
            shown = list(points)[-_LATENCY_POINTS:]
            traces.append(
                {
                    "type": "scatter",
                    "mode": mode,
                    "name": name,
                    "x": [at for at, _ in shown],
                    "y": [v for _, v in shown],
                    "line": {"color": color},
                }
            )
        self.latency.show(self._figure("latency", traces))
        chats = self.session.store.chats.to_arrow()
        reasons = self._closed_reasons_now(chats)
        reasons["open"] = open_chats
        self.outcomes.show(
            self._figure(
                "outcomes",
                [
                    {
                        "type": "bar",
                        "x": list(reasons),
                        "y": list(reasons.values()),
                        "marker": {"color": [COLORS.get(r, "#72B7B2") for r in reasons]},
                    }
                ],
            )
        )
        self._draw_load(chats)

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
        nothing it depends on changed since the last refresh (nothing recomputed)."""
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
        layout = self._layouts["load"]
        return self.load.show(
            self._figure(
                "load",
                [{"type": "scatter", **spec} for spec in traces],
                title=layout["title"] | {"text": title},
                yaxis=layout["yaxis"] | y_axis(steps, title),
            )
        )

    def __repr__(self) -> str:
        return f"<LiveDashboard {self.redraws} redraws of {self.session!r}>"
