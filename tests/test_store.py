"""The store: tables, dtypes, dedupe, quarantine and the derived chats table (no network)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guiders_lab.events.records import UNDECODABLE
from guiders_lab.store import TABLES, Store, arrow_schema

from .test_events import NOW, PAGE_MESSAGE, SERVER_SAMPLES

T0 = datetime(2025, 1, 15, 10, 0, tzinfo=UTC).timestamp()


def msg(
    i: int, chat: str = "chat-1", role: str = "visitor", at: str = "10:00:00", kind: str = "user"
) -> dict:
    return {
        **copy.deepcopy(PAGE_MESSAGE),
        "chatId": chat,
        "messageId": f"m-{i}",
        "type": kind,
        "sender": {"id": f"{role}-1", "name": role, "role": role},
        "timestamp": f"2025-01-15T{at}Z",
    }


def test_empty_tables_have_their_columns_and_dtypes() -> None:
    store = Store()
    for name, row_type in TABLES.items():
        frame = store.frame(name)
        assert list(frame.columns) == list(row_type._fields), name
        assert len(frame) == 0
    chats = store.frame("chats")
    assert {"chat_id", "time_to_assign", "time_to_first_response", "duration"} <= set(chats.columns)


def test_each_server_event_lands_in_its_table() -> None:
    store = Store()
    for name, (payload, _) in SERVER_SAMPLES.items():  # a pong answers a ping of NOW's
        store.ingest(name, (payload,), NOW if name == "pong" else T0)
    assert len(store.frame("messages")) == 1
    assert len(store.frame("assignments")) == 1
    assert len(store.frame("presence")) == 2  # visitor:online + commercial:status
    assert len(store.frame("visitor_actions")) == 1
    assert len(store.frame("typing_events")) == 2
    assert len(store.frame("errors")) == 1
    assert (store.frame("latency")["kind"] == "ping").sum() == 1
    events = store.frame("events")
    assert set(events["name"]) == set(SERVER_SAMPLES)
    assert (events["status"] == "ok").all()
    chats = store.frame("chats").set_index("chat_id")
    assert set(chats.index) == {"chat-123", "chat-1"}
    assert chats.loc["chat-1", "close_reason"] == "resolved"
    assert chats.loc["chat-1", "commercial_id"] == "c-1"


def test_dtypes_are_typed_not_object() -> None:
    store = Store(chunk_rows=2)  # force sealed + hot rows in the same frame
    for i in range(5):
        store.ingest("message:new", (msg(i),), T0 + i)
    messages = store.frame("messages")
    assert str(messages["sent_at"].dtype) == "datetime64[us, UTC]"
    assert str(messages["received_at"].dtype) == "datetime64[us, UTC]"
    assert messages["content"].dtype == "str"
    assert str(messages["is_ai"].dtype) == "boolean"
    assert messages["confidence"].dtype == "float64"
    events = store.frame("events")
    assert str(events["seq"].dtype) == "Int64"
    assert list(events["seq"]) == [1, 2, 3, 4, 5]
    assert "object" not in {str(dtype) for dtype in messages.dtypes}


def test_arrow_schema_follows_the_records() -> None:
    schema = arrow_schema(TABLES["messages"])
    assert schema.field("sent_at").nullable and not schema.field("message_id").nullable
    assert str(schema.field("confidence").type) == "double"


def test_duplicate_messages_are_kept_as_events_but_counted_once() -> None:
    store = Store()
    store.ingest("message:new", (msg(1),), T0)
    store.ingest("message:new", (msg(1),), T0 + 1)
    assert len(store.frame("messages")) == 1
    assert list(store.frame("events")["status"]) == ["ok", "duplicate"]
    assert store.frame("chats").loc[0, "n_messages"] == 1


def test_duplicate_server_sequence_numbers_are_dropped() -> None:
    store = Store()
    store.ingest("visitor:online", (SERVER_SAMPLES["visitor:online"][0], {"seq": 7}), T0)
    store.ingest("visitor:online", (SERVER_SAMPLES["visitor:online"][0], {"seq": 7}), T0)
    store.ingest("visitor:online", (SERVER_SAMPLES["visitor:online"][0], {"seq": 8}), T0)
    assert len(store.frame("presence")) == 2
    assert store.last_server_seq == 8


def test_a_repeated_message_under_a_new_sequence_number_leaves_no_gap() -> None:
    """A server may send the same message twice (an echo, a retry) under two sequence
    numbers: the second is a duplicate message, but its sequence number did arrive."""
    store = Store()
    for seq, message in ((1, msg(1)), (2, msg(1)), (3, msg(2))):
        store.ingest("message:new", (message, {"seq": seq}), T0)
    assert list(store.frame("events")["status"]) == ["ok", "duplicate", "ok"]
    tracker = store.seq_tracker
    assert (tracker.contiguous, tracker.missing, tracker.above) == (3, 0, set())


@pytest.mark.parametrize(
    ("name", "args", "reason"),
    [
        ("message:new", ({"chatId": 5},), "chatId"),
        ("message:new", ("text",), "object"),
        ("chat:closed", ({"chatId": "c", "closedAt": "not a date"},), "closedAt"),
        ("message:new", (b"\x00\x01binary",), "binary"),
        (UNDECODABLE, ({"frame": "42[bad", "error": "JSONDecodeError"},), "undecodable"),
    ],
)
def test_bad_events_are_quarantined_with_a_reason(name: str, args: tuple, reason: str) -> None:
    store = Store()
    store.ingest("message:new", (msg(1),), T0)
    store.ingest(name, args, T0 + 1)
    store.ingest("message:new", (msg(2),), T0 + 2)
    quarantine = store.frame("quarantine")
    assert len(quarantine) == 1
    assert reason in quarantine.loc[0, "reason"]
    assert len(store.frame("messages")) == 2  # good events around it are kept
    assert list(store.frame("events")["status"]) == ["ok", "quarantined", "ok"]


def test_oversized_payloads_are_bounded() -> None:
    store = Store(max_payload_bytes=10_000)
    big = msg(1)
    big["content"] = "x" * 50_000
    store.ingest("message:new", (big,), T0)
    row = store.frame("quarantine").iloc[0]
    assert "oversized" in row["reason"] and row["size_bytes"] > 50_000
    assert len(row["payload"]) <= 4096
    assert len(store.frame("events").loc[0, "payload"]) <= 4096


def test_unknown_events_are_kept() -> None:
    store = Store()
    store.ingest("chat:transferred", ({"chatId": "c-9", "to": "x"},), T0)
    events = store.frame("events")
    assert events.loc[0, "status"] == "unknown" and "c-9" in events.loc[0, "payload"]


def test_event_lag_uses_server_time_and_windows_into_latency() -> None:
    store = Store(lag_window_s=1.0)
    server_ms = T0 * 1000
    store.ingest("message:new", (msg(1), {"serverTime": server_ms}), T0 + 0.040)
    store.ingest("message:new", (msg(2), {"serverTime": server_ms}), T0 + 1.060)
    events = store.frame("events")
    assert events["lag_ms"].tolist() == pytest.approx([40.0, 1060.0], abs=0.5)
    window = store.frame("latency").query("kind == 'event_lag'").iloc[0]
    assert window["n"] == 2 and window["max_ms"] == pytest.approx(1060.0, abs=0.5)


def test_chats_table_derives_times_and_durations() -> None:
    store = Store()
    created, _ = SERVER_SAMPLES["chat:created"]
    store.ingest("chat:created", (created,), T0)
    store.ingest("message:new", (msg(1, at="10:00:10"),), T0)
    store.ingest("message:new", (msg(2, role="ai", at="10:00:20", kind="ai-response"),), T0)
    store.ingest(
        "chat:assigned",
        ({"chatId": "chat-1", "commercialId": "c-1", "assignedAt": "2025-01-15T10:01:00Z"},),
        T0,
    )
    store.ingest(
        "chat:assigned",
        ({"chatId": "chat-1", "commercialId": "c-2", "assignedAt": "2025-01-15T10:02:00Z"},),
        T0,
    )
    store.ingest("message:new", (msg(3, role="commercial", at="10:03:00", kind="commercial"),), T0)
    store.ingest(
        "chat:closed",
        (
            {
                "chatId": "chat-1",
                "closedAt": "2025-01-15T10:10:00Z",
                "reason": "resolved",
                "metadata": {"converted": True},
            },
        ),
        T0,
    )
    row = store.frame("chats").iloc[0]
    assert row["time_to_assign"] == pd.Timedelta(minutes=1)
    assert row["time_to_first_response"] == pd.Timedelta(seconds=20)
    assert row["first_human_response_at"] == pd.Timestamp("2025-01-15T10:03:00Z")
    assert row["duration"] == pd.Timedelta(minutes=10)
    assert row["commercial_id"] == "c-2" and row["n_assignments"] == 2
    assert row["n_messages"] == 3 and row["n_visitor_messages"] == 1
    assert row["converted"] and row["status"] == "closed"


def test_chat_updates_mark_escalation() -> None:
    store = Store()
    store.chats.update("chat-1", {"tags": ["urgente"], "priority": "high"}, 1.0)
    row = store.frame("chats").iloc[0]
    assert row["escalated"] and row["priority"] == "high" and row["tags"] == "urgente"


def test_a_failing_subscriber_does_not_stop_capture() -> None:
    store = Store()
    seen = []

    def broken(seq: int, name: str, record: object) -> None:
        raise RuntimeError("bot bug")

    store.subscribe(broken)
    store.subscribe(lambda seq, name, record: seen.append(name))
    store.ingest("message:new", (msg(1),), T0)
    assert seen == ["message:new"] and len(store.frame("messages")) == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from([*SERVER_SAMPLES, "weird", ""]),
    args=st.lists(json_values | st.binary(max_size=10), max_size=3),
)
def test_ingest_never_raises(name: str, args: list) -> None:
    store = Store()
    store.ingest(name, tuple(args), T0)
    store.ingest("message:new", (msg(1),), T0)
    assert len(store) == 2
    assert len(store.frame("messages")) == 1
    statuses = set(store.frame("events")["status"])
    assert statuses <= {"ok", "quarantined", "unknown", "duplicate"}


def test_sealing_from_another_thread_loses_nothing() -> None:
    import threading

    from guiders_lab.events.records import Typing
    from guiders_lab.store import ColumnTable

    table = ColumnTable("typing_events", Typing, chunk_rows=1000)
    stop = threading.Event()

    def seal_repeatedly() -> None:
        while not stop.is_set():
            table.seal()

    sealer = threading.Thread(target=seal_repeatedly)
    sealer.start()
    for i in range(100_000):
        table.append(Typing("c", f"t{i}", "start", T0))
    stop.set()
    sealer.join()
    frame = table.to_frame()
    assert len(table) == len(frame) == 100_000
    assert frame["typer_id"].is_unique


def test_rows_arrow_cannot_hold_are_quarantined_not_fatal() -> None:
    store = Store(chunk_rows=4)
    store.tables["presence"].append(
        store.dialect.decode("visitor:online", SERVER_SAMPLES["visitor:online"][0], T0)._replace(
            active_chats=2**70
        )
    )
    for i in range(6):
        store.ingest("message:new", (msg(i),), T0)
    store.seal()
    assert len(store.frame("presence")) == 0
    assert "unstorable row" in store.frame("quarantine").loc[0, "reason"]
    assert len(store.frame("messages")) == 6


@pytest.mark.parametrize(
    "stamp", ["9999-12-31T23:00:00-05:00", "1969-07-20T20:17:00Z", -1e11, 1e300, float("nan")]
)
def test_timestamps_outside_1970_9999_are_quarantined(stamp: object) -> None:
    store = Store()
    store.ingest("message:new", ({**msg(1), "timestamp": stamp},), T0)
    assert "timestamp" in store.frame("quarantine").loc[0, "reason"]
    assert len(store.frame("messages")) == 0


def test_a_welcome_before_the_visitor_writes_is_not_a_response() -> None:
    store = Store()
    created, _ = SERVER_SAMPLES["chat:created"]
    store.ingest("chat:created", (created,), T0)
    store.ingest("message:new", (msg(1, role="ai", at="10:00:01", kind="ai-response"),), T0)
    store.ingest("message:new", (msg(2, at="10:00:30"),), T0)
    store.ingest("message:new", (msg(3, role="commercial", at="10:01:30", kind="commercial"),), T0)
    row = store.frame("chats").iloc[0]
    assert row["first_visitor_message_at"] == pd.Timestamp("2025-01-15T10:00:30Z")
    assert row["first_response_at"] == pd.Timestamp("2025-01-15T10:01:30Z")
    assert pd.isna(row["first_ai_response_at"])


def test_bulk_rows_fill_whole_chunks_in_order_and_compress_in_the_background() -> None:
    """Bulk extends top up an open partial chunk instead of leaving one small chunk each;
    single rows appended in between keep their place; every chunk ends up compressed."""
    import pyarrow as pa

    from guiders_lab.events.records import Typing
    from guiders_lab.store import ColumnTable

    table = ColumnTable("typing_events", Typing, chunk_rows=100)
    schema = arrow_schema(Typing)

    def rows(start: int, n: int) -> pa.Table:
        return pa.Table.from_pylist(
            [
                {"chat_id": "c", "typer_id": f"t{i}", "state": "start", "received_at": None}
                for i in range(start, start + n)
            ],
            schema=schema,
        )

    order = []
    for start, n in [(0, 30), (30, 30), (60, 30), (90, 30), (120, 250)]:
        table.extend(rows(start, n))
        order += range(start, start + n)
    assert [table._chunk_rows[k] for k in range(len(table._chunk_rows))] == [100, 100, 100, 70]
    open_chunk = table._chunks[-1]  # its own rows' bytes, not a view of the 250-row batch
    assert open_chunk.column("typer_id").buffers()[2].size == len("t300") * 70
    table.append(Typing("c", "t370", "start", T0))  # a single row after the open chunk
    table.extend(rows(371, 40))  # the open chunk is final now: no merging behind the row
    order += range(370, 411)
    table.seal()
    assert table.to_frame()["typer_id"].tolist() == [f"t{i}" for i in order]
    assert all(isinstance(chunk, pa.Buffer) for chunk in table._chunks)  # compressed
    assert len(table) == 411


def test_sealed_rows_become_arrow_on_the_writers_thread_and_compress_off_it() -> None:
    """The writer turns a full chunk's rows into Arrow itself (on the background thread
    that conversion, which holds the GIL, fought the writer for it: ~1.5 µs more CPU per
    captured event) and only the compression, which lets go of the GIL, runs in the
    background; rows are readable before and after, and a row Arrow cannot hold is
    left out and reported once."""
    import threading

    import pyarrow as pa

    from guiders_lab.events.records import Typing
    from guiders_lab.store import ColumnTable
    from guiders_lab.store import table as table_module

    converters: list[str] = []
    compressors: list[str] = []
    real_convert, real_compress = table_module.rows_to_batch, table_module._compress

    def spy_convert(rows, schema):
        converters.append(threading.current_thread().name)
        return real_convert(rows, schema)

    def spy_compress(batch):
        compressors.append(threading.current_thread().name)
        return real_compress(batch)

    bad: list[tuple] = []
    table = ColumnTable("typing_events", Typing, chunk_rows=50)
    table.on_bad_row = lambda name, row, exc: bad.append(row)
    table_module.rows_to_batch, table_module._compress = spy_convert, spy_compress
    try:
        for i in range(120):
            table.append(Typing("c", 7 if i == 3 else f"t{i}", "start", T0))  # 7: not a str
        by_the_writer = list(converters)
        early = table.to_frame()  # the hot tail is converted by the reader
        table.seal()
    finally:
        table_module.rows_to_batch, table_module._compress = real_convert, real_compress
    writer = threading.current_thread().name
    assert by_the_writer and set(by_the_writer) == {writer}
    assert compressors and all(n.startswith("guiders-lab-compress") for n in compressors)
    assert all(isinstance(chunk, pa.Buffer) for chunk in table._chunks)
    frame = table.to_frame()
    assert len(table) == len(frame) == 119 and bad == [Typing("c", 7, "start", T0)]
    assert frame["typer_id"].tolist() == [f"t{i}" for i in range(120) if i != 3]
    assert early["typer_id"].tolist() == frame["typer_id"].tolist()


def test_an_absurdly_long_event_name_is_quarantined_and_cut() -> None:
    store = Store()
    store.ingest("x" * 5_000_000, ({"visitorId": "v"},), T0)
    store.ingest("visitor:online", ({"visitorId": "v", "timestamp": T0 * 1000},), T0)
    events = store.frame("events")
    assert events["status"].tolist() == ["quarantined", "ok"]
    assert max(len(name) for name in store.counts) <= 201
    assert "event name of 5,000,000 characters" in store.frame("quarantine").loc[0, "reason"]


def test_a_hole_that_is_never_filled_does_not_grow_memory_for_ever(monkeypatch) -> None:
    from guiders_lab.store import sequence

    monkeypatch.setattr(sequence, "MAX_ABOVE_HOLE", 1_000)
    tracker = Store().seq_tracker
    tracker.see(1)
    for seq in range(3, 50_003):  # seq 2 never comes
        tracker.see(seq)
    assert len(tracker.above) <= 1_000
    assert tracker.contiguous == tracker.highest == 50_002
    assert tracker.missing == 1 and tracker.given_up == 1
    tracker.see(50_010)  # a new hole after that is tracked as before
    assert tracker.missing == 1 + 7 and tracker.above == {50_010}


def test_reading_on_from_what_a_view_has_never_repeats_a_row() -> None:
    """Views read ``to_arrow(start=rows they have)``: a row Arrow cannot hold, in the hot
    rows or in a chunk the background thread has not converted yet, must not shift that."""
    import threading

    from guiders_lab.events.records import Event
    from guiders_lab.store import ColumnTable, chunks

    def event(i: int, server_seq: int | None = None) -> Event:
        return Event(
            seq=i, name="x", direction="in", dialect="ai-api", received_at=T0,
            server_time=None, lag_ms=None, chat_id=None, visitor_id=None, commercial_id=None,
            message_id=f"m{i}", status="ok", server_seq=server_seq, delivery="live",
            payload=b"{}",
        )  # fmt: skip

    def read_on(table: ColumnTable, have: list[int]) -> list[int]:
        return have + table.to_arrow(["seq"], start=len(have)).column("seq").to_pylist()

    hot = ColumnTable("events", Event, chunk_rows=8192, bytes_text=("payload",))
    for i, server_seq in enumerate([None, 2**63, None]):  # 2**63: past int64
        hot.append(event(i, server_seq))
    have = read_on(hot, [])
    hot.append(event(3))
    assert read_on(hot, have) == [0, 2, 3]

    gate = threading.Event()
    chunks.background().submit(gate.wait)  # the background thread is busy
    try:
        pending = ColumnTable("events", Event, chunk_rows=4, bytes_text=("payload",))
        for i in range(6):  # the first four are sealed, waiting for conversion
            pending.append(event(i, 2**63 if i == 1 else None))
        have = read_on(pending, [])
        pending.append(event(6))
        assert read_on(pending, have) == [0, 2, 3, 4, 5, 6]
    finally:
        gate.set()
    pending.seal()
    assert len(pending) == 6 and read_on(pending, []) == [0, 2, 3, 4, 5, 6]
