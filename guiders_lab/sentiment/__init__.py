"""Offline sentiment for Spanish and English support chats.

>>> gl.sentiment.score("Es la tercera vez que escribo y nadie me responde!!!")
Sentiment(score=-0.8..., label='negative', intensity=0.9..., language='es', ...)

``score`` is deterministic and needs no download. Plug in your own scorer anywhere the
kit takes one (``gl.analysis.add_sentiment``, ``SentimentMonitor(scorer=...)``): any
callable ``text -> object with score/label/intensity`` (or a float in [-1, 1]).
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from .engine import Sentiment, SentimentEngine

__all__ = ["Sentiment", "SentimentEngine", "add_to", "score"]


@lru_cache(maxsize=1)
def _engine() -> SentimentEngine:
    return SentimentEngine()


def score(text: str) -> Sentiment:
    """Sentiment of one message: ``score`` in [-1, 1], ``label``, ``intensity``, ``language``."""
    return _engine().score(text)


def add_to(messages: pd.DataFrame, roles: tuple[str, ...] = ("visitor",)) -> pd.DataFrame:
    """A copy of ``messages`` with ``sentiment_score``, ``sentiment_label``,
    ``sentiment_intensity`` and ``sentiment_language`` for messages from ``roles``."""
    from ..analysis import add_sentiment

    out = add_sentiment(messages, score, roles=roles)
    mask = messages["sender_role"].isin(roles)
    language = pd.Series(pd.NA, index=messages.index, dtype="str")
    language[mask] = [score(text).language for text in messages.loc[mask, "content"]]
    return out.assign(sentiment_language=language)
