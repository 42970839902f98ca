"""Hundreds of recorded sessions: ``gl.open_dataset`` with pandas, DuckDB and Dask against
one plain DuckDB query (the floor).

    python benchmarks/bench_dataset.py            # 200 sessions, >= 10M events (builds them
                                                  # once, ~3 min; then ~5 min a run)
    python benchmarks/bench_dataset.py --quick    # 20 sessions, 1M events

The sessions are real recordings the kit wrote (see ``_sessions.py``: simulated days,
copied onto other days with ids of their own, rebuilt and written by the kit), cached
under ``--data``. Each measurement runs in a fresh process (for Dask, once its
LocalCluster of 2 worker processes has started and imported the kit; that start is
reported apart), which first runs the same computation on four sessions (a notebook's
first call pays one-off costs: imports, Dask's first tasks, ~0.3 s), then times:

* ``pandas``, ``duckdb``, ``dask``: ``gl.open_dataset(sessions, engine)``, then
  ``chat_outcomes``, then ``outcome_summary(by="department")``, to a pandas result
  (``.df()``, ``.compute()``);
* ``floor``: one hand-written DuckDB SQL query computing the same by-department summary
  straight from ``read_parquet`` over the same ``chats.parquet`` files: the least any
  of them could cost.

Peak memory is the process's peak RSS plus, for Dask, its nannies' and workers' (each
process's own ``ru_maxrss``, summed: an upper bound; no sampling thread to take CPU
from the work being timed). Every
engine's result must equal the floor's (relative 1e-9), or the benchmark fails. Rounds
alternate the engines (``--rounds``, default 3; the median is reported with the ratio to
the floor's median). Then pandas and the floor run once at a few sizes (``--sizes``) to
show how pandas' time and memory grow with the data, and where a 16 GB laptop runs out.
Results go to ``benchmarks/results/dataset.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

ENGINES = ("floor", "duckdb", "dask", "pandas")
LAPTOP_GB = 16.0

FLOOR_SQL = """
SELECT department,
       count(chat_id) AS chats,
       count(closed_at) AS closed,
       count(*) FILTER (closed_at IS NOT NULL AND close_reason = 'resolved')
           / nullif(count(closed_at), 0) AS resolved_rate,
       count(*) FILTER (closed_at IS NOT NULL AND close_reason = 'abandoned')
           / nullif(count(closed_at), 0) AS abandonment_rate,
       count(*) FILTER (closed_at IS NOT NULL AND close_reason = 'timeout')
           / nullif(count(closed_at), 0) AS timeout_rate,
       count(*) FILTER (closed_at IS NOT NULL AND converted)
           / nullif(count(closed_at), 0) AS conversion_rate,
       avg(CASE WHEN escalated THEN 1.0 ELSE 0.0 END) AS escalation_rate,
       avg(epoch_us(first_assigned_at) - epoch_us(created_at)) / 1e6
           AS mean_time_to_assign_s,
       avg(epoch_us(first_response_at) - epoch_us(created_at)) / 1e6
           AS mean_time_to_first_response_s,
       avg(epoch_us(first_human_response_at) - epoch_us(created_at)) / 1e6
           AS mean_time_to_first_human_s,
       avg(epoch_us(first_ai_response_at) - epoch_us(created_at)) / 1e6
           AS mean_time_to_first_ai_s,
       avg(epoch_us(closed_at) - epoch_us(created_at)) / 1e6 AS mean_duration_s
