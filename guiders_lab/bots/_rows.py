"""A bot's ``actions`` row (a shadow action, a refused payload, a bot's error), appended
from the store's own thread: the store has one writer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .._loop import io_loop
from ..events.records import Action
from ..store import Store

__all__ = ["ActionRow"]


@dataclass(frozen=True)
class ActionRow:
    bot: str
    mode: str  # "live" | "shadow"
    name: str
    chat_id: str | None
    payload: dict[str, Any] | None  # JSON
    trigger_seq: int

    def append_to(
        self,
        store: Store,
        decided_at: float,
        ok: bool | None,
        code: str | None,
        message: str | None,
        processing_ms: float,
    ) -> None:
        try:
            text = orjson.dumps(self.payload, default=str).decode()
        except TypeError:  # e.g. an int over 64 bits, a key that is not a string
            text = orjson.dumps(repr(self.payload)).decode()
        row = Action(
            action_id=0,  # numbered when appended, in the store's order
            bot=self.bot,
            mode=self.mode,
            name=self.name,
            chat_id=self.chat_id,
            payload=text,
            trigger_seq=self.trigger_seq,
            decided_at=decided_at,  # a raw row: epoch seconds
            acked_at=None,
            ok=ok,
            error_code=code,
            error_message=message,
            ack_ms=None,
            processing_ms=processing_ms,
        )

        def append() -> None:
            store.record_action(row._replace(action_id=store.next_action_id()))

        io = io_loop()
        if io.in_loop:
            append()
        else:
            io.call_soon(append)
