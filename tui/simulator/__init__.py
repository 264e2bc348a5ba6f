"""A local stand-in for the MusicMint API, for the demo, tests and benchmarks."""

from tui.simulator.faults import Fault
from tui.simulator.server import SimulatorServer
from tui.simulator.state import DEFAULT_KEY, Simulator

__all__ = ["DEFAULT_KEY", "Fault", "Simulator", "SimulatorServer"]