FROM read_parquet({files})
WHERE department IS NOT NULL
GROUP BY department
ORDER BY department
"""


def _own_peak() -> tuple[int, int]:
    """(pid, peak RSS in bytes) of the calling process (Linux: ru_maxrss is in KB)."""
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakMemory:
    """Peak RSS of this process plus its children (Dask's nannies and workers), read
    without a sampling thread: each process's own peak (``ru_maxrss``; a worker's through
    ``workers_peaks``), a child that cannot say its peak counted at its RSS on exit. A sum
    of peaks is an upper bound of the peak of the sum. (Sampling five processes every
    10 ms took ~0.15 s of this machine's two cores from the work being timed.)"""

    def __init__(self, workers_peaks: Callable[[], dict[int, int]] | None = None) -> None:
        import psutil

        self.me = psutil.Process()
        self.workers_peaks = workers_peaks
        self.peak = 0

    def now(self) -> int:
        total = self.me.memory_info().rss
        for child in self.me.children(recursive=True):
            with contextlib.suppress(Exception):  # a child that ended meanwhile
                total += child.memory_info().rss
        return total

    def __enter__(self) -> PeakMemory:
        self.base = self.now()
        return self

    def __exit__(self, *exc: object) -> None:
        peaks = self.workers_peaks() if self.workers_peaks else {}
        total = _own_peak()[1]
        for child in self.me.children(recursive=True):
            with contextlib.suppress(Exception):
                total += peaks.get(child.pid) or child.memory_info().rss
        self.peak = max(total, self.base)


def summarize(engine: str, sessions: list[str]) -> Any:
    """The by-department summary of ``sessions`` by ``engine``, as a pandas frame."""
    import guiders_lab as gl
    from guiders_lab import analysis as A

    if engine == "floor":
        import duckdb

        files = "[" + ", ".join(f"'{s}/chats.parquet'" for s in sessions) + "]"
        return duckdb.connect().sql(FLOOR_SQL.format(files=files)).df().set_index("department")
    ds = gl.open_dataset(sessions, engine=engine)
    summary = A.outcome_summary(A.chat_outcomes(ds.chats), by="department")
    if engine == "duckdb":
        return summary.df().set_index("department")
    if engine == "dask":
        return summary.compute()
    return summary


def work(engine: str, sessions: list[str]) -> dict[str, Any]:
    """One measurement, in this (fresh) process; the result frame as JSON."""
    import pandas as pd

    cluster_s = None
    workers_peaks = None
    if engine == "dask":
        import dask.dataframe  # noqa: F401  (imported before the clock, as the others)
        from dask.distributed import Client, LocalCluster

        started = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
        client.wait_for_workers(2)
        # the workers import the kit before the clock too, as the other engines' processes
        client.run(lambda: __import__("guiders_lab.dataset"))
        cluster_s = time.perf_counter() - started

        def workers_peaks() -> dict[int, int]:
            return dict(client.run(_own_peak).values())

    summarize(engine, sessions[:4])  # warm: a first call pays one-off costs (on every worker)
    with PeakMemory(workers_peaks) as memory:
        started = time.perf_counter()
        result = summarize(engine, sessions)
        seconds = time.perf_counter() - started
    if engine == "dask":
        client.close()
        cluster.close()
    frame: pd.DataFrame = result.sort_index()
    return {
        "engine": engine,
        "sessions": len(sessions),
        "seconds": seconds,
        "peak_rss_mb": memory.peak / 2**20,
        "base_rss_mb": memory.base / 2**20,
        "cluster_start_s": cluster_s,
        "result": frame.to_json(orient="split", double_precision=15),
    }


def measure(engine: str, sessions: list[Path]) -> dict[str, Any]:
    """:func:`work` in a fresh process, under ``nice`` (others share this machine)."""
    listing = HERE / "results" / f".sessions-{os.getpid()}.txt"
    listing.write_text("\n".join(map(str, sessions)))
    try:
        done = subprocess.run(
            ["nice", sys.executable, __file__, "--worker", engine, "--listing", str(listing)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
    finally:
        listing.unlink()
    if done.returncode != 0:
        raise RuntimeError(f"{engine} failed:\n{done.stderr[-3000:]}")
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def same_as_floor(got: dict[str, Any], floor: dict[str, Any]) -> None:
    import io

    import pandas as pd

    a = pd.read_json(io.StringIO(got["result"]), orient="split")
    b = pd.read_json(io.StringIO(floor["result"]), orient="split")
    try:
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=1e-9)
    except AssertionError as exc:
        raise SystemExit(f"{got['engine']} differs from the floor:\n{exc}") from None


def main() -> int:
    from _sessions import DEFAULT_DATA, build_sessions

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 sessions, 1M events")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sizes", default="25,50,100", help="session counts for the sweep")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--listing", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sessions = args.listing.read_text().split("\n")
        print(json.dumps(work(args.worker, sessions)))
        return 0

    n_sessions, n_events = (20, 1_000_000) if args.quick else (200, 10_000_000)
    started = time.perf_counter()
    folder = build_sessions(n_sessions, n_events, args.data)
    built = json.loads((folder.parent / "READY.json").read_text())
    print(
        f"{n_sessions} sessions, {built['events']:,} events in {folder} "
        f"(ready in {time.perf_counter() - started:.0f} s)"
    )
    sessions = sorted(p for p in folder.iterdir() if (p / "manifest.json").exists())
    manifests = [json.loads((s / "manifest.json").read_text()) for s in sessions]
    chats_rows = sum(m["tables"]["chats"] for m in manifests)
    chats_bytes = sum((s / "chats.parquet").stat().st_size for s in sessions)
    engines = args.engines.split(",")

    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
    for round_ in range(args.rounds):
        order = engines[round_ % len(engines) :] + engines[: round_ % len(engines)]
        for engine in order:
            run = measure(engine, sessions)
            runs[engine].append(run)
            print(
                f"round {round_ + 1} {engine:7s} {run['seconds']:7.2f} s "
                f"peak {run['peak_rss_mb']:7.0f} MB (at start {run['base_rss_mb']:.0f})"
            )
        for engine in engines:
            if "floor" in runs and engine != "floor":
                same_as_floor(runs[engine][-1], runs["floor"][-1])

    def median(engine: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[engine])

    figures: dict[str, Any] = {}
    for engine in engines:
        figures[engine] = {
            "seconds": median(engine, "seconds"),
            "seconds_all": [round(r["seconds"], 3) for r in runs[engine]],
            "peak_rss_mb": median(engine, "peak_rss_mb"),
            "base_rss_mb": median(engine, "base_rss_mb"),
        }
        if engine == "dask":
            figures[engine]["cluster_start_s"] = median(engine, "cluster_start_s")
        if "floor" in runs:
            figures[engine]["time_ratio"] = figures[engine]["seconds"] / median("floor", "seconds")
            figures[engine]["memory_ratio"] = figures[engine]["peak_rss_mb"] / median(
                "floor", "peak_rss_mb"
            )

    sweep = []
    if "pandas" in engines and "floor" in engines:
        sizes = [int(s) for s in args.sizes.split(",") if int(s) < len(sessions)]
        for size in sizes:
            subset = sessions[:size]
            p, f = measure("pandas", subset), measure("floor", subset)
            same_as_floor(p, f)
            sweep.append(_point(subset, p, f))
        sweep.append(
            _point(
                sessions,
                {
                    "seconds": figures["pandas"]["seconds"],
                    "peak_rss_mb": figures["pandas"]["peak_rss_mb"],
                    "base_rss_mb": figures["pandas"]["base_rss_mb"],
                },
                {"seconds": figures["floor"]["seconds"]},
            )
        )
        for point in sweep:
            print(
                f"pandas at {point['sessions']:3d} sessions ({point['events']:,} events, "
                f"{point['chats']:,} chats): {point['seconds']:.2f} s "
                f"(floor {point['floor_seconds']:.2f} s), peak {point['peak_rss_mb']:.0f} MB"
            )
    report = {
        "benchmark": "dataset",
        "sessions": n_sessions,
        "events": built["events"],
        "chats": chats_rows,
        "chats_parquet_mb": chats_bytes / 2**20,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "engines": figures,
        "pandas_sweep": sweep,
        "pandas_limit": _limit(sweep) if len(sweep) >= 2 else None,
        "generation": built,
    }
    for engine, fig in figures.items():
        if engine != "floor" and "time_ratio" in fig:
            print(
                f"{engine:7s} {fig['seconds']:6.2f} s ({fig['time_ratio']:.2f}x the floor), "
                f"peak {fig['peak_rss_mb']:.0f} MB ({fig['memory_ratio']:.2f}x)"
            )
    if report["pandas_limit"]:
        print(json.dumps(report["pandas_limit"], indent=2))
    name = "dataset_quick.json" if args.quick else "dataset.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _point(
    subset: list[Path], pandas_run: dict[str, Any], floor_run: dict[str, Any]
) -> dict[str, Any]:
    manifests = [json.loads((s / "manifest.json").read_text()) for s in subset]
    return {
        "sessions": len(subset),
        "events": sum(m["n_events"] for m in manifests),
        "chats": sum(m["tables"]["chats"] for m in manifests),
        "seconds": pandas_run["seconds"],
        "peak_rss_mb": pandas_run["peak_rss_mb"],
        "base_rss_mb": pandas_run["base_rss_mb"],
        "floor_seconds": floor_run["seconds"],
    }


