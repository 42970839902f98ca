"""Message volume over time."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ._style import COLORS, finish

__all__ = ["message_volume"]


def message_volume(
    messages: pd.DataFrame, freq: str = "5min", by: str = "sender_role"
) -> go.Figure:
    """Messages per ``freq`` bucket, stacked by sender role (or any column)."""
    counts = (
        messages.groupby([pd.Grouper(key="sent_at", freq=freq), by])
        .size()
        .rename("messages")
        .reset_index()
    )
    fig = go.Figure()
    for group, rows in counts.groupby(by, sort=True):
        fig.add_trace(
            go.Bar(
                x=rows["sent_at"],
                y=rows["messages"],
                name=str(group),
                marker_color=COLORS.get(str(group)),
                hovertemplate="%{x}<br>%{y} messages<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(barmode="stack", bargap=0.05)
    return finish(
        fig, "Messages over time", x="time", y=f"messages per {freq}", empty="No messages yet."
    )
