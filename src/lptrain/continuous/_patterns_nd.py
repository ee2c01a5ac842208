"""Pattern branch-and-bound for n-w-1 ReLU nets with n >= 2 inputs (search side only).

For n >= 2 a unit's activation pattern is a cell of the arrangement of the D hyperplanes
{u : u.z_d = 0} (docs/design.md §10), not a threshold, so the search branches on single
(unit, point) pairs: a node fixes per pair a status +1 (active: s_j u_j.z_d >= 0),
-1 (inactive: s_j u_j.z_d <= 0) or 0 (undecided).  The node LP relaxes every undecided
contribution g = s_j relu(s_j u_j.z_d) by the ReLU triangle over a range [l, h] of u_j.z_d
on the unit's region {||u_j||_inf <= B^2, decided rows}, bounded by weak duality with the
best single decided row as multiplier (the checker re-derives these itself) or, where
better, a nonnegative combination of up to n + 1 decided rows (:func:`cone_bound`, listed in
the proof and evaluated rigorously by the checker); the latter is exact (0) when z_d lies in
the cone of the decided rows, so a pair whose sign the others imply costs nothing.  A decided
pair is exact (g = u_j.z_d with the sign in the bounds of g, or g = 0).  Hidden units of the
same sign are interchangeable: signs are sorted (+1 first) and, within a sign group, the first
coordinate of u_j is nonincreasing (any net can be permuted so; a linear row).  Exact copies
of a point (equal rows of X) have equal z: a split decides the point and all its copies, and
rows g_(j,d') = g_(j,d) tie their contributions, so repeated rows cost what one weighted point
costs (without them a quadratic node with five copies of one point did not close).  Branching:
the undecided pair with the largest relaxation error, best-first, children active first.
Quadratic loss: node bounds by the LP with r^2 replaced by the maximum of tangents around
residuals re-centred for a few rounds (the QP on this layout is far slower in HiGHS).
Nodes are bounded in synchronous batches, concurrently (:mod:`._parallel`).

The LP layout is documented in :mod:`lptrain.continuous.check_patterns` (n >= 2 leaves).
"""

from __future__ import annotations

import heapq
import itertools
import time

import numpy as np

from ..solvers.highs import quiet_highs
from ._lp_claim import certificate, claim
from ._parallel import pack_basis, unpack_basis
from ._patterns_lp import solve_warm

INF = np.inf
PAD = 1e-12
EPS = 2.0 ** -53
QP_ITERATIONS = 20_000
TANGENT_OFFSETS = (-3e-2, -1e-2, -3e-3, -1e-3, -3e-4, -1e-4, 0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2,
                   3e-2)


def single_row_ranges(Zq, Wrows, B2):
    """Lower bounds of min u.z over {||u||_inf <= B2, W u >= 0} per row z of Zq (float).

    u.z = mu (w.u) + (z - mu w).u >= -B2 ||z - mu w||_1 for mu >= 0; for each row w the best
    mu is among 0 and the ratios z_i / w_i (a weighted median): the best single row is used.
    """
    best = np.abs(Zq).sum(axis=1)
    if len(Wrows):
        Wr = np.asarray(Wrows)
        with np.errstate(divide="ignore", invalid="ignore"):
            mus = np.where(Wr[None, :, :] != 0.0, Zq[:, None, :] / Wr[None, :, :], 0.0)
        mus = np.maximum(mus, 0.0)  # (Q, K, n+1)
        res = Zq[:, None, None, :] - mus[:, :, :, None] * Wr[None, :, None, :]
        best = np.minimum(best, np.abs(res).sum(axis=3).min(axis=(1, 2)))
    return -B2 * best


def cone_bound(Zq, Wr, B2):
    """Lower bounds of min u.z over {||u||_inf <= B2, W u >= 0} from several rows at once.

    u.z = mu.(W u) + (z - W^T mu).u >= -B2 ||z - W^T mu||_1 for any mu >= 0; mu is the
    nonnegative least-squares fit of z by the rows (at most n + 1 of them nonzero), exact
    (bound 0: the pair's sign is implied) when z lies in the cone of the rows.
    Returns (bound, idx, val): per z the rows used (-1 padded) and their multipliers.
    """
    from scipy.optimize import nnls

    Q, nu = Zq.shape
    idx = np.full((Q, nu), -1, dtype=np.int64)
    val = np.zeros((Q, nu))
    At = np.ascontiguousarray(Wr.T)
    for q in range(Q):
        z = Zq[q]
        try:
            mu, _ = nnls(At, z, maxiter=50 * max(1, Wr.shape[0]))
        except RuntimeError:
            mu = np.zeros(Wr.shape[0])
        nz = np.nonzero(mu > 0)[0]
        if nz.size > nu:
            nz = nz[np.argsort(-mu[nz], kind="stable")[:nu]]
        idx[q, : nz.size] = nz
        val[q, : nz.size] = mu[nz]
    prod = val[:, :, None] * np.where(idx[:, :, None] >= 0, Wr[np.maximum(idx, 0)], 0.0)
    # with the rounding margin the checker's evaluation has (nearly parallel rows give
    # multipliers ~1e12 whose cancellation error is far above the residual)
    mag = np.abs(Zq).sum(axis=1) + np.abs(prod).sum(axis=(1, 2))
    res = np.abs(Zq - prod.sum(axis=1)).sum(axis=1)
    bound = -B2 * (res + 8 * (nu + 3) * EPS * mag) * (1 + 1e-14)
    return bound, idx, val


