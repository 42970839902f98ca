"""Client options of the live transport, with the reference page's defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

from .._version import __version__

__all__ = ["ConnectOptions"]


@dataclass(frozen=True)
class ConnectOptions:
    """Client options. Defaults are the reference page's (times in seconds, not ms)."""

    path: str = "/socket.io/"
    transports: tuple[str, ...] = ("websocket", "polling")
    user_agent: str = f"guiders-lab/{__version__}"
    capabilities: tuple[str, ...] = ("messaging", "analytics", "automation")
    reconnection: bool = True
    reconnection_delay: float = 1.0  # page: reconnectionDelay 1000 ms
    reconnection_delay_max: float = 5.0
    reconnection_attempts: int = 5  # page: reconnectionAttempts 5
    randomization_factor: float = 0.5
    timeout: float = 20.0  # page: timeout 20000 ms
    heartbeat_interval: float | None = 30.0  # page: heartbeatInterval 30000 ms; None: off
    ack_timeout: float = 10.0
    max_errors: int = 5  # page: maxErrores 5
    recovery_delay: float = 5.0  # page: setTimeout(intentarRecuperacion, 5000)
    recovery_delay_max: float = 60.0
    outbox_size: int = 1000  # actions that may wait for a reconnect (0: fail at once)
    outbox_ttl: float = 60.0  # seconds a queued action may wait before it is dropped
    max_payload_bytes: int = 1_000_000  # bigger events: quarantined, a preview kept
    max_frame_bytes: int = 16 * 2**20  # bigger frames are refused (close 1009), never read
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # may hold secrets

    def __post_init__(self) -> None:
        bad = set(self.transports) - {"websocket", "polling"}
        if not self.transports or bad:
            raise ValueError(
                f"transports must be 'websocket' and/or 'polling', got {self.transports}"
            )
        for name in ("reconnection_delay", "timeout", "heartbeat_interval", "ack_timeout"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.max_payload_bytes <= 0 or self.max_frame_bytes <= 0:
            raise ValueError("max_payload_bytes and max_frame_bytes must be > 0")
        if self.reconnection_attempts < 0 or self.max_errors < 1:
            raise ValueError("reconnection_attempts must be >= 0 and max_errors >= 1")
