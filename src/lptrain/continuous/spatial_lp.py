"""The LP/QP relaxation of one parameter box, for spatial branch-and-bound (docs/design.md §10).

Interval bounds let every data point pick its own parameters; this relaxation shares them.
For a box of parameters and the interval enclosures of every node on every point, the
variables are the parameters phi, and per point d, node by node in topological order: the
products t = phi_w * s_u for every edge from a non-input node u (McCormick's four
inequalities), the pre-activation p (an equality: inputs times weights, products, bias),
the post-activation s (convex/concave envelopes of the activation over [pl, pu]), then
the loss variables (absolute: e_o >= |p_o - y_o|; hinge: h >= 1 - y . p; quadratic: the
objective (p_o - y_o)^2 / D itself).  Once a box fixes a ReLU's regime, the unit is linear
and the relaxation of it is exact; the gap of McCormick's envelope shrinks with the product
of the two widths, so the bound tightens quadratically as boxes shrink.

Its bound is the Lagrangian dual value of HiGHS's multipliers y: for any y (free on the
equalities, >= 0 on the inequalities) and every variable boxed,

    min over the variable boxes of  f(x) - y^T (A x - b)

is a lower bound, separable and computed in closed form.  The layout of rows and variables
is the one :mod:`lptrain.continuous.check_spatial` documents and rebuilds on its own; the
multipliers go into the proof.
"""

from __future__ import annotations

import numpy as np

from ..activations import LEAKY_SLOPE

LP_ITERATIONS_PER_ROW = 20  # a cap on simplex iterations per LP solve (not the clock: determinism)
KELLEY_ROUNDS = 6
KELLEY_TOL = 1e-7
KELLEY_FIRST = 7
REGIME_TOL = 1e-12
ACT_ROWS = {"relu": 3, "leaky_relu": 3, "elu": 4, "tanh": 4, "identity": 2}


def _fn(name):
    if name == "relu":
        return lambda t: np.maximum(t, 0.0), lambda t: (t > 0).astype(float)
    if name == "leaky_relu":
        return (lambda t: np.where(t >= 0, t, LEAKY_SLOPE * t),
                lambda t: np.where(t >= 0, 1.0, LEAKY_SLOPE))
    if name == "elu":
        return (lambda t: np.where(t > 0, t, np.expm1(np.minimum(t, 0.0))),
                lambda t: np.where(t > 0, 1.0, np.exp(np.minimum(t, 0.0))))
    if name == "tanh":
        return np.tanh, lambda t: 1.0 - np.tanh(t) ** 2
    return (lambda t: t), (lambda t: np.ones_like(t))


