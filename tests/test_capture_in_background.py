"""``gl.capture_in_background``: the kit's recorder in a child process, followed from the
kernel through its journal (``record/tail.py``, ``record/follow.py``).

The journal tail is checked against a rebuild of the whole journal, however the lines
reach the file (torn anywhere, a byte-order mark, a bad line, a line longer than a
block); the background capture against the real simulator and the recording it leaves."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import time
from pathlib import Path

import pandas as pd
import pytest

import guiders_lab as gl
from guiders_lab.record.feed import apply_block
from guiders_lab.record.load import rebuild
from guiders_lab.record.tail import JournalTail
from guiders_lab.store import Store

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-session"
TABLES = ("events", "messages", "chats", "assignments", "presence", "quarantine")


def _same_tables(a: Store, b: Store) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(a.frame(name), b.frame(name), obj=name)


def _followed(journal: Path, pieces: list[bytes], largest: int = 1 << 20) -> Store:
    """A store fed by a tail while ``pieces`` are appended to ``journal`` one by one."""
    store = Store()
    tail = JournalTail(journal)
    assert tail.read(store.dialect) == []  # no journal yet: nothing, no error
    for piece in pieces:
        with open(journal, "ab") as f:
            f.write(piece)
        for block in tail.read(store.dialect, largest):
            apply_block(store, journal, block)
    store.flush_lag()
    return store


def test_the_tail_of_a_journal_written_in_torn_pieces_is_its_rebuild(tmp_path: Path) -> None:
    data = (SAMPLE / "events.jsonl").read_bytes()
    expected = rebuild(SAMPLE)
    rng = random.Random(5)
    for trial in range(3):
        cuts = sorted(rng.sample(range(1, len(data)), 40))  # mid-line, mid-character too
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        journal = tmp_path / f"t{trial}" / "events.jsonl"
        journal.parent.mkdir()
        _same_tables(_followed(journal, pieces), expected)


def test_a_partial_last_line_waits_for_its_end(tmp_path: Path) -> None:
    lines = (SAMPLE / "events.jsonl").read_bytes().splitlines(keepends=True)[:50]
    journal = tmp_path / "events.jsonl"
    journal.write_bytes(b"\xef\xbb\xbf" + b"".join(lines[:10]) + lines[10][:25])
    tail = JournalTail(journal)
    store = Store()
    blocks = tail.read(store.dialect)
    assert sum(len(b.entries) for b in blocks) == 10 and tail.next_line == 11
    assert tail.read(store.dialect) == []  # still no end to line 11
    with open(journal, "ab") as f:
        f.write(lines[10][25:] + b"".join(lines[11:]))
    blocks = tail.read(store.dialect)
    assert sum(len(b.entries) for b in blocks) == 40 and tail.next_line == 51
    assert tail.offset == journal.stat().st_size


def test_a_bad_line_and_a_line_longer_than_a_block(tmp_path: Path) -> None:
    """A line that is not JSON is skipped with its line number (the rest of its block
    read line by line); a line longer than a block is read whole."""
    lines = (SAMPLE / "events.jsonl").read_bytes().splitlines(keepends=True)[:30]
    long_name = b"x" * 5000
    long = lines[3].replace(b'"name":"', b'"name":"' + long_name, 1)
    assert len(long) > 4096
    body = [*lines[:3], long, *lines[4:12], b"{not json\n", *lines[12:]]
    reference = tmp_path / "ref"
    reference.mkdir()
    (reference / "events.jsonl").write_bytes(b"".join(body))
    with pytest.warns(gl.RecordingWarning, match="events.jsonl:13"):
        expected = rebuild(reference)
    with pytest.warns(gl.RecordingWarning, match="events.jsonl:13"):
        got = _followed(tmp_path / "events.jsonl", [b"".join(body)], largest=4096)
    _same_tables(got, expected)


# ------------------------------------------------------------------ the background capture
def _recorder_cmdline(live: gl.BackgroundSession) -> str:
    pid = live.transport.recorder.proc.pid
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.parametrize("dialect", ["ai-api", "guiders-v2"])
def test_capture_in_background_follows_and_leaves_its_recording(
    tmp_path: Path, dialect: str
) -> None:
    with gl.launch_simulator("demo", seed=11, speed=120.0, dialect=dialect) as sim:
        live = gl.capture_in_background(sim, record_to=tmp_path / "rec", interval=0.2)
        try:
            assert live.kind == "background" and live.read_only and live.connected
            assert sim.token not in _recorder_cmdline(live)  # ps shows the command line
            assert sim.token not in repr(live) and sim.token not in str(live.metrics())
            gl.run(live.wait_for(lambda s: len(s.messages) >= 5, 60))
            with pytest.raises(gl.ReplayReadOnlyError, match="background session has no server"):
                gl.run(live.send_message("chat-1", "hola"))
        finally:
            gl.run(live.close())
    assert live.transport.state == "stopped" and live.done
    assert live.transport.recorder.proc.returncode == 0  # closed as on Ctrl-C
    recording = gl.load(tmp_path / "rec")
    assert recording.how == "loaded" and recording.manifest.complete
    assert recording.manifest.dialect == live.store.dialect.name == dialect  # the handle's
    for name in TABLES:  # everything it journaled was followed, in the same tables
        pd.testing.assert_frame_equal(live.table(name), recording.table(name), obj=name)
    assert live.counts() == recording.counts()
    assert (live.events["lag_ms"].dropna() >= 0).all()  # the child's capture lag


def test_a_refused_token_is_a_clear_error_without_the_token(tmp_path: Path) -> None:
    with gl.launch_simulator("demo", seed=3) as sim:
        secret = "not-a-valid-token-7f3a"
        with pytest.raises(gl.RecordingError, match="background recorder exited") as info:
            gl.capture_in_background(sim.url, secret, record_to=tmp_path / "rec")
    assert secret not in str(info.value)
    assert not (tmp_path / "rec" / "events.jsonl").exists()  # nothing recorded


def test_a_server_that_never_answers_times_out_and_stops_the_recorder(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(gl.RecordingError, match="did not connect in 2 s"):
            gl.capture_in_background(url, "tok", record_to=tmp_path / "rec", connect_timeout=2)
        assert time.monotonic() - started < 40


def test_a_recorder_that_dies_ends_the_session_and_keeps_its_rows(tmp_path: Path) -> None:
    with gl.launch_simulator("demo", seed=5, speed=120.0) as sim:
        live = gl.capture_in_background(sim, record_to=tmp_path / "rec", interval=0.2)
        try:
            gl.run(live.wait_for(lambda s: len(s.events) >= 20, 60))
            os.kill(live.transport.recorder.proc.pid, signal.SIGKILL)
            gl.run(live.finished())
            assert live.transport.state == "failed" and not live.connected
            kept = len(live.events)
            assert kept >= 20
        finally:
            gl.run(live.close())
        assert len(live.events) == kept


async def test_shadow_bots_and_widgets_work_on_a_following_session(tmp_path: Path) -> None:
    """A bot in shadow mode sees the followed events one by one (the bulk path steps
    aside for it) and records what it would do; the inspector and the dashboard draw
    the followed tables."""
    with gl.launch_simulator("busy_afternoon", seed=7, speed=120.0) as sim:
        live = gl.capture_in_background(sim, record_to=tmp_path / "rec", interval=0.2)
        try:
            run = await live.run(gl.bots.ReactiveBot(), mode="shadow")
            await live.wait_for(lambda s: len(s.actions) >= 3, 90)
            with pytest.raises(gl.ReplayReadOnlyError):
                await live.run(gl.bots.ReactiveBot(), mode="live")
            await run.stop()
            assert set(live.actions["mode"]) == {"shadow"}
            inspector = gl.ChatInspector(live, interval=0.2)
            dashboard = gl.LiveDashboard(live, interval=0.2)
            assert inspector.follower.running and dashboard.follower.running
            listed = {value for _, value in inspector.chat_list.options}
            assert listed and listed <= set(live.chats["chat_id"])
            for _ in range(100):  # the dashboard folds in what each catch-up brings
                if dashboard.redraws >= 3 and dashboard._offsets["messages"] > 0:
                    break
                await asyncio.sleep(0.1)
            assert sum(sum(trace.y) for trace in dashboard.volume.data) > 0
            inspector.close()
            dashboard.close()
        finally:
            await live.close()


def test_an_interrupt_while_it_connects_stops_the_recorder(tmp_path: Path) -> None:
    """A kernel interrupt (SIGINT) while the child connects fails the call with
    ``gl.Interrupted`` and leaves no recorder running."""
    import threading

    import psutil

    def recorders() -> list[psutil.Process]:
        children = psutil.Process().children(recursive=True)
        return [c for c in children if "guiders_lab.cli" in " ".join(c.cmdline())]

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(gl.Interrupted, match="recorder was stopped"):
                gl.capture_in_background(url, "tok", record_to=tmp_path / "rec")
        finally:
            timer.cancel()
    assert recorders() == []
