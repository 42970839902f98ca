"""What the store writes a recording through: a port, so the store never knows the file."""

from __future__ import annotations

from typing import Any, Protocol

from ..events.records import Action

__all__ = ["JournalWriter"]


class JournalWriter(Protocol):
    """Where a recording session's store writes every event as it takes it
    (:class:`guiders_lab.record.journal.Journal`); the store does not know the file."""

    def write_in(
        self, seq: int, t: float, name: str, raw: bytes, meta: dict[str, Any] | None
    ) -> None: ...

    def write_bad(
        self, seq: int, t: float, name: str, reason: str, preview: bytes, size: int
    ) -> None: ...

    def write_out(self, seq: int, t: float, name: str, raw: bytes) -> None: ...

    def write_action(self, action: Action[float]) -> None: ...

    def write_link(self, t: float, state: str) -> None: ...

    def write_note(self, chat_id: str, field: str, value: float) -> None: ...
