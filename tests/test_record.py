"""Recording, loading and rebuilding sessions (real simulator, real client, real files)."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import orjson
import pandas as pd
import pyarrow.parquet as pq
import pytest

import guiders_lab as gl
from guiders_lab.record.tables_io import TABLE_NAMES
from guiders_lab.sample import record_sample

from .conftest import wait_for

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-session"
TOKEN = "tok-3b1f9c-very-secret"


def assert_same_tables(a: gl.Session, b: gl.Session) -> None:
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), check_exact=True, obj=name)


@pytest.fixture
def recorded(tmp_path: Path):
    """A live session recorded to disk, with actions of every outcome."""
    out = tmp_path / "run"
    with gl.launch_simulator("unattended", seed=5, speed=300, tokens=TOKEN) as sim:

        async def capture() -> gl.LiveSession:
            live = await gl.connect(
                f"{sim.url}?token={TOKEN}", TOKEN, record_to=out, heartbeat_interval=0.3
            )
            await wait_for(lambda: (live.chats["status"] == "pending").sum() >= 2, timeout=15)
            chat = live.chats.query("status == 'pending'").chat_id.iloc[0]
            await live.join_chat(chat)
            await live.send_message(
                chat, "Hola, ¿en qué te ayudo?", metadata={"aiModel": "echo", "confidence": 0.8}
            )
            await live.update_chat(chat, tags=["urgente"], priority="high")
            with pytest.raises(gl.ActionError):
                await live.assign_chat(chat, "commercial-nobody")
            await wait_for(lambda: live.counts().get("message:new", 0) > 60, timeout=15)
            await live.close()
            return live

        yield out, capture


async def test_record_then_load_gives_the_same_tables(recorded) -> None:
    out, capture = recorded
    live = await capture()
    names = {p.name for p in out.iterdir()}
    assert {"manifest.json", "events.jsonl"} | {f"{t}.parquet" for t in TABLE_NAMES} <= names
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["dialect"] == "ai-api"
    assert (
        manifest["schema_version"] == gl.record.SCHEMA_VERSION
        and manifest["kit_version"] == gl.__version__
    )
    assert manifest["n_events"] == len(live.events)
    assert manifest["event_counts"]["message:new"] == live.counts()["message:new"]
    assert manifest["server_url"].endswith("?token=***")  # the secret is removed

    rec = gl.load(out)
    assert rec.how == "loaded"
    assert_same_tables(live, rec)
    assert rec.counts() == live.counts()
    chat = rec.chats.query("priority == 'high'").iloc[0]
    assert chat["escalated"] and chat["first_ai_response_at"] is not pd.NaT
    assert set(rec.actions["name"]) >= {"message:send", "chat:update", "chat:assign", "chat:join"}

    rebuilt = gl.load(out, rebuild_tables=True)
    assert rebuilt.how == "rebuilt"
    assert_same_tables(live, rebuilt)


async def test_no_secret_in_any_recorded_file(recorded) -> None:
    out, capture = recorded
    await capture()
    for path in out.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path.name


async def test_a_recording_replays_into_identical_tables(recorded) -> None:
    out, capture = recorded
    await capture()
    rec = gl.load(out)
    session = await gl.replay(out, speed=float("inf"))
    await session.finished()
    assert session.done and session.metrics()["events_replayed"] > 0
    assert_same_tables(rec, session)
    with pytest.raises(gl.ReplayReadOnlyError, match="shadow"):
        await session.emit("message:send", {"chatId": "c", "content": "hola"})
    await session.close()


@pytest.mark.parametrize("collector_on", [True, False])
async def test_bulk_loads_pause_the_cycle_collector_and_restore_it(collector_on: bool) -> None:
    """Rebuilds and flat-out replays pause Python's cyclic collector while they work (it
    would re-scan the growing tables), and leave it as they found it, even when the user
    had turned it off."""
    seen: list[bool] = []
    was = gc.isenabled()
    (gc.enable if collector_on else gc.disable)()
    try:
        rebuilt = gl.load(SAMPLE, rebuild_tables=True)
        assert gc.isenabled() is collector_on
        session = gl.replay(SAMPLE, speed=float("inf"), start=False)
        session.store.subscribe(lambda *_: seen.append(gc.isenabled()))
        session.start()
        await session.finished()
        await session.close()
        assert gc.isenabled() is collector_on
    finally:
        (gc.enable if was else gc.disable)()
    assert len(rebuilt.events) == len(session.events) > 1000
    assert not any(seen)  # paused while the replay fed events


async def test_replay_keeps_the_original_timing(tmp_path: Path) -> None:
    out = tmp_path / "timed"
    with gl.launch_simulator("demo", seed=2, speed=120) as sim:
        live = await gl.connect(sim, record_to=out, heartbeat_interval=None)
        await wait_for(lambda: len(live.store) >= 60, timeout=20)
        await live.close()
    journal = [orjson.loads(line) for line in (out / "events.jsonl").read_bytes().splitlines()]
    arrivals: list[tuple[str, float]] = []
    session = gl.replay(out, speed=1.0, progress=False, start=False)
    session.store.subscribe(lambda seq, name, record: arrivals.append((name, time.monotonic())))
    started = time.monotonic()
    session.start()
    await session.finished()
    await session.close()
    accepted = session.events.query("direction == 'in' and status == 'ok'")["received_at"]
    expected = accepted.astype("int64").to_numpy() / 1e6  # the recorded receive times
    assert len(arrivals) == len(expected) >= 50
    # in the recorded order, every one of them
    assert [name for name, _ in arrivals] == [e["name"] for e in journal if e["dir"] == "in"]
    assert all(e.get("t") is not None for e in journal)  # the journal carries receive times
    # never ahead of the original timing: a slow machine can only make it later (how
    # close it keeps is a figure: benchmarks/bench_replay_timing.py)
    early = [
        (e - expected[0]) - (a - started) for (_, a), e in zip(arrivals, expected, strict=True)
    ]
    assert max(early) < 0.002, max(early)


async def test_a_timed_replay_reads_the_journal_in_small_blocks(monkeypatch) -> None:
    """A timed replay reads on the event loop, and one msgspec call holds the GIL: a big
    block stalled the replay (and every socket on the loop) at its edge."""
    from guiders_lab.record import reader

    asked: list[int] = []
    real = reader._read_array

    def read(f, tail, block_bytes):
        asked.append(block_bytes)
        return real(f, tail, block_bytes)

    monkeypatch.setattr(reader, "_read_array", read)
    session = gl.replay(SAMPLE, speed=1e6, progress=False)
    await session.finished()
    await session.close()
    assert len(session.events) == 3310 and len(asked) > 3
    assert max(asked) <= 1 << 18


def test_bad_directories_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(gl.RecordingError, match="not a directory"):
        gl.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(gl.RecordingError, match="not a recording"):
        gl.load(tmp_path / "empty")
    newer = tmp_path / "newer"
    shutil.copytree(SAMPLE, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["schema_version"] = 99
    (newer / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(gl.RecordingError, match=r"schema version 99.*upgrade"):
        gl.load(newer)
    (newer / "manifest.json").write_text("{not json")
    with pytest.raises(gl.RecordingError, match=r"manifest\.json: not valid JSON"):
        gl.load(newer)


def test_corrupt_parquet_and_bad_lines_are_warnings(tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(SAMPLE, damaged)
    reference = gl.load(SAMPLE)
    messages = damaged / "messages.parquet"
    messages.write_bytes(messages.read_bytes()[: messages.stat().st_size // 2])
    with pytest.warns(gl.RecordingWarning, match=r"messages\.parquet"):
        rec = gl.load(damaged)
    assert rec.how == "rebuilt"
    pd.testing.assert_frame_equal(rec.messages, reference.messages)

    lines = (damaged / "events.jsonl").read_bytes().splitlines(keepends=True)
    lines.insert(10, b"this is not json\n")
    (damaged / "events.jsonl").write_bytes(b"".join(lines) + b'{"seq": 99999, "t": 1.0, "di')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = gl.load(damaged)
    texts = [str(w.message) for w in caught]
    assert any("events.jsonl:11: not a journal line" in t for t in texts), texts
    assert any("truncated" in t and f"events.jsonl:{len(lines) + 1}" in t for t in texts), texts
    assert len(rec.messages) == len(reference.messages)  # everything readable was loaded
    # each warning points at the line that called gl.load (this test), not into the kit
    assert {Path(w.filename).name for w in caught} == {Path(__file__).name}, caught


SIGKILL_RECORDER = """
import asyncio, sys, time
import guiders_lab as gl

