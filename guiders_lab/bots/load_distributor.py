"""``LoadDistributor``: the page's "Distribuidor inteligente de carga"."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from ..events.records import Assignment, ChatClosed, ChatCreated, Message, Presence
from .actions import Assign, BotAction
from .base import Bot, BotContext

__all__ = ["LoadDistributor"]


@dataclass
class _Agent:
    id: str
    status: str = "offline"
    active: int = 0
    max_chats: int = 3
    specialties: frozenset[str] = field(default_factory=frozenset)
    response_s: float | None = None  # moving average of their first-answer times

    @property
    def free(self) -> bool:
        return self.status == "available" and self.active < self.max_chats


class LoadDistributor(Bot):
    """Assign each new chat at once to the best available commercial.

    Score = ``w_load`` x free capacity + ``w_specialty`` x (department in their
    specialties) + ``w_speed`` x how fast they usually answer. With nobody available the
    chat waits in a queue (oldest first) and goes to the first commercial who frees up.
    """

    algorithm = "ai_load_balancer_v2"

    def __init__(
        self, *, w_load: float = 0.5, w_specialty: float = 0.35, w_speed: float = 0.15
    ) -> None:
        self.weights = (w_load, w_specialty, w_speed)
        self.agents: dict[str, _Agent] = {}
        self.queue: OrderedDict[str, str | None] = OrderedDict()  # chat -> department
        self.owner: dict[str, str] = {}  # chat -> commercial
        self._waiting_since: dict[str, datetime] = {}  # chat -> visitor message time

    # ------------------------------------------------------------------ state
    def on_commercial_status(self, p: Presence[datetime], ctx: BotContext) -> list[BotAction]:
        agent = self.agents.setdefault(p.person_id, _Agent(p.person_id))
        agent.status = p.status
        if p.active_chats is not None:
            agent.active = p.active_chats
        if p.max_chats:
            agent.max_chats = p.max_chats
        if p.specialties is not None:
            agent.specialties = frozenset(s for s in p.specialties.split(",") if s)
        return self._drain_queue()

    def on_chat_assigned(self, a: Assignment[datetime], ctx: BotContext) -> list[BotAction]:
        self.queue.pop(a.chat_id, None)
        self.owner[a.chat_id] = a.commercial_id
        return []

    def on_chat_closed(self, c: ChatClosed[datetime], ctx: BotContext) -> list[BotAction]:
        self.queue.pop(c.chat_id, None)
        owner = self.owner.pop(c.chat_id, None)
        if owner in self.agents:
            self.agents[owner].active = max(0, self.agents[owner].active - 1)
        return self._drain_queue()

    def on_message(self, m: Message[datetime], ctx: BotContext) -> list[BotAction]:
        """Learn how fast each commercial answers (the score's "historical" part)."""
        if m.sender_role == "visitor":
            self._waiting_since.setdefault(m.chat_id, ctx.when(m))
        elif m.sender_role == "commercial" and m.sender_id in self.agents:
            since = self._waiting_since.pop(m.chat_id, None)
            if since is not None:
                seconds = (ctx.when(m) - since).total_seconds()
                agent = self.agents[m.sender_id]
                agent.response_s = (
                    seconds
                    if agent.response_s is None
                    else (0.8 * agent.response_s + 0.2 * seconds)
                )
        return []

    # ------------------------------------------------------------------ decisions
    def on_chat_created(self, c: ChatCreated[datetime], ctx: BotContext) -> list[BotAction]:
        chosen = self.best(c.department)
        if chosen is None:
            self.queue[c.chat_id] = c.department  # nobody free: keep it in line
            return []
        return [self._assign(c.chat_id, *chosen)]

    def score(self, agent: _Agent, department: str | None) -> float:
        w_load, w_specialty, w_speed = self.weights
        free = 1.0 - agent.active / max(1, agent.max_chats)
        specialty = 1.0 if department in agent.specialties else 0.0
        speed = 0.5 if agent.response_s is None else 1.0 / (1.0 + agent.response_s / 60.0)
        return w_load * free + w_specialty * specialty + w_speed * speed

    def best(self, department: str | None) -> tuple[_Agent, float] | None:
        """The best free commercial for a department, with its score."""
        free = [a for a in self.agents.values() if a.free]
        if not free:
            return None
        agent = max(free, key=lambda a: (self.score(a, department), -a.active, a.id))
        return agent, round(self.score(agent, department), 3)

    def _assign(self, chat_id: str, agent: _Agent, score: float) -> Assign:
        agent.active += 1  # until their next status update says otherwise
        self.owner[chat_id] = agent.id
        return Assign(
            chat_id,
            agent.id,
            reason="Asignación automática optimizada",
            metadata={"assignmentScore": score, "algorithm": self.algorithm},
        )

    def _drain_queue(self) -> list[BotAction]:
        actions: list[BotAction] = []
        for chat_id, department in list(self.queue.items()):
            chosen = self.best(department)
            if chosen is None:
                break
            del self.queue[chat_id]
            actions.append(self._assign(chat_id, *chosen))
        return actions
