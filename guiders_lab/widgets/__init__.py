"""ipywidgets views over a session: the chat inspector and the live dashboard."""

from __future__ import annotations

from .dashboard import LiveDashboard
from .inspector import ChatInspector
from .playground import VariantPlayground

__all__ = ["ChatInspector", "LiveDashboard", "VariantPlayground"]
