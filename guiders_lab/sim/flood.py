"""Load for benchmarks: a flood of ``message:new`` events, apart from the simulated day."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import texts

if TYPE_CHECKING:
    from .server import SimServer

__all__ = ["flood"]

_POOL = 2000  # distinct payloads, reused in turn (building each one would be the bottleneck)
_YIELD_EVERY = 256  # events between yields to the loop when running flat out
_MIN_SLEEP_S = 0.002  # below this, sleeping costs more than it paces


def _payloads(seed: int, n: int, chats: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    pool = []
    for i in range(min(n, _POOL)):
        lang = rng.choice(texts.LANGUAGES)
        dept = rng.choice(texts.DEPARTMENTS)
        pool.append(
            {
                "chatId": f"chat-flood-{i % chats:05d}",
                "content": texts.opening(rng, lang, dept, rng.choice(texts.MOODS)),
                "type": "user",
                "sender": {
                    "id": f"visitor-flood-{i % chats:05d}",
                    "name": texts.visitor_name(rng, lang),
                    "role": "visitor",
                },
                "metadata": {"department": dept, "urgency": "medium", "source": "web-widget"},
            }
        )
    return pool


async def flood(
    server: SimServer, n: int, *, chats: int = 200, rate: float | None = None
) -> dict[str, float]:
    """Broadcast ``n`` ``message:new`` events (ids ``msg-flood-000000000`` on) as fast as
    the server can, or at ``rate`` events per second; returns the rate achieved."""
    pool = _payloads(server.seed, n, chats)
    started = time.perf_counter()
    for i in range(n):
        base = pool[i % len(pool)]
        payload = {
            **base,
            "messageId": f"msg-flood-{i:09d}",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        await server.broadcast("message:new", payload)
        if rate:
            ahead = started + (i + 1) / rate - time.perf_counter()
            if ahead > _MIN_SLEEP_S:
                await asyncio.sleep(ahead)
        elif i % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    return {"events": n, "seconds": elapsed, "events_per_s": n / elapsed if elapsed else 0.0}
