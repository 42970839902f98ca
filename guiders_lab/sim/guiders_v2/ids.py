"""Ids and times as the deployed backend writes them.

The backend validates UUID v4 ids (``@IsUUID()`` on ``chatId``), so every readable engine
id (``chat-1a2b3c4d``) gets a UUID v4 derived from the seed and the id itself: the same
seed gives the same UUIDs whatever order things happen in, and nothing else is stored.
"""

from __future__ import annotations

import hashlib
import time
import uuid

__all__ = ["epoch_ms", "is_uuid4", "uuid_for"]


def uuid_for(seed: int | str, key: str) -> str:
    """A stable, valid UUID v4 for ``key`` under ``seed``."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def is_uuid4(value: object) -> bool:
    """What class-validator's ``@IsUUID()`` (version 4 by default in v0.14) accepts."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == value.lower()


def epoch_ms() -> int:
    """Gateway confirmations carry ``Date.now()``: integer epoch milliseconds."""
    return int(time.time() * 1000)
