"""What every session offers, live or not: the canonical tables and a summary."""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..store import Store

__all__ = ["Session"]


class Session:
    """Canonical tables over a :class:`~guiders_lab.store.Store`.

    Every table property returns a fresh pandas snapshot; keep it in a variable rather than
    re-reading it in a loop.
    """

    kind = "session"

    def __init__(self, store: Store, source: str) -> None:
        self.store = store
        self.source = source

    # ------------------------------------------------------------------ tables
    def table(self, name: str) -> pd.DataFrame:
        """Any table by name (``events``, ``messages``, ``chats``, ...)."""
        return self.store.frame(name)

    @property
    def events(self) -> pd.DataFrame:
        """Every event in both directions, with the raw JSON payload."""
        return self.store.frame("events")

    @property
    def messages(self) -> pd.DataFrame:
        return self.store.frame("messages")

    @property
    def chats(self) -> pd.DataFrame:
        """One row per chat with its timeline and derived durations."""
        return self.store.frame("chats")

    @property
    def assignments(self) -> pd.DataFrame:
        return self.store.frame("assignments")

    @property
    def presence(self) -> pd.DataFrame:
        return self.store.frame("presence")

    @property
    def visitor_actions(self) -> pd.DataFrame:
        return self.store.frame("visitor_actions")

    @property
    def typing_events(self) -> pd.DataFrame:
        """Typing indicators seen in the chat rooms this session joined."""
        return self.store.frame("typing_events")

    @property
    def errors(self) -> pd.DataFrame:
        return self.store.frame("errors")

    @property
    def latency(self) -> pd.DataFrame:
        """Ping round trips and event-lag windows."""
        return self.store.frame("latency")

    @property
    def actions(self) -> pd.DataFrame:
        """Actions sent (or, in shadow mode, only decided) and their outcome."""
        return self.store.frame("actions")

    @property
    def quarantine(self) -> pd.DataFrame:
        """Events that could not be understood, with the reason."""
        return self.store.frame("quarantine")

    def counts(self) -> dict[str, int]:
        """Received events by name."""
        return dict(self.store.counts)

    # ------------------------------------------------------------------ helpers
    def metrics(self) -> dict[str, Any]:
        s = self.store
        counts = dict(s.counts)
        status = dict(s.status_counts)
        return {
            "events_received": sum(counts.values()),
            "events_sent": s.sent,
            "messages_received": sum(v for k, v in counts.items() if k.startswith("message:")),
            "mean_latency_ms": s.ping_sum_ms / s.ping_n if s.ping_n else None,
            "last_latency_ms": s.last_ping_ms,
            "event_lag_ms": s.last_lag_ms,
            "quarantined": status["quarantined"],
            "duplicates": status["duplicate"],
            "redelivered_events": s.redelivered,  # sent before a reconnect, came after it
            "unknown_events": status["unknown"],
            "chats": len(s.chats),
            "missing_events": s.seq_tracker.missing,  # server sequence numbers not received
            "gaps_detected": s.seq_tracker.gaps_seen,
            **self._bot_metrics(),
        }

    def _bot_metrics(self) -> dict[str, Any]:
        """How the attached bots keep up: queued events, the worst current lag, skips."""
        runs = [r for r in getattr(self, "bots", ()) if r.active]
        lags = [lag for lag in (r.lag_ms for r in runs) if lag is not None]
        return {
            "bots": len(runs),
            "bot_backlog": sum(r.backlog for r in runs),
            "bot_lag_ms": max(lags) if lags else None,
            "bot_skipped": sum(r.skipped for r in runs),
        }

    async def wait_for(
        self, predicate: Callable[[Session], bool], timeout: float = 10.0, interval: float = 0.05
    ) -> None:
        """Wait until ``predicate(session)`` is true, e.g. ``lambda s: len(s.store.chats) > 3``."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s on {self!r}")
            await asyncio.sleep(interval)

    def _status(self) -> str:
        return "offline"

    def __repr__(self) -> str:
        s = self.store
        counts = s.counts
        return (
            f"<{type(self).__name__} {s.dialect.name} {self.source} {self._status()}: "
            f"{len(s):,} events, {counts.get('message:new', 0):,} messages, "
            f"{len(s.chats):,} chats, {s.status_counts['quarantined']:,} quarantined>"
        )

    def _repr_html_(self) -> str:
        m = self.metrics()
        rows = [
            ("source", self.source),
            ("status", self._status()),
            ("events in / out", f"{m['events_received']:,} / {m['events_sent']:,}"),
            ("messages", f"{self.store.counts.get('message:new', 0):,}"),
            ("chats", f"{m['chats']:,}"),
            ("quarantined", f"{m['quarantined']:,}"),
        ]
        if m.get("mean_latency_ms") is not None:
            rows.append(("mean ping", f"{m['mean_latency_ms']:.1f} ms"))
        if m.get("event_lag_ms") is not None:
            rows.append(("event lag", f"{m['event_lag_ms']:.1f} ms"))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in rows
        )
        title = html.escape(f"{type(self).__name__} · {self.store.dialect.name}")
        return f"<table><caption style='text-align:left'><b>{title}</b></caption>{body}</table>"
