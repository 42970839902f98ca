"""Tiny offline models: echo, and hand-written rules for greetings, thanks and complaints."""

from __future__ import annotations

import re
import time

from ..sentiment import score as sentiment
from .base import Context, Reply, estimate_tokens

__all__ = ["EchoModel", "RuleModel"]


def _language(prompt: str, context: Context | None) -> str:
    if context is not None and context.language in ("es", "en"):
        return context.language
    return "en" if sentiment(prompt).language == "en" else "es"


def _reply(
    text: str, model: str, prompt: str, started: float, confidence: float, **metadata: object
) -> Reply:
    return Reply(
        text,
        model,
        confidence,
        (time.perf_counter() - started) * 1000.0,
        estimate_tokens(prompt),
        estimate_tokens(text),
        True,
        0.0,
        dict(metadata),
    )


class EchoModel:
    """Says back what it was told: a baseline, and handy in tests."""

    name = "echo"

    async def reply(self, prompt: str, context: Context | None = None) -> Reply:
        started = time.perf_counter()
        prefix = "You said: " if _language(prompt, context) == "en" else "Has dicho: "
        return _reply(prefix + prompt, self.name, prompt, started, 1.0)


_GREETING = re.compile(
    r"^\s*(hola|buenas|buenos dias|hello|hi|hey|good (morning|afternoon))\b", re.IGNORECASE
)
_THANKS = re.compile(r"\b(gracias|thanks|thank you|cheers)\b", re.IGNORECASE)
_TEXTS = {
    "greeting": {
        "es": "¡Hola! Soy el asistente virtual. ¿En qué te puedo ayudar?",
        "en": "Hi! I'm the virtual assistant. How can I help?",
    },
    "thanks": {
        "es": "¡A ti! Si necesitas algo más, aquí estoy.",
        "en": "You're welcome! Anything else, I'm here.",
    },
    "complaint": {
        "es": "Siento mucho las molestias. Te paso ahora mismo con una persona del "
        "equipo para que lo resuelva.",
        "en": "I'm really sorry about this. I'm passing you to a member of the team "
        "right now to sort it out.",
    },
    "other": {
        "es": "Gracias por tu mensaje. Un compañero te atenderá enseguida.",
        "en": "Thanks for your message. A colleague will be with you shortly.",
    },
}


class RuleModel:
    """Rules a support team would write first: greet, thank, apologise and hand over."""

    name = "rules"

    async def reply(self, prompt: str, context: Context | None = None) -> Reply:
        started = time.perf_counter()
        language = _language(prompt, context)
        mood = sentiment(prompt)
        if mood.label == "negative" and mood.intensity > 0.4:
            kind, confidence = "complaint", 0.8
        elif _THANKS.search(prompt):
            kind, confidence = "thanks", 0.9
        elif _GREETING.search(prompt):
            kind, confidence = "greeting", 0.9
        else:
            kind, confidence = "other", 0.3
        return _reply(
            _TEXTS[kind][language],
            self.name,
            prompt,
            started,
            confidence,
            rule=kind,
            handoff=kind in ("complaint", "other"),
        )
