"""Capture shares the kernel politely: a pandas loop's slowdown while capture runs beside it.

    python benchmarks/bench_kernel_share.py              # 5 rounds of ~6 s (about 3 minutes)
    python benchmarks/bench_kernel_share.py --quick      # 2 rounds of ~2 s, a smoke test
    python benchmarks/bench_kernel_share.py --switch-interval 1   # the GIL's switch in ms

In a notebook capture runs on the kernel's background I/O thread (``gl.connect`` at top
level: the session lives on ``guiders-lab-io``), so it shares the GIL with the user's
cells. The main thread here runs a fixed CPU-bound pandas workload (groupby, merge, a
rolling mean per chat, a pivot table and string work on a 300k-row frame, repeated for a
calibrated ~6 s). Each round runs it three ways, interleaved:

* ``alone``: no session at all (the baseline);
* ``capture``: a live session (``gl.connect_sync``, as a script does; a notebook's
  top-level ``await gl.connect`` builds the same session on the same thread) receiving
  ~2,000 ``message:new``/s of ~1 KB from the simulator in another process;
* ``idle``: the same capture while the main thread only sleeps as long, for the lag and
  capture CPU without a GIL competitor.

Figures: the slowdown (median ``capture`` wall time / median ``alone``), the main thread's
own CPU, the event lag (receive minus the server's ``serverTime``: the README's "event lag")
p50/p99 of the events received during the workload, events captured, and the CPU of the
capture's threads (the I/O loop, Arrow's compressor, any other) per event, from
``/proc/self/task/*/schedstat`` (ns). Context switches of the main and I/O threads count
GIL hand-offs: a thread waiting for the GIL sleeps, a voluntary switch. Results go to
``benchmarks/results/kernel_share.json``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import json
import multiprocessing as mp
import os
import statistics
import sys
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


# ------------------------------------------------------------------ the simulator's process
async def _paced(server: Any, rate: float, stop: threading.Event, tag: str) -> dict[str, float]:
    """``message:new`` at ``rate``/s until ``stop``: the simulator's own flood pacing
    (``sim/flood.py``), with the ~1 KB payloads of ``bench_capture`` and ids unique to
    this round (the store de-duplicates messages by id)."""
    import asyncio
    import random
    from datetime import UTC, datetime

    from _sender import message_payload  # benchmarks/ is on the path, in a child too

    rng = random.Random(7)
    pool = [message_payload(rng, i) for i in range(2000)]
    started = time.perf_counter()
    i = 0
    while not stop.is_set():
        payload = {
            **pool[i % len(pool)],
            "messageId": f"msg-{tag}-{i:09d}",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        await server.broadcast("message:new", payload)
        i += 1
        ahead = started + i / rate - time.perf_counter()
        if ahead > 0.002:  # as sim/flood.py: below 2 ms, sleeping costs more than it paces
            await asyncio.sleep(ahead)
    elapsed = time.perf_counter() - started
    return {"events": i, "seconds": elapsed, "events_per_s": i / elapsed}


def _simulator(rate: float, pipe: Any) -> None:
    """Child process: serve the simulator; ``("go", tag)`` starts a paced flood, ``"stop"``
    ends it and answers what was sent; ``"quit"`` ends the process."""
    waiter = concurrent.futures.ThreadPoolExecutor(1)  # waits for the flood: pipe stays free
    with gl.launch_simulator("demo", seed=7, speed=1.0, autostart=False) as sim:
        pipe.send((sim.url, sim.token))
        while True:
            msg = pipe.recv()
            if msg == "quit":
                return
            _, tag = msg
            stop = threading.Event()
            sending = waiter.submit(sim.call, _paced(sim.server, rate, stop, tag), None)
            pipe.recv()  # stop
            stop.set()
            pipe.send(sending.result())


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
def _task(tid: int) -> tuple[int, int, int, int]:
    """(ns on CPU, ns runnable but waiting for a CPU, voluntary and involuntary context
    switches) of one thread of this process."""
    with open(f"/proc/self/task/{tid}/schedstat") as f:
        ns, queued = (int(x) for x in f.read().split()[:2])
    vol = invol = 0
    with open(f"/proc/self/task/{tid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches"):
                vol = int(line.split()[1])
            elif line.startswith("nonvoluntary_ctxt_switches"):
                invol = int(line.split()[1])
    return ns, queued, vol, invol


def _names() -> dict[int, str]:
    known = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
    out = {}
    for entry in os.listdir("/proc/self/task"):
        tid = int(entry)
        if tid in known:
            out[tid] = known[tid]
        else:
            with open(f"/proc/self/task/{tid}/comm") as f:
                out[tid] = f.read().strip()
    return out


def threads_snapshot() -> dict[int, tuple[str, int, int, int, int]]:
    snap = {}
    for tid, name in _names().items():
        try:
            snap[tid] = (name, *_task(tid))
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return snap


def threads_delta(before: dict, after: dict) -> dict[str, dict[str, float]]:
    """Per thread name (the main one is ``main``): CPU ms, ms waiting for a CPU (other
    processes had it) and switches between snapshots."""
    main_tid = threading.main_thread().native_id
    out: dict[str, dict[str, float]] = {}
    for tid, (name, ns, queued, vol, invol) in after.items():
        b = before.get(tid, (name, 0, 0, 0, 0))
        key = "main" if tid == main_tid else name
        row = out.setdefault(
            key, {"cpu_ms": 0.0, "queued_ms": 0.0, "voluntary": 0, "involuntary": 0}
        )
        row["cpu_ms"] += (ns - b[1]) / 1e6
        row["queued_ms"] += (queued - b[2]) / 1e6
        row["voluntary"] += vol - b[3]
        row["involuntary"] += invol - b[4]
    return out


class _GcClock:
    """Time spent in the cyclic garbage collector, on the main thread and on the others
    (a collection runs on whichever thread's allocation triggered it, holding the GIL)."""

    def __init__(self) -> None:
        self.ms = {"main": 0.0, "other": 0.0}
        self._started: dict[int, float] = {}
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        tid = threading.get_ident()
        if phase == "start":
            self._started[tid] = time.perf_counter()
        elif tid in self._started:
            key = "main" if tid == threading.main_thread().ident else "other"
            self.ms[key] += (time.perf_counter() - self._started.pop(tid)) * 1000

    def snapshot(self) -> dict[str, float]:
        return dict(self.ms)

    def since(self, before: dict[str, float]) -> dict[str, float]:
        return {k: v - before[k] for k, v in self.ms.items()}


GC = _GcClock()


# ------------------------------------------------------------------ one round of each mode
def _lag(live: Any, t0: float, t1: float) -> dict[str, float]:
    ev = live.events
    ev = ev[(ev["name"] == "message:new") & (ev["direction"] == "in")]
    at = ev["received_at"].astype("int64") / 1e6  # µs since the epoch -> s
    window = ev[(at >= t0) & (at <= t1)]
    stats = gl.analysis.latency_stats(window["lag_ms"])
    return {f"lag_{k}_ms" if k != "n" else "events": v for k, v in stats.items()}


def _process_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def capture_round(
    pipe: Any, sim_pid: int, url: str, token: str, tag: str, do: Any, warmup_s: float
) -> dict[str, Any]:
    """Connect, start the flood, let it settle, then ``do()`` while measuring."""
    live = gl.connect_sync(url, token)
    try:
        pipe.send(("go", tag))
        time.sleep(warmup_s)
        wakeups0, gc0 = io_loop().selector.wakeups, GC.snapshot()
        before, t0, sim0 = threads_snapshot(), time.time(), _process_cpu_s(sim_pid)
        result = do()
        t1, after, sim1 = time.time(), threads_snapshot(), _process_cpu_s(sim_pid)
        wakeups, gc_ms = io_loop().selector.wakeups - wakeups0, GC.since(gc0)
        pipe.send("stop")
        sent = pipe.recv()
        gl.run(live.wait_for(lambda s: s.counts().get("message:new", 0) >= sent["events"], 60))
        threads = threads_delta(before, after)
        lag = _lag(live, t0, t1)
    finally:
        gl.run(live.close())
    capture_ms = sum(v["cpu_ms"] for k, v in threads.items() if k != "main")
    n = lag["events"] or 1
    return {
        **result,
        **lag,
        "sent_per_s": sent["events_per_s"],
        "simulator_cpu_share": (sim1 - sim0) / (t1 - t0),
        "io_wakeups_per_s": wakeups / (t1 - t0),
        "main_gc_ms": gc_ms["main"],
        "other_gc_ms": gc_ms["other"],
        "captured_per_s": lag["events"] / (t1 - t0),
        "capture_cpu_ms": capture_ms,
        "capture_cpu_us_per_event": capture_ms * 1000 / n,
        "io_cpu_us_per_event": threads.get("guiders-lab-io", {}).get("cpu_ms", 0.0) * 1000 / n,
        "threads": threads,
    }


def alone_round(do: Any) -> dict[str, Any]:
    before, gc0 = threads_snapshot(), GC.snapshot()
    result = do()
    gc_ms = GC.since(gc0)
    return {
        **result,
        "main_gc_ms": gc_ms["main"],
        "threads": threads_delta(before, threads_snapshot()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of ~2 s")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="workload length")
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--switch-interval", type=float, default=None, help="ms (default 5)")
    parser.add_argument(
        "--gaps", default="5", help="I/O loop min gaps to compare, ms (the shipped one is added)"
    )
    parser.add_argument("--out", default=str(RESULTS / "kernel_share.json"))
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    seconds = args.seconds or (2.0 if args.quick else 6.0)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval / 1000)

    msgs, dim = make_frames()
    workload_once(msgs, dim)  # warm caches and imports
    t = time.perf_counter()
    workload_once(msgs, dim)
    one = time.perf_counter() - t
    reps = max(1, round(seconds / one))
    print(f"workload: {reps} passes of {one:.2f} s over {len(msgs):,} rows", flush=True)

    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_simulator, args=(args.rate, child))
    proc.start()
    url, token = parent.recv()

    def work() -> dict[str, float]:
        return run_workload(msgs, dim, reps)

    shipped = IO_MIN_GAP_S * 1000
    gaps = sorted({float(g) for g in args.gaps.split(",")} | {shipped})
    modes = ["alone", *(f"capture_gap{g:g}ms" for g in gaps), "idle"]
    rows: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    selector = io_loop().selector
    try:
        for r in range(rounds):
            for mode in modes:
                gc.collect()
                if mode == "alone":
                    rows[mode].append(alone_round(work))
                    continue
                gap = shipped if mode == "idle" else float(mode[len("capture_gap") : -2])
                selector.min_gap = gap / 1000
                sleep_s = statistics.median(x["wall_s"] for x in rows["alone"])

                def idle(sleep_s: float = sleep_s) -> dict[str, float]:
                    time.sleep(sleep_s)
                    return {"wall_s": sleep_s, "main_cpu_s": 0.0}

                do = idle if mode == "idle" else work
                row = capture_round(parent, proc.pid, url, token, f"{mode}{r}", do, 0.5)
                rows[mode].append(row)
            selector.min_gap = IO_MIN_GAP_S
            a = rows["alone"][-1]
            print(f"round {r + 1}/{rounds}: alone {a['wall_s']:.2f} s", flush=True)
            for mode in modes[1:]:
                c = rows[mode][-1]
                print(
                    f"  {mode:>18}: {c['wall_s']:.2f} s (x{c['wall_s'] / a['wall_s']:.3f}), "
                    f"{c['events']:,} events, {c['capture_cpu_us_per_event']:.0f} µs/event, "
                    f"{c['io_wakeups_per_s']:.0f} wake-ups/s, lag p50/p99 "
                    f"{c['lag_p50_ms']:.1f}/{c['lag_p99_ms']:.1f} ms",
                    flush=True,
                )
    finally:
        parent.send("quit")
        proc.join(30)

    def med(mode: str, key: str) -> float:
        return statistics.median(x[key] for x in rows[mode])

    def med_thread(mode: str, thread: str, key: str) -> float:
        return statistics.median(x["threads"].get(thread, {}).get(key, 0) for x in rows[mode])

    for mode in modes[:-1]:  # where the main thread's wall time went
        for x in rows[mode]:
            main_t = x["threads"]["main"]
            x["main_queued_s"] = main_t["queued_ms"] / 1000
            x["main_waiting_s"] = x["wall_s"] - x["main_cpu_s"] - x["main_queued_s"]
            x["wall_minus_queued_s"] = x["wall_s"] - x["main_queued_s"]
            x["main_voluntary_per_s"] = main_t["voluntary"] / x["wall_s"]

    def figures(mode: str) -> dict[str, Any]:
        """A capture mode's medians, slowdowns against ``alone``."""
        return {
            "slowdown": med(mode, "wall_s") / med("alone", "wall_s"),
            "slowdown_per_round": [
                c["wall_s"] / a["wall_s"] for a, c in zip(rows["alone"], rows[mode], strict=True)
            ],
            # the main thread's wall = its CPU + waiting for a CPU (other processes: the
            # simulator, other users) + waiting off-CPU (for the GIL, mostly)
            "slowdown_without_cpu_queue": med(mode, "wall_minus_queued_s")
            / med("alone", "wall_minus_queued_s"),
            "main_cpu_ratio": med(mode, "main_cpu_s") / med("alone", "main_cpu_s"),
            "main_s": {k: med(mode, k) for k in ("main_cpu_s", "main_queued_s", "main_waiting_s")},
            "main_gil_waits_per_s": med(mode, "main_voluntary_per_s"),
            "main_gc_ms": med(mode, "main_gc_ms"),
            "wall_s": med(mode, "wall_s"),
            **{
                k: med(mode, k)
                for k in (
                    "events",
                    "captured_per_s",
                    "sent_per_s",
                    "lag_p50_ms",
                    "lag_p99_ms",
                    "lag_max_ms",
                    "capture_cpu_us_per_event",
                    "io_cpu_us_per_event",
                    "io_wakeups_per_s",
                    "simulator_cpu_share",
                )
            },
            "capture_cpu_share_of_wall": med(mode, "capture_cpu_ms") / 1000 / med(mode, "wall_s"),
        }

    by_gap = {f"{g:g}": figures(f"capture_gap{g:g}ms") for g in gaps}
    head = by_gap[f"{shipped:g}"]
    summary = {
        "rounds": rounds,
        "reps": reps,
        "rate": args.rate,
        "switch_interval_ms": sys.getswitchinterval() * 1000,
        "io_min_gap_ms": shipped,
        "cpu_count": os.cpu_count(),
        "loadavg_end": os.getloadavg(),
        "alone_wall_s": med("alone", "wall_s"),
        "alone_main_s": {
            k: med("alone", k) for k in ("main_cpu_s", "main_queued_s", "main_waiting_s")
        },
        "alone_main_gc_ms": med("alone", "main_gc_ms"),
        **head,
        "idle_lag_p50_ms": med("idle", "lag_p50_ms"),
        "idle_lag_p99_ms": med("idle", "lag_p99_ms"),
        "idle_capture_cpu_us_per_event": med("idle", "capture_cpu_us_per_event"),
        "idle_io_wakeups_per_s": med("idle", "io_wakeups_per_s"),
        "by_min_gap_ms": by_gap,
        "raw": rows,
    }
    s = summary
    print(
        f"\npandas loop {s['alone_wall_s']:.2f} s alone; with capture at "
        f"{s['captured_per_s']:,.0f} events/s (the I/O loop's min gap {shipped:g} ms):"
        f" slowdown x{s['slowdown']:.3f} (goal <= 1.05), x{s['slowdown_without_cpu_queue']:.3f}"
        f" leaving out the main thread's wait for a CPU (the simulator used "
        f"{s['simulator_cpu_share']:.0%} of one; load average {s['loadavg_end'][0]:.1f}).\n"
        f"Event lag p50/p99 {s['lag_p50_ms']:.1f}/{s['lag_p99_ms']:.1f} ms beside the loop, "
        f"{s['idle_lag_p50_ms']:.1f}/{s['idle_lag_p99_ms']:.1f} ms with the main thread idle."
    )
    print(
        f"{'min gap':>8} {'slowdown':>9} {'w/o queue':>9} {'main CPU':>9} {'capture':>9} "
        f"{'wake-ups':>9} {'GIL waits':>9} {'lag p50':>8} {'lag p99':>8}"
    )
    for g, f in by_gap.items():
        print(
            f"{g + ' ms':>8} {f['slowdown']:>9.3f} {f['slowdown_without_cpu_queue']:>9.3f} "
            f"{f['main_cpu_ratio']:>9.3f} {f['capture_cpu_us_per_event']:>6.1f} µs "
            f"{f['io_wakeups_per_s']:>7.0f}/s {f['main_gil_waits_per_s']:>7.0f}/s "
            f"{f['lag_p50_ms']:>5.1f} ms {f['lag_p99_ms']:>5.1f} ms"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
