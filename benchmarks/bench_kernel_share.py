"""Capture shares the kernel politely: a pandas loop's slowdown while capture runs beside it.

    python benchmarks/bench_kernel_share.py              # 36 blocks of each arm (~2.5 min)
    python benchmarks/bench_kernel_share.py --quick      # 9 blocks, a smoke test
    python benchmarks/bench_kernel_share.py --min-gap 5  # the kernel's I/O loop's min gap, ms

In a notebook capture runs on the kernel's background I/O thread (``gl.connect`` at top
level: the session lives on ``guiders-lab-io``), so it shares the GIL with the user's
cells. The main thread here runs a fixed CPU-bound pandas workload (groupby, merge, a
rolling mean per chat, a pivot table and string work on a 300k-row frame) in blocks of
~0.6 s, while the simulator, in another process, sends ~2,000 ``message:new``/s of ~1 KB
to one of two identical captures, both connected all along:

* ``none``: the simulator sends nothing (the loop alone: the baseline);
* ``kernel``: the flood goes to a live session in this process (``gl.connect_sync``, as
  a script does; a notebook's top-level ``await gl.connect`` builds the same session on
  the same thread): capture on the kernel's I/O thread, sharing the GIL;
* ``background``: the flood goes to ``gl.capture_in_background``: the kit's recorder in a
  child process, followed from this process, whose tables catch up once a second (that
  catching up is in the blocks' time).

The arms alternate block by block (rotating their order), so that each block's
neighbours ran on the same machine at nearly the same moment: a shared 2-core VM's speed
drifts by +-20% over seconds (one pass of the loop alone: 0.24-0.41 s), which long runs
of one arm cannot tell from the capture's effect. Each figure is the median, over the
rounds, of a round's ratio of two arms' block times; the spread is the rounds'
interquartile range.

Figures: the slowdown of each capture against ``none`` (the simulator's own sending is
in it, which a real server would do on another machine), the main thread's CPU and
GIL waits (wall - CPU - waiting for a CPU), the event lag (receive minus the server's
``serverTime``: the README's "event lag") p50/p99 of each capture's events during its
blocks and of the kernel's with the main thread idle, the kernel capture's CPU per event
(this process's other threads, from ``/proc/self/task/*/schedstat``), and the background
session's catching up (its share of the time, in this process). Results go to
``benchmarks/results/kernel_share.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import guiders_lab as gl
from guiders_lab._loop import IO_MIN_GAP_S, io_loop

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
ARMS = ("none", "kernel", "background")


# ------------------------------------------------------------------ the simulator's process
class _Flood:
    """~``rate`` ``message:new``/s to the account room, skipping one of the two captures
    (``target``: whom it reaches; None: nobody). The payloads are ``bench_capture``'s,
    ids unique (the store de-duplicates messages by id); pacing as sim/flood.py."""

    def __init__(self, server: Any, rate: float) -> None:
        import random

        from _sender import message_payload  # benchmarks/ is on the path, in a child too

        rng = random.Random(7)
        self.pool = [message_payload(rng, i) for i in range(2000)]
        self.server, self.rate = server, rate
        self.sids: dict[str, str] = {}
        self.target: str | None = None
        self.sent = {arm: 0 for arm in ARMS}

    def participants(self) -> set[str]:
        from guiders_lab.sim.world import ACCOUNT_ROOM

        manager = self.server.sio.manager
        return {sid for sid, _ in manager.get_participants("/", ACCOUNT_ROOM)}

    async def run(self) -> None:
        from datetime import UTC, datetime

        i, started, target = 0, time.perf_counter(), None
        while True:
            if self.target != target:  # a new arm: pace from now
                target, started, sent_before = self.target, time.perf_counter(), i
            if target is None:
                await asyncio.sleep(0.002)
                continue
            other = self.sids["background" if target == "kernel" else "kernel"]
            payload = {
                **self.pool[i % len(self.pool)],
                "messageId": f"msg-{i:010d}",
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            await self.server.broadcast("message:new", payload, skip_sid=other)
            i += 1
            self.sent[target] += 1
            ahead = started + (i - sent_before) / self.rate - time.perf_counter()
            if ahead > 0.002:  # as sim/flood.py: below 2 ms, sleeping costs more than it paces
                await asyncio.sleep(ahead)


def _simulator(rate: float, pipe: Any) -> None:
    """Child process: serve the simulator and its flood. Commands: ``("sid", arm)`` names
    the capture that connected since the last one; ``("target", arm | None)``;
    ``"sent"`` answers the events sent per arm; ``"quit"``."""
    with gl.launch_simulator("demo", seed=7, speed=1.0, autostart=False) as sim:
        flood = _Flood(sim.server, rate)
        sim.call(_start(flood), None)
        pipe.send((sim.url, sim.token))
        known: set[str] = set()
        while True:
            msg = pipe.recv()
            if msg == "quit":
                return
            if msg == "sent":
                pipe.send(dict(flood.sent))
            elif msg[0] == "sid":
                now = sim.call(_participants(flood), None)
                (new,) = now - known
                flood.sids[msg[1]], known = new, now
                pipe.send(new)
            elif msg[0] == "target":
                flood.target = msg[1]
                pipe.send("ok")


async def _start(flood: _Flood) -> None:
    asyncio.get_running_loop().create_task(flood.run())


async def _participants(flood: _Flood) -> set[str]:
    return flood.participants()


# ------------------------------------------------------------------ the user's pandas cell
def make_frames(rows: int = 300_000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A chat log as a data scientist would have it: messages and a chat dimension."""
    rng = np.random.default_rng(seed)
    chats = 5_000
    depts = np.array(["ventas", "soporte", "facturacion", "tecnico", "general"])
    words = np.array(["hola", "precio", "envio", "gracias", "problema", "factura", "ayuda"])
    msgs = pd.DataFrame(
        {
            "chat_id": rng.integers(0, chats, rows),
            "sent_at": pd.Timestamp("2026-01-01", tz="UTC")
            + pd.to_timedelta(np.sort(rng.integers(0, 86_400 * 30, rows)), unit="s"),
            "sentiment": rng.normal(0.1, 0.5, rows),
            "n_words": rng.integers(1, 80, rows),
            "first_word": rng.choice(words, rows),
        }
    )
    dim = pd.DataFrame(
        {
            "chat_id": np.arange(chats),
            "department": rng.choice(depts, chats),
            "converted": rng.random(chats) < 0.1,
        }
    )
    return msgs, dim


