"""The node relaxation of the pattern search for n = 1 nets (search side only).

A node fixes, per hidden unit j, its sign s_j = sign(v_j), its orientation o_j
(+1: s_j a_j >= 0, the active points are a suffix of the sorted data; -1: a prefix) and a
*window* {klo_j, ..., khi_j} of threshold indices k (inc: ranks < k inactive, >= k active;
dec: ranks < k active, >= k inactive).  Ranks klo_j <= r < khi_j are undecided; their
contribution s_j relu(s_j u_j.z_r) is relaxed by the ReLU triangle over bounds [l, h] of
u_j.z_r on the unit's region, computed exactly here by clipping the square
[-B^2, B^2]^2 by the region's half-planes (the checker derives its bounds by duality).

The LP layout (columns, rows, their order) is the one documented in
:mod:`lptrain.continuous.check_patterns`, which rebuilds it independently.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

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
    if not poly:
        return np.zeros((1, 2))
    return np.asarray(poly + [(0.0, 0.0)])


class NodeLP:
    """Builds and solves node relaxations for one data set (sorted by x)."""

    def __init__(self, xs, ys, signs_all, loss, B):
        import highspy

        self.xs, self.ys = xs, ys
        self.D = len(xs)
        self.loss = loss
        self.B = float(B)
        self.B2 = self.B * self.B
        self.zabs = np.abs(xs) + 1.0
        self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("threads", 1)
        self.h.setOptionValue("random_seed", 0)
        self.highspy = highspy
        self.lps = 0

    # -- region -------------------------------------------------------------------

    def region_rows(self, s, o, klo, khi):
        """(rank, sigma) pairs of a unit's region rows: sigma*s*u.z_rank >= 0; rank -1 = orientation."""
        D = self.D
        rows = [(-1, 1)]
        if klo >= 1:
            rows.append((klo - 1, -1 if o > 0 else 1))
        if khi <= D - 1:
            rows.append((khi, 1 if o > 0 else -1))
        return rows

    def unit_bounds(self, s, o, klo, khi):
        """Exact [l, h] of u.z_r over the unit's region, for the undecided ranks klo..khi-1."""
        normals = []
        for r, sig in self.region_rows(s, o, klo, khi):
            if r < 0:
                normals.append((s * o, 0.0))
            else:
                normals.append((sig * s * self.xs[r], sig * s * 1.0))
        V = clip_square(self.B2, normals)
        ranks = np.arange(klo, khi)
        vals = V[:, 0:1] * self.xs[None, ranks] + V[:, 1:2]
        return ranks, vals.min(axis=0), vals.max(axis=0)

    # -- LP -----------------------------------------------------------------------

    def build(self, s, o, klo, khi):
        """The node LP: (cost, A (csr), row_lo, row_hi, col_lo, col_hi, meta)."""
        D, xs, ys, B, B2 = self.D, self.xs, self.ys, self.B, self.B2
        w = len(s)
        pairs_j, pairs_r, pairs_l, pairs_h = [], [], [], []
        status = np.zeros((w, D), dtype=np.int8)  # 1 active, 0 inactive, 2 undecided
        for j in range(w):
            ranks, l, h = self.unit_bounds(s[j], o[j], klo[j], khi[j])
            r = np.arange(D)
            act = (r >= khi[j]) if o[j] > 0 else (r < klo[j])
            status[j] = act
            status[j, ranks] = 2
            pairs_j.append(np.full(len(ranks), j))
            pairs_r.append(ranks)
            pairs_l.append(np.minimum(l, 0.0) - PAD)
            pairs_h.append(np.maximum(h, 0.0) + PAD)
        pj = np.concatenate(pairs_j).astype(np.int64)
        pr = np.concatenate(pairs_r).astype(np.int64)
        pl = np.concatenate(pairs_l)
        ph = np.concatenate(pairs_h)
        G = len(pj)
        ic = 2 * w
        io = ic + 1
        ig = io + D
        ie = ig + G
        quad = self.loss == "quadratic"
        ncol = ie + (0 if quad else D)
        rows, cols, vals, rlo, rhi = [], [], [], [], []
        nrow = 0

        def add(rr, cc, vv):
            rows.append(np.asarray(rr, dtype=np.int64))
            cols.append(np.asarray(cc, dtype=np.int64))
            vals.append(np.asarray(vv, dtype=np.float64))

        # region rows
        for j in range(w):
            for r, sig in self.region_rows(s[j], o[j], klo[j], khi[j]):
                if r < 0:
                    add([nrow], [2 * j], [s[j] * o[j]])
                else:
                    add([nrow, nrow], [2 * j, 2 * j + 1], [sig * s[j] * xs[r], sig * s[j]])
                rlo.append(0.0)
                rhi.append(INF)
                nrow += 1
        # output rows: o_d - c - sum active u.z - sum g = 0
        out0 = nrow
        d = np.arange(D)
        add(out0 + d, io + d, np.ones(D))
        add(out0 + d, np.full(D, ic), -np.ones(D))
        for j in range(w):
            a = np.nonzero(status[j] == 1)[0]
            add(out0 + a, np.full(len(a), 2 * j), -xs[a])
            add(out0 + a, np.full(len(a), 2 * j + 1), -np.ones(len(a)))
        p = np.arange(G)
        add(out0 + pr, ig + p, -np.ones(G))
        rlo.extend([0.0] * D)
        rhi.extend([0.0] * D)
        nrow += D
        # triangle rows, two per pair
        tri0 = nrow
        spos = np.asarray(s)[pj] > 0
        xr = xs[pr]
        ra = tri0 + 2 * p
        rb = ra + 1
        # row A: pos g - t >= 0 ; neg t - g >= 0
        sg = np.where(spos, 1.0, -1.0)
        add(ra, ig + p, sg)
        add(ra, 2 * pj, -sg * xr)
        add(ra, 2 * pj + 1, -sg)
        beta = ph - pl
        gam = ph * pl
        # row B: pos h t - beta g >= gam ; neg beta g + l t >= gam
        coef_t = np.where(spos, ph, pl)
        coef_g = np.where(spos, -beta, beta)
        add(rb, ig + p, coef_g)
        add(rb, 2 * pj, coef_t * xr)
        add(rb, 2 * pj + 1, coef_t)
        for k in range(G):
            rlo.extend([0.0, gam[k]])
            rhi.extend([INF, INF])
        nrow += 2 * G
        # loss rows
        cost = np.zeros(ncol)
        if not quad:
            cost[ie:] = 1.0 / D
            l0 = nrow
            if self.loss == "absolute":
                add(l0 + 2 * d, ie + d, np.ones(D))
                add(l0 + 2 * d, io + d, -np.ones(D))
                add(l0 + 2 * d + 1, ie + d, np.ones(D))
                add(l0 + 2 * d + 1, io + d, np.ones(D))
                lo = np.empty(2 * D)
                lo[0::2] = -ys
                lo[1::2] = ys
                rlo.extend(lo.tolist())
                rhi.extend([INF] * (2 * D))
                nrow += 2 * D
            else:  # hinge
                add(l0 + d, ie + d, np.ones(D))
                add(l0 + d, io + d, ys)
                rlo.extend([1.0] * D)
                rhi.extend([INF] * D)
                nrow += D
        A = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol)
        )
        # column bounds
        omax = B + w * B2 * self.zabs
        col_lo = np.empty(ncol)
        col_hi = np.empty(ncol)
        col_lo[: 2 * w], col_hi[: 2 * w] = -B2, B2
        col_lo[ic], col_hi[ic] = -B, B
        col_lo[io:ig], col_hi[io:ig] = -omax, omax
        col_lo[ig:ie] = np.where(spos, 0.0, pl)
        col_hi[ig:ie] = np.where(spos, ph, 0.0)
        if not quad:
            col_lo[ie:] = 0.0
            if self.loss == "absolute":
                col_hi[ie:] = omax + np.abs(ys)
            else:
                col_hi[ie:] = 1.0 + np.abs(ys) * omax
        meta = dict(w=w, G=G, pj=pj, pr=pr, spos=spos, ic=ic, io=io, ig=ig, ie=ie, status=status)
        return cost, A, np.asarray(rlo), np.asarray(rhi), col_lo, col_hi, meta

    def solve(self, lp, linear_cost=None):
        """Solve (the QP for the quadratic loss unless ``linear_cost`` is given); (ok, obj, x, dual)."""
        cost, A, rlo, rhi, clo, chi, meta = lp
        quad = self.loss == "quadratic" and linear_cost is None
        if linear_cost is not None:
            cost = linear_cost
        hs = self.highspy
        h = self.h
        Ac = A.tocsc()
        model = hs.HighsLp()
        model.num_col_, model.num_row_ = A.shape[1], A.shape[0]
        model.col_cost_ = cost
        model.col_lower_, model.col_upper_ = clo, chi
        model.row_lower_, model.row_upper_ = rlo, rhi
        model.a_matrix_.format_ = hs.MatrixFormat.kColwise
        model.a_matrix_.start_ = Ac.indptr.astype(np.int32)
        model.a_matrix_.index_ = Ac.indices.astype(np.int32)
        model.a_matrix_.value_ = Ac.data
        D = self.D
        if quad:
            io = meta["io"]
            model.offset_ = float(self.ys @ self.ys) / D
            cost = cost.copy()
            cost[io : io + D] = -2.0 * self.ys / D
            model.col_cost_ = cost
        h.clearModel()
        h.passModel(model)
        if quad:
            n = A.shape[1]
            io = meta["io"]
            hess = hs.HighsHessian()
            hess.dim_ = n
            hess.format_ = hs.HessianFormat.kTriangular
            diag = np.zeros(n)
            diag[io : io + D] = 2.0 / D
            hess.start_ = np.arange(n + 1, dtype=np.int32)
            hess.index_ = np.arange(n, dtype=np.int32)
            hess.value_ = diag
            h.passHessian(hess)
        h.run()
        self.lps += 1
        st = h.getModelStatus()
        ok = st == hs.HighsModelStatus.kOptimal
        sol = h.getSolution()
        x = np.array(sol.col_value)
        yd = np.array(sol.row_dual)
        obj = float(h.getInfo().objective_function_value)
        return ok, obj, x, yd