def _limit(sweep: list[dict[str, Any]]) -> dict[str, Any]:
    """Least squares lines through pandas' peak memory and time against chats: where the
    peak reaches a 16 GB laptop, and how long that run would take."""
    import numpy as np

    chats = np.array([p["chats"] for p in sweep], dtype=float)
    per_session = chats[-1] / sweep[-1]["sessions"]
    events_per_chat = sweep[-1]["events"] / chats[-1]
    mb_slope, mb_base = np.polyfit(chats, [p["peak_rss_mb"] for p in sweep], 1)
    s_slope, s_base = np.polyfit(chats, [p["seconds"] for p in sweep], 1)
    limit_chats = (LAPTOP_GB * 1024 - mb_base) / mb_slope
    return {
        "peak_mb_per_1k_chats": mb_slope * 1000,
        "seconds_per_1k_chats": s_slope * 1000,
        "fixed_peak_mb": mb_base,
        "laptop_gb": LAPTOP_GB,
        "chats_at_laptop_limit": limit_chats,
        "sessions_at_laptop_limit": limit_chats / per_session,
        "events_at_laptop_limit": limit_chats * events_per_chat,
        "seconds_at_laptop_limit": s_base + s_slope * limit_chats,
    }


if __name__ == "__main__":
    sys.exit(main())
