"""Buffer allocation in production lines: the problems, simulated and solved exactly."""

from __future__ import annotations

from cem.problems.buffer_allocation.problem import (
    INSTANCES,
    BufferAllocation,
    FlowLinePNH,
    Selection,
    compositions,
)
from cem.problems.buffer_allocation.production_line import (
    LineSpec,
    exact_throughput,
    simulate_throughput,
    simulation_bytes,
    stationary_distribution,
    two_machine_throughput,
)

__all__ = [
    "BufferAllocation",
    "FlowLinePNH",
    "INSTANCES",
    "LineSpec",
    "Selection",
    "compositions",
    "exact_throughput",
    "simulate_throughput",
    "simulation_bytes",
    "stationary_distribution",
    "two_machine_throughput",
]
