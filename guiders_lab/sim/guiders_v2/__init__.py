"""The simulator in the ``guiders-v2`` dialect: the deployed Guiders backend's protocol."""

from __future__ import annotations

from .faults import V2Faults
from .server import GuidersV2Server

__all__ = ["GuidersV2Server", "V2Faults"]
