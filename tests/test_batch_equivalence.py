"""The bulk path (rebuilds, flat-out replays) gives exactly what feeding events one by one
gives: every table, counter, dedupe window and sequence mark, on clean recordings and on
journals full of the odd and the broken, where it must refuse a batch and fall back."""

from __future__ import annotations

import json
import math
import random
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import guiders_lab as gl
from guiders_lab.dialects import BatchRefused, Malformed
from guiders_lab.dialects.ai_api.dialect import AI_API
from guiders_lab.events.records import UNDECODABLE
from guiders_lab.record import reader
from guiders_lab.record.journal import JOURNAL_NAME
from guiders_lab.record.load import rebuild
from guiders_lab.record.manifest import Manifest
from guiders_lab.store import Store
from guiders_lab.store.store import TABLES

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-session"
T0 = 1_764_000_000.0


def assert_same_store(a: Store, b: Store) -> None:
    for name in [*TABLES, "chats"]:
        pd.testing.assert_frame_equal(a.frame(name), b.frame(name), check_exact=True, obj=name)
    assert list(a.counts.items()) == list(b.counts.items())
    assert a.status_counts == b.status_counts
    assert len(a) == len(b)
    for attr in (
        "sent",
        "ping_n",
        "ping_sum_ms",
        "last_ping_ms",
        "last_lag_ms",
        "redelivered",
        "reconnected_at",
    ):
        assert getattr(a, attr) == getattr(b, attr), attr
    ta, tb = a.seq_tracker, b.seq_tracker
    assert (ta.contiguous, ta.highest, ta.above, ta.gaps_seen) == (
        tb.contiguous,
        tb.highest,
        tb.above,
        tb.gaps_seen,
    )
    for window in ("server_seqs", "message_ids", "assignment_ids"):
        assert getattr(a, window).snapshot() == getattr(b, window).snapshot(), window


