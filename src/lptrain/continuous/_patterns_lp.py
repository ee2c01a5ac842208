"""The node relaxation of the pattern search for 1-w-1 nets (search side only).

A node fixes, per hidden unit j, its sign s_j = sign(v_j), its orientation o_j
(+1: s_j a_j >= 0, the active points are a suffix of the sorted data; -1: a prefix) and a
*window* {klo_j, ..., khi_j} of threshold indices k (o_j = +1: ranks < k inactive, >= k
active; o_j = -1: the reverse).  Every (unit, point) contribution s_j relu(s_j u_j.z_r) is
relaxed by the ReLU triangle over the exact range [l, h] of u_j.z_r on the unit's region,
found here by clipping the square [-B^2, B^2]^2 by the region's half-planes; a decided pair
has l >= 0 or h <= 0 and its triangle is exact (the checker derives its ranges by duality).

All nodes share one LP layout (documented in :mod:`lptrain.continuous.check_patterns`), so a
child starts from its parent's simplex basis.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import SolverError
from ..solvers.highs import quiet_highs
from ._lp_claim import certificate, claim

INF = np.inf
PAD = 1e-12


def clip_square(B2, normals):
    """Vertices of {u in [-B2, B2]^2 : n.u >= 0 for n in normals} (Sutherland-Hodgman)."""
    poly = [(-B2, -B2), (B2, -B2), (B2, B2), (-B2, B2)]
    for n0, n1 in normals:
        out = []
        m = len(poly)
        for i in range(m):
            p, q = poly[i], poly[(i + 1) % m]
            fp = n0 * p[0] + n1 * p[1]
            fq = n0 * q[0] + n1 * q[1]
            if fp >= 0:
                out.append(p)
            if (fp >= 0) != (fq >= 0):
                t = fp / (fp - fq)
                out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
        poly = out
        if not poly:
            break
    return np.asarray(poly + [(0.0, 0.0)])


def solve_warm(eng, lp, basis):
    """``eng.solve(lp, basis)``, once more from scratch if the warm start fails, then with
    other scalings: (obj, x, dual, basis, retries); SolverError if the LP is not solved to optimality."""
    ok, obj, x, yd, nb = eng.solve(lp, basis)
    retries = 0
    if not ok:
        ok, obj, x, yd, nb = eng.solve(lp, None)
        retries = 1
    if not ok:  # badly scaled rows (nearly equal points): HiGHS's other scalings
        default = eng.h.getOptionValue("simplex_scale_strategy")
        default = default[1] if isinstance(default, tuple) else default
        for scale in (0, 4):
            eng.h.setOptionValue("simplex_scale_strategy", scale)
            ok, obj, x, yd, nb = eng.solve(lp, None)
            retries += 1
            if ok:
                break
        eng.h.setOptionValue("simplex_scale_strategy", default)
    if not ok:
        raise SolverError(f"HiGHS could not solve a node relaxation ({eng.h.getModelStatus().name}): "
                          "the LP is numerically out of reach, most likely from a very large box "
                          "or data scale; try a smaller --box or rescale the data")
    return obj, x, yd, nb, retries


class NodeLP:
    """Builds and solves node relaxations for one data set (sorted by x) and width w."""

    def __init__(self, xs, ys, w, loss, B, tangents=0):
        import highspy

        self.hs = highspy
        self.xs, self.ys = xs, ys
        D = self.D = len(xs)
        self.w = w
        self.loss = loss
        self.B = float(B)
        self.B2 = self.B * self.B
        self.lps = 0
        self.h = quiet_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("random_seed", 0)
        self.h.setOptionValue("presolve", "off")
        if loss == "quadratic":
            self.h.setOptionValue("qp_regularization_value", 1e-12)
            self.h.setOptionValue("qp_iteration_limit", 200_000)
        quad = self.quad = loss == "quadratic" and not tangents
        self.K = K = tangents
        nloss = {"absolute": 2 * D, "hinge": D}.get(loss, K * D)
        # columns
        self.ic = 2 * w
        self.io = self.ic + 1
        self.ig = self.io + D
        self.ie = self.ig + w * D
        self.ncol = self.ie + (0 if quad else D)
        # rows
        self.r_out = 3 * w
        self.r_pair = self.r_out + D
        self.r_loss = self.r_pair + 2 * w * D
        self.r_chain = self.r_loss + nloss
        self.r_conv = self.r_chain + 2 * w * (D - 1)
        self.nrow = self.r_conv + w * max(D - 2, 0)
        rows, cols = [], []
        j = np.arange(w)
        # region rows: 3j (u_j0), 3j+1 and 3j+2 (u_j0, u_j1)
        rows += [3 * j, 3 * j + 1, 3 * j + 1, 3 * j + 2, 3 * j + 2]
        cols += [2 * j, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1]
        d = np.arange(D)
        rows += [self.r_out + d, self.r_out + d]
        cols += [self.io + d, np.full(D, self.ic)]
        jj, rr = np.divmod(np.arange(w * D), D)
        p = np.arange(w * D)
        rows += [self.r_out + rr]
        cols += [self.ig + p]
        ra = self.r_pair + 2 * p
        rows += [ra, ra, ra, ra + 1, ra + 1, ra + 1]
        cols += [self.ig + p, 2 * jj, 2 * jj + 1, self.ig + p, 2 * jj, 2 * jj + 1]
        if loss == "absolute":
            rl = self.r_loss + 2 * d
            rows += [rl, rl, rl + 1, rl + 1]
            cols += [self.ie + d, self.io + d, self.ie + d, self.io + d]
        elif loss == "hinge":
            rows += [self.r_loss + d, self.r_loss + d]
            cols += [self.ie + d, self.io + d]
        elif K:
            # tangent rows q_d - 2 t_dk o_d >= -2 t_dk y_d - t_dk^2
            dk = np.repeat(d, K)
            rk = self.r_loss + np.arange(K * D)
            rows += [rk, rk]
            cols += [self.ie + dk, self.io + dk]
        # chain rows per unit and consecutive ranks: (M) sigma dg >= 0, (S) sigma (a dx - dg) >= 0
        cj, cr = np.divmod(np.arange(w * (D - 1)), D - 1)
        rm = self.r_chain + 2 * np.arange(w * (D - 1))
        g1 = self.ig + cj * D + cr + 1
        g0 = g1 - 1
        rows += [rm, rm, rm + 1, rm + 1, rm + 1]
        cols += [g1, g0, 2 * cj, g1, g0]
        self.cj = cj
        self.dx = xs[cr + 1] - xs[cr]
        # convexity rows (s_j = +1; concavity for -1): s (dx_r dg_(r+1) - dx_(r+1) dg_r) >= 0
        if D >= 3:
            vj, vr = np.divmod(np.arange(w * (D - 2)), D - 2)
            rv = self.r_conv + np.arange(w * (D - 2))
            g0 = self.ig + vj * D + vr
            rows += [rv, rv, rv]
            cols += [g0 + 2, g0 + 1, g0]
            dx0 = xs[vr + 1] - xs[vr]
            dx1 = xs[vr + 2] - xs[vr + 1]
            self.vj, self.cv = vj, (dx0, -(dx0 + dx1), dx1)
        self.rows = np.concatenate(rows).astype(np.int64)
        self.cols = np.concatenate(cols).astype(np.int64)
        order = np.lexsort((self.rows, self.cols))
        self.csc_order = order
        self.csc_index = self.rows[order].astype(np.int32)
        self.csc_start = np.searchsorted(self.cols[order], np.arange(self.ncol + 1)).astype(np.int32)
        self.jj, self.rr = jj, rr
        # constant parts
        self.omax = self.B + w * self.B2 * (np.abs(xs) + 1.0)
        self.cost = np.zeros(self.ncol)
        self.col_lo0 = np.zeros(self.ncol)
        self.col_hi0 = np.zeros(self.ncol)
        self.col_lo0[: 2 * w], self.col_hi0[: 2 * w] = -self.B2, self.B2
        self.col_lo0[self.ic], self.col_hi0[self.ic] = -self.B, self.B
        self.col_lo0[self.io : self.ig] = -self.omax
        self.col_hi0[self.io : self.ig] = self.omax
        self.row_lo0 = np.zeros(self.nrow)
        self.row_hi0 = np.full(self.nrow, INF)
        self.row_hi0[self.r_out : self.r_pair] = 0.0
        if loss == "absolute":
            self.cost[self.ie :] = 1.0 / D
            self.col_hi0[self.ie :] = self.omax + np.abs(ys)
            self.row_lo0[self.r_loss : self.r_chain : 2] = -ys
            self.row_lo0[self.r_loss + 1 : self.r_chain : 2] = ys
        elif loss == "hinge":
            self.cost[self.ie :] = 1.0 / D
            self.col_hi0[self.ie :] = 1.0 + np.abs(ys) * self.omax
            self.row_lo0[self.r_loss : self.r_chain] = 1.0
        elif K:
            self.cost[self.ie :] = 1.0 / D
            self.col_hi0[self.ie :] = (self.omax + np.abs(ys)) ** 2
        if quad:
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

    # -- region -------------------------------------------------------------------

    def region_normals(self, s, o, klo, khi):
        """The unit's three region rows n.u >= 0 (a zero row when the window reaches an end)."""
        xs, D = self.xs, self.D
        n = np.zeros((3, 2))
        n[0, 0] = s * o
        if klo >= 1:
            sig = -s if o > 0 else s
            n[1] = (sig * xs[klo - 1], sig)
        if khi <= D - 1:
            sig = s if o > 0 else -s
            n[2] = (sig * xs[khi], sig)
        return n

    def build(self, s, o, klo, khi, tan=None):
        """Values of the node LP: (matrix values in template order, row_lo, col_lo, col_hi, l, h)."""
        w, D, xs = self.w, self.D, self.xs
        normals = [self.region_normals(s[j], o[j], klo[j], khi[j]) for j in range(w)]
        L = np.empty((w, D))
        H = np.empty((w, D))
        for j in range(w):
            V = clip_square(self.B2, [tuple(nn) for nn in normals[j] if nn[0] or nn[1]])
            vals = V[:, 0:1] * xs[None, :] + V[:, 1:2]
            L[j] = vals.min(axis=0)
            H[j] = vals.max(axis=0)
        L = np.minimum(L, 0.0).ravel() - PAD
        H = np.maximum(H, 0.0).ravel() + PAD
        S = np.asarray(s, dtype=np.float64)
        sp_ = S[self.jj]
        x = xs[self.rr]
        nm = np.stack(normals)  # (w, 3, 2)
        beta = H - L
        lead = np.where(sp_ > 0, H, L)
        vals = [nm[:, 0, 0], nm[:, 1, 0], nm[:, 1, 1], nm[:, 2, 0], nm[:, 2, 1],
                np.ones(D), -np.ones(D), -np.ones(w * D),
                sp_, -sp_ * x, -sp_, np.where(sp_ > 0, -beta, beta), lead * x, lead]
        if self.loss == "absolute":
            vals += [np.ones(D), -np.ones(D), np.ones(D), np.ones(D)]
        elif self.loss == "hinge":
            vals += [np.ones(D), self.ys]
        elif self.K:
            vals += [np.ones(self.K * D), -2.0 * tan.ravel()]
        sig = (S * np.asarray(o, dtype=np.float64))[self.cj]
        vals += [sig, -sig, sig * self.dx, -sig, sig]
        if D >= 3:
            kv = S[self.vj]
            vals += [kv * self.cv[0], kv * self.cv[1], kv * self.cv[2]]
        values = np.concatenate(vals)
        row_lo = self.row_lo0.copy()
        row_lo[self.r_pair + 1 : self.r_loss : 2] = H * L
        if self.K:
            row_lo[self.r_loss : self.r_chain] = (-2.0 * tan * self.ys[:, None] - tan * tan).ravel()
        col_lo = self.col_lo0.copy()
        col_hi = self.col_hi0.copy()
        col_lo[self.ig : self.ie] = np.where(sp_ > 0, 0.0, L)
        col_hi[self.ig : self.ie] = np.where(sp_ > 0, H, 0.0)
        return values, row_lo, col_lo, col_hi

    def solve(self, lp, basis=None, linear_cost=None):
        """Solve the node LP (QP for the quadratic loss unless ``linear_cost``).

        Returns (ok, objective, x, row_dual, basis).
        """
        hs, h = self.hs, self.h
        values, row_lo, col_lo, col_hi = lp
        quad = self.quad and linear_cost is None
        model = hs.HighsLp()
        model.num_col_, model.num_row_ = self.ncol, self.nrow
        model.col_cost_ = self.cost if linear_cost is None else linear_cost
        model.col_lower_, model.col_upper_ = col_lo, col_hi
        model.row_lower_, model.row_upper_ = row_lo, self.row_hi0
        model.a_matrix_.format_ = hs.MatrixFormat.kColwise
        model.a_matrix_.start_ = self.csc_start
        model.a_matrix_.index_ = self.csc_index
        model.a_matrix_.value_ = values[self.csc_order]
        if quad:
            model.offset_ = float(self.ys @ self.ys) / self.D
        h.passModel(model)
        if quad:
            h.passHessian(self.hess)
        elif basis is not None:
            h.setBasis(basis)
        h.run()
        self.lps += 1
        ok = h.getModelStatus() == hs.HighsModelStatus.kOptimal
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        yd = np.asarray(sol.row_dual)
        obj = float(h.getInfo().objective_function_value)
        nb = None if quad else h.getBasis()
        return ok, obj, x, yd, nb

    def ns_bound(self, lp, y):
        """Neumaier-Shcherbina bound from a dual vector: (claim, plain bound, y) --
        the claim less the rounding a rigorous replay may lose (:func:`._lp_claim.claim`)."""
        values, row_lo, col_lo, col_hi = lp
        ge = np.isinf(self.row_hi0)
        y = np.where(ge, np.maximum(y, 0.0), y)
        loss_cols = np.zeros(self.ncol, dtype=bool)
        loss_cols[self.ie :] = True
        return claim(self.cost, values, self.rows, self.cols, y, row_lo, col_lo, col_hi,
                     self.nrow, loss_cols, slice(self.r_pair, self.r_loss))

    def certificate(self, lp, yd, obj):
        """(claim, y) for the LP just solved (:func:`._lp_claim.certificate`)."""
        return certificate(self, lp, yd, obj)


