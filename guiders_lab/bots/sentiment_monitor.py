"""``SentimentMonitor``: the page's "Monitor de sentimientos en tiempo real"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..events.records import Message
from ..sentiment import score as default_scorer
from .actions import BotAction, Notify, UpdateChat
from .base import Bot, BotContext

__all__ = ["SentimentMonitor"]


class SentimentMonitor(Bot):
    """Score every visitor message; a negative one stronger than ``threshold`` marks the
    chat urgent (tags and high priority) and, once per chat, tells the supervisors."""

    def __init__(
        self,
        scorer: Callable[[str], Any] | None = None,
        *,
        threshold: float = 0.7,
        roles: tuple[str, ...] = ("visitor",),
        target: str = "supervisors",
    ) -> None:
        # ``Any``: a scorer returns a Sentiment, any object with ``.score``, or a number
        self.scorer: Callable[[str], Any] = scorer or default_scorer
        self.threshold = threshold
        self.roles = roles
        self.target = target
        self.alerted: dict[str, datetime] = {}  # the page's ``alertas``
        self.scored = 0

    def on_message(self, message: Message[datetime], ctx: BotContext) -> list[BotAction]:
        if message.sender_role not in self.roles:
            return []
        verdict = self.scorer(message.content)
        self.scored += 1
        score = float(getattr(verdict, "score", verdict))
        label = getattr(verdict, "label", "negative" if score <= -0.05 else "other")
        intensity = float(getattr(verdict, "intensity", abs(score)))
        ctx.note(message.chat_id, min_sentiment=score)
        if label != "negative" or intensity <= self.threshold:
            return []
        detected = ctx.when(message).astimezone(UTC).isoformat()  # the event's time: a
        # replay gives the same payload every time
        actions: list[BotAction] = [
            UpdateChat(
                message.chat_id,
                tags=("urgente", "sentimiento-negativo"),
                priority="high",
                metadata={"sentimentScore": score, "detectedAt": detected},
            )
        ]
        if message.chat_id not in self.alerted:
            self.alerted[message.chat_id] = ctx.when(message)
            actions.append(
                Notify(
                    "sentiment_alert",
                    self.target,
                    {
                        "chatId": message.chat_id,
                        "sentimiento": {"score": score, "label": label, "intensity": intensity},
                        "mensaje": message.content,
                    },
                )
            )
        return actions
