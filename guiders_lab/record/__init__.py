"""Recording sessions to disk, loading them back, and replaying them."""

from __future__ import annotations

from .journal import JournalFailedWarning
from .load import Recording, RecordingWarning, load, rebuild
from .manifest import SCHEMA_VERSION, Manifest, RecordingError
from .recorder import Recorder
from .replay import ReplayReadOnlyError, ReplaySession, replay

__all__ = [
    "SCHEMA_VERSION",
    "JournalFailedWarning",
    "Manifest",
    "Recorder",
    "Recording",
    "RecordingError",
    "RecordingWarning",
    "ReplayReadOnlyError",
    "ReplaySession",
    "load",
    "rebuild",
    "replay",
]
