"""Background event loops, so sockets keep flowing while a notebook cell runs.

A Jupyter kernel runs user code on its own asyncio loop; a long cell (a model call, a
plot) would starve a socket living there and trip the server's heartbeat. Sockets and the
simulator therefore live on daemon threads with their own loops, and the kernel awaits
their work through ``asyncio.wrap_future``.

Those threads share the GIL with the user's cells: each wake-up of a loop takes it from a
cell's pandas code. A loop can be told to wake at most once per ``min_gap`` for I/O (see
:class:`CoalescingSelector`), reading everything that arrived meanwhile at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import selectors
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, TypeVarTuple

__all__ = ["IO_MIN_GAP_S", "CoalescingSelector", "LoopThread", "bots_loop", "io_loop"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")
# A coroutine's send and yield types are the event loop's business, not its caller's:
# ``Coroutine[Any, Any, T]`` as asyncio itself takes them.

# The capture loop's least time between two wake-ups for I/O. Off: at 2,000 events/s a 5 ms
# gap cut capture's CPU per event by ~17% and its wake-ups 4x, but raised the lag's p50 by
# ~3 ms, and its effect on a pandas cell's time could not be told from the noise of a loaded
# 2-core machine (benchmarks/bench_kernel_share.py --gaps 0,5 measures both in one run)
IO_MIN_GAP_S = 0.0


class CoalescingSelector(selectors.DefaultSelector):
    """A selector that lets I/O pile up for ``min_gap`` seconds after a wake-up.

    Without it a busy socket wakes its thread for every few frames (400-700 times a
    second at 2,000 events/s), and every wake-up takes the GIL from the kernel's main
    thread, costs a loop iteration and a system call, and hands the GIL back. Waiting
    (asleep, without the GIL) until ``min_gap`` has passed since the last wake-up reads
    the frames of many wake-ups in one. A quiet socket is not delayed: whatever arrives
    more than ``min_gap`` after the last wake-up is read at once. Callbacks that are
    ready (``select(0)``) never wait; timers and other threads' calls may wait up to
    ``min_gap``. ``min_gap = 0`` turns it off.
    """

    def __init__(self, min_gap: float = 0.0) -> None:
        super().__init__()
        self.min_gap = min_gap
        self.wakeups = 0  # returns with I/O ready (how often the loop took the GIL for it)
        self._last = -1e9

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        gap = self.min_gap
        if gap > 0.0 and (timeout is None or timeout > 0.0):
            wait = self._last + gap - time.monotonic()
            if wait > 0.0:
                if timeout is not None:
                    wait = min(wait, timeout)
                    timeout -= wait
                time.sleep(wait)
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(timeout)
        if ready:
            self.wakeups += 1
            self._last = time.monotonic()
        return ready


class LoopThread:
    """An asyncio loop running forever on a daemon thread."""

    def __init__(self, name: str, min_gap: float = 0.0) -> None:
        """``min_gap``: see :class:`CoalescingSelector`."""
        self.name = name
        self.selector = CoalescingSelector(min_gap)
        self.loop: asyncio.AbstractEventLoop = asyncio.SelectorEventLoop(self.selector)
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


def _named(name: str, min_gap: float = 0.0) -> LoopThread:
    with _shared_lock:
        loop = _shared.get(name)
        if loop is None or not loop.thread.is_alive():
            loop = _shared[name] = LoopThread(name, min_gap)
        return loop


def io_loop() -> LoopThread:
    """The shared loop that every client socket (and every replay) of this process runs on."""
    return _named("guiders-lab-io", IO_MIN_GAP_S)


def bots_loop() -> LoopThread:
    """The shared loop live bots run on: apart from capture, so a slow bot never holds it."""
    return _named("guiders-lab-bots")
