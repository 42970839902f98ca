"""A pre-encoded Socket.IO sender for client benchmarks.

A Python Socket.IO server tops out near 20k events/s, slower than the clients we want to
measure. This speaks just enough Engine.IO v4 / Socket.IO v5 over an aiohttp websocket to
hand a client pre-encoded ``42["message:new", {...}]`` frames as fast as the socket takes
them, from its own process, so the client's CPU is all that is measured.

Run: ``python benchmarks/_sender.py N`` prints its port, then serves one client per
connection: handshake, ``bench:start``, N frames, ``bench:done`` (``bench_capture.py``).

``python benchmarks/_sender.py N --dialect ai-api|guiders-v2`` (``bench_dialects.py``)
sends one conversation shaped as that dialect's server sends it: the same chats, ids,
senders, contents and times in both. Per connection: handshake (guiders-v2: ``welcome``,
``tenant:joined`` and ``presence:joined``, which the kit waits for), ``chat:created`` for
each of the ``--chats`` live chats (guiders-v2: the kit joins each chat's room, acked as
the backend does, and reads its history, served empty from ``GET /api/v2/messages/chat/
{id}``; the sender waits for all of that), then ``bench:start``, N ``message:new``
frames, ``bench:done``. Any other REST request is answered 404 and reported on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from guiders_lab.sim import texts

FRAMES = 4096
CHATS = 500  # live chats of the dialect conversation
DIALECTS = ("ai-api", "guiders-v2")
# guiders-v2: the tenant and the commercial the benchmark's JWT names (its ``sub``)
COMPANY = "6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e"
COMMERCIAL = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def message_payload(rng: random.Random, i: int) -> dict:
    """A realistic ``message:new`` of about 1 KB (the size the issue's figures use)."""
    lang = rng.choice(texts.LANGUAGES)
    department = rng.choice(texts.DEPARTMENTS)
    content = " ".join(
        texts.opening(rng, lang, department, rng.choice(texts.MOODS)) for _ in range(3)
    )
    chat = uuid.UUID(int=rng.getrandbits(128) % 500, version=4)  # 500 live chats
    return {
        "chatId": f"chat-{chat}",
        "messageId": f"msg-{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "content": content[:420],
        "type": "user",
        "sender": {
            "id": f"visitor-{chat}",
            "name": texts.visitor_name(rng, lang),
            "role": "visitor",
        },
        "timestamp": "2025-01-15T10:30:00.000Z",
        "metadata": {
            "department": department,
            "urgency": rng.choice(("low", "medium", "high")),
            "source": "web-widget",
            "page": "https://shop.example.com"
            + texts.page_for(rng, department)
            + "?utm_source=newsletter&utm_medium=email&utm_campaign=rebajas-invierno",
            "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        },
    }


def frames(n_distinct: int = FRAMES) -> list[str]:
    rng = random.Random(42)
    return [
        "42" + json.dumps(["message:new", message_payload(rng, i)], separators=(",", ":"))
        for i in range(n_distinct)
    ]


# ------------------------------------------------------------------ dialect conversation
CONTENT = (500, 700)  # characters of a message's text: guiders-v2 frames come to ~1 KB
_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
_CREATED = "Un comercial ha iniciado una conversación contigo"  # the backend's fixed text


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def conversation(
    n_distinct: int = FRAMES, chats: int = CHATS, seed: int = 7
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(chats, messages) of one conversation, in no dialect's shape: the same people,
    ids, texts and times for both dialects. Times start at the sender's start."""
    rng = random.Random(seed)
    t0 = datetime.now(UTC).replace(microsecond=0)
    people = []
    for _ in range(chats):
        lang = rng.choice(texts.LANGUAGES)
        people.append(
            {
                "chat": _uuid(rng),
                "visitor": _uuid(rng),
                "visitor_name": texts.visitor_name(rng, lang),
                "commercial": _uuid(rng),
                "commercial_name": texts.commercial_name(rng),
                "lang": lang,
                "department": rng.choice(texts.DEPARTMENTS),
                "created": _iso(t0),
            }
        )
    messages = []
    for j in range(n_distinct):
        who = rng.choice(people)
        size = rng.randint(*CONTENT)
        content = ""
        while len(content) < size:
            mood = rng.choice(texts.MOODS)
            content += texts.opening(rng, who["lang"], who["department"], mood) + " "
        messages.append(
            {
                **who,
                "id": _uuid(rng),
                "by_visitor": rng.random() < 0.6,
                "content": content[:size].rstrip(),
                "at": _iso(t0 + timedelta(milliseconds=j)),
                "urgency": rng.choice(("low", "medium", "high")),
                "page": texts.page_for(rng, who["department"]),
            }
        )
    return people, messages


def chat_created(dialect: str, c: dict[str, Any]) -> dict[str, Any]:
    """``chat:created`` as each dialect's server sends it."""
    if dialect == "ai-api":
        return {
            "chatId": c["chat"],
            "visitorId": c["visitor"],
            "department": c["department"],
            "status": "pending",
            "createdAt": c["created"],
        }
    return {  # notify-chat-created-on-chat-created.event-handler.ts
        "chatId": c["chat"],
        "visitorId": c["visitor"],
        "status": "PENDING",
        "priority": "NORMAL",
        "visitorInfo": {"name": c["visitor_name"]},
        "metadata": {"department": c["department"], "source": "web"},
        "createdAt": c["created"],
        "message": _CREATED,
    }


def message_new(dialect: str, m: dict[str, Any]) -> dict[str, Any]:
    """``message:new`` as each dialect's server sends it."""
    sender = m["visitor"] if m["by_visitor"] else m["commercial"]
    if dialect == "ai-api":  # the envelope of message_payload() above
        return {
            "chatId": m["chat"],
            "messageId": m["id"],
            "content": m["content"],
            "type": "user" if m["by_visitor"] else "commercial",
            "sender": {
                "id": sender,
                "name": m["visitor_name"] if m["by_visitor"] else m["commercial_name"],
                "role": "visitor" if m["by_visitor"] else "commercial",
            },
            "timestamp": m["at"],
            "metadata": {
                "department": m["department"],
                "urgency": m["urgency"],
                "source": "web-widget",
                "page": "https://shop.example.com"
                + m["page"]
                + "?utm_source=newsletter&utm_medium=email&utm_campaign=rebajas-invierno",
                "userAgent": _UA,
            },
        }
    return {  # notify-message-sent-on-message-sent.event-handler.ts
        "messageId": m["id"],
        "chatId": m["chat"],
        "senderId": sender,
        "content": m["content"],
        "type": "TEXT",
        "isInternal": False,
        "isFirstResponse": False,
        "sentAt": m["at"],
        "isAI": False,
    }


def _frame(name: str, payload: dict[str, Any]) -> str:
    return "42" + json.dumps([name, payload], separators=(",", ":"), ensure_ascii=False)


def dialect_frames(dialect: str, chats: int = CHATS) -> tuple[list[str], list[tuple[str, str]]]:
    """(``chat:created`` frames, ``message:new`` frames split around the first 8 hex
    digits of their message id, which the sender fills with the event's number)."""
    people, messages = conversation(chats=chats)
    created = [_frame("chat:created", chat_created(dialect, c)) for c in people]
    split = []
    for m in messages:
        frame = _frame("message:new", message_new(dialect, m))
        at = frame.index(m["id"])
        split.append((frame[:at], frame[at + 8 :]))
    return created, split


# ------------------------------------------------------------------ the server
OPEN_PACKET = "0" + json.dumps(
    {
        "sid": "bench",
        "upgrades": [],
        "pingInterval": 25000,
        "pingTimeout": 60000,
        "maxPayload": 10_000_000,
    }
)


async def _engineio_pings(ws: web.WebSocketResponse) -> None:
    # a real server pings; without it the client's write loop gives up after ~65 s
    while not ws.closed:
        await asyncio.sleep(5)
        await ws.send_str("2")


def _ms() -> int:
    return int(time.time() * 1000)


async def serve(n_events: int, dialect: str | None = None, chats: int = CHATS) -> None:
    encoded = frames() if dialect is None else []
    created, split = dialect_frames(dialect, chats) if dialect is not None else ([], [])
    joined: set[str] = set()
    fetched: set[str] = set()
    ready = asyncio.Event()  # guiders-v2: every chat joined and its history read

    def note(seen: set[str], chat: str) -> None:
        seen.add(chat)
        if len(joined) >= chats and len(fetched) >= chats:
            ready.set()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_str(OPEN_PACKET)
        await ws.receive()  # the client's "40{auth}"
        await ws.send_str('40{"sid":"bench-ns"}')
        pinger = asyncio.get_running_loop().create_task(_engineio_pings(ws))
        await asyncio.sleep(0.5)  # let the client settle (its first ping, etc.)
        await ws.send_str('42["bench:start",{}]')
        for i in range(n_events):
            # unique message ids so no dedupe shortcut is taken
            frame = encoded[i % FRAMES]
            if i >= FRAMES:
                frame = frame.replace('"msg-', f'"msg-{i:x}-', 1)
            await ws.send_str(frame)
        await ws.send_str('42["bench:done",{}]')
        async for msg in ws:
            if msg.type == web.WSMsgType.TEXT and msg.data.startswith("42"):
                # answer app-level emits with an ok ack (e.g. the kit's heartbeat ping)
                head = msg.data[2 : msg.data.index("[")]
                if head:
                    await ws.send_str(f'43{head}[{{"ok":true}}]')
        pinger.cancel()
        return ws

    async def answer(ws: web.WebSocketResponse) -> None:
        """Acks every emit of the client, as the dialect's server does."""
        async for msg in ws:
            if msg.type != web.WSMsgType.TEXT or not msg.data.startswith("42"):
                continue
            cut = msg.data.index("[")
            head, (event, *args) = msg.data[2:cut], json.loads(msg.data[cut:])
            ack: dict[str, Any] = {"ok": True}
            if dialect == "guiders-v2":
                ack = {"success": True}
                if event == "chat:join" and args and isinstance(args[0], dict):
                    chat = str(args[0].get("chatId"))
                    ack = {  # websocket.gateway.ts:426-431, and chat:joined to the socket
                        "success": True,
                        "message": "Unido a la sala de chat exitosamente",
                        "chatId": chat,
                        "roomName": f"chat:{chat}",
                    }
                    room = {"chatId": chat, "roomName": f"chat:{chat}", "timestamp": _ms()}
                    await ws.send_str(_frame("chat:joined", room))
                    note(joined, chat)
            if head:
                await ws.send_str(f"43{head}[{json.dumps(ack, ensure_ascii=False)}]")

    async def dialect_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_str(OPEN_PACKET)
        await ws.receive()  # the client's "40{auth}"
        await ws.send_str('40{"sid":"bench-ns"}')
        loop = asyncio.get_running_loop()
        pinger = loop.create_task(_engineio_pings(ws))
        answering = loop.create_task(answer(ws))
        if dialect == "guiders-v2":  # websocket.gateway.ts:157-161, :340-345, :364-370
            welcome = {
                "message": "Conectado exitosamente al servidor WebSocket",
                "clientId": "bench",
                "timestamp": _ms(),
            }
            tenant = {
                "companyId": COMPANY,
                "roomName": f"tenant:{COMPANY}",
                "timestamp": _ms(),
                "automatic": True,
            }
            presence = {
                "userId": COMMERCIAL,
                "userType": "commercial",
                "roomName": f"commercial:{COMMERCIAL}",
                "timestamp": _ms(),
                "automatic": True,
            }
            await ws.send_str(_frame("welcome", welcome))
            await ws.send_str(_frame("tenant:joined", tenant))
            await ws.send_str(_frame("presence:joined", presence))
        await asyncio.sleep(0.3)  # let the client finish connecting
        for frame in created:  # the live chats, as a session sees them open
            await ws.send_str(frame)
        if dialect == "guiders-v2":
            try:
                async with asyncio.timeout(60):
                    await ready.wait()
            except TimeoutError:
                print(
                    f"sender: only {len(joined)} chats joined and {len(fetched)} read of "
                    f"{chats} after 60 s",
                    file=sys.stderr,
                    flush=True,
                )
        await asyncio.sleep(0.5)  # let the client settle
        await ws.send_str('42["bench:start",{}]')
        for i in range(n_events):
            head, tail = split[i % FRAMES]
            await ws.send_str(f"{head}{i:08x}{tail}")  # a unique message id per event
        await ws.send_str('42["bench:done",{}]')
        await answering
        pinger.cancel()
        return ws

    async def history(request: web.Request) -> web.Response:
        """``GET /api/v2/messages/chat/{id}``: the history of a chat just opened: none."""
        note(fetched, request.match_info["chat"])
        return web.json_response({"messages": [], "total": 0, "hasMore": False})

    async def unexpected(request: web.Request) -> web.Response:
        print(f"sender: unexpected REST request {request.method} {request.path}", file=sys.stderr)
        return web.json_response({"message": "not in the benchmark", "statusCode": 404}, status=404)

    app = web.Application()
    app.router.add_get("/socket.io/", handler if dialect is None else dialect_handler)
    app.router.add_get("/api/v2/messages/chat/{chat}", history)
    app.router.add_route("*", "/api/{rest:.*}", unexpected)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, help="message:new frames per connection")
    parser.add_argument("--dialect", choices=DIALECTS, help="send a dialect's conversation")
    parser.add_argument("--chats", type=int, default=CHATS, help="live chats (with --dialect)")
    args = parser.parse_args()
    asyncio.run(serve(args.events, args.dialect, args.chats))


if __name__ == "__main__":
    main()
