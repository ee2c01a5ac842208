"""The result of a continuous (off-grid) global solve: an interval with a proof.

Shared by every continuous method (``patterns`` for one-hidden-layer ReLU nets, ``spatial``
branch-and-bound for the rest).  ``objective`` is the risk of ``params`` on the *original*
data, recomputed; ``lower_bound`` is certified by the method's proof; ``gap`` is their
difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ContinuousResult:
    """What a continuous solver returns.

    Parameters
    ----------
    status : {"optimal", "time_limit"}
        ``optimal`` once the gap is within the requested tolerances.
    objective : float
        Empirical risk (+ regularizer) of ``params`` on the original data.
    lower_bound : float
        Certified lower bound of the risk over the box [-box, box]^N.
    params : ndarray (N,)
        The best network found, canonical parameter order.
    nodes : int
        Search nodes processed (work actually done).
    solve_seconds : float
    method : str
        ``"patterns"`` or ``"spatial"``.
    proof : dict
        Method-specific leaves and bounds (numpy arrays and scalars), replayable by the
        method's independent checker and savable with ``--proof``.
    info : dict
        Extra figures (LPs solved, pruned nodes, ...).
    """

    status: str
    objective: float
    lower_bound: float
    params: np.ndarray
    nodes: int
    solve_seconds: float
    method: str
    proof: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return float(self.objective - self.lower_bound)