def both_ways(directory: Path, **store_options) -> tuple[Store, Store, list[str], list[str]]:
    """(bulk, one by one, bulk warnings, one-by-one warnings)."""
    stores, said = [], []
    for bulk in (True, False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stores.append(rebuild(directory, Store(**store_options), bulk=bulk))
        said.append([str(w.message) for w in caught])
    return stores[0], stores[1], said[0], said[1]


@pytest.fixture
def bulk_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """(events, taken) for every run offered to the bulk path: refused when decoding it,
    or by the store, or taken."""
    calls: list[tuple[int, bool]] = []
    real_decode, real_ingest = reader.decode_batch, Store.ingest_batch

    def decode(dialect, names, *args):
        try:
            return real_decode(dialect, names, *args)
        except BatchRefused:
            calls.append((len(names), False))
            raise

    def ingest(store, decoded):
        taken = real_ingest(store, decoded)
        calls.append((decoded.n, taken))
        return taken

    monkeypatch.setattr(reader, "decode_batch", decode)
    monkeypatch.setattr(Store, "ingest_batch", ingest)
    return calls


def test_sample_session_rebuilds_identically_in_bulk(bulk_calls) -> None:
    bulk, single, said_bulk, said_single = both_ways(SAMPLE)
    assert_same_store(bulk, single)
    assert said_bulk == said_single == []
    assert len(bulk.frame("events")) == 3310
    assert sum(n for n, taken in bulk_calls if taken) == 3310  # all of it went in bulk


# ----------------------------------------------------------------------------- hostile journal


class JournalWriter:
    """A journal of plausible traffic with, at rate ``odd``, every shape the bulk path must
    refuse or get exactly right: wrong types, odd timestamps, duplicates, quarantines,
    unknown events, sent events, actions, clock steps back, junk meta, lines that are not
    JSON."""

    def __init__(self, seed: int, odd: float) -> None:
        self.rng = random.Random(seed)
        self.odd = odd
        self.lines: list[bytes] = []
        self.seq = 0
        self.server_seq = 0
        self.t = T0
        self.message_ids: list[str] = []
        self.chats: list[str] = []
        self.actions = 0

    def maybe(self, rate: float = 1.0) -> bool:
        return self.rng.random() < self.odd * rate

    def pick(self, *options):
        return self.rng.choice(options)

    def when(self) -> object:
        """A wire timestamp: mostly RFC 3339, sometimes anything the reference tolerates
        or refuses."""
        at = self.t - self.rng.uniform(0, 2)
        iso = pd.Timestamp(at, unit="s", tz="UTC")
        if not self.maybe(3):
            return iso.strftime("%Y-%m-%dT%H:%M:%S.") + f"{iso.microsecond // 1000:03d}Z"
        return self.pick(
            iso.isoformat(),  # +00:00 and 6 digits
            iso.tz_convert("Europe/Madrid").isoformat(),
            iso.strftime("%Y-%m-%dT%H:%M:%S"),  # no offset: read as UTC
            iso.strftime("%Y-%m-%d %H:%M:%SZ"),  # space: refused by the bulk path
            iso.strftime("%Y-%m-%dT%H:%M:%S.%f") + "1Z",  # 7 digits
            int(at * 1000),
            at,
            None,
            "yesterday",
            "1960-01-01T00:00:00Z",
            "2025-02-30T00:00:00Z",
            True,
        )

    def text(self) -> object:
        return self.pick("hola", "¿dónde está mi pedido?", "", "a\nb \u2028", 5, None)

    def payload(self, name: str) -> object:
        rng, odd = self.rng, self.maybe
        chat = self.pick(*self.chats) if self.chats and rng.random() < 0.9 else f"c{self.seq}"
        if name == "message:new":
            mid = (
                self.pick(*self.message_ids[-50:])
                if self.message_ids and odd(0.3)
                else f"m{self.seq}"
            )
            self.message_ids.append(mid)
            sender = {
                "id": self.pick("v1", "k1", "bot"),
                "role": self.pick("visitor", "commercial", "ai", "system", None),
                "name": self.pick("Ana", None),
            }
            p = {"chatId": chat, "messageId": mid, "content": "hola", "sender": sender}
            p["timestamp"] = self.when()
            if rng.random() < 0.5:
                p["type"] = self.pick("user", "ai-response", "commercial", "system")
            if odd():
                p["type"] = None
            if rng.random() < 0.5:
                p["metadata"] = self.pick(
                    None,
                    {"department": "ventas", "urgency": "high", "source": "web"},
                    {"aiModel": "m", "confidence": 0.5, "processingTime": 12, "isAutomated": True},
                    {"department": None, "confidence": 1},
                )
            if odd():
                bad = self.pick("content", "sender", "chatId", "metadata", "id")
                if bad == "id":
                    sender["id"] = self.pick(None, 7)
                elif bad == "metadata":
                    p["metadata"] = self.pick({"confidence": "high"}, {"isAutomated": 1}, "x")
                else:
                    p[bad] = self.pick(None, 5, ["x"])
            if odd(0.3):
                p["sender"] = self.pick(None, "v1")
            return p
        if name == "chat:created":
            self.chats.append(f"c{self.seq}")
            p = {"chatId": f"c{self.seq}", "createdAt": self.when()}
            p["visitorId"] = self.pick("v1", "", None) if odd() else "v1"
            if rng.random() < 0.5:
                p["visitor"] = self.pick(None, {"id": "v2", "name": "Bea"}, {"name": "Bea"})
            p["department"] = self.pick("ventas", "soporte", None)
            if rng.random() < 0.3:
                p["status"] = self.pick("queued", "pending", None)
            if odd():
                p["status"] = 3
            p["metadata"] = self.pick(None, {"source": "ads", "urgency": "low", "language": "es"})
            return p
        if name == "chat:assigned":
            return {
                "chatId": chat,
                "commercialId": self.pick("k1", "k2"),
                "assignedAt": self.when(),
                "metadata": self.pick(None, {}, {"load": 2, "why": ["a"]}),
            }
        if name == "chat:closed":
            meta = self.pick(None, {"converted": True, "rating": 4}, {"converted": False})
            if odd():
                meta = self.pick({"converted": "yes"}, {"rating": "5"})
            return {
                "chatId": chat,
                "closedAt": self.when(),
                "reason": self.pick("resolved", "abandoned", None),
                "closedBy": self.pick("visitor", "system", None),
                "metadata": meta,
            }
        if name == "visitor:online":
            return {
                "visitorId": self.pick("v1", "v2") if not odd() else self.pick(None, 1),
                "name": "Ana",
                "page": "/p",
                "timestamp": self.when(),
                "metadata": self.pick(None, {"source": "ads", "returning": True}),
            }
        if name == "visitor:action":
            return {
                "visitorId": "v1",
                "action": self.pick("view", "cart") if not odd() else self.pick(None, 2),
                "chatId": self.pick(chat, None),
                "value": self.pick(None, 3, 9.5, "10") if odd() else self.pick(None, 3, 9.5),
                "timestamp": self.when(),
            }
        if name == "commercial:status":
            p = {
                "commercialId": "k1",
                "status": "online",
                "name": self.pick("Lucía", None),
                "activeChats": self.pick(1, 2**70, -(2**63), 1.5, "2", True) if odd() else 1,
                "maxChats": 5,
                "specialties": self.pick(None, [], ["ventas", "b2b"]),
                "timestamp": self.when(),
            }
            if odd():
                bad = self.pick("specialties", "status", "commercialId", "name")
                p[bad] = (
                    self.pick([None], ["a", 1], "x", None, 5)
                    if bad == "specialties"
                    else (self.pick(None, 5))
                )
            return p
        if name == "pong":
            return {"timestamp": int(self.t * 1000) - rng.randint(1, 90)}
        if name in ("typing:start", "typing:stop"):
            return {"chatId": chat, "typerId": "k1"}
        if name == "error":
            return {"message": "nope", "code": self.pick(None, 4, "E1"), "event": "chat:assign"}
        if name == UNDECODABLE:
            return {"error": "bad frame"}
        return {"anything": [1, {"x": None}]}  # an event the dialect does not know

    def meta(self) -> object:
        if self.rng.random() < 0.05:
            return None
        self.server_seq += 1
        seq = self.server_seq
        if self.maybe(0.5):
            seq = self.pick(seq - self.rng.randint(1, 30), seq + 3, None)  # repeat, gap
        meta: dict[str, object] = {"seq": seq}
        if self.rng.random() < 0.9:
            meta["serverTime"] = (self.t - self.rng.uniform(0, 0.05)) * 1000
        if self.maybe(0.2):
            meta = self.pick({"seq": -1}, {"seq": "7"}, {"serverTime": "x"}, {"serverTime": 1e30})
        return meta

    def event(self) -> None:
        names = [
            "message:new",
            "visitor:action",
            "visitor:online",
            "chat:created",
            "chat:closed",
            "chat:assigned",
            "commercial:status",
            "pong",
            "typing:start",
            "typing:stop",
            "error",
            "foo:bar",
            UNDECODABLE,
        ]
        weights = [30, 40, 10, 6, 6, 2, 2, 1, 1, 1, 0.3, 0.3, 0.1]
        name = self.rng.choices(names, weights)[0]
        self.t += self.rng.expovariate(200)
        if self.maybe(0.5):
            self.t -= self.rng.uniform(0, 0.2)  # the clock stepped back
        self.seq += 1
        line: dict[str, object] = {"seq": self.seq, "t": self.t, "dir": "in", "name": name}
        if self.maybe(0.3):
            reason = "oversized payload: 2,000,000 bytes > limit 1,000,000"
            line["bad"] = {"reason": reason, "preview": '{"chatId": "c', "size": 2_000_000}
        elif self.maybe(0.2):
            line["payload"] = self.pick([1, 2], "x", 5, None)
        else:
            line["payload"] = self.payload(name)
        meta = self.meta()
        if meta is not None:
            line["meta"] = meta
        self.lines.append(json.dumps(line, ensure_ascii=False).encode() + b"\n")  # big ints

    def sent(self) -> None:
        self.seq += 1
        chat = self.pick(*self.chats) if self.chats else "c0"
        payload = {"chatId": chat, "content": "hola", "type": "ai-response"}
        line = {"seq": self.seq, "t": self.t, "dir": "out", "name": "message:send"}
        self.lines.append(orjson.dumps({**line, "payload": payload}) + b"\n")
        self.actions += 1
        update = {"chatId": chat, "updates": {"status": "escalated", "tags": ["urgente"]}}
        row = {
            "action_id": self.actions,
            "bot": "test",
            "mode": "live",
            "name": "chat:update",
            "chat_id": chat,
            "payload": orjson.dumps(update).decode(),
            "trigger_seq": self.seq,
            "decided_at": self.t,
            "acked_at": self.t + 0.01,
            "ok": True,
            "error_code": None,
            "error_message": None,
            "ack_ms": 10.0,
            "processing_ms": 1.0,
        }
        self.lines.append(orjson.dumps({"dir": "action", "row": row}) + b"\n")

    def write(self, directory: Path, events: int, torn: bool = False) -> Path:
        for _ in range(events):
            if self.maybe(0.5):
                self.sent()
            if self.maybe(0.05):
                self.lines.append(self.pick(b"not json\n", b"\n", b'{"dir": "in"}, {}\n'))
            self.event()
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / JOURNAL_NAME, "wb") as f:
            f.writelines(self.lines)
            if torn:
                f.write(b'{"seq": 1, "t": 1.0, "dir": "in", "na')
        Manifest(
            dialect="ai-api", server_url="http://sim", started_at="2026-11-25T00:00:00Z"
        ).write(directory)
        return directory