def _stack_mult(parts, nu):
    if not parts:
        return (np.zeros(0, np.int64), np.zeros(0, np.int8), np.zeros((0, nu), np.int64),
                np.zeros((0, nu)))
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))


def copy_leaders(X):
    """Per point the first index of the points with exactly the same coordinates.

    Exact copies have the same z, so every unit treats them alike: a split decides all
    copies of its point, and the node LP ties their contributions (g equal), which makes the
    relaxation that of the data with the copies merged into weighted points.
    """
    D = X.shape[0]
    lead = np.arange(D)
    if D < 2:
        return lead
    order = np.lexsort(X.T[::-1])
    Xo = X[order]
    new = np.ones(D, dtype=bool)
    new[1:] = np.any(Xo[1:] != Xo[:-1], axis=1)
    grp = np.cumsum(new) - 1
    first = np.full(grp[-1] + 1, D, dtype=np.int64)
    np.minimum.at(first, grp, order)
    lead[order] = first[grp]
    return lead


def hull_triangles(X, per_point=16, near=14):
    """Per point d up to ``per_point`` triples of other points whose triangle holds x_d.

    Then z_d = sum_e lam_e z_e with lam >= 0 (z = (x, 1)), and relu is sublinear, so every
    unit's contribution satisfies s (sum lam_e g_e - g_d) >= 0: rows that couple the
    undecided pairs (the n = 1 convexity rows in general dimension).  Smallest areas first.
    """
    D, n = X.shape
    if n != 2 or D < 4:
        return np.zeros((0, 4), dtype=np.int64)
    out = []
    dist = ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2)
    comb = np.asarray(list(itertools.combinations(range(min(near, D - 1)), 3)), dtype=np.int64)
    for d in range(D):
        nb = np.asarray([e for e in np.argsort(dist[d], kind="stable") if e != d][:near])
        tri = nb[comb[(comb < len(nb)).all(axis=1)]]
        P0, P1, P2 = X[tri[:, 0]], X[tri[:, 1]], X[tri[:, 2]]
        det = (P1[:, 0] - P0[:, 0]) * (P2[:, 1] - P0[:, 1]) - (P2[:, 0] - P0[:, 0]) * (P1[:, 1] - P0[:, 1])
        q = X[d] - P0
        with np.errstate(over="ignore", invalid="ignore"):
            good = np.abs(det) > 1e-9  # collinear or repeated vertices: no triangle
            safe = np.where(good, det, 1.0)
            l1 = (q[:, 0] * (P2[:, 1] - P0[:, 1]) - (P2[:, 0] - P0[:, 0]) * q[:, 1]) / safe
            l2 = ((P1[:, 0] - P0[:, 0]) * q[:, 1] - q[:, 0] * (P1[:, 1] - P0[:, 1])) / safe
            l0 = 1.0 - l1 - l2
            ok = good & (l1 >= 0) & (l2 >= 0) & (l0 >= 0)
            # no weight in (0, 1e-7): HiGHS drops matrix entries below 1e-9, and the dual
            # must fit the row as the checker builds it (x_d nearly on a vertex: near copies)
            for lk in (l0, l1, l2):
                ok &= (lk <= 0) | (lk >= 1e-7)
        idx = np.nonzero(ok)[0]
        idx = idx[np.argsort(np.abs(det[idx]), kind="stable")][:per_point]
        out += [(d, *tri[i]) for i in idx]
    return np.asarray(out, dtype=np.int64).reshape(-1, 4)


def hull_lambdas(Z, tri):
    """Barycentric weights (T, 3), clipped at 0, of z_d in the triangles (float)."""
    if len(tri) == 0:
        return np.zeros((0, 3))
    M = np.stack([Z[tri[:, 1]], Z[tri[:, 2]], Z[tri[:, 3]]], axis=2)  # (T, 3, 3): columns z_e
    lam = np.linalg.solve(M, Z[tri[:, 0]][:, :, None])[:, :, 0]
    return np.maximum(lam, 0.0)


