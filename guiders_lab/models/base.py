"""The model protocol: ``await model.reply(prompt, context) -> Reply``, and its accounting.

Every model, offline or remote, answers with a :class:`Reply` that carries the text and
what it cost: latency, tokens (reported, or estimated when a model reports none) and money
from :data:`PRICES`, a plain dict you can edit.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, cast, runtime_checkable

from ..errors import GuidersLabError

__all__ = [
    "PRICES",
    "ConfigurableModel",
    "Context",
    "Model",
    "ModelError",
    "Reply",
    "call_model",
    "cost_of",
    "estimate_tokens",
    "parameters_of",
]

# USD per 1M tokens (input, output). Edit or extend it: gl.models.PRICES["my-model"] = (1, 2)
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "faq": (0.0, 0.0),
    "rules": (0.0, 0.0),
    "echo": (0.0, 0.0),
}


class ModelError(GuidersLabError):
    """A model could not answer (unreachable server, timeout, refused request)."""


@dataclass(frozen=True)
class Context:
    """What a model may know about the conversation besides the visitor's message."""

    language: str | None = None
    department: str | None = None
    visitor_name: str | None = None
    chat_id: str | None = None
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    text: str
    model: str
    confidence: float | None = None
    latency_ms: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    tokens_estimated: bool = False
    cost: float | None = None
    metadata: dict[str, object] = field(default_factory=dict)  # model-specific extras


@runtime_checkable
class Model(Protocol):
    """Anything with a ``name`` and an async ``reply``."""

    name: str

    async def reply(self, prompt: str, context: Context | None = None) -> Reply: ...


class ConfigurableModel(Model, Protocol):
    """A model that takes parameters: ``configure(**params)`` returns a copy with them
    (what the variant lab's parameter grid varies). Each model has its own keywords
    (``temperature=``, ``min_confidence=``...), hence a callable of any arguments; it
    names them in ``parameters`` so the lab can check a grid before anything runs."""

    configure: Callable[..., Model]
    parameters: frozenset[str]


async def call_model(model: Model, prompt: str, context: Context | None = None) -> Reply:
    """``model.reply``, awaited; a model whose ``reply`` is a plain function (a blocking
    SDK call) runs in a worker thread, so the loop, a timeout and an interrupt never wait
    for it (the thread finishes on its own; its answer is dropped)."""
    if inspect.iscoroutinefunction(model.reply):
        return await model.reply(prompt, context)
    answer: object = await asyncio.to_thread(model.reply, prompt, context)
    if inspect.isawaitable(answer):
        answer = await answer
    return cast(Reply, answer)


def parameters_of(model: Model) -> frozenset[str] | None:
    """The parameters ``model`` takes: none without ``configure``; ``None`` (unknown: any,
    checked when it is configured) for a model of yours that does not list them."""
    if not hasattr(model, "configure"):
        return frozenset()
    declared = getattr(model, "parameters", None)
    return frozenset(declared) if declared is not None else None


def estimate_tokens(text: str) -> int:
    """About four characters per token: good enough for cost comparisons."""
    return max(1, round(len(text) / 4))


def cost_of(
    model: str,
    tokens_in: int | None,
    tokens_out: int | None,
    prices: dict[str, tuple[float, float]] | None = None,
) -> float | None:
    """Money for one call from the price table; None for a model with no price."""
    table = PRICES if prices is None else prices
    price = table.get(model)
    if price is None or tokens_in is None or tokens_out is None:
        return None
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
