"""The transport seam: where events come from and where actions go.

A session holds a store and one transport. The transport delivers raw server events into
a :class:`Sink` (the session's store) and carries client actions back (:meth:`call`); a
live socket, a replayed recording, a loaded recording and an in-memory fake all implement
:class:`Transport`, and this Protocol is the only way sessions, bots and widgets reach
one. A transport that can wait, after each event, for every bot to finish with it
declares the optional :class:`Lockstep` capability: replays do, so bots run over them
deterministically.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

__all__ = ["Ack", "Barrier", "LinkState", "Lockstep", "Sink", "Transport"]

Ack = Any  # whatever the server acknowledged with: JSON (the ai-api dialect: an object)
Barrier = Callable[[], Awaitable[None]]


class LinkState(enum.StrEnum):
    """Where a transport's link stands (a ``str``: ``state == "connected"`` reads well)."""

    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # dropped; python-socketio retries on its own
    RECOVERING = "recovering"  # retries used up, or too many errors: backing off
    REFUSED = "refused"  # the server refused the token
    FAILED = "failed"  # nothing answered
    REPLAYING = "replaying"
    FINISHED = "finished"  # a replay delivered its last event
    STOPPED = "stopped"  # a replay closed before its end
    LOADED = "loaded"  # a recording read from disk: everything already delivered
    OFFLINE = "offline"  # no link at all (a session over a store built by hand)
    CLOSED = "closed"


class Sink(Protocol):
    """What a transport delivers into: the session's store."""

    def ingest(self, name: str, args: tuple[Any, ...], received_ts: float | None = None) -> None:
        """One raw server event (name plus Socket.IO arguments, decoded JSON: hence
        ``Any``), received at ``received_ts``."""

    def ingest_json(
        self,
        name: str,
        raw: bytes,
        meta: dict[str, Any] | None,
        received_ts: float,
        *,
        utf8: bool = False,
    ) -> None:
        """One raw server event whose payload is still JSON text (``raw``), with its
        second argument ``meta`` when that is an object: the live fast path. ``utf8``:
        ``raw`` is known to be valid UTF-8 (cut from a text frame), not to be checked."""

    def reconnected(self, at: float) -> None:
        """The link opened again at ``at``: what the server sent before is re-delivered."""

    def restored(self) -> None:
        """After a reconnect the link is caught up (rooms re-joined, missed events fetched)."""

    def ended(self) -> None:
        """Nothing more will be delivered (a replay's end, a closed link)."""

    def skipped_by_server(self, server_seq: int, name: str, size: int) -> None:
        """The server left an event out of a resync (too big to send)."""

    def resume_from(self) -> int | None:
        """The server sequence number every event up to which has arrived."""


class Transport(Protocol):
    """Delivers raw server events to a sink and carries client actions back."""

    @property
    def kind(self) -> str:
        """``"live"``, ``"replay"``, ``"recording"``, ``"memory"`` or ``"offline"``."""

    @property
    def source(self) -> str:
        """Where the events come from, secrets removed (a URL, a directory)."""

    @property
    def connected(self) -> bool:
        """Actions can be sent now."""

    @property
    def state(self) -> LinkState: ...

    async def start(self, sink: Sink) -> None:
        """Begin delivering events into ``sink`` (returns once connected / started)."""

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        """Send one client event and return the server's acknowledgement. Raises
        ``TimeoutError`` when none came in ``timeout`` seconds, and
        :class:`~guiders_lab.NotConnectedError` when the link is down (or went down
        before the ack: the action may or may not have been applied)."""

    async def close(self) -> None:
        """Stop delivering events and release the connection."""

    def stats(self) -> dict[str, object]:
        """Counters for ``metrics()`` (``state`` among them; numbers, strings or None)."""


@runtime_checkable
class Lockstep(Protocol):
    """Optional capability: events are fed one at a time, and after each the transport
    awaits every barrier (a bot finishing with it) before the next. Bots attached to such
    a transport run deterministically: the same events give the same actions."""

    def add_barrier(self, barrier: Barrier) -> None: ...

    def remove_barrier(self, barrier: Barrier) -> None: ...
