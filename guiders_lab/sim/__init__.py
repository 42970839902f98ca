"""A simulated Guiders backend: seeded scenarios on a real Socket.IO server."""

from __future__ import annotations

from .behaviour import ActionEffects, ChatBehaviour, StaffBehaviour, VisitorBehaviour
from .engine import Simulation
from .faults import Faults, ServerState
from .guiders_v2 import GuidersV2Server
from .handle import SimulatorHandle, launch_simulator
from .scenario import SCENARIOS, CommercialSpec, Scenario, get_scenario
from .server import Identity, SimServer

__all__ = [
    "SCENARIOS",
    "ActionEffects",
    "ChatBehaviour",
    "CommercialSpec",
    "Faults",
    "GuidersV2Server",
    "Identity",
    "Scenario",
    "ServerState",
    "SimServer",
    "Simulation",
    "SimulatorHandle",
    "StaffBehaviour",
    "VisitorBehaviour",
    "get_scenario",
    "launch_simulator",
]
