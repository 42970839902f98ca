"""Derived tables and analysis do not depend on the order events arrive in.

Real sessions' events (the sample recording, and a live capture whose connection was
dropped again and again) are fed permuted, duplicated and late, through the live path
(``Store.ingest``, one event at a time, as the socket does) and the bulk path (a journal
rebuilt in blocks), and every derived table and analysis must come out identical. A live
capture with forced drops is then checked chat by chat against a reference computed from
its journal another way (tests/reference_chats.py)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import guiders_lab as gl
from guiders_lab import analysis as A
from guiders_lab.record.journal import JOURNAL_NAME
from guiders_lab.record.load import rebuild
from guiders_lab.store import Store

from .conftest import wait_for
from .reference_chats import compare_with_reference

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample-session"

Incoming = tuple[str, bytes, dict[str, Any] | None, float]  # name, payload, meta, received


def incoming(journal: Path) -> list[Incoming]:
    """A journal's good incoming events, in the order they arrived, each once (a dropped
    connection's journal holds second copies, received later: the copy that came first
    is *the* event; the tests add their own copies)."""
    events, seen = [], set()
    for raw in journal.read_bytes().splitlines():
        line = orjson.loads(raw)
        if line.get("dir") != "in" or "bad" in line:
            continue
        seq = (line.get("meta") or {}).get("seq")
        if seq is not None:
            if seq in seen:
                continue
            seen.add(seq)
        events.append((line["name"], orjson.dumps(line["payload"]), line.get("meta"), line["t"]))
    return events


def through_live_path(events: list[Incoming]) -> Store:
    store = Store()
    for name, payload, meta, t in events:
        args = (orjson.loads(payload),) if meta is None else (orjson.loads(payload), meta)
        store.ingest(name, args, t)
    store.flush_lag()
    return store


@contextlib.contextmanager
def counting_bulk() -> Iterator[list[bool]]:
    """Record whether each bulk batch offered to the store was taken."""
    taken: list[bool] = []
    original = Store.ingest_batch

    def spy(store: Store, batch: Any) -> bool:
        taken.append(original(store, batch))
        return taken[-1]

    Store.ingest_batch = spy  # type: ignore[method-assign]
    try:
        yield taken
    finally:
        Store.ingest_batch = original  # type: ignore[method-assign]


def through_bulk_path(events: list[Incoming], directory: Path) -> tuple[Store, list[bool]]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / JOURNAL_NAME, "wb") as f:
        for k, (name, payload, meta, t) in enumerate(events, 1):
            entry = {"seq": k, "t": t, "dir": "in", "name": name}
            entry["payload"] = orjson.Fragment(payload)
            if meta is not None:
                entry["meta"] = meta
            f.write(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
    with counting_bulk() as taken:
        store = rebuild(directory)
    return store, taken


def _sorted(frame: pd.DataFrame, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in drop if c in frame.columns])
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


def derived(store: Store, *, same_receive_times: bool) -> dict[str, pd.DataFrame]:
    """Everything derived from the events, in a canonical form. Receive times (and the
    event lag they give) are the one thing that legitimately changes when an event is
    delivered later: they are compared only when the arrivals kept them."""
    drop = () if same_receive_times else ("received_at",)
    chats = store.frame("chats")
    messages = store.frame("messages")
    assignments = store.frame("assignments")
    outcomes = A.chat_outcomes(chats)
    out = {
        "chats": chats,  # in creation order, not sorted here: the order is part of it
        "messages": _sorted(messages, drop),
        "assignments": _sorted(assignments, drop),
        "presence": _sorted(store.frame("presence"), drop),
        "visitor_actions": _sorted(store.frame("visitor_actions"), drop),
        "typing_events": _sorted(store.frame("typing_events"), drop),
        "errors": _sorted(store.frame("errors"), drop),
        "chat_outcomes": outcomes,
        "outcome_summary": A.outcome_summary(outcomes, by="department"),
        "commercial_summary": A.commercial_summary(outcomes),
        "response_latency": _sorted(A.response_latency(messages)),
        "active_chats": A.active_chats(assignments, chats, "15min"),
        "workload_bins": A.workload_bins(A.workload_steps(assignments, chats)),
        "chat_sentiment": A.chat_sentiment(
            A.add_sentiment(messages, lambda text: (len(text) % 7 - 3) / 3)
        ),
    }
    if same_receive_times:
        events = store.frame("events")
        # which copy is the duplicate is an arrival fact: the statistics are not
        lag = A.event_lag_summary(events, by_name=True)
        out["event_lag_summary"] = lag.drop(columns=["n_duplicates", "n_resync"])
    counts = {k: v for k, v in store.counts.items()}
    out["accepted"] = pd.Series(
        {
            "ok_and_unknown": store.status_counts["ok"] + store.status_counts["unknown"],
            "quarantined": store.status_counts["quarantined"],
            "names": len(counts),
        }
    ).to_frame()
    return out


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame], how: str) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=f"{how}: {name}")


def arrive(events: list[Incoming], rng: random.Random, how: dict[str, Any]) -> list[Incoming]:
    """The same events arriving otherwise: shuffled within windows (or wholly), some
    repeated later, some held back to the end (as a reconnect's resync delivers them),
    their receive time kept or moved to when they now arrive."""
    out = list(events)
    window = how["window"]
    if window:
        for start in range(0, len(out), window):
            chunk = out[start : start + window]
            rng.shuffle(chunk)
            out[start : start + window] = chunk
    late = [e for e in out if rng.random() < how["late"]]
    if late:
        held = {id(e) for e in late}
        out = [e for e in out if id(e) not in held]
        last = max(e[3] for e in events)
        if how["move_receive_times"]:
            late = [(n, p, m, last + 1.0 + k * 0.001) for k, (n, p, m, _) in enumerate(late)]
        out += late
    for event in [e for e in out if rng.random() < how["duplicates"]]:
        out.insert(rng.randrange(len(out) + 1), event)  # an exact copy, anywhere
    return out


@pytest.fixture(scope="module")
def dropped_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A busy afternoon captured while the connection is dropped again and again, so the
    journal holds re-delivered events behind newer ones: (recording, live chats)."""
    directory = tmp_path_factory.mktemp("dropped") / "run"

    async def capture() -> pd.DataFrame:
        with gl.launch_simulator("busy_afternoon", seed=3, speed=600.0) as sim:
            live = await gl.connect(
                sim,
                record_to=directory,
                heartbeat_interval=None,
                reconnection_delay=0.6,
                reconnection_delay_max=0.8,
                randomization_factor=0.0,
                reconnection_attempts=0,
            )
            for _ in range(8):
                await asyncio.sleep(1.0)
                await wait_for(lambda: live.connected, timeout=10)
                sim.drop_connections()
            await asyncio.sleep(1.5)
            await wait_for(
                lambda: live.connected and live.metrics()["missing_events"] == 0, timeout=20
            )
            await live.close()
        return live.chats  # everything the journal holds, as live capture derived it

    return directory, asyncio.run(capture())


def test_a_dropped_capture_has_late_events(dropped_capture) -> None:
    """The capture the other tests lean on really does deliver events out of order."""
    directory, _ = dropped_capture
    events = gl.load(directory).events.query("direction == 'in'")
    seqs = events["server_seq"].dropna().astype(int).tolist()
    behind = sum(seq < max(seqs[:k]) for k, seq in enumerate(seqs) if k)
    assert behind > 50, behind
    assert (events["delivery"] == "resync").sum() > 50


def test_live_chats_with_forced_drops_match_the_journal_reference(dropped_capture) -> None:
    directory, chats = dropped_capture
    assert len(chats) > 80
    problems = compare_with_reference(chats, directory / JOURNAL_NAME)
    assert not problems, problems[:20]
    rebuilt = gl.load(directory, rebuild_tables=True)
    assert not compare_with_reference(rebuilt.chats, directory / JOURNAL_NAME)
    loaded = gl.load(directory)
    for table in ("chats", "events", "latency", "messages", "assignments"):
        pd.testing.assert_frame_equal(
            getattr(loaded, table), getattr(rebuilt, table), check_exact=True, obj=table
        )


async def test_a_flat_out_replay_of_a_dropped_capture_gives_the_recorded_tables(
    dropped_capture,
) -> None:
    directory, _ = dropped_capture
    replayed = await gl.replay(directory, speed=float("inf")).finished()
    loaded = gl.load(directory)
    assert (replayed.events["delivery"] == "resync").sum() > 50
    for table in ("chats", "events", "messages", "assignments"):
        pd.testing.assert_frame_equal(
            getattr(replayed, table), getattr(loaded, table), check_exact=True, obj=table
        )


def _sources(dropped_capture) -> dict[str, list[Incoming]]:
    return {
        "sample": incoming(SAMPLE / JOURNAL_NAME),
        "dropped": incoming(dropped_capture[0] / JOURNAL_NAME),
    }


_REFERENCE: dict[str, dict[str, pd.DataFrame]] = {}


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    source=st.sampled_from(["sample", "dropped"]),
    seed=st.integers(0, 2**32 - 1),
    window=st.sampled_from([0, 2, 50, 10**9]),
    late=st.sampled_from([0.0, 0.05, 0.3]),
    duplicates=st.sampled_from([0.0, 0.02, 0.2]),
    move_receive_times=st.booleans(),
)
def test_permuted_duplicated_and_late_events_give_the_same_tables(
    dropped_capture, tmp_path_factory, source, seed, window, late, duplicates, move_receive_times
) -> None:
    events = _sources(dropped_capture)[source]
    how = {
        "window": window,
        "late": late,
        "duplicates": duplicates,
        "move_receive_times": move_receive_times,
    }
    same_times = not (move_receive_times and late)
    key = f"{source}-{same_times}"
    if key not in _REFERENCE:  # as they arrived
        _REFERENCE[key] = derived(through_live_path(events), same_receive_times=same_times)
    reference = _REFERENCE[key]
    shuffled = arrive(events, random.Random(seed), how)

    live = derived(through_live_path(shuffled), same_receive_times=same_times)
    assert_same(reference, live, f"live path, {how}")
    store, taken = through_bulk_path(shuffled, tmp_path_factory.mktemp("bulk"))
    assert_same(reference, derived(store, same_receive_times=same_times), f"bulk path, {how}")
    if not duplicates:
        assert any(taken), "the bulk path took no batch"
