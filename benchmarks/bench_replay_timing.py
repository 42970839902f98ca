"""How closely a timed replay keeps the original timing.

    python benchmarks/bench_replay_timing.py               # 20 s of a busy afternoon
    python benchmarks/bench_replay_timing.py --seconds 60

Records a live capture of the simulator (busy_afternoon, 120x, so a few dozen events per
second with real gaps between them), then replays it with ``gl.replay(DIR, speed=1)`` and
compares, event by event, when the replay delivered it with when the capture received it:

* gap error: |replayed gap - recorded gap| between consecutive events (target: max < 10 ms,
  the bound tests/test_record.py used to assert);
* lateness: how far behind its original time (from the replay's start) each event came.
  A timed replay is never early by more than the 0.5 ms it does not sleep for (the test
  checks that); this measures how late.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import guiders_lab as gl

RESULTS = Path(__file__).resolve().parent / "results"


async def record(directory: Path, seconds: float) -> None:
    with gl.launch_simulator("busy_afternoon", seed=2, speed=120) as sim:
        live = await gl.connect(sim, record_to=directory, heartbeat_interval=None)
        await asyncio.sleep(seconds)
        await live.close()


async def replay(directory: Path) -> tuple[list[float], list[float], float]:
    """(replay arrival times, recorded receive times, replay start), in seconds."""
    arrivals: list[float] = []
    session = gl.replay(directory, speed=1.0, progress=False, start=False)
    session.store.subscribe(lambda seq, name, record: arrivals.append(time.monotonic()))
    started = time.monotonic()
    session.start()
    await session.finished()
    await session.close()
    accepted = session.events.query("direction == 'in' and status == 'ok'")["received_at"]
    expected = list(accepted.astype("int64").to_numpy() / 1e6)
    assert len(arrivals) == len(expected), (len(arrivals), len(expected))
    return arrivals, expected, started


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the capture")
    parser.add_argument("--dir", default="/tmp/guiders-lab-bench-replay-timing")
    args = parser.parse_args()
    directory = Path(args.dir)
    shutil.rmtree(directory, ignore_errors=True)
    await record(directory, args.seconds)
    arrivals, expected, started = await replay(directory)
    gaps_ms = [
        1000 * abs((a2 - a1) - (e2 - e1))
        for a1, a2, e1, e2 in zip(arrivals, arrivals[1:], expected, expected[1:], strict=False)
    ]
    late_ms = [
        1000 * ((a - started) - (e - expected[0])) for a, e in zip(arrivals, expected, strict=True)
    ]
    report = {
        "events": len(arrivals),
        "span_s": expected[-1] - expected[0],
        "gap_error_median_ms": statistics.median(gaps_ms),
        "gap_error_p95_ms": quantile(gaps_ms, 0.95),
        "gap_error_p99_ms": quantile(gaps_ms, 0.99),
        "gap_error_max_ms": max(gaps_ms),
        "lateness_median_ms": statistics.median(late_ms),
        "lateness_p95_ms": quantile(late_ms, 0.95),
        "lateness_max_ms": max(late_ms),
        "earliest_ms": min(late_ms),
        "python": sys.version.split()[0],
    }
    print(f"replayed {report['events']:,} events over {report['span_s']:.1f} s at speed 1")
    print(
        f"gap error: median {report['gap_error_median_ms']:.2f} ms, p95 "
        f"{report['gap_error_p95_ms']:.2f} ms, p99 {report['gap_error_p99_ms']:.2f} ms, max "
        f"{report['gap_error_max_ms']:.2f} ms (target: max < 10 ms)"
    )
    print(
        f"lateness against the original timing: median {report['lateness_median_ms']:.2f} ms, "
        f"p95 {report['lateness_p95_ms']:.2f} ms, max {report['lateness_max_ms']:.2f} ms "
        f"(most ahead: {max(0.0, -report['earliest_ms']):.2f} ms; the replay skips sleeps "
        "under 0.5 ms)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "replay_timing.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
