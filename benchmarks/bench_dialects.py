"""What a dialect costs at capture: CPU per 1 KB ``message:new``, ``guiders-v2`` against
``ai-api`` in the same run (issue 16's target: guiders-v2 within 1.1x of ai-api).

    python benchmarks/bench_dialects.py            # full run (about 2.5 minutes)
    python benchmarks/bench_dialects.py --quick    # smaller counts (about 30 s)
    python benchmarks/bench_dialects.py --part store|socket   # one of the two paths

Two paths are measured, each in rounds that alternate the dialects (the order flipped
each round), reporting the median CPU time per event and the ratio guiders-v2 / ai-api:

* the store path: the same conversation, shaped as each dialect's server sends it, fed
  in this process into a fresh store's live intake (``Store.ingest``: JSON kept, decoded,
  deduped, routed, folded into ``chats``); 1,000-character texts over 500 chats.
* the socket path: the real kit client (``gl.connect``, websocket transport) receiving
  ``message:new`` frames from the pre-encoded sender (``_sender.py --dialect D``) in
  another process, CPU time of the client process between the sender's ``bench:start``
  and ``bench:done`` markers (every thread: socket, decode, store). One conversation
  in both dialects: the same 500 chats, ids, senders and texts (500-700 characters; the
  frames come to ~1.2 KB in ai-api, ~0.9 KB in guiders-v2, which sends less about the
  sender). guiders-v2 runs through ``GuidersV2Transport`` (a JWT, ``welcome`` +
  ``tenant:joined`` before anything, each chat's room joined on its ``chat:created``
  and its history read over REST, the ``Tap`` calling ``book.saw_message`` on every
  ``message:new``), with ``backfill=False`` and no close polling; ai-api through the
  plain socket transport. Both see ``chat:created`` for the 500 chats before
  ``bench:start``, outside the timed window; the heartbeat is off in both.

Full runs of both paths write ``benchmarks/results/dialects.json``: the store path's
figures at the top level, the socket path's under ``"socket"``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from guiders_lab.store import Store

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DIALECTS = ("ai-api", "guiders-v2")
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


def store_path(n: int, rounds: int) -> dict[str, Any]:
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
        print(f"  {d:<11} {us:5.1f} µs  [{lo:.1f}-{hi:.1f}]  ({1e6 / us:,.0f} events/s)")
    print(f"  ratio guiders-v2 / ai-api: {ratio:.2f}  (target <= 1.1)")
    return {
        "events": n,
        "rounds": rounds,
        "us_per_event": med,
        "us_per_event_runs": {d: [v * 1e6 for v in vs] for d, vs in per.items()},
        "ratio": ratio,
    }


# ------------------------------------------------------------------ the socket path
def bench_token() -> str:
    """A JWT as the backend issues a commercial (the kit reads ``sub`` and ``exp``)."""
    import jwt

    sys.path.insert(0, str(HERE))
    from _sender import COMMERCIAL, COMPANY

    now = int(time.time())
    claims = {
        "sub": COMMERCIAL,
        "email": "bench@example.com",
        "role": ["commercial"],
        "companyId": COMPANY,
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, "bench-secret-bench-secret-bench-secret", algorithm="HS256")


async def socket_client(port: int, dialect: str, n_events: int) -> dict[str, Any]:
    """The kit's client in this process, until the sender's ``bench:done``."""
    import guiders_lab as gl

    marks: dict[str, float] = {}

    class MarkedStore(gl.Store):
        """Notes CPU time at the sender's start/done markers, from the capture thread."""

        def ingest(self, name, args, received_ts=None):  # type: ignore[no-untyped-def]
            if name == "bench:start":
                marks["cpu0"], marks["wall0"] = time.process_time(), time.perf_counter()
            elif name == "bench:done":
                marks["cpu1"], marks["wall1"] = time.process_time(), time.perf_counter()
            super().ingest(name, args, received_ts)

    url = f"http://127.0.0.1:{port}"
    common: dict[str, Any] = {
        "dialect": dialect,
        "store": MarkedStore(dialect),
        "heartbeat_interval": None,
        "transports": ["websocket"],
    }
    if dialect == "guiders-v2":
        live = await gl.connect(
            url, bench_token(), api_url=f"{url}/api", backfill=False,
            close_poll_interval=None, **common,
        )  # fmt: skip
    else:
        live = await gl.connect(url, "bench-token", **common)
    await live.wait_for(lambda s: "cpu1" in marks, timeout=600, interval=0.1)
    stats = live.transport.stats()
    await live.close()
    store = live.store
    keep = ("rest_requests", "rest_failures", "chats_known", "chat_rooms_joined", "errors")
    return {
        "events": store.counts.get("message:new", 0),
        **marks,
        "messages": len(store.tables["messages"]),
        "status_counts": dict(store.status_counts),
        **{k: stats[k] for k in keep if k in stats},
    }