class Relaxation:
    """Builds and solves the relaxation for one box; see the module docstring."""

    def __init__(self, arch, loss, X, Y, reg, lam):
        self.arch, self.loss = arch, loss
        self.X, self.Y = np.asarray(X, float), np.asarray(Y, float)
        self.reg, self.lam = reg, float(lam)
        self.D, self.N = len(self.X), arch.n_params
        self.inputs = {nm: i for i, nm in enumerate(arch.input_names)}
        self.is_out = {o: k for k, o in enumerate(arch.outputs)}
        lv, lr = 0, 0
        self.var, self.rows = {}, {}
        for nd in arch.nodes:
            for u in nd.sources:
                if u not in self.inputs:
                    self.var[("t", nd.name, u)] = lv
                    lv += 1
            self.var[("p", nd.name)] = lv
            lv += 1
            if nd.activation:
                self.var[("s", nd.name)] = lv
                lv += 1
            self.rows[("eq", nd.name)] = lr
            lr += 1
            for u in nd.sources:
                if u not in self.inputs:
                    self.rows[("mc", nd.name, u)] = lr
                    lr += 4
            if nd.activation:
                self.rows[("act", nd.name)] = lr
                lr += ACT_ROWS[nd.activation]
        if loss == "absolute":
            for o in arch.outputs:
                self.var[("e", o)] = lv
                lv += 1
            self.rows["loss"] = lr
            lr += 2 * len(arch.outputs)
        elif loss == "hinge":
            self.var["h"] = lv
            lv += 1
            self.rows["loss"] = lr
            lr += 1
        self.V, self.R = lv, lr
        self.n_vars = self.N + self.D * lv
        self.n_rows = self.D * lr
        self.last_x = None
        self._coo = None     # the constraint matrix's (rows, columns): the same for every box
        self._csc = {}       # its CSC layout, with the first cuts or without: (indptr, indices, inverse)
        self._idx = {}       # per-point row and column indices

    def applies(self):
        return self.loss in ("absolute", "quadratic", "hinge")

    # -- assembly --------------------------------------------------------------------

    def _value(self, enc, name):
        """(lower, upper, variable column) of the value a node passes on, per point."""
        pl, pu, sl, su = enc[name]
        nd = self.arch.nodes[self.arch.node_index[name]]
        key = ("s", name) if nd.activation else ("p", name)
        return sl, su, key

    def assemble(self, lo, hi, enc):
        """COO entries, row bounds, column bounds and objective for one box.

        ``enc``: node -> (pl, pu, sl, su), arrays (D,).
        """
        D, N, V, R = self.D, self.N, self.V, self.R
        dd = np.arange(D)
        idx = self._idx

        def col(key):
            c = idx.get(("c", key))
            if c is None:
                c = idx[("c", key)] = N + dd * V + self.var[key]
            return c

        def row(r):
            c = idx.get(("r", r))
            if c is None:
                c = idx[("r", r)] = dd * R + r
            return c

        first = self._coo is None  # the layout does not depend on the box: indices built once
        ri, ci, vals = [], [], []
        rlo = np.full(self.n_rows, -np.inf)
        rhi = np.full(self.n_rows, np.inf)
        clo = np.empty(self.n_vars)
        chi = np.empty(self.n_vars)
        clo[:N], chi[:N] = lo, hi
        cost = np.zeros(self.n_vars)
        quad = np.zeros(self.n_vars)
        const = 0.0

        def put(r, c, v):
            if first:
                ri.append(np.broadcast_to(r, (D,)))
                ci.append(np.broadcast_to(c, (D,)))
            vals.append(v)

        def geq(r, b):
            rlo[row(r)] = b

        for nd in self.arch.nodes:
            pl, pu, sl, su = enc[nd.name]
            cp = col(("p", nd.name))
            clo[cp], chi[cp] = pl, pu
            r = self.rows[("eq", nd.name)]
            put(row(r), cp, 1.0)
            for u, w in zip(nd.sources, nd.weights):
                if u in self.inputs:
                    put(row(r), w, -self.X[:, self.inputs[u]])
                else:
                    put(row(r), col(("t", nd.name, u)), -1.0)
            if nd.bias is not None:
                put(row(r), nd.bias, -1.0)
            rlo[row(r)] = 0.0
            rhi[row(r)] = 0.0
            for u, w in zip(nd.sources, nd.weights):
                if u in self.inputs:
                    continue
                ul, uh, ukey = self._value(enc, u)
                wl, wh = lo[w], hi[w]
                ct, cs = col(("t", nd.name, u)), col(ukey)
                prods = np.stack([wl * ul, wl * uh, wh * ul, wh * uh])
                clo[ct], chi[ct] = prods.min(0), prods.max(0)
                r0 = self.rows[("mc", nd.name, u)]
                # (a) t - wl s - sl w >= -wl sl   (b) t - wh s - sh w >= -wh sh
                # (c) -t + wh s + sl w >= wh sl  (d) -t + wl s + sh w >= wl sh
                for k, (st, ws, sw, b) in enumerate(((1, -wl, -ul, -wl * ul), (1, -wh, -uh, -wh * uh),
                                                     (-1, wh, ul, wh * ul), (-1, wl, uh, wl * uh))):
                    put(row(r0 + k), ct, st)
                    put(row(r0 + k), cs, ws)
                    put(row(r0 + k), w, sw)
                    geq(r0 + k, b)
            if nd.activation:
                cs = col(("s", nd.name))
                clo[cs], chi[cs] = sl, su
                r0 = self.rows[("act", nd.name)]
                for k, (a_s, a_p, b) in enumerate(self.act_rows(nd.activation, pl, pu)):
                    put(row(r0 + k), cs, a_s)
                    put(row(r0 + k), cp, a_p)
                    geq(r0 + k, b)
        Y = self.Y
        if self.loss == "absolute":
            r0 = self.rows["loss"]
            for k, o in enumerate(self.arch.outputs):
                pl, pu = enc[o][0], enc[o][1]
                ce, cp = col(("e", o)), col(("p", o))
                clo[ce], chi[ce] = 0.0, np.maximum(np.abs(pl - Y[:, k]), np.abs(pu - Y[:, k]))
                cost[ce] = 1.0 / D
                put(row(r0 + 2 * k), ce, 1.0)
                put(row(r0 + 2 * k), cp, -1.0)
                geq(r0 + 2 * k, -Y[:, k])
                put(row(r0 + 2 * k + 1), ce, 1.0)
                put(row(r0 + 2 * k + 1), cp, 1.0)
                geq(r0 + 2 * k + 1, Y[:, k])
        elif self.loss == "hinge":
            r0 = self.rows["loss"]
            ch = col("h")
            worst = np.zeros(D)
            put(row(r0), ch, 1.0)
            for k, o in enumerate(self.arch.outputs):
                pl, pu = enc[o][0], enc[o][1]
                worst += np.minimum(Y[:, k] * pl, Y[:, k] * pu)
                put(row(r0), col(("p", o)), Y[:, k])
            clo[ch], chi[ch] = 0.0, np.maximum(0.0, 1.0 - worst)
            cost[ch] = 1.0 / D
            geq(r0, 1.0)
        else:
            for k, o in enumerate(self.arch.outputs):
                cp = col(("p", o))
                quad[cp] += 1.0 / D
                cost[cp] += -2.0 * Y[:, k] / D
                const += float((Y[:, k] ** 2).sum() / D)
        l1 = np.zeros(self.n_vars)
        if self.reg == "l2" and self.lam:
            quad[:N] += self.lam
        elif self.reg == "l1" and self.lam:
            l1[:N] = self.lam
        if first:
            self._coo = (np.concatenate(ri), np.concatenate(ci))
        val = np.empty((len(vals), D))
        for k, v in enumerate(vals):
            val[k] = v
        return (self._coo[0], self._coo[1], val.ravel(), rlo, rhi, clo, chi, cost, quad, l1, const)

    def _matrix(self, name, ri, ci, vals, shape):
        """CSC (data, indices, indptr) of the COO entries (duplicates summed); the layout is
        computed once per ``name`` and reused, since it does not depend on the box."""
        lay = self._csc.get(name)
        if lay is None:
            keys = ci.astype(np.int64) * shape[0] + ri
            uniq, inv = np.unique(keys, return_inverse=True)
            indptr = np.zeros(shape[1] + 1, dtype=np.int64)
            np.cumsum(np.bincount(uniq // shape[0], minlength=shape[1]), out=indptr[1:])
            lay = self._csc[name] = (indptr, (uniq % shape[0]).astype(np.int32), inv.ravel(), len(uniq))
        indptr, indices, inv, nnz = lay
        return np.bincount(inv, weights=vals, minlength=nnz), indices, indptr

    @staticmethod
    def act_rows(name, pl, pu):
        """Rows a_s s + a_p p >= b of the activation's envelope over [pl, pu] (per point)."""
        f, df = _fn(name)
        fl, fu = f(pl), f(pu)
        span = pu - pl
        k = np.where(span > 0, (fu - fl) / np.where(span > 0, span, 1.0), 0.0)
        chord_up = (-1.0, k, k * pl - fl)      # s <= f(pl) + k (p - pl)
        chord_dn = (1.0, -k, fl - k * pl)      # s >= f(pl) + k (p - pl)
        one = np.ones_like(pl)
        if name in ("relu", "leaky_relu"):
            a = 0.0 if name == "relu" else LEAKY_SLOPE
            return [(one, -one, 0.0 * one), (one, -a * one, 0.0 * one), chord_up]
        if name == "identity":
            return [(one, -one, 0.0 * one), (-one, one, 0.0 * one)]
        mid = 0.5 * (pl + pu)

        def tangent(t0, below=True):
            d, v = df(t0), f(t0)
            return (one, -d, v - d * t0) if below else (-one, d, d * t0 - v)

        if name == "elu":
            return [tangent(pl), tangent(mid), tangent(pu), chord_up]
        # tanh: convex below 0, concave above, slope-1 lines through the end points across 0
        conv = pu <= REGIME_TOL
        conc = pl >= -REGIME_TOL
        lo1 = (one, -one, fu - pu)
        up1 = (-one, one, pl - fl)
        rows = []
        for t0 in (pl, mid, pu):
            tb, ta = tangent(t0, True), tangent(t0, False)
            rows.append(tuple(np.where(conv, tb[i], np.where(conc, ta[i], lo1[i] if t0 is not mid else up1[i]))
                              for i in range(3)))
        rows.append(tuple(np.where(conv, chord_up[i], np.where(conc, chord_dn[i], up1[i])) for i in range(3)))
        return rows

    # -- solving and the dual bound ----------------------------------------------------

    def bound(self, lo, hi, enc):
        """(Lagrangian lower bound, multipliers (n_rows,)) for one box, or (-inf, None).

        Quadratic terms enter HiGHS's LP as epigraph variables with tangent cuts, refined at
        the LP's solution a few times (Kelley); only the multipliers of the layout's rows are
        kept, and the Lagrangian is evaluated with the exact quadratic terms, which can only
        raise the bound over the cut LP's value.
        """
        import highspy

        (ri, ci, vals, rlo, rhi, clo, chi, cost, quad, l1, const) = self.assemble(lo, hi, enc)
        qi = np.flatnonzero(quad)
        nq = len(qi)
        nv = self.n_vars + nq
        inf = highspy.kHighsInf

        def cuts(points):
            """Rows a_j - 2 x0 x_j >= -x0^2 for each quadratic variable j and point x0."""
            pts = np.concatenate([np.asarray(p, dtype=float) for p in points])
            js = np.tile(np.arange(nq), len(points))
            k = len(pts)
            cols = np.empty(2 * k, dtype=np.int32)
            vals = np.empty(2 * k)
            cols[0::2], cols[1::2] = self.n_vars + js, qi[js]
            vals[0::2], vals[1::2] = 1.0, -2.0 * pts
            return cols, vals, -pts * pts, k

        ql, qh = clo[qi], chi[qi]
        first = [ql + f * (qh - ql) for f in np.linspace(0.0, 1.0, KELLEY_FIRST)] if nq else []
        if nq:
            cc, cv, cb, k = cuts(first)
            fr = np.concatenate([ri, self.n_rows + np.repeat(np.arange(k), 2)])
            data, indices, indptr = self._matrix("cuts", fr, np.concatenate([ci, cc]),
                                                 np.concatenate([vals, cv]), (self.n_rows + k, nv))
        else:
            data, indices, indptr = self._matrix("plain", ri, ci, vals, (self.n_rows, nv))
        h = _new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("presolve", "off")
        lp = highspy.HighsLp()
        nr = self.n_rows + (k if nq else 0)
        # every multiplier vector gives a valid bound: a capped solve only weakens it, and an
        # iteration cap (unlike a time limit) gives the same bound under any load or thread count
        h.setOptionValue("simplex_iteration_limit", int(LP_ITERATIONS_PER_ROW * (nr + nv) + 1000))
        lp.num_col_, lp.num_row_ = nv, nr
        lp.col_cost_ = np.concatenate([cost, quad[qi]])
        lp.col_lower_ = np.concatenate([clo, np.zeros(nq)])
        lp.col_upper_ = np.concatenate([chi, np.maximum(ql * ql, qh * qh)])
        rl = np.concatenate([np.where(np.isfinite(rlo), rlo, -inf), cb if nq else []])
        ru = np.concatenate([np.where(np.isfinite(rhi), rhi, inf), np.full(nr - self.n_rows, inf)])
        lp.row_lower_, lp.row_upper_ = rl, ru
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = indptr
        lp.a_matrix_.index_ = indices
        lp.a_matrix_.value_ = data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = nv, nr
        lp.offset_ = const
        h.passModel(lp)
        h.run()
        for _ in range(KELLEY_ROUNDS if nq else 0):
            sol = h.getSolution()
            if not sol.value_valid:
                break
            x = np.asarray(sol.col_value)
            xq, aq = x[qi], x[self.n_vars:]
            under = quad[qi] * np.maximum(xq * xq - aq, 0.0)
            if under.sum() <= KELLEY_TOL * (1.0 + abs(h.getInfo().objective_function_value)):
                break
            keep = np.flatnonzero(under > 1e-3 * under.max())
            cc, cv, b2, k = cuts([xq])
            sel = np.stack([2 * keep, 2 * keep + 1], 1).ravel()
            h.addRows(len(keep), b2[keep], np.full(len(keep), inf), 2 * len(keep),
                      np.arange(0, 2 * len(keep), 2, dtype=np.int32), cc[sel], cv[sel])
            h.run()
        sol = h.getSolution()
        if not sol.dual_valid:
            return -np.inf, None
        y = np.asarray(sol.row_dual, dtype=float)[: self.n_rows]
        y = np.where(np.isfinite(rhi), y, np.maximum(y, 0.0))  # >= rows: y >= 0
        g = cost - np.bincount(ci, weights=vals * y[ri], minlength=self.n_vars)
        b = np.where(np.isfinite(rlo), rlo, 0.0)
        mn = separable_min(g, quad, l1, clo, chi)
        val = const + float(y @ b) + float(mn.sum())
        val -= self.rounding_allowance(ri, ci, vals, y, b, cost, quad, l1, clo, chi, mn, const)
        self.last_x = np.asarray(sol.col_value, dtype=float)[: self.n_vars] if sol.value_valid else None
        return val, y

    def rounding_allowance(self, ri, ci, vals, y, b, cost, quad, l1, clo, chi, mn, const):
        """What a rigorous replay of the multipliers ``y`` may lose against this module's
        floating-point value (search side, conservative estimate).

        The replay bounds its rounding a priori: a gamma_K factor on the magnitude of every
        term, |y b|, |y a| times the variable's bound and q M^2 for the quadratic terms, with
        K the number of terms; and it loosens the rows it rebuilds from its own outward
        enclosures.  With a large box those magnitudes reach 1e8 and the loss is no longer
        negligible (relative 1e-4); claiming the plain value is refused.  Twice the same
        estimate is charged here, and every row's terms, relative 128 eps.
        """
        eps = np.finfo(np.float64).eps
        M = np.maximum(np.abs(clo), np.abs(chi))
        ay = np.abs(vals * y[ri])
        sabs = np.bincount(ci, weights=ay, minlength=self.n_vars)
        mag = float(np.abs(y * b).sum()) + abs(const)
        mag += float((np.abs(mn) + (sabs + np.abs(cost)) * M + quad * M * M + l1 * (M * M + M)).sum())
        K = len(vals) + 2 * self.n_rows + self.n_vars + 4 * self.D + 4 * self.N + 16
        rowmag = np.bincount(ri, weights=np.abs(vals) * M[ci], minlength=self.n_rows)
        rows = float(np.abs(y) @ (1.0 + np.abs(b) + rowmag))
        return 2.0 * (K + 16) * eps * mag + 128.0 * eps * rows

    def branch_scores(self, x, lo, hi):
        """Per parameter: how much of the relaxation's error at its solution x the parameter's
        width causes (products w * s off their value, activations off their curve), times
        its width; the box is best split along the largest."""
        N, V, D = self.N, self.V, self.D
        phi = x[:N]
        loc = x[N:].reshape(D, V)
        score = np.zeros(N)
        width = hi - lo
        upstream = {}
        for nd in self.arch.nodes:
            ps = set(nd.weights) | ({nd.bias} if nd.bias is not None else set())
            for u in nd.sources:
                ps |= upstream.get(u, set())
            upstream[nd.name] = ps
        for nd in self.arch.nodes:
            own = list(nd.weights) + ([nd.bias] if nd.bias is not None else [])
            for u, w in zip(nd.sources, nd.weights):
                if u in self.inputs:
                    continue
                und = self.arch.nodes[self.arch.node_index[u]]
                sv = loc[:, self.var[("s", u) if und.activation else ("p", u)]]
                err = np.abs(loc[:, self.var[("t", nd.name, u)]] - phi[w] * sv).sum()
                score[w] += err
                for k in upstream[u]:
                    score[k] += err / max(1, len(upstream[u]))
            if nd.activation:
                f, _ = _fn(nd.activation)
                p = loc[:, self.var[("p", nd.name)]]
                err = np.abs(loc[:, self.var[("s", nd.name)]] - f(p)).sum()
                for k in upstream[nd.name]:
                    score[k] += err / max(1, len(upstream[nd.name]))
                for k in own:
                    score[k] += err / max(1, len(own))
        return score * width


_BANNER_DONE = False


def _new_highs():
    """A Highs object; HiGHS's banner (printed once per process on stdout) is swallowed."""
    import os
    import sys

    import highspy

    global _BANNER_DONE
    if _BANNER_DONE:
        return highspy.Highs()
    _BANNER_DONE = True
    try:
        sys.stdout.flush()
        fd = os.dup(1)
    except (OSError, ValueError):  # pragma: no cover - no real stdout
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(fd, 1)
        os.close(fd)
    return h


def separable_min(g, q, l1, lo, hi):
    """min over x in [lo, hi] of g x + q x^2 + l1 |x|, elementwise (q, l1 >= 0)."""
    cands = [lo, hi, np.clip(0.0, lo, hi)]
    with np.errstate(divide="ignore", invalid="ignore"):
        qs = np.where(q > 0, q, 1.0)
        cands.append(np.clip(-(g + l1) / (2 * qs), np.maximum(lo, 0.0), np.maximum(hi, 0.0)))
        cands.append(np.clip(-(g - l1) / (2 * qs), np.minimum(lo, 0.0), np.minimum(hi, 0.0)))
    best = np.full(g.shape, np.inf)
    for x in cands:
        x = np.clip(x, lo, hi)
        best = np.minimum(best, g * x + q * x * x + l1 * np.abs(x))
    return best
