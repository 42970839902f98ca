"""The access token of a guiders-v2 session: given, or obtained by logging in and renewed.

``POST {api}/user/auth/login {email, password}`` -> 200 ``{access_token, refresh_token}``;
``POST {api}/user/auth/refresh {refreshToken}`` -> 201 ``{accessToken}``. The token's
``exp`` (read without verifying the signature: the client only needs to know when to
renew) decides when: a while before it expires, and again right before any reconnect
(python-socketio asks for the ``auth`` dict on every connect).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import jwt

from ...errors import AuthenticationError, GuidersLabError
from ...secrets import Secret, spellings
from .rest import RestClient

__all__ = ["TokenKeeper", "claims_of"]

log = logging.getLogger(__name__)


def claims_of(token: str) -> dict[str, Any]:
    """The JWT's payload, unverified (``{}`` when it is not a JWT)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


class TokenKeeper:
    """Holds the current access token; with credentials, logs in and keeps it fresh."""

    def __init__(
        self,
        *,
        token: Secret | None = None,
        email: str | None = None,
        password: Secret | None = None,
        refresh_margin: float = 60.0,
    ) -> None:
        if token is None and (email is None or password is None):
            raise TypeError("guiders-v2 needs token=, or email= and password=")
        self.email = email
        self._password = password
        self._access = token
        self._refresh: Secret | None = None
        self._seen: list[str] = []  # every secret this session held: scrubbed from errors
        self.refresh_margin = refresh_margin
        self.claims: dict[str, Any] = {}
        self.issued_at = self.expires_at = None  # type: float | None
        self.logins = self.refreshes = self.renew_failures = 0
        self._lock = asyncio.Lock()
        self.rest: RestClient | None = None  # set by the transport
        if password is not None:
            self._remember(password)
        if token is not None:
            self._set_access(token)

    def __repr__(self) -> str:
        who = f" {self.email}" if self.email else ""
        return f"<TokenKeeper{who} sub={self.user_id!r} expires_at={self.expires_at}>"

    # ------------------------------------------------------------------ state
    @property
    def renewable(self) -> bool:
        return self._password is not None

    @property
    def access(self) -> Secret | None:
        return self._access

    @property
    def user_id(self) -> str | None:
        sub = self.claims.get("sub")
        return str(sub) if sub is not None else None

    def secrets(self) -> list[str]:
        return list(self._seen)

    def _remember(self, secret: Secret) -> None:
        self._seen.extend(s for s in spellings(secret.reveal()) if s not in self._seen)
        del self._seen[:-60]  # the recent ones are enough: older tokens have expired

    def _set_access(self, token: Secret) -> None:
        self._access = token
        self._remember(token)
        self.claims = claims_of(token.reveal())
        exp, iat = self.claims.get("exp"), self.claims.get("iat")
        self.expires_at = float(exp) if isinstance(exp, int | float) else None
        self.issued_at = float(iat) if isinstance(iat, int | float) else time.time()

    def due_at(self) -> float | None:
        """When to renew: ``refresh_margin`` s before expiry, or at 3/4 of a short life."""
        if self.expires_at is None:
            return None
        life = max(self.expires_at - (self.issued_at or time.time()), 0.0)
        return self.expires_at - min(self.refresh_margin, life / 4)

    def check_not_expired(self) -> None:
        """A given token that already expired: refused before trying it."""
        if self.renewable or self.expires_at is None or self.expires_at > time.time():
            return
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.expires_at))
        raise AuthenticationError(f"the access token expired at {when} (JWT exp)")

    # ------------------------------------------------------------------ renewing
    async def login(self) -> None:
        rest = self._rest()
        assert self.email is not None and self._password is not None
        body = {"email": self.email, "password": self._password.reveal()}
        try:
            resp = await rest.request("POST", "/user/auth/login", "login", json=body, auth="none")
        except AuthenticationError:
            raise AuthenticationError(
                f"{rest.safe_url} refused the login of {self.email}: wrong e-mail or password"
            ) from None
        data = resp.body if isinstance(resp.body, dict) else {}
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access, str) or not access:
            raise AuthenticationError(f"{rest.safe_url}: the login answer has no access_token")
        self._set_access(Secret(access))
        if isinstance(refresh, str) and refresh:
            self._refresh = Secret(refresh)
            self._remember(self._refresh)
        self.logins += 1

    async def renew(self) -> bool:
        """Refresh the access token (log in again if the refresh token is refused).
        True when a new token is in place."""
        if not self.renewable:
            return False
        async with self._lock:
            before = self._access
            rest = self._rest()
            if self._refresh is not None:
                try:
                    resp = await rest.request(
                        "POST", "/user/auth/refresh", "refresh",
                        json={"refreshToken": self._refresh.reveal()}, auth="none",
                    )  # fmt: skip
                    data = resp.body if isinstance(resp.body, dict) else {}
                    access = data.get("accessToken")
                    if isinstance(access, str) and access:
                        self._set_access(Secret(access))
                        self.refreshes += 1
                        log.info("renewed the access token of %s", self.email)
                        return True
                except AuthenticationError:
                    log.info("the refresh token of %s was refused; logging in again", self.email)
            await self.login()
            return self._access is not before

    async def renew_quietly(self) -> bool:
        """:meth:`renew` for the REST client's one retry after a 401: never raises."""
        try:
            return await self.renew()
        except (GuidersLabError, OSError) as exc:
            self.renew_failures += 1
            log.warning("could not renew the access token: %s", exc)
            return False

    async def ensure_fresh(self) -> None:
        """Renew now when the token is due (before a reconnect sends it)."""
        due = self.due_at()
        if self.renewable and due is not None and due <= time.time():
            await self.renew_quietly()

    async def keep_fresh(self) -> None:
        """Run until cancelled: renew every time the token comes due."""
        failures = 0
        while self.renewable:
            due = self.due_at()
            if due is None:
                return
            await asyncio.sleep(max(due - time.time(), 0.5 if failures == 0 else 0.0))
            if await self.renew_quietly():
                failures = 0
                continue
            failures += 1  # retry soon, with backoff, while the old token lasts
            await asyncio.sleep(min(2.0**failures, 30.0) * random.uniform(0.5, 1.0))

    def _rest(self) -> RestClient:
        if self.rest is None:
            raise RuntimeError("TokenKeeper.rest is not set")
        return self.rest
