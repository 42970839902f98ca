"""What the simulated backend does with each client event: one table, event name -> handler.

A handler gets a payload already validated against the shared outgoing schema and returns
the ack's details (the server adds ``ok: true``), or raises
:class:`~guiders_lab.sim.model.SimError` for a refusal. The table's keys are exactly the
dialect's client events (a test checks it), so a new event needs one function here.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from .identity import Identity
from .model import SimError
from .world import ACCOUNT_ROOM, chat_room

if TYPE_CHECKING:
    from .server import SimServer

__all__ = ["HANDLERS", "Handler", "sync"]

Handler = Callable[["SimServer", dict[str, Any], str, Identity], Awaitable[dict[str, Any]]]

_PACKET_HEADER_BYTES = 16  # "42" + an ack id, more than enough


async def _ping(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    server_time = time.time() * 1000.0
    await server.sio.emit("pong", {"timestamp": p["timestamp"], "serverTime": server_time}, to=sid)
    return {"timestamp": p["timestamp"], "serverTime": server_time}


async def _message(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    return server.engine.act_message(p, _sender(p.get("type", "ai-response"), who))


async def _assign(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    return server.engine.act_assign(p, "ai-system" if who.role == "ai" else "manual")


async def _update(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    return server.engine.act_update(p, who.id)


async def _join(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    _known_chat(server, p["chatId"])
    await server.sio.enter_room(sid, chat_room(p["chatId"]))
    return {"chatId": p["chatId"], "room": chat_room(p["chatId"])}


def _relay_typing(event: str) -> Handler:
    """Typing indicators go to the chat room's other members, as they are."""

    async def relay(
        server: SimServer, p: dict[str, Any], sid: str, who: Identity
    ) -> dict[str, Any]:
        _known_chat(server, p["chatId"])
        server.enqueue(event, p, chat_room(p["chatId"]), sid)
        return {}

    return relay


async def _notify(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    room = _notification_room(server, p["target"])
    return {"delivered": _deliver(server, "notification:send", {**p, "from": who.id}, room, sid)}


async def _suggest(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    server.engine.act_suggest(p)
    room = f"commercial:{p['commercialId']}"
    payload = {**p, "from": who.id}
    return {"delivered": _deliver(server, "assistance:suggestions", payload, room, sid)}


async def _trigger(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    return server.engine.act_trigger(p)


async def _sync(server: SimServer, p: dict[str, Any], sid: str, who: Identity) -> dict[str, Any]:
    if server.faults.sync_reply is not None:
        return dict(server.faults.sync_reply)
    return await sync(server, sid, p.get("sinceSeq") or 0, p.get("maxFrameBytes"))


HANDLERS: dict[str, Handler] = {
    "ping": _ping,
    "message:send": _message,
    "chat:assign": _assign,
    "chat:update": _update,
    "chat:join": _join,
    "typing:start": _relay_typing("typing:start"),
    "typing:stop": _relay_typing("typing:stop"),
    "notification:send": _notify,
    "assistance:suggestions": _suggest,
    "trigger:high_conversion_flow": _trigger,
    "state:sync": _sync,
}


async def sync(server: SimServer, sid: str, since: int, max_frame: int | None) -> dict[str, Any]:
    """Send one client the account events it missed (the page's sincronizarEstado).

    An event larger than the client's frame limit would only cut the connection again
    (and again on every resync): it is skipped and listed instead."""
    history = server.history
    oldest = history[0][0] if history else server.seq + 1
    skipped: list[dict[str, Any]] = []
    replayed = 0
    for seq, event, payload, meta in [item for item in history if item[0] > since]:
        if max_frame is not None:
            size = len(orjson.dumps([event, payload, meta])) + _PACKET_HEADER_BYTES
            if size > max_frame:
                skipped.append({"seq": seq, "event": event, "bytes": size})
                continue
        await server.sio.emit(event, (payload, meta), to=sid)
        replayed += 1
    return {
        "replayed": replayed,
        "skipped": skipped,
        "sinceSeq": since,
        "toSeq": server.seq,
        "complete": oldest <= since + 1 or since >= server.seq,
    }


def _known_chat(server: SimServer, chat_id: str) -> None:
    if not server.engine.has_chat(chat_id):
        raise SimError("CHAT_NOT_FOUND", f"chat {chat_id!r} does not exist")


def _sender(kind: str, who: Identity) -> dict[str, Any]:
    if kind == "system":
        return {"id": "system", "name": "Guiders", "role": "system"}
    if kind == "commercial":
        if who.role not in ("commercial", "supervisor"):
            raise SimError("FORBIDDEN", "only commercials and supervisors send 'commercial'")
        return {"id": who.id, "name": who.name, "role": "commercial"}
    return {"id": who.id, "name": who.name, "role": "ai"}


def _notification_room(server: SimServer, target: str) -> str:
    if target in ("supervisors", "commercials"):
        return target
    if target in ("all", "account"):
        return ACCOUNT_ROOM
    kind, _, ident = target.partition(":")
    if kind == "commercial" and ident:
        return target
    if kind == "chat" and server.engine.has_chat(ident):
        return chat_room(ident)
    raise SimError("INVALID_TARGET", f"unknown notification target {target!r}")


def _deliver(server: SimServer, event: str, payload: dict[str, Any], room: str, sender: str) -> int:
    """Queue ``event`` for the room's other members; how many will get it."""
    members = [s for s in server.room_members(room) if s != sender]
    if members:
        server.enqueue(event, payload, room, sender)
    return len(members)
