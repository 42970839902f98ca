"""Offline sentiment for Spanish and English support chats.

>>> gl.sentiment.score("Es la tercera vez que escribo y nadie me responde!!!")
Sentiment(score=-0.8..., label='negative', intensity=0.9..., language='es', ...)

``score`` is deterministic and needs no download. Plug in your own scorer anywhere the
kit takes one (``gl.analysis.add_sentiment``, ``SentimentMonitor(scorer=...)``): any
callable ``text -> object with score/label/intensity`` (or a float in [-1, 1]).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .engine import Sentiment, SentimentEngine

__all__ = ["Sentiment", "SentimentEngine", "add_to", "evaluate", "score"]


@lru_cache(maxsize=1)
def _engine() -> SentimentEngine:
    return SentimentEngine()


def score(text: str) -> Sentiment:
    """Sentiment of one message: ``score`` in [-1, 1], ``label``, ``intensity``, ``language``."""
    return _engine().score(text)


def add_to(messages: pd.DataFrame, roles: tuple[str, ...] = ("visitor",)) -> pd.DataFrame:
    """A copy of ``messages`` with ``sentiment_score``, ``sentiment_label``,
    ``sentiment_intensity`` and ``sentiment_language`` for messages from ``roles`` (the
    columns :func:`guiders_lab.analysis.add_sentiment` adds, plus the language)."""
    mask = messages["sender_role"].isin(roles).to_numpy(dtype=bool)
    verdicts = [score(text) for text in messages.loc[mask, "content"]]
    n, index = len(messages), messages.index
    scores, intensity = np.full(n, np.nan), np.full(n, np.nan)
    labels = np.full(n, None, dtype=object)
    languages = np.full(n, None, dtype=object)
    if verdicts:  # positional arrays: a pandas setitem would read a tuple as a key
        scores[mask] = [v.score for v in verdicts]
        labels[mask] = [v.label for v in verdicts]
        intensity[mask] = [v.intensity for v in verdicts]
        languages[mask] = [v.language for v in verdicts]
    return messages.assign(
        sentiment_score=pd.Series(scores, index=index),
        sentiment_label=pd.Series(labels, index=index, dtype="str"),
        sentiment_intensity=pd.Series(intensity, index=index),
        sentiment_language=pd.Series(languages, index=index, dtype="str"),
    )


def evaluate(
    path: str | Path, scorer: Callable[[str], object] | None = None, urgent_threshold: float = 0.7
) -> dict[str, float]:
    """Score a labelled CSV (columns ``language, label, urgent, text``, like the kit's
    ``data/sentiment/labelled.csv``) with ``scorer`` (default: this module's) and return
    accuracy (overall and per language) and the precision and recall of the urgent flag
    (negative with intensity above ``urgent_threshold``, as ``SentimentMonitor`` uses it)."""
    scorer = scorer or score
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    verdicts = [scorer(text) for text in frame["text"]]
    predicted = pd.Series([getattr(v, "label", None) for v in verdicts], index=frame.index)
    flagged = pd.Series(
        [
            getattr(v, "label", None) == "negative"
            and getattr(v, "intensity", 0.0) > urgent_threshold
            for v in verdicts
        ],
        index=frame.index,
    )
    urgent = frame["urgent"].str.lower() == "true"
    hits = predicted == frame["label"]
    found = int((flagged & urgent).sum())
    result = {"rows": len(frame), "accuracy": float(hits.mean())}
    for language in sorted(frame["language"].unique()):
        result[f"accuracy_{language}"] = float(hits[frame["language"] == language].mean())
    result["urgent_precision"] = found / max(1, int(flagged.sum()))
    result["urgent_recall"] = found / max(1, int(urgent.sum()))
    return result
