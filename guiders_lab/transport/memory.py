"""An in-memory transport: events pushed by hand, actions answered by a function.

In the spirit of httpx's ``MockTransport``: unit tests of session logic (actions, the
outbox, errors, lockstep bots) run in milliseconds with no server and no socket. The
session cannot tell it from a socket: it goes through the same :class:`~.base.Transport`
seam. It is lockstep: :meth:`MemoryTransport.push` returns once every attached bot has
handled the event.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ..errors import NotConnectedError
from .base import Ack, Barrier, LinkState, Sink

__all__ = ["Handler", "MemoryTransport"]

Handler = Callable[[str, dict[str, Any]], "Ack | Awaitable[Ack]"]  # (event, JSON payload)


def _accept(event: str, payload: dict[str, Any]) -> Ack:
    return {"ok": True}


class MemoryTransport:
    """Answers every action with ``handler(event, payload)`` (default ``{"ok": True}``)
    and keeps what was sent in :attr:`calls`; :meth:`push` delivers a server event,
    :meth:`drop` and :meth:`restore` take the link down and bring it back."""

    kind = "memory"

    def __init__(self, handler: Handler | None = None, *, source: str = "memory://") -> None:
        self.handler = handler or _accept
        self.source = source
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._sink: Sink | None = None
        self._state = LinkState.NEW
        self._loop: asyncio.AbstractEventLoop | None = None
        self._barriers: list[Barrier] = []

    @property
    def connected(self) -> bool:
        return self._state is LinkState.CONNECTED

    @property
    def state(self) -> LinkState:
        return self._state

    async def start(self, sink: Sink) -> None:
        self._sink, self._state = sink, LinkState.CONNECTED
        self._loop = asyncio.get_running_loop()

    async def push(
        self,
        name: str,
        payload: Any,  # any JSON value, as a server sends it
        meta: dict[str, Any] | None = None,
        *,
        at: float | None = None,
    ) -> None:
        """Deliver one server event (on the session's loop, as a socket would), then wait
        until every barrier (a lockstep bot) has handled it."""
        args = (payload,) if meta is None else (payload, meta)
        await self._on_loop(self._deliver(name, args, time.time() if at is None else at))

    async def _deliver(self, name: str, args: tuple[Any, ...], at: float) -> None:
        if self._sink is None:
            raise RuntimeError("push() before the session started this transport")
        self._sink.ingest(name, args, at)
        for barrier in list(self._barriers):
            await barrier()

    async def drop(self) -> None:
        """The link goes down: actions wait in the session's outbox."""
        self._state = LinkState.RECONNECTING

    async def restore(self, at: float | None = None) -> None:
        """The link comes back at ``at``: the sink hears of it, the outbox flushes."""

        async def back() -> None:
            assert self._sink is not None
            self._state = LinkState.CONNECTED
            self._sink.reconnected(time.time() if at is None else at)
            self._sink.restored()

        await self._on_loop(back())

    async def _on_loop(self, work: Coroutine[Any, Any, None]) -> None:
        loop = self._loop
        if loop is None or loop is asyncio.get_running_loop():
            await work
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        if not self.connected:
            raise NotConnectedError(f"cannot send {event}: {self.source} is {self._state}")
        self.calls.append((event, payload))
        ack = self.handler(event, payload)
        if inspect.isawaitable(ack):
            async with asyncio.timeout(timeout):
                ack = await ack
        return ack

    async def close(self) -> None:
        self._state = LinkState.CLOSED
        if self._sink is not None:
            self._sink.ended()

    def stats(self) -> dict[str, object]:
        return {"state": self._state, "connected": self.connected, "sent": len(self.calls)}

    def add_barrier(self, barrier: Barrier) -> None:
        self._barriers.append(barrier)

    def remove_barrier(self, barrier: Barrier) -> None:
        if barrier in self._barriers:
            self._barriers.remove(barrier)

    def __repr__(self) -> str:
        return f"<MemoryTransport {self.source} {self._state}: {len(self.calls)} calls>"