class NodeLPnd:
    """Node relaxations for one data set and width w (n >= 2 inputs)."""

    def __init__(self, X, ys, w, loss, B, tangents=0, tri=None):
        import highspy

        self.hs = highspy
        D, n = X.shape
        self.Z = np.hstack([X, np.ones((D, 1))])
        self.tri = np.zeros((0, 4), dtype=np.int64) if tri is None else tri
        self.lead = copy_leaders(X)
        self.copies = np.nonzero(self.lead != np.arange(D))[0]
        C = len(self.copies)
        self.lam = hull_lambdas(self.Z, self.tri)
        T = len(self.tri)
        self.ys = ys
        self.D, self.n, self.w = D, n, w
        self.nu = n + 1
        self.loss = loss
        self.B = float(B)
        self.B2 = self.B * self.B
        self.lps = 0
        self.range_cache = {}
        self.last_mult = None
        self.h = quiet_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("random_seed", 0)
        self.h.setOptionValue("presolve", "off")
        quad = self.quad = loss == "quadratic" and not tangents
        self.K = K = tangents
        nu = self.nu
        P = w * D
        self.ic = w * nu
        self.io = self.ic + 1
        self.ig = self.io + D
        self.ie = self.ig + P
        self.ncol = self.ie + (0 if quad else D)
        self.r_out = max(w - 1, 0)
        self.r_pair = self.r_out + D
        self.r_loss = self.r_pair + 2 * P
        nloss = {"absolute": 2 * D, "hinge": D}.get(loss, K * D)
        self.r_hull = self.r_loss + (0 if quad else nloss)
        self.r_copy = self.r_hull + w * T
        self.nrow = self.r_copy + w * C
        rows, cols = [], []
        j = np.arange(w - 1)
        rows += [j, j]
        cols += [j * nu, (j + 1) * nu]
        d = np.arange(D)
        jj, rr = np.divmod(np.arange(P), D)
        self.jj, self.rr = jj, rr
        p = np.arange(P)
        rows += [self.r_out + d, self.r_out + d, self.r_out + rr]
        cols += [self.io + d, np.full(D, self.ic), self.ig + p]
        ra = self.r_pair + 2 * p
        for rowv in (ra, ra + 1):
            rows += [rowv] + [rowv] * nu
            cols += [self.ig + p] + [jj * nu + i for i in range(nu)]
        if loss == "absolute" and not quad:
            rl = self.r_loss + 2 * d
            rows += [rl, rl, rl + 1, rl + 1]
            cols += [self.ie + d, self.io + d, self.ie + d, self.io + d]
        elif loss == "hinge":
            rows += [self.r_loss + d, self.r_loss + d]
            cols += [self.ie + d, self.io + d]
        elif K:
            dk = np.repeat(d, K)
            rk = self.r_loss + np.arange(K * D)
            rows += [rk, rk]
            cols += [self.ie + dk, self.io + dk]
        if T:
            hj, ht = np.divmod(np.arange(w * T), T)
            rh = self.r_hull + np.arange(w * T)
            for q in range(4):
                rows.append(rh)
                cols.append(self.ig + hj * D + self.tri[ht, q])
            self.hj = hj
        if C:  # g_(j,d') - g_(j,lead(d')) = 0 for every copy d' (equal z, equal relu)
            cj, cq = np.divmod(np.arange(w * C), C)
            rc = self.r_copy + np.arange(w * C)
            rows += [rc, rc]
            cols += [self.ig + cj * D + self.copies[cq], self.ig + cj * D + self.lead[self.copies[cq]]]
        self.rows = np.concatenate(rows).astype(np.int64)
        self.cols = np.concatenate(cols).astype(np.int64)
        order = np.lexsort((self.rows, self.cols))
        self.csc_order = order
        self.csc_index = self.rows[order].astype(np.int32)
        self.csc_start = np.searchsorted(self.cols[order], np.arange(self.ncol + 1)).astype(np.int32)
        self.zn = np.abs(self.Z).sum(axis=1)
        self.omax = self.B + w * self.B2 * self.zn
        self.cost = np.zeros(self.ncol)
        self.col_lo0 = np.zeros(self.ncol)
        self.col_hi0 = np.zeros(self.ncol)
        self.col_lo0[: self.ic], self.col_hi0[: self.ic] = -self.B2, self.B2
        self.col_lo0[self.ic], self.col_hi0[self.ic] = -self.B, self.B
        self.col_lo0[self.io : self.ig] = -self.omax
        self.col_hi0[self.io : self.ig] = self.omax
        self.row_lo0 = np.zeros(self.nrow)
        self.row_hi0 = np.full(self.nrow, INF)
        self.row_hi0[self.r_out : self.r_pair] = 0.0
        self.row_hi0[self.r_copy :] = 0.0
        if quad:
            self.h.setOptionValue("qp_regularization_value", 1e-12)
            self.h.setOptionValue("qp_iteration_limit", 200_000)
            self.cost[self.io : self.ig] = -2.0 * ys / D
            self.hess = highspy.HighsHessian()
            self.hess.dim_ = self.ncol
            self.hess.format_ = highspy.HessianFormat.kTriangular
            diag = np.zeros(self.ncol)
            diag[self.io : self.ig] = 2.0 / D
            nz = np.nonzero(diag)[0]
            self.hess.start_ = np.searchsorted(nz, np.arange(self.ncol + 1)).astype(np.int32)
            self.hess.index_ = nz.astype(np.int32)
            self.hess.value_ = diag[nz]
        elif loss == "absolute":
            self.cost[self.ie :] = 1.0 / D
            self.col_hi0[self.ie :] = self.omax + np.abs(ys)
            self.row_lo0[self.r_loss : self.r_hull : 2] = -ys
            self.row_lo0[self.r_loss + 1 : self.r_hull : 2] = ys
        elif loss == "hinge":
            self.cost[self.ie :] = 1.0 / D
            self.col_hi0[self.ie :] = 1.0 + np.abs(ys) * self.omax
            self.row_lo0[self.r_loss : self.r_hull] = 1.0
        else:
            self.cost[self.ie :] = 1.0 / D
            self.col_hi0[self.ie :] = (self.omax + np.abs(ys)) ** 2

    def ranges(self, s, st):
        """(l, h) per pair (w, D): bounds of u_j.z_d on the unit's region, l <= 0 <= h.

        Each bound is the better of the best single decided row and a combination of up to
        n + 1 decided rows (:func:`cone_bound`); the combinations used are kept in
        ``self.last_mult`` (pair, side 0 low / 1 high, decided points, multipliers) for the
        certificate, since the checker re-derives the ranges from them.
        """
        w, D = self.w, self.D
        L = np.zeros((w, D))
        H = np.zeros((w, D))
        mult = []
        for j in range(w):
            und = np.nonzero(st[j] == 0)[0]
            if und.size == 0:
                continue
            key = (int(s[j]), st[j].tobytes())
            hit = self.range_cache.get(key)
            if hit is None:
                dec = np.nonzero(st[j] != 0)[0]
                Wr = (s[j] * st[j, dec])[:, None] * self.Z[dec]
                Zq = self.Z[und]
                lo = single_row_ranges(Zq, Wr, self.B2)
                hi = -single_row_ranges(-Zq, Wr, self.B2)
                parts = []
                if len(dec):
                    for side, sg in ((0, 1.0), (1, -1.0)):
                        b, idx, val = cone_bound(sg * Zq, Wr, self.B2)
                        cur = lo if side == 0 else -hi
                        better = b > cur + 1e-12 * (1.0 + np.abs(cur))
                        if side == 0:
                            lo = np.where(better, b, lo)
                        else:
                            hi = np.where(better, -b, hi)
                        k = np.nonzero(better)[0]
                        parts.append((und[k], np.full(k.size, side, np.int8),
                                      np.where(idx[k] >= 0, dec[np.maximum(idx[k], 0)], -1), val[k]))
                hit = (np.minimum(lo, 0.0) - PAD, np.maximum(hi, 0.0) + PAD, parts)
                if len(self.range_cache) > 20_000:
                    self.range_cache.clear()
                self.range_cache[key] = hit
            L[j, und], H[j, und] = hit[0], hit[1]
            for d_, side, pts, val in hit[2]:
                mult.append((j * D + d_, side, pts, val))
        self.last_mult = _stack_mult(mult, self.nu)
        return L.ravel(), H.ravel()

    def build(self, s, st, tan=None):
        """Values of the node LP: (matrix values in template order, row_lo, col_lo, col_hi)."""
        w, D, nu = self.w, self.D, self.nu
        S = np.asarray(s, dtype=np.float64)
        sp_ = S[self.jj]
        stf = st.ravel()
        L, H = self.ranges(s, st)
        zr = self.Z[self.rr]  # (P, nu)
        same = np.array([1.0 if s[j] == s[j + 1] else 0.0 for j in range(w - 1)])
        vals = [same, -same, np.ones(D), -np.ones(D), -np.ones(w * D)]
        # row A: s (g - u.z) >= 0
        vals += [sp_] + [-sp_ * zr[:, i] for i in range(nu)]
        # row B: undecided triangle, active -s (g - u.z) >= 0, inactive empty
        und, act = stf == 0, stf > 0
        beta = H - L
        # a range thinner than ~1e-8 (nearly equal points): no triangle (its dual would be
        # ~1 / beta, far beyond what rounding allows); g stays within [l, h] by its bounds
        self.thin = thin = und & (beta <= 1e-8 * (1.0 + self.B2 * self.zn[self.rr]))
        lead = np.where(sp_ > 0, H, L)
        gB = np.where(und, np.where(sp_ > 0, -beta, beta), np.where(act, -sp_, 0.0))
        uB = np.where(und, lead, np.where(act, sp_, 0.0))
        gB[thin], uB[thin] = 0.0, 0.0
        vals += [gB] + [uB * zr[:, i] for i in range(nu)]
        if self.quad:
            pass
        elif self.loss == "absolute":
            vals += [np.ones(D), -np.ones(D), np.ones(D), np.ones(D)]
        elif self.loss == "hinge":
            vals += [np.ones(D), self.ys]
        elif self.K:
            vals += [np.ones(self.K * D), -2.0 * tan.ravel()]
        if len(self.tri):
            sh = S[self.hj]
            lam = np.tile(self.lam, (w, 1))
            vals += [-sh, sh * lam[:, 0], sh * lam[:, 1], sh * lam[:, 2]]
        if len(self.copies):
            nc = w * len(self.copies)
            vals += [np.ones(nc), -np.ones(nc)]
        values = np.concatenate(vals)
        row_lo = self.row_lo0.copy()
        row_lo[self.r_pair + 1 : self.r_loss : 2] = np.where(und & ~thin, H * L, 0.0)
        if self.K:
            row_lo[self.r_loss : self.r_hull] = (-2.0 * tan * self.ys[:, None] - tan * tan).ravel()
        col_lo = self.col_lo0.copy()
        col_hi = self.col_hi0.copy()
        gmax = self.B2 * self.zn[self.rr] + PAD
        lo_g = np.where(und, L, -gmax)
        hi_g = np.where(und, H, gmax)
        col_lo[self.ig : self.ie] = np.where(stf < 0, 0.0, np.where(sp_ > 0, 0.0, lo_g))
        col_hi[self.ig : self.ie] = np.where(stf < 0, 0.0, np.where(sp_ > 0, hi_g, 0.0))
        return values, row_lo, col_lo, col_hi

    def thin_rows(self):
        """Rows of the last :meth:`build` left empty for a thin range (mask over the rows)."""
        m = np.zeros(self.nrow, dtype=bool)
        m[self.r_pair + 1 : self.r_loss : 2] = self.thin
        return m

    def solve(self, lp, basis=None):
        """Solve the node LP (QP for the quadratic loss).  (ok, objective, x, row_dual, basis)."""
        hs, h = self.hs, self.h
        values, row_lo, col_lo, col_hi = lp
        model = hs.HighsLp()
        model.num_col_, model.num_row_ = self.ncol, self.nrow
        model.col_cost_ = self.cost
        model.col_lower_, model.col_upper_ = col_lo, col_hi
        model.row_lower_, model.row_upper_ = row_lo, self.row_hi0
        model.a_matrix_.format_ = hs.MatrixFormat.kColwise
        model.a_matrix_.start_ = self.csc_start
        model.a_matrix_.index_ = self.csc_index
        model.a_matrix_.value_ = values[self.csc_order]
        if self.quad:
            model.offset_ = float(self.ys @ self.ys) / self.D
        h.passModel(model)
        if self.quad:
            h.passHessian(self.hess)
        elif basis is not None:
            h.setBasis(basis)
        h.run()
        self.lps += 1
        ok = h.getModelStatus() == hs.HighsModelStatus.kOptimal
        if self.quad and not ok:  # active-set trouble on a degenerate QP: regularize a little
            for reg in (1e-10, 1e-8):
                h.setOptionValue("qp_regularization_value", reg)
                h.clearSolver()
                h.run()
                self.lps += 1
                ok = h.getModelStatus() == hs.HighsModelStatus.kOptimal
                if ok:
                    break
            h.setOptionValue("qp_regularization_value", 1e-12)
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        yd = np.asarray(sol.row_dual)
        obj = float(h.getInfo().objective_function_value)
        nb = None if self.quad else h.getBasis()
        return ok, obj, x, yd, nb

    def ns_bound(self, lp, y):
        """Neumaier-Shcherbina bound from a dual vector: (claim, plain bound, y), the claim
        less the rounding a rigorous replay may lose (:func:`._lp_claim.claim`)."""
        values, row_lo, col_lo, col_hi = lp
        ge = np.isinf(self.row_hi0)
        y = np.where(ge, np.maximum(y, 0.0), y)
        y = np.where(self.thin_rows(), 0.0, y)  # the checker's triangle there is not empty
        loss_cols = np.zeros(self.ncol, dtype=bool)
        loss_cols[self.ie :] = True
        return claim(self.cost, values, self.rows, self.cols, y, row_lo, col_lo, col_hi,
                     self.nrow, loss_cols, slice(self.r_pair, self.r_loss))


