"""Event-lag windows: the ``latency`` rows that summarise the link, one per window.

Every event delivered live (first copies only: the store leaves out repeats and events
re-delivered after a reconnect) adds its lag; a window closes into one row (mean, max,
count) once it spans ``window_s`` seconds of receive time. The bulk path closes the same
windows over whole arrays (:meth:`LagWindows.run`), with exactly the live result.
"""

from __future__ import annotations

import math

import numpy as np

from ..events.records import LatencySample

__all__ = ["LagWindows"]


class LagWindows:
    """The open window's running sums, and the last closed window's mean."""

    __slots__ = ("last_ms", "max_ms", "n", "started", "sum_ms", "window_s")

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self.started = 0.0
        self.sum_ms = 0.0
        self.max_ms = -math.inf
        self.n = 0
        self.last_ms: float | None = None  # the mean of the last closed window

    def note(self, lag_ms: float, now: float) -> LatencySample[float] | None:
        """Add one event's lag; returns the window's row when this event closes it."""
        if self.n == 0:
            self.started = now
        self.n += 1
        self.sum_ms += lag_ms
        if lag_ms > self.max_ms:
            self.max_ms = lag_ms
        if now - self.started >= self.window_s:
            return self.close()
        return None

    def close(self) -> LatencySample[float] | None:
        """Close the open window (if it holds anything) into one ``latency`` row."""
        if not self.n:
            return None
        self.last_ms = self.sum_ms / self.n
        row = LatencySample(
            at=self.started,
            kind="event_lag",
            name=None,
            value_ms=self.last_ms,
            n=self.n,
            max_ms=self.max_ms,
            server_time=None,
        )
        self.n, self.sum_ms, self.max_ms = 0, 0.0, -math.inf
        return row

    def run(
        self, now: np.ndarray, lag: np.ndarray, at: np.ndarray
    ) -> list[tuple[int, LatencySample[float]]]:
        """:meth:`note` over many events at once (receive times ``now``, lags ``lag``,
        batch positions ``at``): the rows it closes, each with the position of the event
        that closed it. Leaves the state as the same calls one by one would."""
        n0, total, peak, started = self.n, self.sum_ms, self.max_ms, self.started
        window = self.window_s
        rows: list[tuple[int, LatencySample[float]]] = []
        last = self.last_ms
        m = len(lag)
        monotonic = m < 2 or bool(np.all(now[1:] >= now[:-1]))
        k = 0
        while k < m:
            if n0 == 0:
                started = float(now[k])
            if monotonic:  # the first event at least ``window`` after the start, by search
                j = max(k, int(np.searchsorted(now, started + window)))
                while j > k and now[j - 1] - started >= window:
                    j -= 1
            else:
                j = k
            while j < m and not now[j] - started >= window:
                j += 1
            segment = lag[k : min(j, m - 1) + 1]
            total = float(np.add.accumulate(np.concatenate(([total], segment)))[-1])  # in order
            n0 += len(segment)
            peak = max(peak, float(segment.max()))
            if j < m:
                last = total / n0
                row = LatencySample(
                    at=started,
                    kind="event_lag",
                    name=None,
                    value_ms=last,
                    n=n0,
                    max_ms=peak,
                    server_time=None,
                )
                rows.append((int(at[j]), row))
                n0, total, peak = 0, 0.0, -math.inf
            k = j + 1
        self.n, self.sum_ms, self.max_ms = n0, total, peak
        self.started, self.last_ms = started, last
        return rows