@pytest.mark.parametrize(
    ("seed", "odd", "block", "min_run"),
    [
        (1, 0.0, 1 << 20, 64),
        (2, 0.002, 1 << 16, 8),
        (3, 0.01, 1 << 14, 4),
        (4, 0.05, 1 << 13, 1),
        (5, 0.2, 1 << 12, 1),
    ],
)
def test_hostile_journals_rebuild_identically(
    tmp_path: Path, monkeypatch, bulk_calls, seed: int, odd: float, block: int, min_run: int
) -> None:
    monkeypatch.setattr(reader, "BLOCK_BYTES", block)
    monkeypatch.setattr(reader, "MIN_RUN", min_run)
    directory = JournalWriter(seed, odd).write(tmp_path / "rec", 6000, torn=seed % 2 == 0)
    bulk, single, said_bulk, said_single = both_ways(directory)
    assert_same_store(bulk, single)
    assert said_bulk == said_single  # the same warnings, naming the same lines
    assert len(single.frame("events")) > 5000
    taken = sum(n for n, ok in bulk_calls if ok)
    refused = sum(n for n, ok in bulk_calls if not ok)
    assert taken > 0  # the bulk path did real work ...
    if odd >= 0.01:
        assert refused > 0  # ... and refused what it could not prove equal
        assert single.status_counts["quarantined"] > 0 and single.status_counts["duplicate"] > 0


