"""An aiohttp client for the deployed backend's REST API (``/api``).

JSON bodies, ``Authorization: Bearer <JWT>`` (or ``x-api-key`` on the Integration API),
retries with exponential backoff and jitter on 429 and 5xx (``Retry-After`` honoured;
never on other 4xx, nor on 501, which is the backend's "not implemented"). Errors:
:class:`~guiders_lab.errors.ActionError` ``(event, str(status), server message)``, and a
401 is an :class:`~guiders_lab.errors.AuthenticationError` naming what was refused.
No token, password or key ever reaches a log line, an exception or a repr.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from yarl import URL

from ...errors import ActionError, AuthenticationError, NotConnectedError
from ...secrets import Secret, redact_text, redact_url

__all__ = ["Response", "RestClient", "RetryPolicy", "seg", "server_message"]

log = logging.getLogger(__name__)

_NO_RETRY_5XX = frozenset({501, 505})  # "not implemented" stays so: retrying only waits


def seg(value: object) -> str:
    """One URL path segment (an id), percent-encoded."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one REST call (times in seconds)."""

    retries: int = 3  # after the first attempt
    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 60.0  # a longer Retry-After is cut to this

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return float(min(max(retry_after, 0.0), self.max_retry_after))
        backoff = min(self.base_delay * 2**attempt, self.max_delay)
        return float(backoff * random.uniform(0.5, 1.0))  # jitter: clients do not retry in step


@dataclass(frozen=True)
class Response:
    status: int
    body: Any  # decoded JSON, the text when not JSON, None when empty


def server_message(body: Any, status: int) -> str:
    """The server's own words: NestJS ``message`` (a list of validation errors is joined
    with "; "), else its ``error`` code, else the text."""
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, list):
            return "; ".join(str(m) for m in message)
        if message is not None:
            return str(message)
        if body.get("error") is not None:
            return str(body["error"])
    if isinstance(body, str) and body.strip():
        return body.strip()[:500]
    return f"HTTP {status}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


class RestClient:
    """REST calls under ``api_url``. ``bearer`` gives the current access token (it
    changes when renewed); ``secrets`` gives every secret string to scrub from errors."""

    def __init__(
        self,
        api_url: str,
        bearer: Callable[[], Secret | None],
        secrets: Callable[[], list[str]],
        *,
        api_key: Secret | None = None,
        retry: RetryPolicy | None = None,
        on_unauthorized: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.safe_url = redact_url(self.api_url)
        self._bearer = bearer
        self._secrets = secrets
        self._api_key = api_key
        self.retry = retry or RetryPolicy()
        self._renew = on_unauthorized  # async: renew the token once after a 401
        self._http: aiohttp.ClientSession | None = None
        self.requests = self.retries = self.failures = 0

    def __repr__(self) -> str:
        return f"<RestClient {self.safe_url}>"

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(json_serialize=lambda o: orjson.dumps(o).decode())
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    def clean(self, text: str) -> str:
        return redact_text(text, self._secrets())

    async def request(
        self,
        method: str,
        path: str,
        event: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        auth: str = "bearer",
        retry: RetryPolicy | None = None,
    ) -> Response:
        """One call, retried on 429/5xx; a 2xx :class:`Response`, else raises. ``auth``:
        ``"bearer"`` (the access token), ``"api_key"`` (``x-api-key``) or ``"none"``;
        ``retry`` overrides the client's policy for this call."""
        policy = retry if retry is not None else self.retry
        renewed = False
        attempt = 0
        while True:
            status, body, retry_after = await self._once(
                method, path, event, json, params, auth, policy
            )
            if 200 <= status < 300:
                return Response(status, body)
            if status == 401 and auth == "bearer" and not renewed and self._renew is not None:
                renewed = True  # the token may have expired in flight: renew it, once
                if await self._renew():
                    continue
            transient = status == 429 or (status >= 500 and status not in _NO_RETRY_5XX)
            if transient and attempt < policy.retries:
                wait = policy.delay(attempt, retry_after)
                attempt += 1
                self.retries += 1
                log.info(
                    "%s %s: HTTP %d; retry %d/%d in %.2f s",
                    method, self.safe_url + path, status, attempt, policy.retries, wait,
                )  # fmt: skip
                await asyncio.sleep(wait)
                continue
            self.failures += 1
            raise self._error(event, status, body, auth)

    async def _once(
        self,
        method: str,
        path: str,
        event: str,
        json: Any,
        params: dict[str, str] | None,
        auth: str,
        policy: RetryPolicy,
    ) -> tuple[int, Any, float | None]:
        headers = {"Accept": "application/json"}
        if auth == "api_key" and self._api_key is not None:
            headers["x-api-key"] = self._api_key.reveal()
        elif auth == "bearer":
            token = self._bearer()
            if token is not None:
                headers["Authorization"] = f"Bearer {token.reveal()}"
        self.requests += 1
        url = self.api_url + path
        if params:  # every reserved character encoded (a base64 cursor has + / =)
            url += "?" + urlencode(params, quote_via=quote, safe="")
        attempt = 0
        while True:
            try:
                async with self._session().request(
                    method, URL(url, encoded=True), json=json, headers=headers
                ) as resp:
                    raw = await resp.read()
                    return resp.status, _decode(raw), _retry_after(resp.headers.get("Retry-After"))
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                # never reached the server (or a GET, which is safe to repeat): try again
                safe = isinstance(exc, aiohttp.ClientConnectorError) or method == "GET"
                if safe and attempt < policy.retries:
                    attempt += 1
                    self.retries += 1
                    await asyncio.sleep(policy.delay(attempt - 1, None))
                    continue
                self.failures += 1
                what = self.clean(str(exc)) or type(exc).__name__
                raise NotConnectedError(
                    f"{event}: {method} {self.safe_url}{path} failed ({what}); "
                    + ("it was not sent" if safe else "it may or may not have been applied")
                ) from None

    def _error(self, event: str, status: int, body: Any, auth: str) -> Exception:
        message = self.clean(server_message(body, status))
        if status == 401:
            what = {"api_key": "the API key (x-api-key)", "bearer": "the access token"}.get(
                auth, "the credentials"
            )
            return AuthenticationError(
                f"{event}: {self.safe_url} refused {what} (HTTP 401: {message})"
            )
        return ActionError(event, str(status), message)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", "replace")
