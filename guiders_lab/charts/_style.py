"""Shared look of the kit's charts, and hover text that names chats."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

__all__ = ["COLORS", "PALETTE", "chat_count_bars", "chat_list", "finish"]

COLORS = {
    "visitor": "#4C78A8",
    "commercial": "#F58518",
    "ai": "#54A24B",
    "system": "#BAB0AC",
    "resolved": "#54A24B",
    "abandoned": "#E45756",
    "timeout": "#B279A2",
    "open": "#BAB0AC",
    "ping": "#4C78A8",
    "event_lag": "#F58518",
}

# one color per person (commercials in the workload chart), in the same family as COLORS
PALETTE = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#E45756",
    "#72B7B2",
    "#B279A2",
    "#EECA3B",
    "#FF9DA6",
    "#9D755D",
    "#BAB0AC",
)


def finish(
    fig: go.Figure, title: str, *, x: str | None = None, y: str | None = None, height: int = 380
) -> go.Figure:
    """Title, axis labels and the common layout; returns the figure for chaining."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 80},
        legend={"orientation": "h", "y": -0.3, "yanchor": "top"},
        hoverlabel={"align": "left"},
    )
    if x is not None:
        fig.update_xaxes(title_text=x)
    if y is not None:
        fig.update_yaxes(title_text=y)
    return fig


def chat_list(chat_ids: Iterable[str], limit: int = 8) -> str:
    """A short hover-friendly list of chat ids: "chat-1, chat-2, ... (+12 more)"."""
    ids = list(chat_ids)
    shown = "<br>".join(ids[:limit])
    return shown + (f"<br>… (+{len(ids) - limit} more)" if len(ids) > limit else "")


def chat_count_bars(chats: pd.DataFrame, by: str, what: str, color: str | None = None) -> go.Figure:
    """One bar per ``by`` group counting ``chats``, the hover listing them (``what`` names
    them, e.g. "urgent chats")."""
    grouped = chats.groupby(by, sort=True)
    counts = grouped.size()
    return go.Figure(
        go.Bar(
            x=counts.index.astype(str),
            y=counts.to_numpy(),
            customdata=[chat_list(ids) for _, ids in grouped["chat_id"]],
            marker_color=color,
            hovertemplate=f"%{{x}}: %{{y}} {what}<br>%{{customdata}}<extra></extra>",
        )
    )