class PatternQP:
    """The quadratic risk with every unit's pattern fixed: a small convex QP in (u, c)."""

    def __init__(self, Z, ys, w, B):
        import highspy

        self.hs = highspy
        self.Z, self.ys, self.w, self.B = Z, ys, w, float(B)
        self.h = quiet_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("random_seed", 0)
        self.h.setOptionValue("qp_iteration_limit", QP_ITERATIONS)  # degenerate QPs can cycle
        self.qps = 0

    def solve(self, s, st, sym=False):
        """(ok, U, c) of the best net with signs s and statuses st (all decided); ``sym``:
        with the node LP's symmetry rows (u_j0 >= u_(j+1)0 within a sign), so that its
        optimum is the decided node's exact optimum (tangents are centred on it)."""
        hs, h, Z, ys, w = self.hs, self.h, self.Z, self.ys, self.w
        D, nu = Z.shape
        n = w * nu + 1
        M = np.hstack([Z * (st[j] > 0)[:, None] for j in range(w)] + [np.ones((D, 1))])
        pairs = [j for j in range(w - 1) if sym and s[j] == s[j + 1]]
        A = np.zeros((w * D + len(pairs), n))
        for j in range(w):
            A[j * D : (j + 1) * D, j * nu : (j + 1) * nu] = (s[j] * st[j])[:, None] * Z
        for k, j in enumerate(pairs):
            A[w * D + k, j * nu], A[w * D + k, (j + 1) * nu] = 1.0, -1.0
        model = hs.HighsLp()
        model.num_col_, model.num_row_ = n, A.shape[0]
        model.col_cost_ = -2.0 * (M.T @ ys) / D
        lo = np.full(n, -self.B * self.B)
        hi = -lo
        lo[-1], hi[-1] = -self.B, self.B
        model.col_lower_, model.col_upper_ = lo, hi
        model.row_lower_ = np.zeros(A.shape[0])
        model.row_upper_ = np.full(A.shape[0], INF)
        model.offset_ = float(ys @ ys) / D
        nzr, nzc = np.nonzero(A.T)
        model.a_matrix_.format_ = hs.MatrixFormat.kColwise
        model.a_matrix_.start_ = np.searchsorted(nzr, np.arange(n + 1)).astype(np.int32)
        model.a_matrix_.index_ = nzc.astype(np.int32)
        model.a_matrix_.value_ = A.T[nzr, nzc]
        h.passModel(model)
        tri = np.tril(2.0 * (M.T @ M) / D)
        hc, hr = np.nonzero(tri.T)
        hess = hs.HighsHessian()
        hess.dim_ = n
        hess.format_ = hs.HessianFormat.kTriangular
        hess.start_ = np.searchsorted(hc, np.arange(n + 1)).astype(np.int32)
        hess.index_ = hr.astype(np.int32)
        hess.value_ = tri.T[hc, hr]
        h.passHessian(hess)
        h.setOptionValue("qp_regularization_value", 1e-12)
        h.run()
        self.qps += 1
        if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
            h.setOptionValue("qp_regularization_value", 1e-9)
            h.clearSolver()
            h.run()
            self.qps += 1
        if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
            return False, None, None
        z = np.asarray(h.getSolution().col_value)
        return True, z[:-1].reshape(w, nu), float(z[-1])


