"""The simulated world's mutable state: visitors, chats and commercials."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .scenario import CommercialSpec

__all__ = ["SimChat", "SimCommercial", "SimError", "SimVisitor"]


class SimError(Exception):
    """A client action the simulated backend refuses; becomes ``{ok: false, error}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(eq=False)
class SimVisitor:
    id: str
    name: str
    lang: str
    department: str
    mood: str
    intent: float  # latent purchase intent in [0, 1]; drives the funnel and conversion
    source: str
    returning: bool
    rng: random.Random
    n_actions: int
    chat_after_action: int | None
    stage: int = 0
    page: str = "/"
    conversion_boost: float = 0.0
    chat: SimChat | None = None
    purchased: bool = False


@dataclass(eq=False)
class SimChat:
    id: str
    visitor: SimVisitor
    created_t: float
    urgency: str
    status: str = "pending"  # pending | assigned | active | closed (or a client-set status)
    priority: str = "medium"
    tags: list[str] = field(default_factory=list)
    commercial: SimCommercial | None = None
    greeted: bool = False
    anger: int = 0
    waiting_since: float | None = None  # a visitor message nobody answered yet
    wait_token: int = 0  # bumped on every answer: stale patience timers see it and stop
    turns_left: int = 1
    closing: bool = False
    commercial_turn_pending: bool = False
    suggestions_pending: bool = False
    first_response_t: float | None = None
    last_activity_t: float = 0.0
    queued_t: float | None = None
    typing: set[str] = field(default_factory=set)

    @property
    def open(self) -> bool:
        return self.status != "closed"


@dataclass(eq=False)
class SimCommercial:
    spec: CommercialSpec
    rng: random.Random
    status: str = "offline"  # available | busy | away | offline
    active: set[str] = field(default_factory=set)
    on_duty: bool = False  # the shift has started
    on_break: bool = False
    off_duty: bool = False  # the shift has ended (stays until its last chat closes)
    last_reported: tuple[str, int] | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def has_capacity(self) -> bool:
        return len(self.active) < self.spec.max_chats

    @property
    def can_take(self) -> bool:
        return self.on_duty and not (self.off_duty or self.on_break) and self.has_capacity

    def settled_status(self) -> str:
        if not self.on_duty or (self.off_duty and not self.active):
            return "offline"
        if self.off_duty:
            return "busy"  # finishing the last chats of the shift, taking no new ones
        if self.on_break:
            return "away"
        return "available" if self.has_capacity else "busy"
