"""Recordings at scale: load from Parquet, rebuild from the journal, replay flat out.

    python benchmarks/bench_recording.py               # 1,000,000 events (about 3 minutes)
    python benchmarks/bench_recording.py --events 200000

Builds a recording of simulated traffic (the simulator's engine, many visitors, no
sockets: this measures the recording path, not the network), then times, in each of three
rounds (``--rounds``; the median is reported, with the range):

* ``gl.load(DIR)`` plus building every table as a DataFrame (target <= 3 s for 1M events);
* rebuilding every table from ``events.jsonl`` (target >= 200k events/s);
* ``gl.replay(DIR, speed=inf)`` into the tables (target >= 150k events/s).

Baselines in the same run, since machines differ and this one is noisy: parsing every
journal line into Python objects with orjson and nothing else (what any reader of the
file pays at least; once per round, so each round's rebuild has its own ratio), and the
line-by-line rebuild (``bulk=False``, the reference the bulk path is tested against)
against the bulk one on the first 100,000 lines (best of two each). The CPU time of the
rebuild, all threads included, gives the most any scheduling could reach with every core
busy.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

import guiders_lab as gl
from guiders_lab.record.journal import JOURNAL_NAME
from guiders_lab.record.load import rebuild
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


def cpu_ticks() -> tuple[int, int] | None:
    """(stolen, total) CPU ticks of the whole machine so far (Linux), to tell how much
    of it the hypervisor took from this VM during a measurement."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def stolen_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


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


def orjson_lines_per_s(journal: Path) -> float:
    """Baseline: every line parsed into Python objects, nothing kept."""
    loads = orjson.loads
    with open(journal, "rb") as f:
        started = time.perf_counter()
        n = sum(1 for line in f if loads(line) is not None)
    return n / (time.perf_counter() - started)


def line_by_line_vs_bulk(directory: Path, lines: int = 100_000) -> tuple[float, float]:
    """(line-by-line, bulk) rebuild rates on the journal's first ``lines`` lines."""
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "head"
        head.mkdir()
        shutil.copy(directory / "manifest.json", head)
        with open(directory / JOURNAL_NAME, "rb") as src, open(head / JOURNAL_NAME, "wb") as out:
            out.writelines(itertools.islice(src, lines))
        best = {False: 0.0, True: 0.0}
        for bulk in (False, True, False, True):  # interleaved, best of two: a noisy machine
            started = time.perf_counter()
            rebuild(head, bulk=bulk)
            best[bulk] = max(best[bulk], lines / (time.perf_counter() - started))
    return best[False], best[True]


def measure_round(directory: Path, n: int) -> dict:
    """One round of every measurement, the orjson baseline included (the machine's speed
    drifts between rounds, so each round's ratio is taken in that round)."""
    rec, load_s = timed(load_all_tables, directory)
    loaded_rows = len(rec.events)
    del rec
    cpu0, ticks0 = time.process_time(), cpu_ticks()
    rebuilt, rebuild_s = timed(gl.load, directory, rebuild_tables=True)
    rebuild_cpu_s = time.process_time() - cpu0
    stolen = stolen_share(ticks0, cpu_ticks())
    rebuilt_rows = len(rebuilt.events)
    del rebuilt
    session, replay_s = timed(asyncio.run, replay_flat_out(directory))
    assert loaded_rows == rebuilt_rows == len(session.events) == n
    del session
    orjson_rate = orjson_lines_per_s(directory / JOURNAL_NAME)
    return {
        "load_all_tables_s": load_s,
        "rebuild_events_per_s": n / rebuild_s,
        "replay_inf_events_per_s": n / replay_s,
        "rebuild_cpu_us_per_event": 1e6 * rebuild_cpu_s / n,
        "orjson_lines_per_s": orjson_rate,
        "rebuild_vs_orjson_parse": (n / rebuild_s) / orjson_rate,
        "stolen": stolen,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp/guiders-lab-bench-recording")
    parser.add_argument("--keep", action="store_true", help="reuse an existing recording")
    parser.add_argument("--rounds", type=int, default=3, help="report the median of these")
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

    rounds = [measure_round(directory, n) for _ in range(args.rounds)]
    one_by_one, bulk_head = line_by_line_vs_bulk(directory)
    cores = os.cpu_count() or 1

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    def spread(key: str) -> list[float]:
        values = [r[key] for r in rounds]
        return [min(values), max(values)]

    rebuild_rate, cpu_us = median("rebuild_events_per_s"), median("rebuild_cpu_us_per_event")
    report = {
        "events": n,
        "rounds": len(rounds),
        "load_all_tables_s": median("load_all_tables_s"),
        "rebuild_events_per_s": rebuild_rate,
        "replay_inf_events_per_s": median("replay_inf_events_per_s"),
        "rebuild_cpu_us_per_event": cpu_us,
        "rebuild_ceiling_events_per_s": cores * 1e6 / cpu_us,
        "baseline_orjson_lines_per_s": median("orjson_lines_per_s"),
        "rebuild_vs_orjson_parse": median("rebuild_vs_orjson_parse"),
        "line_by_line_rebuild_events_per_s": one_by_one,
        "bulk_vs_line_by_line_100k": bulk_head / one_by_one,
        "cores": cores,
        "rebuild_cpu_stolen_share": max(
            (r["stolen"] for r in rounds if r["stolen"] is not None), default=None
        ),
        "range": {key: spread(key) for key in rounds[0] if key != "stolen"},
        "each_round": rounds,
        "disk_mb": size / 1e6,
        "python": sys.version.split()[0],
    }
    span = report["range"]

    def rate_range(key: str) -> str:
        low, high = span[key]
        return f"{low / 1000:,.0f}k-{high / 1000:,.0f}k"

    print(f"median of {len(rounds)} rounds (range in brackets):")
    print(
        f"load from Parquet into all tables: {report['load_all_tables_s']:.2f} s "
        f"[{span['load_all_tables_s'][0]:.2f}-{span['load_all_tables_s'][1]:.2f}]  "
        "(target <= 3 s for 1M events)"
    )
    print(
        f"rebuild from events.jsonl: {rebuild_rate:,.0f} events/s "
        f"[{rate_range('rebuild_events_per_s')}]  (target >= 200k/s)"
    )
    print(
        f"replay at speed=inf: {report['replay_inf_events_per_s']:,.0f} events/s "
        f"[{rate_range('replay_inf_events_per_s')}]  (target >= 150k/s)"
    )
    print(
        f"baselines: orjson parses {report['baseline_orjson_lines_per_s']:,.0f} lines/s "
        f"[{rate_range('orjson_lines_per_s')}] (rebuild is "
        f"{report['rebuild_vs_orjson_parse']:.2f}x that, in the same round); line-by-line "
        f"rebuild {one_by_one:,.0f} events/s (bulk is {report['bulk_vs_line_by_line_100k']:.1f}x)"
    )
    print(
        f"rebuild CPU: {cpu_us:.1f} us/event over all threads: at most "
        f"{report['rebuild_ceiling_events_per_s']:,.0f} events/s with {cores} cores busy"
    )
    stolen = report["rebuild_cpu_stolen_share"]
    if stolen is not None:
        print(
            f"CPU time the hypervisor took from this machine during a rebuild: at most {stolen:.0%}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "recording.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
