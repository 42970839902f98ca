"""``ConversionPredictor``: the page's "Análisis predictivo en tiempo real"."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime

from ..events.records import Presence, VisitorAction
from .actions import BotAction, TriggerConversion
from .base import Bot, BotContext

__all__ = ["ConversionPredictor"]

# log-odds each action adds: the further down the funnel, the closer to buying
WEIGHTS = {
    "page_view": 0.05,
    "product_view": 0.35,
    "pricing_view": 0.6,
    "offer_view": 0.4,
    "add_to_cart": 1.4,
    "checkout_start": 2.4,
}
BIAS = -3.2


class ConversionPredictor(Bot):
    """Estimate each visitor's purchase probability from what they did so far (a logistic
    score over their funnel steps, cart value and whether they came back), and trigger the
    high-conversion flow once when it passes ``threshold``."""

    def __init__(self, *, threshold: float = 0.8, strategy: str = "premium_attention") -> None:
        self.threshold = threshold
        self.strategy = strategy
        self.history: dict[str, Counter[str]] = {}
        self.cart_value: dict[str, float] = {}
        self.returning: set[str] = set()
        self.triggered: set[str] = set()
        self.purchased: set[str] = set()

    def probability(self, visitor_id: str) -> float:
        steps = self.history.get(visitor_id, Counter())
        logit = BIAS + sum(
            WEIGHTS.get(a, 0.0) * math.log1p(n) / math.log(2) for a, n in steps.items()
        )
        logit += 0.4 * math.log1p(self.cart_value.get(visitor_id, 0.0) / 50.0)
        logit += 0.5 if visitor_id in self.returning else 0.0
        return 1.0 / (1.0 + math.exp(-logit))

    def on_visitor_online(self, p: Presence[datetime], ctx: BotContext) -> list[BotAction]:
        if p.returning:
            self.returning.add(p.person_id)
        return []

    def on_visitor_action(
        self, action: VisitorAction[datetime], ctx: BotContext
    ) -> list[BotAction]:
        visitor = action.visitor_id
        if action.action == "purchase":
            self.purchased.add(visitor)
            return []
        self.history.setdefault(visitor, Counter())[action.action] += 1
        if action.value:
            self.cart_value[visitor] = max(self.cart_value.get(visitor, 0.0), action.value)
        if visitor in self.triggered or visitor in self.purchased:
            return []
        if self.probability(visitor) > self.threshold:
            self.triggered.add(visitor)
            return [TriggerConversion(visitor, self.strategy)]
        return []
