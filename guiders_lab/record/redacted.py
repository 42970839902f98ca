"""The journal of a recording made with ``redact_pii=True``: personal data never reaches
the disk (see :mod:`guiders_lab.privacy`)."""

from __future__ import annotations

from typing import Any

from ..events.records import Action
from ..privacy import redact_field, redact_json, redact_pii, redact_value
from .journal import Journal

__all__ = ["RedactingJournal"]


class RedactingJournal(Journal):
    """A :class:`~guiders_lab.record.journal.Journal` that masks e-mails, phone numbers and
    card numbers in every line it writes; the store's in-memory rows keep the real text."""

    def write_in(
        self, seq: int, t: float, name: str, raw: bytes, meta: dict[str, Any] | None
    ) -> None:
        meta = None if meta is None else redact_value(meta)
        super().write_in(seq, t, name, redact_json(raw), meta)

    def write_bad(
        self, seq: int, t: float, name: str, reason: str, preview: bytes, size: int
    ) -> None:
        super().write_bad(seq, t, name, redact_pii(reason), redact_json(preview), size)

    def write_out(self, seq: int, t: float, name: str, raw: bytes) -> None:
        super().write_out(seq, t, name, redact_json(raw))

    def write_action(self, action: Action[float]) -> None:
        fields = action._asdict()
        super().write_action(action._replace(**{k: redact_field(v) for k, v in fields.items()}))
