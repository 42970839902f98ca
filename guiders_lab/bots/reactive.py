"""``ReactiveBot``: the page's "Bot reactivo en tiempo real".

Answers visitors itself when the question is simple and no commercial is on it (or it is
outside business hours), with typing indicators around the reply and the page's metadata
(aiModel, confidence, processingTime, isAutomated); greets every new chat.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from ..events.records import ChatCreated, Message
from ..models import Context, FAQModel, Model
from ..models.base import call_model
from ..sentiment import score as sentiment
from .actions import BotAction, SendMessage, Typing
from .base import Bot, BotContext

__all__ = ["ReactiveBot"]

WELCOME = {
    "es": "¡Hola! Soy el asistente virtual de la tienda. Cuéntame en qué te ayudo.",
    "en": "Hi! I'm the shop's virtual assistant. Tell me how I can help.",
}


class ReactiveBot(Bot):
    """Reply to simple questions at once; leave the rest to the team.

    ``model``: any :class:`~guiders_lab.models.Model` (default: the offline FAQ model).
    ``business_hours``: (start, end) local hours in ``timezone``; outside them the bot
    answers even chats a commercial holds. A question is *simple* when the FAQ retrieval is
    confident (``min_confidence``), its topic needs no human, and the visitor is not upset.
    """

    concurrency = 8

    def __init__(
        self,
        model: Model | None = None,
        *,
        business_hours: tuple[int, int] = (9, 20),
        timezone: str = "Europe/Madrid",
        min_confidence: float = 0.3,
        welcome: bool = True,
        typer: str = "ai-bot",
    ) -> None:
        self.model = model or FAQModel()
        self.classifier = self.model if isinstance(self.model, FAQModel) else FAQModel()
        self.business_hours = business_hours
        self.timezone = ZoneInfo(timezone)
        self.min_confidence = min_confidence
        self.welcome = welcome
        self.typer = typer
        self.processing: set[str] = set()  # chats with a reply in progress
        self.skipped_busy = 0

    def in_business_hours(self, when: datetime) -> bool:
        local = when.astimezone(self.timezone)
        start, end = self.business_hours
        return local.weekday() < 5 and start <= local.hour < end

    def is_simple(self, text: str) -> bool:
        """The page's ``clasificarConsulta``: can an AI answer this fully?"""
        mood = sentiment(text)
        if mood.label == "negative" and mood.intensity > 0.4:
            return False
        found = self.classifier.match(text, mood.language)
        return found is not None and found.simple and found.score >= self.min_confidence

    def should_answer(self, message: Message[datetime], ctx: BotContext) -> bool:
        """The page's ``evaluarSiDebeResponder``: simple and (unassigned or after hours)."""
        chat = ctx.chat(message.chat_id)
        assigned = chat is not None and chat.commercial_id is not None
        return self.is_simple(message.content) and (
            not assigned or not self.in_business_hours(ctx.when(message))
        )

    def on_chat_created(self, chat: ChatCreated[datetime], ctx: BotContext) -> list[BotAction]:
        if not self.welcome:
            return []
        text = WELCOME["en" if chat.language == "en" else "es"]
        return [
            SendMessage(
                chat.chat_id,
                text,
                {"aiModel": "welcome", "confidence": 1.0, "processingTime": 0, "isAutomated": True},
            )
        ]

    async def on_message(self, message: Message[datetime], ctx: BotContext) -> list[BotAction]:
        if message.sender_role != "visitor":
            return []
        if message.chat_id in self.processing:  # the page's ``procesando`` set
            self.skipped_busy += 1
            return []
        self.processing.add(message.chat_id)
        try:
            if not self.should_answer(message, ctx):
                return []
            started = time.perf_counter()
            chat = ctx.chat(message.chat_id)
            reply = await call_model(
                self.model,
                message.content,
                Context(
                    language=chat.language if chat else None,
                    department=message.department,
                    visitor_name=message.sender_name,
                    chat_id=message.chat_id,
                ),
            )
            elapsed = round((time.perf_counter() - started) * 1000.0, 1)
            metadata = {
                "aiModel": reply.model,
                "confidence": reply.confidence,
                "processingTime": elapsed,
                "isAutomated": True,
            }
            return [
                Typing(message.chat_id, True, self.typer),
                SendMessage(
                    message.chat_id,
                    reply.text,
                    {k: v for k, v in metadata.items() if v is not None},
                ),
                Typing(message.chat_id, False, self.typer),
            ]
        finally:
            self.processing.discard(message.chat_id)
