"""Capture cost against the floor and its peers, all measured in the same run.

    npm install --prefix benchmarks/node            # once: the Node sender and client
    python benchmarks/bench_capture.py              # full run (about 5 minutes)
    python benchmarks/bench_capture.py --quick      # smaller counts, for a smoke test

A Node socket.io server (``node/sender.js``; the pre-encoded Python sender ``_sender.py``
without node, or with ``--sender python``) sends the same 1 KB ``message:new`` frames to
one client at a time, each in its own process, so each figure is that client's own CPU
time per event (all its threads). Rounds alternate the clients and the median is
reported. Clients:

* ``raw-orjson``, the floor: an aiohttp websocket doing the handshake by hand, reading
  each frame and orjson-decoding it, nothing else;
* ``bare-json`` / ``bare-orjson``: a bare ``socketio.AsyncClient`` with a no-op catch-all
  handler (the default json module / orjson packets);
* ``guiders-lab``: the kit's capture into its tables (target: at most 2.5x the floor);
* ``node``: the JS reference client, socket.io-client (when node is there).

Then memory per captured ``message:new`` (target <= 400 B), from RSS after a garbage
collect and ``malloc_trim`` and from the bytes Arrow holds, and the time to build the
``messages`` DataFrame from 1,000,000 captured messages (target <= 1.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# the JS reference client: `npm install --prefix benchmarks/node` once (skipped without it)
NODE_CLIENT = HERE / "node" / "client.js"
NODE_SENDER = HERE / "node" / "sender.js"  # a real socket.io server, as the issue measured


def node_ready() -> bool:
    return shutil.which("node") is not None and (HERE / "node" / "node_modules").is_dir()


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _trim() -> None:
    gc.collect()
    with contextlib.suppress(OSError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# ------------------------------------------------------------------------------ clients
async def bare_client(port: int, orjson_packets: bool) -> dict:
    import socketio

    kwargs = {}
    if orjson_packets:
        from guiders_lab.transport.fastjson import FastPacket

        kwargs["serializer"] = FastPacket
    if os.environ.get("BENCH_FAST"):
        from guiders_lab.transport.fastclient import FastAsyncClient

        sio = FastAsyncClient(**kwargs)
    else:
        sio = socketio.AsyncClient(**kwargs)
    done = asyncio.Event()
    marks: dict[str, float] = {}
    count = 0

    def on_any(event: str, *args: object) -> None:  # the no-op handler
        nonlocal count
        if event == "bench:start":
            marks["cpu0"], marks["wall0"] = time.process_time(), time.perf_counter()
        elif event == "bench:done":
            marks["cpu1"], marks["wall1"] = time.process_time(), time.perf_counter()
            done.set()
        else:
            count += 1

    sio.on("*", on_any)
    await sio.connect(f"http://127.0.0.1:{port}", transports=["websocket"])
    await done.wait()
    await sio.disconnect()
    return {"events": count, **marks}


async def raw_client(port: int) -> dict:
    """The floor: an aiohttp websocket that does the Engine.IO/Socket.IO handshake by hand,
    then reads each frame and orjson-decodes its event (no Socket.IO library at all)."""
    import aiohttp
    import orjson

    marks: dict[str, float] = {}
    count = 0
    url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        await ws.receive()  # Engine.IO open
        await ws.send_str("40")  # Socket.IO connect
        await ws.receive()  # its answer
        while True:
            message = await ws.receive()
            data = message.data
            if not isinstance(data, str):
                break
            if data == "2":  # Engine.IO ping
                await ws.send_str("3")
                continue
            event = orjson.loads(data[2:])
            if event[0] == "bench:start":
                marks["cpu0"], marks["wall0"] = time.process_time(), time.perf_counter()
            elif event[0] == "bench:done":
                marks["cpu1"], marks["wall1"] = time.process_time(), time.perf_counter()
                break
            else:
                count += 1
    return {"events": count, **marks}


async def guiders_client(port: int, n_events: int) -> dict:
    """The kit's capture. The markers are read where the kit reads an event it does not
    know, so the events in between pay nothing for the measuring (a subclass of the
    store that looked at every event's name cost ~0.3 µs an event, which the floor's and
    the other clients' inline checks do not); memory is noted from a watcher thread once
    capture is warm (a quarter in), so the slope excludes start-up."""
    import threading

    import guiders_lab as gl

    marks: dict[str, float] = {}
    warm = n_events // 4
    store = gl.Store()

    def marker(name: str):  # a decoder for one marker event: notes the time, no record
        def decode(raw: bytes) -> None:
            if name == "bench:start":
                marks["cpu0"], marks["wall0"] = time.process_time(), time.perf_counter()
            else:
                marks["cpu1"], marks["wall1"] = time.process_time(), time.perf_counter()

        return decode, lambda shape, received_at: None

    # the dialect's table of decoders (private): unknown names are looked up there anyway
    decoders = store.dialect._json_decoders  # type: ignore[attr-defined]
    decoders["bench:start"], decoders["bench:done"] = marker("bench:start"), marker("bench:done")

    def watch_warm() -> None:
        while store.counts.get("message:new", 0) < warm and "cpu1" not in marks:
            time.sleep(0.005)
        marks["warm_n"] = store.counts.get("message:new", 0)
        store.seal()
        _trim()
        marks["rss_warm"] = _rss()

    watcher = threading.Thread(target=watch_warm, daemon=True)
    watcher.start()
    live = await gl.connect(
        f"http://127.0.0.1:{port}",
        "bench-token",
        heartbeat_interval=3600,
        transports=["websocket"],
        store=store,
    )
    await live.wait_for(lambda s: "cpu1" in marks, timeout=600, interval=0.1)
    await live.close()
    watcher.join()
    n = store.counts.get("message:new", 0)
    store.seal()
    _trim()
    rss_end = _rss()
    arrow_bytes = sum(t.nbytes for t in store.tables.values())
    return {
        "events": n,
        **marks,
        "rss_bytes_per_event": (rss_end - marks["rss_warm"]) / max(1, n - marks["warm_n"]),
        "arrow_bytes_per_event": arrow_bytes / n,
        "quarantined": store.status_counts["quarantined"],
    }


def run_client(mode: str, port: int, n_events: int) -> dict:
    if mode == "guiders-lab":
        result = asyncio.run(guiders_client(port, n_events))
    elif mode == "raw-orjson":
        result = asyncio.run(raw_client(port))
    else:
        result = asyncio.run(bare_client(port, orjson_packets=(mode == "bare-orjson")))
    result["cpu_us_per_event"] = (result["cpu1"] - result["cpu0"]) / result["events"] * 1e6
    result["events_per_s"] = result["events"] / (result["wall1"] - result["wall0"])
    return result


# ------------------------------------------------------------------------------ driver
def _payloads_file() -> Path:
    """The sender's 1 KB ``message:new`` payloads as JSON, for the Node sender."""
    path = Path(tempfile.gettempdir()) / "guiders-lab-bench-payloads.json"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from _sender import frames

        path.write_text(json.dumps([json.loads(f[2:])[1] for f in frames()]))
    return path


def measure(mode: str, n_events: int, sender_kind: str) -> dict:
    if sender_kind == "node":
        command = ["node", str(NODE_SENDER), str(n_events), str(_payloads_file())]
    else:
        command = [sys.executable, str(HERE / "_sender.py"), str(n_events)]
    sender = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        port = int(sender.stdout.readline())
        if mode == "node":
            cmd = ["node", str(NODE_CLIENT), str(port)]
        else:
            cmd = [sys.executable, __file__, "--client", mode, "--port", str(port)]
            cmd += ["--events", str(n_events)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result: dict = json.loads(out.stdout.strip().splitlines()[-1])
        if mode == "node":  # its own figures, as run_client computes them
            result["cpu_us_per_event"] = result["cpu1"] / result["events"] * 1e6
            result["events_per_s"] = result["events"] / result["wall1"]
        return result
    finally:
        sender.kill()
        sender.wait()


def dataframe_build(n_messages: int) -> dict:
    """Ingest ``n_messages`` straight into a store, then time ``frame('messages')``."""
    import orjson

    import guiders_lab as gl

    sys.path.insert(0, str(HERE))
    from _sender import frames

    payloads = [orjson.loads(f[2:])[1] for f in frames()]
    store = gl.Store()
    now = time.time()
    started = time.process_time()
    for i in range(n_messages):
        payload = payloads[i % len(payloads)]
        store.ingest("message:new", ({**payload, "messageId": f"m-{i}"},), now)
    ingest_cpu = time.process_time() - started
    timings = []
    for _ in range(3):
        gc.collect()
        started = time.perf_counter()
        frame = store.frame("messages")
        timings.append(time.perf_counter() - started)
        assert len(frame) == n_messages
        del frame
    # the first build also pays for fresh memory pages: that is what a user sees first
    return {
        "messages": n_messages,
        "frame_seconds_first": timings[0],
        "frame_seconds_warm": min(timings[1:]),
        "store_ingest_us_per_event": ingest_cpu / n_messages * 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--client")
    parser.add_argument("--port", type=int)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--memory-events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--frame-messages", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--sender",
        choices=("node", "python"),
        help="node: a real socket.io server (the default when node is there); "
        "python: the pre-encoded aiohttp sender",
    )
    args = parser.parse_args()
    if args.sender is None:
        args.sender = "node" if node_ready() else "python"
    if args.client:
        print(json.dumps(run_client(args.client, args.port, args.events)))
        return 0
    if args.quick:
        args.events, args.repeats, args.frame_messages = 20_000, 1, 100_000
        args.memory_events = 100_000

    modes = ["raw-orjson", "bare-json", "bare-orjson", "guiders-lab"]
    if node_ready():
        modes.append("node")
    else:
        print("node client skipped: install it with `npm install --prefix benchmarks/node`")
    runs: dict[str, list[dict]] = {mode: [] for mode in modes}
    for _ in range(args.repeats):  # interleaved, so drift on a noisy machine hits all modes
        for mode in runs:
            runs[mode].append(measure(mode, args.events, args.sender))
    cpu = {mode: statistics.median(r["cpu_us_per_event"] for r in rs) for mode, rs in runs.items()}
    # memory: one long capture, so the slope is steady state (dedupe window full, etc.)
    memory = measure("guiders-lab", args.memory_events, args.sender)
    report = {
        "sender": args.sender,
        "events_per_run": args.events,
        "repeats": args.repeats,
        "cpu_us_per_event": cpu,
        "events_per_s": {
            m: statistics.median(r["events_per_s"] for r in rs) for m, rs in runs.items()
        },
        "ratio_vs_bare_client": cpu["guiders-lab"] / cpu["bare-json"],
        "ratio_vs_floor": cpu["guiders-lab"] / cpu["raw-orjson"],
        "cpu_us_per_event_by_round": {
            m: [r["cpu_us_per_event"] for r in rs] for m, rs in runs.items()
        },
        "ratio_vs_floor_by_round": [
            kit["cpu_us_per_event"] / floor["cpu_us_per_event"]
            for kit, floor in zip(runs["guiders-lab"], runs["raw-orjson"], strict=True)
        ],
        "memory_events": memory["events"],
        "rss_bytes_per_message": memory["rss_bytes_per_event"],
        "arrow_bytes_per_message": memory["arrow_bytes_per_event"],
        "memory_run_cpu_us_per_event": memory["cpu_us_per_event"],
        "quarantined": sum(r["quarantined"] for r in runs["guiders-lab"]),
        **dataframe_build(args.frame_messages),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    print(f"CPU per 1 KB message:new event (median of {args.repeats} x {args.events:,} events)")
    for mode, value in cpu.items():
        print(f"  {mode:<12} {value:6.1f} µs   ({report['events_per_s'][mode]:,.0f} events/s)")
    print(
        f"  ratio guiders-lab / bare client: {report['ratio_vs_bare_client']:.2f}  (target <= 1.0)"
    )
    print(
        f"  ratio guiders-lab / raw aiohttp + orjson (the floor): "
        f"{report['ratio_vs_floor']:.2f}  (target <= 2.5)"
    )
    print(
        f"Memory per captured message:new over {report['memory_events']:,} events: "
        f"{report['rss_bytes_per_message']:.0f} B RSS growth, "
        f"{report['arrow_bytes_per_message']:.0f} B in Arrow  (target <= 400 B)"
    )
    print(
        f"messages DataFrame from {report['messages']:,} messages: "
        f"{report['frame_seconds_first']:.2f} s first build, "
        f"{report['frame_seconds_warm']:.2f} s warm  (target <= 1.5 s)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "capture.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
