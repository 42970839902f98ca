"""Who a token belongs to, and the rooms that identity's events reach."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from .world import ACCOUNT_ROOM

__all__ = ["Identity", "parse_tokens"]


@dataclass(frozen=True)
class Identity:
    """Who a token belongs to: the AI system (default), a supervisor, or a commercial."""

    role: str
    id: str
    name: str

    def rooms(self) -> list[str]:
        rooms = [ACCOUNT_ROOM, self.role + "s"]
        if self.role == "commercial":
            rooms.append(f"commercial:{self.id}")
        return rooms


def parse_tokens(tokens: str | list[str] | dict[str, Any] | None) -> dict[str, Identity]:
    """Accept one token, a list (all AI), or ``{token: "supervisor" | "commercial:<id>" |
    Identity}``. ``None`` makes a fresh demo token."""
    if tokens is None:
        tokens = f"sim-{secrets.token_hex(12)}"
    if isinstance(tokens, str):
        tokens = [tokens]
    if isinstance(tokens, list):
        tokens = dict.fromkeys(tokens, "ai")
    out: dict[str, Identity] = {}
    for token, who in tokens.items():
        if isinstance(who, Identity):
            out[token] = who
        elif who == "ai":
            out[token] = Identity("ai", "ai-assistant", "Asistente IA")
        elif who == "supervisor":
            out[token] = Identity("supervisor", f"supervisor-{len(out)}", "Supervisor")
        elif isinstance(who, str) and who.startswith("commercial:"):
            cid = who.split(":", 1)[1]
            out[token] = Identity("commercial", cid, cid)
        else:
            raise ValueError(f"unknown identity {who!r} for a token")
    return out
