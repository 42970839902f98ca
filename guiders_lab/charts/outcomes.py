"""Assignment and outcome charts: waiting times, workload, reassignments, how chats end."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..analysis import active_chats, chat_outcomes, outcome_summary
from ._style import COLORS, chat_count_bars, chat_list, finish

__all__ = [
    "abandonment_conversion",
    "close_reasons",
    "reassignments",
    "time_to_assign",
    "time_to_first_response",
    "workload",
]

_LABELS = {"commercial_id": "commercial", "department": "department", "hour": "hour (UTC)"}


def _waiting_box(chats: pd.DataFrame, column: str, by: str, title: str) -> go.Figure:
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
    fig.update_layout(showlegend=False)
    return finish(fig, title, x=_LABELS.get(by, by), y="seconds")


def time_to_assign(chats: pd.DataFrame, by: str = "commercial_id") -> go.Figure:
    """Seconds from a chat opening to its first assignment, per commercial (or
    ``by="department"``, ``"hour"``); each point is a chat (hover shows its id)."""
    return _waiting_box(chats, "time_to_assign_s", by, "Time to assign")


def time_to_first_response(chats: pd.DataFrame, by: str = "department") -> go.Figure:
    """Seconds from a visitor's first message to the first answer, per group."""
    return _waiting_box(chats, "time_to_first_response_s", by, "Time to first response")


def workload(assignments: pd.DataFrame, chats: pd.DataFrame, freq: str = "15min") -> go.Figure:
    """Chats each commercial was carrying over time."""
    active = active_chats(assignments, chats, freq)
    fig = go.Figure()
    for commercial, rows in active.groupby("commercial_id", sort=True):
        fig.add_trace(
            go.Scatter(
                x=rows["at"],
                y=rows["active_chats"],
                mode="lines",
                name=str(commercial),
                line={"shape": "hv"},
                hovertemplate="%{x}<br>%{y} chats<extra>%{fullData.name}</extra>",
            )
        )
    return finish(fig, "Workload per commercial", x="time", y="active chats")


def reassignments(chats: pd.DataFrame) -> go.Figure:
    """Chats that changed hands, per current commercial (hover lists the chats)."""
    moved = chats[chats["n_assignments"].fillna(0) > 1]
    fig = chat_count_bars(moved, "commercial_id", "reassigned chats")
    return finish(fig, "Reassigned chats", x="commercial (now)", y="chats")


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
    return finish(fig, "How chats ended", x="close reason", y="chats")


def abandonment_conversion(chats: pd.DataFrame, by: str = "department") -> go.Figure:
    """Abandonment and conversion rates per group."""
    summary = outcome_summary(chat_outcomes(chats), by=by)
    x = summary.index.astype(str)
    fig = go.Figure(
        [
            go.Bar(
                x=x,
                y=summary["abandonment_rate"],
                name="abandoned",
                marker_color=COLORS["abandoned"],
                customdata=summary["chats"],
                hovertemplate="%{x}: %{y:.0%} abandoned of %{customdata} chats<extra></extra>",
            ),
            go.Bar(
                x=x,
                y=summary["conversion_rate"],
                name="converted",
                marker_color=COLORS["resolved"],
                customdata=summary["chats"],
                hovertemplate="%{x}: %{y:.0%} converted of %{customdata} chats<extra></extra>",
            ),
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(tickformat=".0%")
    return finish(fig, "Abandonment and conversion", x=_LABELS.get(by, by), y="share of chats")
