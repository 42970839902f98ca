"""The page's client actions as typed methods: each builds its event's payload and hands
it to :meth:`Session.emit` (validated, sent through the outbox, recorded in ``actions``)."""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

__all__ = ["Actions"]


def _compact(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


class Actions:
    """One method per client event of the ``ai-api`` dialect (the reference page)."""

    @abstractmethod
    def client_events(self) -> Mapping[str, object]:
        """The client events the session's dialect has (name -> payload shape)."""

    @abstractmethod
    async def emit(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Validate and send any client event; returns the ack."""

    async def send_message(
        self,
        chat_id: str,
        content: str,
        *,
        type: str = "ai-response",
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """``message:send``: post an AI reply (it comes back as ``message:new``)."""
        return await self.emit(
            "message:send",
            _compact(
                {
                    "chatId": chat_id,
                    "content": content,
                    "type": type,
                    "metadata": metadata,
                    "idempotencyKey": idempotency_key,
                }
            ),
        )

    async def assign_chat(
        self,
        chat_id: str,
        commercial_id: str,
        *,
        reason: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``chat:assign``: hand a chat to a commercial (the server emits ``chat:assigned``)."""
        return await self.emit(
            "chat:assign",
            _compact(
                {
                    "chatId": chat_id,
                    "commercialId": commercial_id,
                    "reason": reason,
                    "metadata": metadata,
                }
            ),
        )

    async def update_chat(
        self,
        chat_id: str,
        *,
        status: str | None = None,
        tags: list[str] | None = None,
        priority: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``chat:update``: change status, tags or priority."""
        updates = _compact(
            {"status": status, "tags": tags, "priority": priority, "metadata": metadata}
        )
        return await self.emit("chat:update", {"chatId": chat_id, "updates": updates})

    async def join_chat(self, chat_id: str, *, role: str = "ai-assistant") -> dict[str, Any]:
        """``chat:join``: receive the chat room's events (typing); re-joined on reconnect."""
        return await self.emit("chat:join", {"chatId": chat_id, "role": role})

    async def close_chat(self, chat_id: str) -> dict[str, Any]:
        """Close a chat: ``chat:close`` where the dialect has it (guiders-v2: ``PUT
        /api/v2/chats/{id}/close``), else ``chat:update`` with status ``closed`` (ai-api)."""
        if "chat:close" in self.client_events():
            return await self.emit("chat:close", {"chatId": chat_id})
        return await self.update_chat(chat_id, status="closed")

    async def leave_chat(self, chat_id: str) -> dict[str, Any]:
        """``chat:leave`` (guiders-v2): stop receiving the chat room's events."""
        return await self.emit("chat:leave", {"chatId": chat_id})

    async def typing(
        self, chat_id: str, active: bool = True, *, typer_id: str = "ai-bot"
    ) -> dict[str, Any]:
        """``typing:start`` (``active=True``) or ``typing:stop``."""
        event = "typing:start" if active else "typing:stop"
        return await self.emit(event, {"chatId": chat_id, "typerId": typer_id})

    async def notify(
        self, type: str, target: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``notification:send`` to ``target`` (``supervisors``, ``commercial:<id>``, ...)."""
        return await self.emit(
            "notification:send", {"type": type, "target": target, "data": data or {}}
        )

    async def suggest(
        self, chat_id: str, commercial_id: str, suggestions: list[Any], *, private: bool = True
    ) -> dict[str, Any]:
        """``assistance:suggestions``: private help for the commercial handling a chat."""
        return await self.emit(
            "assistance:suggestions",
            {
                "chatId": chat_id,
                "commercialId": commercial_id,
                "suggestions": suggestions,
                "private": private,
            },
        )

    async def trigger_conversion(
        self, visitor_id: str, *, strategy: str = "premium_attention"
    ) -> dict[str, Any]:
        """``trigger:high_conversion_flow`` for a visitor likely to buy."""
        return await self.emit(
            "trigger:high_conversion_flow", {"visitorId": visitor_id, "strategy": strategy}
        )

    async def ping(self) -> float:
        """Send a ``ping`` now; returns the acknowledged round trip in ms."""
        started = time.perf_counter()
        await self.emit("ping", {"timestamp": time.time() * 1000.0})
        return (time.perf_counter() - started) * 1000.0