def test_server_seqs_across_the_hash_modulus_rebuild_identically(
    tmp_path: Path, monkeypatch
) -> None:
    """Dedupe windows hold hashes; the bulk path skips hashing ints below the modulus
    (their own hash), so a run of sequence numbers crossing it must still match."""
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 15)
    writer = JournalWriter(12, 0.0)
    writer.server_seq = sys.hash_info.modulus - 2000
    directory = writer.write(tmp_path / "rec", 5000)
    bulk, single, _, _ = both_ways(directory, dedupe_window=100_000)
    assert_same_store(bulk, single)
    assert hash(single.seq_tracker.highest) != single.seq_tracker.highest  # it crossed


def test_small_windows_and_lag_windows_match(tmp_path: Path, monkeypatch) -> None:
    """Dedupe windows that overflow inside one batch, and event-lag windows of every size."""
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 15)
    directory = JournalWriter(9, 0.001).write(tmp_path / "rec", 5000)
    for options in ({"dedupe_window": 50, "lag_window_s": 0.001}, {"lag_window_s": 7.0}):
        bulk, single, _, _ = both_ways(directory, **options)
        assert_same_store(bulk, single)


def test_a_simulated_clock_rebuilds_identically_and_measures_only_wall_times(
    tmp_path: Path, monkeypatch, bulk_calls
) -> None:
    """On a simulator the events' own times run on its compressed day: lag comes only from
    a ``serverTime`` (or a pong's), alike in bulk and one by one."""
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 15)
    directory = JournalWriter(3, 0.01).write(tmp_path / "rec", 5000)
    bulk, single, _, _ = both_ways(directory, simulated_clock=True)
    assert_same_store(bulk, single)
    assert sum(n for n, ok in bulk_calls if ok) > 0
    simulated = single.frame("events")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the torn lines, said by both_ways already
        wall = rebuild(directory, Store(), bulk=False).frame("events")
    measured = simulated["lag_ms"].notna()
    assert 0 < measured.sum() < wall["lag_ms"].notna().sum()  # record times left out
    assert simulated.loc[measured, "lag_ms"].equals(wall.loc[measured, "lag_ms"])


