"""Hostile and broken input over the real socket, by the thousand (property-based).

Every injected item must leave exactly one row in ``events``, in order: a broken event is
``quarantined`` with a reason, an unknown event name is kept as ``unknown``; the valid
message sent after each batch always arrives; the connection never drops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import guiders_lab as gl
from guiders_lab.dialects.ai_api.wire import CLIENT_EVENTS, SERVER_EVENTS

from .test_events import SERVER_SAMPLES

BATCHES = 90
MIN_BATCH = 115  # 90 x 115 > 10,000 hostile events
MAX_PAYLOAD = 64_000

Item = tuple[str, tuple[Any, ...], str]  # (kind, parts, expected status or "any")

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
WRONG_VALUES = [[1, 2], {"x": 1}, "not-a-value", 12345, 1.5, True, None, "", 2**64 - 1]


def _is_valid(value: Any, field_type: Any) -> bool:
    try:
        msgspec.convert(value, field_type)
    except (msgspec.ValidationError, TypeError, ValueError):
        return False
    return True


def _fields(event: str) -> list[msgspec.structs.FieldInfo]:
    return list(msgspec.structs.fields(SERVER_EVENTS[event]))


MUTABLE = {e: _fields(e) for e in SERVER_SAMPLES if e not in ("pong",)}


@st.composite
def broken_known_event(draw: st.DrawFn) -> Item:
    """A valid event of the page with one thing wrong: a required field missing, a field
    of the wrong type or null, a huge string, deep nesting, or a payload that is not an
    object at all."""
    event = draw(st.sampled_from(sorted(MUTABLE)))
    payload = dict(SERVER_SAMPLES[event][0])
    fields = MUTABLE[event]
    how = draw(st.sampled_from(["missing", "wrong_type", "huge", "deep", "not_object"]))
    required = [f for f in fields if f.required]
    if how == "missing" and required:
        payload.pop(draw(st.sampled_from(required)).encode_name)
    elif how in ("missing", "wrong_type"):
        candidates = [(f, v) for f in fields for v in WRONG_VALUES if not _is_valid(v, f.type)]
        field, value = draw(st.sampled_from(candidates))
        payload[field.encode_name] = value
    elif how == "huge":
        payload["padding"] = "x" * draw(st.integers(MAX_PAYLOAD, 4 * MAX_PAYLOAD))
    elif how == "deep" and required:
        nested: Any = "bottom"
        for _ in range(draw(st.integers(50, 250))):  # deeper is sent raw, below
            nested = [nested]
        payload[draw(st.sampled_from(required)).encode_name] = nested
    else:
        return (
            "event",
            (event, draw(st.one_of(json_leaf, st.lists(json_leaf, max_size=3)))),
            ("quarantined"),
        )
    return "event", (event, payload), "quarantined"


unknown_event = st.builds(
    lambda name, payload: ("event", (name, payload), "unknown"),
    st.text(min_size=1, max_size=30).filter(lambda n: n not in SERVER_EVENTS and n != "error"),
    json_value,
)

raw_frame = st.one_of(
    # not JSON at all, or JSON that is not an event list
    st.text(max_size=200).map(lambda t: ("frames", ("2[" + t,), "any")),
    st.sampled_from(['2{"a":1}', '2"text"', "2[]", "2[1,2]", "2null", "2[null]"]).map(
        lambda f: ("frames", (f,), "quarantined")
    ),
    # escaped lone surrogates: JSON no strict UTF-8 decoder accepts
    st.sampled_from(["\\ud800", "\\udfff", "a\\ud83d"]).map(
        lambda s: ("frames", ('2["message:new",{"chatId":"' + s + '"}]',), "quarantined")
    ),
    # integers past 64 bits (no JSON encoder of ours would write them)
    st.integers(2**64, 2**200).map(
        lambda n: (
            "frames",
            (f'2["commercial:status",{{"commercialId":"c","activeChats":{n}}}]',),
            "quarantined",
        )
    ),
    # deep nesting sent raw (a Python encoder would refuse to build it)
    st.integers(600, 5000).map(
        lambda d: ("frames", ('2["message:new",' + "[" * d + "]" * d + "]",), "quarantined")
    ),
    # binary attachments: bytes where an object belongs, invalid UTF-8 included
    st.binary(min_size=1, max_size=64).map(lambda b: ("event", ("message:new", b), "quarantined")),
    st.binary(min_size=1, max_size=64).map(
        lambda b: (
            "frames",
            ('51-["chat:created",{"_placeholder":true,"num":0}]', b"\xff\xfe" + b),
            "quarantined",
        )
    ),
    # a binary frame nobody announced
    st.binary(min_size=1, max_size=64).map(lambda b: ("frames", (b"\x04" + b,), "quarantined")),
)

hostile_item = st.one_of(broken_known_event(), unknown_event, raw_frame)


def _poll(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.005)


def _rows(store: gl.Store) -> int:
    return sum(store.status_counts.values())


@pytest.fixture(scope="module")
def hostile_session() -> Any:
    with gl.launch_simulator("demo", seed=8, speed=1.0, autostart=False) as sim:
        # broken ``error`` events count as errors too; here only capture is under test
        live = gl.connect_sync(
            sim, heartbeat_interval=None, max_payload_bytes=MAX_PAYLOAD, max_errors=10**9
        )
        yield sim, live
        gl.run(live.close())


def test_ten_thousand_hostile_events_never_break_capture(hostile_session: Any) -> None:
    sim, live = hostile_session
    injected = {"items": 0, "batches": 0}

    @settings(
        max_examples=BATCHES,
        deadline=None,
        database=None,
        phases=(Phase.generate,),  # the socket is stateful: replaying to shrink misleads
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(hostile_item, min_size=MIN_BATCH, max_size=MIN_BATCH + 20))
    def one_batch(items: list[Item]) -> None:
        before = _rows(live.store)
        n = injected["batches"] = injected["batches"] + 1
        sentinel = {**SERVER_SAMPLES["message:new"][0], "messageId": f"sentinel-{n}"}
        sim.inject_many(
            [(kind, parts) for kind, parts, _ in items] + [("event", ("message:new", sentinel))]
        )
        try:
            _poll(lambda: _rows(live.store) >= before + len(items) + 1)
        except AssertionError:
            got = _rows(live.store) - before
            raise AssertionError(
                f"{got} rows for {len(items) + 1} items: {items!r:.3000}"
            ) from None
        rows = live.store.tables["events"].to_arrow(["name", "status", "message_id"], start=before)
        statuses = rows.column("status").to_pylist()
        assert len(statuses) == len(items) + 1, "one row per injected item"
        for (_, parts, expected), status in zip(items, statuses, strict=False):
            if expected == "any":
                assert status in ("quarantined", "unknown", "ok"), parts
            else:
                assert status == expected, (parts, status)
        assert statuses[-1] == "ok" and rows.column("message_id")[-1].as_py() == f"sentinel-{n}"
        assert live.connected
        injected["items"] += len(items)

    one_batch()
    assert injected["items"] >= 10_000
    m = live.metrics()
    assert m["disconnects"] == 0 and m["quarantined"] >= 0.6 * injected["items"]
    quarantine = live.quarantine
    assert quarantine["reason"].str.len().gt(0).all()  # every one says why
    assert quarantine["payload"].str.len().max() <= 8_192  # previews, not whole payloads
    sentinels = live.messages["message_id"].str.startswith("sentinel-")
    assert sentinels.sum() == injected["batches"]  # the good events around them are kept


client_event = st.sampled_from(sorted(CLIENT_EVENTS))


@settings(max_examples=300, deadline=None, database=None)
@given(client_event, json_value)
def test_the_simulator_answers_any_bad_client_event_with_an_error_ack(
    hostile_session: Any, event: str, payload: Any
) -> None:
    """Raw calls bypass the client's own validation: the server must still answer."""
    _, live = hostile_session
    ack = live._io.run_sync(live.transport.call(event, payload, 5.0), timeout=10)
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
    if not ack["ok"]:
        assert ack["error"]["code"] and ack["error"]["message"], ack
    assert live.connected


@pytest.mark.parametrize(
    "header",
    ['61-0[{"_placeholder":true,"num":0}]', '51-["chat:created",{"_placeholder":true,"num":0}]'],
)
def test_a_binary_packet_whose_attachment_never_comes_swallows_nothing(header: str) -> None:
    """A text packet where an attachment was due: the announced packet is quarantined and
    the text event is captured (the library took it for the attachment: lost)."""
    with gl.launch_simulator("demo", seed=3, speed=1.0, autostart=False) as sim:
        live = gl.connect_sync(sim, heartbeat_interval=None)
        sim.inject_frame(header)
        sim.inject("visitor:online", {"visitorId": "good-0"})
        sim.inject("visitor:online", {"visitorId": "good-1"})
        _poll(lambda: _rows(live.store) >= 3)
        gl.run(live.close())
    assert set(live.presence["person_id"]) == {"good-0", "good-1"}
    assert live.quarantine["reason"].tolist() == [
        "undecodable frame: binary packet without its attachment"
    ]
