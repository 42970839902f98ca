"""Benchmark load in guiders-v2 shape: ``message:new`` as the backend's handler emits it.

Sent to the tenant room (every authenticated socket), not to chat rooms, so a benchmark
measures decoding without first joining thousands of rooms. Apart from the simulated day:
nothing is stored.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import texts
from .ids import uuid_for

if TYPE_CHECKING:
    from .server import GuidersV2Server

__all__ = ["flood"]

_POOL = 2000
_YIELD_EVERY = 256
_MIN_SLEEP_S = 0.002


def _payloads(seed: int, n: int, chats: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    pool = []
    for i in range(min(n, _POOL)):
        lang = rng.choice(texts.LANGUAGES)
        dept = rng.choice(texts.DEPARTMENTS)
        pool.append(
            {
                "chatId": uuid_for(seed, f"flood-chat:{i % chats}"),
                "senderId": uuid_for(seed, f"flood-visitor:{i % chats}"),
                "content": texts.opening(rng, lang, dept, rng.choice(texts.MOODS)),
                "type": "TEXT",
                "isInternal": False,
                "isFirstResponse": False,
            }
        )
    return pool


async def flood(
    server: GuidersV2Server, n: int, *, chats: int = 200, rate: float | None = None
) -> dict[str, float]:
    """Emit ``n`` ``message:new`` (fresh UUIDs) as fast as possible or at ``rate`` per s."""
    pool = _payloads(server.seed, n, chats)
    room = server.translator.tenant_room
    started = time.perf_counter()
    for i in range(n):
        base = pool[i % len(pool)]
        payload = {
            "messageId": uuid_for(server.seed, f"flood-message:{i}"),
            **base,
            "sentAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "isAI": False,
        }
        await server.broadcast("message:new", payload, room)
        if rate:
            ahead = started + (i + 1) / rate - time.perf_counter()
            if ahead > _MIN_SLEEP_S:
                await asyncio.sleep(ahead)
        elif i % _YIELD_EVERY == 0:
            await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    return {"events": n, "seconds": elapsed, "events_per_s": n / elapsed if elapsed else 0.0}
