"""What a guiders-v2 session learns over REST: chats, their history, their closes.

The backend has no account-wide feed and no replay: a listener lists chats
(``GET /v2/chats``, cursor-paginated, newest first), joins each chat's room, and reads
each chat's messages (``GET /v2/messages/chat/{id}``, newest first, an offset cursor).
After a reconnect it reads each chat's messages back to the last one it saw, and lists
chats again for those created meanwhile. Closing emits nothing on the socket, so open
chats are polled (``GET /v2/chats/{id}``). What REST returns goes into the sink as the
synthetic events ``rest:chat``, ``rest:chat-assigned``, ``rest:chat-closed`` and
``rest:message``, so it is journaled and replays exactly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ...errors import AuthenticationError, GuidersLabError
from .rest import RestClient, seg

__all__ = ["CLOSED", "Book", "ChatState", "assigned_of", "parse_time", "widen_cursor"]

log = logging.getLogger(__name__)

CLOSED = frozenset({"CLOSED", "ABANDONED"})
Ingest = Callable[[str, dict[str, Any]], None]
Join = Callable[[str], Awaitable[bool]]
_MAX_PAGES = 10_000
_MAX_LIMIT = 100  # the backend's largest page


def parse_time(value: object) -> float | None:
    """An ISO 8601 time (or epoch ms) as epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 1000.0
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def widen_cursor(cursor: str) -> str:
    """The same chats-page cursor 1 ms later, so the next page re-reads the boundary's
    millisecond (the deployed query can skip chats created in the same ms as the last
    one of a page). The cursor is base64 JSON ``{createdAt, id}``; anything else is
    returned as it is."""
    try:
        data = json.loads(base64.b64decode(cursor, validate=True))
        at = datetime.fromisoformat(data["createdAt"])
    except (ValueError, TypeError, KeyError):
        return cursor
    if not isinstance(data, dict) or at.tzinfo is None:
        return cursor
    later = (at + timedelta(milliseconds=1)).astimezone(UTC)
    data["createdAt"] = later.strftime("%Y-%m-%dT%H:%M:%S.") + f"{later.microsecond // 1000:03d}Z"
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def assigned_of(chat: dict[str, Any]) -> str | None:
    commercial = chat.get("assignedCommercial")
    found = chat.get("assignedCommercialId") or (
        commercial.get("id") if isinstance(commercial, dict) else None
    )
    return str(found) if found else None


@dataclass
class ChatState:
    status: str | None = None
    assigned: str | None = None
    last_time: str | None = None  # the newest message seen (as the server wrote its time)
    last_id: str | None = None
    room: bool = False  # its room is wanted: joined now and re-joined after reconnects
    joined: bool = False

    @property
    def closed(self) -> bool:
        return self.status in CLOSED