def workload_once(msgs: pd.DataFrame, dim: pd.DataFrame) -> float:
    """One pass: merge, groupby aggregations, a rolling mean per chat, a pivot, strings."""
    m = msgs.merge(dim, on="chat_id", how="left")
    per_chat = m.groupby(["department", "chat_id"]).agg(
        n=("sentiment", "size"), mean=("sentiment", "mean"), words=("n_words", "sum")
    )
    rolled = (
        m.sort_values(["chat_id", "sent_at"])
        .groupby("chat_id")["sentiment"]
        .rolling(20, min_periods=1)
        .mean()
    )
    pivot = m.assign(hour=m["sent_at"].dt.hour).pivot_table(
        index="hour", columns="department", values="n_words", aggfunc="mean"
    )
    shouty = m["first_word"].str.upper().str.len().sum()
    return float(per_chat["mean"].sum() + rolled.sum() + pivot.to_numpy().sum() + shouty)


def run_workload(msgs: pd.DataFrame, dim: pd.DataFrame, reps: int) -> dict[str, float]:
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    for _ in range(reps):
        workload_once(msgs, dim)
    return {"wall_s": time.perf_counter() - wall0, "main_cpu_s": time.thread_time() - cpu0}


# ------------------------------------------------------------------ threads' CPU and switches
def _task(tid: int) -> tuple[int, int, int]:
    """(ns on CPU, ns runnable but waiting for a CPU, voluntary context switches) of one
    thread of this process (a thread waiting for the GIL sleeps: a voluntary switch)."""
    with open(f"/proc/self/task/{tid}/schedstat") as f:
        ns, queued = (int(x) for x in f.read().split()[:2])
    vol = 0
    with open(f"/proc/self/task/{tid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches"):
                vol = int(line.split()[1])
    return ns, queued, vol


def threads_snapshot() -> dict[int, tuple[int, int, int]]:
    snap = {}
    for entry in os.listdir("/proc/self/task"):
        try:
            snap[int(entry)] = _task(int(entry))
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return snap


def threads_delta(before: dict, after: dict) -> dict[str, float]:
    """The main thread's CPU and wait for a CPU (s) and switches, the other threads' CPU."""
    main_tid = threading.main_thread().native_id
    out = {"main_cpu_s": 0.0, "main_queued_s": 0.0, "main_voluntary": 0.0, "others_cpu_s": 0.0}
    for tid, (ns, queued, vol) in after.items():
        b = before.get(tid, (0, 0, 0))
        if tid == main_tid:
            out["main_cpu_s"] = (ns - b[0]) / 1e9
            out["main_queued_s"] = (queued - b[1]) / 1e9
            out["main_voluntary"] = vol - b[2]
        else:
            out["others_cpu_s"] += (ns - b[0]) / 1e9
    return out


