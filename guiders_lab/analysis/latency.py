"""Response latency by responder, ping round trips and event lag."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..events.roles import AI_ROLES
from ._keys import chat_key

__all__ = [
    "event_lag_summary",
    "latency_stats",
    "live_lag",
    "ping_summary",
    "response_latency",
    "response_latency_summary",
]


def _who(messages: pd.DataFrame) -> pd.Series:
    """ "visitor", "ai", "human" or None (answers nothing) per message, as
    :mod:`guiders_lab.events.roles` defines them."""
    role = messages["sender_role"]
    kind = messages["type"] if "type" in messages.columns else pd.Series(None, index=role.index)
    ai = messages["is_ai"].fillna(False).astype(bool) | role.isin(list(AI_ROLES))
    human = ~ai & ((role == "commercial") | (kind == "commercial")).fillna(False)
    who = pd.Series(None, index=messages.index, dtype="object")
    who[(role == "visitor").fillna(False).astype(bool)] = "visitor"
    who[ai.to_numpy(dtype=bool)] = "ai"
    who[human.to_numpy(dtype=bool)] = "human"
    return who


def response_latency(messages: pd.DataFrame) -> pd.DataFrame:
    """One row per visitor turn: how long until someone answered, and who.

    A turn starts with a visitor message that follows a response (or opens the chat); it
    is answered by the next message, at or after it by the messages' own timestamps, from
    a commercial (``responder="human"``) or an AI (``"ai"``). Unanswered turns have
    ``response_s`` NaN. Ties in time put the visitor first, then go by message id, so
    the result never depends on the order rows arrived in. In a dataset of many
    sessions chats are told apart by ``session`` too, which the result keeps.

    >>> gl.analysis.response_latency(rec.messages).head()   # doctest: +SKIP
             chat_id   message_id                  sent_at responder  response_s
    0  chat-0b1c...  msg-8e2f...  2025-01-15 09:03:10+00:00     human        41.2
    """
    key = chat_key(messages)  # in a dataset, chat ids repeat across sessions
    who = _who(messages)
    m = messages.loc[who.notna(), [*key, "message_id", "sent_at"]].assign(who=who[who.notna()])
    m = m.assign(_responder=(m["who"] != "visitor").astype("int8"))
    m = m.sort_values([*key, "sent_at", "_responder", "message_id"], kind="stable")
    m = m.reset_index(drop=True)
    chat = [m[column] for column in key]
    is_visitor = (m["who"] == "visitor").to_numpy()
    previous = m.groupby(chat)["who"].shift(1)
    turn_start = is_visitor & (previous.isna() | (previous != "visitor")).to_numpy()
    # for every row, the time and kind of the next response in the same chat
    response_at = m["sent_at"].where(~is_visitor)
    response_kind = m["who"].where(~is_visitor)
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
