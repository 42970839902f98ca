"""The canonical tables of a session, as pandas snapshots."""

from __future__ import annotations

import pandas as pd

from ..store import Store

__all__ = ["Tables"]


class Tables:
    """Canonical tables over a :class:`~guiders_lab.store.Store`.

    Every table property returns a fresh pandas snapshot; keep it in a variable rather than
    re-reading it in a loop.
    """

    store: Store

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