class CompactQP:
    """The quadratic node relaxation with only the undecided pairs as variables (search side).

    Same relaxation as :class:`NodeLP` (region, triangle, monotonicity/slope and convexity
    rows), with decided contributions substituted (u_j.z_r or 0): a dense QP in
    2w + 1 + (#undecided) variables, far cheaper for HiGHS than the full layout.
    """

    def __init__(self, full: NodeLP):
        import highspy

        self.hs = highspy
        self.f = full
        self.h = quiet_highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("random_seed", 0)
        self.h.setOptionValue("qp_regularization_value", 1e-12)
        self.qps = 0

    def solve(self, s, o, klo, khi):
        """(ok, objective, x in the full layout) of the node QP."""
        f = self.f
        w, D, xs, ys = f.w, f.D, f.xs, f.ys
        r_all = np.arange(D)
        und = np.zeros((w, D), dtype=bool)
        act = np.zeros((w, D), dtype=bool)
        for j in range(w):
            und[j, klo[j] : khi[j]] = True
            act[j] = (r_all >= khi[j]) if o[j] > 0 else (r_all < klo[j])
        uj, ur = np.nonzero(und)
        G = len(uj)
        n = 2 * w + 1 + G
        gcol = 2 * w + 1 + np.arange(G)
        E = np.zeros((w, D, n))
        E[uj, ur, gcol] = 1.0
        aj, ar = np.nonzero(act)
        E[aj, ar, 2 * aj] = xs[ar]
        E[aj, ar, 2 * aj + 1] = 1.0
        M = E.sum(axis=0)
        M[:, 2 * w] = 1.0
        L = np.zeros(n)
        U = np.zeros(n)
        L[: 2 * w], U[: 2 * w] = -f.B2, f.B2
        L[2 * w], U[2 * w] = -f.B, f.B
        blocks, lo = [], []
        S = np.asarray(s, dtype=np.float64)
        lows = np.zeros((w, D))
        highs = np.zeros((w, D))
        for j in range(w):
            nm = f.region_normals(s[j], o[j], klo[j], khi[j])
            e = np.zeros((3, n))
            e[:, 2 * j : 2 * j + 2] = nm
            blocks.append(e)
            lo.append(np.zeros(3))
            V = clip_square(f.B2, [tuple(v) for v in nm if v[0] or v[1]])
            vals = V[:, 0:1] * xs[None, :] + V[:, 1:2]
            lows[j] = np.minimum(vals.min(axis=0), 0.0) - PAD
            highs[j] = np.maximum(vals.max(axis=0), 0.0) + PAD
        if G:
            sj = S[uj]
            lw, hg = lows[uj, ur], highs[uj, ur]
            T = np.zeros((G, n))
            T[np.arange(G), 2 * uj] = xs[ur]
            T[np.arange(G), 2 * uj + 1] = 1.0
            EA = -sj[:, None] * T
            EA[np.arange(G), gcol] += sj
            lead = np.where(sj > 0, hg, lw)
            EB = lead[:, None] * T
            EB[np.arange(G), gcol] += np.where(sj > 0, -(hg - lw), hg - lw)
            blocks += [EA, EB]
            lo += [np.zeros(G), hg * lw]
            L[gcol] = np.where(sj > 0, 0.0, lw)
            U[gcol] = np.where(sj > 0, hg, 0.0)
        for j in range(w):
            sig = s[j] * o[j]
            a, b = max(klo[j] - 1, 0), min(khi[j], D - 1)
            if b > a:
                dg = E[j, a + 1 : b + 1] - E[j, a:b]
                e = -sig * dg
                e[:, 2 * j] += sig * (xs[a + 1 : b + 1] - xs[a:b])
                blocks += [sig * dg, e]
                lo += [np.zeros(b - a), np.zeros(b - a)]
            a, b = max(klo[j] - 2, 0), min(khi[j], D - 2)
            if b > a:
                rr = np.arange(a, b)
                d0 = (xs[rr + 1] - xs[rr])[:, None]
                d1 = (xs[rr + 2] - xs[rr + 1])[:, None]
                blocks.append(s[j] * (d0 * E[j, rr + 2] - (d0 + d1) * E[j, rr + 1] + d1 * E[j, rr]))
                lo.append(np.zeros(b - a))
        rows = np.concatenate(blocks)
        lo = np.concatenate(lo)
        keep = np.any(rows != 0.0, axis=1)
        rows, lo = rows[keep], lo[keep]
        A = rows
        hs, h = self.hs, self.h
        model = hs.HighsLp()
        model.num_col_, model.num_row_ = n, A.shape[0]
        model.col_cost_ = -2.0 * (M.T @ ys) / D
        model.col_lower_, model.col_upper_ = L, U
        model.row_lower_ = np.asarray(lo)
        model.row_upper_ = np.full(A.shape[0], INF)
        model.offset_ = float(ys @ ys) / D
        nzr, nzc = np.nonzero(A.T)
        model.a_matrix_.format_ = hs.MatrixFormat.kColwise
        model.a_matrix_.start_ = np.searchsorted(nzr, np.arange(n + 1)).astype(np.int32)
        model.a_matrix_.index_ = nzc.astype(np.int32)
        model.a_matrix_.value_ = A.T[nzr, nzc]
        h.passModel(model)
        Hm = 2.0 * (M.T @ M) / D
        tri = np.tril(Hm)
        hc, hr = np.nonzero(tri.T)  # column-wise lower triangle
        hess = hs.HighsHessian()
        hess.dim_ = n
        hess.format_ = hs.HessianFormat.kTriangular
        hess.start_ = np.searchsorted(hc, np.arange(n + 1)).astype(np.int32)
        hess.index_ = hr.astype(np.int32)
        hess.value_ = tri.T[hc, hr]
        h.passHessian(hess)
        h.setOptionValue("qp_iteration_limit", 2000 + 50 * n)
        h.setOptionValue("qp_regularization_value", 1e-12)
        h.run()
        self.qps += 1
        ok = h.getModelStatus() == hs.HighsModelStatus.kOptimal
        if not ok:  # active-set cycling on a degenerate QP: a little regularization
            h.setOptionValue("qp_regularization_value", 1e-10)
            h.clearSolver()
            h.run()
            self.qps += 1
            ok = h.getModelStatus() == hs.HighsModelStatus.kOptimal
        z = np.asarray(h.getSolution().col_value)
        obj = float(h.getInfo().objective_function_value)
        x = np.zeros(f.ncol)
        if len(z) < n or not np.all(np.isfinite(z)):  # no solution at all: the caller's LP instead
            return False, obj, x
        x[: 2 * w + 1] = z[: 2 * w + 1]
        x[f.io : f.io + D] = M @ z
        x[f.ig : f.ig + w * D] = (E @ z).ravel()
        return ok, obj, x
