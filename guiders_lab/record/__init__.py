"""Recording sessions to disk, loading them back, and replaying them."""

from __future__ import annotations

from ..errors import ReplayReadOnlyError
from .follow import BackgroundSession, capture_in_background
from .journal import JournalFailedWarning
from .load import Recording, RecordingTransport, RecordingWarning, load, rebuild
from .manifest import SCHEMA_VERSION, Manifest, RecordingError
from .recorder import Recorder
from .replay import ReplaySession, ReplayTransport, replay

__all__ = [
    "SCHEMA_VERSION",
    "BackgroundSession",
    "JournalFailedWarning",
    "Manifest",
    "Recorder",
    "Recording",
    "RecordingError",
    "RecordingTransport",
    "RecordingWarning",
    "ReplayReadOnlyError",
    "ReplaySession",
    "ReplayTransport",
    "capture_in_background",
    "load",
    "rebuild",
    "replay",
]
