"""Crash safety of recordings: ``guiders-lab record`` SIGKILLed at random points, 20 times.

Each run is a real recorder process on a real simulator. It acknowledges what it has handed
to the OS (``--progress`` prints ``flushed LINES LAST_SEQ`` after each flush); after the
kill, the directory must load and hold every acknowledged event. Kill points are seeded:
while Python starts, right as the directory and manifest appear, mid-stream, and around the
clean close (journal closed, Parquet tables and final manifest being written).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import guiders_lab as gl
from guiders_lab.record.journal import JOURNAL_NAME
from guiders_lab.record.tables_io import TABLE_NAMES

SEED = 20251126
RUNS = 20
TOKEN = "crash-token"
MODES = ("starting", "publishing", "streaming", "streaming", "closing")
KNOWN_WARNINGS = ("did not finish cleanly", "truncated", "unreadable tables")
_FLUSHED = re.compile(r"^flushed (\d+) (\d+)$")


@dataclass
class Run:
    index: int
    mode: str
    delay: float
    out: Path
    acks: list[tuple[int, int]] = field(default_factory=list)  # (lines, last seq), in order
    first_ack: threading.Event = field(default_factory=threading.Event)
    returncode: int | None = None
    stderr: str = ""
    how: str = "no directory"
    events: int = 0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"run {self.index} ({self.mode}, delay {self.delay:.3f} s, seed {SEED}): "
            f"rc={self.returncode} acks={self.acks[-1:] or 'none'} {self.how} "
            f"events={self.events} warnings={self.warnings} stderr={self.stderr[-800:]!r}"
        )


def _read_acks(proc: subprocess.Popen, run: Run) -> None:
    for line in proc.stdout:
        match = _FLUSHED.match(line.strip())
        if match:
            run.acks.append((int(match.group(1)), int(match.group(2))))
            run.first_ack.set()


def _wait_for_directory(run: Run, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Until the recorder creates its directory (or the staging one it renames into place)."""
    parent = run.out.parent
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if any(True for _ in os.scandir(parent)):
            return
        time.sleep(0.0005)


def _record_and_kill(url: str, run: Run) -> Run:
    command = [sys.executable, "-m", "guiders_lab.cli", "record", url]
    command += ["--token-env", "CRASH_TOKEN", "--out", str(run.out), "--progress"]
    if run.mode == "closing":
        command += ["--seconds", "0.6"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CRASH_TOKEN": TOKEN},
    )
    reader = threading.Thread(target=_read_acks, args=(proc, run), daemon=True)
    reader.start()
    try:
        if run.mode == "publishing":
            _wait_for_directory(run, proc)
        elif run.mode in ("streaming", "closing"):
            run.first_ack.wait(30)  # checked in _check: these modes must have acks
        time.sleep(run.delay)
        proc.send_signal(signal.SIGKILL)  # a no-op if it already exited cleanly
    finally:
        if proc.poll() is None:
            proc.kill()
        run.returncode = proc.wait(30)
        reader.join(30)
        run.stderr = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    return run


def _check(run: Run) -> None:
    """The directory loads, every table builds, and no acknowledged event is missing."""
    assert run.returncode in (0, -signal.SIGKILL), str(run)
    assert run.acks or run.mode not in ("streaming", "closing"), str(run)
    leftovers = {p.name for p in run.out.parent.iterdir()} - {run.out.name}
    assert all(n.startswith(f".{run.out.name}.") for n in leftovers), (leftovers, str(run))
    if not run.out.exists():  # killed before the recorder published its directory
        assert not run.acks, str(run)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = gl.load(run.out)
        tables = {name: rec.table(name) for name in TABLE_NAMES}
        assert isinstance(rec.metrics(), dict)
    run.warnings = [str(w.message) for w in caught if issubclass(w.category, gl.RecordingWarning)]
    for text in run.warnings:
        assert any(known in text for known in KNOWN_WARNINGS), (text, str(run))
    run.how, run.events = rec.how, len(tables["events"])
    assert rec.how == ("loaded" if rec.manifest.complete else "rebuilt"), str(run)
    seqs = tables["events"]["seq"].tolist()
    assert seqs == list(range(1, len(seqs) + 1)), str(run)  # in order, no hole
    if run.acks:
        lines, last_seq = run.acks[-1]
        assert lines == max(n for n, _ in run.acks), str(run)  # acks only grow
        assert len(seqs) >= last_seq, str(run)
        assert len(seqs) + len(tables["actions"]) >= lines, str(run)
    if run.returncode == 0:
        assert rec.manifest.complete and rec.how == "loaded", str(run)


