"""The capture's fast path for plain event frames (``42["name", payload, meta]``): the
frame is split into name and JSON text by msgspec and the store decodes the payload from
those bytes, where the library path parses the frame into Python objects first. Both must
leave the store in exactly the same state, for the sample session's events and for
hostile frames (which the fast path hands back to the library, or stores the same way)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from guiders_lab.store import Store
from guiders_lab.transport.fastclient import FastAsyncClient
from guiders_lab.transport.fastjson import FastPacket

from .test_batch_equivalence import assert_same_store

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = [
    '42["visitor:online"]',  # no payload: the library's path
    '42[17,{"a":1}]',  # a name that is no string
    '42["message:new",{"chatId":',  # cut short: quarantined as undecodable
    '42["message:new",{"chatId":"c","content":5}]',  # wrong types: quarantined
    '42["chat:created","just a string"]',
    '42["message:new",{"messageId":"m-x"},{"seq":"nine","serverTime":"soon"}]',
    '42["message:new",{"messageId":"m-y"},7]',  # a second argument that is no object
    '42["' + "n" * 5_000 + '",{}]',  # a huge name
    '42["error",{"message":"boom"}]',
    '42["typing:start",{"chatId":"chat-1","userId":"v"},{"seq":3},"extra"]',
    "42[]",
    '42["message:new",{"chatId":"a\\ud83d"}]',  # a lone surrogate: not JSON text
    '42["message:new",{"chatId":"a\\ud83d\\ude00","messageId":"m-s"}]',  # a pair: fine
    '42["message:new",' + "[" * 2_000 + "]" * 2_000 + "]",  # nested past any parser
    '42["x",{}]garbage',
]


def frame(name: str, payload: object, meta: object | None) -> str:
    args = [name, payload] if meta is None else [name, payload, meta]
    return "42" + orjson.dumps(args).decode()


def sample_frames() -> list[tuple[str, float]]:
    frames = []
    for line in (ROOT / "data" / "sample-session" / "events.jsonl").read_bytes().splitlines():
        entry = orjson.loads(line)
        if entry["dir"] == "in" and "bad" not in entry:
            frames.append((frame(entry["name"], entry["payload"], entry.get("meta")), entry["t"]))
    return frames


def library_path(store: Store, text: str, t: float) -> None:
    """What python-socketio's path does with the frame (after Engine.IO's leading 4)."""
    packet = FastPacket(encoded_packet=text[1:])
    data = packet.data
    store.ingest(data[0], tuple(data[1:]), t)


def both_paths(frames: list[tuple[str, float]]) -> tuple[Store, Store, int]:
    fast, slow = Store(), Store()
    client = FastAsyncClient()
    now = {"t": 0.0}

    def handler(name: str, payload: bytes, meta: dict[str, object] | None) -> None:
        fast.ingest_json(name, payload, meta, now["t"])

    client.on_any_raw(handler)
    taken = 0
    for text, t in frames:
        now["t"] = t
        if client._event_frame(text):
            taken += 1
        else:
            library_path(fast, text, t)
        library_path(slow, text, t)
    return fast, slow, taken


def test_the_sample_session_lands_the_same_by_either_path() -> None:
    frames = sample_frames()
    fast, slow, taken = both_paths(frames)
    assert taken == len(frames) > 3_000  # every sample frame took the fast path
    assert len(fast.tables["messages"]) > 1_000
    assert_same_store(fast, slow)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: t[:40])
def test_hostile_frames_land_the_same_by_either_path(text: str) -> None:
    frames = [*sample_frames()[:50], (text, 1.8e9), *sample_frames()[50:60]]
    fast, slow, _ = both_paths(frames)
    assert_same_store(fast, slow)


def test_which_frames_take_the_fast_path() -> None:
    client = FastAsyncClient()
    seen: list[tuple[str, bytes, dict[str, object] | None]] = []
    client.on_any_raw(lambda *event: seen.append(event))
    assert client._event_frame('42["a", {"x": "é"}, {"seq": 1}]')
    assert seen == [("a", '{"x": "é"}'.encode(), {"seq": 1})]  # the payload's own text
    for text in ('42["a"]', "42[1,{}]", '42["a",{', "42[]"):
        assert not client._event_frame(text), text  # the library's path reads these
    assert len(seen) == 1
