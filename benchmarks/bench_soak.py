"""Soak: capture a 2,000 events/s stream for 10 minutes with a slow bot and a live dashboard.

    python benchmarks/bench_soak.py [--minutes 10] [--rate 2000]

The simulator runs in its own process, so the RSS sampled here is the client's alone.
For the first fifth of the run (at least 30 s) the client only captures: that is the
baseline, measured in the same run. Then a bot that needs 10 ms per message (100/s, 20x
slower than the stream) starts in shadow mode with the default ``backlog_limit``, next to
a SentimentMonitor that keeps up and a LiveDashboard redrawing every second. Every 10 s
the benchmark samples RSS, events captured, the bots' backlog and lag.

Capture keeps every event, so RSS grows with the data by design (the tables are what the
user asked for). Memory is bounded when that is *all* that grows: the RSS added per
captured event with the slow consumers attached is the same as with capture alone (ratio
about 1.0), and stays the same from the first half of the consumer phase to the second. An
unbounded bot queue would add a queued record per event on top. Results go to
``benchmarks/results/soak.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

import psutil

import guiders_lab as gl

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MB = 1024 * 1024


def _simulator(events: int, rate: float, pipe: mp.connection.Connection) -> None:
    """Child process: serve the simulator, flood on request, report what was sent."""
    with gl.launch_simulator("demo", seed=7, speed=1.0, autostart=False) as sim:
        pipe.send((sim.url, sim.token))
        pipe.recv()  # go
        report = sim.flood(events, rate=rate)
        pipe.send(report)
        pipe.recv()  # done


class SlowBot(gl.bots.Bot):
    """A model call of 10 ms per visitor message: far slower than the stream."""

    async def on_message(self, message, ctx):
        await asyncio.sleep(0.01)


def _data_bytes(store: gl.Store) -> int:
    """Bytes of captured rows held in Arrow (hot rows still being filled are a few MB)."""
    return sum(t.nbytes for t in store.tables.values())


async def soak(minutes: float, rate: float, every: float = 10.0) -> dict:
    events = int(minutes * 60 * rate)
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_simulator, args=(events, rate, child))
    proc.start()
    url, token = parent.recv()
    me = psutil.Process()
    live = await gl.connect(url, token, heartbeat_interval=5.0)
    gc.collect()
    samples: list[dict] = []
    started = time.monotonic()
    baseline_s = max(30.0, minutes * 60 / 5)
    slow = monitor = dashboard = None
    parent.send("go")

    def sample() -> dict:
        m = live.metrics()
        return {
            "t_s": round(time.monotonic() - started, 1),
            "events": m["events_received"],
            "rss_mb": me.memory_info().rss / MB,
            "data_mb": _data_bytes(live.store) / MB,
            "event_lag_ms": m["event_lag_ms"],
            "consumers": slow is not None,
            "bot_backlog": slow.backlog if slow else 0,
            "bot_lag_ms": slow.lag_ms if slow else None,
            "bot_skipped": slow.skipped if slow else 0,
            "monitor_backlog": monitor.backlog if monitor else 0,
            "dashboard_redraws": dashboard.redraws if dashboard else 0,
        }

    samples.append(sample())
    while not parent.poll():
        await asyncio.sleep(every)
        if slow is None and time.monotonic() - started >= baseline_s:
            samples.append(sample())  # the end of the baseline
            attached_at = len(samples) - 1
            slow = await live.run(SlowBot(), mode="shadow")
            monitor = await live.run(gl.bots.SentimentMonitor(), mode="shadow")
            dashboard = gl.LiveDashboard(live, interval=1.0)
            print(f"{samples[-1]['t_s']:6.0f} s  slow bot, monitor and dashboard attached")
            continue
        samples.append(sample())
        s = samples[-1]
        print(
            f"{s['t_s']:6.0f} s  {s['events']:>10,} events  RSS {s['rss_mb']:7.1f} MB  "
            f"data {s['data_mb']:6.1f} MB  bot backlog {s['bot_backlog']:>6,} "
            f"lag {s['bot_lag_ms'] or 0:8.0f} ms "
            f"skipped {s['bot_skipped']:>9,}",
            flush=True,
        )
    sent = parent.recv()
    await live.wait_for(lambda s: s.counts().get("message:new", 0) >= events, timeout=120)
    samples.append(sample())
    final = live.metrics()
    captured = int(live.store.counts.get("message:new", 0))
    dashboard.close()
    await slow.stop()
    await monitor.stop()
    await live.close()
    parent.send("done")
    proc.join(30)

    assert slow is not None and monitor is not None and dashboard is not None
    flowing = [s for s in samples if s["events"] < sent["events"]] or samples  # while sent
    warm = next(i for i, s in enumerate(samples) if s["t_s"] >= 10)  # imports, first chunks
    filled = min(attached_at + 2, len(flowing) - 1)  # the bot's backlog has filled up
    last = flowing[-1]
    mid = flowing[(filled + len(flowing) - 1) // 2]

    def per_event(a: dict, b: dict) -> float:
        return (b["rss_mb"] - a["rss_mb"]) * MB / max(1, b["events"] - a["events"])

    alone = per_event(samples[warm], samples[attached_at])
    with_consumers = per_event(flowing[filled], last)

    return {
        "minutes": minutes,
        "rate": rate,
        "sent": sent["events"],
        "sent_per_s": sent["events_per_s"],
        "captured": captured,
        "lost": sent["events"] - captured,
        "missing_events": final["missing_events"],
        "quarantined": final["quarantined"],
        "baseline_s": baseline_s,
        "rss_mb_start": samples[0]["rss_mb"],
        "rss_mb_attach": samples[attached_at]["rss_mb"],
        "rss_mb_end": samples[-1]["rss_mb"],
        "data_mb_end": samples[-1]["data_mb"],
        "rss_bytes_per_event_capture_alone": alone,
        "rss_bytes_per_event_with_consumers": with_consumers,
        "ratio_with_consumers_vs_alone": with_consumers / alone if alone > 0 else None,
        "rss_bytes_per_event_first_half": per_event(flowing[filled], mid),
        "rss_bytes_per_event_second_half": per_event(mid, last),
        "attach_step_mb": samples[filled]["rss_mb"] - samples[attached_at]["rss_mb"],
        "bot_backlog_max": max(s["bot_backlog"] for s in samples),
        "bot_backlog_limit": slow.backlog_limit,
        "bot_handled": slow.handled,
        "bot_skipped": slow.skipped,
        "bot_lag_ms_max": slow.max_lag_ms,
        "monitor_skipped": monitor.skipped,
        "monitor_lag_ms_mean": monitor.mean_lag_ms,
        "dashboard_redraws": dashboard.redraws,
        "samples": samples,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--out", default=str(RESULTS / "soak.json"))
    args = parser.parse_args()
    r = asyncio.run(soak(args.minutes, args.rate))
    print(
        f"\n{r['minutes']:g} min at {r['sent_per_s']:,.0f} events/s: sent {r['sent']:,}, "
        f"captured {r['captured']:,} (lost {r['lost']}, missing {r['missing_events']}).\n"
        f"RSS {r['rss_mb_start']:.0f} MB at start, {r['rss_mb_attach']:.0f} MB when the "
        f"consumers attach (after {r['baseline_s']:.0f} s), {r['rss_mb_end']:.0f} MB at the end"
        f" (+{r['attach_step_mb']:.0f} MB while the bot's backlog fills).\n"
        f"RSS per captured event: {r['rss_bytes_per_event_capture_alone']:.0f} B capture "
        f"alone, {r['rss_bytes_per_event_with_consumers']:.0f} B with the slow consumers "
        f"(ratio {r['ratio_with_consumers_vs_alone'] or 0:.2f}); "
        f"{r['rss_bytes_per_event_first_half']:.0f} B in the first half of that phase, "
        f"{r['rss_bytes_per_event_second_half']:.0f} B in the second.\n"
        f"Slow bot: backlog max {r['bot_backlog_max']:,} (limit {r['bot_backlog_limit']:,}), "
        f"handled {r['bot_handled']:,}, skipped {r['bot_skipped']:,}, lag max "
        f"{r['bot_lag_ms_max'] / 1000:.0f} s; SentimentMonitor skipped {r['monitor_skipped']}, "
        f"mean lag {r['monitor_lag_ms_mean'] or 0:.1f} ms; {r['dashboard_redraws']} redraws."
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(r, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
