"""``Copilot``: the page's "Chat colaborativo IA + humano"."""

from __future__ import annotations

from datetime import datetime

from ..events.records import Message
from ..models import FAQModel
from ..sentiment import score as sentiment
from .actions import BotAction, Suggest
from .base import Bot, BotContext

__all__ = ["Copilot"]


class Copilot(Bot):
    """When a commercial writes, privately suggest what to say next: the knowledge base's
    answer to the visitor's last question, and a calming line when the visitor is upset."""

    def __init__(self, model: FAQModel | None = None, *, min_confidence: float = 0.2) -> None:
        self.model = model or FAQModel()
        self.min_confidence = min_confidence
        self.last_visitor_message: dict[str, str] = {}

    def on_message(self, message: Message[datetime], ctx: BotContext) -> list[BotAction]:
        if message.sender_role == "visitor":
            self.last_visitor_message[message.chat_id] = message.content
            return []
        if message.sender_role != "commercial" or not message.sender_id:
            return []
        question = self.last_visitor_message.get(message.chat_id)
        if question is None:
            return []
        mood = sentiment(question)
        suggestions = []
        found = self.model.match(question, mood.language)
        if found is not None and found.score >= self.min_confidence:
            suggestions.append(
                {
                    "text": found.answer,
                    "source": f"faq:{found.entry_id}",
                    "confidence": round(found.score, 3),
                }
            )
        if mood.label == "negative":
            calm = (
                "Siento mucho las molestias, lo reviso ahora mismo."
                if mood.language == "es"
                else "I'm really sorry about this, I'm checking it right now."
            )
            suggestions.append({"text": calm, "source": "tone", "confidence": mood.intensity})
        if not suggestions:
            return []
        return [Suggest(message.chat_id, message.sender_id, tuple(suggestions))]
