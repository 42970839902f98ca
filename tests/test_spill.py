"""Bounded memory: spilled tables (recordings) and retention limits (sessions that do not
record). Real files, the real simulator, the store's own capture entry point."""

from __future__ import annotations

import math
import random
import warnings
from datetime import timedelta
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pytest

import guiders_lab as gl
from guiders_lab.events.records import Event
from guiders_lab.record.tables_io import TABLE_NAMES
from guiders_lab.store import ColumnTable, Store
from guiders_lab.store.retention import Retention
from guiders_lab.store.spill import SpillFile, read_spill

from .conftest import wait_for

T0 = 1_764_065_400.0
TOKEN = "tok-spill-secret"


def event(i: int) -> Event:
    rng = random.Random(i)
    text = "".join(rng.choice("abcdefgh ñé") for _ in range(rng.randrange(20, 400)))
    return Event(
        seq=i, name="message:new", direction="in", dialect="ai-api", received_at=T0 + i / 1000,
        server_time=None, lag_ms=float(i % 17), chat_id=f"chat-{i % 50}", visitor_id=None,
        commercial_id=None, message_id=f"m{i}", status="ok", server_seq=i, delivery="live",
        payload=orjson.dumps({"content": text, "n": i}),
    )  # fmt: skip


def filled(rows: int, spill: SpillFile | None = None, **kwargs: object) -> ColumnTable:
    table = ColumnTable("events", Event, chunk_rows=100, bytes_text=("payload",), **kwargs)  # type: ignore[arg-type]
    if spill is not None:
        table.spill_to(spill)
    for i in range(rows):
        table.append(event(i))
        if i == rows // 2:
            table.seal(wait=False)  # a short chunk in the middle
    return table


def test_a_spilled_table_reads_back_exactly_what_memory_would_hold(tmp_path: Path) -> None:
    spill = SpillFile(tmp_path / "events.spill")
    spilled, kept = filled(4_321, spill), filled(4_321)
    spilled.seal(wait=False)  # some chunks may still be on their way to the file
    assert spilled.to_arrow().equals(kept.to_arrow())
    for start in (0, 1, 99, 100, 2_160, 2_161, 4_300, 4_321, 5_000):
        for columns in (None, ["seq"], ["payload", "chat_id"]):
            assert spilled.to_arrow(columns, start).equals(kept.to_arrow(columns, start)), (
                start,
                columns,
            )
    spilled.seal(), kept.seal()
    assert spilled.nbytes == 0 < spilled.spilled_bytes  # nothing left in memory...
    assert kept.nbytes > 100_000  # ...of what an unspilled table holds
    assert pa.concat_tables(spilled.batches(start=250)).equals(kept.to_arrow(start=250))
    # the file alone holds every row (chunks in the order they were compressed)
    on_disk = pa.Table.from_batches(list(read_spill(spill.path)))
    assert set(on_disk.column("seq").to_pylist()) == set(range(4_321))


def test_a_table_spilled_after_it_filled_moves_its_chunks_out(tmp_path: Path) -> None:
    table = filled(1_000)
    table.seal()
    held = table.nbytes
    table.spill_to(SpillFile(tmp_path / "late.spill"))
    assert held > 0 == table.nbytes
    assert table.to_arrow().equals(filled(1_000).to_arrow())


def test_a_torn_spill_file_keeps_every_whole_chunk(tmp_path: Path) -> None:
    spill = SpillFile(tmp_path / "events.spill")
    table = filled(1_000, spill)
    table.seal()
    whole = spill.path.read_bytes()
    last = list(read_spill(spill.path))[-1].num_rows
    for damage in (
        whole[:-7],  # torn inside the last chunk's data
        whole + b"GLS1\x05",  # torn inside a header
        whole[:-50] + bytes(50),  # the last chunk's tail zeroed (CRC)
    ):
        spill.path.write_bytes(damage)
        seqs = pa.Table.from_batches(list(read_spill(spill.path))).column("seq").to_pylist()
        kept = 1_000 if damage.startswith(whole) else 1_000 - last  # the last chunk lost
        assert len(set(seqs)) == kept


def test_a_disk_that_refuses_the_spill_leaves_chunks_in_memory(caplog) -> None:
    full = SpillFile("/dev/full")  # every write: ENOSPC
    table = filled(1_000, full)
    table.seal()
    assert full.error is not None and "No space left" in full.error
    assert table.nbytes > 0 and table.spilled_bytes == 0
    assert table.to_arrow().equals(filled(1_000).to_arrow())
    assert "spilling stopped" in caplog.text


def message_new(i: int) -> bytes:
    """A ``message:new`` of about 1 KB, as the simulator's flood sends them."""
    rng = random.Random(i)
    words = ["hola", "pedido", "envío", "factura", "gracias", "order", "refund", "help"]
    return orjson.dumps(
        {
            "chatId": f"chat-{i % 40}",
            "messageId": f"msg-{i:08d}",
            "content": " ".join(rng.choice(words) for _ in range(70)),
            "type": "user",
            "sender": {"id": f"visitor-{i % 40}", "name": "Ana", "role": "visitor"},
            "timestamp": "2025-01-15T10:30:00.000Z",
            "metadata": {"department": "ventas", "urgency": "low", "source": "web-widget"},
        }
    )