def solve_node(eng, lp, basis):
    """:func:`solve_warm`, then once more from scratch when the dual's bound falls far short
    of the objective: a warm start on badly scaled rows (nearly equal points) can end
    "optimal" at a wrong vertex, which would prune on a wrong value."""
    obj, x, yd, nb, rt = solve_warm(eng, lp, basis)
    if basis is not None:
        bound = eng.ns_bound(lp, yd)[0]
        if bound < obj - 1e-6 * (1.0 + abs(obj)):
            ok, obj2, x2, yd2, nb2 = eng.solve(lp, None)
            rt += 1
            if ok and eng.ns_bound(lp, yd2)[0] > bound:
                obj, x, yd, nb = obj2, x2, yd2, nb2
    return obj, x, yd, nb, rt


def root_signs(w):
    """Sign vectors sorted (+1 first)."""
    return [tuple([1] * p + [-1] * (w - p)) for p in range(w, -1, -1)]


class NodeWork:
    """One worker's engines for a data set: evaluates nodes (LP solves, certificate).

    :meth:`evaluate` is a pure function of the data and its arguments, so the search's
    result does not depend on which worker (thread, Dask process) ran a node.
    """

    def __init__(self, X, ys, w, loss, B, tri):
        self.quad = quad = loss == "quadratic"
        self.eng = NodeLPnd(X, ys, w, loss, B, tangents=len(TANGENT_OFFSETS) if quad else 0, tri=tri)
        self.pqp = PatternQP(self.eng.Z, ys, w, B) if quad else None
        self.offs = np.asarray(TANGENT_OFFSETS)
        self.ys, self.w = ys, w

    def evaluate(self, s, st, basis, r_in, rounds, tol):
        """Bound one node.  Returns a dict: obj, U, c, cert (the leaf certificate), basis,
        branch (the undecided pair with the largest relaxation error, -1 if none), exact
        (relaxation realised), r (quadratic: the residuals), lps, retries.

        Quadratic loss: tangents around ``r_in`` (the parent's residuals), re-centred on the
        node's own residuals for up to ``rounds`` solves while the bound moves by more than
        ``tol / 100``; a fully decided node starts from the exact optimum of its pattern.
        """
        eng, quad, w, ys, Z = self.eng, self.quad, self.w, self.ys, self.eng.Z
        nu = eng.nu
        if basis is not None:  # packed: the same path whether a thread or a process runs it
            basis = unpack_basis(eng.hs, basis)
        lps0 = eng.lps + (self.pqp.qps if quad else 0)
        decided = bool(np.all(st != 0))
        retries = 0
        tan = None
        if quad and decided:  # tangents around the exact optimum of the pattern
            ok, U0, c0 = self.pqp.solve(s, st, sym=True)
            if ok:
                r_in = c0 + sum(np.where(st[j] > 0, Z @ U0[j], 0.0) for j in range(w)) - ys
        sv = np.asarray(s, dtype=np.float64)[eng.jj]
        decided_pairs = st.ravel() != 0

        def violation(x):
            t = np.einsum("pi,pi->p", x[: w * nu].reshape(w, nu)[eng.jj], Z[eng.rr])
            v = np.abs(x[eng.ig : eng.ie] - sv * np.maximum(sv * t, 0.0))
            v[decided_pairs] = 0.0
            return v

        if not quad:
            lp = eng.build(s, st)
            obj, x, yd, nb, retries = solve_node(self.eng, lp, basis)
            viol = violation(x)
        else:
            r = r_in
            prev = -np.inf
            k = 0
            while True:
                tan = r[:, None] + self.offs[None, :]
                lp = eng.build(s, st, tan)
                obj, x, yd, nb, rt = solve_node(self.eng, lp, basis)
                retries += rt
                basis = nb
                k += 1
                r = x[eng.io : eng.ig] - ys
                viol = violation(x)
                # a realised point: only the tangents separate the bound from its risk
                limit = max(rounds, 8) if viol.max(initial=0.0) <= 1e-9 else rounds
                if k >= limit or obj - prev <= 0.01 * tol:
                    break
                prev = obj
        U = x[: w * nu].reshape(w, nu).copy()
        vmax = float(viol.max()) if viol.size else 0.0
        if vmax > 0:
            branch = int(np.argmax(viol))
        else:
            und = np.nonzero(st.ravel() == 0)[0]
            branch = int(und[0]) if und.size else -1
        bound, y = certificate(eng, lp, yd, obj)
        nz = np.nonzero(y)[0]
        cert = {"kind": "leaf", "bound": bound - 1e-9 * (1.0 + abs(bound)),
                "yi": nz.astype(np.int32), "yv": y[nz], "t": tan, "mult": eng.last_mult}
        return {"obj": obj, "U": U, "c": float(x[eng.ic]), "cert": cert,
                "basis": pack_basis(nb), "branch": branch,
                "exact": vmax <= 1e-9 and not quad, "decided": decided,
                "r": x[eng.io : eng.ig] - ys if quad else None,
                "lps": eng.lps + (self.pqp.qps if quad else 0) - lps0, "retries": retries}


