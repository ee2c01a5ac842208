"""Evaluation of one node of the 1-w-1 pattern search (search side only).

A node (signs s, orientations o, threshold windows klo..khi; :mod:`._patterns_lp`) is bounded
by its relaxation: the LP (absolute, hinge loss); for the quadratic loss the compact QP when
few pairs are undecided, else the LP with r^2 replaced by the maximum of tangents around the
parent's residuals (warm-started from the parent's basis).  The relaxed solution is read back
as a network (a candidate incumbent), and a leaf's bound is certified by a dual vector of its
LP (quadratic: of the tangent LP around the QP's residuals), claimed less an estimate of what
the checker's rigorous replay loses (:mod:`._lp_claim`).  A node whose QP HiGHS cannot solve
(badly scaled, |x| ~ 1e4) is bounded by the tangent LP instead.

:class:`NodeWork` does this as a pure function of the data and the task, so the search
(:func:`lptrain.continuous.patterns.solve`) may run nodes on any thread or Dask worker
(:mod:`._parallel`) and gets the same answer.  What depends on the incumbent is decided by
the search from the results in task order; a task only uses the incumbent value at the start
of its batch to skip work it will most likely not need (the driver computes what is missing).
"""

from __future__ import annotations

import numpy as np

from ..losses import get_loss
from ._parallel import picklable_bases
from ._patterns_lp import solve_warm

TANGENT_OFFSETS = (-3e-2, -1e-2, -1e-4, 0.0, 1e-4, 1e-2, 3e-2)
QP_MAX_UNDECIDED = 24


def fast_risk(loss, xs, ys, s, u, c):
    """Mean loss on the sorted data of the net with unit contributions s_j relu(s_j u_j.z)."""
    out = c + sum(s[j] * np.maximum(s[j] * (u[j, 0] * xs + u[j, 1]), 0.0) for j in range(len(s)))
    return mean_risk(loss, out, ys)


def mean_risk(loss, out, ys):
    """Mean loss of one-output predictions ``out`` (D,) on targets ``ys`` (D,)."""
    return float(np.mean(get_loss(loss).evaluate(out[:, None], ys[:, None])))


def prune_level(inc, gap, abs_gap, use_qp):
    """A node whose relaxation is at least this is closed: the incumbent ``inc`` less 0.9 of
    the tolerance (0.5 for a QP value, certified by a tangent LP a little below it)."""
    return inc - (0.5 if use_qp else 0.9) * max(abs_gap, gap * abs(inc))


def close_level(inc, gap, abs_gap):
    """A leaf is closed only with a certified bound at least this (the final interval then
    meets the tolerance); a pruned node whose certificate falls short is branched instead."""
    return inc - 0.95 * max(abs_gap, gap * abs(inc))


