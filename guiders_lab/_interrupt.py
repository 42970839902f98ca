"""Kernel interrupts that behave as in pandas: the long call stops and the cell fails.

In a Jupyter kernel an interrupt (SIGINT) during an ``await`` cell cancels the cell's
task, so the call being awaited sees a bare ``CancelledError``. Left alone that either
shows as a raw traceback while background work goes on, or, if the call catches it to
keep partial results, is swallowed and Run All carries on with the next cell.
:func:`interruptible` tells a kernel (or Ctrl-C under ``asyncio.run``) interrupt apart
from any other cancellation (a timeout, a task cancelled by code): only for the first it
stops the call's work and raises :class:`~guiders_lab.errors.Interrupted`, an ordinary
exception that fails the cell, names what stopped and where partial results are.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from types import FrameType
from typing import Any

from .errors import Interrupted

__all__ = ["Interrupted", "interruptible"]

Handler = Callable[[int, FrameType | None], Any]


class _SigintWatch:
    """Notes a SIGINT while it is installed and passes it on to the handler it replaced
    (ipykernel's, which cancels the cell; asyncio.run's, which cancels the main task)."""

    def __init__(self) -> None:
        self.seen = False
        self._previous: Handler | int | None = None
        self._installed = False

    def __enter__(self) -> _SigintWatch:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):
                self._previous = previous
                signal.signal(signal.SIGINT, self._noted)
                self._installed = True
        return self

    def _noted(self, signum: int, frame: FrameType | None) -> Any:
        self.seen = True
        previous = self._previous
        assert callable(previous)
        return previous(signum, frame)

    def __exit__(self, *exc: object) -> None:
        if self._installed and signal.getsignal(signal.SIGINT) == self._noted:
            signal.signal(signal.SIGINT, self._previous)

    def interrupted(self) -> bool:
        """A SIGINT came while installed, or, in an IPython kernel, before: the kernel's
        handler for this cell keeps a future that its SIGINT completed (ipykernel's
        ``_cancel_on_sigint``), so an interrupt that landed in synchronous code just
        before this call is told apart from a timeout too."""
        if self.seen:
            return True
        handler = self._previous if self._installed else signal.getsignal(signal.SIGINT)
        for cell in getattr(handler, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if isinstance(value, asyncio.Future) and value.done() and not value.cancelled():
                return True
        return False


@contextlib.asynccontextmanager
async def interruptible(
    what: str,
    stop: Callable[[], Awaitable[object] | object] | None = None,
    partial: Callable[[], str] | None = None,
) -> AsyncIterator[None]:
    """Run a long awaited call so that an interrupt stops it: ``stop()`` ends its
    background work (cancel workers, stop a playback), then
    :class:`~guiders_lab.errors.Interrupted` says "``what`` interrupted" and
    ``partial()`` where the results so far are. Any other cancellation passes through."""
    with _SigintWatch() as watch:
        try:
            yield
        except Interrupted:  # a call inside was interrupted: this one stops too, and says so
            pass
        except (asyncio.CancelledError, KeyboardInterrupt) as exc:
            if not (isinstance(exc, KeyboardInterrupt) or watch.interrupted()):
                raise  # cancelled by code (a timeout...): asyncio's business
            task = asyncio.current_task()
            if task is not None and isinstance(exc, asyncio.CancelledError):
                task.uncancel()  # handled here: the task goes on to raise Interrupted
        else:
            return
    if stop is not None:
        done = stop()
        if isinstance(done, Awaitable):
            await done
    said = partial() if partial is not None else ""
    # from None: the cancellation it replaces is no news to the user (no chained traceback)
    raise Interrupted(f"{what} interrupted" + (f"; {said}" if said else "")) from None
