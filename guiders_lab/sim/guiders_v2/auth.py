"""Users, JWTs and the Integration API key of the simulated backend.

Internal tokens are HS256 JWTs with ``{sub, typ, role[], companyId, iat, exp}`` as the
backend's login issues them; access tokens are short-lived (``token_ttl``) so clients must
renew them with the refresh token, as against the real server.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from .ids import uuid_for

__all__ = ["Auth", "AuthError", "User"]

DEFAULT_PASSWORD_BYTES = 12
REFRESH_TTL_S = 7 * 24 * 3600
HANDLE_TOKEN_TTL_S = 24 * 3600  # the handle's own token: a notebook's day


class AuthError(Exception):
    """A token the backend refuses; the message is the backend's (``Token expirado``...)."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    roles: tuple[str, ...]
    company_id: str

    @property
    def is_commercial(self) -> bool:
        return any(r in ("commercial", "admin", "owner") for r in self.roles)

    @property
    def sees_all(self) -> bool:
        """Admins see every chat of the company; a plain commercial only its assigned."""
        return any(r in ("admin", "superadmin", "supervisor") for r in self.roles)


class Auth:
    """Signs and checks tokens with a secret of this simulator only."""

    def __init__(self, seed: int, token_ttl: float, password: str | None = None) -> None:
        self.secret = secrets.token_hex(32)
        self.token_ttl = token_ttl
        self.company_id = uuid_for(seed, "company")
        self.api_key = f"gdr_live_{secrets.token_hex(16)}"
        self.password = password or secrets.token_urlsafe(DEFAULT_PASSWORD_BYTES)
        admin = User(
            uuid_for(seed, "user:admin"),
            "admin@sim.guiders.test",
            "Admin Simulador",
            ("admin", "commercial"),
            self.company_id,
        )
        self.admin = admin
        self.users: dict[str, User] = {admin.email: admin}

    def add_commercial(self, user_id: str, name: str, key: str) -> User:
        """A scenario commercial who can log in too (it sees only its assigned chats)."""
        user = User(user_id, f"{key}@sim.guiders.test", name, ("commercial",), self.company_id)
        self.users[user.email] = user
        return user

    def issue(
        self,
        sub: str,
        roles: list[str] | tuple[str, ...],
        *,
        ttl: float | None = None,
        typ: str = "access",
        company_id: str | None = None,
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": sub,
            "typ": typ,
            "role": list(roles),
            "companyId": company_id or self.company_id,
            "iat": now,
            "exp": now + int(self.token_ttl if ttl is None else ttl),
        }
        return jwt.encode(payload, self.secret, algorithm="HS256")

    def login(self, email: Any, password: Any) -> tuple[str, str]:
        """``(access, refresh)``, or :class:`AuthError` with the use case's message."""
        user = self.users.get(email) if isinstance(email, str) else None
        if user is None:
            raise AuthError("User not found")
        if not isinstance(password, str) or not secrets.compare_digest(
            password.encode(), self.password.encode()
        ):
            raise AuthError("Invalid password")
        access = self.issue(user.id, user.roles)
        refresh = self.issue(user.id, user.roles, ttl=REFRESH_TTL_S, typ="refresh")
        return access, refresh

    def refresh(self, token: str) -> str:
        payload = self.verify(token)
        if payload.get("typ") != "refresh":
            raise AuthError("Token inválido")
        return self.issue(payload["sub"], payload["role"], company_id=payload.get("companyId"))

    def verify(self, token: str) -> dict[str, Any]:
        """The payload, as TokenVerifyService.verifyToken answers (``Token expirado`` for an
        expired one, ``Token inválido`` for anything else)."""
        try:
            payload: dict[str, Any] = jwt.decode(token, self.secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            raise AuthError("Token expirado") from None
        except jwt.PyJWTError:
            raise AuthError("Token inválido") from None
        if not isinstance(payload.get("sub"), str) or not isinstance(payload.get("role"), list):
            raise AuthError("Token inválido")
        return payload

    def user_for(self, payload: dict[str, Any]) -> User:
        """Who a verified payload is: roles and company from the claims, as the guard
        reads them; the name from the user it belongs to, if any."""
        known = next((u for u in self.users.values() if u.id == payload["sub"]), None)
        return User(
            payload["sub"],
            known.email if known else "",
            known.name if known else "",
            tuple(str(r) for r in payload["role"]),
            str(payload.get("companyId") or ""),
        )
