"""Recordings at scale: load from Parquet, rebuild from the journal, replay flat out.

    python benchmarks/bench_recording.py               # 1,000,000 events (about 3 minutes)
    python benchmarks/bench_recording.py --events 200000

Builds a recording of simulated traffic (the simulator's engine, many visitors, no
sockets: this measures the recording path, not the network), then times:

* ``gl.load(DIR)`` plus building every table as a DataFrame (target <= 3 s for 1M events);
* rebuilding every table from ``events.jsonl`` (target >= 200k events/s);
* ``gl.replay(DIR, speed=inf)`` into the tables (target >= 150k events/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import guiders_lab as gl
from guiders_lab.record.recorder import Recorder
from guiders_lab.record.tables_io import TABLE_NAMES
from guiders_lab.sim import Simulation, get_scenario
from guiders_lab.sim.engine import ACCOUNT_ROOM

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def build_recording(directory: Path, n_events: int) -> int:
    """Record ``n_events`` account events of a very busy simulated account."""
    store = gl.Store()
    recorder = Recorder(directory, overwrite=True)
    recorder.start(store, "simulated://benchmark", source="simulator")
    scenario = get_scenario("busy_afternoon").with_(visitors_per_hour=4000.0, hours=24 * 14)
    clock = [datetime(2025, 1, 15, 9, tzinfo=UTC).timestamp()]
    seq = [0]

    def emit(event: str, payload: dict, room: str) -> None:
        if room == ACCOUNT_ROOM and seq[0] < n_events:
            seq[0] += 1
            clock[0] += 0.005
            store.ingest(
                event, (payload, {"seq": seq[0], "serverTime": clock[0] * 1000}), clock[0] + 0.001
            )

    sim = Simulation(scenario, 7, datetime(2025, 1, 15, 9, tzinfo=UTC), emit)
    sim.begin()
    horizon = 0.0
    while seq[0] < n_events and sim.next_time() is not None:
        horizon += 600.0
        sim.run_until(horizon)
    recorder.finish(store)
    return seq[0]


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def load_all_tables(directory: Path) -> gl.Recording:
    rec = gl.load(directory)
    for name in TABLE_NAMES:
        rec.table(name)
    return rec


async def replay_flat_out(directory: Path) -> gl.ReplaySession:
    session = gl.replay(directory, speed=math.inf, progress=False)
    await session.finished()
    await session.close()
    return session


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp/guiders-lab-bench-recording")
    parser.add_argument("--keep", action="store_true", help="reuse an existing recording")
    args = parser.parse_args()
    directory = Path(args.dir)
    if not (args.keep and (directory / "manifest.json").exists()):
        shutil.rmtree(directory, ignore_errors=True)
        n, seconds = timed(build_recording, directory, args.events)
        print(f"built a recording of {n:,} events in {seconds:.1f} s")
    manifest = json.loads((directory / "manifest.json").read_text())
    n = manifest["journal_lines"]
    size = sum(p.stat().st_size for p in directory.iterdir())
    print(f"recording: {n:,} journal lines, {size / 1e6:.0f} MB on disk")

    rec, load_s = timed(load_all_tables, directory)
    rebuilt, rebuild_s = timed(gl.load, directory, rebuild_tables=True)
    session, replay_s = timed(asyncio.run, replay_flat_out(directory))
    assert len(rec.events) == len(rebuilt.events) == len(session.events)
    report = {
        "events": n,
        "load_all_tables_s": load_s,
        "rebuild_events_per_s": n / rebuild_s,
        "replay_inf_events_per_s": n / replay_s,
        "disk_mb": size / 1e6,
        "python": sys.version.split()[0],
    }
    print(f"load from Parquet into all tables: {load_s:.2f} s  (target <= 3 s for 1M events)")
    print(
        f"rebuild from events.jsonl: {report['rebuild_events_per_s']:,.0f} events/s  "
        "(target >= 200k/s)"
    )
    print(
        f"replay at speed=inf: {report['replay_inf_events_per_s']:,.0f} events/s  "
        "(target >= 150k/s)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "recording.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
