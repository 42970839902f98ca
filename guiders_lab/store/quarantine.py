"""Events that could not be understood: bounded previews and the reasons given."""

from __future__ import annotations

import orjson

from ..events.records import Quarantined

__all__ = ["PREVIEW_BYTES", "is_utf8", "preview", "quarantined", "undecodable_reason"]

PREVIEW_BYTES = 4096  # of a refused payload kept: one huge event cannot exhaust memory


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def preview(raw: bytes) -> bytes:
    """The first few KB of a payload, cut on a UTF-8 character boundary."""
    return raw[:PREVIEW_BYTES].decode("utf-8", "ignore").encode()


def undecodable_reason(raw: bytes) -> str:
    """Why a frame the transport could not split into (event, args) was refused."""
    try:
        error = orjson.loads(raw).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        error = None
    return f"undecodable frame: {error}" if error else "undecodable frame"


def quarantined(
    name: str, reason: str, raw: bytes, size: int, received_ts: float
) -> Quarantined[float]:
    """The ``quarantine`` row of an unusable event (raw form: epoch-second times)."""
    return Quarantined(
        received_at=received_ts,
        name=str(name),
        reason=reason,
        payload=preview(raw).decode("utf-8", "replace"),
        size_bytes=size,
    )