def search(X, Y, w, loss, B, *, gap, abs_gap, time_limit, offer, best, progress=False,
           workers=1, scheduler=None, batch=None):
    """Best-first pair branching.  ``offer(s, U, c)`` records a network; ``best()`` its risk.

    Quadratic loss: every node is bounded by the LP with r^2 replaced by the maximum of
    tangents around residuals (the parent's, then re-centred on the node's own solution for a
    few rounds, warm-started); that LP's dual is the leaf certificate.

    Nodes are evaluated in synchronous batches (:mod:`._parallel`): the ``batch`` best open
    nodes (default: one per worker) are popped, their children bounded concurrently on
    ``workers`` threads or the Dask cluster at ``scheduler``, and the results taken in a fixed
    order, so for a given ``batch`` the result does not depend on the workers or their timing.
    Returns (status, lower, nodes, proof, info).
    """
    from ._parallel import NodePool

    t0 = time.perf_counter()
    D, n = X.shape
    ys = Y[:, 0]
    quad = loss == "quadratic"
    lead = copy_leaders(X)
    uniq = np.nonzero(lead == np.arange(D))[0]
    tri = uniq[hull_triangles(X[uniq], per_point=10 if quad else 16)]
    nu = n + 1

    def tol():
        return max(abs_gap, gap * abs(best()))

    tree = {}
    counter = itertools.count()
    heap = []
    stats = {"nodes": 0, "pruned": 0, "exact": 0, "lps": 0, "retries": 0, "batches": 0,
             "short": 0}

    pool = NodePool(NodeWork, (X, ys, w, loss, B, tri), workers=workers, scheduler=scheduler)
    k_batch = pool.workers if batch is None else max(1, int(batch))
    work = pool.local()  # the driver's own engines: local search (polish)
    Z = work.eng.Z
    eng_ls = None if quad else NodeLPnd(X, ys, w, loss, B)
    tried = set()
    ls_basis = [None]

    def polish(s, U, c):
        """Local search: the exact best net with the read-back net's pattern (LP, or least
        squares clipped to the box for the quadratic loss)."""
        sv = np.asarray(s)
        st = np.where(sv[:, None] * (U @ Z.T) >= 0, 1, -1).astype(np.int8)
        key = (tuple(s), st.tobytes())
        if key in tried:
            return
        tried.add(key)
        stats["lps"] += 1
        if quad:
            ok, U2, c2 = work.pqp.solve(s, st)
            if ok:
                offer(s, np.clip(U2, -work.eng.B2, work.eng.B2), float(np.clip(c2, -B, B)))
            return
        ok, obj, x, _, nb = eng_ls.solve(eng_ls.build(s, st), ls_basis[0])
        if ok:
            ls_basis[0] = nb
            offer(s, x[: w * nu].reshape(w, nu), x[eng_ls.ic])

    def evaluate(tasks):
        """Bound the nodes of ``tasks`` = [(nid, s, st, depth, basis, r_in)] concurrently."""
        tl = tol()
        args = [(s, st, basis, r_in, 8 if depth == 0 or bool(np.all(st != 0)) else 1, tl)
                for _, s, st, depth, basis, r_in in tasks]
        stats["batches"] += 1
        for (nid, s, st, depth, _, _), res in zip(tasks, pool.map("evaluate", args)):
            stats["nodes"] += 1
            stats["lps"] += res["lps"]
            stats["retries"] += res["retries"]
            obj = res["obj"]
            offer(s, res["U"], res["c"])
            if obj < best() - tol():
                polish(s, res["U"], res["c"])
            pruned = obj >= best() - 0.9 * tol()
            if (pruned or res["exact"]) and not res["decided"] and \
                    res["cert"]["bound"] < best() - 0.95 * tol():
                obj = res["cert"]["bound"]  # its certificate falls short: branch it instead
                stats["short"] += 1
                pruned = False
            elif pruned or res["exact"] or res["decided"]:
                tree[nid] = res["cert"]
                stats["exact" if res["exact"] and not pruned else "pruned"] += 1
                continue
            tree[nid] = {"kind": "open"}
            # keyed by what its certificate proves: the nodes left open at the end close with it
            heapq.heappush(heap, (min(obj, res["cert"]["bound"]), -depth, nid, s, st, res["branch"],
                                  res["basis"], res["r"], res["cert"]))

    status = "optimal"
    try:
        roots = []
        tasks = []
        for s in root_signs(w):
            nid = next(counter)
            roots.append((nid, s))
            tasks.append((nid, s, np.zeros((w, D), dtype=np.int8), 0, None, -ys))
        evaluate(tasks)
        last = time.perf_counter()
        while heap:
            if heap[0][0] >= best() - 0.5 * tol():
                break
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                status = "time_limit"
                break
            tasks = []
            while heap and len(tasks) < 2 * k_batch and heap[0][0] < best() - 0.5 * tol():
                obj, negd, nid, s, st, p, nb, r, _ = heapq.heappop(heap)
                j, d = divmod(p, D)
                d = int(lead[d])
                grp = lead == d  # the split decides every copy of z_d
                kids = []
                for val in (1, -1):
                    st2 = st.copy()
                    st2[j, grp] = val
                    cid = next(counter)
                    kids.append(cid)
                    tasks.append((cid, s, st2, -negd + 1, nb, r))
                tree[nid] = {"kind": "split", "unit": j, "point": d, "kids": kids}
            evaluate(tasks)
            if progress and time.perf_counter() - last > 5:
                last = time.perf_counter()
                print(f"[patterns-nd] nodes {stats['nodes']} open {len(heap)} "
                      f"lb {heap[0][0] if heap else best():.8g} obj {best():.8g}", flush=True)
    finally:
        pool.close()
    for item in heap:
        tree[item[2]] = item[-1]
    heap.clear()
    leaf_bounds = [nd["bound"] for nd in tree.values() if nd["kind"] == "leaf"]
    lower = min(min(leaf_bounds) if leaf_bounds else np.inf, best())
    proof = _encode(tree, roots, loss, B, D, n, w, lower)
    proof["hull"] = tri
    info = {"lps": stats["lps"], "pruned": stats["pruned"],
            "exact_leaves": stats["exact"], "retries": stats["retries"],
            "roots": len(roots), "workers": pool.workers, "batch": k_batch,
            "batches": stats["batches"], "short_certificates": stats["short"]}
    return status, lower, stats["nodes"], proof, info


