"""Faults the simulator injects on demand, and the states its server goes through.

Fault tests need a backend that misbehaves in precise ways (an ack lost after the action
was applied, slow acks, an odd answer to a resync). They set fields of ``sim.faults``
instead of patching the server's internals, so the server can change without breaking
them. Fields are read on every client event; setting one from another thread is safe
(a plain attribute write).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["Faults", "ServerState"]


class ServerState(enum.Enum):
    """Where a :class:`~guiders_lab.sim.SimServer` is in its life."""

    NEW = "new"  # built, not listening yet
    SERVING = "serving"  # listening; clients connect and act
    DOWN = "down"  # crashed or taken down: no listener, the simulated world goes on
    STOPPED = "stopped"  # stopped for good


@dataclass
class Faults:
    """Settable faults (all off by default).

    ``cut_after_action``: the next client event with this name (e.g. ``"message:send"``)
    is carried out, then every connection is cut before its ack leaves; the field then
    resets to ``None`` (one shot). A client that resends with the same idempotency key
    must get the first result, marked ``duplicate``.

    ``ack_delay``: seconds every client event waits before it is carried out and acked (a
    slow backend). Events wait concurrently, as on a real server.

    ``sync_reply``: when set, every ``state:sync`` is answered with this instead of the
    events missed, and nothing is replayed. The ack is ``{"ok": True, **sync_reply}``, so
    an ``ok`` in it wins (``{"ok": False, "error": "Unknown event"}`` is a refusal).
    """

    cut_after_action: str | None = None
    ack_delay: float = 0.0
    sync_reply: dict[str, Any] | None = None

    def clear(self) -> None:
        """Turn every fault off."""
        self.cut_after_action = None
        self.ack_delay = 0.0
        self.sync_reply = None
