"""Retention: how a session that does not record keeps bounded memory.

``gl.connect(..., max_rows=N, max_age=...)`` keeps, per table, at least the newest
``max_rows`` rows (and every row younger than ``max_age``); older *sealed chunks* (8,192
rows each) are dropped whole, so a table holds up to one chunk more than the limit. Rows
dropped are counted per table (``store.dropped``, ``session.metrics()["rows_dropped"]``)
and a :class:`RowsDroppedWarning` says so the first time each table drops: never silently.
Offsets stay absolute (row ``k`` of a table is row ``k`` however many rows before it were
dropped), so views reading on from an offset keep working.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from typing import NamedTuple

from .._warn import warn_at_caller

__all__ = ["Retention", "RowsDroppedWarning", "retention", "warn_dropped"]

log = logging.getLogger(__name__)


class RowsDroppedWarning(UserWarning):
    """A table reached its retention limit (``max_rows`` / ``max_age``): its oldest rows
    are being dropped from memory. The count is in ``store.dropped``."""


class Retention(NamedTuple):
    """Limits on what a table keeps in memory (``inf``: no limit)."""

    max_rows: float = math.inf
    max_age_s: float = math.inf

    def drop_count(self, rows: list[int], sealed_at: list[float], keep_last: bool) -> int:
        """How many leading chunks to drop, given each chunk's rows and seal time (the
        last chunk is kept when ``keep_last``: a bulk chunk still being filled)."""
        held = sum(rows)
        oldest = time.time() - self.max_age_s
        k, last = 0, len(rows) - (1 if keep_last else 0)
        while k < last:
            if held - rows[k] >= self.max_rows or sealed_at[k] < oldest:
                held -= rows[k]
                k += 1
            else:
                break
        return k


def retention(
    max_rows: int | None = None, max_age: float | timedelta | None = None
) -> Retention | None:
    """Checked limits, or None when there are none."""
    if max_rows is None and max_age is None:
        return None
    if max_rows is not None and (not isinstance(max_rows, int) or max_rows < 0):
        raise ValueError(f"max_rows must be a whole number of rows >= 0, not {max_rows!r}")
    age = max_age.total_seconds() if isinstance(max_age, timedelta) else max_age
    if age is not None and not age > 0:
        raise ValueError(f"max_age must be > 0 seconds, not {max_age!r}")
    return Retention(
        math.inf if max_rows is None else max_rows, math.inf if age is None else float(age)
    )


def warn_dropped(table: str, rows: int, limits: Retention) -> None:
    """Say once per table that rows are being dropped (the caller keeps the count)."""
    parts = []
    if limits.max_rows != math.inf:
        parts.append(f"max_rows={int(limits.max_rows):,}")
    if limits.max_age_s != math.inf:
        parts.append(f"max_age={limits.max_age_s:g} s")
    text = (
        f"table {table!r} reached its retention limit ({', '.join(parts)}): its oldest "
        f"{rows:,} rows were dropped from memory, and older rows will go as new ones "
        "arrive (counted in store.dropped; record with record_to=DIR to keep every row)"
    )
    log.warning(text)
    warn_at_caller(RowsDroppedWarning(text))
