"""Hundreds of recorded sessions for ``bench_dataset.py``, built fast and honestly.

    python benchmarks/_sessions.py --sessions 200 --events 10000000   # prints where

Recording 10M events through the simulator and a socket would take about 35 minutes here
(~5k events/s). Instead:

1. a few simulated days are recorded for real (``record_sample``: the simulator on
   loopback, ``gl.connect`` recording them; ``busy_afternoon``, ``demo`` and
   ``quiet_morning``, 8 hours each, one seed apiece; about 15 s);
2. each session's journal chains copies of those days, each copy on a day of its own
   with ids of its own: chat, message and visitor ids get a tag per copy, every date in
   the payloads and the receive and server times move by whole days, server sequence
   numbers continue from copy to copy (the commercials stay the same people); a session
   is as many consecutive days as it takes to reach its share of the events;
3. the kit's own bulk rebuild (``rebuild``, what ``gl.load`` does after a crash) derives
   every table from that journal and the kit's own writer (``write_tables``) writes them,
   with a complete manifest as the recorder's close writes it.

So every table and manifest is one the kit wrote from a journal of real simulated
traffic; only the journal's days are copies. The result is cached under ``--data``
(``READY.json`` marks a finished set; a rerun with the same sizes skips all of it, and an
interrupted run resumes at the first session without a complete manifest).

Time on this 2-core VM (shared, loaded): 200 sessions / 12.5M events (each session whole
days until it has 50,000 events or more: 50k-68k; 4.4 GB of journals, 0.9 GB of Parquet)
took 2.6 minutes, two sessions at a time; --quick's 20 sessions about 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guiders_lab.record.load import rebuild  # noqa: E402
from guiders_lab.record.manifest import Manifest  # noqa: E402
from guiders_lab.record.tables_io import write_tables  # noqa: E402
from guiders_lab.store import Store  # noqa: E402

__all__ = ["DEFAULT_DATA", "SEEDS", "build_sessions"]

DEFAULT_DATA = Path("/tmp/guiders-lab-bench-dataset")
VERSION = 1  # of the recipe: a change gives a new cache directory
SEEDS = (("busy_afternoon", 1), ("demo", 2), ("busy_afternoon", 3), ("quiet_morning", 4))
FIRST_DAY = date(2024, 1, 1)
ID_PREFIXES = (b'"chat-', b'"msg-', b'"visitor-')
_DATE = re.compile(rb'"(\d{4}-\d\d-\d\d)T')
_HEAD = re.compile(rb'^\{"seq":(\d+),"t":([0-9.e+-]+),', re.MULTILINE)
_TAIL = re.compile(rb'"serverTime":([0-9.e+-]+),"seq":(\d+)\}\}$', re.MULTILINE)


def record_seeds(directory: Path) -> list[Path]:
    """Record the seed days with the simulator (skipped when already recorded)."""
    from guiders_lab.sample import record_sample

    paths = []
    for scenario, seed in SEEDS:
        path = directory / f"{scenario}-{seed}"
        if not (path / "manifest.json").exists() or not Manifest.read(path).complete:
            asyncio.run(record_sample(path, seed=seed, hours=8.0, scenario=scenario))
        paths.append(path)
    return paths


def _shift_day(raw: bytes, days: int) -> bytes:
    for found in set(_DATE.findall(raw)):
        moved = date.fromisoformat(found.decode()) + timedelta(days=days)
        raw = raw.replace(b'"' + found + b"T", b'"' + moved.isoformat().encode() + b"T")
    return raw


def rewrite_day(raw: bytes, tag: str, days: int, seq_offset: int) -> bytes:
    """One seed day's journal as another day: its ids tagged, its dates and times moved
    by ``days``, its sequence numbers moved by ``seq_offset``."""
    for prefix in ID_PREFIXES:
        raw = raw.replace(prefix, prefix + tag.encode() + b"-")
    raw = _shift_day(raw, days)
    shift = days * 86_400.0  # receive times in s, server times in ms

    def head(m: re.Match[bytes]) -> bytes:
        seq, t = int(m[1]) + seq_offset, float(m[2]) + shift
        return b'{"seq":%d,"t":%r,' % (seq, t)

    def tail(m: re.Match[bytes]) -> bytes:
        server, seq = float(m[1]) + shift * 1000, int(m[2]) + seq_offset
        return b'"serverTime":%r,"seq":%d}}' % (server, seq)

    return _TAIL.sub(tail, _HEAD.sub(head, raw))


def _seed_day(path: Path) -> tuple[bytes, int, date, str]:
    raw = (path / "events.jsonl").read_bytes()
    days = sorted(set(_DATE.findall(raw)))
    return raw, raw.count(b"\n"), date.fromisoformat(days[0].decode()), Manifest.read(path).dialect


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_session(out: Path, index: int, seeds: list[Path], target: int, first_day: int) -> int:
    """Build session ``index`` (journal, tables, manifest) in ``out``; returns its events."""
    loaded = [_seed_day(p) for p in seeds]
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    lines = seq = copy = 0
    used = []
    with open(staging / "events.jsonl", "wb") as journal:
        while lines < target:
            raw, n, day, dialect = loaded[(index + copy) % len(loaded)]
            on = FIRST_DAY + timedelta(days=first_day + copy)
            journal.write(rewrite_day(raw, f"s{index:03d}d{copy}", (on - day).days, seq))
            used.append(seeds[(index + copy) % len(loaded)].name)
            lines, seq, copy = lines + n, seq + n, copy + 1
    store = rebuild(staging, Store(dialect, simulated_clock=True))
    times = store.tables["events"].to_arrow(columns=["received_at"]).column(0)
    manifest = Manifest(
        dialect=dialect,
        server_url="simulator (seed days rewritten by benchmarks/_sessions.py)",
        started_at=_iso(times[0].as_py().timestamp()),
        ended_at=_iso(times[-1].as_py().timestamp()),
        complete=True,
        source="simulator",
        simulated_clock=True,
        event_counts=dict(store.counts),
        n_events=len(store),
        journal_lines=lines,
        extra={"generated_from": used, "recipe_version": VERSION},
    )
    manifest.tables = write_tables(store, staging, manifest)
    manifest.write(staging)
    if manifest.tables["events"] != lines:
        raise RuntimeError(f"{out}: {lines} journal lines but {manifest.tables['events']} events")
    shutil.rmtree(out, ignore_errors=True)
    os.rename(staging, out)
    return lines


def _complete(path: Path) -> int | None:
    try:
        manifest = Manifest.read(path)
    except Exception:
        return None
    return manifest.n_events if manifest.complete else None


def build_sessions(
    n_sessions: int = 200, total_events: int = 10_000_000, data: Path = DEFAULT_DATA
) -> Path:
    """The folder of ``n_sessions`` sessions with at least ``total_events`` events in all,
    built if not cached; returns it."""
    root = Path(data) / f"v{VERSION}-{n_sessions}x{total_events}"
    ready = root / "READY.json"
    if ready.exists():
        return root / "sessions"
    seeds = record_seeds(Path(data) / "seeds")
    per_session = math.ceil(total_events / n_sessions)
    day_counts = [_seed_day(s)[1] for s in seeds]
    days = math.ceil(per_session / min(day_counts)) + 1  # days per session at most
    started = time.perf_counter()
    counts: dict[int, int] = {}
    # a fresh pair of workers every 20 sessions: a worker's memory grew by ~60 MB a session
    # (rebuilding and writing in a loop), 6.5 GB each by the 200th. (Not
    # max_tasks_per_child: on Python 3.11 the pool hung when it replaced its workers.)
    spawn = multiprocessing.get_context("spawn")
    todo = []
    for i in range(n_sessions):
        out = root / "sessions" / f"session-{i:03d}"
        done = _complete(out)
        if done is None:
            todo.append((i, out))
        else:
            counts[i] = done
    for start in range(0, len(todo), 20):
        with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
            futures = {
                i: pool.submit(build_session, out, i, seeds, per_session, i * days)
                for i, out in todo[start : start + 20]
            }
            for i, future in futures.items():
                counts[i] = future.result()
                print(f"\r{len(counts)}/{n_sessions} sessions", end="", file=sys.stderr)
    print(file=sys.stderr)
    summary = {
        "sessions": n_sessions,
        "events": sum(counts.values()),
        "seeds": [s.name for s in seeds],
        "build_s": round(time.perf_counter() - started, 1),
    }
    ready.write_text(json.dumps(summary, indent=2) + "\n")
    return root / "sessions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    print(build_sessions(args.sessions, args.events, args.data))


if __name__ == "__main__":
    main()