# ------------------------------------------------------------------ the run
def _lag(live: Any, windows: list[tuple[float, float]]) -> dict[str, float]:
    """Lag of the ``message:new`` events the kernel's capture received in ``windows``."""
    ev = live.events
    ev = ev[(ev["name"] == "message:new") & (ev["direction"] == "in")]
    at = ev["received_at"].astype("int64").to_numpy() / 1e6  # µs since the epoch -> s
    inside = np.zeros(len(ev), dtype=bool)
    for t0, t1 in windows:
        inside |= (at >= t0) & (at <= t1)
    stats = gl.analysis.latency_stats(ev.loc[inside, "lag_ms"])
    return {f"lag_{k}_ms" if k != "n" else "events": v for k, v in stats.items()}


def _quartiles(values: list[float]) -> dict[str, float]:
    q1, q2, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(q2), "q1": float(q1), "q3": float(q3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="9 blocks of each arm")
    parser.add_argument("--blocks", type=int, default=None, help="blocks of each arm")
    parser.add_argument("--block-seconds", type=float, default=0.6)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--min-gap", type=float, default=IO_MIN_GAP_S * 1000, help="ms")
    parser.add_argument("--switch-interval", type=float, default=None, help="ms (default 5)")
    parser.add_argument("--out", default=str(RESULTS / "kernel_share.json"))
    args = parser.parse_args()
    blocks = args.blocks or (9 if args.quick else 36)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)

    msgs, dim = make_frames()
    workload_once(msgs, dim)  # warm caches and imports
    t = time.perf_counter()
    workload_once(msgs, dim)
    one = time.perf_counter() - t
    reps = max(1, round(args.block_seconds / one))
    print(f"workload: blocks of {reps} passes of {one:.2f} s over {len(msgs):,} rows", flush=True)

    ctx = mp.get_context("spawn")
    parent, child = mp.Pipe()
    sim_proc = ctx.Process(target=_simulator, args=(args.rate, child))
    sim_proc.start()
    url, token = parent.recv()
    live = gl.connect_sync(url, token)
    io_loop().selector.min_gap = args.min_gap / 1000

    def ask(msg: Any) -> Any:
        parent.send(msg)
        return parent.recv()

    ask(("sid", "kernel"))
    recording = tempfile.TemporaryDirectory(prefix="kernel-share-")
    background = gl.capture_in_background(url, token, record_to=Path(recording.name) / "rec")
    ask(("sid", "background"))

    rows: dict[str, list[dict[str, float]]] = {arm: [] for arm in ARMS}
    kernel_windows: list[tuple[float, float]] = []
    background_windows: list[tuple[float, float]] = []
    try:
        for arm in ARMS:  # one block each to settle (connections warm, caches filled)
            ask(("target", None if arm == "none" else arm))
            time.sleep(0.3)
            run_workload(msgs, dim, reps)
        for b in range(blocks):
            order = ARMS[b % 3 :] + ARMS[: b % 3]
            for arm in order:
                ask(("target", None if arm == "none" else arm))
                time.sleep(0.05)  # the switch reaches the socket; in-flight frames drain
                before, t0 = threads_snapshot(), time.time()
                row = run_workload(msgs, dim, reps)
                t1, after = time.time(), threads_snapshot()
                row.update(threads_delta(before, after))
                rows[arm].append(row)
                if arm == "kernel":
                    kernel_windows.append((t0, t1))
                elif arm == "background":
                    background_windows.append((t0, t1))
            if (b + 1) % 6 == 0:
                last = {arm: rows[arm][-1]["wall_s"] for arm in ARMS}
                print(
                    f"block {b + 1}/{blocks}: none {last['none']:.3f} s, kernel "
                    f"x{last['kernel'] / last['none']:.3f}, background "
                    f"x{last['background'] / last['none']:.3f}",
                    flush=True,
                )
        # the lag with the main thread idle: 3 s of the kernel's capture, nothing else
        ask(("target", "kernel"))
        time.sleep(0.3)
        idle_t0 = time.time()
        idle_before = threads_snapshot()
        time.sleep(3.0)
        idle_t1, idle_after = time.time(), threads_snapshot()
        ask(("target", None))
        time.sleep(0.3)
        sent = ask("sent")
        gl.run(live.wait_for(lambda s: s.counts().get("message:new", 0) >= sent["kernel"], 60))
        lag = _lag(live, kernel_windows)
        idle_lag = _lag(live, [(idle_t0, idle_t1)])
        caught_up = background.transport.stats()
        gl.run(
            background.wait_for(
                lambda s: s.counts().get("message:new", 0) >= sent["background"], 60
            )
        )
        captured_background = background.counts().get("message:new", 0)
        background_lag = _lag(background, background_windows)
    finally:
        gl.run(background.close())
        recording.cleanup()
        gl.run(live.close())
        parent.send("quit")
        sim_proc.join(30)

    def ratios(a: str, b: str, key: str = "wall_s") -> list[float]:
        return [x[key] / y[key] for x, y in zip(rows[a], rows[b], strict=True)]

    def med(arm: str, key: str) -> float:
        return statistics.median(x[key] for x in rows[arm])

    for arm in ARMS:
        for x in rows[arm]:
            x["main_waiting_s"] = max(0.0, x["wall_s"] - x["main_cpu_s"] - x["main_queued_s"])
    kernel_events = lag["events"] or 1
    capture_cpu_s = sum(
        x["others_cpu_s"] - y["others_cpu_s"]
        for x, y in zip(rows["kernel"], rows["none"], strict=True)
    )
    idle = threads_delta(idle_before, idle_after)
    seconds = {arm: sum(x["wall_s"] for x in rows[arm]) for arm in ARMS}
    summary = {
        "blocks": blocks,
        "passes_per_block": reps,
        "rate": args.rate,
        "switch_interval_ms": sys.getswitchinterval() * 1000,
        "io_min_gap_ms": args.min_gap,
        "cpu_count": os.cpu_count(),
        "loadavg_end": os.getloadavg(),
        "block_s_none": med("none", "wall_s"),
        "slowdown": _quartiles(ratios("kernel", "none")),
        "background_slowdown": _quartiles(ratios("background", "none")),
        "kernel_vs_background": _quartiles(ratios("kernel", "background")),
        "main_cpu_ratio": _quartiles(ratios("kernel", "none", "main_cpu_s")),
        "background_main_cpu_ratio": _quartiles(ratios("background", "none", "main_cpu_s")),
        "main_waiting_share": {
            arm: med(arm, "main_waiting_s") / med(arm, "wall_s") for arm in ARMS
        },
        "main_gil_waits_per_s": {
            arm: med(arm, "main_voluntary") / med(arm, "wall_s") for arm in ARMS
        },
        "captured_per_s": kernel_events / seconds["kernel"],
        "sent": sent,
        "captured_background": captured_background,
        **lag,
        "idle_lag_p50_ms": idle_lag["lag_p50_ms"],
        "idle_lag_p99_ms": idle_lag["lag_p99_ms"],
        "background_lag_p50_ms": background_lag["lag_p50_ms"],
        "background_lag_p99_ms": background_lag["lag_p99_ms"],
        "capture_cpu_us_per_event": capture_cpu_s * 1e6 / kernel_events,
        "idle_capture_cpu_us_per_event": idle["others_cpu_s"] * 1e6 / max(1, idle_lag["events"]),
        "background_catch_ups": caught_up["catch_ups"],
        # how long a row waited, at worst, between the child receiving it and the
        # tables here having it (the oldest row of each catch-up)
        "background_behind_p50_s": float(np.percentile(background.transport.waited, 50)),
        "background_behind_p99_s": float(np.percentile(background.transport.waited, 99)),
        "background_catch_up_share": caught_up["catch_up_cpu_s"] / seconds["background"],
        "background_catch_up_us_per_event": caught_up["catch_up_cpu_s"]
        * 1e6
        / max(1, captured_background),
        "raw": rows,
    }
    s = summary
    sd, bg, kb = s["slowdown"], s["background_slowdown"], s["kernel_vs_background"]
    print(
        f"\npandas loop, blocks of {s['block_s_none']:.2f} s; ~{s['captured_per_s']:,.0f} "
        f"events/s; median [IQR] of {blocks} rounds (goal: slowdown <= 1.05):\n"
        f"  capture in the kernel (I/O min gap {args.min_gap:g} ms): x{sd['median']:.3f} "
        f"[{sd['q1']:.3f}-{sd['q3']:.3f}]; main thread's CPU "
        f"x{s['main_cpu_ratio']['median']:.3f}, waiting (GIL) "
        f"{s['main_waiting_share']['kernel']:.1%} of a block; "
        f"{s['capture_cpu_us_per_event']:.0f} µs CPU/event; lag p50/p99 "
        f"{s['lag_p50_ms']:.1f}/{s['lag_p99_ms']:.1f} ms "
        f"({s['idle_lag_p50_ms']:.1f}/{s['idle_lag_p99_ms']:.1f} with the main thread idle)\n"
        f"  gl.capture_in_background: x{bg['median']:.3f} [{bg['q1']:.3f}-{bg['q3']:.3f}]; "
        f"main thread's CPU x{s['background_main_cpu_ratio']['median']:.3f}, waiting "
        f"{s['main_waiting_share']['background']:.1%}; catching up "
        f"{s['background_catch_up_share']:.2%} of the time "
        f"({s['background_catch_up_us_per_event']:.1f} µs/event); capture lag p50/p99 "
        f"{s['background_lag_p50_ms']:.1f}/{s['background_lag_p99_ms']:.1f} ms, in the "
        f"tables here at worst {s['background_behind_p50_s']:.2f}/"
        f"{s['background_behind_p99_s']:.2f} s later (p50/p99)\n"
        f"  kernel against background: x{kb['median']:.3f} [{kb['q1']:.3f}-{kb['q3']:.3f}]"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
