"""What identifies a chat in a frame of one session or of many (a dataset)."""

from __future__ import annotations

from ._frames import HasColumns

__all__ = ["chat_key"]


def chat_key(*frames: HasColumns) -> list[str]:
    """``["session", "chat_id"]`` when every frame has a ``session`` column (a dataset of
    many sessions, where a chat id is only unique within its session), else ``["chat_id"]``."""
    if frames and all("session" in frame.columns for frame in frames):
        return ["session", "chat_id"]
    return ["chat_id"]
