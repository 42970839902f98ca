"""Days of capture in bounded memory: RSS while recording 10M events, with and without spill.

    python benchmarks/bench_spill.py              # 10M events in-process + 1M over a socket
    python benchmarks/bench_spill.py --quick      # 1M in-process + 200k over a socket

Two measurements, each run in a fresh process (clean RSS), with spill (the default of a
recording: sealed chunks go to ``DIR/spill/``) and without (the baseline: the compressed
chunks stay in memory, as before), interleaved:

* **in-process** (the 10M run): realistic 1 KB ``message:new`` payloads (``_sender.py``'s,
  each with a unique message id) are fed to ``Store.ingest_json``, the entry point the
  transport's fast path calls per event, with a real :class:`~guiders_lab.record.Recorder`
  (journal, spill, Parquet tables on close). No socket: 10M events through one would take
  about an hour per run on this machine, so the socket is measured separately, shorter;
* **socket**: the real client (``gl.connect(record_to=...)``) against the pre-encoded
  sender of ``bench_capture`` in another process.

RSS is sampled as is (no ``malloc_trim``: what a user's process would show). Figures:
RSS growth from after the first 5% of events (hot lists, buffers and allocator arenas
warm) to the end of capture, its slope (MB per million events, least squares over the
samples past that point), the close time (Parquet written from the spill) and the peak
RSS while closing. Goal: growth <= 100 MB over 10M events with spill. Results go to
``benchmarks/results/spill.json``. Needs ~15 GB of free disk for the 10M run (the journal
is ~1.1 KB per event); each run's recording is deleted after it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MB = 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _slope(samples: list[tuple[int, int]]) -> float:
    """MB of RSS per million events, least squares."""
    n = len(samples)
    if n < 2:
        return float("nan")
    mx = sum(e for e, _ in samples) / n
    my = sum(r for _, r in samples) / n
    var = sum((e - mx) ** 2 for e, _ in samples)
    cov = sum((e - mx) * (r - my) for e, r in samples)
    return cov / var * 1e6 / MB if var else float("nan")


def _summary(samples: list[tuple[int, int]], n: int) -> dict:
    warm = [s for s in samples if s[0] >= n * 0.05]
    return {
        "rss_start_mb": samples[0][1] / MB,
        "rss_warm_mb": warm[0][1] / MB,
        "rss_end_mb": samples[-1][1] / MB,
        "growth_mb": (samples[-1][1] - warm[0][1]) / MB,
        "mb_per_million": _slope(warm),
        "samples": [(e, round(r / MB, 1)) for e, r in samples],
    }


def _disk(directory: Path) -> dict:
    sizes = {p.name: p.stat().st_size for p in directory.rglob("*") if p.is_file()}
    return {
        "journal_mb": sizes.get("events.jsonl", 0) / MB,
        "parquet_mb": sum(v for k, v in sizes.items() if k.endswith(".parquet")) / MB,
        "spill_mb": sum(v for k, v in sizes.items() if k.endswith(".spill")) / MB,
    }


# ------------------------------------------------------------------------------ children
def feed_child(n: int, spill: bool, directory: Path) -> dict:
    import orjson
    from _sender import message_payload

    import guiders_lab as gl
    from guiders_lab.record.recorder import Recorder

    rng = random.Random(42)
    payloads = [orjson.dumps(message_payload(rng, i)) for i in range(4096)]
    store = gl.Store()
    recorder = Recorder(directory, spill=spill)
    recorder.start(store, "bench://in-process")
    step = max(n // 100, 1)
    samples = [(0, _rss())]
    ingest, now = store.ingest_json, time.time
    t0 = time.perf_counter()
    for i in range(n):
        raw = payloads[i & 4095]
        if i > 4095:  # unique message ids, as the socket sender makes them
            raw = raw.replace(b'"msg-', b'"msg-%x-' % i, 1)
        ingest("message:new", raw, None, now())
        if (i + 1) % step == 0:
            samples.append((i + 1, _rss()))
    capture_s = time.perf_counter() - t0
    store.seal()
    disk = _disk(directory)
    t1 = time.perf_counter()
    manifest = recorder.finish(store)
    close_s = time.perf_counter() - t1
    assert manifest.tables["messages"] == n, manifest.tables
    return {
        "events": n,
        "spill": spill,
        "capture_s": capture_s,
        "us_per_event": capture_s / n * 1e6,
        "close_s": close_s,
        "peak_rss_mb": _peak() / MB,
        "arrow_in_memory_mb": sum(t.nbytes for t in store.tables.values()) / MB,
        **disk,
        **_summary(samples, n),
    }


async def socket_child(port: int, n: int, spill: bool, directory: Path) -> dict:
    import guiders_lab as gl

    class NoSpill(gl.Store):
        """The baseline: a recording whose chunks stay in memory."""

        def spill_to(self, directory: str | Path) -> None:
            pass

    store = gl.Store() if spill else NoSpill()
    samples: list[tuple[int, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            samples.append((store.counts.get("message:new", 0), _rss()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    live = await gl.connect(
        f"http://127.0.0.1:{port}",
        "bench-token",
        heartbeat_interval=3600,
        transports=["websocket"],
        store=store,
        record_to=directory,
    )
    await live.wait_for(lambda s: "bench:done" in s.store.counts, timeout=3600, interval=0.1)
    done.set()
    sampler.join()
    samples.append((store.counts.get("message:new", 0), _rss()))
    disk = _disk(directory)
    t1 = time.perf_counter()
    await live.close()
    got = store.counts.get("message:new", 0)
    return {
        "events": got,
        "spill": spill,
        "close_s": time.perf_counter() - t1,
        "peak_rss_mb": _peak() / MB,
        **disk,
        **_summary([s for s in samples if s[0] > 0], got),
    }


# ------------------------------------------------------------------------------ driver
def run(mode: str, n: int, spill: bool) -> dict:
    directory = Path(tempfile.mkdtemp(prefix="bench-spill-")) / "rec"
    sender = None
    try:
        cmd = [sys.executable, __file__, "--child", mode, "--events", str(n)]
        cmd += ["--dir", str(directory)] + (["--spill"] if spill else [])
        if mode == "socket":
            serve = [sys.executable, str(HERE / "_sender.py"), str(n)]
            sender = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
            assert sender.stdout is not None
            cmd += ["--port", sender.stdout.readline().strip()]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result: dict = json.loads(out.stdout.strip().splitlines()[-1])
        return result
    finally:
        if sender is not None:
            sender.kill()
            sender.wait()
        shutil.rmtree(directory.parent, ignore_errors=True)


def _line(mode: str, r: dict) -> str:
    return (
        f"{mode:9} spill={'yes' if r['spill'] else 'no ':3} {r['events']:>10,} events: "
        f"RSS {r['rss_warm_mb']:7.0f} -> {r['rss_end_mb']:7.0f} MB "
        f"(growth {r['growth_mb']:7.1f} MB, {r['mb_per_million']:6.1f} MB/M), "
        f"close {r['close_s']:5.1f} s, peak {r['peak_rss_mb']:6.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M in-process, 200k socket")
    parser.add_argument("--events", type=int, help="in-process events (default 10M)")
    parser.add_argument("--socket-events", type=int, help="socket events (default 1M)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds")
    parser.add_argument("--child", choices=("feed", "socket"), help=argparse.SUPPRESS)
    parser.add_argument("--spill", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "feed":
        print(json.dumps(feed_child(args.events, args.spill, args.dir)))
        return 0
    if args.child == "socket":
        print(json.dumps(asyncio.run(socket_child(args.port, args.events, args.spill, args.dir))))
        return 0
    n_feed = args.events or (1_000_000 if args.quick else 10_000_000)
    n_socket = args.socket_events or (200_000 if args.quick else 1_000_000)
    runs: dict[str, list[dict]] = {}
    for _ in range(args.rounds):
        for mode, n in (("feed", n_feed), ("socket", n_socket)):
            for spill in (True, False):
                r = run(mode, n, spill)
                runs.setdefault(f"{mode}/{'spill' if spill else 'memory'}", []).append(r)
                print(_line(mode, r), flush=True)
    median = {k: sorted(v, key=lambda r: r["growth_mb"])[len(v) // 2] for k, v in runs.items()}
    goal = median["feed/spill"]["growth_mb"] * 10_000_000 / n_feed
    result = {
        "events": {"feed": n_feed, "socket": n_socket},
        "rounds": args.rounds,
        "load_avg": os.getloadavg(),
        "runs": runs,
        "growth_mb_per_10m_spill": goal,
        "mb_per_million": {k: r["mb_per_million"] for k, r in median.items()},
        "ratio_spill_vs_memory": {
            mode: median[f"{mode}/spill"]["mb_per_million"]
            / median[f"{mode}/memory"]["mb_per_million"]
            for mode in ("feed", "socket")
        },
        "goal_met": goal <= 100,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("spill-quick.json" if args.quick else "spill.json")).write_text(
        json.dumps(result, indent=1) + "\n"
    )
    print(f"RSS growth per 10M events with spill: {goal:.0f} MB (goal <= 100): "
          f"{'met' if result['goal_met'] else 'NOT met'}")  # fmt: skip
    for k, v in result["mb_per_million"].items():
        print(f"  {k:14} {v:7.1f} MB per million events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
