"""Background event loops, so sockets keep flowing while a notebook cell runs.

A Jupyter kernel runs user code on its own asyncio loop; a long cell (a model call, a
plot) would starve a socket living there and trip the server's heartbeat. Sockets and the
simulator therefore live on daemon threads with their own loops, and the kernel awaits
their work through ``asyncio.wrap_future``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, TypeVarTuple

__all__ = ["LoopThread", "bots_loop", "io_loop"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
# A coroutine's send and yield types are the event loop's business, not its caller's:
# ``Coroutine[Any, Any, T]`` as asyncio itself takes them.


class LoopThread:
    """An asyncio loop running forever on a daemon thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name=name, daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        try:
            self.loop.run_forever()
        finally:  # release what the loop holds (tasks, async generators, its selector)
            tasks = asyncio.all_tasks(self.loop)
            for task in tasks:
                task.cancel()
            if tasks:
                self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    @property
    def in_loop(self) -> bool:
        return threading.current_thread() is self.thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(_retrieved(coro), self.loop)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on this loop from any loop (cancellation is forwarded)."""
        if self.in_loop:
            return await coro
        return await asyncio.wrap_future(self.submit(coro))

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Block the calling thread until ``coro`` finishes on this loop."""
        if self.in_loop:
            coro.close()
            raise RuntimeError(f"run_sync called from inside {self.name}: it would deadlock")
        return self.submit(coro).result(timeout)

    def call_soon(self, callback: Callable[[*Ts], object], *args: *Ts) -> None:
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.in_loop:
            self.thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"<LoopThread {self.name} alive={self.thread.is_alive()}>"


async def _retrieved(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` in a task whose outcome counts as read even when its caller left: a
    caller cancelled while the task was failing (a session closed under a bot's send) would
    otherwise leave asyncio printing "Task exception was never retrieved" into a notebook.
    A caller that still waits gets the exception as before."""
    task = asyncio.current_task()
    if task is not None:
        task.add_done_callback(_mark_read)
    return await coro


def _mark_read(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


_shared: dict[str, LoopThread] = {}
_shared_lock = threading.Lock()


def _named(name: str) -> LoopThread:
    with _shared_lock:
        loop = _shared.get(name)
        if loop is None or not loop.thread.is_alive():
            loop = _shared[name] = LoopThread(name)
        return loop


def io_loop() -> LoopThread:
    """The shared loop that every client socket (and every replay) of this process runs on."""
    return _named("guiders-lab-io")


def bots_loop() -> LoopThread:
    """The shared loop live bots run on: apart from capture, so a slow bot never holds it."""
    return _named("guiders-lab-bots")
