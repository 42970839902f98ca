"""Response latency by responder, ping round trips and event lag."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._keys import chat_key

__all__ = [
    "event_lag_summary",
    "latency_stats",
    "ping_summary",
    "response_latency",
    "response_latency_summary",
]

_RESPONDERS = {"commercial": "human", "ai": "ai", "bot": "ai", "assistant": "ai"}


def response_latency(messages: pd.DataFrame) -> pd.DataFrame:
    """One row per visitor turn: how long until someone answered, and who.

    A turn starts with a visitor message that follows a response (or opens the chat); it
    is answered by the next message from a commercial (``responder="human"``) or an AI
    (``"ai"``). Unanswered turns have ``response_s`` NaN. In a dataset of many sessions
    chats are told apart by ``session`` too, which the result keeps.

    >>> gl.analysis.response_latency(rec.messages).head()   # doctest: +SKIP
             chat_id   message_id                  sent_at responder  response_s
    0  chat-0b1c...  msg-8e2f...  2025-01-15 09:03:10+00:00     human        41.2
    """
    key = chat_key(messages)  # in a dataset, chat ids repeat across sessions
    m = messages.loc[
        messages["sender_role"].isin(["visitor", *_RESPONDERS]),
        [*key, "message_id", "sent_at", "sender_role", "is_ai"],
    ]
    m = m.sort_values([*key, "sent_at"], kind="stable").reset_index(drop=True)
    chat = [m[column] for column in key]
    is_visitor = (m["sender_role"] == "visitor").to_numpy()
    responder = np.where(
        m["is_ai"].fillna(False).to_numpy(dtype=bool),
        "ai",
        m["sender_role"].map(_RESPONDERS).fillna("human").to_numpy(),
    )
    previous_role = m.groupby(chat)["sender_role"].shift(1)
    turn_start = is_visitor & (previous_role.isna() | (previous_role != "visitor")).to_numpy()
    # for every row, the time and kind of the next response in the same chat
    response_at = m["sent_at"].where(~is_visitor)
    response_kind = pd.Series(np.where(~is_visitor, responder, None), index=m.index)
    next_at = response_at.groupby(chat).bfill()
    next_kind = response_kind.groupby(chat).bfill()
    turns = m.loc[turn_start, [*key, "message_id", "sent_at"]].assign(
        responder=next_kind[turn_start].astype("str"),
        response_s=(next_at[turn_start] - m.loc[turn_start, "sent_at"]).dt.total_seconds(),
    )
    turns.loc[turns["response_s"].isna(), "responder"] = pd.NA
    return turns.reset_index(drop=True)


def latency_stats(values: pd.Series) -> dict[str, float]:
    """n, mean, p50, p90, p95, p99 and max of a numeric series (NaN skipped)."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        return dict.fromkeys(("n", "mean", "p50", "p90", "p95", "p99", "max"), np.nan) | {"n": 0}
    q = v.quantile([0.5, 0.9, 0.95, 0.99])
    return {
        "n": int(v.size),
        "mean": float(v.mean()),
        "p50": float(q[0.5]),
        "p90": float(q[0.9]),
        "p95": float(q[0.95]),
        "p99": float(q[0.99]),
        "max": float(v.max()),
    }


def response_latency_summary(turns: pd.DataFrame) -> pd.DataFrame:
    """:func:`latency_stats` of :func:`response_latency` per responder (seconds)."""
    rows = {
        who: latency_stats(group["response_s"])
        for who, group in turns.dropna(subset=["responder"]).groupby("responder")
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("responder")


def ping_summary(latency: pd.DataFrame) -> pd.Series:
    """Round-trip statistics (ms) of the heartbeat pings in a ``latency`` table."""
    return pd.Series(
        latency_stats(latency.loc[latency["kind"] == "ping", "value_ms"]), name="ping_ms"
    )


def event_lag_summary(events: pd.DataFrame, by_name: bool = False) -> pd.DataFrame:
    """Statistics (ms) of the delay between the server sending and us receiving, overall
    or per event name."""
    incoming = events[events["direction"] == "in"]
    if not by_name:
        return pd.DataFrame([latency_stats(incoming["lag_ms"])], index=["all"])
    rows = {name: latency_stats(group["lag_ms"]) for name, group in incoming.groupby("name")}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("name")
