"""A simulated Guiders backend: seeded scenarios on a real Socket.IO server."""

from __future__ import annotations

from .engine import Simulation
from .handle import SimulatorHandle, launch_simulator
from .scenario import SCENARIOS, CommercialSpec, Scenario, get_scenario
from .server import Identity, SimServer

__all__ = [
    "SCENARIOS",
    "CommercialSpec",
    "Identity",
    "Scenario",
    "SimServer",
    "Simulation",
    "SimulatorHandle",
    "get_scenario",
    "launch_simulator",
]
