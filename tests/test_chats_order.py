"""The chats table decides "first", "last" and "current" by the server's timestamps (ties by
server sequence number, then id), never by arrival: each case below is one a reconnect
produces when it re-delivers old events behind new ones."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import guiders_lab as gl
from guiders_lab.store import Store

T0 = datetime(2025, 1, 15, 10, 0, tzinfo=UTC).timestamp()
CHAT = "chat-1"


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, UTC).isoformat().replace("+00:00", "Z")


def created(seconds: float, seq: int) -> tuple[str, tuple]:
    payload = {"chatId": CHAT, "visitorId": "v-1", "department": "ventas", "createdAt": at(seconds)}
    return "chat:created", (payload, {"seq": seq, "serverTime": (T0 + seconds) * 1000})


def message(seconds: float, seq: int, role: str, kind: str = "user") -> tuple[str, tuple]:
    payload = {
        "chatId": CHAT,
        "messageId": f"m-{seq}",
        "content": "hola",
        "type": kind,
        "sender": {"id": f"{role}-1", "role": role},
        "timestamp": at(seconds),
    }
    return "message:new", (payload, {"seq": seq, "serverTime": (T0 + seconds) * 1000})


def assigned(seconds: float, seq: int, commercial: str) -> tuple[str, tuple]:
    payload = {"chatId": CHAT, "commercialId": commercial, "assignedAt": at(seconds)}
    return "chat:assigned", (payload, {"seq": seq, "serverTime": (T0 + seconds) * 1000})


def closed(seconds: float, seq: int) -> tuple[str, tuple]:
    payload = {"chatId": CHAT, "closedAt": at(seconds), "reason": "resolved"}
    return "chat:closed", (payload, {"seq": seq, "serverTime": (T0 + seconds) * 1000})


def row(events: list[tuple[str, tuple]]) -> pd.Series:
    store = Store()
    for k, (name, args) in enumerate(events):
        store.ingest(name, args, T0 + 1000 + k)  # received in this order
    return store.frame("chats").set_index("chat_id").loc[CHAT]


def ts(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(T0 + seconds, unit="s", tz="UTC")


def test_a_visitor_message_re_delivered_after_the_reply_still_gets_its_response() -> None:
    reply = message(30, 4, "commercial", "commercial")
    first_words = message(10, 3, "visitor")
    chat = row([created(0, 1), reply, first_words])
    assert chat["first_visitor_message_at"] == ts(10)
    assert chat["first_response_at"] == chat["first_human_response_at"] == ts(30)
    assert chat["time_to_first_response"] == pd.Timedelta(seconds=30)
    assert chat["status"] == "active"


def test_an_earlier_visitor_message_arriving_late_promotes_an_earlier_reply() -> None:
    """An AI reply at 20 s came before the only visitor message known (40 s): not a
    response then; once the visitor's message of 10 s arrives, it is the first one."""
    events = [
        created(0, 1),
        message(20, 3, "ai", "ai-response"),
        message(40, 4, "visitor"),
        message(50, 5, "commercial", "commercial"),
    ]
    in_order = row(events)
    late = row([*events, message(10, 2, "visitor")])
    assert in_order["first_response_at"] == ts(50)
    assert late["first_response_at"] == late["first_ai_response_at"] == ts(20)
    assert late["first_human_response_at"] == ts(50)


def test_a_re_delivered_older_assignment_does_not_take_the_chat_back() -> None:
    chat = row([created(0, 1), assigned(60, 3, "ben"), assigned(30, 2, "ana")])
    assert chat["commercial_id"] == "ben"
    assert chat["first_assigned_at"] == ts(30) and chat["n_assignments"] == 2
    assert chat["status"] == "assigned"


def test_a_late_older_message_does_not_move_the_last_message_back() -> None:
    chat = row([created(0, 1), message(90, 3, "visitor"), message(40, 2, "visitor")])
    assert chat["last_message_at"] == ts(90)
    assert chat["first_visitor_message_at"] == ts(40)


