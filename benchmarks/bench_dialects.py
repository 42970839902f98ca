"""What a dialect costs at capture: CPU per 1 KB ``message:new`` through the store's live
intake (``Store.ingest``: JSON kept, decoded, deduped, routed, folded into ``chats``),
``guiders-v2`` against ``ai-api`` in the same run.

    python benchmarks/bench_dialects.py            # 200,000 messages per round, 5 rounds
    python benchmarks/bench_dialects.py --quick

The socket under both dialects is the same python-socketio client (``bench_capture.py``
measures it against a bare client), so what differs between them is this path: each
round feeds the same conversation, shaped as each dialect's server sends it, into a fresh
store; rounds alternate dialects and the median CPU time per event is reported with the
ratio (issue 16's target: guiders-v2 within 1.1x of ai-api).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from guiders_lab.store import Store

RESULTS = Path(__file__).resolve().parent / "results"
TEXT = ("Hola, ¿tienen el modelo en rojo? Quería saber el precio y el plazo de entrega. " * 13)[
    :1000
]
T0 = datetime(2026, 12, 4, 15, tzinfo=UTC)


def iso(i: int) -> str:
    return (T0 + timedelta(milliseconds=10 * i)).isoformat(timespec="milliseconds")[:-6] + "Z"


def conversation(n: int, chats: int) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The same n messages over ``chats`` chats, as each dialect's server sends them
    (each stream opens its chats first, as a live session sees them)."""
    ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(3 * chats)]
    page: list[tuple[str, dict[str, Any]]] = []
    v2: list[tuple[str, dict[str, Any]]] = []
    for c in range(chats):
        chat, visitor = ids[c], ids[chats + c]
        page.append(
            (
                "chat:created",
                {
                    "chatId": chat,
                    "visitorId": visitor,
                    "department": "ventas",
                    "status": "pending",
                    "createdAt": iso(0),
                },
            )
        )
        v2.append(
            (
                "chat:created",
                {
                    "chatId": chat,
                    "visitorId": visitor,
                    "status": "PENDING",
                    "priority": "NORMAL",
                    "visitorInfo": {"name": "Ana"},
                    "metadata": {"department": "ventas", "source": "web"},
                    "createdAt": iso(0),
                    "message": "x",
                },
            )
        )
    for i in range(n):
        c = i % chats
        chat, visitor, staff = ids[c], ids[chats + c], ids[2 * chats + c]
        by_visitor = i % 2 == 0
        sender = visitor if by_visitor else staff
        mid = str(uuid.UUID(int=10**9 + i, version=4))
        page.append(
            (
                "message:new",
                {
                    "chatId": chat,
                    "messageId": mid,
                    "content": TEXT,
                    "type": "user" if by_visitor else "commercial",
                    "sender": {
                        "id": sender,
                        "name": "Ana",
                        "role": "visitor" if by_visitor else "commercial",
                    },
                    "timestamp": iso(i + 1),
                    "metadata": {"department": "ventas", "urgency": "low", "source": "web"},
                },
            )
        )
        v2.append(
            (
                "message:new",
                {
                    "messageId": mid,
                    "chatId": chat,
                    "senderId": sender,
                    "content": TEXT,
                    "type": "TEXT",
                    "isInternal": False,
                    "isFirstResponse": False,
                    "sentAt": iso(i + 1),
                    "isAI": False,
                },
            )
        )
    return {"ai-api": page, "guiders-v2": v2}


def one_round(dialect: str, stream: list[tuple[str, dict[str, Any]]], n: int) -> float:
    """CPU seconds per message, this process only (the store's one thread)."""
    store = Store(dialect)
    head, tail = stream[: len(stream) - n], stream[len(stream) - n :]
    now = time.time()
    for name, payload in head:
        store.ingest(name, (payload,), now)
    started = time.process_time()
    for name, payload in tail:
        store.ingest(name, (payload,), now)
    spent = time.process_time() - started
    assert store.status_counts["ok"] == len(stream), store.status_counts
    return spent / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, rounds = (20_000, 3) if args.quick else (args.events, args.rounds)
    streams = conversation(n, chats=500)
    per: dict[str, list[float]] = {"ai-api": [], "guiders-v2": []}
    for r in range(rounds):  # interleaved, the order flipped each round
        order = ["ai-api", "guiders-v2"] if r % 2 == 0 else ["guiders-v2", "ai-api"]
        for dialect in order:
            per[dialect].append(one_round(dialect, streams[dialect], n))
    med = {d: statistics.median(v) * 1e6 for d, v in per.items()}
    ratio = med["guiders-v2"] / med["ai-api"]
    print(f"CPU per 1 KB message:new through the store (median of {rounds} x {n:,}):")
    for d, us in med.items():
        lo, hi = min(per[d]) * 1e6, max(per[d]) * 1e6
        print(f"  {d:<11} {us:5.1f} µs  [{lo:.1f}-{hi:.1f}]")
    print(f"  ratio guiders-v2 / ai-api: {ratio:.2f}  (target <= 1.1)")
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        out = {
            "events": n,
            "rounds": rounds,
            "us_per_event": med,
            "ratio": ratio,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (RESULTS / "dialects.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
