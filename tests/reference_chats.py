"""The ``chats`` table computed another way, straight from a journal, as a reference.

No kit code: the journal's JSON lines are read with ``orjson``, duplicates dropped (by
server sequence number, then by message id), each chat's events *sorted* by the server's
time (``serverTime``, then sequence number, then id) and folded in that order with the
plain sequential rules of the README's "Metrics" glossary. The kit's ledger folds in any
order; if the two agree chat by chat, arrival order does not matter.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd

AI_ROLES = {"ai", "bot", "assistant"}


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return value / 1000.0 if value > 1e11 else float(value)
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _order(line: dict[str, Any], own: float | None, tie: str) -> tuple[float, int, str]:
    meta = line.get("meta") or {}
    server_ms = meta.get("serverTime")
    t = server_ms / 1000.0 if server_ms is not None else (own if own is not None else line["t"])
    seq = meta.get("seq")
    return (t, -1 if seq is None else seq, tie or "")


def incoming(journal: Path) -> list[dict[str, Any]]:
    """The journal's good incoming events, each once (the copy that came first)."""
    seen_seqs: set[int] = set()
    seen_messages: set[str] = set()
    kept = []
    for raw in journal.read_bytes().splitlines():
        line = orjson.loads(raw)
        if line.get("dir") != "in" or "bad" in line:
            continue
        seq = (line.get("meta") or {}).get("seq")
        if seq is not None:
            if seq in seen_seqs:
                continue
            seen_seqs.add(seq)
        if line["name"] == "message:new":
            if line["payload"]["messageId"] in seen_messages:
                continue
            seen_messages.add(line["payload"]["messageId"])
        kept.append(line)
    return kept


def reference_chats(journal: Path) -> pd.DataFrame:
    """One row per chat (index ``chat_id``), times as epoch seconds."""
    events: dict[str, list[tuple[tuple[float, int, str], str, dict[str, Any]]]] = defaultdict(list)
    for line in incoming(journal):
        p, name = line["payload"], line["name"]
        if name == "message:new":
            own, tie = _epoch(p.get("timestamp")), p["messageId"]
        elif name == "chat:created":
            own, tie = _epoch(p.get("createdAt")), p.get("visitorId")
        elif name == "chat:assigned":
            own, tie = _epoch(p.get("assignedAt")), p["commercialId"]
        elif name == "chat:closed":
            own, tie = _epoch(p.get("closedAt")), p.get("reason")
        else:
            continue
        events[p["chatId"]].append((_order(line, own, tie), name, {**p, "_t": line["t"]}))
    rows = {}
    for chat_id, chat_events in events.items():
        row: dict[str, Any] = dict.fromkeys(
            (
                "created_at",
                "first_assigned_at",
                "commercial_id",
                "first_visitor_message_at",
                "first_response_at",
                "first_human_response_at",
                "first_ai_response_at",
                "last_message_at",
                "closed_at",
                "close_reason",
                "status",
                "priority",
            )
        )
        row.update(n_assignments=0, n_messages=0, n_visitor_messages=0)
        messages = []
        for _, name, p in sorted(chat_events, key=lambda e: e[0]):
            if name == "chat:created":
                if row["created_at"] is None:
                    row["created_at"] = _epoch(p.get("createdAt")) or p["_t"]
                    row["status"] = row["status"] or p.get("status") or "pending"
                    row["priority"] = (p.get("metadata") or {}).get("urgency")  # as opened
            elif name == "chat:assigned":
                at = _epoch(p.get("assignedAt")) or p["_t"]
                if row["first_assigned_at"] is None or at < row["first_assigned_at"]:
                    row["first_assigned_at"] = at
                row["commercial_id"] = p["commercialId"]
                row["n_assignments"] += 1
                if row["status"] in (None, "pending", "queued"):
                    row["status"] = "assigned"
            elif name == "chat:closed":
                row["closed_at"] = _epoch(p.get("closedAt")) or p["_t"]
                row["close_reason"] = p.get("reason")
                row["status"] = "closed"
            else:
                messages.append(p)
        row["n_messages"] = len(messages)
        times = [(_epoch(m.get("timestamp")) or m["_t"], m) for m in messages]
        visitor = [t for t, m in times if m["sender"].get("role") == "visitor"]
        row["n_visitor_messages"] = len(visitor)
        row["last_message_at"] = max((t for t, _ in times), default=None)
        first_visitor = min(visitor, default=None)
        row["first_visitor_message_at"] = first_visitor
        if first_visitor is not None:
            for t, m in sorted(times, key=lambda tm: tm[0]):
                role = m["sender"].get("role")
                ai = m.get("type") == "ai-response" or role in AI_ROLES
                human = not ai and (role == "commercial" or m.get("type") == "commercial")
                if t < first_visitor or not (ai or human):
                    continue
                if row["first_response_at"] is None:
                    row["first_response_at"] = t
                key = "first_ai_response_at" if ai else "first_human_response_at"
                if row[key] is None:
                    row[key] = t
                    if human and row["status"] in (None, "pending", "assigned"):
                        row["status"] = "active"
        rows[chat_id] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("chat_id")


def compare_with_reference(chats: pd.DataFrame, journal: Path) -> list[str]:
    """Every difference between a kit ``chats`` table and the reference, as text."""
    reference = reference_chats(journal)
    kit = chats.set_index("chat_id")
    problems = []
    if set(kit.index) != set(reference.index):
        problems.append(f"chats differ: {set(kit.index) ^ set(reference.index)}")
    for chat_id in reference.index.intersection(kit.index):
        want, got = reference.loc[chat_id], kit.loc[chat_id]
        for column, expected in want.items():
            value = got[column]
            if isinstance(value, pd.Timestamp):
                value = value.timestamp()
            elif pd.isna(value):
                value = None
            if expected is not None and pd.isna(expected):
                expected = None
            same = (
                value == expected
                if not isinstance(expected, float) or value is None
                else abs(value - expected) < 1e-6
            )
            if not same:
                problems.append(f"{chat_id}.{column}: kit {value!r}, reference {expected!r}")
    return problems
