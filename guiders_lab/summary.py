"""A plain-text summary of a session: what the demo and ``replay`` print."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .session.base import Session

__all__ = ["format_summary", "summarize"]


def _median(series: pd.Series) -> pd.Timedelta | None:
    series = series.dropna()
    return series.median() if len(series) else None


def summarize(session: Session) -> dict[str, Any]:
    """Headline numbers of a session, as plain Python values."""
    chats = session.chats
    messages = session.messages
    assignments = session.assignments
    latency = session.latency
    events = session.events
    closed = chats[chats["closed_at"].notna()]
    pings = latency.loc[latency["kind"] == "ping", "value_ms"]
    lags = events["lag_ms"].dropna()
    return {
        "source": session.source,
        "events_by_type": session.counts(),
        "events_in": int((events["direction"] == "in").sum()),
        "events_out": int((events["direction"] == "out").sum()),
        "chats": len(chats),
        "chats_open": int(chats["closed_at"].isna().sum()),
        "close_reasons": closed["close_reason"].value_counts().to_dict(),
        "converted": int(closed["converted"].fillna(False).sum()),
        "messages": len(messages),
        "messages_by_role": messages["sender_role"].value_counts().to_dict(),
        "assignments": len(assignments),
        "assignments_by": assignments["assigned_by"].value_counts().to_dict(),
        "median_time_to_assign": _median(chats["time_to_assign"]),
        "median_time_to_first_response": _median(chats["time_to_first_response"]),
        "median_time_to_first_human_response": _median(
            chats["first_human_response_at"] - chats["created_at"]
        ),
        "ping_ms_mean": float(pings.mean()) if len(pings) else None,
        "ping_ms_median": float(pings.median()) if len(pings) else None,
        "event_lag_ms_p50": float(lags.quantile(0.5)) if len(lags) else None,
        "event_lag_ms_p95": float(lags.quantile(0.95)) if len(lags) else None,
        "quarantined": len(session.quarantine),
    }


def _duration(value: pd.Timedelta | None) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    seconds = value.total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _pairs(mapping: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(mapping.items(), key=lambda kv: -kv[1])) or "-"


def format_summary(summary: dict[str, Any]) -> str:
    """Render :func:`summarize` output as an aligned text block."""
    width = max(len(name) for name in summary["events_by_type"]) if summary["events_by_type"] else 8
    lines = [f"Session {summary['source']}", "", "Events by type"]
    for name, n in sorted(summary["events_by_type"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {name:<{width}}  {n:>7,}")
    lines.append(
        f"  {'(in / out)':<{width}}  {summary['events_in']:>7,} / {summary['events_out']:,}"
    )
    rows = [
        (
            "Chats",
            f"{summary['chats']} ({summary['chats_open']} open; closed: "
            f"{_pairs(summary['close_reasons'])}; {summary['converted']} converted)",
        ),
        ("Messages", f"{summary['messages']} ({_pairs(summary['messages_by_role'])})"),
        ("Assignments", f"{summary['assignments']} ({_pairs(summary['assignments_by'])})"),
        ("Median time to assign", _duration(summary["median_time_to_assign"])),
        ("Median time to first response", _duration(summary["median_time_to_first_response"])),
        (
            "  ... to first human response",
            _duration(summary["median_time_to_first_human_response"]),
        ),
        (
            "Ping round trip (mean / median)",
            f"{_ms(summary['ping_ms_mean'])} / {_ms(summary['ping_ms_median'])}",
        ),
        (
            "Event lag (p50 / p95)",
            f"{_ms(summary['event_lag_ms_p50'])} / {_ms(summary['event_lag_ms_p95'])}",
        ),
        ("Quarantined events", str(summary["quarantined"])),
    ]
    lines.append("")
    label = max(len(k) for k, _ in rows)
    lines += [f"{k:<{label}}  {v}" for k, v in rows]
    return "\n".join(lines)
