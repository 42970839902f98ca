"""What this kernel has running: sessions, simulators and bots.

Re-running a notebook cell that connects, launches a simulator or starts a bot starts one
more while the first goes on (two captures of the same stream, two bots answering each
visitor). Each start is noted here; starting the same thing again while the first still
runs warns with what is running and how to stop it, and :func:`running` lists it all.
"""

from __future__ import annotations

import threading
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["RunningWarning", "running", "started"]


class RunningWarning(UserWarning):
    """The same session, simulator or bot was started again while the first still runs."""


@dataclass
class _Entry:
    kind: str  # "session" | "simulator" | "bot"
    key: str  # what makes two of them "the same" (a URL, a scenario and seed, a bot on a session)
    ref: weakref.ReferenceType[Any]
    alive: Callable[[Any], bool]
    stop: str  # how to stop it, as code
    since: float

    def running(self) -> Any | None:
        obj = self.ref()
        try:
            return obj if obj is not None and self.alive(obj) else None
        except Exception:  # a half-built or broken object is not running
            return None


_entries: list[_Entry] = []
_lock = threading.Lock()


def started(kind: str, key: str, obj: object, *, alive: Callable[[Any], bool], stop: str) -> None:
    """Note that ``obj`` started; warn (:class:`RunningWarning`) if one of the same
    ``kind`` and ``key`` still runs."""
    with _lock:
        _entries[:] = [e for e in _entries if e.running() is not None]
        same = [e for e in _entries if e.kind == kind and e.key == key]
        _entries.append(_Entry(kind, key, weakref.ref(obj), alive, stop, time.time()))
    if same:
        first = same[0]
        ago = time.time() - first.since
        warnings.warn(
            f"another {kind} {key} is still running (started {ago:.0f} s ago): this starts "
            f"one more beside it. Stop the first with {first.stop}, or see gl.running()",
            RunningWarning,
            stacklevel=3,
        )


def running() -> pd.DataFrame:
    """What this kernel has running: one row per session, simulator and bot, with when
    it started and how to stop it."""
    with _lock:
        rows = [
            {
                "kind": e.kind,
                "what": e.key,
                "object": repr(obj),
                "started_at": pd.Timestamp(e.since, unit="s", tz="UTC"),
                "stop_with": e.stop,
            }
            for e in _entries
            if (obj := e.running()) is not None
        ]
    return pd.DataFrame(rows, columns=["kind", "what", "object", "started_at", "stop_with"])