def test_a_close_re_delivered_before_its_chat_was_created_still_closes_it() -> None:
    chat = row([closed(300, 5), assigned(60, 2, "ana"), created(0, 1)])
    assert chat["status"] == "closed" and chat["closed_at"] == ts(300)
    assert chat["created_at"] == ts(0) and chat["duration"] == pd.Timedelta(seconds=300)


def test_same_time_events_are_ordered_by_server_sequence() -> None:
    a, b = assigned(60, 7, "ana"), assigned(60, 8, "ben")
    assert row([created(0, 1), a, b])["commercial_id"] == "ben"
    assert row([created(0, 1), b, a])["commercial_id"] == "ben"


_LIFE = [
    created(0, 1),
    message(5, 2, "ai", "ai-response"),  # a welcome before the visitor writes
    message(10, 3, "visitor"),
    assigned(20, 4, "ana"),
    message(25, 5, "visitor"),
    message(40, 6, "commercial", "commercial"),
    assigned(60, 7, "ben"),
    message(70, 8, "ai", "ai-response"),
    message(90, 9, "visitor"),
    closed(120, 10),
]


@settings(max_examples=150, deadline=None)
@given(order=st.permutations(range(len(_LIFE))), repeat=st.lists(st.integers(0, 9), max_size=4))
def test_any_arrival_order_of_a_chats_life_gives_the_same_row(order, repeat) -> None:
    reference = row(_LIFE)
    events = [_LIFE[i] for i in order] + [_LIFE[i] for i in repeat]  # repeats: duplicates
    pd.testing.assert_series_equal(row(events), reference)


def test_every_order_of_the_status_steps_gives_the_final_status() -> None:
    steps = [created(0, 1), assigned(20, 2, "ana"), message(10, 3, "visitor")]
    reply = message(30, 4, "commercial", "commercial")
    for order in itertools.permutations([*steps, reply]):
        assert row(list(order))["status"] == "active"
    for order in itertools.permutations(steps):
        assert row(list(order))["status"] == "assigned"


def test_an_update_after_the_reply_sets_the_status_until_a_later_reply() -> None:
    store = Store()
    for k, (name, args) in enumerate([created(0, 1), message(10, 2, "visitor")]):
        store.ingest(name, args, T0 + k)
    store.ingest(*message(30, 3, "commercial", "commercial"), T0 + 2)
    store.chats.update(CHAT, {"status": "pending"}, T0 + 40)  # back in the queue
    assert store.chats.get(CHAT).status == "pending"
    store.ingest(*message(50, 4, "commercial", "commercial"), T0 + 3)
    assert store.chats.get(CHAT).status == "active"


def test_tags_keep_the_order_they_were_first_set() -> None:
    store = Store()
    store.chats.update(CHAT, {"tags": ["b", "a"]}, T0 + 20)
    store.chats.update(CHAT, {"tags": ["c", "a"]}, T0 + 10)  # acknowledged out of order
    assert store.chats.get(CHAT).tags == "c,a,b"


def test_a_sentiment_note_is_kept_over_a_loaded_recording(tmp_path) -> None:
    rec = gl.load("data/sample-session")
    chat_id = rec.chats["chat_id"].iloc[0]
    before = rec.chats.set_index("chat_id").loc[chat_id]
    rec.store.note_chat(chat_id, min_sentiment=-0.9)
    after = rec.chats.set_index("chat_id").loc[chat_id]
    assert after["min_sentiment"] == -0.9
    unchanged = after.drop("min_sentiment")
    pd.testing.assert_series_equal(unchanged, before.drop("min_sentiment"))


def test_an_update_replaces_the_priority_the_chat_was_opened_with_in_any_order() -> None:
    name, (payload, meta) = created(0, 1)
    opened = (name, ({**payload, "metadata": {"urgency": "low"}}, meta))
    assert row([opened])["priority"] == "low"
    for update_first in (False, True):
        store = Store()
        if update_first:
            store.chats.update(CHAT, {"priority": "urgent"}, T0 + 20)
        store.ingest(*opened, T0 + 30)
        if not update_first:
            store.chats.update(CHAT, {"priority": "urgent"}, T0 + 20)
        chat = store.chats.get(CHAT)
        assert (chat.priority, chat.escalated) == ("urgent", True)
    assert not row([opened])["escalated"]  # opened low: not an escalation
