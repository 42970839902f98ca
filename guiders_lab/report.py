"""A self-contained HTML report of a session: summary tables and interactive charts.

One file, plotly.js inlined once, no kernel and no network needed to open it. With
``redact_pii=True`` e-mails, phone numbers and card numbers in the tables it is built from
(and the title) are masked, for a report that leaves the team (see
:mod:`guiders_lab.privacy`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from . import analysis, charts
from ._protocols import ReportSource
from ._version import __version__
from .privacy import redact_frame
from .privacy import redact_pii as _mask
from .summary import summarize

__all__ = ["build_report", "write_report"]

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto;
       max-width: 1200px; color: #212529; }
h1 { font-size: 1.6em; margin-bottom: 0; } h2 { margin-top: 2em; font-size: 1.2em; }
.meta { color: #868e96; } table.gl { border-collapse: collapse; margin: 8px 0; }
table.gl td, table.gl th { border-bottom: 1px solid #dee2e6; padding: 4px 10px;
                           text-align: right; } table.gl th { background: #f8f9fa; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
"""


def _table(frame: pd.DataFrame, digits: int = 2) -> str:
    return frame.to_html(
        classes="gl", float_format=lambda v: f"{v:,.{digits}f}", na_rep="–", border=0, escape=True
    )


def _pairs(rows: list[tuple[str, object]]) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table class='gl'>{body}</table>"


def _duration(value: pd.Timedelta | None) -> str:
    if value is None or pd.isna(value):
        return "–"
    seconds = value.total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


class _Masked:
    """A session's tables with personal data masked, each masked once."""

    def __init__(self, session: ReportSource) -> None:
        self._session = session
        self.source = _mask(str(session.source))
        self._frames: dict[str, pd.DataFrame] = {}

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = redact_frame(self._session.table(name))
        return self._frames[name].copy()

    def counts(self) -> Mapping[str, int]:
        return self._session.counts()

    @property
    def events(self) -> pd.DataFrame:
        return self.table("events")

    @property
    def messages(self) -> pd.DataFrame:
        return self.table("messages")

    @property
    def chats(self) -> pd.DataFrame:
        return self.table("chats")

    @property
    def assignments(self) -> pd.DataFrame:
        return self.table("assignments")

    @property
    def latency(self) -> pd.DataFrame:
        return self.table("latency")

    @property
    def actions(self) -> pd.DataFrame:
        return self.table("actions")

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.table("quarantine")


def build_report(
    session: ReportSource, title: str | None = None, *, redact_pii: bool = False
) -> str:
    """The report as one HTML string (``redact_pii``: see :func:`write_report`)."""
    if redact_pii:
        session = _Masked(session)
        title = None if title is None else _mask(title)
    s = summarize(session)
    chats, messages = session.chats, session.messages
    figures: list[go.Figure] = []
    if len(messages):
        figures.append(charts.message_volume(messages, freq="15min"))
    if len(chats):
        figures += [
            charts.close_reasons(chats),
            charts.abandonment_conversion(chats),
            charts.time_to_assign(chats),
            charts.time_to_first_response(chats),
        ]
        if len(session.assignments):
            figures.append(charts.workload(session.assignments, chats))
    latency = session.latency
    if len(latency):
        figures.append(charts.ping_latency(latency))
    if session.events["lag_ms"].notna().any():
        figures.append(charts.event_lag(session.events))
    if len(session.actions):
        figures.append(charts.processing_time(session.actions))
    plots = []
    for i, fig in enumerate(figures):
        plots.append(
            fig.to_html(
                full_html=False,
                include_plotlyjs=(i == 0),
                config={"displaylogo": False, "responsive": True},
            )
        )
    overview = _pairs(
        [
            ("source", s["source"]),
            ("dialect", s["dialect"] or "–"),
            ("events in / out", f"{s['events_in']:,} / {s['events_out']:,}"),
            ("chats", f"{s['chats']:,} ({s['chats_open']} open, {s['converted']} converted)"),
            ("messages", f"{s['messages']:,}"),
            ("assignments", f"{s['assignments']:,}"),
            ("median time to assign", _duration(s["median_time_to_assign"])),
            ("median time to first response", _duration(s["median_time_to_first_response"])),
            (
                "ping round trip (median)",
                "–" if s["ping_ms_median"] is None else f"{s['ping_ms_median']:.1f} ms",
            ),
            (
                "event lag p50 / p95",
                "–"
                if s["event_lag_ms_p50"] is None
                else f"{s['event_lag_ms_p50']:.1f} / {s['event_lag_ms_p95']:.1f} ms",
            ),
            ("quarantined events", s["quarantined"]),
        ]
    )
    sections = [f"<h2>Overview</h2>{overview}"]
    if len(chats):
        outcomes = analysis.chat_outcomes(chats)
        sections.append(
            "<h2>Outcomes by department</h2>"
            + _table(analysis.outcome_summary(outcomes, by="department"))
        )
        sections.append("<h2>Commercials</h2>" + _table(analysis.commercial_summary(outcomes)))
    if len(messages):
        turns = analysis.response_latency(messages)
        if turns["response_s"].notna().any():
            sections.append(
                "<h2>Response latency (seconds)</h2>"
                + _table(analysis.response_latency_summary(turns), 1)
            )
    by_count = sorted(s["events_by_type"].items(), key=lambda kv: -kv[1])
    counts = pd.DataFrame(by_count, columns=["event", "count"]).set_index("event")
    sections.append("<h2>Events by type</h2>" + _table(counts, 0))
    title = title or f"guiders-lab report · {session.source}"
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='meta'>made {made} by guiders-lab "
        f"{__version__}</p>"
        + "".join(sections)
        + "<h2>Charts</h2><div class='grid'>"
        + "".join(f"<div>{p}</div>" for p in plots)
        + "</div></body></html>"
    )


def write_report(
    session: ReportSource, path: str | Path, title: str | None = None, *, redact_pii: bool = False
) -> Path:
    """Write :func:`build_report` to ``path`` and return it.

    ``redact_pii=True`` masks e-mails, phone numbers and card numbers (``[email]``,
    ``[phone]``, ``[card]``) in everything the report shows, ids included, for a report
    shared outside the team; the session itself is not changed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(session, title, redact_pii=redact_pii), encoding="utf-8")
    return path