async def main():
    live = await gl.connect(sys.argv[1], sys.argv[2], record_to=sys.argv[3],
                            flush_interval=float(sys.argv[4]), heartbeat_interval=None)
    print("recording", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.mark.parametrize("flush_interval", [0.25, 1.0])
def test_sigkill_loses_at_most_the_flush_interval(tmp_path: Path, flush_interval: float) -> None:
    out = tmp_path / "killed"
    with gl.launch_simulator("demo", seed=8, speed=900, tokens="k") as sim:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(SIGKILL_RECORDER),
                sim.url,
                "k",
                str(out),
                str(flush_interval),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "recording"
        history = []  # (monotonic time, events the server has emitted)
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            history.append((time.monotonic(), sim.server.seq))
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        proc.wait()
    with pytest.warns(gl.RecordingWarning, match="did not finish cleanly"):
        rec = gl.load(out)
    received = len(rec.events)
    assert received > 0
    # every event the server sent before (kill - flush interval - delivery slack) is there
    safe_until = killed_at - flush_interval - 0.2
    must_have = max(seq for at, seq in history if at <= safe_until)
    assert received >= must_have, (received, must_have)
    assert rec.events["seq"].tolist() == list(range(1, received + 1))


async def test_sample_regenerates_identically_apart_from_wall_clock(tmp_path: Path) -> None:
    manifest = await record_sample(tmp_path / "again", seed=7, hours=3.0)

    def normalised(directory: Path) -> list[dict]:
        lines = []
        for raw in (directory / "events.jsonl").read_bytes().splitlines():
            entry = orjson.loads(raw)
            entry.pop("t", None)
            if "meta" in entry:
                entry["meta"].pop("serverTime", None)
            lines.append(entry)
        return lines

    assert normalised(tmp_path / "again") == normalised(SAMPLE)

    def wall_clock_free(manifest: dict) -> dict:
        for key in ("started_at", "ended_at", "server_url"):
            manifest.pop(key)
        manifest["tables"].pop("latency")  # event-lag windows close every wall-clock second
        return manifest

    committed = wall_clock_free(json.loads((SAMPLE / "manifest.json").read_text()))
    assert wall_clock_free(json.loads(manifest.to_json())) == committed


def test_sample_is_small_and_loads() -> None:
    size = sum(p.stat().st_size for p in SAMPLE.iterdir())
    assert size < 5_000_000
    rec = gl.load(SAMPLE)
    assert 2_000 < len(rec.events) < 20_000
    assert rec.chats["closed_at"].notna().all()


def test_cli_replay_prints_the_summary() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "guiders_lab.cli", "replay", str(SAMPLE), "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Events by type" in done.stdout and "Median time to assign" in done.stdout
    chats = len(gl.load(SAMPLE).chats)
    assert f"Chats                            {chats} " in done.stdout


def test_cli_record(tmp_path: Path) -> None:
    with gl.launch_simulator("demo", seed=1, speed=600, tokens="env-token") as sim:
        env = {**os.environ, "GUIDERS_TOKEN": "env-token"}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "guiders_lab.cli",
                "record",
                sim.url,
                "--token-env",
                "GUIDERS_TOKEN",
                "--out",
                str(tmp_path / "cli"),
                "--seconds",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    assert done.returncode == 0, done.stderr
    rec = gl.load(tmp_path / "cli")
    assert len(rec.messages) > 0 and "Events by type" in done.stdout
    for path in (tmp_path / "cli").iterdir():
        assert b"env-token" not in path.read_bytes()


def test_cli_record_closes_cleanly_on_sigterm(tmp_path: Path) -> None:
    """docker stop and systemd send SIGTERM: the tables get written, as after Ctrl-C."""
    out = tmp_path / "cli"
    with gl.launch_simulator("demo", seed=1, speed=600, tokens="env-token") as sim:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "guiders_lab.cli", "record", sim.url),
                *("--token-env", "GUIDERS_TOKEN", "--out", str(out), "--progress"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "GUIDERS_TOKEN": "env-token"},
        )
        try:
            assert proc.stdout.readline().startswith("flushed ")  # recording is under way
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Events by type" in stdout
    rec = gl.load(out)
    assert rec.how == "loaded" and rec.manifest.complete and len(rec.events) > 0


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    for args in (["replay", str(tmp_path / "notes")], ["replay", str(tmp_path / "missing")]):
        done = subprocess.run(
            [sys.executable, "-m", "guiders_lab.cli", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


async def test_overwrite_replaces_only_a_recording_and_only_once_connected(
    tmp_path: Path,
) -> None:
    """overwrite=True never deletes files that are not a recording's, and a connection
    that fails puts the recording it was to replace back as it was."""
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "important.txt").write_text("keep me")
    with gl.launch_simulator("demo", seed=2, speed=600, tokens="k") as sim:
        with pytest.raises(FileExistsError, match="not a recording"):
            await gl.connect(sim, record_to=foreign, overwrite=True)
        assert (foreign / "important.txt").read_text() == "keep me"

        out = tmp_path / "rec"
        live = await gl.connect(sim, record_to=out, heartbeat_interval=None)
        await wait_for(lambda: len(live.store) > 30)
        await live.close()
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        with pytest.raises(gl.AuthenticationError):
            await gl.connect(
                sim.url, "wrong", record_to=out, overwrite=True, reconnection_attempts=0
            )
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # put back
        assert sorted(os.listdir(tmp_path)) == ["notes", "rec"]  # nothing left aside

        live = await gl.connect(sim, record_to=out, overwrite=True, heartbeat_interval=None)
        await wait_for(lambda: len(live.store) > 5)
        await live.close()
    assert gl.load(out).manifest.started_at != json.loads(before["manifest.json"])["started_at"]
    assert sorted(os.listdir(tmp_path)) == ["notes", "rec"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"dialect": None}, "missing required field `dialect`"),
        ({"dialect": 5}, "Expected `str`, got `int` - at `$.dialect`"),
        ({"dialect": "nope"}, "unknown dialect 'nope'"),
        ({"schema_version": "1"}, "schema_version must be a whole number"),
        ({"schema_version": 0}, "schema_version must be a whole number"),
        ({"schema_version": True}, "schema_version must be a whole number"),
        ({"complete": "false"}, "Expected `bool`, got `str` - at `$.complete`"),
        ({"event_counts": [1]}, "at `$.event_counts`"),
    ],
)
def test_a_wrong_manifest_is_named_with_what_is_wrong(
    tmp_path: Path, change: dict, complaint: str
) -> None:
    broken = tmp_path / "rec"
    shutil.copytree(SAMPLE, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest.update(change)
    manifest = {k: v for k, v in manifest.items() if v is not None}
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(gl.RecordingError, match=r"manifest\.json") as said:
        gl.load(broken)
    assert complaint in str(said.value)


def test_odd_recordings_load_what_they_can(tmp_path: Path) -> None:
    def copy(name: str) -> Path:
        shutil.copytree(SAMPLE, tmp_path / name)
        return tmp_path / name

    bom = copy("bom")  # an editor saved both files with a byte-order mark
    for name in ("manifest.json", "events.jsonl"):
        (bom / name).write_bytes(b"\xef\xbb\xbf" + (bom / name).read_bytes())
    assert len(gl.load(bom).events) == 3310
    assert len(gl.load(bom, rebuild_tables=True).events) == 3310

    short = copy("short")  # a table file with fewer rows than were written
    pq.write_table(
        pq.read_table(short / "messages.parquet").slice(0, 10), short / "messages.parquet"
    )
    with pytest.warns(
        gl.RecordingWarning, match=r"messages\.parquet \(10 rows, written with 1,214\)"
    ):
        rec = gl.load(short)
    assert rec.how == "rebuilt" and len(rec.messages) == 1214

    lonely = copy("lonely")  # no journal to rebuild a broken table from
    (lonely / "events.jsonl").unlink()
    (lonely / "chats.parquet").write_bytes(b"not parquet")
    with pytest.warns(gl.RecordingWarning, match="no events.jsonl to rebuild them from"):
        rec = gl.load(lonely)
    assert rec.how == "partly loaded" and len(rec.messages) == 1214 and len(rec.chats) == 0

    odd = copy("odd")  # an incoming line without name or receive time
    lines = (odd / "events.jsonl").read_bytes().splitlines(keepends=True)
    lines.insert(5, b'{"dir":"in"}\n')
    (odd / "events.jsonl").write_bytes(b"".join(lines))
    with pytest.warns(gl.RecordingWarning, match=r"events\.jsonl:6: unusable line"):
        rec = gl.load(odd, rebuild_tables=True)
    assert len(rec.events) == 3310 and rec.events["name"].notna().all()


async def test_a_replay_closed_before_it_started_is_over() -> None:
    session = gl.replay(SAMPLE, speed=float("inf"), start=False, progress=False)
    await session.close()
    await asyncio.wait_for(session.finished(), 5)  # returns: nothing is left to wait for
    assert session.done and session.metrics()["state"] == "stopped"
    with pytest.raises(RuntimeError, match="cannot start again"):
        session.start()
    assert len(session.events) == 0


async def test_every_close_waits_for_the_recording(tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with gl.launch_simulator("demo", seed=2, speed=900, tokens="k") as sim:
        live = await gl.connect(sim, record_to=out, heartbeat_interval=None)
        await wait_for(lambda: len(live.store) > 50)
        first = asyncio.ensure_future(live.close())
        await asyncio.sleep(0)
        await live.close()  # a second caller, while the first is still closing
        assert live.manifest is not None and live.manifest.complete
        assert gl.load(out).how == "loaded"
        await first


async def test_a_timed_replay_keeps_the_heap_out_of_collections_until_it_ends() -> None:
    """A full collection of a notebook's heap stalled a timed replay 50-100 ms."""
    frozen_before = gc.get_freeze_count()
    seen: list[int] = []
    session = gl.replay(SAMPLE, speed=1e6, progress=False, start=False)
    session.store.subscribe(  # get_freeze_count walks the frozen heap: only now and then
        lambda seq, name, record: seq % 500 or seen.append(gc.get_freeze_count())
    )
    session.start()
    await session.finished()
    await session.close()
    assert len(seen) > 5 and min(seen) > frozen_before  # the heap was frozen throughout
    assert gc.get_freeze_count() == frozen_before  # and given back