def run_client(dialect: str, port: int, n_events: int) -> dict[str, Any]:
    result = asyncio.run(socket_client(port, dialect, n_events))
    result["cpu_us_per_event"] = (result["cpu1"] - result["cpu0"]) / result["events"] * 1e6
    result["events_per_s"] = result["events"] / (result["wall1"] - result["wall0"])
    return result


def measure_socket(dialect: str, n_events: int) -> dict[str, Any]:
    """One round: a fresh sender and a fresh client process."""
    sender = subprocess.Popen(
        [sys.executable, str(HERE / "_sender.py"), str(n_events), "--dialect", dialect],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sender.stdout is not None
        port = int(sender.stdout.readline())
        cmd = [sys.executable, __file__, "--client", dialect, "--port", str(port)]
        out = subprocess.run(
            [*cmd, "--socket-events", str(n_events)], capture_output=True, text=True, check=False
        )
        if out.returncode != 0:
            raise RuntimeError(f"{dialect} client failed:\n{out.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        sender.kill()
        sender.wait()
    if result["events"] != n_events or result["messages"] != n_events:
        raise RuntimeError(f"{dialect}: {n_events:,} sent, got {result}")
    if result["status_counts"].get("quarantined"):
        raise RuntimeError(f"{dialect}: events quarantined: {result['status_counts']}")
    return result


def socket_path(n: int, rounds: int) -> dict[str, Any]:
    per: dict[str, list[dict[str, Any]]] = {"ai-api": [], "guiders-v2": []}
    for r in range(rounds):  # interleaved, the order flipped each round
        order = ["ai-api", "guiders-v2"] if r % 2 == 0 else ["guiders-v2", "ai-api"]
        for dialect in order:
            per[dialect].append(measure_socket(dialect, n))
    cpu = {d: [x["cpu_us_per_event"] for x in runs] for d, runs in per.items()}
    med = {d: statistics.median(v) for d, v in cpu.items()}
    rate = {d: statistics.median(x["events_per_s"] for x in runs) for d, runs in per.items()}
    ratio = med["guiders-v2"] / med["ai-api"]
    print(
        f"CPU per 1 KB message:new through the socket, client process (median of {rounds} x {n:,}):"
    )
    for d, us in med.items():
        print(
            f"  {d:<11} {us:5.1f} µs  [{min(cpu[d]):.1f}-{max(cpu[d]):.1f}]  "
            f"({rate[d]:,.0f} events/s)"
        )
    print(f"  ratio guiders-v2 / ai-api: {ratio:.2f}  (target <= 1.1)")
    v2 = per["guiders-v2"][-1]
    print(
        f"  guiders-v2 set-up (outside the window): {v2.get('chat_rooms_joined')} rooms joined, "
        f"{v2.get('rest_requests')} REST requests, {v2.get('rest_failures')} failed"
    )
    return {
        "events": n,
        "rounds": rounds,
        "us_per_event": med,
        "us_per_event_runs": cpu,
        "events_per_s": rate,
        "ratio": ratio,
        "guiders_v2_setup": {
            k: v2.get(k) for k in ("chats_known", "chat_rooms_joined", "rest_requests")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000, help="store path, per round")
    parser.add_argument("--rounds", type=int, default=5, help="store path")
    parser.add_argument("--socket-events", type=int, default=200_000, help="per round")
    parser.add_argument("--socket-rounds", type=int, default=5)
    parser.add_argument("--part", choices=("both", "store", "socket"), default="both")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--client", choices=DIALECTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:  # one socket round's client, in its own process
        print(json.dumps(run_client(args.client, args.port, args.socket_events)))
        return
    if args.quick:
        args.events, args.rounds = 20_000, 3
        args.socket_events, args.socket_rounds = 50_000, 3
    out: dict[str, Any] = {}
    if args.part in ("both", "store"):
        out.update(store_path(args.events, args.rounds))
    if args.part in ("both", "socket"):
        out["socket"] = socket_path(args.socket_events, args.socket_rounds)
    if not args.quick and args.part == "both":
        RESULTS.mkdir(exist_ok=True)
        out["at"] = datetime.now(UTC).isoformat(timespec="seconds")
        out["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
        (RESULTS / "dialects.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
