"""The simulator's own background thread and event loop.

The simulator runs like a separate process would: on its own thread, so a busy notebook
cell or a blocking test does not pause the simulated world. It has its own copy of this
small piece rather than the client's loop helpers, so that it shares no code with the
client it is there to test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["ServerThread"]

T = TypeVar("T")


class ServerThread:
    """An asyncio loop running on a daemon thread until :meth:`stop`."""

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

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run_sync(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Block the calling thread until ``coro`` finishes on this loop."""
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError(f"run_sync called from inside {self.name}: it would deadlock")
        return self.submit(coro).result(timeout)

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        self.loop.call_soon_threadsafe(callback, *args)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=5)

    def __repr__(self) -> str:
        return f"<ServerThread {self.name} alive={self.thread.is_alive()}>"
