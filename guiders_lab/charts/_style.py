"""Shared look of the kit's charts, and hover text that names chats."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "COLORS",
    "FEW_CHATS",
    "PALETTE",
    "chat_count_bars",
    "chat_list",
    "few",
    "finish",
    "mark_few",
]

# a rate or a median resting on fewer chats than this is marked as such ("n=3")
FEW_CHATS = 10

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


def _drew_nothing(fig: go.Figure) -> bool:
    def size(values: object) -> int:
        return 0 if values is None else len(values)  # type: ignore[arg-type]

    return all(
        size(getattr(trace, "x", None)) == 0 and size(getattr(trace, "y", None)) == 0
        for trace in fig.data
    )


def few(n: int) -> str:
    """The note of a group resting on few chats ("" when there are enough)."""
    return f"n={n}, few chats" if n < FEW_CHATS else ""


def mark_few(fig: go.Figure, group: str, top: float, n: int) -> None:
    """Write "n=3, few chats" above a box or bar whose statistic rests on few chats."""
    if few(n):
        fig.add_annotation(
            x=group, y=top, text=few(n), showarrow=False, yshift=12, font={"size": 11}
        )


def finish(
    fig: go.Figure,
    title: str,
    *,
    x: str | None = None,
    y: str | None = None,
    height: int = 380,
    empty: str | None = None,
) -> go.Figure:
    """Title, axis labels and the common layout; returns the figure for chaining. A chart
    with nothing drawn says why (``empty``) instead of showing bare axes (a figure filled
    later, as the dashboard's, passes none)."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 100},
        # the legend at the figure's foot, below the x axis title (a legend placed by the
        # plot's height lands on that title in a short chart)
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
        hoverlabel={"align": "left"},
    )
    if x is not None:
        fig.update_xaxes(title_text=x)
    if y is not None:
        fig.update_yaxes(title_text=y)
    if empty is not None and _drew_nothing(fig):
        fig.add_annotation(
            text=empty, xref="paper", yref="paper", x=0.5, y=0.5, showarrow=False,
            font={"size": 14}, align="center",
        )  # fmt: skip
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
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
