"""How simulated people behave: every delay, probability and factor of the scenario engine.

A :class:`~guiders_lab.sim.Scenario` carries one of each group (``visitors``, ``staff``,
``chats``, ``effects``); change one with ``scenario.with_(visitors={"patience_spread": 0.2})``.
Units are in the field names: ``_s`` is simulated seconds, ``(low, high)`` a uniform range,
a probability is in [0, 1], a factor multiplies a delay or a chance. The defaults are the
values the built-in scenarios were tuned with; changing any of them changes the event
sequence a seed gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "ActionEffects",
    "ChatBehaviour",
    "Pair",
    "Range",
    "StaffBehaviour",
    "VisitorBehaviour",
]

Range = tuple[float, float]  # (low, high) of a uniform draw
Pair = tuple[float, float]  # two parameters, e.g. (a, b) of a Beta distribution


def _check_ranges(group: DataclassInstance) -> None:
    """A reversed range is a typo that would silently draw from the wrong interval."""
    for f in fields(group):
        value = getattr(group, f.name)
        is_range = f.name.endswith(("_s", "_value", "_window", "_jitter"))
        if is_range and isinstance(value, tuple) and (len(value) != 2 or value[0] > value[1]):
            raise ValueError(f"{type(group).__name__}.{f.name} must be (low, high): {value}")


@dataclass(frozen=True)
class VisitorBehaviour:
    """Visitors: arrival, browsing, purchase intent, writing speed and patience.

    The median patience is the scenario's ``patience_s``; these fields shape the rest."""

    first_arrival_s: Range = (1.0, 10.0)  # the first visitor arrives this long after the start
    sources: dict[str, float] = field(
        default_factory=lambda: {"organic": 0.4, "ads": 0.25, "newsletter": 0.15, "direct": 0.2}
    )  # traffic source weights (visitor:online metadata)
    browse_actions_mean: float = 3.5  # mean page actions after the first (exponential)
    browse_actions_max: int = 12  # page actions per visit, at most
    complaint_chat_factor: float = 1.5  # complainers open a chat this much more often
    intent_beta: Pair = (2.0, 4.0)  # Beta(a, b) of purchase intent in [0, 1] (mean 1/3)
    first_browse_s: Range = (2.0, 20.0)  # arrival to the first page action
    browse_gap_s: Range = (15.0, 90.0)  # between page actions
    funnel_step_base: float = 0.35  # chance per action of one funnel step further ...
    funnel_step_per_intent: float = 0.6  # ... plus this times (intent + conversion boost)
    cart_value: Range = (19.0, 180.0)  # euros on add_to_cart / checkout_start
    purchase_value: Range = (25.0, 220.0)  # euros on a purchase
    first_message_s: Range = (4.0, 15.0)  # opening a chat to its first message
    more_questions: tuple[int, int] = (0, 2)  # questions after the first answer (inclusive)
    typing_lead_s: float = 3.0  # typing shows this long before a message lands
    reply_s: Range = (20.0, 70.0)  # writing a reply to a commercial's answer
    thanks_s: Range = (15.0, 40.0)  # writing the closing thanks
    after_ai_s: Range = (10.0, 40.0)  # reading an AI reply and reacting to it
    patience_spread: float = 0.4  # sigma of the lognormal around the median patience
    complaint_patience_factor: float = 0.7  # complainers' patience, relative
    nudges_before_leaving: int = 3  # nudges (anger 1, 2, 3, ...) before giving up
    goodbye_probability: float = 0.6  # a visitor giving up says so before leaving
    nudge_s: Range = (3.0, 8.0)  # writing a nudge once patience ran out

    def __post_init__(self) -> None:
        _check_ranges(self)


@dataclass(frozen=True)
class StaffBehaviour:
    """The commercials (the scenario's ``commercials`` team): shifts, breaks, reply speed.

    Each commercial's median reply time is its ``CommercialSpec.response_s``."""

    shift_start_spread_s: float = 90.0  # each shift starts within this long of the day's start
    break_window: Range = (0.2, 0.8)  # breaks start at a uniform point of this share of the day
    break_s: Range = (300.0, 900.0)  # length of a break
    break_retry_s: float = 300.0  # a commercial with open chats postpones a break this long
    reply_spread: float = 0.5  # sigma of the lognormal around ``response_s``
    load_slowdown: float = 0.3  # each chat beyond the first makes replies this much slower
    typing_share: float = 0.6  # typing shows after this share of the reply delay
    greeting_pause_s: Range = (8.0, 25.0)  # the greeting to the first real answer
    greeting_typing_share: float = 0.4  # typing shows after this share of that pause
    apology_anger: int = 2  # visitors this angry or more get an apology with the greeting
    close_after_goodbye_s: Range = (5.0, 20.0)  # the commercial's goodbye to the chat closing

    def __post_init__(self) -> None:
        _check_ranges(self)


@dataclass(frozen=True)
class ChatBehaviour:
    """The backend's chat handling and the outcome of a chat (conversion, rating)."""

    auto_assign_jitter: Range = (0.6, 1.4)  # the auto-assign sweep runs at this x its delay
    base_conversion: dict[str, float] = field(
        default_factory=lambda: {"sales": 0.35, "support": 0.12, "billing": 0.06, "technical": 0.1}
    )  # chance a resolved chat converts, per department ...
    other_conversion: float = 0.1  # ... and for any other department
    conversion_by_intent: Pair = (0.5, 1.5)  # the chance is multiplied by a + b x intent
    conversion_wait_decay_s: float = 900.0  # ... by exp(-wait / this) for the first response
    conversion_anger_penalty: float = 0.2  # ... by (1 - this x anger)
    max_conversion: float = 0.95  # the chance, conversion boost included, at most
    rating_noise: tuple[int, ...] = (-1, 0, 0, 1)  # one of these is added to a 1-5 rating

    def __post_init__(self) -> None:
        _check_ranges(self)


@dataclass(frozen=True)
class ActionEffects:
    """What client actions (bots) do to the simulated world."""

    priority_reply_factor: float = 0.7  # replies in high/urgent chats take this x as long
    suggestion_reply_factor: float = 0.7  # copilot suggestions: the next reply, this x as long
    ai_satisfaction: dict[str, float] = field(
        default_factory=lambda: {"neutral": 0.55, "positive": 0.7, "complaint": 0.15}
    )  # chance an AI reply satisfies the visitor, per mood ...
    ai_satisfaction_other: float = 0.4  # ... for any other mood
    ai_satisfaction_angry_factor: float = 0.6  # ... times this once the visitor is angry
    ai_calms: int = 1  # anger levels an AI reply takes away
    close_after_ai_s: Range = (10.0, 30.0)  # a satisfied visitor's reaction to the chat closing
    trigger_boost: float = 0.25  # conversion chance a conversion trigger adds ...
    trigger_boost_max: float = 0.5  # ... up to this in total

    def __post_init__(self) -> None:
        _check_ranges(self)
