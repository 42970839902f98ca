"""Assignment and outcome charts: waiting times, workload, reassignments, how chats end."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..analysis import chat_outcomes, outcome_summary, workload_steps
from ._style import COLORS, chat_count_bars, chat_list, finish, mark_few
from ._workload import workload_traces, y_axis

__all__ = [
    "abandonment_conversion",
    "close_reasons",
    "reassignments",
    "time_to_assign",
    "time_to_first_response",
    "workload",
]

_LABELS = {"commercial_id": "commercial", "department": "department", "hour": "hour (UTC)"}


def _waiting_box(chats: pd.DataFrame, column: str, by: str, title: str, empty: str) -> go.Figure:
    outcomes = chat_outcomes(chats)
    fig = go.Figure()
    data = outcomes[outcomes[column].notna()]
    for group, rows in data.groupby(by, sort=True):
        fig.add_trace(
            go.Box(
                y=rows[column],
                name=str(group),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                customdata=rows[["chat_id", "department", "commercial_id"]].astype(str).to_numpy(),
                hovertemplate="%{customdata[0]}<br>%{y:.0f} s<br>%{customdata[1]}, "
                "%{customdata[2]}<extra></extra>",
            )
        )
        mark_few(fig, str(group), float(rows[column].max()), len(rows))
    fig.update_layout(showlegend=False)
    return finish(fig, title, x=_LABELS.get(by, by), y="seconds", empty=empty)


def time_to_assign(chats: pd.DataFrame, by: str = "commercial_id") -> go.Figure:
    """Seconds from a chat's creation to its first assignment, per commercial (or
    ``by="department"``, ``"hour"``); each point is a chat (hover shows its id)."""
    return _waiting_box(
        chats, "time_to_assign_s", by, "Time to assign (from chat creation)",
        f"No chat has been assigned yet (of {len(chats):,} chats).",
    )  # fmt: skip


def time_to_first_response(chats: pd.DataFrame, by: str = "department") -> go.Figure:
    """Seconds from a chat's creation to its first response (the first commercial or AI
    message at or after the visitor's first message), per group; each point is a chat."""
    return _waiting_box(
        chats, "time_to_first_response_s", by, "Time to first response (from chat creation)",
        f"No chat has a first response yet (of {len(chats):,} chats): none had a commercial "
        "or AI message after the visitor's first.",
    )  # fmt: skip


def workload(assignments: pd.DataFrame, chats: pd.DataFrame, freq: str | None = None) -> go.Figure:
    """Chats carried per commercial over time (:func:`~guiders_lab.analysis.workload_steps`).

    By default the exact step function, one line per commercial, with a marker at every
    assignment it carried (hover: chat id, commercial, time, level), so every assignment
    shows even when a take and a release happen at the same instant. With ``freq`` (or
    over 20,000 changes) per bin instead: the most carried at any moment in the bin
    ("max in bin") and the time-weighted mean, the bin size in the title.
    """
    steps = workload_steps(assignments, chats)
    traces, title = workload_traces(steps, freq)
    fig = go.Figure([go.Scatter(**trace) for trace in traces])
    fig.update_yaxes(**y_axis(steps, title))
    return finish(
        fig, title, x="time", y="chats carried", empty="No assignments: nobody carried a chat."
    )


def reassignments(chats: pd.DataFrame) -> go.Figure:
    """Chats that changed hands, per current commercial (hover lists the chats)."""
    assigned = int((chats["n_assignments"].fillna(0) > 0).sum())
    moved = chats[chats["n_assignments"].fillna(0) > 1]
    fig = chat_count_bars(moved, "commercial_id", "reassigned chats")
    why = (
        f"No chat changed hands: each of the {assigned:,} assigned chats kept its first commercial."
        if assigned
        else "No chat has been assigned yet."
    )
    return finish(fig, "Reassigned chats", x="commercial (now)", y="chats", empty=why)


def close_reasons(chats: pd.DataFrame) -> go.Figure:
    """How chats ended (still-open chats counted as "open"); hover lists chat ids."""
    reason = chats["close_reason"].fillna("open").astype(str)
    grouped = chats.assign(reason=reason).groupby("reason", sort=True)
    counts = grouped.size()
    hover = [chat_list(ids) for _, ids in grouped["chat_id"]]
    fig = go.Figure(
        go.Bar(
            x=counts.index,
            y=counts.to_numpy(),
            customdata=hover,
            marker_color=[COLORS.get(r, "#72B7B2") for r in counts.index],
            hovertemplate="%{x}: %{y} chats<br>%{customdata}<extra></extra>",
        )
    )
    return finish(fig, "How chats ended", x="close reason", y="chats", empty="No chats yet.")


def abandonment_conversion(chats: pd.DataFrame, by: str = "department") -> go.Figure:
    """Abandonment and conversion rates per group, over the group's closed chats (see
    :func:`~guiders_lab.analysis.outcome_summary`)."""
    summary = outcome_summary(chat_outcomes(chats), by=by)
    summary = summary[summary["closed"] > 0]
    x = summary.index.astype(str)
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=summary["abandonment_rate"],
                name="abandoned",
                marker_color=COLORS["abandoned"],
                customdata=summary["closed"],
                hovertemplate="%{x}: %{y:.0%} abandoned of %{customdata} closed chats"
                "<extra></extra>",
            ),
            go.Bar(
                x=x,
                y=summary["conversion_rate"],
                name="converted",
                marker_color=COLORS["resolved"],
                customdata=summary["closed"],
                hovertemplate="%{x}: %{y:.0%} converted of %{customdata} closed chats"
                "<extra></extra>",
            ),
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(tickformat=".0%")
    rates = summary[["abandonment_rate", "conversion_rate"]].max(axis=1).fillna(0.0)
    for group, top, n in zip(x, rates, summary["closed"], strict=True):
        mark_few(fig, group, float(top), int(n))
    return finish(
        fig, "Abandonment and conversion", x=_LABELS.get(by, by), y="share of closed chats",
        empty=f"No closed chats yet (of {len(chats):,}): the rates are over closed chats.",
    )  # fmt: skip
