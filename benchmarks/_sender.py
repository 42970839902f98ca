"""A pre-encoded Socket.IO sender for client benchmarks.

A Python Socket.IO server tops out near 20k events/s, slower than the clients we want to
measure. This speaks just enough Engine.IO v4 / Socket.IO v5 over an aiohttp websocket to
hand a client pre-encoded ``42["message:new", {...}]`` frames as fast as the socket takes
them, from its own process, so the client's CPU is all that is measured.

Run: ``python benchmarks/_sender.py N`` prints its port, then serves one client per
connection: handshake, ``bench:start``, N frames, ``bench:done``.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import uuid

from aiohttp import web

from guiders_lab.sim import texts

FRAMES = 4096


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


async def serve(n_events: int) -> None:
    encoded = frames()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        await ws.send_str(
            "0"
            + json.dumps(
                {
                    "sid": "bench",
                    "upgrades": [],
                    "pingInterval": 25000,
                    "pingTimeout": 60000,
                    "maxPayload": 10_000_000,
                }
            )
        )
        await ws.receive()  # the client's "40{auth}"
        await ws.send_str('40{"sid":"bench-ns"}')

        async def engineio_pings() -> None:
            # a real server pings; without it the client's write loop gives up after ~65 s
            while not ws.closed:
                await asyncio.sleep(5)
                await ws.send_str("2")

        pinger = asyncio.get_running_loop().create_task(engineio_pings())
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

    app = web.Application()
    app.router.add_get("/socket.io/", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
