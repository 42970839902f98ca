"""The reference page's AI patterns as bots, and the runner that drives them.

>>> run = await live.run(gl.bots.SentimentMonitor(), mode="shadow")   # doctest: +SKIP
>>> live.actions.query("bot == 'SentimentMonitor'")                   # doctest: +SKIP
"""

from __future__ import annotations

from ..session import Session
from .actions import (
    Assign,
    BotAction,
    JoinChat,
    Notify,
    SendMessage,
    Suggest,
    TriggerConversion,
    Typing,
    UpdateChat,
)
from .base import Bot, BotContext
from .conversion import ConversionPredictor
from .copilot import Copilot
from .load_distributor import LoadDistributor
from .reactive import ReactiveBot
from .runner import BotRun
from .sentiment_monitor import SentimentMonitor

Session.bot_runner = BotRun  # ``session.run(bot)`` runs bots with this (layers: bots > session)

__all__ = [
    "Assign",
    "Bot",
    "BotAction",
    "BotContext",
    "BotRun",
    "ConversionPredictor",
    "Copilot",
    "JoinChat",
    "LoadDistributor",
    "Notify",
    "ReactiveBot",
    "SendMessage",
    "SentimentMonitor",
    "Suggest",
    "TriggerConversion",
    "Typing",
    "UpdateChat",
]
