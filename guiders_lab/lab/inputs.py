"""Turn messages (a DataFrame, a recording, a live session) into the lab's inputs."""

from __future__ import annotations

from typing import TypeAlias

import pandas as pd

from .._protocols import HasMessages
from ..sentiment import score as sentiment

__all__ = ["MessageSource", "prepare"]

# what the lab takes messages from: a frame, or a session or recording (its messages)
MessageSource: TypeAlias = pd.DataFrame | HasMessages

HISTORY_TURNS = 6
PREPARED = (
    "message_id",
    "chat_id",
    "content",
    "history",
    "visitor_name",
    "department",
    "reference",
    "language",
)


def _messages_of(source: MessageSource) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    if hasattr(source, "messages"):  # any session: live, loaded or replayed
        return source.messages
    raise TypeError(
        f"cannot take messages from {type(source).__name__}; pass a DataFrame, "
        "a recording or a session"
    )


def prepare(
    source: MessageSource, roles: tuple[str, ...] = ("visitor",), limit: int | None = None
) -> pd.DataFrame:
    """One row per message to try variants on, with the prompt fields filled in.

    Works on the kit's ``messages`` table (chat history and the human reply that followed
    are looked up) or on any frame with at least a ``content`` column.
    """
    messages = _messages_of(source)
    if "content" not in messages.columns:
        raise ValueError("messages need a 'content' column")
    if set(PREPARED) <= set(messages.columns) and "sender_role" not in messages.columns:
        return messages.head(limit).reset_index(drop=True) if limit else messages  # done
    frame = messages.reset_index(drop=True).copy()
    if "message_id" not in frame:
        frame["message_id"] = [f"m-{i}" for i in range(len(frame))]
    for column in ("chat_id", "sender_role", "sender_name", "department"):
        if column not in frame:
            frame[column] = None
    if "sent_at" in frame:
        frame = frame.sort_values(["sent_at"], kind="stable").reset_index(drop=True)
    frame["history"] = ""
    frame["reference"] = None
    if frame["chat_id"].notna().any():
        for _, chat in frame.groupby("chat_id", sort=False):
            lines = [
                f"{role or 'visitor'}: {text}"
                for role, text in zip(chat["sender_role"], chat["content"], strict=True)
            ]
            roles_in_chat = list(chat["sender_role"])
            for k, index in enumerate(chat.index):
                frame.at[index, "history"] = "\n".join(lines[max(0, k - HISTORY_TURNS) : k])
                reply = next(
                    (
                        chat["content"].iloc[j]
                        for j in range(k + 1, len(chat))
                        if roles_in_chat[j] == "commercial"
                    ),
                    None,
                )
                frame.at[index, "reference"] = reply
    if frame["sender_role"].notna().any():
        frame = frame[frame["sender_role"].isin(roles)]
    if limit is not None:
        frame = frame.head(limit)
    out = pd.DataFrame(
        {
            "message_id": frame["message_id"].astype(str),
            "chat_id": frame["chat_id"],
            "content": frame["content"].astype(str),
            "history": frame["history"],
            "visitor_name": frame["sender_name"],
            "department": frame["department"],
            "reference": frame["reference"],
        }
    )
    out["language"] = [sentiment(text).language for text in out["content"]]
    return out.reset_index(drop=True)
