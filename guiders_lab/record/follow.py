"""Capture in another process, followed from the kernel: ``gl.capture_in_background``.

Live capture in the kernel's process shares the GIL with the user's cells: at 2,000
events/s a pandas cell runs 11-19% slower (``benchmarks/bench_kernel_share.py``). Here the
capture is the kit's own recorder (``python -m guiders_lab.cli record``) in a child process,
and the kernel follows its journal: once a ``interval`` the lines flushed since the last
read are fed to a store in bulk, one short burst instead of a wake-up every few events.
The session is read-only (the child holds the socket): tables, counts, widgets, the
dashboard and shadow bots work as on a recording that keeps growing.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from ..errors import Interrupted, ReplayReadOnlyError
from ..secrets import Secret
from ..session import Session
from ..store import Store
from ..transport.base import Ack, LinkState, Sink
from .feed import apply_block
from .journal import JOURNAL_NAME
from .manifest import RecordingError
from .tail import JournalTail

__all__ = ["BackgroundSession", "FollowTransport", "capture_in_background"]

log = logging.getLogger(__name__)

_TOKEN_ENV = "GUIDERS_LAB_BACKGROUND_TOKEN"
_PASSWORD_ENV = "GUIDERS_LAB_BACKGROUND_PASSWORD"


class _RecorderProcess:
    """``guiders-lab record`` in a child process of its own session (a Ctrl-C
    in the terminal, or a kernel interrupt, does not stop the recording); credentials in
    its environment, never on its command line (``ps`` shows that)."""

    def __init__(self, argv: list[str], env: dict[str, str], secrets: list[str]) -> None:
        self._secrets = [s for s in secrets if s]
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.said: collections.deque[str] = collections.deque(maxlen=40)
        self.connected = threading.Event()
        threading.Thread(
            target=self._read_stderr, name="guiders-lab-recorder-log", daemon=True
        ).start()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = self._redacted(raw.decode("utf-8", "replace").rstrip())
            self.said.append(line)
            if line.startswith("recording "):
                self.connected.set()

    def _redacted(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def wait_connected(self, timeout: float) -> None:
        """Until the recorder says it is recording; its own error if it exits first."""
        deadline = time.monotonic() + timeout
        while not self.connected.wait(0.05):
            if self.proc.poll() is not None:
                self.proc.wait()
                time.sleep(0.05)  # its last words reach the reader thread
                raise RecordingError(
                    f"the background recorder exited ({self.proc.returncode}): "
                    + (" | ".join(list(self.said)[-5:]) or "no message")
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RecordingError(f"the background recorder did not connect in {timeout:g} s")

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM: the recorder closes as on Ctrl-C (its Parquet tables written)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class FollowTransport:
    """Delivers what a recorder in another process journals: its new lines, in bulk,
    once an ``interval``. Sends nothing (the child holds the socket)."""

    kind = "background"

    def __init__(self, source: str, directory: Path, recorder: _RecorderProcess, interval: float):
        self.source = source
        self.directory = directory
        self.recorder = recorder
        self.interval = interval
        self.tail = JournalTail(directory / JOURNAL_NAME)
        self._state = LinkState.NEW
        self._store: Store | None = None
        self._task: asyncio.Task[None] | None = None
        self.catch_ups = 0
        self.catch_up_cpu_s = 0.0  # this process's CPU spent catching up, in all
        # how long the oldest line of each catch-up had waited since the child received
        # it: how far behind the tables here can be (the child flushes every 0.5 s)
        self.waited: collections.deque[float] = collections.deque(maxlen=10_000)

    @property
    def connected(self) -> bool:
        return self._state is LinkState.CONNECTED

    @property
    def state(self) -> LinkState:
        return self._state

    async def start(self, sink: Sink) -> None:
        if not isinstance(sink, Store):
            raise TypeError("a followed recording feeds a Store")
        self._store = sink
        self._state = LinkState.CONNECTED
        self.catch_up()
        self._task = asyncio.get_running_loop().create_task(self._follow())

    def catch_up(self) -> int:
        """Feed the lines journaled since the last catch-up; returns how many."""
        store = self._store
        if store is None:
            return 0
        started = time.thread_time()
        lines = 0
        oldest: float | None = None  # when the child received the first line caught up
        for block in self.tail.read(store.dialect):
            apply_block(store, self.tail.path, block)
            lines += len(block.entries)
            if oldest is None and block.entries:
                oldest = block.entries[0].t
        self.catch_ups += 1
        self.catch_up_cpu_s += time.thread_time() - started
        if oldest is not None:
            self.waited.append(time.time() - oldest)
        return lines

    async def _follow(self) -> None:
        while self.recorder.running:
            await asyncio.sleep(self.interval)
            self.catch_up()
        self.catch_up()  # what it flushed before it ended
        log.warning("the background recorder ended (%s)", self.recorder.proc.returncode)
        self._end(LinkState.FAILED)

    def _end(self, state: LinkState) -> None:
        if self._state is LinkState.CONNECTED and self._store is not None:
            self._state = state
            self._store.ended()

    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        raise ReplayReadOnlyError(
            f"cannot send {event}: capture runs in another process (gl.capture_in_background); "
            "gl.connect gives a session that acts"
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        await asyncio.to_thread(self.recorder.stop)
        self.catch_up()
        self._end(LinkState.STOPPED)

    def stats(self) -> dict[str, object]:
        return {
            "state": self._state,
            "connected": self.connected,
            "recorder_pid": self.recorder.proc.pid,
            "journal_bytes_read": self.tail.bytes_read,
            "catch_ups": self.catch_ups,
            "catch_up_cpu_s": self.catch_up_cpu_s,
            "behind_s_max": max(self.waited, default=0.0),
        }


class BackgroundSession(Session[FollowTransport]):
    """A session following a capture that runs in another process: read-only, its tables
    growing once an ``interval``. ``close()`` stops the capture, which writes its
    recording as ``gl.connect(record_to=...)`` does."""

    @property
    def directory(self) -> Path:
        return self.transport.directory

    def _status(self) -> str:
        return f"following {self.transport.directory}"


class _Endpoint(Protocol):
    """A simulator handle: where it listens and a token it accepts."""

    @property
    def url(self) -> str: ...

    @property
    def token(self) -> str: ...


def capture_in_background(
    url: str | _Endpoint,
    token: str | Secret | None = None,
    *,
    record_to: str | Path,
    dialect: str | None = None,
    email: str | None = None,
    password: str | Secret | None = None,
    api_url: str | None = None,
    overwrite: bool = False,
    redact_pii: bool = False,
    interval: float = 1.0,
    connect_timeout: float = 60.0,
) -> BackgroundSession:
    """Capture ``url`` in a child process that records to ``record_to``, and follow it.

    The capture never takes the kernel's GIL: a cell beside it runs at full speed, and
    the tables here catch up once an ``interval`` (in one burst: ~4 µs an event). Use it
    for long captures beside heavy cells; use :func:`gl.connect` for bots that act.
    ``url`` may be a simulator handle (its token and dialect are used); ``dialect``
    otherwise defaults to ``"ai-api"``. Closing stops the capture."""
    if not isinstance(url, str):  # a simulator handle: its token and dialect by default
        handle = url
        url, token = handle.url, token if token is not None else handle.token
        dialect = dialect or getattr(handle, "dialect", None)
    dialect = dialect or "ai-api"
    directory = Path(record_to)
    env = {k: v for k, v in os.environ.items() if k not in (_TOKEN_ENV, _PASSWORD_ENV)}
    argv = [sys.executable, "-m", "guiders_lab.cli", "record", str(url), "--out", str(directory)]
    argv += ["--dialect", dialect]
    secrets: list[str] = []
    if token is not None:
        env[_TOKEN_ENV] = _reveal(token, secrets)
        argv += ["--token-env", _TOKEN_ENV]
    if email is not None:
        if password is None:
            raise ValueError("email= needs password=")
        env[_PASSWORD_ENV] = _reveal(password, secrets)
        argv += ["--email", email, "--password-env", _PASSWORD_ENV]
    if api_url is not None:
        argv += ["--api-url", api_url]
    if overwrite:
        argv.append("--overwrite")
    if redact_pii:
        argv.append("--redact-pii")
    recorder = _RecorderProcess(argv, env, secrets)
    try:  # an interrupt while it connects stops it too
        recorder.wait_connected(connect_timeout)
        session = BackgroundSession(
            Store(dialect), FollowTransport(str(url), directory, recorder, interval)
        )
        session.start()
    except BaseException as exc:
        recorder.stop()
        if isinstance(exc, KeyboardInterrupt):  # a kernel interrupt, as in pandas
            raise Interrupted(
                "capture_in_background interrupted while the recorder connected; the "
                f"recorder was stopped (whatever it wrote is in {directory})"
            ) from None
        raise
    return session


def _reveal(secret: str | Secret, seen: list[str]) -> str:
    """The secret's value for the child's environment, noted to be kept out of its
    messages."""
    value = secret.reveal() if isinstance(secret, Secret) else secret
    seen.append(value)
    return value