async def test_flat_out_replay_matches_one_by_one(tmp_path: Path, monkeypatch, bulk_calls) -> None:
    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 15)
    directory = JournalWriter(11, 0.01).write(tmp_path / "rec", 4000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = rebuild(directory, Store(), bulk=False)
        session = gl.replay(directory, speed=math.inf, progress=False)
        await session.finished()
        await session.close()
    assert any(ok for _, ok in bulk_calls)
    assert_same_store(session.store, reference)
    assert session.metrics()["events_replayed"] == sum(
        1 for line in (directory / JOURNAL_NAME).read_bytes().splitlines() if line.strip()
    ) - _unreadable(directory)


def _unreadable(directory: Path) -> int:
    bad = 0
    for line in (directory / JOURNAL_NAME).read_bytes().splitlines():
        try:
            reader._decode_line(line + b"\n")
        except Exception:
            bad += line.strip() != b""
    return bad


# ----------------------------------------------------------------------------- timestamps

_ISO = st.builds(
    lambda y, mo, d, h, mi, s, frac, off: (
        f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}" + frac + off
    ),
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["", ".1", ".12", ".123456", ".1234567", "."]),
    st.sampled_from(["Z", "+00:00", "-05:30", "+23:59", "+24:00", "z", "", "+0100"]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stamps=st.lists(_ISO, min_size=1, max_size=8))
def test_timestamps_read_alike_or_refuse(stamps: list[str]) -> None:
    """Every timestamp the columnar decoder accepts, the reference reads to the same
    microsecond; anything it is unsure of refuses the batch."""
    payloads = [orjson.dumps({"visitorId": "v", "action": "view", "timestamp": s}) for s in stamps]
    received = pa.array([T0] * len(stamps)).cast(pa.int64()).cast(pa.timestamp("us", "UTC"))
    try:
        _, table = AI_API.decode_columns("visitor:action", payloads, received)
    except BatchRefused:
        return
    for stamp, payload, at in zip(stamps, payloads, table.column("at").to_pylist(), strict=True):
        try:
            record = AI_API.decode_json("visitor:action", payload, T0)
        except Malformed:
            pytest.fail(f"bulk accepted {stamp!r}, which the reference refuses")
        assert record.at == at.timestamp(), stamp
        assert re.match(r"^\d{4}-", stamp)


@pytest.mark.parametrize("odd_one", [b"null", b"5", b'"x"', b"[1]", b"true", b""])
def test_a_payload_that_is_not_an_object_refuses_the_batch(odd_one: bytes) -> None:
    """Never handed to Arrow's JSON reader, which crashes the process on a bare ``null``."""
    good = orjson.dumps({"visitorId": "v", "action": "view", "timestamp": "2026-01-01T00:00:00Z"})
    received = pa.array([T0] * 3).cast(pa.int64()).cast(pa.timestamp("us", "UTC"))
    with pytest.raises(BatchRefused):
        AI_API.decode_columns("visitor:action", [good, odd_one, good], received)


def test_read_ahead_keeps_order_and_stops_cleanly(tmp_path: Path, monkeypatch) -> None:
    """Blocks come back in journal order whatever thread decoded them; leaving early
    stops the workers and closes the journal."""
    import threading

    monkeypatch.setattr(reader, "BLOCK_BYTES", 1 << 12)
    directory = JournalWriter(21, 0.01).write(tmp_path / "rec", 2000)
    path = directory / JOURNAL_NAME
    dialect = Store().dialect
    expected = [(b.first, len(b.entries)) for b in reader.journal_blocks(path)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [(b.first, len(b.entries)) for b in reader.ReadAhead(path, dialect, workers=3)]
    assert got == expected and len(got) > 20

    ahead = reader.ReadAhead(path, dialect)
    for k, _ in enumerate(ahead):
        if k == 2:
            break
    assert ahead._blocks.gi_frame is None  # the journal's generator (and file) closed
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if n.startswith(("guiders-lab-read", "guiders-lab-decode"))]