def _encode(tree, roots, loss, B, D, n, w, lower):
    """Preorder: code 0 leaf / 1 split (unit, point; children active then inactive).

    Per leaf, the range multipliers (``range_*``, see :meth:`NodeLPnd.ranges`) in a block
    ``range_start[leaf] : range_start[leaf + 1]``.
    """
    code, unit, point, leaf_bound, yi, yv, ystart, tp = [], [], [], [], [], [], [0], []
    mparts, mstart = [], [0]
    for nid, _ in roots:
        stack = [nid]
        while stack:
            nd = tree[stack.pop()]
            if nd["kind"] == "split":
                code.append(1)
                unit.append(nd["unit"])
                point.append(nd["point"])
                stack.extend(reversed(nd["kids"]))
            else:
                code.append(0)
                unit.append(-1)
                point.append(len(leaf_bound))
                leaf_bound.append(nd["bound"])
                yi.append(nd["yi"])
                yv.append(nd["yv"])
                ystart.append(ystart[-1] + len(nd["yi"]))
                if nd["t"] is not None:
                    tp.append(np.asarray(nd["t"], dtype=np.float64).ravel())
                m = nd.get("mult")
                if m is not None:
                    mparts.append(m)
                mstart.append(mstart[-1] + (0 if m is None else len(m[0])))
    proof = {
        "format": "lptrain-patterns-proof",
        "version": 2,
        "inputs": int(n),
        "loss": loss,
        "box": float(B),
        "D": int(D),
        "width": int(w),
        "roots_signs": np.asarray([s for _, s in roots], dtype=np.int8),
        "code": np.asarray(code, dtype=np.int8),
        "unit": np.asarray(unit, dtype=np.int32),
        "point": np.asarray(point, dtype=np.int64),
        "leaf_bound": np.asarray(leaf_bound, dtype=np.float64),
        "y_index": np.concatenate(yi) if yi else np.zeros(0, np.int32),
        "y_value": np.concatenate(yv) if yv else np.zeros(0),
        "y_start": np.asarray(ystart, dtype=np.int64),
        "lower_bound": float(lower),
    }
    if tp:
        proof["t"] = np.concatenate(tp)
        proof["tangents"] = len(TANGENT_OFFSETS)
    nu = n + 1
    proof["range_start"] = np.asarray(mstart, dtype=np.int64)
    proof["range_pair"] = np.concatenate([m[0] for m in mparts] + [np.zeros(0, np.int64)]).astype(np.int64)
    proof["range_side"] = np.concatenate([m[1] for m in mparts] + [np.zeros(0, np.int8)]).astype(np.int8)
    proof["range_point"] = np.concatenate([m[2] for m in mparts] + [np.zeros((0, nu), np.int64)]).astype(np.int32)
    proof["range_mu"] = np.concatenate([m[3] for m in mparts] + [np.zeros((0, nu))]).astype(np.float64)
    return proof
