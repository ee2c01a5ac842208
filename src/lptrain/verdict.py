"""The record every certificate check returns, and the tolerance checks share.

Kept apart from :mod:`lptrain.certificate` so the proof replay (:mod:`lptrain.replay`) and the
checker can both return it without importing each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

TOL = 1e-9
"""Relative tolerance of every optimality check (LP residuals, gaps, objectives)."""


@dataclass
class Certificate:
    """The verdict of a check: ``valid``, how it was checked, its residuals and why not."""

    valid: bool
    method: str
    primal_residual: float
    dual_violation: float
    gap: float
    reason: str = ""
    recomputed_objective: float | None = None

    def to_dict(self):
        return asdict(self)