class NodeWork:
    """One worker's engines for a sorted 1-D data set: evaluates nodes (relaxations, leaf
    certificates).  Every method is a pure function of the data and its arguments."""

    def __init__(self, xs, ys, w, loss, B):
        from ._patterns_lp import CompactQP, NodeLP

        self.quad = quad = loss == "quadratic"
        self.xs, self.ys, self.w, self.loss = xs, ys, w, loss
        self.D = len(xs)
        self.eng = NodeLP(xs, ys, w, loss, B)
        self.engq = NodeLP(xs, ys, w, loss, B, tangents=len(TANGENT_OFFSETS)) if quad else None
        self.cqp = CompactQP(self.eng) if quad else None
        self.offs = np.asarray(TANGENT_OFFSETS)
        picklable_bases()

    def _count(self):
        return self.eng.lps + (self.engq.lps + self.cqp.qps if self.quad else 0)

    def _relax(self, s, o, klo, khi, basis, t_in, use_qp):
        """(obj, x, dual, basis, lp, residuals, tangents, retries) of the node relaxation."""
        eng, D, ys = self.eng, self.D, self.ys
        if use_qp:
            ok, obj, x = self.cqp.solve(s, o, klo, khi)
            retries = 0
            if not ok:
                ok, obj, x, _, _ = eng.solve(eng.build(s, o, klo, khi), None)
                retries = 1
            if ok:
                return obj, x, None, None, None, x[eng.io : eng.io + D] - ys, None, retries
            # HiGHS's QP fails on some badly scaled nodes (|x| ~ 1e3): the tangent LP bounds it
            basis = None
        if self.quad:
            # many undecided pairs: the tangent LP around the parent's residuals (a valid bound)
            tan = (np.zeros(D) if t_in is None else t_in)[:, None] + self.offs[None, :]
            lp = self.engq.build(s, o, klo, khi, tan)
            obj, x, yd, nb, rt = solve_warm(self.engq, lp, basis)
            return obj, x, yd, nb, lp, x[eng.io : eng.io + D] - ys, tan, rt
        lp = eng.build(s, o, klo, khi)
        obj, x, yd, nb, rt = solve_warm(eng, lp, basis)
        return obj, x, yd, nb, lp, None, None, rt

    def _cert(self, lp, yd, tan, obj):
        """The leaf certificate from a solved LP (objective ``obj``): its dual, bound by
        Neumaier-Shcherbina less a rounding allowance (:func:`._lp_claim.certificate`)."""
        e = self.engq if self.quad else self.eng
        bound, y = e.certificate(lp, yd, obj)
        nz = np.nonzero(y)[0]
        return {"kind": "leaf", "bound": bound - 1e-9 * (1.0 + abs(bound)),
                "yi": nz.astype(np.int32), "yv": y[nz], "t": tan}

    def certify_qp(self, s, o, klo, khi, r, tbasis):
        """Leaf certificate of a node bounded by its QP (quadratic loss): the LP with r^2 >=
        max_k (2 tau_k r - tau_k^2), tau in r + TANGENT_OFFSETS, r the QP's residuals,
        warm-started from ``tbasis`` (a tangent-LP basis of an ancestor, or None)."""
        e = self.engq
        tan = r[:, None] + self.offs[None, :]
        lp = e.build(s, o, klo, khi, tan)
        ok, obj, _, yd, _ = e.solve(lp, tbasis)
        if not ok:
            _, obj, _, yd, _ = e.solve(lp, None)
        return self._cert(lp, yd, tan, obj)

    def evaluate(self, s, o, klo, khi, basis, tbasis, t_in, use_qp, inc, gap, abs_gap):
        """Bound one node: a dict with ``stages`` (one per relaxation solved), lps, retries.

        A stage: obj, u, c (the read-back net), risk (its loss), exact (relaxation realised),
        per_unit (relaxation error per unit), use_qp, basis and tbasis (HiGHS bases for the
        children; they pickle as arrays), r (quadratic: the residuals) and, when cheap or
        likely needed, cert.
        Quadratic loss: a realised tangent-LP point that is not pruned is solved again by the
        QP (a second stage); ``inc`` (the incumbent at the batch's start) only says whether
        that QP, and a QP leaf's certificate, are worth computing here.
        """
        eng, w, xs = self.eng, self.w, self.xs
        n0 = self._count()
        sv = np.asarray(s, dtype=np.float64)[eng.jj]
        stages = []
        retries = 0
        while True:
            obj, x, yd, nb, lp, r, tan, rt = self._relax(s, o, klo, khi, basis, t_in, use_qp)
            retries += rt
            u = x[: 2 * w].reshape(w, 2).copy()
            c = x[eng.ic]
            risk = fast_risk(self.loss, xs, self.ys, s, u, c)
            t = u[eng.jj, 0] * xs[eng.rr] + u[eng.jj, 1]
            viol = np.abs(x[eng.ig : eng.ig + w * self.D] - sv * np.maximum(sv * t, 0.0))
            exact = bool(viol.max() <= 1e-9)
            if self.quad and nb is not None:
                tbasis = nb
            st = {"obj": obj, "u": u, "c": c, "risk": risk, "exact": exact,
                  "per_unit": np.bincount(eng.jj, weights=viol, minlength=w), "use_qp": use_qp,
                  "basis": nb, "tbasis": tbasis, "r": r}
            if lp is not None:
                st["cert"] = self._cert(lp, yd, tan, obj)
            stages.append(st)
            pruned = obj >= prune_level(min(inc, risk), gap, abs_gap, use_qp)
            if self.quad and exact and not pruned and not use_qp:
                use_qp = True  # a realised tangent-LP point is not the node's optimum
                t_in = r
                continue
            break
        if "cert" not in st and (pruned or exact):
            st["cert"] = self.certify_qp(s, o, klo, khi, r, tbasis)
        return {"stages": stages, "lps": self._count() - n0, "retries": retries}

    def close(self, s, o, klo, khi, basis, tbasis, t_in, use_qp):
        """Leaf certificate of a node left open (time limit, or bounded above the gap)."""
        n0 = self._count()
        obj, _, yd, _, lp, r, tan, _ = self._relax(s, o, klo, khi, basis, t_in, use_qp)
        if lp is not None:
            cert = self._cert(lp, yd, tan, obj)
        else:
            cert = self.certify_qp(s, o, klo, khi, r, tbasis)
        return cert, self._count() - n0