def test_a_failing_read_surfaces_in_the_consumer(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(reader.ReadAhead(tmp_path / "missing.jsonl", Store().dialect))


def _essence(entry) -> tuple:
    meta = entry.meta
    seq = meta.get("seq") if isinstance(meta, dict) else meta.seq
    return entry.dir, entry.seq, entry.t, entry.name, bytes(entry.payload), seq


@pytest.mark.parametrize("block", [16, 100, 1 << 12])
def test_blocks_hold_every_line_as_the_line_reader_reads_it(
    tmp_path: Path, monkeypatch, block: int
) -> None:
    """Lines longer than a block, lines cut at every block edge, a blank line, a line
    that is not JSON, one with two values, and a torn tail: the block reader gives the
    same entries, line numbers and warnings as reading the file line by line."""
    monkeypatch.setattr(reader, "BLOCK_BYTES", block)
    rng = random.Random(block)
    lines = []
    for k in range(300):
        payload = {"visitorId": f"v{k}", "action": "view", "pad": "x" * rng.randrange(0, 300)}
        lines.append(
            orjson.dumps(
                {
                    "seq": k,
                    "t": T0 + k,
                    "dir": "in",
                    "name": "visitor:action",
                    "payload": payload,
                    "meta": {"seq": k},
                }
            )
        )
    lines[40] = b""
    lines[90] = b'{"seq": 90, "dir": "in", oops'
    lines[150] = lines[149] + b" " + lines[151]
    path = tmp_path / JOURNAL_NAME
    path.write_bytes(b"\n".join(lines) + b"\n" + lines[299][:25])

    with warnings.catch_warnings(record=True) as said_by_lines:
        warnings.simplefilter("always")
        expected = [(number, _essence(e)) for number, e in reader.iter_journal(path)]
    got = []
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        for b in reader.journal_blocks(path):
            for k in reader.positions(b):
                got.append((b.number(k), _essence(b.entries[k])))
    assert got == expected
    assert len(expected) == 300 - 3
    assert [str(w.message) for w in said] == [str(w.message) for w in said_by_lines]
    assert any("truncated" in str(w.message) for w in said)


# ------------------------------------------------------------------ odd bytes in payloads


def _journal_of(directory: Path, lines: list[bytes]) -> Path:
    directory.mkdir(parents=True)
    (directory / JOURNAL_NAME).write_bytes(b"".join(line + b"\n" for line in lines))
    Manifest(dialect="ai-api", server_url="http://sim", started_at="2026-11-25T00:00:00Z").write(
        directory
    )
    return directory


def _in_line(k: int, name: str, payload: bytes) -> bytes:
    head = b'{"seq":%d,"t":%r,"dir":"in","name":"%s","payload":' % (k, T0 + k, name.encode())
    return head + payload + b',"meta":{"seq":%d}}' % k


def _message(k: int, content: bytes = b"hi", extra: bytes = b"") -> bytes:
    return (
        b'{"chatId":"c1","messageId":"m%d","content":"%s","sender":{"id":"v1","role":"visitor"},'
        b'"timestamp":"2025-11-24T16:00:00.000Z"%s}' % (k, content, extra)
    )


def test_payloads_that_are_not_utf8_are_quarantined_alike(tmp_path: Path, monkeypatch) -> None:
    """JSON is UTF-8, but neither msgspec's raw reader nor Arrow's JSON reader checks it:
    a bad byte in a field the decoder reads, in one it ignores, in an unknown event or in
    a sent event must neither crash a rebuild nor make the events table unreadable."""
    monkeypatch.setattr(reader, "MIN_RUN", 1)
    action = b'{"visitorId":"v1","action":"view","zz":"%s","timestamp":"2025-11-24T16:00:00Z"}'
    lines = [_in_line(k, "message:new", _message(k)) for k in range(4)]
    lines[1] = _in_line(1, "message:new", _message(1, b"h\xffi"))
    lines += [_in_line(4, "visitor:action", action % b"ok")]
    lines += [_in_line(5, "visitor:action", action % b"\xfe")]
    lines += [_in_line(6, "foo:bar", b'{"x":"\xc3"}')]
    lines += [b'{"seq":7,"t":%r,"dir":"out","name":"message:send","payload":{"c":"\xff"}}' % T0]
    directory = _journal_of(tmp_path / "rec", lines)
    bulk, single, said_bulk, said_single = both_ways(directory)
    assert_same_store(bulk, single)
    assert said_bulk == said_single and len(said_single) == 1  # the sent event, skipped
    assert "not valid UTF-8" in said_single[0] and ":8:" in said_single[0]
    assert single.status_counts["quarantined"] == 3
    reasons = single.frame("quarantine")["reason"].tolist()
    assert reasons == ["payload is not valid UTF-8"] * 3
    assert len(single.frame("events")) == 7 and len(single.frame("messages")) == 3


def test_an_escaped_key_set_to_null_refuses_the_batch(tmp_path: Path, monkeypatch) -> None:
    """``"\\u0074ype": null`` is ``"type": null`` to both decoders, which the reference
    quarantines; the bulk path must not read it as a missing ``type``."""
    monkeypatch.setattr(reader, "MIN_RUN", 1)
    lines = [_in_line(k, "message:new", _message(k)) for k in range(4)]
    lines[1] = _in_line(1, "message:new", _message(1, extra=b',"\\u0074ype":null'))
    bulk, single, _, _ = both_ways(_journal_of(tmp_path / "rec", lines))
    assert_same_store(bulk, single)
    assert single.status_counts["quarantined"] == 1


def test_a_negative_zero_reads_as_the_reference_reads_it(tmp_path: Path, monkeypatch) -> None:
    """JSON ``-0`` is the integer zero to the reference (0.0), -0.0 to Arrow; frames
    compare -0.0 equal to 0.0, so the sign is checked on its own."""
    monkeypatch.setattr(reader, "MIN_RUN", 1)
    lines = [
        _in_line(k, "message:new", _message(k, extra=b',"metadata":{"confidence":%s}' % z))
        for k, z in enumerate([b"-0", b"-0.0", b"0", b"0.5"])
    ]
    bulk, single, _, _ = both_ways(_journal_of(tmp_path / "rec", lines))
    assert_same_store(bulk, single)
    signs = [np.signbit(s.frame("messages")["confidence"].to_numpy()) for s in (bulk, single)]
    assert signs[0].tolist() == signs[1].tolist() == [False, True, False, False]


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary(), pa.string()])
def test_decode_columns_reads_any_binary_array_and_slices(kind: pa.DataType) -> None:
    payloads = [
        orjson.dumps({"visitorId": f"v{k}", "action": "view", "timestamp": "2026-01-01T00:00:00Z"})
        for k in range(5)
    ]
    received = pa.array([T0] * 3).cast(pa.int64()).cast(pa.timestamp("us", "UTC"))
    column = pa.array(payloads, pa.binary()).cast(kind).slice(1, 3)
    _, table = AI_API.decode_columns("visitor:action", column, received)
    assert table.column("visitor_id").to_pylist() == ["v1", "v2", "v3"]


@pytest.mark.parametrize("payload", [b"null", b"[1]", b'"s"', b"1"])
def test_a_sent_event_whose_payload_is_not_an_object_is_skipped(
    tmp_path: Path, payload: bytes
) -> None:
    lines = [_in_line(k, "message:new", _message(k)) for k in range(3)]
    sent = b'{"seq":9,"t":%r,"dir":"out","name":"message:send","payload":%s}' % (T0, payload)
    lines.insert(1, sent)
    bulk, single, said_bulk, said_single = both_ways(_journal_of(tmp_path / "rec", lines))
    assert_same_store(bulk, single)
    assert said_bulk == said_single and len(said_single) == 1
    assert ":2: unusable line" in said_single[0] and "not a JSON object" in said_single[0]
    assert single.sent == 0 and len(single.frame("messages")) == 3
