"""Views under load: the chat inspector on a big session, the dashboard on a fast stream.

    python benchmarks/bench_views.py

* ChatInspector on 10,000 chats and 200,000 messages: kernel time per chat switch
  (target <= 200 ms), and to open it;
* LiveDashboard following a 2,000 events/s stream for 20 s: the capture's event lag with
  and without the dashboard in the same run (the dashboard must not make capture fall
  behind), and the dashboard's cost per redraw.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import guiders_lab as gl
from guiders_lab.sim import texts

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def big_session(n_chats: int = 10_000, per_chat: int = 20) -> gl.Session:
    """A loaded-looking session with realistic chats, built straight into a store."""
    rng = random.Random(1)
    store = gl.Store()
    start = datetime(2025, 1, 15, 9, tzinfo=UTC)
    t = start.timestamp()
    for c in range(n_chats):
        lang, dept = rng.choice(texts.LANGUAGES), rng.choice(texts.DEPARTMENTS)
        chat, visitor = f"chat-{c:06d}", f"visitor-{c:06d}"
        name = texts.visitor_name(rng, lang)
        created = start + timedelta(seconds=c * 30)

        def iso(seconds: float, created: datetime = created) -> str:
            return (created + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

        store.ingest(
            "chat:created",
            (
                {
                    "chatId": chat,
                    "visitorId": visitor,
                    "department": dept,
                    "visitor": {"id": visitor, "name": name},
                    "createdAt": iso(0),
                },
            ),
            t,
        )
        store.ingest(
            "chat:assigned",
            ({"chatId": chat, "commercialId": f"commercial-{c % 12}", "assignedAt": iso(40)},),
            t,
        )
        for m in range(per_chat):
            role = "visitor" if m % 2 == 0 else "commercial"
            content = (
                texts.opening(rng, lang, dept, rng.choice(texts.MOODS))
                if role == "visitor"
                else texts.commercial_answer(rng, lang, dept)
            )
            store.ingest(
                "message:new",
                (
                    {
                        "chatId": chat,
                        "messageId": f"m-{c}-{m}",
                        "content": content,
                        "type": "user" if role == "visitor" else "commercial",
                        "sender": {
                            "id": visitor if role == "visitor" else f"commercial-{c % 12}",
                            "name": name,
                            "role": role,
                        },
                        "timestamp": iso(10 + 25 * m),
                        "metadata": {"department": dept},
                    },
                ),
                t,
            )
        store.ingest(
            "chat:closed",
            ({"chatId": chat, "closedAt": iso(30 * per_chat), "reason": "resolved"},),
            t,
        )
    return gl.Session(store, "synthetic")


def inspector_figures() -> dict:
    session = big_session()
    started = time.perf_counter()
    inspector = gl.ChatInspector(session)
    open_s = time.perf_counter() - started
    chat_ids = list(session.chats["chat_id"])
    rng = random.Random(2)
    inspector.search.value = ""  # all chats listed (the first 300)
    switches = []
    for chat_id in rng.sample(chat_ids, 60):
        started = time.perf_counter()
        inspector.show(chat_id)  # what selecting a chat runs in the kernel
        switches.append((time.perf_counter() - started) * 1000)
    filter_started = time.perf_counter()
    inspector.department.value = "sales"
    filter_ms = (time.perf_counter() - filter_started) * 1000
    return {
        "chats": len(chat_ids),
        "messages": len(session.messages),
        "open_s": open_s,
        "switch_ms_p50": statistics.median(switches),
        "switch_ms_p95": sorted(switches)[int(0.95 * len(switches))],
        "switch_ms_max": max(switches),
        "filter_ms": filter_ms,
    }


async def stream(dashboard: bool, rate: float, seconds: float) -> dict:
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        board = gl.LiveDashboard(live, interval=1.0) if dashboard else None
        report = await sim.aflood(int(rate * seconds), rate=rate)
        await live.wait_for(
            lambda s: s.counts().get("message:new", 0) >= report["events"], timeout=120
        )
        await live.close()
        lags = live.events["lag_ms"].dropna().sort_values().to_numpy()
        result = {
            "sent_per_s": report["events_per_s"],
            "lag_ms_p50": float(lags[len(lags) // 2]),
            "lag_ms_p95": float(lags[int(0.95 * len(lags))]),
            "lag_ms_max": float(lags[-1]),
        }
        if board is not None:
            result |= {
                "redraws": board.redraws,
                "redraw_ms_last": board.follower.last_cost_s * 1000,
            }
            board.close()
        return result


def main() -> int:
    report = {"inspector": inspector_figures()}
    i = report["inspector"]
    print(
        f"ChatInspector on {i['chats']:,} chats / {i['messages']:,} messages: opens in "
        f"{i['open_s']:.2f} s; switching chats p50 {i['switch_ms_p50']:.1f} ms, "
        f"p95 {i['switch_ms_p95']:.1f} ms, max {i['switch_ms_max']:.1f} ms (target <= 200 ms);"
        f" a filter change {i['filter_ms']:.0f} ms"
    )
    for dashboard in (False, True):
        result = asyncio.run(stream(dashboard, rate=2000.0, seconds=20.0))
        report["with_dashboard" if dashboard else "without_dashboard"] = result
        label = "with dashboard   " if dashboard else "without dashboard"
        extra = (
            f", {result['redraws']} redraws, last {result['redraw_ms_last']:.0f} ms"
            if dashboard
            else ""
        )
        print(
            f"2,000 events/s for 20 s {label}: sent {result['sent_per_s']:,.0f}/s, event lag "
            f"p50 {result['lag_ms_p50']:.1f} ms, p95 {result['lag_ms_p95']:.1f} ms, "
            f"max {result['lag_ms_max']:.0f} ms{extra}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "views.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
