"""The live transport of the ``guiders-v2`` dialect: the deployed Guiders backend.

A :class:`~guiders_lab.transport.SocketIOTransport` carries the socket (reconnection,
recovery, the ``auth`` dict asked again on every connect); this class adds what the
deployed backend needs around it: a JWT (given, or from a login kept fresh), the check
that the token was accepted (the server never refuses a socket: only ``tenant:joined`` /
``presence:joined`` say so), chat discovery and history over REST, one room per chat,
polling for closes, and actions translated to the channel the backend has for them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from ...errors import AuthenticationError, NotConnectedError, UnsupportedActionError
from ...secrets import Secret, spellings, url_secrets
from ..base import Ack, LinkState, Sink
from ..options import ConnectOptions
from ..sio import SocketIOTransport
from .auth import TokenKeeper
from .backfill import Book
from .link import DIALECT, UNSUPPORTED, Tap, chat_id_of, normalise_ack, window_seconds
from .rest import RestClient, RetryPolicy, seg

__all__ = ["GuidersV2Transport"]

log = logging.getLogger(__name__)
_LEARN_WAIT_S = 1.0  # how long joining an unknown chat waits to read it first
_ONE_TRY = RetryPolicy(retries=0)


class GuidersV2Transport:
    """Socket + REST session on a deployed Guiders backend (see the module docstring).

    ``token`` (a JWT) or ``email`` + ``password`` (logged in, renewed before expiry);
    ``api_key`` sends messages through the Integration API as a bot; ``api_url``
    defaults to ``url + "/api"``; ``backfill`` is the history read on connect (see
    :func:`window_seconds`); ``auto_join`` joins chats announced by ``chat:created``;
    open chats are re-read every ``close_poll_interval`` s (``None``: never) to learn of
    closes; ``auth_timeout`` is how long to wait for the server's confirmations.
    """

    kind = "live"

    def __init__(
        self,
        url: str,
        *,
        token: str | Secret | None = None,
        email: str | None = None,
        password: str | Secret | None = None,
        api_key: str | Secret | None = None,
        api_url: str | None = None,
        options: ConnectOptions | None = None,
        backfill: timedelta | float | bool | None = None,
        auto_join: bool = True,
        close_poll_interval: float | None = 30.0,
        auth_timeout: float = 5.0,
        retry: RetryPolicy | None = None,
        page_size: int = 100,
    ) -> None:
        if token is not None and (email is not None or password is not None):
            raise TypeError("pass token=, or email= and password=, not both")
        if close_poll_interval is not None and close_poll_interval <= 0:
            raise ValueError("close_poll_interval must be > 0 (or None for no polling)")
        self.keeper = TokenKeeper(
            token=Secret(token) if token is not None else None,
            email=email,
            password=Secret(password) if password is not None else None,
        )
        self._api_key = Secret(api_key) if api_key is not None else None
        self.api_url = (api_url or url.rstrip("/") + "/api").rstrip("/")
        self._fixed_secrets = [*url_secrets(url), *url_secrets(self.api_url)]
        if self._api_key is not None:
            self._fixed_secrets += spellings(self._api_key.reveal())
        self.rest = RestClient(
            self.api_url,
            lambda: self.keeper.access,
            self.secrets,
            api_key=self._api_key,
            retry=retry,
            on_unauthorized=self.keeper.renew_quietly if self.keeper.renewable else None,
        )
        self.keeper.rest = self.rest
        self.book = Book(
            self.rest, self._ingest_rest, self._join, window=window_seconds(backfill),
            page_size=page_size,
        )  # fmt: skip
        self.auto_join = auto_join
        self.close_poll_interval = close_poll_interval
        self.auth_timeout = auth_timeout
        # the socket's own redaction scrubs the secret it is given: the token, or the password
        secret = self.keeper.access or Secret(password if password is not None else "-")
        self.sio = SocketIOTransport(
            url, secret, options, auth=self._socket_auth, restore=self._restore
        )
        self._sink: Sink | None = None
        self._confirmed = asyncio.Event()  # the gateway answered the token (see _on_confirmed)
        self._staff = False  # ... and took it for a commercial's or an admin's
        self._sync_lock = asyncio.Lock()
        self._refused = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.confirmations = self.unconfirmed_connects = self.restores = 0

    def __repr__(self) -> str:
        return f"<GuidersV2Transport {self.source} api={self.rest.safe_url} {self.state}>"

    def secrets(self) -> list[str]:
        """Every secret this transport holds (tokens seen, password, key), for scrubbing."""
        return [*self._fixed_secrets, *self.keeper.secrets()]

    # ------------------------------------------------------------------ the Protocol
    @property
    def source(self) -> str:
        return self.sio.source

    @property
    def connected(self) -> bool:
        return self.sio.connected

    @property
    def state(self) -> LinkState:
        return LinkState.REFUSED if self._refused else self.sio.state

    @property
    def user_id(self) -> str | None:
        """The JWT's ``sub``: who this session is (the typing indicators' ``userId``)."""
        return self.keeper.user_id

    async def start(self, sink: Sink) -> None:
        self._sink = sink
        try:
            self.keeper.check_not_expired()
            if self.keeper.renewable:
                await self.keeper.login()
            self._confirmed.clear()
            taps: dict[str, Callable[[dict[str, Any]], None]] = {
                "message:new": self.book.saw_message,
                "chat:created": self._on_chat_created,
                "chat:commercial-assigned": self._on_assigned,
                "tenant:joined": self._on_confirmed,
                "presence:joined": self._on_confirmed,
            }
            await self.sio.start(Tap(sink, taps, self._on_reconnected))
            await self._await_confirmation()
            sink.reconnected(self.sio.connected_since or time.time())
            async with self._sync_lock:
                await self.book.sync(first=True, rejoin=False)
        except BaseException as exc:
            self._refused = isinstance(exc, AuthenticationError)
            await self._shutdown()
            raise
        sink.restored()
        if self.keeper.renewable:
            self._spawn(self.keeper.keep_fresh())
        if self.close_poll_interval is not None:
            self._spawn(self._poll_closes(self.close_poll_interval))

    async def close(self) -> None:
        await self._shutdown()

    async def _shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.sio.close()
        await self.rest.close()

    def stats(self) -> dict[str, object]:
        return {
            **self.sio.stats(),
            "state": self.state,
            **self.book.stats(),
            "auth_confirmations": self.confirmations,
            "unconfirmed_connects": self.unconfirmed_connects,
            "restores": self.restores,
            "rest_requests": self.rest.requests,
            "rest_retries": self.rest.retries,
            "rest_failures": self.rest.failures,
            "logins": self.keeper.logins,
            "token_refreshes": self.keeper.refreshes,
        }

    # ------------------------------------------------------------------ auth
    async def _socket_auth(self) -> dict[str, Any]:
        """The handshake's ``auth``, asked on every (re)connect: a token fresh enough."""
        await self.keeper.ensure_fresh()
        token = self.keeper.access
        return {"token": token.reveal() if token is not None else ""}

    def _on_reconnected(self) -> None:
        """Before any event of a new connection: confirmations and gaps start over."""
        self._confirmed.clear()
        self._staff = False
        self.book.mark_gap()

    def _on_confirmed(self, payload: dict[str, Any]) -> None:
        """``tenant:joined``, or ``presence:joined`` as a commercial: the gateway took the
        token for staff. ``presence:joined`` as a visitor also answers, but refuses: the
        gateway treats every role but commercial and admin (supervisor, superadmin) as a
        visitor's, with no tenant room (websocket.gateway.ts:321-370)."""
        if payload.get("userType") != "visitor" and not self._staff:
            self._staff = True
            self.confirmations += 1
        self._confirmed.set()

    async def _await_confirmation(self) -> None:
        given = "the login's access token" if self.keeper.renewable else "the token"
        try:
            async with asyncio.timeout(self.auth_timeout):
                await self._confirmed.wait()
        except TimeoutError:
            self.unconfirmed_connects += 1
            raise AuthenticationError(
                f"{self.source} accepted the socket but not {given}: no tenant:joined or "
                f"presence:joined within {self.auth_timeout:g} s after welcome (invalid or "
                "expired JWT, or not a commercial or admin token)"
            ) from None
        if not self._staff:
            self.unconfirmed_connects += 1
            raise AuthenticationError(
                f"{self.source} took {given} for a visitor's (presence:joined as a visitor, "
                "no tenant room): only commercial and admin roles see the company's chats; "
                "a supervisor or superadmin token is not enough"
            )

    # ------------------------------------------------------------------ after reconnects
    async def _restore(self) -> None:
        """After any reconnect (the sink was told ``reconnected`` already): confirm the
        token, re-join the rooms, refill each chat since its last message, list chats
        created meanwhile, then tell the sink it is ``restored``."""
        self.restores += 1
        try:
            await self._await_confirmation()
            async with self._sync_lock:
                await self.book.sync(first=False, rejoin=True)
        except AuthenticationError as exc:
            log.error("after reconnecting to %s: %s", self.source, exc)
        except Exception as exc:  # the stream goes on; the gap shows in stats
            log.warning("could not restore %s after a reconnect: %s", self.source, exc)
        finally:
            if self._sink is not None:
                self._sink.restored()

    async def _poll_closes(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if not self.connected or self._sync_lock.locked():
                continue
            try:
                await self.book.poll_closed()
            except Exception as exc:
                log.warning("polling chat statuses on %s failed: %s", self.rest.safe_url, exc)

    # ------------------------------------------------------------------ live taps
    def _on_chat_created(self, payload: dict[str, Any]) -> None:
        chat_id = payload.get("chatId")
        if not isinstance(chat_id, str):
            return
        self.book.saw_chat(chat_id, payload.get("status"))
        state = self.book.chats[chat_id]
        if self.auto_join and not state.room:
            state.room = True  # wanted now: a reconnect re-joins it even before the ack
            self._spawn(self._join_live(chat_id))

    def _on_assigned(self, payload: dict[str, Any]) -> None:
        chat_id = payload.get("chatId")
        if isinstance(chat_id, str) and chat_id in self.book.chats:
            self.book.saw_chat(chat_id, payload.get("status"), payload.get("commercialId"))

    async def _join_live(self, chat_id: str) -> None:
        try:
            await self.book.joined_live(chat_id)
        except Exception as exc:
            log.warning("could not join new chat %s: %s", chat_id, exc)

    def _ingest_rest(self, name: str, payload: dict[str, Any]) -> None:
        if self._sink is not None:
            self._sink.ingest(name, (payload,), time.time())

    async def _join(self, chat_id: str) -> bool:
        ack = normalise_ack(
            await self.sio.call("chat:join", {"chatId": chat_id}, self.sio.options.ack_timeout)
        )
        if not ack["ok"]:
            log.warning("%s refused to join chat %s: %s", self.source, chat_id, ack["error"])
        return bool(ack["ok"])

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ actions
    async def call(self, event: str, payload: dict[str, Any], timeout: float) -> Ack:
        if event in UNSUPPORTED:
            raise UnsupportedActionError(event, DIALECT)
        if not self.connected:
            raise NotConnectedError(
                f"cannot send {event}: not connected to {self.source} (state: {self.state})"
            )
        async with asyncio.timeout(timeout):
            if event in ("message:send", "chat:assign", "chat:close"):
                return await self._rest_action(event, payload)
            return await self._socket_action(event, payload, timeout)

    async def _rest_action(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        chat = chat_id_of(event, payload)
        if event == "message:send":
            content = payload.get("content")
            if self._api_key is not None:
                path, auth = f"/integration/conversations/{seg(chat)}/messages", "api_key"
                body: dict[str, Any] | None = {"content": content, "senderType": "bot"}
            else:  # only what SendMessageDto allows: the ValidationPipe refuses the rest
                path, auth, body = "/v2/messages", "bearer", {
                    "chatId": chat, "content": content, "type": "text",
                }  # fmt: skip
            resp = await self.rest.request("POST", path, event, json=body, auth=auth)
        elif event == "chat:assign":
            commercial = chat_id_of(event, payload, "commercialId")
            path = f"/v2/chats/{seg(chat)}/assign/{seg(commercial)}"
            resp = await self.rest.request("PUT", path, event)
        else:
            resp = await self.rest.request("PUT", f"/v2/chats/{seg(chat)}/close", event)
        extra = resp.body if isinstance(resp.body, dict) else {}
        return {"ok": True, "status": resp.status, **extra, "httpStatus": resp.status}

    async def _socket_action(
        self, event: str, payload: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        data: dict[str, Any] = payload
        if event in ("chat:join", "chat:leave"):
            chat = chat_id_of(event, payload)
            data = {"chatId": chat}
            if event == "chat:join":
                if chat not in self.book.chats:
                    await self._learn_chat(chat)  # its rest:chat before any of its events
                self.book.open_gap(chat)
        elif event in ("typing:start", "typing:stop"):
            data = {
                "chatId": chat_id_of(event, payload),
                "userId": self.keeper.user_id,
                "userType": "commercial",
            }
        elif event == "ping":
            event, data = "health-check", {}
        ack = normalise_ack(await self.sio.call(event, data, timeout))
        if event == "health-check" and ack["ok"] and self._sink is not None:
            # the round trip, as ai-api's pong gives it: journaled, so a rebuild has it
            answer = {k: v for k, v in ack.items() if k != "ok"}
            self._sink.ingest(
                "ack:health-check", ({**answer, "ping": payload.get("timestamp")},), time.time()
            )
        state = self.book.chats.get(payload.get("chatId", ""))
        if state is not None and ack["ok"] and event in ("chat:join", "chat:leave"):
            state.room = state.joined = event == "chat:join"
            if event == "chat:join":  # what was said before the join took effect
                self._spawn(self._backfill_quietly(data["chatId"]))
        return ack

    async def _learn_chat(self, chat_id: str) -> None:
        """Read a chat before joining it (its visitor decides its messages' roles), for at
        most a moment: the gateway acks a join in milliseconds, the join must not wait on a
        slow or unreachable REST API."""
        try:
            async with asyncio.timeout(_LEARN_WAIT_S):  # one try: the join goes on anyway
                resp = await self.rest.request(
                    "GET", f"/v2/chats/{seg(chat_id)}", "rest:chat", retry=_ONE_TRY
                )
        except Exception as exc:  # a timeout too
            log.info("chat %s could not be read before joining it: %s", chat_id, exc)
            self.book.saw_chat(chat_id, None)
            return
        if isinstance(resp.body, dict):
            resp.body.setdefault("id", chat_id)
            self.book.take_chat(resp.body)
        else:
            self.book.saw_chat(chat_id, None)

    async def _backfill_quietly(self, chat_id: str) -> None:
        try:
            await self.book.catch_up(chat_id)
        except Exception as exc:
            log.warning("could not read the messages of chat %s: %s", chat_id, exc)
