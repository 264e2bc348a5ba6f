"""A local stand-in for the MusicMint API, for the demo, tests and benchmarks."""

from tui.simulator.faults import Fault
from tui.simulator.server import DEFAULT_KEY, Simulator, SimulatorServer

__all__ = ["DEFAULT_KEY", "Fault", "Simulator", "SimulatorServer"]
