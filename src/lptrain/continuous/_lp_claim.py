"""What a leaf may claim from a dual vector of its LP (search side only).

Weak duality (Neumaier & Shcherbina 2004): for min c.x over {A x >= b (some rows =), lo <= x
<= hi} and any y (>= 0 on the inequality rows), the optimum is at least
b.y + sum_j min(lo_j r_j, hi_j r_j) with r = c - A^T y.  The independent checkers evaluate
this with a proven rounding margin per reduced cost, which is multiplied by the column's
bound; with bounds near 1e9 (a large box, or data far from 0: the quadratic loss's column is
bounded by the squared output range) that margin is no longer negligible.  A leaf claiming
the bare floating-point value is then refused although its dual is good.

:func:`claim` is the search's own conservative estimate of the rigorous value: every reduced
cost is widened by a multiple of its a-priori rounding error (Higham's gamma_k bound on a
dot product of k terms), the rows are charged for coefficients and right-hand sides the
replay computes a little differently (ranges derived by duality, rounded products), and the
sums for their own rounding.  It is not itself a proof (the replay is), only an estimate
that stays below the replay's value by construction of the factors.
"""

from __future__ import annotations

import numpy as np

U = 2.0 ** -53
TIGHT_DUAL_TOL = 1e-10
ROW_FACTOR = 64.0  # relative perturbation (in u) of a row's terms the replay may see (rhs)
RANGE_FACTOR = 8192.0  # the same for rows and bounds the replay derives from its own ranges


def claim(cost, values, rows, cols, y, row_lo, col_lo, col_hi, nrow, loss_cols=None,
          range_rows=None):
    """Conservative lower bound of the LP optimum from the dual ``y``: (claim, plain bound, y).

    Parameters
    ----------
    cost : (ncol,) objective; values, rows, cols : the matrix as triplets (duplicates add up).
    y : (nrow,) the dual, already >= 0 on the inequality rows.
    row_lo : (nrow,) right-hand sides; col_lo, col_hi : finite column bounds.
    loss_cols : optional bool (ncol,): the loss columns e >= 0 (positive cost, positive
        coefficients, each of their rows an inequality with one of them).  Their bound is not
        charged to the rows (the replay takes their coefficients exactly), and their reduced
        cost is kept at least twice its rounding error: at a basic e (reduced cost 0) the
        replay would charge the error times e's bound, ~1e9 with a large box, so the duals
        of e's rows are scaled down by a relative ~1e-14 instead.
    range_rows : optional slice of the rows whose coefficients come from the ranges [l, h]
        of u.z (the ReLU triangles): the replay derives them by weak duality with error
        bars, a relative ~1e-13 off at |x| ~ 1e3, and charged RANGE_FACTOR u of their terms.
        Every column's bound is charged the same relative amount (the ranges bound g).
    """
    ncol = len(cost)
    y = y.copy()
    if loss_cols is not None:
        sel = loss_cols[cols]
        er, ec, ev = rows[sel], cols[sel], values[sel]
        S = np.bincount(ec, weights=ev * y[er], minlength=ncol)
        k = np.bincount(ec, minlength=ncol)
        target = cost - 2.0 * (4.0 * (k + 4) * U * (np.abs(cost) + S) + 8.0 * U * np.abs(cost)) * 2.0
        f = np.where((S > target) & (S > 0), np.maximum(target, 0.0) / np.where(S > 0, S, 1.0), 1.0)
        y[er] *= f[ec]
    ay = values * y[rows]
    r = cost - np.bincount(cols, weights=ay, minlength=ncol)
    mag = np.abs(cost) + np.bincount(cols, weights=np.abs(ay), minlength=ncol)
    k = np.bincount(cols, minlength=ncol)
    err = 4.0 * (k + 4) * U * mag + 8.0 * U * np.abs(r)
    r1, r2 = r - err, r + err
    terms = np.minimum(np.minimum(col_lo * r1, col_hi * r1), np.minimum(col_lo * r2, col_hi * r2))
    bnd = np.maximum(np.abs(col_lo), np.abs(col_hi))
    if loss_cols is not None:
        bnd = np.where(loss_cols, 0.0, bnd)
    rowmag = np.bincount(rows, weights=np.abs(values) * bnd[cols], minlength=nrow)
    ry = row_lo * y
    raw = float(terms.sum()) + float(ry.sum())
    rel = np.full(nrow, ROW_FACTOR)
    if range_rows is not None:
        rel[range_rows] = RANGE_FACTOR
    allow = U * float((rel * np.abs(y)) @ (np.abs(row_lo) + rowmag))
    allow += RANGE_FACTOR * U * float((np.abs(r) * np.where(r > 0, np.abs(col_lo), np.abs(col_hi))).sum())
    allow += 4.0 * U * (float(np.abs(terms).sum()) + float(np.abs(ry).sum()) + abs(raw))
    plain = float(np.minimum(col_lo * r, col_hi * r).sum()) + float(ry.sum())
    return raw - allow - 1e-12 * (1.0 + abs(raw)), plain, y


def certificate(eng, lp, yd, obj):
    """(claim, y) for the LP ``lp`` that ``eng`` has just solved (still loaded in ``eng.h``).

    HiGHS accepts dual infeasibilities up to 1e-7, which the bound multiplies by the column
    bounds (up to ~1e9 with a large box or data): when the plain bound falls short of the
    LP's objective ``obj``, the LP is re-solved from its basis with a tighter dual tolerance
    (usually one iteration) and the better claim kept.  ``eng.ns_bound(lp, y)`` gives
    (claim, plain bound, y).
    """
    c, plain, y = eng.ns_bound(lp, yd)
    if plain >= obj - 1e-9 * (1.0 + abs(obj)):
        return c, y
    h = eng.h
    h.setOptionValue("dual_feasibility_tolerance", TIGHT_DUAL_TOL)
    try:
        h.run()
        eng.lps += 1
        c2, _, y2 = eng.ns_bound(lp, np.asarray(h.getSolution().row_dual))
    finally:
        h.setOptionValue("dual_feasibility_tolerance", 1e-7)
    return (c2, y2) if c2 > c else (c, y)
