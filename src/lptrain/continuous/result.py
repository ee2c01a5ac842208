"""The result of a continuous (off-grid) global solve: an interval with a proof.

Shared by every continuous method (``patterns`` for one-hidden-layer ReLU nets, ``spatial``
branch-and-bound for the rest).  ``objective`` is the risk of ``params`` on the *original*
data, recomputed; ``lower_bound`` is certified by the method's proof; ``gap`` is their
difference.  ``requested_gap`` and ``requested_abs_gap`` are the tolerances the search was
asked for: ``status`` is a claim about the interval relative to them, which the checker
re-derives with :func:`derive_status`.
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
    requested_gap, requested_abs_gap : float or None
        The tolerances ``status`` was decided with (set by
        :func:`~lptrain.continuous.solve_continuous`; None when unknown).
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
    requested_gap: float | None = None
    requested_abs_gap: float | None = None

    @property
    def gap(self) -> float:
        return float(self.objective - self.lower_bound)


STATUS_SLACK_REL = 1e-6
"""Relative slack on the tolerance: the spatial search's final rule (patterns' is 1e-9)."""
STATUS_SLACK_ABS = 3e-9
"""Absolute slack, times (1 + |lower_bound|): covers the spatial search's 2 FLOAT_MARGIN
(1 + |least leaf bound|), its outward rounding of the leaf bounds (FLOAT_MARGIN = 1e-9)."""


def tolerance(objective: float, gap: float, abs_gap: float) -> float:
    """max(abs_gap, gap |objective|): the interval a search accepts as ``optimal``."""
    return max(float(abs_gap), float(gap) * abs(float(objective)))


def derive_status(objective: float, lower_bound: float, gap, abs_gap) -> str | None:
    """The status a certified interval [lower_bound, objective] earns under the tolerances.

    ``optimal`` when objective - lower_bound <= max(abs_gap, gap |objective|) (1 + 1e-6) +
    3e-9 (1 + |lower_bound|): the searches' own final rule (patterns: factor 1 + 1e-9;
    spatial: factor 1 + 1e-6 plus 2 FLOAT_MARGIN (1 + |least leaf bound|), its lower bound
    being that leaf bound rounded down by FLOAT_MARGIN), so every status a search sets is
    re-derived, and no interval more than that slack outside the tolerance is called
    optimal.  ``time_limit`` otherwise; None when a tolerance is missing or is not a
    non-negative number.
    """
    for v in (gap, abs_gap):
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not np.isfinite(v) or v < 0:
            return None
    width = float(objective) - float(lower_bound)
    limit = tolerance(objective, gap, abs_gap) * (1 + STATUS_SLACK_REL) \
        + STATUS_SLACK_ABS * (1 + abs(float(lower_bound)))
    return "optimal" if width <= limit else "time_limit"
