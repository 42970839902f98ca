"""Transports: the live Socket.IO client and (for recordings) the replay transport."""

from __future__ import annotations

from .base import Sink, Transport
from .sio import ConnectOptions, SocketIOTransport

__all__ = ["ConnectOptions", "Sink", "SocketIOTransport", "Transport"]
