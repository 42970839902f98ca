"""Refresh a widget on a timer from the notebook's own event loop.

Widgets are updated on the kernel's loop (where ipywidgets expects it), never from the
capture thread; the refresh work is sized to what changed, so following a busy stream
does not freeze the kernel.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

__all__ = ["Follower", "Following"]

log = logging.getLogger(__name__)


class Follower:
    """Calls ``refresh()`` every ``interval`` seconds while ``active()`` holds."""

    def __init__(
        self,
        refresh: Callable[[], None],
        interval: float,
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        self.refresh = refresh
        self.interval = interval
        self.active = active
        self.last_cost_s = 0.0
        self.refreshes = 0
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a plain script: nothing to follow with
            self._task = None
        else:
            self._task = loop.create_task(self._run())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while self.active():
            # never spend more than ~a fifth of the kernel's time refreshing
            await asyncio.sleep(max(self.interval, 4 * self.last_cost_s))
            started = time.perf_counter()
            try:
                self.refresh()
            except Exception:  # a refresh bug must not kill the notebook's loop
                log.exception("widget refresh failed")
            self.last_cost_s = time.perf_counter() - started
            self.refreshes += 1

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class Following:
    """Mixin for a widget that follows a session: ``_follow()`` starts its timer, and
    ``close()`` stops the timer with the widget (put it before the ipywidgets base)."""

    _closed = False
    follower: Follower | None = None

    def _follow(self, refresh: Callable[[], None], interval: float) -> Follower:
        return Follower(refresh, interval, active=lambda: not self._closed)

    def close(self) -> None:
        self._closed = True
        if self.follower is not None:
            self.follower.stop()
        # ignore: the widget class after this mixin (an untyped ipywidgets one) has close()
        super().close()  # type: ignore[misc]