def _plan(tmp_path: Path) -> list[Run]:
    rng = random.Random(SEED)
    modes = [MODES[i % len(MODES)] for i in range(RUNS)]
    rng.shuffle(modes)
    delays = {
        "starting": lambda: rng.uniform(0.0, 3.0),  # interpreter, imports, connect, 1st events
        # on seeing the directory (or its staging twin): while the manifest goes in, or after
        # it is published but before the first flush
        "publishing": lambda: rng.choice([0.0, rng.uniform(0.0, 0.01), rng.uniform(0.0, 0.6)]),
        "streaming": lambda: rng.uniform(0.0, 1.5),  # after the first acknowledged flush
        "closing": lambda: rng.uniform(0.0, 1.0),  # around the clean close after 0.6 s
    }
    runs = []
    for i, mode in enumerate(modes):
        (tmp_path / f"run{i:02d}").mkdir()
        runs.append(Run(i, mode, delays[mode](), tmp_path / f"run{i:02d}" / "rec"))
    return runs


async def test_sigkill_at_random_points_never_loses_an_acknowledged_event(
    tmp_path: Path,
) -> None:
    runs = _plan(tmp_path)
    with gl.launch_simulator("demo", seed=4, speed=300, tokens=TOKEN) as sim:
        flood = asyncio.ensure_future(sim.aflood(1_000_000, rate=150))  # a steady stream
        try:
            with ThreadPoolExecutor(2) as pool:  # two recorders at a time: 2 cores
                done = await asyncio.gather(
                    *(
                        asyncio.wrap_future(pool.submit(_record_and_kill, sim.url, run))
                        for run in runs
                    )
                )
        finally:
            flood.cancel()
    for run in done:
        _check(run)
    killed = [r for r in done if r.returncode == -signal.SIGKILL]
    assert len(killed) >= RUNS // 2, [str(r) for r in done]
    assert sum(1 for r in killed if r.acks) >= 8, [str(r) for r in done]  # mid-stream kills

    # A line torn by the kill is skipped with the reason, and nothing before it is lost.
    source = max(killed, key=lambda r: r.events)
    torn = tmp_path / "torn"
    shutil.copytree(source.out, torn)
    with (torn / JOURNAL_NAME).open("ab") as journal:
        journal.write(b'{"seq":999999,"t":1.0,"dir":"in","name":"message:new","payl')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = gl.load(torn, rebuild_tables=True)
    assert any("last line is truncated" in str(w.message) for w in caught)
    assert len(rec.events) == source.events


def test_journal_acknowledges_only_lines_the_os_has(tmp_path: Path) -> None:
    from guiders_lab.record.journal import Journal

    def on_disk() -> int:
        return (tmp_path / JOURNAL_NAME).read_bytes().count(b"\n")

    acks: list[tuple[int, int | None, int]] = []
    journal = Journal(
        tmp_path, flush_interval=3600, on_flush=lambda n, seq: acks.append((n, seq, on_disk()))
    )
    journal.write_out(1, 1.0, "ping", b"{}")
    journal.write_out(2, 1.0, "ping", b"{}")
    assert acks == [] and on_disk() == 0  # still in the process's buffer: not acknowledged
    journal.flush()
    journal.flush()  # nothing new: no second acknowledgement
    assert acks == [(2, 2, 2)]

    def broken(lines: int, seq: int | None) -> None:
        raise BrokenPipeError("the supervisor went away")

    journal.on_flush = broken
    journal.write_out(3, 1.0, "ping", b"{}")
    journal.close()  # a failing reader stops the reports, never the recording
    assert journal.on_flush is None and on_disk() == 3


_DISK_FULL_SCRIPT = r"""
import asyncio, json, resource, signal, sys, warnings
from pathlib import Path
import guiders_lab as gl

out = Path(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG

async def main():
    with gl.launch_simulator("demo", seed=3, speed=900, tokens="disk-token") as sim:
        live = await gl.connect(sim, record_to=out, heartbeat_interval=None, flush_interval=0.1)
        while len(live.store) < 100:
            await asyncio.sleep(0.05)
        at_limit = len(live.store)
        limit = (out / "events.jsonl").stat().st_size + 20_000
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            while len(live.store) < at_limit + 400:  # the disk is full from here on
                await asyncio.sleep(0.05)
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
        events = len(live.store)
        await live.close()  # the disk has room again: the tables are written
        print(json.dumps({"at_limit": at_limit, "events": events, "final": len(live.store),
                          "said": [str(w.message) for w in said], "limit": limit}))

asyncio.run(main())
"""


def test_a_full_disk_stops_the_recording_not_the_capture(tmp_path: Path) -> None:
    """The journal's disk fills mid-session: one warning, capture carries on in memory,
    and the tables written on close hold every event."""
    import json

    out = tmp_path / "rec"
    done = subprocess.run(
        [sys.executable, "-c", _DISK_FULL_SCRIPT, str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    failed = [s for s in report["said"] if "writing the journal failed" in s]
    assert len(failed) == 1 and "capture goes on" in failed[0], report["said"]
    assert report["events"] >= report["at_limit"] + 400  # capture went on
    assert (out / JOURNAL_NAME).stat().st_size <= report["limit"]
    rec = gl.load(out)  # the tables, written once the disk had room again
    assert rec.how == "loaded" and len(rec.events) == report["final"]
    assert "journal_error" in rec.manifest.extra
    assert rec.manifest.journal_lines < report["final"]
