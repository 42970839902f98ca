"""The transport seam: where events come from and where actions go.

A live socket and a replayed recording both implement :class:`Transport`; the store, bots,
charts and widgets above cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["Sink", "Transport"]

# sink(event_name, socketio_args, received_at_epoch_seconds): Store.ingest
Sink = Callable[[str, tuple[Any, ...], float], None]


class Transport(Protocol):
    """Delivers raw server events to a sink and carries client actions back."""

    @property
    def connected(self) -> bool: ...

    async def start(self, store: Store) -> None:
        """Begin delivering events into ``store`` (returns once connected / started)."""

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Any:
        """Send one client event and return the server's acknowledgement."""

    async def close(self) -> None:
        """Stop delivering events and release the connection."""

    def stats(self) -> dict[str, Any]:
        """Connection counters for ``metrics()``."""
