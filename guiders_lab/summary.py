"""A plain-text summary of a session: what the demo and ``replay`` print."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypedDict

import pandas as pd

from ._protocols import SessionTables
from .analysis import chat_outcomes, event_lag_summary, outcome_summary, ping_summary

__all__ = ["Summary", "format_summary", "summarize"]


class Summary(TypedDict):
    """What :func:`summarize` returns: plain Python values (a dict at run time)."""

    source: str
    dialect: str | None  # the events' dialect(s)
    events_by_type: Mapping[str, int]
    events_in: int
    events_out: int
    chats: int
    chats_open: int
    close_reasons: Mapping[Hashable, int]
    converted: int
    abandonment_rate: float | None
    conversion_rate: float | None
    messages: int
    messages_by_role: Mapping[Hashable, int]
    assignments: int
    assignments_by: Mapping[Hashable, int]
    median_time_to_assign: pd.Timedelta | None
    median_time_to_first_response: pd.Timedelta | None
    median_time_to_first_human_response: pd.Timedelta | None
    ping_ms_mean: float | None
    ping_ms_median: float | None
    event_lag_ms_p50: float | None
    event_lag_ms_p95: float | None
    event_lag_left_out: int
    quarantined: int


def _median_s(seconds: pd.Series) -> pd.Timedelta | None:
    seconds = seconds.dropna()
    return pd.Timedelta(seconds=float(seconds.median())) if len(seconds) else None


def _value(stats: pd.DataFrame, column: str) -> float | None:
    value = stats[column].iloc[0]
    return None if pd.isna(value) else float(value)


def summarize(session: SessionTables) -> Summary:
    """Headline numbers of a session, as plain Python values. Each is computed by the
    analysis function that defines it (see the README's "Metrics")."""
    chats = session.chats
    messages = session.messages
    assignments = session.assignments
    events = session.events
    outcomes = chat_outcomes(chats)
    overall = outcome_summary(outcomes)
    closed = outcomes[outcomes["closed"]]
    pings = ping_summary(session.latency)
    lag = event_lag_summary(events)
    return {
        "source": session.source,
        "dialect": ", ".join(sorted(events["dialect"].dropna().unique())) or None,
        "events_by_type": session.counts(),
        "events_in": int((events["direction"] == "in").sum()),
        "events_out": int((events["direction"] == "out").sum()),
        "chats": len(chats),
        "chats_open": len(chats) - len(closed),
        "close_reasons": closed["close_reason"].value_counts().to_dict(),
        "converted": int(closed["converted"].sum()),
        "abandonment_rate": _value(overall, "abandonment_rate") if len(chats) else None,
        "conversion_rate": _value(overall, "conversion_rate") if len(chats) else None,
        "messages": len(messages),
        "messages_by_role": messages["sender_role"].value_counts().to_dict(),
        "assignments": len(assignments),
        "assignments_by": assignments["assigned_by"].value_counts().to_dict(),
        "median_time_to_assign": _median_s(outcomes["time_to_assign_s"]),
        "median_time_to_first_response": _median_s(outcomes["time_to_first_response_s"]),
        "median_time_to_first_human_response": _median_s(outcomes["time_to_first_human_s"]),
        "ping_ms_mean": None if pings["n"] == 0 else float(pings["mean"]),
        "ping_ms_median": None if pings["n"] == 0 else float(pings["p50"]),
        "event_lag_ms_p50": _value(lag, "p50"),
        "event_lag_ms_p95": _value(lag, "p95"),
        "event_lag_left_out": int(lag["n_duplicates"].iloc[0] + lag["n_resync"].iloc[0]),
        "quarantined": len(session.quarantine),
    }


def _duration(value: pd.Timedelta | None) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    seconds = value.total_seconds()
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _pairs(mapping: Mapping[Hashable, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(mapping.items(), key=lambda kv: -kv[1])) or "-"


def format_summary(summary: Summary) -> str:
    """Render :func:`summarize` output as an aligned text block."""
    width = max(len(name) for name in summary["events_by_type"]) if summary["events_by_type"] else 8
    dialect = f" ({summary['dialect']})" if summary.get("dialect") else ""
    lines = [f"Session {summary['source']}{dialect}", "", "Events by type"]
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
        (
            "Abandoned / converted",
            f"{_rate(summary['abandonment_rate'])} / {_rate(summary['conversion_rate'])} "
            "of closed chats",
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
            f"{_ms(summary['event_lag_ms_p50'])} / {_ms(summary['event_lag_ms_p95'])}"
            + (
                f" ({summary['event_lag_left_out']:,} repeated or re-delivered left out)"
                if summary["event_lag_left_out"]
                else ""
            ),
        ),
        ("Quarantined events", str(summary["quarantined"])),
    ]
    lines.append("")
    label = max(len(k) for k, _ in rows)
    lines += [f"{k:<{label}}  {v}" for k, v in rows]
    return "\n".join(lines)
