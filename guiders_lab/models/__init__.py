"""Reply models: offline defaults that need no network, and any OpenAI-compatible API.

>>> reply = await gl.models.FAQModel().reply("¿Cuánto tarda el envío?")   # doctest: +SKIP
>>> reply.text, reply.confidence, reply.cost                              # doctest: +SKIP
"""

from __future__ import annotations

from .base import PRICES, Context, Model, ModelError, Reply, cost_of, estimate_tokens
from .faq import FAQMatch, FAQModel, KnowledgeBase
from .openai_compat import OpenAIModel
from .simple import EchoModel, RuleModel

__all__ = [
    "PRICES",
    "Context",
    "EchoModel",
    "FAQMatch",
    "FAQModel",
    "KnowledgeBase",
    "Model",
    "ModelError",
    "OpenAIModel",
    "Reply",
    "RuleModel",
    "cost_of",
    "estimate_tokens",
]
