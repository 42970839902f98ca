"""Sentiment charts, over messages scored with ``gl.analysis.add_sentiment``."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go

from ._style import chat_count_bars, finish, mark_few

__all__ = ["sentiment_distribution", "sentiment_timeline", "urgent_flags"]


def _scored(messages: pd.DataFrame) -> pd.DataFrame:
    if "sentiment_score" not in messages.columns:
        raise ValueError(
            "messages have no sentiment yet: use gl.analysis.add_sentiment(messages, scorer) first"
        )
    return messages[messages["sentiment_score"].notna()]


def sentiment_timeline(
    scored: pd.DataFrame, chat_ids: Iterable[str] | None = None, limit: int = 12
) -> go.Figure:
    """Each chat's visitor sentiment message by message (the ``limit`` most negative chats
    unless ``chat_ids`` are given); hover shows the text."""
    data = _scored(scored)
    if chat_ids is None:
        worst = data.groupby("chat_id")["sentiment_score"].min().nsmallest(limit)
        chat_ids = worst.index
    fig = go.Figure()
    for chat_id in chat_ids:
        rows = data[data["chat_id"] == chat_id].sort_values("sent_at")
        fig.add_trace(
            go.Scatter(
                x=rows["sent_at"],
                y=rows["sentiment_score"],
                mode="lines+markers",
                name=str(chat_id),
                customdata=rows["content"].str.slice(0, 120).to_numpy(),
                hovertemplate="%{fullData.name}<br>%{y:.2f}: %{customdata}<extra></extra>",
            )
        )
    fig.update_yaxes(range=[-1.05, 1.05])
    return finish(fig, "Sentiment per chat", x="time", y="sentiment")


def sentiment_distribution(scored: pd.DataFrame, by: str = "department") -> go.Figure:
    """Visitor sentiment per department (or ``by="hour"``)."""
    data = _scored(scored)
    if by == "hour":
        data = data.assign(hour=data["sent_at"].dt.hour)
    fig = go.Figure()
    for group, rows in data.groupby(by, sort=True):
        fig.add_trace(
            go.Box(
                y=rows["sentiment_score"],
                name=str(group),
                boxpoints="outliers",
                customdata=rows["chat_id"].to_numpy(),
                hovertemplate="%{y:.2f}<br>%{customdata}<extra></extra>",
            )
        )
        mark_few(fig, str(group), float(rows["sentiment_score"].max()), rows["chat_id"].nunique())
    fig.update_layout(showlegend=False)
    return finish(fig, f"Sentiment by {by}", x=by, y="sentiment")


def urgent_flags(chats: pd.DataFrame, by: str = "department") -> go.Figure:
    """Chats flagged urgent (escalated), per group; hover lists them."""
    flagged = chats[chats["escalated"].fillna(False).astype(bool)]
    fig = chat_count_bars(flagged, by, "urgent chats", color="#E45756")
    return finish(
        fig, "Chats flagged urgent", x=by, y="chats",
        empty=f"No chat flagged urgent (of {len(chats):,}): none had an acknowledged "
        "chat:update setting priority high or urgent, or an escalation tag.",
    )  # fmt: skip
