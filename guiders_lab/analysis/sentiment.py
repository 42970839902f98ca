"""Sentiment hooks: score messages with any scorer, then follow it over time.

A scorer is any callable ``text -> score`` where the score is a float in [-1, 1], a
``(score, label, intensity)`` tuple, a dict, or an object with ``score``/``label``/
``intensity`` attributes (the kit's own scorer returns such an object).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._keys import chat_key

__all__ = ["add_sentiment", "chat_sentiment", "sentiment_timeline"]

SENTIMENT_COLUMNS = ("sentiment_score", "sentiment_label", "sentiment_intensity")


def _label(score: float) -> str:
    return "negative" if score <= -0.05 else "positive" if score >= 0.05 else "neutral"


# A scorer's result is Any on purpose: the user's callable may return a number (numpy's
# too), a (score, label, intensity) tuple, a dict or an object with those attributes, and
# _normalise duck-types all of them.
def _normalise(result: Any) -> tuple[float, str, float]:
    if isinstance(result, numbers.Real):  # numpy's integers and floats too
        score = float(result)
        return score, _label(score), abs(score)
    if isinstance(result, tuple):
        score, label, intensity = result
    elif isinstance(result, dict):
        score, label, intensity = result["score"], result.get("label"), result.get("intensity")
    else:
        score, label, intensity = result.score, result.label, result.intensity
    score = float(score)
    return score, label or _label(score), abs(score) if intensity is None else float(intensity)


def add_sentiment(
    messages: pd.DataFrame, scorer: Callable[[str], object], roles: tuple[str, ...] = ("visitor",)
) -> pd.DataFrame:
    """A copy of ``messages`` with ``sentiment_score``, ``sentiment_label`` and
    ``sentiment_intensity``, filled for messages from ``roles`` (NaN for the others).

    >>> scored = gl.analysis.add_sentiment(rec.messages, lambda text: -0.8 if "!!" in text else 0.1)
    >>> scored[["content", "sentiment_score", "sentiment_label"]].head()   # doctest: +SKIP
    """
    mask = messages["sender_role"].isin(roles).to_numpy(dtype=bool)
    results = [_normalise(scorer(text)) for text in messages.loc[mask, "content"]]
    scores = np.full(len(messages), np.nan)
    labels = np.full(len(messages), None, dtype=object)
    intensity = np.full(len(messages), np.nan)
    if results:  # positional arrays: a pandas setitem would read a tuple of labels as a key
        s, lab, i = zip(*results, strict=True)
        scores[mask], labels[mask], intensity[mask] = s, lab, i
    index = messages.index
    return messages.assign(
        sentiment_score=pd.Series(scores, index=index),
        sentiment_label=pd.Series(labels, index=index, dtype="str"),
        sentiment_intensity=pd.Series(intensity, index=index),
    )


def chat_sentiment(scored: pd.DataFrame) -> pd.DataFrame:
    """Per chat (per session and chat in a dataset): lowest, mean and last visitor
    sentiment (feeds ``chats.min_sentiment``)."""
    s = scored.dropna(subset=["sentiment_score"]).sort_values("sent_at", kind="stable")
    by_chat = s.groupby(chat_key(scored))["sentiment_score"]
    # ignore: pandas-stubs types a SeriesGroupBy's named aggregation as a Series (it is a
    # DataFrame, one column per name)
    return by_chat.agg(  # type: ignore[return-value]
        min_sentiment="min", mean_sentiment="mean", last_sentiment="last", n_scored="count"
    )


def sentiment_timeline(
    scored: pd.DataFrame, freq: str = "15min", by: str | None = None
) -> pd.DataFrame:
    """Mean sentiment and message count per time bucket (optionally per ``by`` column,
    e.g. ``"department"`` or ``"chat_id"``), long format."""
    s = scored.dropna(subset=["sentiment_score"])
    keys = [pd.Grouper(key="sent_at", freq=freq)] + ([by] if by else [])
    out = s.groupby(keys)["sentiment_score"].agg(
        mean_sentiment="mean", messages="count", negative_share=lambda x: (x <= -0.05).mean()
    )
    return out.reset_index()
