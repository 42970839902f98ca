"""Analysis functions on small hand-built frames with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import guiders_lab as gl
from guiders_lab import analysis as A

T = pd.Timestamp("2025-01-15T09:00:00Z")


def s(seconds: float | None) -> pd.Timestamp | None:
    if seconds is None or pd.isna(seconds):
        return None
    return T + pd.Timedelta(seconds=seconds)


def chats_frame() -> pd.DataFrame:
    rows = [
        # chat, dept, commercial, created, assigned, first resp, human, ai, closed, reason, conv
        ("c1", "sales", "ana", 0, 60, 30, 90, 30, 600, "resolved", True, True),
        ("c2", "sales", "ana", 3600, 3720, 3840, 3840, None, 4200, "resolved", False, False),
        ("c3", "support", "ben", 60, None, None, None, None, 460, "abandoned", None, False),
        ("c4", "support", "ben", 7200, 7230, 7260, 7260, None, None, None, None, True),
    ]
    cols = [
        "chat_id",
        "department",
        "commercial_id",
        "created_at",
        "first_assigned_at",
        "first_response_at",
        "first_human_response_at",
        "first_ai_response_at",
        "closed_at",
        "close_reason",
        "converted",
        "escalated",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    for c in cols[3:9]:
        frame[c] = pd.to_datetime(frame[c].map(s), utc=True)
    frame["converted"] = frame["converted"].astype("boolean")
    frame["n_messages"] = [4, 3, 2, 5]
    return frame


def test_chat_outcomes_timings_and_flags() -> None:
    chats = chats_frame()
    before = chats.copy()
    out = A.chat_outcomes(chats).set_index("chat_id")
    pd.testing.assert_frame_equal(chats, before)  # input not mutated
    assert list(out.reset_index().columns) == list(A.OUTCOME_COLUMNS)
    assert out.loc["c1", "time_to_assign_s"] == 60
    assert out.loc["c1", "time_to_first_response_s"] == 30
    assert out.loc["c1", "time_to_first_ai_s"] == 30
    assert out.loc["c1", "time_to_first_human_s"] == 90
    assert out.loc["c2", "duration_s"] == 600
    assert math.isnan(out.loc["c3", "time_to_assign_s"])
    assert math.isnan(out.loc["c4", "duration_s"])  # still open
    assert list(out["abandoned"]) == [False, False, True, False]
    assert list(out["converted"]) == [True, False, False, False]
    assert list(out["hour"]) == [9, 10, 9, 11]


def test_outcome_summary_overall_and_by_department() -> None:
    out = A.chat_outcomes(chats_frame())
    overall = A.outcome_summary(out).loc["all"]
    assert overall["chats"] == 4 and overall["closed"] == 3
    # outcomes over the 3 closed chats (c4 is still open), escalation over all 4
    assert overall["abandonment_rate"] == pytest.approx(1 / 3)
    assert overall["conversion_rate"] == pytest.approx(1 / 3)
    assert overall["resolved_rate"] == pytest.approx(2 / 3) and overall["timeout_rate"] == 0
    assert overall["escalation_rate"] == 0.5
    assert overall["mean_time_to_assign_s"] == pytest.approx((60 + 120 + 30) / 3)
    by_dept = A.outcome_summary(out, by="department")
    assert by_dept.loc["sales", "chats"] == 2 and by_dept.loc["support", "abandonment_rate"] == 1
    assert (
        by_dept.loc["support", "closed"] == 1 and by_dept.loc["support", "escalation_rate"] == 0.5
    )
    assert by_dept.loc["sales", "mean_duration_s"] == 600
    by_hour = A.by_hour(chats_frame())
    assert by_hour.loc[9, "chats"] == 2 and by_hour.loc[11, "chats"] == 1


def test_rates_of_groups_with_no_closed_chat_are_unknown_not_zero() -> None:
    out = A.chat_outcomes(chats_frame())
    by_chat = A.outcome_summary(out, by="chat_id")
    assert by_chat.loc["c4", "closed"] == 0
    assert math.isnan(by_chat.loc["c4", "abandonment_rate"])
    assert by_chat.loc["c4", "escalation_rate"] == 1.0
    timeout = chats_frame().assign(close_reason=["resolved", "timeout", "abandoned", None])
    overall = A.outcome_summary(A.chat_outcomes(timeout)).loc["all"]
    assert overall["timeout_rate"] == pytest.approx(1 / 3)
    rates = ["resolved_rate", "abandonment_rate", "timeout_rate"]
    assert overall[rates].sum() == pytest.approx(1.0)  # every closed chat has one outcome


def test_commercial_summary_and_fairness() -> None:
    summary = A.commercial_summary(A.chat_outcomes(chats_frame()))
    assert summary.loc["ana", "chats"] == 2
    # ben's c4 is still open: his one closed chat (c3) was abandoned
    assert summary.loc["ben", "closed"] == 1 and summary.loc["ben", "abandonment_rate"] == 1.0
    assert summary.loc["ana", "total_chat_s"] == 1200
    assert A.jain_index([3, 3, 3]) == 1.0
    assert A.jain_index([4, 0, 0, 0]) == 0.25
    assert math.isnan(A.jain_index([]))


def test_active_chats_over_time() -> None:
    chats = chats_frame()
    assignments = pd.DataFrame(
        {
            "chat_id": ["c1", "c2", "c4", "c1"],
            "commercial_id": ["ana", "ana", "ben", "ben"],
            "assigned_at": pd.to_datetime([s(60), s(3720), s(7230), s(300)], utc=True),
        }
    )
    active = A.active_chats(assignments, chats, freq="5min").set_index(["commercial_id", "at"])
    # ana holds c1 from 60 s until ben takes it over at 300 s: per bin, the most carried
    # at any moment (not a sample at the bin's first instant) and the time-weighted mean
    assert active.loc[("ana", s(0)), "active_chats"] == 1
    assert active.loc[("ana", s(0)), "mean_chats"] == pytest.approx(240 / 300)
    assert active.loc[("ben", s(300)), "active_chats"] == 1  # c1 from 300 s to 600 s
    assert active.loc[("ben", s(600)), "active_chats"] == 0
    assert active.loc[("ana", s(3900)), "active_chats"] == 1  # c2 from 3720 s to 4200 s
    # c4 is never closed: it counts until the end of the data (7260 s, its first
    # response), where the last bin stops
    assert active.index.get_level_values("at").max() == s(7200)
    assert active.loc[("ben", s(7200)), "active_chats"] == 1
    assert active.loc[("ben", s(7200)), "mean_chats"] == pytest.approx(30 / 60)


def messages_frame() -> pd.DataFrame:
    rows = [  # chat, id, t, role, is_ai
        ("c1", "m1", 0, "visitor", False),
        ("c1", "m2", 5, "visitor", False),
        ("c1", "m3", 20, "ai", True),
        ("c1", "m4", 30, "visitor", False),
        ("c1", "m5", 90, "commercial", False),
        ("c2", "m6", 0, "visitor", False),
        ("c2", "m7", 10, "system", False),
    ]
    frame = pd.DataFrame(rows, columns=["chat_id", "message_id", "t", "sender_role", "is_ai"])
    frame["sent_at"] = pd.to_datetime(frame.pop("t").map(s), utc=True)
    frame["content"] = [
        "hola",
        "¿hay alguien?",
        "Hola, soy la IA",
        "quiero un humano",
        "Soy Ana",
        "hello",
        "Ana joined",
    ]
    return frame


def test_response_latency_per_turn_and_responder() -> None:
    turns = A.response_latency(messages_frame()).set_index("message_id")
    assert list(turns.index) == ["m1", "m4", "m6"]  # m2 continues the m1 turn
    assert turns.loc["m1", "responder"] == "ai" and turns.loc["m1", "response_s"] == 20
    assert turns.loc["m4", "responder"] == "human" and turns.loc["m4", "response_s"] == 60
    assert math.isnan(turns.loc["m6", "response_s"])  # a system notice is not an answer
    summary = A.response_latency_summary(turns.reset_index())
    assert summary.loc["ai", "n"] == 1 and summary.loc["human", "p50"] == 60


def test_latency_summaries() -> None:
    latency = pd.DataFrame(
        {"kind": ["ping", "ping", "event_lag", "ping"], "value_ms": [10.0, 20.0, 99.0, 30.0]}
    )
    ping = A.ping_summary(latency)
    assert ping["n"] == 3 and ping["mean"] == 20 and ping["max"] == 30
    events = pd.DataFrame(
        {
            "direction": ["in", "in", "out", "in"],
            "name": ["a", "b", "a", "a"],
            "lag_ms": [1.0, 3.0, None, 5.0],
        }
    )
    assert A.event_lag_summary(events).loc["all", "mean"] == 3
    assert A.event_lag_summary(events, by_name=True).loc["a", "n"] == 2


def test_sentiment_hooks_accept_any_scorer() -> None:
    messages = messages_frame()

    class Score:
        def __init__(self, text: str) -> None:
            self.score = -0.9 if "humano" in text else 0.3
            self.label = "negative" if self.score < 0 else "positive"
            self.intensity = abs(self.score)

    for scorer in (
        Score,
        lambda t: -0.9 if "humano" in t else 0.3,
        lambda t: (-0.9, "negative", 0.9) if "humano" in t else (0.3, None, None),
    ):
        scored = A.add_sentiment(messages, scorer)
        assert "sentiment_score" not in messages.columns  # the input is untouched
        visitor = scored[scored["sender_role"] == "visitor"].set_index("message_id")
        assert visitor.loc["m4", "sentiment_score"] == -0.9
        assert visitor.loc["m4", "sentiment_label"] == "negative"
        assert visitor.loc["m1", "sentiment_label"] == "positive"
        assert scored.loc[scored["sender_role"] == "ai", "sentiment_score"].isna().all()
    per_chat = A.chat_sentiment(scored)
    assert per_chat.loc["c1", "min_sentiment"] == -0.9 and per_chat.loc["c1", "n_scored"] == 3
    timeline = A.sentiment_timeline(scored, freq="1min")
    assert timeline["messages"].sum() == 4
    assert timeline.loc[0, "negative_share"] == pytest.approx(1 / 4)


def test_sentiment_scores_every_row_when_every_role_is_chosen() -> None:
    """Every row scored (no NaN to fill around), and numpy scalars as scores."""
    messages = messages_frame()
    roles = tuple(messages["sender_role"].unique())
    scored = A.add_sentiment(messages, lambda t: np.int64(-1) if "humano" in t else 0.5, roles)
    assert scored["sentiment_score"].notna().all() and len(scored) == len(messages)
    assert (scored["sentiment_label"] == "negative").sum() == (
        messages["content"].str.contains("humano").sum()
    )
    only_visitors = messages[messages["sender_role"] == "visitor"]
    scored = A.add_sentiment(only_visitors, lambda t: np.float32(0.25))
    assert scored["sentiment_label"].tolist() == ["positive"] * len(only_visitors)


def _at(seconds: float) -> pd.Timestamp:
    return pd.Timestamp("2025-01-15T09:00:00Z") + pd.Timedelta(seconds=seconds)


def test_chats_of_different_sessions_never_mix() -> None:
    """In a dataset, two sessions may both have a chat ``c1``: per-chat functions key on
    (session, chat_id)."""
    messages = pd.DataFrame(
        {
            "session": ["A", "A", "B", "B"],
            "chat_id": ["c1"] * 4,
            "message_id": ["a1", "a2", "b1", "b2"],
            "sent_at": pd.to_datetime([_at(0), _at(50), _at(10), _at(20)], utc=True),
            "sender_role": ["visitor", "commercial", "visitor", "commercial"],
            "is_ai": pd.array([False] * 4, dtype="boolean"),
            "content": ["x"] * 4,
        }
    )
    turns = A.response_latency(messages)
    assert turns[["session", "message_id", "response_s"]].values.tolist() == [
        ["A", "a1", 50.0],
        ["B", "b1", 10.0],
    ]
    scored = A.add_sentiment(messages, lambda t: 0.5)
    assert len(A.chat_sentiment(scored)) == 2

    chats = pd.DataFrame(
        {"session": ["A", "B"], "chat_id": ["c1", "c1"], "closed_at": [_at(60), _at(30)]}
    )
    assignments = pd.DataFrame(
        {
            "session": ["A", "B"],
            "chat_id": ["c1", "c1"],
            "commercial_id": ["ana", "ben"],
            "assigned_at": [_at(5), _at(12)],
        }
    )
    active = A.active_chats(assignments, chats, "10s").set_index(["commercial_id", "at"])
    held = active["active_chats"]
    assert held[("ana", _at(10))] == 1 and held[("ana", _at(50))] == 1
    assert held[("ana", _at(60))] == 0
    assert held[("ben", _at(20))] == 1
    assert held[("ben", _at(30))] == 0
    assert held[("ben", _at(10))] == 1  # from 12 s: the bin 10-20 s holds it


def test_a_chat_closed_before_its_assignment_arrived_is_never_carried() -> None:
    chats = pd.DataFrame({"chat_id": ["c1", "c2"], "closed_at": [_at(60), _at(900)]})
    assignments = pd.DataFrame(
        {
            "chat_id": ["c1", "c2"],
            "commercial_id": ["ana", "ana"],
            "assigned_at": [_at(120), _at(0)],
        }
    )
    active = A.active_chats(assignments, chats, "1min").set_index("at")["active_chats"]
    assert active.min() >= 0
    assert active[_at(60)] == 1 and active[_at(180)] == 1  # only c2, all along
    missing = A.active_chats(assignments, chats.iloc[:0], "5min")  # no chat rows at all
    assert missing["active_chats"].max() == 2  # both open: nothing says they closed


def test_functions_work_on_the_sample_recording() -> None:
    rec = gl.load("data/sample-session")
    outcomes = A.chat_outcomes(rec.chats)
    assert len(outcomes) == len(rec.chats)
    summary = A.outcome_summary(outcomes, by="department")
    assert summary["chats"].sum() == len(rec.chats)
    turns = A.response_latency(rec.messages)
    assert (turns["response_s"].dropna() >= 0).all()
    active = A.active_chats(rec.assignments, rec.chats)
    assert active["active_chats"].min() >= 0
    assert active["active_chats"].max() <= 4  # no simulated agent holds more than max_chats