class Book:
    """The chats a session knows, and the REST reads that fill them in."""

    def __init__(
        self,
        rest: RestClient,
        ingest: Ingest,
        join: Join,
        *,
        window: float | None,
        page_size: int = 100,
        concurrency: int = 4,
    ) -> None:
        self.rest = rest
        self._ingest = ingest
        self._join = join
        self.window = window  # seconds of history on connect; None: none
        self.page_size = page_size
        self._gate = asyncio.Semaphore(concurrency)
        self.chats: dict[str, ChatState] = {}
        # chats to refill after a reconnect, from the last message seen before the gap
        self.gaps: dict[str, tuple[str | None, str | None]] = {}
        self.started_at: float | None = None
        self.listings = self.chats_backfilled = self.messages_backfilled = 0
        self.closes_detected = self.backfill_errors = 0

    # ------------------------------------------------------------------ live taps
    def saw_message(self, payload: dict[str, Any]) -> None:
        """A live ``message:new`` (the hot path: no parsing here)."""
        state = self.chats.get(payload.get("chatId"))  # type: ignore[arg-type]
        if state is not None:
            state.last_time, state.last_id = payload.get("sentAt"), payload.get("messageId")

    def saw_chat(self, chat_id: str, status: object, assigned: object = None) -> bool:
        """A live ``chat:created`` / assignment; True when the chat is new to the book."""
        state = self.chats.get(chat_id)
        new = state is None
        if state is None:
            state = self.chats[chat_id] = ChatState()
        if isinstance(status, str):
            state.status = status
        if assigned:
            state.assigned = str(assigned)
        return new

    def mark_gap(self) -> None:
        """The link came back (before any event of the new connection): remember where
        each chat's history stopped, so live messages arriving during the refill do not
        move that point. A gap not yet refilled keeps its older start."""
        for chat_id, state in self.chats.items():
            if state.room:
                self.gaps.setdefault(chat_id, (state.last_time, state.last_id))

    # ------------------------------------------------------------------ chats
    async def list_chats(self, stop_before: float | None) -> dict[str, dict[str, Any]]:
        """Every chat the user sees (newest first; with ``stop_before``, pages stop once
        they reach chats created before it), deduped by id, boundaries re-read."""
        found: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        limit, widened = self.page_size, False
        for _ in range(_MAX_PAGES):
            params = {"limit": str(limit)}
            if cursor:
                params["cursor"] = cursor
            resp = await self.rest.request("GET", "/v2/chats", "rest:chats", params=params)
            page = resp.body if isinstance(resp.body, dict) else {}
            chats = [c for c in page.get("chats") or () if isinstance(c, dict) and c.get("id")]
            new = [c for c in chats if str(c["id"]) not in found]
            for chat in new:
                found[str(chat["id"])] = chat
            nxt = page.get("nextCursor")
            if not page.get("hasMore") or not isinstance(nxt, str) or not nxt:
                break
            oldest = parse_time(chats[-1].get("createdAt")) if chats else None
            if stop_before is not None and oldest is not None and oldest < stop_before:
                break
            if widened and not new and limit < _MAX_LIMIT:
                limit = _MAX_LIMIT  # more chats in that ms than a page: read them at once
                continue
            # re-read the boundary millisecond, unless that page brought nothing new
            cursor = widen_cursor(nxt) if new else nxt
            widened = cursor != nxt
            limit = self.page_size
        self.listings += 1
        return found

    def _wanted(self, chat: dict[str, Any], cutoff: float) -> bool:
        created = parse_time(chat.get("createdAt"))
        if created is not None and created >= cutoff:
            return True
        if self.window is None:  # no history: only chats created since the session began
            return False
        last = parse_time(chat.get("lastMessageDate"))
        return chat.get("status") not in CLOSED or (last is not None and last >= cutoff)

    def take_chat(self, chat: dict[str, Any]) -> bool:
        """Ingest what a REST chat object tells: ``rest:chat`` for a chat new to the book,
        then ``rest:chat-assigned`` / ``rest:chat-closed`` when that is news. True if new."""
        chat_id = str(chat["id"])
        state = self.chats.get(chat_id)
        new = state is None
        if state is None:
            state = self.chats[chat_id] = ChatState()
            self._ingest("rest:chat", chat)
        status, assigned = chat.get("status"), assigned_of(chat)
        if assigned is not None and assigned != state.assigned:
            self._ingest("rest:chat-assigned", chat)
        if status in CLOSED and (new or not state.closed):
            self._ingest("rest:chat-closed", chat)
            self.closes_detected += 0 if new else 1
        state.assigned = assigned or state.assigned
        state.status = status if isinstance(status, str) else state.status
        return new

    # ------------------------------------------------------------------ a whole sync
    async def sync(self, *, first: bool, rejoin: bool) -> None:
        """On (re)connect: rejoin rooms, list chats (the window on the first connect, new
        ones after), join the new ones, read messages (all of a new chat's, a known
        chat's since the last seen). Raises AuthenticationError on a 401."""
        now = time.time()
        if self.started_at is None:
            self.started_at = now
        known = [cid for cid, s in self.chats.items() if s.room]
        if rejoin:
            for chat_id in known:
                self.chats[chat_id].joined = False
            await self._each(known, self.join)
        cutoff = self.started_at - (self.window or 0.0)
        fresh: list[str] = []
        if not (first and self.window is None):
            stop = cutoff if self.window is None else None  # open chats may be old
            try:
                listed = await self.list_chats(stop)
            except AuthenticationError:
                raise
            except (GuidersLabError, OSError) as exc:  # the socket works: go on without
                self.backfill_errors += 1
                log.warning("could not list chats over REST: %s", exc)
                listed = {}
            for chat_id, chat in listed.items():
                wanted = chat_id in self.chats or self._wanted(chat, cutoff)
                if wanted and self.take_chat(chat):
                    fresh.append(chat_id)
        self.chats_backfilled += len(fresh)
        await self._each(fresh, self.join)
        # each chat's history up to its join (a new chat's: all of it), and, after a
        # reconnect, what the known chats said while the link was down (closed or not)
        await self._each(list(self.gaps), self.catch_up)

    def open_gap(self, chat_id: str) -> None:
        """About to join: what was said before the join takes effect is read over REST,
        from the last message seen so far (live ones arriving meanwhile do not move it)."""
        state = self.chats.setdefault(chat_id, ChatState())
        self.gaps.setdefault(chat_id, (state.last_time, state.last_id))

    async def join(self, chat_id: str) -> None:
        state = self.chats.get(chat_id)
        if state is not None and not state.joined:
            state.room = True
            self.open_gap(chat_id)
            state.joined = await self._join(chat_id)

    async def joined_live(self, chat_id: str) -> None:
        """A chat announced live (``chat:created``): join its room, then read what was
        said before the join took effect."""
        await self.join(chat_id)
        await self.catch_up(chat_id)

    async def _each(self, chat_ids: list[str], work: Callable[[str], Awaitable[None]]) -> None:
        async def one(chat_id: str) -> None:
            async with self._gate:
                try:
                    await work(chat_id)
                except AuthenticationError:
                    raise
                except (GuidersLabError, OSError) as exc:
                    self.backfill_errors += 1
                    log.warning("chat %s: %s failed: %s", chat_id, work.__name__, exc)

        await asyncio.gather(*(one(c) for c in chat_ids))

    # ------------------------------------------------------------------ messages
    async def catch_up(self, chat_id: str) -> None:
        since = self.gaps.get(chat_id)
        await self.backfill_messages(chat_id, since)
        if self.gaps.get(chat_id) == since:
            self.gaps.pop(chat_id, None)  # refilled (a newer gap would have kept it)

    async def backfill_messages(
        self, chat_id: str, since: tuple[str | None, str | None] | None = None
    ) -> None:
        """Read the chat's messages newest first, back to the last one already seen
        (``since``: a gap's start; all of them for a chat never read), and ingest them
        oldest first."""
        state = self.chats.setdefault(chat_id, ChatState())
        last_time, stop_id = since if since is not None else (state.last_time, state.last_id)
        stop_at = parse_time(last_time)
        got: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            params = {"limit": str(self.page_size)}
            if cursor:
                params["cursor"] = cursor
            resp = await self.rest.request(
                "GET", f"/v2/messages/chat/{seg(chat_id)}", "rest:messages", params=params
            )
            page = resp.body if isinstance(resp.body, dict) else {}
            reached = False
            for message in page.get("messages") or ():
                if not isinstance(message, dict):
                    continue
                at = parse_time(message.get("createdAt") or message.get("sentAt"))
                if stop_id is not None and message.get("id") == stop_id:
                    reached = True
                    break
                if stop_at is not None and at is not None and at < stop_at:
                    reached = True
                    break
                got.setdefault(str(message.get("id")), message)
            nxt = page.get("nextCursor")
            if reached or not page.get("hasMore") or not isinstance(nxt, str) or not nxt:
                break
            cursor = nxt
        ordered = sorted(
            got.values(), key=lambda m: parse_time(m.get("createdAt") or m.get("sentAt")) or 0.0
        )
        for message in ordered:
            message.setdefault("chatId", chat_id)
            self._ingest("rest:message", message)
            self._note_rest_message(state, message)
        self.messages_backfilled += len(ordered)

    @staticmethod
    def _note_rest_message(state: ChatState, message: dict[str, Any]) -> None:
        at = message.get("createdAt") or message.get("sentAt")
        newer = parse_time(at) or 0.0
        if state.last_time is None or newer >= (parse_time(state.last_time) or 0.0):
            state.last_time, state.last_id = at, message.get("id")

    # ------------------------------------------------------------------ closes
    async def poll_closed(self) -> None:
        """Re-read every open chat; ingest ``rest:chat-closed`` for those now closed."""
        open_ids = [cid for cid, s in self.chats.items() if not s.closed]
        await self._each(open_ids, self._poll_one)

    async def _poll_one(self, chat_id: str) -> None:
        resp = await self.rest.request("GET", f"/v2/chats/{seg(chat_id)}", "rest:chat")
        chat = resp.body
        if isinstance(chat, dict) and chat.get("status") in CLOSED:
            chat.setdefault("id", chat_id)
            self.take_chat(chat)

    def stats(self) -> dict[str, object]:
        return {
            "chats_known": len(self.chats),
            "chat_rooms_joined": sum(1 for s in self.chats.values() if s.joined),
            "chats_backfilled": self.chats_backfilled,
            "messages_backfilled": self.messages_backfilled,
            "closes_detected": self.closes_detected,
            "backfill_errors": self.backfill_errors,
        }
