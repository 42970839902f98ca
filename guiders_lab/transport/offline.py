"""The transport of a session with no link: a store built by hand, or a test's."""

from __future__ import annotations

from typing import Any

from ..errors import NotConnectedError
from .base import Ack, LinkState, Sink

__all__ = ["OfflineTransport"]


class OfflineTransport:
    """Delivers nothing and sends nothing: the session shows the tables it was given."""

    kind = "offline"

    def __init__(self, source: str = "offline") -> None:
        self.source = source

    @property
    def connected(self) -> bool:
        return False

    @property
    def state(self) -> LinkState:
        return LinkState.OFFLINE

    async def start(self, sink: Sink) -> None:
        sink.ended()

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        raise NotConnectedError(f"cannot send {event}: {self.source} has no connection")

    async def close(self) -> None:
        return None

    def stats(self) -> dict[str, object]:
        return {"state": LinkState.OFFLINE, "connected": False}

    def __repr__(self) -> str:
        return f"<OfflineTransport {self.source}>"
