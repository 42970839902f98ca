"""Bots, sentiment and the FAQ model: how much they cost.

    python benchmarks/bench_bots.py

* bot dispatch overhead: CPU per event per attached bot, against capture alone in the same
  run (target <= 20 µs): 100,000 ``message:new`` events go through the store with 0 and
  with 4 do-nothing bots attached (the runner's own cost, not any bot's logic);
* the sentiment scorer on the labelled set's texts (target >= 20,000 messages/s);
* the FAQ model (target >= 1,000 replies/s);
* capture lag under a slow bot: a busy simulated afternoon (600x) captured for 10 s with
  no bot, then with a bot needing 1 s per visitor action, a bot that raises on every
  message and a SentimentMonitor (the scene of tests/test_bots.py); event lag p50/p95/max
  of each (target: p95 < 250 ms with the bots, close to capture alone).
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import sys
import time
from pathlib import Path

import orjson

import guiders_lab as gl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))


class Broken(gl.bots.Bot):
    def on_message(self, message, ctx):
        raise RuntimeError("model exploded")


class Slow(gl.bots.Bot):
    async def on_visitor_action(self, action, ctx):
        await asyncio.sleep(1.0)


class Idle(gl.bots.Bot):
    """Handles every message and decides nothing: what remains is the runner's cost."""

    def on_message(self, message, ctx):
        return None


def payloads(n: int) -> list[dict]:
    from _sender import frames

    base = [orjson.loads(f[2:])[1] for f in frames()]
    return [{**base[i % len(base)], "messageId": f"m-{i}"} for i in range(n)]


async def capture(events: list[dict], n_bots: int) -> float:
    """CPU seconds to ingest ``events`` (and, with bots, to hand each to every bot)."""
    session = gl.Session(gl.Store(), "bench")
    runs = []
    for _ in range(n_bots):
        from guiders_lab._loop import bots_loop
        from guiders_lab.bots.runner import BotRun

        runs.append(await BotRun(Idle(), session, "shadow", bots_loop()).attach())
    now = time.time()
    started = time.process_time()
    for payload in events:
        session.store.ingest("message:new", (payload,), now)
    for run in runs:
        await run.drain(timeout=120)
    cpu = time.process_time() - started
    for run in runs:
        assert run.handled == len(events), run
        await run.stop()
    return cpu


def sentiment_rate() -> float:
    with open(ROOT / "data" / "sentiment" / "labelled.csv", encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    texts = texts * (20_000 // len(texts) + 1)
    gl.sentiment.score("warm up")
    started = time.perf_counter()
    for text in texts:
        gl.sentiment.score(text)
    return len(texts) / (time.perf_counter() - started)


async def faq_rate() -> float:
    model = gl.models.FAQModel()
    questions = [
        "¿Cuánto tarda el envío a Canarias?",
        "Which payment methods do you accept?",
        "quiero devolver unas zapatillas",
        "my watch won't pair with the app",
        "¿Tenéis descuento para estudiantes?",
        "how do I reset my password",
    ] * 500
    started = time.perf_counter()
    for question in questions:
        await model.reply(question)
    return len(questions) / (time.perf_counter() - started)


async def capture_lag(seconds: float, with_bots: bool) -> dict:
    """Event lag (receive time minus the server's send time) of a live capture."""
    # the broken bot fails on every message on purpose: its log lines are not the figure
    logging.getLogger("guiders_lab.bots").setLevel(logging.CRITICAL)
    with gl.launch_simulator("busy_afternoon", seed=5, speed=600) as sim:
        live = await gl.connect(sim, heartbeat_interval=None)
        runs = []
        if with_bots:
            for bot in (Broken(), Slow(), gl.bots.SentimentMonitor()):
                runs.append(await live.run(bot, mode="shadow"))
        await asyncio.sleep(seconds)
        backlog = max((r.backlog for r in runs), default=0)
        await live.close()
    lags = live.events["lag_ms"].dropna()
    return {
        "events": len(lags),
        "lag_p50_ms": float(lags.quantile(0.5)),
        "lag_p95_ms": float(lags.quantile(0.95)),
        "lag_max_ms": float(lags.max()),
        "slow_bot_backlog_at_end": backlog,
    }


async def main() -> int:
    events = payloads(100_000)
    baseline = await capture(events, 0)
    with_bots = await capture(events, 4)
    overhead_us = (with_bots - baseline) / (len(events) * 4) * 1e6
    report = {
        "events": len(events),
        "capture_alone_us_per_event": baseline / len(events) * 1e6,
        "with_4_bots_us_per_event": with_bots / len(events) * 1e6,
        "dispatch_overhead_us_per_event_per_bot": overhead_us,
        "sentiment_messages_per_s": sentiment_rate(),
        "faq_replies_per_s": await faq_rate(),
        "sentiment_labelled_set": gl.sentiment.evaluate(
            ROOT / "data" / "sentiment" / "labelled.csv"
        ),
        "capture_lag_alone": await capture_lag(10.0, with_bots=False),
        "capture_lag_with_slow_bot": await capture_lag(10.0, with_bots=True),
    }
    print(
        f"capture alone {report['capture_alone_us_per_event']:.1f} µs/event; with 4 bots "
        f"{report['with_4_bots_us_per_event']:.1f} µs/event -> dispatch overhead "
        f"{overhead_us:.1f} µs per event per bot (target <= 20 µs)"
    )
    print(
        f"sentiment scorer: {report['sentiment_messages_per_s']:,.0f} messages/s (target >= 20,000)"
    )
    print(f"FAQ model: {report['faq_replies_per_s']:,.0f} replies/s (target >= 1,000)")
    quality = report["sentiment_labelled_set"]
    print(
        f"sentiment on the labelled set ({quality['rows']} messages): accuracy "
        f"{quality['accuracy']:.1%} (es {quality['accuracy_es']:.1%}, en "
        f"{quality['accuracy_en']:.1%}); urgent flag precision "
        f"{quality['urgent_precision']:.0%}, recall {quality['urgent_recall']:.0%}"
    )
    for label, key in (("alone", "capture_lag_alone"), ("slow bot", "capture_lag_with_slow_bot")):
        lag = report[key]
        print(
            f"capture lag, {label}: p50 {lag['lag_p50_ms']:.1f} ms, "
            f"p95 {lag['lag_p95_ms']:.1f} ms, max {lag['lag_max_ms']:.0f} ms "
            f"over {lag['events']:,} events"
            + (" (target p95 < 250 ms)" if key.endswith("bot") else "")
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bots.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
