"""Remark 3.3: which losses are achievable on a sample, with certificates either way.

On the face of a data set, a point of P gives every data point d a loss
L_d = sum_a lambda(a) l_d(a) for one convex combination lambda of grid networks (the gluing
rows make lambda the same in every bag).  So:

* **mean loss <= T** is achievable iff min_a mean_d l_d(a) <= T; the witness is one grid
  network a*.  Otherwise the weights w_d = 1/D certify it is not: min_a sum_d w_d l_d(a) > T.
  When the explicit face LP fits, the Farkas certificate (y, mu = 1) with y the face LP's
  optimal dual is checked too: A^T y - mu c <= 0 (= 0 on free columns), b^T y - mu T > 0.
* **losses <= t** (a vector, in the polytope's convex sense) is achievable iff some lambda has
  sum_a lambda(a) l_d(a) <= t_d for every d; the witness is lambda (a few grid networks and
  their weights).  Otherwise, by Farkas' lemma, there are weights w >= 0 with
  min_a sum_d w_d l_d(a) > sum_d w_d t_d, which is the certificate.

Both are found with HiGHS and verified here independently: witnesses by re-evaluating the
networks on the rounded data, certificates by rescanning the whole parameter grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .exceptions import InputError, SizeError, SolverError
from .face import Face
from .lp import ExplicitLP
from .sizes import DEFAULT_MEMORY, human_bytes
from .solvers import get_solver

TOL = 1e-9


@dataclass
class Achievability:
    achievable: bool
    witness: dict | None = None
    certificate: dict | None = None
    checked: bool = False
    check_method: str = ""
    info: dict = field(default_factory=dict)

    def to_dict(self):
        return {"achievable": self.achievable, "witness": self.witness, "certificate": self.certificate,
                "checked": self.checked, "check_method": self.check_method, **self.info}


def _network_losses(face: Face, params) -> np.ndarray:
    """l_d of one network on the rounded data, evaluated directly (not from the face table)."""
    p = face.polytope
    z = p.arch.forward(face.x_rounded(), np.asarray(params, dtype=np.float64)[None, :])[0]
    out = p.loss.evaluate(z, face.y_rounded())
    if p.reg and p.lam:
        from .evaluation import regularizer

        out = out + p.lam * regularizer(np.asarray(params)[None, :], p.reg)[0]
    return out


def _scan_min(face: Face, w_points, memory) -> float:
    """min_a sum_p w_p l_p(a) over the whole grid (w per distinct point)."""
    best = np.inf
    for _, _, blk in face.blocks(memory):
        best = min(best, float((blk * w_points[:, None]).sum(axis=0).min()))
    return best


def _per_point(face: Face, w_d):
    w = np.zeros(len(face.distinct))
    np.add.at(w, face.inverse, w_d)
    return w


def check_weights(face: Face, w_d, t_d, memory=DEFAULT_MEMORY):
    """Independent check of a non-achievability certificate: w >= 0, min_a w.l(a) > w.t."""
    w_d = np.asarray(w_d, dtype=np.float64)
    if w_d.shape != (face.samples,) or np.any(w_d < 0) or w_d.sum() <= 0:
        return False, np.nan
    lhs = _scan_min(face, _per_point(face, w_d), memory)
    rhs = float(w_d @ np.asarray(t_d, dtype=np.float64))
    return lhs > rhs + TOL * (1 + abs(rhs)), lhs - rhs


def average(face: Face, T: float, memory=DEFAULT_MEMORY) -> Achievability:
    """Is a mean loss <= T achievable on this sample?"""
    if not np.isfinite(T):
        raise InputError("the target average loss must be a finite number")
    sol = get_solver("structured").solve(face, memory)
    D = face.samples
    if sol.objective <= T:
        ell = _network_losses(face, sol.params)
        ok = bool(ell.mean() <= T + TOL * (1 + abs(T)))
        return Achievability(True, witness={"params": [float(v) for v in sol.params],
                                            "mean_loss": float(ell.mean())},
                             checked=ok, check_method="re-evaluated the witness network",
                             info={"optimum": sol.objective, "target": T})
    w = np.full(D, 1.0 / D)
    ok, margin = check_weights(face, w, np.full(D, T), memory)
    method = "grid rescan"
    cert = {"weights": "uniform 1/D", "min_weighted_loss": sol.objective, "target": T, "margin": margin}
    if face.fits(memory):
        lp = face.lp(memory)
        _, y = sol.explicit(face, lp)
        far = _farkas(lp, y, T)
        cert["farkas"] = far
        ok = ok and far["valid"]
        method += " + explicit Farkas check"
    return Achievability(False, certificate=cert, checked=bool(ok), check_method=method,
                         info={"optimum": sol.objective, "target": T})


def _farkas(lp: ExplicitLP, y, T):
    """Check (y, mu = 1) proves {A x = b, x_lam >= 0, c^T x <= T} empty."""
    free = np.isinf(lp.lower)
    r = lp.A.T @ y - lp.c
    viol = max(float(np.max(r[~free], initial=0.0)), float(np.max(np.abs(r[free]), initial=0.0)))
    gap = float(lp.b @ y) - T
    scale = 1 + float(np.max(np.abs(lp.c)))
    return {"valid": viol <= TOL * scale and gap > TOL * (1 + abs(T)), "violation": viol,
            "b_y_minus_T": gap}


def losses(face: Face, t, memory=DEFAULT_MEMORY) -> Achievability:
    """Is the loss vector t achievable (losses <= t_d for every d, convex combinations allowed)?"""
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    D = face.samples
    if t.shape != (D,) or not np.all(np.isfinite(t)):
        raise InputError(f"the loss vector must hold {D} finite numbers (one per data point), got {t.size}")
    Pn, K = len(face.distinct), face.param_points
    need = 24 * Pn * K
    if need > memory:
        raise SizeError(f"the achievability LP needs about {human_bytes(need)} (limit {human_bytes(memory)})")
    # a distinct point's tightest target is what matters
    tp = np.full(Pn, np.inf)
    np.minimum.at(tp, face.inverse, t)
    rows = face.rows(memory)
    # min s  s.t.  sum_a lam_a l_p(a) - s <= t_p,  sum_a lam_a = 1,  lam >= 0,  s free
    A = sp.vstack([sp.hstack([sp.csr_matrix(rows), -np.ones((Pn, 1))]),
                   sp.hstack([sp.csr_matrix(np.ones((1, K))), sp.csr_matrix((1, 1))])]).tocsc()
    c = np.zeros(K + 1)
    c[-1] = 1.0
    lp = _Ineq(c, A, tp)
    status, s_opt, x, y = solve_lp_ineq(lp)
    if status != "optimal":
        raise SolverError(f"HiGHS did not solve the achievability LP: status {status}")
    if s_opt <= 0:
        lam = np.clip(x[:K], 0, None)
        lam /= lam.sum()
        support = np.flatnonzero(lam > 1e-12)
        nets = [{"params": [float(v) for v in face.params(a)], "weight": float(lam[a])} for a in support]
        mix = sum(n["weight"] * _network_losses(face, n["params"]) for n in nets)
        ok = bool(np.all(mix <= t + TOL * (1 + np.abs(t))))
        return Achievability(True, witness={"networks": nets, "losses": mix.tolist()}, checked=ok,
                             check_method="re-evaluated the witness networks",
                             info={"slack": float(-s_opt)})
    wp = np.clip(-y[:Pn], 0, None)
    w = np.zeros(D)
    for p in range(Pn):  # the weight of a distinct point goes to its tightest data point
        members = np.flatnonzero(face.inverse == p)
        w[members[np.argmin(t[members])]] = wp[p]
    ok, margin = check_weights(face, w, t, memory)
    return Achievability(False, certificate={"weights": w.tolist(), "margin": margin}, checked=bool(ok),
                         check_method="grid rescan", info={"excess": float(s_opt)})


@dataclass
class _Ineq:
    c: np.ndarray
    A: sp.csc_matrix
    upper: np.ndarray


def solve_lp_ineq(lp: _Ineq):
    """HiGHS on min c^T x, A x (<= upper, and = 1 in the last row), lambda >= 0, s free."""
    from .solvers.highs import highs_model, run

    K1 = lp.A.shape[1]
    lower = np.zeros(K1)
    lower[-1] = -np.inf
    rl = np.concatenate([np.full(len(lp.upper), -np.inf), [1.0]])
    ru = np.concatenate([lp.upper, [1.0]])
    return run(highs_model(lp.A, lp.c, lower, np.full(K1, np.inf), rl, ru))


__all__ = ["Achievability", "average", "losses", "check_weights"]
