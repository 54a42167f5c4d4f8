"""The simulators over real HTTP (`simulators`, session-wide) and reset for each test (`sim`)."""

from tests.channels.live import sim, simulators

__all__ = ["sim", "simulators"]
