"""Transports: where a session's events come from and where its actions go."""

from __future__ import annotations

from .base import Ack, Barrier, LinkState, Lockstep, Sink, Transport
from .memory import MemoryTransport
from .offline import OfflineTransport
from .options import ConnectOptions
from .sio import SocketIOTransport

__all__ = [
    "Ack",
    "Barrier",
    "ConnectOptions",
    "LinkState",
    "Lockstep",
    "MemoryTransport",
    "OfflineTransport",
    "Sink",
    "SocketIOTransport",
    "Transport",
]
