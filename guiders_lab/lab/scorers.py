"""Scorers: what makes a reply good, as numbers the comparison can test.

A scorer gets a :class:`Trial` (the visitor's message, the reply and its costs, the human
commercial's real reply when there was one) and returns a number or a bool (pass/fail), or
None when it does not apply. Plain functions work too: ``gl.lab.scorer(fn, name=...)``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeAlias

from ..models import Model
from ..models.base import call_model
from ..models.faq import _terms
from ..sentiment import score as sentiment

__all__ = [
    "LLMJudge",
    "Scorer",
    "Trial",
    "contains",
    "default_scorers",
    "language_match",
    "latency",
    "length",
    "regex",
    "reply_sentiment",
    "scorer",
    "similarity",
]


@dataclass(frozen=True)
class Trial:
    """One (variant, message) attempt, as scorers see it."""

    content: str  # the visitor's message
    reply: str
    prompt: str
    language: str | None  # the visitor's language
    reference: str | None  # what the human commercial answered, when known
    latency_ms: float | None
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    variant: str
    message_id: str


# A scorer's function: ``trial -> number | bool | None``, or an awaitable of one (an LLM
# judge). Its result is ``object``: the lab keeps it as given and coerces it with float()
# when it builds the results table (numpy numbers and bools included).
ScoreFn: TypeAlias = Callable[[Trial], object]


@dataclass(frozen=True)
class Scorer:
    """A named metric; ``higher_is_better`` tells the comparison which way is a win."""

    name: str
    fn: ScoreFn
    higher_is_better: bool = True

    def __call__(self, trial: Trial) -> object:
        return self.fn(trial)


def scorer(fn: ScoreFn, name: str | None = None, higher_is_better: bool = True) -> Scorer:
    """Wrap a plain function ``trial -> number | bool | None`` as a scorer."""
    if isinstance(fn, Scorer):
        return fn
    fn_name: str = getattr(fn, "__name__", "score")
    return Scorer(name or fn_name, fn, higher_is_better)


def latency(max_ms: float | None = None) -> Scorer:
    """Milliseconds the model took (lower is better), or pass/fail against ``max_ms``."""
    if max_ms is None:
        return Scorer("latency_ms", lambda t: t.latency_ms, higher_is_better=False)
    return Scorer(
        f"latency_under_{max_ms:g}ms",
        lambda t: None if t.latency_ms is None else t.latency_ms <= max_ms,
    )


def length(min_chars: int | None = None, max_chars: int | None = None) -> Scorer:
    """The reply's length in characters, or whether it is within bounds."""
    if min_chars is None and max_chars is None:
        return Scorer("length", lambda t: len(t.reply), higher_is_better=False)
    low, high = min_chars or 0, max_chars or math.inf
    return Scorer("length_ok", lambda t: low <= len(t.reply) <= high)


def language_match() -> Scorer:
    """Did the reply come in the visitor's language?"""

    def check(t: Trial) -> bool | None:
        if t.language not in ("es", "en") or not t.reply:
            return None
        return sentiment(t.reply).language == t.language

    return Scorer("language_match", check)


def contains(*needles: str, case: bool = False, name: str | None = None) -> Scorer:
    """Pass when the reply contains every one of ``needles``."""
    wanted = needles if case else tuple(n.lower() for n in needles)

    def check(t: Trial) -> bool:
        text = t.reply if case else t.reply.lower()
        return all(n in text for n in wanted)

    return Scorer(
        name or "contains_" + "_".join(re.sub(r"\W+", "", n)[:12] for n in needles), check
    )


def regex(pattern: str, name: str | None = None, flags: int = re.IGNORECASE) -> Scorer:
    """Pass when the reply matches ``pattern``."""
    compiled = re.compile(pattern, flags)
    return Scorer(name or "regex", lambda t: bool(compiled.search(t.reply)))


def _cosine(a: Iterable[str], b: Iterable[str]) -> float:
    ca, cb = Counter(a), Counter(b)
    dot = sum(ca[t] * cb[t] for t in ca.keys() & cb.keys())
    norm = math.sqrt(sum(v * v for v in ca.values()) * sum(v * v for v in cb.values()))
    return dot / norm if norm else 0.0


def _answered(t: Trial) -> float | None:
    if not t.reference:
        return None
    said = set(_terms(t.content))  # the visitor's own words answer nothing
    reply = [w for w in _terms(t.reply) if w not in said]
    reference = [w for w in _terms(t.reference) if w not in said]
    return _cosine(reply, reference)


def similarity() -> Scorer:
    """How close the reply is to what the human commercial actually answered in that chat,
    in what it adds to the visitor's message (cosine over content words the visitor did
    not use, 0..1: echoing the question scores 0); None when no human answered."""
    return Scorer(
        "similarity_to_human",
        _answered,
    )


def reply_sentiment() -> Scorer:
    """The reply's own sentiment score (a warm reply scores above zero)."""
    return Scorer("reply_sentiment", lambda t: sentiment(t.reply).score if t.reply else None)


_NUMBER = re.compile(r"-?\d+(?:[.,]\d+)?")


class LLMJudge:
    """Ask a model to grade each reply against a rubric on a ``scale`` (default 1-5); the
    score is normalised to 0..1. Any ``gl.models`` model works (an OpenAI-compatible one
    in practice)."""

    TEMPLATE = (
        "You are grading a customer-service reply. Rubric: {rubric}\n\n"
        "Customer message: {content}\n\nReply: {reply}\n\n"
        "Answer with a single number from {low} to {high}."
    )

    def __init__(
        self,
        model: Model,
        rubric: str = "helpful, correct, polite and concise",
        scale: tuple[int, int] = (1, 5),
        name: str = "judge",
    ) -> None:
        self.model = model
        self.rubric = rubric
        self.scale = scale
        self.name = name
        self.higher_is_better = True

    async def __call__(self, trial: Trial) -> float | None:
        low, high = self.scale
        verdict = await call_model(
            self.model,
            self.TEMPLATE.format(
                rubric=self.rubric, content=trial.content, reply=trial.reply, low=low, high=high
            ),
        )
        found = _NUMBER.search(verdict.text)
        if found is None:
            return None
        value = float(found.group().replace(",", "."))
        return max(0.0, min(1.0, (value - low) / (high - low)))

    def as_scorer(self) -> Scorer:
        return Scorer(self.name, self, True)


# what ``gl.lab.run(scorers=...)`` takes: scorers, judges and plain functions alike
ScorerLike: TypeAlias = Scorer | LLMJudge | ScoreFn


def as_scorers(items: Iterable[ScorerLike] | None) -> list[Scorer]:
    """Accept scorers, judges and plain functions alike."""
    if items is None:
        return default_scorers()
    out = []
    for item in items:
        if isinstance(item, Scorer):
            out.append(item)
        elif isinstance(item, LLMJudge):
            out.append(item.as_scorer())
        elif callable(item):
            out.append(scorer(item))
        else:
            raise TypeError(f"not a scorer: {item!r}")
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"scorer names must be unique, got {names}")
    return out


def default_scorers() -> list[Scorer]:
    """Similarity to the human reply (first: what ``compare`` judges by default, and what
    rewards answering rather than echoing), language match, length and reply sentiment
    (latency and cost are always compared: they are columns of every run)."""
    return [similarity(), language_match(), length(), reply_sentiment()]