def feed(store: Store, start: int, n: int) -> None:
    for i in range(start, start + n):
        store.ingest_json("message:new", message_new(i), None, T0 + i / 100)


def test_retention_drops_the_oldest_rows_counts_and_warns_once_per_table() -> None:
    store = Store(chunk_rows=100, max_rows=250)
    offsets = dict.fromkeys(("events", "messages"), 0)
    seen: dict[str, list[int]] = {"events": [], "messages": []}

    def read_on() -> None:  # as the dashboard reads: from the offset it reached
        for name in seen:
            column = "seq" if name == "events" else "message_id"
            table, offsets[name] = store.tables[name].tail([column], offsets[name])
            if name == "events":
                seen[name] += table.column(column).to_pylist()
            else:
                seen[name] += [int(m[4:]) for m in table.column(column).to_pylist()]

    def capture() -> None:
        feed(store, 0, 180)
        read_on()  # a view that keeps up...
        feed(store, 180, 1_000)  # ...then falls far behind the limit
        read_on()
        feed(store, 1_180, 120)
        read_on()

    with pytest.warns(gl.RowsDroppedWarning) as caught:
        capture()
    warned = sorted(str(w.message).split("'")[1] for w in caught)
    assert warned == ["events", "messages"]  # once per table, naming it
    assert "max_rows=250" in str(caught[0].message)

    events, messages = store.tables["events"], store.tables["messages"]
    assert store.dropped == {"events": events.dropped, "messages": messages.dropped}
    assert events.dropped + len(events) == events.total == 1_300 == len(store)
    assert 250 <= len(events) < 250 + 100 + 100  # the limit, plus a chunk and the hot rows
    assert events.dropped % 100 == 0  # whole chunks
    kept = events.to_arrow(["seq"]).column("seq").to_pylist()
    assert kept == list(range(events.dropped + 1, 1_301))  # the newest, in order
    assert events.to_arrow(["seq"], start=0).num_rows == len(events)  # start=0: what is held
    # the reader never saw a row twice, and skipped only what was gone when it looked
    for name in seen:
        assert seen[name] == sorted(set(seen[name])) and offsets[name] == store.tables[name].total
    assert seen["events"][:180] == list(range(1, 181)) and seen["events"][-1] == 1_300
    assert 180 < len(seen["events"]) < 1_300


def test_max_age_drops_chunks_older_than_it() -> None:
    table = filled(1_000, retention=Retention(max_age_s=1e-6))
    table.seal()
    assert table.dropped >= 800  # every chunk sealed before the last few
    assert table.to_arrow(["seq"]).column("seq").to_pylist() == list(range(table.dropped, 1_000))


def test_retention_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="max_rows"):
        Store(max_rows=-1)
    with pytest.raises(ValueError, match="max_age"):
        Store(max_age=timedelta(0))
    limits = Store(max_age=timedelta(hours=2)).tables["messages"].retention
    assert limits == Retention(math.inf, 7200.0)
    assert Store().tables["messages"].retention is None


def test_without_limits_nothing_is_dropped_or_warned() -> None:
    store = Store(chunk_rows=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        feed(store, 0, 1_000)
    assert store.dropped == {} and len(store.tables["messages"]) == 1_000


async def test_a_recorded_session_spills_and_ends_equal_to_its_journal(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with gl.launch_simulator("unattended", seed=5, speed=300, tokens=TOKEN) as sim:
        store = Store(chunk_rows=64, simulated_clock=True)  # many small chunks
        live = await gl.connect(sim, record_to=out, store=store, heartbeat_interval=0.3)
        spilled = out / "spill" / "events.spill"
        await wait_for(lambda: store.tables["events"].spilled_bytes > 0, timeout=15)
        await wait_for(lambda: len(store.tables["messages"]) > 100, timeout=30)
        assert spilled.stat().st_size > 0
        store.seal()
        assert store.tables["events"].nbytes < 64 * 2_000  # at most an open chunk in memory
        await live.close()
    assert not (out / "spill").exists()  # removed once the Parquet tables were written
    rebuilt = gl.load(out, rebuild_tables=True)
    loaded = gl.load(out)
    for name in TABLE_NAMES:  # the closed session still reads its spilled rows
        frame = live.table(name)
        pd.testing.assert_frame_equal(frame, rebuilt.table(name), check_exact=True, obj=name)
        pd.testing.assert_frame_equal(frame, loaded.table(name), check_exact=True, obj=name)
    assert len(live.events) == len(store) > 500


def test_a_crashed_recording_with_its_spill_can_be_overwritten(tmp_path: Path) -> None:
    from guiders_lab.record.recorder import Recorder

    out = tmp_path / "crashed"
    (out / "spill").mkdir(parents=True)
    (out / "spill" / "events.spill").write_bytes(b"GLS1")
    (out / "events.jsonl").write_bytes(b"")
    with pytest.raises(FileExistsError):
        Recorder(out)
    Recorder(out, overwrite=True)  # a recording's own leftovers, not foreign files
