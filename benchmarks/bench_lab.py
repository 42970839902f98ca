"""The variant lab's own cost, and how well concurrency hides a slow model.

    python benchmarks/bench_lab.py

* overhead per call with an instant model (target <= 200 µs), without scorers and with the
  default ones;
* 200 calls to a model that sleeps 50 ms: 8-way concurrency against sequential calls
  (target >= 7x the throughput);
* an interrupted run: 60 calls to the 50 ms model, 2 at a time, cancelled after 0.3 s:
  how many finished (12 at best) and how long the cancelled run took to hand back its
  results (the test checks the behaviour at a known point; this is the timing).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

import guiders_lab as gl
from guiders_lab.models import Reply

RESULTS = Path(__file__).resolve().parent / "results"


class Instant:
    name = "instant"

    async def reply(self, prompt, context=None):
        return Reply("ok", self.name, 1.0, 0.0, 1, 1, False, 0.0)


class Sleepy:
    name = "sleepy"

    async def reply(self, prompt, context=None):
        await asyncio.sleep(0.05)
        return Reply("ok", self.name, 1.0, 50.0, 1, 1, False, 0.0)


def inputs(n: int) -> pd.DataFrame:
    frame = gl.lab.inputs.prepare(pd.DataFrame({"content": ["¿Cuánto tarda el envío?"] * n}))
    return frame


async def per_call(n: int, scorers: list | None) -> float:
    frame = inputs(n)
    variants = gl.lab.grid("{content}", Instant())
    started = time.perf_counter()
    await gl.lab.run(variants, frame, scorers=scorers, progress=False)
    return (time.perf_counter() - started) / n * 1e6


async def throughput(concurrency: int, n: int = 200) -> float:
    frame = inputs(n)
    started = time.perf_counter()
    await gl.lab.run(
        gl.lab.grid("{content}", Sleepy()),
        frame,
        scorers=[],
        concurrency=concurrency,
        progress=False,
    )
    return n / (time.perf_counter() - started)


async def interrupted(after: float = 0.3) -> tuple[int, float]:
    """(calls finished, ms from the cancel to the results) for a run cancelled mid-way."""
    task = asyncio.ensure_future(
        gl.lab.run(
            gl.lab.grid("{content}", Sleepy()),
            inputs(60),
            scorers=[],
            concurrency=2,
            progress=False,
        )
    )
    await asyncio.sleep(after)
    task.cancel()
    cancelled = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "variant run interrupted": expected here
        results = await task
    return len(results), (time.perf_counter() - cancelled) * 1000


async def main() -> int:
    bare = await per_call(20_000, scorers=[])
    scored = await per_call(5_000, scorers=None)
    sequential = await throughput(1, n=60)
    parallel = await throughput(8, n=200)
    finished, cancel_ms = await interrupted()
    report = {
        "overhead_us_per_call": bare,
        "overhead_us_per_call_default_scorers": scored,
        "sleepy_calls_per_s_sequential": sequential,
        "sleepy_calls_per_s_concurrency_8": parallel,
        "speedup": parallel / sequential,
        "interrupted_after_0_3s_finished_of_60": finished,
        "interrupted_results_ms_after_cancel": cancel_ms,
    }
    print(
        f"lab overhead per call (instant model): {bare:.0f} µs without scorers, "
        f"{scored:.0f} µs with the default scorers (target <= 200 µs)"
    )
    print(
        f"50 ms model: {sequential:.1f} calls/s sequential, {parallel:.1f} calls/s with "
        f"8-way concurrency -> {report['speedup']:.1f}x (target >= 7x)"
    )
    print(
        f"interrupted after 0.3 s (50 ms model, 2 at a time): {finished} of 60 calls kept "
        f"(12 at best), results {cancel_ms:.1f} ms after the cancel"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lab.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
