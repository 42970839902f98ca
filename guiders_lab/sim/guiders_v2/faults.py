"""Faults of the guiders-v2 backend: REST answering 5xx or 429 for a while.

A client's REST retries (backoff on 5xx and 429, honouring ``Retry-After``, never on other
4xx) need a server that fails on cue; these fields sit next to the socket faults of
:class:`~guiders_lab.sim.faults.Faults` so ``sim.faults.clear()`` turns everything off.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..faults import Faults

__all__ = ["V2Faults"]

_REASONS = {
    429: "ThrottlerException: Too Many Requests",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class V2Faults(Faults):
    """``rest_fail_next``: how many of the next ``/api`` calls fail with
    ``rest_fail_status`` (before any guard or handler, so nothing is applied), with a
    ``Retry-After`` header when ``rest_retry_after`` is set (seconds). ``rest_fail_only``,
    when set, is the ``(method, path prefix)`` of the calls that count (the client's own
    background reads, such as a new chat's backfill, then pass untouched)."""

    rest_fail_next: int = 0
    rest_fail_status: int = 503
    rest_retry_after: float | None = None
    rest_fail_only: tuple[str, str] | None = None
    rest_failed: int = 0  # calls failed so far (tests read it)

    def fail_rest(
        self,
        n: int,
        status: int = 503,
        retry_after: float | None = None,
        only: tuple[str, str] | None = None,
    ) -> None:
        if not (status == 429 or 500 <= status < 600):
            raise ValueError("status must be 429 or 5xx")
        self.rest_fail_next, self.rest_fail_status, self.rest_retry_after = n, status, retry_after
        self.rest_fail_only = only

    def take_rest_failure(
        self, method: str, path: str
    ) -> tuple[int, dict[str, object], dict[str, str]] | None:
        """The failure to answer this call (``method`` ``path``) with, if one is due."""
        if self.rest_fail_next <= 0:
            return None
        if self.rest_fail_only is not None:
            only_method, prefix = self.rest_fail_only
            if method.upper() != only_method.upper() or not path.startswith(prefix):
                return None
        self.rest_fail_next -= 1
        self.rest_failed += 1
        status = self.rest_fail_status
        body: dict[str, object] = {"statusCode": status, "message": _REASONS.get(status, "Error")}
        headers = {}
        if self.rest_retry_after is not None:
            headers["Retry-After"] = f"{self.rest_retry_after:g}"
        return status, body, headers

    def clear(self) -> None:
        super().clear()
        self.rest_fail_next = 0
        self.rest_fail_status = 503
        self.rest_retry_after = None
        self.rest_fail_only = None
