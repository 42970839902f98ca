"""guiders-lab: study and prototype chat bots on the live Guiders event stream, in Jupyter.

>>> import guiders_lab as gl
>>> sim = gl.launch_simulator(seed=7)                  # doctest: +SKIP
>>> live = await gl.connect(sim)                       # doctest: +SKIP
>>> live.messages.tail()                               # doctest: +SKIP
"""

from __future__ import annotations

from . import analysis, bots, charts, lab, models, privacy, sentiment
from ._running import RunningWarning, running
from ._version import __version__
from .connect import LiveSession, connect, connect_sync
from .dataset import Dataset, open_dataset
from .errors import (
    AckTimeoutError,
    ActionError,
    ActionExpiredError,
    ActionQueueFullError,
    AuthenticationError,
    ConnectionFailedError,
    GuidersLabError,
    Interrupted,
    NotConnectedError,
    PayloadError,
    ReplayReadOnlyError,
    UnsupportedActionError,
)
from .record import (
    BackgroundSession,
    JournalFailedWarning,
    Recording,
    RecordingError,
    RecordingWarning,
    ReplaySession,
    capture_in_background,
    load,
    replay,
)
from .report import write_report
from .session import Session
from .sim import SCENARIOS, Scenario, SimulatorHandle, launch_simulator
from .store import RowsDroppedWarning, Store
from .sync import run
from .transport import ConnectOptions
from .widgets import ChatInspector, LiveDashboard, VariantPlayground

__all__ = [
    "SCENARIOS",
    "AckTimeoutError",
    "ActionError",
    "ActionExpiredError",
    "ActionQueueFullError",
    "AuthenticationError",
    "BackgroundSession",
    "ChatInspector",
    "ConnectOptions",
    "ConnectionFailedError",
    "Dataset",
    "GuidersLabError",
    "Interrupted",
    "JournalFailedWarning",
    "LiveDashboard",
    "LiveSession",
    "NotConnectedError",
    "PayloadError",
    "Recording",
    "RecordingError",
    "RecordingWarning",
    "ReplayReadOnlyError",
    "ReplaySession",
    "RowsDroppedWarning",
    "RunningWarning",
    "Scenario",
    "Session",
    "SimulatorHandle",
    "Store",
    "UnsupportedActionError",
    "VariantPlayground",
    "__version__",
    "analysis",
    "bots",
    "capture_in_background",
    "charts",
    "connect",
    "connect_sync",
    "lab",
    "launch_simulator",
    "load",
    "models",
    "open_dataset",
    "privacy",
    "replay",
    "run",
    "running",
    "sentiment",
    "write_report",
]
