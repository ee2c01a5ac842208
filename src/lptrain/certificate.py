"""Checking a face solution against its LP, independently of the solver that produced it.

LP duality for the face LP  min c^T x, A x = b, x_lam >= 0, other columns free:
a primal x and a row dual y prove optimality when

* primal feasibility: ||A x - b||_inf ~ 0 and x_lam >= 0;
* dual feasibility:   (A^T y)_j <= c_j on lambda columns, = c_j on free columns;
* zero gap:           c^T x = b^T y.

When the explicit face LP fits in memory the checker builds it itself (through
:meth:`Face.lp`, not through any solver) and checks the three conditions with a
relative tolerance.  When it does not, it checks the structured certificate of docs/design.md §4
implicitly: for that y the only rows of A^T y <= c that can be strict are those of the
last bag, and they sum to ``sum_d c_d(a) >= sum_d u_d`` for every grid point a; the
checker rescans the face's loss table to verify this, and u_d = c_d(a*), and that
sum_d u_d is the reported objective.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .sizes import DEFAULT_MEMORY

TOL = 1e-9


@dataclass
class Certificate:
    valid: bool
    method: str
    primal_residual: float
    dual_violation: float
    gap: float
    reason: str = ""

    def to_dict(self):
        return asdict(self)


def check(face, solution, memory=DEFAULT_MEMORY, tol=TOL) -> Certificate:
    """Verify ``solution`` on ``face``: explicitly when the face LP fits, else implicitly."""
    if face.fits(memory):
        lp = face.lp(memory)
        return check_explicit(lp, *solution.explicit(face, lp), objective=solution.objective, tol=tol)
    return check_implicit(face, solution, tol, memory)


def check_explicit(lp, x, y, objective=None, tol=TOL) -> Certificate:
    """The three LP optimality conditions on an explicit LP, with relative tolerance."""
    scale = 1.0 + float(np.max(np.abs(lp.c))) + (abs(objective) if objective is not None else 0.0)
    prim = float(np.max(np.abs(lp.A @ x - lp.b), initial=0.0))
    free = np.isinf(lp.lower)
    prim = max(prim, float(np.max(-x[~free], initial=0.0)))
    red = lp.A.T @ y - lp.c
    dual = max(float(np.max(red[~free], initial=0.0)), float(np.max(np.abs(red[free]), initial=0.0)))
    pobj, dobj = float(lp.c @ x), float(lp.b @ y)
    gap = abs(pobj - dobj)
    if objective is not None:
        gap = max(gap, abs(pobj - objective))
    bad = []
    if prim > tol * (1.0 + np.max(np.abs(x), initial=0.0)):
        bad.append(f"primal residual {prim:.3g}")
    if dual > tol * scale:
        bad.append(f"dual violation {dual:.3g}")
    if gap > tol * scale:
        bad.append(f"duality gap {gap:.3g}")
    return Certificate(not bad, "explicit", prim, dual, gap, "; ".join(bad))


def check_implicit(face, solution, tol=TOL, memory=DEFAULT_MEMORY) -> Certificate:
    """docs/design.md §4's certificate without the explicit LP (see the module docstring)."""
    D = face.samples
    u = np.asarray(solution.dual_u, dtype=np.float64)
    counts = face.counts.astype(np.float64)
    total = float(u.sum())
    worst = -np.inf
    at_star = None
    for a0, a1, blk in face.blocks(memory):
        s = (blk * counts[:, None]).sum(axis=0) / D
        worst = max(worst, float(np.max(total - s)))
        if a0 <= solution.grid_index < a1:
            at_star = blk[:, solution.grid_index - a0][face.inverse] / D
    scale = 1.0 + abs(total)
    prim = 0.0 if at_star is None else float(np.max(np.abs(at_star - u)))
    gap = abs(total - solution.objective)
    bad = []
    if at_star is None:
        bad.append("grid point out of range")
    elif prim > tol * scale:
        bad.append(f"u_d differs from c_d(a*) by {prim:.3g}")
    if worst > tol * scale:
        bad.append(f"dual violation {worst:.3g}")
    if gap > tol * scale:
        bad.append(f"duality gap {gap:.3g}")
    return Certificate(not bad, "implicit", prim, max(worst, 0.0), gap, "; ".join(bad))
