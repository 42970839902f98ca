"""The live transport of the ``guiders-v2`` dialect (the deployed Guiders backend):
socket for events, REST for actions and history, one room per chat, JWT auth."""

from __future__ import annotations

from .link import UNSUPPORTED, normalise_ack, window_seconds
from .rest import RetryPolicy
from .transport import GuidersV2Transport

__all__ = ["UNSUPPORTED", "GuidersV2Transport", "RetryPolicy", "normalise_ack", "window_seconds"]
