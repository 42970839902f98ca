"""Scenarios: the knobs of a simulated business day, and the built-in presets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .behaviour import ActionEffects, ChatBehaviour, StaffBehaviour, VisitorBehaviour

__all__ = ["SCENARIOS", "CommercialSpec", "Scenario", "get_scenario"]

_GROUPS = ("visitors", "staff", "chats", "effects")


@dataclass(frozen=True)
class CommercialSpec:
    """One simulated human agent."""

    id: str
    name: str
    specialties: tuple[str, ...]
    max_chats: int = 3
    response_s: float = 40.0  # median seconds to answer a visitor
    breaks: int = 1  # away periods in a day


_TEAM = (
    CommercialSpec("commercial-lucia", "Lucía M.", ("sales", "billing"), 3, 30.0),
    CommercialSpec("commercial-javier", "Javier R.", ("support", "technical"), 3, 45.0),
    CommercialSpec("commercial-marta", "Marta G.", ("sales",), 4, 25.0),
    CommercialSpec("commercial-pablo", "Pablo S.", ("technical",), 2, 70.0),
    CommercialSpec("commercial-ana", "Ana L.", ("billing", "support"), 3, 35.0),
)


@dataclass(frozen=True)
class Scenario:
    """A simulated day. Times are simulated seconds; ``speed`` maps them to wall time.

    The top-level fields are the day's headline knobs; ``visitors``, ``staff``, ``chats``
    and ``effects`` hold every other delay, probability and factor of the engine (see
    :mod:`guiders_lab.sim.behaviour` for each field and its unit)."""

    name: str
    description: str
    hours: float = 8.0
    visitors_per_hour: float = 90.0
    chat_probability: float = 0.4
    languages: dict[str, float] = field(default_factory=lambda: {"es": 0.7, "en": 0.3})
    departments: dict[str, float] = field(
        default_factory=lambda: {"sales": 0.4, "support": 0.3, "billing": 0.15, "technical": 0.15}
    )
    moods: dict[str, float] = field(
        default_factory=lambda: {"neutral": 0.6, "complaint": 0.25, "positive": 0.15}
    )
    commercials: tuple[CommercialSpec, ...] = _TEAM
    patience_s: float = 75.0  # median wait before a visitor nudges again
    auto_assign_after_s: float | None = 90.0  # the backend's own (naive) assignment
    idle_timeout_s: float = 900.0
    returning_share: float = 0.3
    default_speed: float = 60.0
    visitors: VisitorBehaviour = field(default_factory=VisitorBehaviour)
    staff: StaffBehaviour = field(default_factory=StaffBehaviour)
    chats: ChatBehaviour = field(default_factory=ChatBehaviour)
    effects: ActionEffects = field(default_factory=ActionEffects)

    def with_(self, **changes: Any) -> Scenario:
        """A copy with some knobs changed, e.g. ``get_scenario("demo").with_(hours=1)``.

        A behaviour group given as a mapping changes only the fields it names:
        ``with_(visitors={"patience_spread": 0.2}, staff={"load_slowdown": 0.5})``."""
        for group in _GROUPS:
            update = changes.get(group)
            if isinstance(update, Mapping):
                current = getattr(self, group)
                known = {f.name for f in fields(current)}
                unknown = sorted(set(update) - known)
                if unknown:
                    raise TypeError(
                        f"Scenario.{group} has no field {', '.join(map(repr, unknown))}; "
                        f"its fields: {', '.join(sorted(known))}"
                    )
                changes[group] = replace(current, **update)
        return replace(self, **changes)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "demo",
            "A normal shop day: steady visitors, a team of five, some queueing at peaks.",
        ),
        Scenario(
            "busy_afternoon",
            "Twice the visitors and three agents on duty: queues grow, visitors get angry.",
            visitors_per_hour=180.0,
            chat_probability=0.45,
            commercials=_TEAM[:3],
            moods={"neutral": 0.5, "complaint": 0.35, "positive": 0.15},
            auto_assign_after_s=150.0,
        ),
        Scenario(
            "quiet_morning",
            "Few visitors, everyone available: fast answers and happy customers.",
            visitors_per_hour=30.0,
            moods={"neutral": 0.65, "complaint": 0.15, "positive": 0.2},
            auto_assign_after_s=45.0,
        ),
        Scenario(
            "unattended",
            "Nobody assigns chats: the backend's auto-assignment is off, so only bots act.",
            auto_assign_after_s=None,
        ),
    )
}


def get_scenario(scenario: str | Scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    try:
        return SCENARIOS[scenario]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario!r}; known: {sorted(SCENARIOS)}") from None
