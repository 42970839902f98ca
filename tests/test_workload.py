"""Chats carried per commercial (``workload_steps``, ``workload_bins``, ``active_chats``)
against a brute-force reference (tests/workload_reference.py), on hand-built frames, on
generated ones (hypothesis) and on the sample session."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import guiders_lab as gl
from guiders_lab import analysis as A

from . import workload_reference as ref
from .workload_reference import at, frames


@pytest.fixture(scope="module")
def rec() -> gl.Recording:
    return gl.load("data/sample-session")


def check_steps(steps: pd.DataFrame, assignments: pd.DataFrame, chats: pd.DataFrame) -> None:
    """``steps`` is exactly the reference: one +1 per carried interval, one -1 per end,
    with its reason, and after the last change at each instant the brute-force level."""
    spans = ref.intervals(assignments, chats)
    group = ["session"] if "session" in steps.columns else []
    rows = steps.to_dict("records")
    owner = [tuple(r[c] for c in [*group, "commercial_id"]) for r in rows]
    chat = [tuple(r[c] for c in [*group, "chat_id"]) for r in rows]
    got = sorted(
        (o, c, r["at"], r["change"], r["reason"]) for o, c, r in zip(owner, chat, rows, strict=True)
    )
    want = sorted(
        [(s.owner, s.key, s.start, 1, "assigned") for s in spans]
        + [(s.owner, s.key, s.end, -1, s.reason) for s in spans if s.end is not None]
    )
    assert got == want
    times = list(steps["at"])
    assert times == sorted(times)
    for i, r in enumerate(rows):  # at one instant: releases first, then takes
        if i + 1 < len(rows) and times[i + 1] == times[i]:
            assert r["change"] <= rows[i + 1]["change"]
    # the level each instant ends on (the last row at an instant wins)
    final = {(o, r["at"]): r["active_chats"] for o, r in zip(owner, rows, strict=True)}
    assert final == ref.levels(spans)
    assert (steps["active_chats"] >= 0).all()


def check_bins(
    bins: pd.DataFrame, steps: pd.DataFrame, inputs: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """Every bin's max, time-weighted mean and takes equal the brute-force ones, and the
    bins tile the data from the first change to its end, session by session."""
    freq = bins.attrs["freq"]
    width = pd.Timedelta(freq)
    assignments, chats = inputs
    dataset = "session" in steps.columns
    for session in steps["session"].unique() if dataset else [None]:
        if dataset:
            own_bins = bins[bins["session"] == session]
            own_steps = steps[steps["session"] == session]
            spans = ref.intervals(
                assignments[assignments["session"] == session], chats[chats["session"] == session]
            )
            end = steps.attrs["end"][session]
        else:
            own_bins, own_steps, end = bins, steps, steps.attrs["end"]
            spans = ref.intervals(assignments, chats)
        starts = sorted(own_bins["at"].unique())
        assert starts[0] == own_steps["at"].min().floor(freq)
        assert all(b - a == width for a, b in itertools.pairwise(starts))
        assert starts[-1] <= end < starts[-1] + width
        want = ref.bins(spans, starts, freq, end)
        columns = ["session", "commercial_id"] if dataset else ["commercial_id"]
        got = {(tuple(r[c] for c in columns), r["at"]): r for r in own_bins.to_dict("records")}
        assert set(got) == set(want)
        for k, (most, mean, takes) in want.items():
            assert got[k]["max_chats"] == most, k
            assert ref.close(got[k]["mean_chats"], mean), (k, got[k]["mean_chats"], mean)
            assert got[k]["assignments"] == takes, k


def chat_seconds(bins: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
    """Per commercial, the time-weighted means integrated back over each bin's length
    (the last bin clipped at ``end``): the chat-seconds carried."""
    stops = np.minimum(bins["at"] + pd.Timedelta(bins.attrs["freq"]), end)
    seconds = (stops - bins["at"]).dt.total_seconds()
    return (bins["mean_chats"] * seconds).groupby(bins["commercial_id"]).sum()


def test_reassignments_same_instant_closes_and_open_chats() -> None:
    assignments, chats = frames(
        [
            ("c1", "ana", 0),
            ("c1", "ben", 100),  # handed on to ben
            ("c2", "ana", 100),  # ana takes c2 as c1 leaves her: her level stays 1
            ("c3", "ana", 50),  # closed at 30, before it was assigned: never carried
            ("c4", "ben", 200),  # never closed: carried until the end of the data
            ("c5", "cy", 100),
            ("c5", "ben", 100),  # same instant: ties go by commercial id, cy holds it
            ("c6", "ana", 150),
            ("c6", "ana", 170),  # assigned again to whoever has it: no change
        ],
        {"c1": 300, "c2": 250, "c3": 30, "c4": None, "c5": 320, "c6": 250},
    )
    before = (assignments.copy(), chats.copy())
    steps = A.workload_steps(assignments, chats)
    pd.testing.assert_frame_equal(assignments, before[0])  # inputs untouched
    pd.testing.assert_frame_equal(chats, before[1])
    assert list(steps.columns) == [
        "at",
        "commercial_id",
        "chat_id",
        "change",
        "reason",
        "active_chats",
    ]
    check_steps(steps, assignments, chats)
    rows = steps.assign(t=(steps["at"] - at(0)).dt.total_seconds())
    table = rows[["t", "commercial_id", "chat_id", "change", "reason", "active_chats"]]
    assert table.values.tolist() == [
        [0.0, "ana", "c1", 1, "assigned", 1],
        [100.0, "ana", "c1", -1, "reassigned", 0],  # the release first...
        [100.0, "ana", "c2", 1, "assigned", 1],  # ...then the take: never a peak of 2
        [100.0, "ben", "c1", 1, "assigned", 1],
        [100.0, "cy", "c5", 1, "assigned", 1],
        [150.0, "ana", "c6", 1, "assigned", 2],
        [200.0, "ben", "c4", 1, "assigned", 2],
        [250.0, "ana", "c2", -1, "closed", 1],
        [250.0, "ana", "c6", -1, "closed", 0],
        [300.0, "ben", "c1", -1, "closed", 1],
        [320.0, "cy", "c5", -1, "closed", 0],
    ]
    assert steps.attrs["end"] == at(320)  # the latest server time in the inputs
    bins = A.workload_bins(steps, "60s")
    check_bins(bins, steps, (assignments, chats))
    ben = bins[bins["commercial_id"] == "ben"].set_index("at")
    assert ben.loc[at(240), "max_chats"] == 2  # c1 and c4 until c1 closes at 300
    assert ben.loc[at(300), "max_chats"] == 1  # from 300 on, c4 alone
    assert ben.loc[at(300), "mean_chats"] == pytest.approx(1.0)  # over 300-320, the end
    assert ben.loc[at(60), "mean_chats"] == pytest.approx(20 / 60)  # c1 from 100 s


def test_bins_cover_every_moment_of_a_bin_not_one_instant() -> None:
    """Ana answers many short chats between the quarter hours, ben one long chat across
    one: the old instant samples showed ben busy and ana idle; the time-weighted mean
    and the max show what happened."""
    short = [(f"a{i}", "ana", 60 + 120 * i) for i in range(7)]  # 60 s each, none at :00/:15
    assignments, chats = frames(
        [*short, ("b1", "ben", 880)], {**{c: t + 60 for c, _, t in short}, "b1": 1_000}
    )
    steps = A.workload_steps(assignments, chats)
    active = A.active_chats(assignments, chats, "15min").set_index(["commercial_id", "at"])
    assert active.loc[("ana", at(0)), "active_chats"] == 1
    assert active.loc[("ana", at(0)), "mean_chats"] == pytest.approx(420 / 900)
    assert active.loc[("ben", at(900)), "mean_chats"] == pytest.approx(1.0)  # 900-1000 of 100 s
    spans = ref.intervals(assignments, chats)
    held = ref.carried_seconds(spans, steps.attrs["end"])
    assert held[("ana",)] > held[("ben",)]
    bins = A.workload_bins(steps, "15min")
    integral = chat_seconds(bins, steps.attrs["end"])
    assert integral.to_dict() == pytest.approx({"ana": 420.0, "ben": 120.0})
    assert integral.idxmax() == "ana"


def test_carried_time_decides_who_looks_busiest(rec: gl.Recording) -> None:
    """Per commercial, the bins' time-weighted means integrate to exactly the chat-time
    carried, so the one who carried the most chat-time has the largest mean (the 20 s
    demo showed the opposite)."""
    steps = A.workload_steps(rec.assignments, rec.chats)
    end = steps.attrs["end"]
    spans = ref.intervals(rec.assignments, rec.chats)
    held = {owner[-1]: s for owner, s in ref.carried_seconds(spans, end).items()}
    for freq in (None, "15min", "1h"):
        bins = A.workload_bins(steps, freq)
        integral = chat_seconds(bins, end)
        assert integral.to_dict() == pytest.approx(held)
        span = (end - bins["at"].min()).total_seconds()
        mean = integral / span  # the time-weighted mean over the whole session
        assert mean.idxmax() == max(held, key=held.__getitem__)
        assert mean.idxmin() == min(held, key=held.__getitem__)


def test_sample_session_against_the_reference(rec: gl.Recording) -> None:
    steps = A.workload_steps(rec.assignments, rec.chats)
    check_steps(steps, rec.assignments, rec.chats)
    assert (steps["change"] > 0).sum() == len(ref.intervals(rec.assignments, rec.chats))
    end = rec.chats["closed_at"].max()
    assert steps.attrs["end"] >= end
    for freq in (None, "5min", "30min"):
        bins = A.workload_bins(steps, freq)
        check_bins(bins, steps, (rec.assignments, rec.chats))
        assert bins["assignments"].sum() == (steps["change"] > 0).sum()
    assert 24 <= A.workload_bins(steps)["at"].nunique() <= 61  # 3 hours: 5min bins
    assert A.workload_bins(steps).attrs["freq"] == "5min"


def test_bin_size_follows_the_span() -> None:
    for seconds, freq in [(40, "1s"), (600, "10s"), (3 * 3600, "5min"), (86_400, "30min")]:
        assignments, chats = frames([("c1", "ana", 0)], {"c1": seconds})
        bins = A.workload_bins(A.workload_steps(assignments, chats))
        assert bins.attrs["freq"] == freq
        assert len(bins) <= 61


def test_an_explicit_end_extends_open_chats_and_drops_later_changes() -> None:
    assignments, chats = frames([("c1", "ana", 0), ("c2", "ana", 500)], {"c1": None, "c2": 600})
    steps = A.workload_steps(assignments, chats)
    bins = A.workload_bins(steps, "5min", end=at(400)).set_index("at")
    assert list(bins.index) == [at(0), at(300)]  # c2's changes come after the end
    assert bins["max_chats"].tolist() == [1, 1]
    assert bins["mean_chats"].tolist() == pytest.approx([1.0, 1.0])  # 300-400 of 100 s
    later = A.workload_bins(steps, "5min", end=at(1200)).set_index("at")
    assert later.loc[at(900), "mean_chats"] == pytest.approx(1.0)  # c1 still open


def test_sessions_keep_their_own_chats_and_levels() -> None:
    """In a dataset, chat ids and commercials repeat across sessions that overlap in
    time: each (session, chat_id) is its own chat, each (session, commercial) its own
    level."""
    a1, c1 = frames([("c1", "ana", 0), ("c2", "ana", 10)], {"c1": 100, "c2": 50}, "A")
    a2, c2 = frames([("c1", "ana", 20), ("c1", "ben", 30)], {"c1": 40}, "B")
    assignments, chats = pd.concat([a1, a2]), pd.concat([c1, c2])
    steps = A.workload_steps(assignments, chats)
    assert list(steps.columns)[:2] == ["session", "at"]
    check_steps(steps, assignments, chats)
    assert steps.groupby(["session", "commercial_id"])["active_chats"].max().to_dict() == {
        ("A", "ana"): 2,
        ("B", "ana"): 1,  # never 3: session B's ana is not session A's
        ("B", "ben"): 1,
    }
    assert steps.attrs["end"] == {"A": at(100), "B": at(40)}
    bins = A.workload_bins(steps, "10s")
    check_bins(bins, steps, (assignments, chats))
    assert bins.groupby("session")["at"].max().to_dict() == {"A": at(100), "B": at(40)}
    active = A.active_chats(assignments, chats, "10s")
    assert list(active.columns) == ["session", "at", "commercial_id", "active_chats", "mean_chats"]


# ---------------------------------------------------------------- generated frames
CHATS = ["c1", "c2", "c3", "c4", "c5"]
PEOPLE = ["ana", "ben", "cy"]


@st.composite
def workloads(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Small frames with many ties: a few chats, commercials and whole seconds, closes
    before, at and after assignments, open chats, chats missing from ``chats``, and
    sometimes two sessions reusing the same chat ids."""
    sessions = draw(st.sampled_from([[None], ["A", "B"]]))
    parts = []
    for session in sessions:
        assigned = draw(
            st.lists(
                st.tuples(st.sampled_from(CHATS), st.sampled_from(PEOPLE), st.integers(0, 12)),
                min_size=1,
                max_size=12,
            )
        )
        ids = sorted({c for c, _, _ in assigned})
        closed = {c: draw(st.none() | st.integers(0, 14)) for c in ids if draw(st.booleans())}
        parts.append(frames(assigned, closed, session))
    return pd.concat([a for a, _ in parts]), pd.concat([c for _, c in parts])


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.sample(frac=1, random_state=seed)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads())
def test_steps_match_the_brute_force_reference(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    assignments, chats = data
    steps = A.workload_steps(assignments, chats)
    check_steps(steps, assignments, chats)
    if len(steps):
        check_bins(A.workload_bins(steps, "2s"), steps, data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads(), st.integers(0, 2**31), st.sampled_from([None, "1s", "5s"]))
def test_shuffled_rows_give_the_same_result(
    data: tuple[pd.DataFrame, pd.DataFrame], seed: int, freq: str | None
) -> None:
    assignments, chats = data
    steps = A.workload_steps(assignments, chats)
    again = A.workload_steps(shuffled(assignments, seed), shuffled(chats, seed + 1))
    pd.testing.assert_frame_equal(steps, again)
    assert steps.attrs == again.attrs
    pd.testing.assert_frame_equal(A.workload_bins(steps, freq), A.workload_bins(again, freq))
    pd.testing.assert_frame_equal(
        A.workload_bins(steps, freq), A.workload_bins(shuffled(steps, seed), freq)
    )


def test_shuffled_sample_session_gives_the_same_result(rec: gl.Recording) -> None:
    steps = A.workload_steps(rec.assignments, rec.chats)
    for seed in range(3):
        again = A.workload_steps(shuffled(rec.assignments, seed), shuffled(rec.chats, seed))
        pd.testing.assert_frame_equal(steps, again)
        pd.testing.assert_frame_equal(
            A.active_chats(rec.assignments, rec.chats),
            A.active_chats(shuffled(rec.assignments, seed), shuffled(rec.chats, seed)),
        )
