"""Response latency by responder, ping round trips and event lag."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._keys import chat_key

__all__ = [
    "event_lag_summary",
    "latency_stats",
    "live_lag",
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


def live_lag(events: pd.DataFrame) -> pd.DataFrame:
    """The incoming rows whose ``lag_ms`` measures the link: the first copy of each event,
    delivered live. Duplicates (``status == "duplicate"``) and events re-delivered after a
    reconnect (``delivery == "resync"``, whose lag counts the outage) are left out."""
    keep = events["direction"] == "in"
    if "status" in events.columns:
        keep &= events["status"] != "duplicate"
    if "delivery" in events.columns:
        keep &= events["delivery"] != "resync"
    return events[keep]


def event_lag_summary(events: pd.DataFrame, by_name: bool = False) -> pd.DataFrame:
    """Statistics (ms) of the event lag: how long after the server sent an event we
    received it, over :func:`live_lag` rows, overall or per event name. ``n_duplicates``
    and ``n_resync`` count the incoming rows left out (see the README's "Metrics").

    >>> gl.analysis.event_lag_summary(rec.events)  # doctest: +SKIP
           n  mean   p50   p90   p95   p99    max  n_duplicates  n_resync
    all  3310  0.92  0.81  1.30  1.52  2.60  10.41             0         0
    """
    incoming = events[events["direction"] == "in"]
    measured = live_lag(incoming)
    duplicate = (
        incoming["status"] == "duplicate"
        if "status" in incoming.columns
        else pd.Series(False, index=incoming.index)
    )
    resync = (
        (incoming["delivery"] == "resync") & ~duplicate
        if "delivery" in incoming.columns
        else pd.Series(False, index=incoming.index)
    )

    def stats(rows: pd.DataFrame, left_out: pd.DataFrame) -> dict[str, float]:
        return latency_stats(rows["lag_ms"]) | {
            "n_duplicates": int(duplicate[left_out.index].sum()),
            "n_resync": int(resync[left_out.index].sum()),
        }

    if not by_name:
        return pd.DataFrame([stats(measured, incoming)], index=["all"])
    rows = {
        name: stats(measured[measured["name"] == name], group)
        for name, group in incoming.groupby("name", sort=True)
    }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("name")
