"""Independent replay of a pattern-search proof (n-w-1 ReLU nets), rigorous in floating point.

n >= 2 inputs (pair-branching proofs, ``proof["inputs"] >= 2``): see :func:`_verify_nd`;
what follows describes the n = 1 proofs (threshold windows).

Shares no bounding code with the search (:mod:`.patterns`, :mod:`._patterns_lp`).

What is proven, for B the box and data sorted by x (the proof's ``perm``, checked):
1. *Cover.* Unit j contributes s_j relu(s_j u_j.z) with s_j = sign(v_j), u_j = v_j (a_j, b_j),
   ||u_j||_inf <= B^2 (docs/design.md §10).  With o_j = +1 when s_j a_j >= 0 (else -1), s_j u_j.z_r is
   monotone in the rank r, so some threshold k_j in {0..D} has: o_j = +1: ranks < k_j with
   s_j u_j.z <= 0 (inactive), ranks >= k_j with >= 0 (active); o_j = -1: the reverse.  Units
   are interchangeable, so permuting them gives signs sorted (+1 first), orientations sorted
   (+1 first) within a sign and k nondecreasing within a (sign, orientation) group.  The
   checker enumerates those roots itself, walks the tree (a split of unit j at m makes
   windows {klo..m} and {m+1..khi}), tightens each child's window box to the symmetric set
   (k_j <= k_(j+1) in a group) itself and requires every node to be split, a leaf, or
   (only when its tightened box is empty) marked empty.
2. *Leaf bounds.* A leaf (windows klo_j..khi_j) is bounded by the LP below, a relaxation of
   the risk over its region; for the quadratic loss r^2 is bounded below by the maximum
   of its tangents at stored points (r^2 >= 2 tau r - tau^2).  Any dual vector y gives the bound
   b.y + sum_i min(lo_i r_i, hi_i r_i), r = cost - A^T y (Neumaier & Shcherbina 2004),
   evaluated here with a proven rounding margin (Higham, gamma_k bounds).
3. *The returned network* (when ``params`` is given): inside the box, its risk recomputed
   by an own forward pass, and not below the lower bound.

The leaf LP (search and checker build it to this layout).  Columns: u_j = (u_j0, u_j1) for
j = 1..w, then c, then o_d (d = 1..D, sorted order), then g_(j,r) for every unit j and rank r
(j-major), then (absolute, hinge) e_d.  Rows, in order (all ">= lo" except the output rows,
equalities):
  three region rows per unit j: o_j s_j u_j0 >= 0; sigma s_j u_j.z_(klo_j - 1) >= 0 with
    sigma = -1 (o_j = +1) or +1, the empty row if klo_j = 0; sigma s_j u_j.z_khi_j >= 0 with
    sigma = +1 (o_j = +1) or -1, the empty row if khi_j = D;
  output rows: o_d - c - sum_j g_(j,d) = 0;
  per pair (j, r), two rows: (A) s_j (g - u_j.z_r) >= 0; (B) s_j = +1: h u_j.z_r - (h - l) g
    >= h l, s_j = -1: l u_j.z_r + (h - l) g >= h l, with l <= 0 <= h bounding u_j.z_r on
    the unit's region (a decided pair has l = 0 or h = 0: its triangle is exact);
    g in [0, h] (s_j = +1) or [l, 0];
  loss rows: absolute: e_d - o_d >= -y_d, e_d + o_d >= y_d; hinge: e_d + y_d o_d >= 1;
    quadratic: for the stored tangent points tau_(d,1..K): e_d - 2 tau o_d >= -2 tau y_d - tau^2
    ((o - y)^2 >= 2 tau (o - y) - tau^2);
  per unit j and rank r < D - 1, with sigma = s_j o_j and dx = x_(r+1) - x_r: (M) sigma
    (g_(j,r+1) - g_(j,r)) >= 0, (S) sigma (dx u_j0 - g_(j,r+1) + g_(j,r)) >= 0 (the unit's
    contribution is monotone with slopes between 0 and u_j0, whose sign is sigma);
  per unit j and rank r < D - 2: s_j (dx_r g_(j,r+2) - (dx_r + dx_(r+1)) g_(j,r+1)
    + dx_(r+1) g_(j,r)) >= 0 (convex for s_j = +1, concave for -1).
Objective: (1/D) sum e_d.  Right-hand sides whose coefficients are rounded products are
lowered by the rounding error times a bound on the variables (|u| <= B^2, |g| <= B^2 (|x|+1)).
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import scipy.sparse as sp

U = 2.0 ** -53


def _down(v):
    return np.nextafter(v, -np.inf)


def _up(v):
    return np.nextafter(v, np.inf)


def _sum_lower(terms):
    """A lower bound of sum of the exact values of float terms each within relative U."""
    terms = np.asarray(terms, dtype=np.float64).ravel()
    if terms.size == 0:
        return 0.0
    s = math.fsum(terms)
    mag = math.fsum(np.abs(terms))
    return float(_down(_down(s - 2.0 * U * (mag + abs(s)))))


def _sum_upper(terms):
    return -_sum_lower(-np.asarray(terms, dtype=np.float64))


def _own_roots(w):
    """Every (signs, orientations) with signs sorted (+1 first), orientations sorted in a sign."""
    out = set()
    for signs in set(tuple(sorted(c, reverse=True)) for c in np.ndindex(*(2,) * w)):
        s = tuple(1 if b else -1 for b in signs)
        pos = sum(1 for v in s if v > 0)
        for i in range(pos + 1):
            for k in range(w - pos + 1):
                o = (1,) * i + (-1,) * (pos - i) + (1,) * k + (-1,) * (w - pos - k)
                out.add((s, o))
    return out


def _tighten(s, o, lo, hi):
    """Smallest box holding box(lo, hi) intersected with k_j <= k_(j+1) per group; None if empty."""
    lo, hi = list(lo), list(hi)
    w = len(s)
    same = [s[j] == s[j + 1] and o[j] == o[j + 1] for j in range(w - 1)]
    run = lo[0]
    for j in range(1, w):
        run = max(lo[j], run) if same[j - 1] else lo[j]
        lo[j] = run
    run = hi[w - 1]
    for j in range(w - 2, -1, -1):
        run = min(hi[j], run) if same[j] else hi[j]
        hi[j] = run
    for j in range(w):
        if lo[j] > hi[j]:
            return None
    return lo, hi


def _region_normals(s, o, klo, khi, xs):
    """The three documented region rows n.u >= 0 of a unit (zero rows at the ends)."""
    D = len(xs)
    nrm = np.zeros((3, 2))
    nrm[0] = (s * o, 0.0)
    if klo >= 1:
        sig = -1 if o > 0 else 1
        nrm[1] = (sig * s * xs[klo - 1], sig * s)
    if khi <= D - 1:
        sig = 1 if o > 0 else -1
        nrm[2] = (sig * s * xs[khi], sig * s)
    return nrm


def _dual_norm_upper(Z, W, mus):
    """Upper bounds of ||z - W^T mu||_1 per row of Z for one multiplier choice (mus: (R, K))."""
    res = Z - mus @ W
    mag = np.abs(Z) + np.abs(mus) @ np.abs(W)
    err = 4.0 * (W.shape[0] + 2) * U * mag
    return (np.abs(res) + err).sum(axis=1) * (1 + 8 * U)


def _min_bound(Z, W, B2):
    """Rigorous lower bounds of min u.z over {||u||_inf <= B2, W u >= 0} for each row z of Z.

    Weak duality: u.z = mu.(W u) + (z - W^T mu).u >= -B2 ||z - W^T mu||_1 for any mu >= 0;
    candidate mu are the vertices of that dual (at most two nonzero, n = 1).
    """
    R, K = Z.shape[0], W.shape[0]
    best = _dual_norm_upper(Z, W, np.zeros((R, K)))
    cands = []
    for k in range(K):
        for i in range(2):
            if W[k, i] != 0.0:
                mu = np.zeros((R, K))
                mu[:, k] = np.maximum(Z[:, i] / W[k, i], 0.0)
                cands.append(mu)
    for k1, k2 in combinations(range(K), 2):
        M = np.array([[W[k1, 0], W[k2, 0]], [W[k1, 1], W[k2, 1]]])
        det = M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
        if det == 0.0:
            continue
        a = (Z[:, 0] * M[1, 1] - Z[:, 1] * M[0, 1]) / det
        b = (M[0, 0] * Z[:, 1] - M[1, 0] * Z[:, 0]) / det
        mu = np.zeros((R, K))
        mu[:, k1] = np.maximum(a, 0.0)
        mu[:, k2] = np.maximum(b, 0.0)
        cands.append(mu)
    for mu in cands:
        best = np.minimum(best, _dual_norm_upper(Z, W, mu))
    return -(best * B2) * (1 + 4 * U)


class _Data:
    def __init__(self, X, Y, perm, loss, B, w):
        self.xs = X[perm, 0]
        self.ys = Y[perm, 0]
        self.D = len(self.xs)
        self.loss = loss
        self.B = B
        self.B2 = float(_up(B * B))
        self.w = w
        self.omax = _up((B + w * self.B2 * (np.abs(self.xs) + 1.0)) * (1 + 8 * U))


def _leaf_lp(dat: _Data, s, o, klo, khi, tan=None):
    """The documented leaf LP: (A csr, row_lo, is_eq, col_lo, col_hi, layout)."""
    xs, ys, D, w, B2 = dat.xs, dat.ys, dat.D, dat.w, dat.B2
    P = w * D
    c_col, o_col = 2 * w, 2 * w + 1
    g_col = o_col + D
    e_col = g_col + P
    ncol = e_col + D
    col_lo = np.zeros(ncol)
    col_hi = np.zeros(ncol)
    col_lo[:c_col], col_hi[:c_col] = -B2, B2
    col_lo[c_col], col_hi[c_col] = -dat.B, dat.B
    col_lo[o_col:g_col], col_hi[o_col:g_col] = -dat.omax, dat.omax
    R, C, V = [], [], []
    rlo, req = [], []
    # region rows (three per unit) and the ranges [l, h] of u_j.z_r for every r
    lows = np.zeros((w, D))
    highs = np.zeros((w, D))
    Z = np.stack([xs, np.ones(D)], axis=1)
    for j in range(w):
        Wn = _region_normals(s[j], o[j], klo[j], khi[j], xs)
        for q in range(3):
            for col in (0, 1):
                if Wn[q, col] != 0.0:
                    R.append(3 * j + q)
                    C.append(2 * j + col)
                    V.append(Wn[q, col])
        rlo += [0.0, 0.0, 0.0]
        req += [False] * 3
        live = Wn[np.any(Wn != 0.0, axis=1)]
        lows[j] = np.minimum(_min_bound(Z, live, B2), 0.0)
        highs[j] = np.maximum(-_min_bound(-Z, live, B2), 0.0)
    row = 3 * w
    R, C, V = [np.asarray(R, dtype=np.int64)], [np.asarray(C, dtype=np.int64)], [np.asarray(V)]
    # output rows
    d = np.arange(D)
    jr = np.repeat(np.arange(w), D)
    rr = np.tile(d, w)
    R += [row + d, row + d, row + rr]
    C += [o_col + d, np.full(D, c_col), g_col + np.arange(P)]
    V += [np.ones(D), -np.ones(D), -np.ones(P)]
    rlo += [0.0] * D
    req += [True] * D
    row += D
    # pair rows
    sj = np.asarray(s, dtype=np.float64)[jr]
    x = xs[rr]
    l, h = lows.ravel(), highs.ravel()
    ga = g_col + np.arange(P)
    rA = row + 2 * np.arange(P)
    rB = rA + 1
    R += [rA, rA, rA]
    C += [ga, 2 * jr, 2 * jr + 1]
    V += [sj, -sj * x, -sj]
    beta = np.maximum(_down(h - l), 0.0)
    gam = _down(h * l)
    lead = np.where(sj > 0, h, l)
    coef_x = lead * x
    gam = _down(gam - _up(np.abs(coef_x) * 2 * U * B2 * (1 + 4 * U)))
    R += [rB, rB, rB]
    C += [ga, 2 * jr, 2 * jr + 1]
    V += [np.where(sj > 0, -beta, beta), coef_x, lead]
    lo_pairs = np.zeros(2 * P)
    lo_pairs[1::2] = gam
    rlo += lo_pairs.tolist()
    req += [False] * (2 * P)
    row += 2 * P
    col_lo[g_col:e_col] = np.where(sj > 0, 0.0, l)
    col_hi[g_col:e_col] = np.where(sj > 0, h, 0.0)
    # loss rows
    if dat.loss == "absolute":
        r0 = row + 2 * d
        R += [r0, r0, r0 + 1, r0 + 1]
        C += [e_col + d, o_col + d, e_col + d, o_col + d]
        V += [np.ones(D), -np.ones(D), np.ones(D), np.ones(D)]
        lo = np.empty(2 * D)
        lo[0::2], lo[1::2] = -ys, ys
        rlo += lo.tolist()
        req += [False] * (2 * D)
        row += 2 * D
        col_hi[e_col:] = _up((dat.omax + np.abs(ys)) * (1 + 4 * U))
    elif dat.loss == "quadratic":
        K = tan.shape[1]
        dk = np.repeat(d, K)
        rk = row + np.arange(K * D)
        tau = tan.ravel()
        kappa = 2.0 * tau
        p1 = kappa * ys[dk]
        p2 = tau * tau
        rhs = _down(-p1 - p2 - 4 * U * (np.abs(p1) + p2))
        R += [rk, rk]
        C += [e_col + dk, o_col + dk]
        V += [np.ones(K * D), -kappa]
        rlo += rhs.tolist()
        req += [False] * (K * D)
        row += K * D
        col_hi[e_col:] = _up(((dat.omax + np.abs(ys)) ** 2) * (1 + 8 * U))
    elif dat.loss == "hinge":
        R += [row + d, row + d]
        C += [e_col + d, o_col + d]
        V += [np.ones(D), ys]
        rlo += [1.0] * D
        req += [False] * D
        row += D
        col_hi[e_col:] = _up((1.0 + np.abs(ys) * dat.omax) * (1 + 4 * U))
    # monotonicity and slope rows per unit and consecutive ranks (sigma = s_j o_j; the slope
    # of s relu(s u.z) in x lies between 0 and u_j0, whose sign is sigma on the region)
    if D >= 2:
        cj = np.repeat(np.arange(w), D - 1)
        cr = np.tile(np.arange(D - 1), w)
        sig = (np.asarray(s, dtype=np.float64) * np.asarray(o, dtype=np.float64))[cj]
        g1 = g_col + cj * D + cr + 1
        dx = xs[cr + 1] - xs[cr]
        rm = row + 2 * np.arange(w * (D - 1))
        R += [rm, rm, rm + 1, rm + 1, rm + 1]
        C += [g1, g1 - 1, 2 * cj, g1, g1 - 1]
        V += [sig, -sig, sig * dx, -sig, sig]
        lo = np.zeros(2 * w * (D - 1))
        lo[1::2] = -_up(B2 * np.abs(dx) * 4 * U)
        rlo += lo.tolist()
        req += [False] * (2 * w * (D - 1))
        row += 2 * w * (D - 1)
    # convexity (s_j = +1) / concavity (s_j = -1) over three consecutive ranks
    if D >= 3:
        vj = np.repeat(np.arange(w), D - 2)
        vr = np.tile(np.arange(D - 2), w)
        kap = np.asarray(s, dtype=np.float64)[vj]
        d0 = xs[vr + 1] - xs[vr]
        d1 = xs[vr + 2] - xs[vr + 1]
        c2, c1, c0 = d0, -(d0 + d1), d1
        g0 = g_col + vj * D + vr
        rv = row + np.arange(w * (D - 2))
        R += [rv, rv, rv]
        C += [g0 + 2, g0 + 1, g0]
        V += [kap * c2, kap * c1, kap * c0]
        gmax = B2 * (float(np.max(np.abs(xs))) + 1.0)
        rlo += (-_up(8 * U * gmax * (np.abs(c0) + np.abs(c1) + np.abs(c2)) * (1 + 8 * U))).tolist()
        req += [False] * (w * (D - 2))
        row += w * (D - 2)
    A = sp.csr_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(C))),
                      shape=(row, ncol))
    layout = dict(o_col=o_col, e_col=e_col, ncol=ncol)
    return A, np.asarray(rlo, dtype=np.float64), np.asarray(req), col_lo, col_hi, layout


def _leaf_bound(dat: _Data, lp, y):
    """Rigorous lower bound of the leaf LP's optimum from the dual vector y."""
    A, rlo, req, clo, chi, lay = lp
    y = np.where(req, y, np.maximum(y, 0.0))
    cost = np.zeros(lay["ncol"])
    # 1/D rounded down: valid as e >= 0
    cost[lay["e_col"] :] = _down(1.0 / dat.D)
    At = A.T.tocsr()
    r = cost - At @ y
    mag = np.abs(cost) + abs(At) @ np.abs(y)
    k = np.diff(At.indptr) + 2
    err = 2.0 * (k + 2) * U * mag + 4 * U * np.abs(r) + 1e-300
    r1, r2 = r - err, r + err
    terms = np.minimum.reduce([clo * r1, chi * r1, clo * r2, chi * r2])
    return _sum_lower(np.asarray([_sum_lower(terms), _sum_lower(rlo * y)]))


def verify(proof: dict, arch, loss_name, X, Y, *, box, reg, lam, lower_bound,
           params=None, objective=None) -> tuple:
    """Replay a pattern proof.  Returns (valid, message).

    Parameters
    ----------
    proof : dict
        ``ContinuousResult.proof`` of :func:`lptrain.continuous.patterns.solve`.
    arch, loss_name, X, Y, box, reg, lam
        The problem (X, Y original data).
    lower_bound : float
        The claimed lower bound: every leaf must prove at least this.
    params, objective : optional
        The returned network and its claimed risk: checked to lie in the box, its risk
        recomputed here, and ``objective`` (if given) compared with it.
    """
    try:
        return _verify(proof, arch, loss_name, X, Y, box, reg, lam, lower_bound, params, objective)
    except (KeyError, IndexError, ValueError, TypeError) as e:
        return False, f"malformed proof: {e}"


def _verify(proof, arch, loss_name, X, Y, box, reg, lam, lower_bound, params, objective):
    if proof.get("format") != "lptrain-patterns-proof":
        return False, "not a pattern proof"
    if reg is not None or (lam or 0.0) != 0.0:
        return False, "regularized problems are not covered by pattern proofs"
    widths = arch.widths
    if widths is None or len(widths) != 3 or widths[0] < 1 or widths[2] != 1:
        return False, "pattern proofs cover n-w-1 nets only"
    if (arch.spec or {}).get("activation", "relu") != "relu":
        return False, "pattern proofs cover ReLU nets only"
    if loss_name not in ("absolute", "quadratic", "hinge") or proof["loss"] != loss_name:
        return False, "loss does not match the proof"
    if int(proof.get("inputs", 1)) != widths[0]:
        return False, "the proof is for another number of inputs"
    if widths[0] >= 2:
        X = np.asarray(X, dtype=np.float64).reshape(-1, widths[0])
        Y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)
        ok, msg = _verify_nd(proof, loss_name, X, Y, widths[1], float(box), float(lower_bound))
        if not ok:
            return ok, msg
        return _check_params(arch, loss_name, X, Y, float(box), float(lower_bound), params,
                             objective, msg)
    X = np.asarray(X, dtype=np.float64).reshape(-1, 1)
    Y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)
    D, w, B = X.shape[0], widths[1], float(box)
    if int(proof["D"]) != D or int(proof["width"]) != w or float(proof["box"]) != B:
        return False, "data size, width or box does not match the proof"
    perm = np.asarray(proof["perm"], dtype=np.int64)
    if perm.shape != (D,) or not np.array_equal(np.sort(perm), np.arange(D)):
        return False, "perm is not a permutation"
    if np.any(np.diff(X[perm, 0]) < 0):
        return False, "perm does not sort the data"
    dat = _Data(X, Y, perm, loss_name, B, w)
    lb = float(lower_bound)
    # roots
    roots = [(tuple(int(v) for v in s), tuple(int(v) for v in o))
             for s, o in zip(proof["roots_signs"], proof["roots_orient"])]
    if len(roots) != len(set(roots)) or set(roots) != _own_roots(w):
        return False, "the root sign/orientation vectors are not the complete symmetric set"
    code, unit, mval = proof["code"], proof["unit"], proof["m"]
    leaf_bound, yidx, yval, ystart = (proof["leaf_bound"], proof["y_index"], proof["y_value"],
                                      proof["y_start"])
    tvals = proof.get("t")
    pos = 0
    seen_leaves = 0
    worst = np.inf
    for s, o in roots:
        start = _tighten(s, o, [0] * w, [D] * w)
        stack = [start]
        while stack:
            box_ = stack.pop()
            if pos >= len(code):
                return False, "the tree ends early: a node is missing"
            kind = int(code[pos])
            if box_ is None:
                if kind != 2:
                    return False, f"node {pos}: an empty child is not marked empty"
                pos += 1
                continue
            klo, khi = box_
            if kind == 2:
                return False, f"node {pos}: marked empty but its box is not"
            if kind == 1:
                j, m = int(unit[pos]), int(mval[pos])
                if not (0 <= j < w and klo[j] <= m < khi[j]):
                    return False, f"node {pos}: invalid split"
                a_lo, a_hi = list(klo), list(khi)
                b_lo, b_hi = list(klo), list(khi)
                a_hi[j], b_lo[j] = m, m + 1
                stack.append(_tighten(s, o, b_lo, b_hi))
                stack.append(_tighten(s, o, a_lo, a_hi))
                pos += 1
                continue
            if kind != 0:
                return False, f"node {pos}: unknown code"
            li = int(mval[pos])
            if li != seen_leaves:
                return False, f"node {pos}: leaves out of order"
            seen_leaves += 1
            claimed = float(leaf_bound[li])
            if not claimed >= lb:
                return False, f"leaf {li}: its bound {claimed} is below the claimed lower bound"
            tan = None
            if loss_name == "quadratic":
                K = int(proof["tangents"])
                tan = np.asarray(tvals[li * D * K : (li + 1) * D * K], dtype=np.float64)
                if tan.shape != (D * K,) or not np.all(np.isfinite(tan)):
                    return False, f"leaf {li}: tangent points missing"
                tan = tan.reshape(D, K)
            lp = _leaf_lp(dat, s, o, klo, khi, tan)
            y = np.zeros(lp[0].shape[0])
            a, b = int(ystart[li]), int(ystart[li + 1])
            idx = np.asarray(yidx[a:b], dtype=np.int64)
            if idx.size and (idx.min() < 0 or idx.max() >= y.size):
                return False, f"leaf {li}: dual index out of range"
            y[idx] = yval[a:b]
            if not np.all(np.isfinite(y)):
                return False, f"leaf {li}: non-finite certificate"
            val = _leaf_bound(dat, lp, y)
            worst = min(worst, val)
            if not val >= lb:
                return False, f"leaf {li}: proven bound {val!r} is below the lower bound {lb!r}"
            pos += 1
    if pos != len(code) or seen_leaves != len(leaf_bound):
        return False, "the tree has extra nodes or leaves"
    msg = f"valid: {seen_leaves} leaves, {pos} nodes, proven lower bound {min(worst, np.inf):.10g}"
    return _check_params(arch, loss_name, X, Y, B, lb, params, objective, msg)


def _check_params(arch, loss_name, X, Y, B, lb, params, objective, msg):
    """The returned network: in the box, its risk recomputed, not below the lower bound."""
    if params is not None:
        phi = np.asarray(params, dtype=np.float64).reshape(-1)
        if phi.shape != (arch.n_params,) or not np.all(np.abs(phi) <= B):
            return False, "the returned parameters are not in the box"
        val = _own_risk(arch, loss_name, X, Y, phi)
        if val < lb - 1e-9 * (1 + abs(lb)):
            return False, f"the returned network's risk {val} is below the lower bound"
        if objective is not None and abs(val - float(objective)) > 1e-9 * (1 + abs(val)):
            return False, f"the returned network's risk is {val}, not {objective}"
        msg += f"; returned network risk {val:.10g}"
    return True, msg


def _own_risk(arch, loss_name, X, Y, phi):
    """Risk of an n-w-1 ReLU net by an own forward pass over the named parameters."""
    names = list(arch.param_names)
    n, w = arch.widths[0], arch.widths[1]
    out = np.full(X.shape[0], phi[names.index("b2[1]")])
    for j in range(w):
        a = np.array([phi[names.index(f"W1[{j + 1},{i + 1}]")] for i in range(n)])
        b = phi[names.index(f"b1[{j + 1}]")]
        v = phi[names.index(f"W2[1,{j + 1}]")]
        out = out + v * np.maximum(X @ a + b, 0.0)
    y = Y[:, 0]
    if loss_name == "absolute":
        return float(np.mean(np.abs(out - y)))
    if loss_name == "quadratic":
        return float(np.mean((out - y) ** 2))
    return float(np.mean(np.maximum(1.0 - y * out, 0.0)))


# -- n >= 2 inputs: pair leaves ---------------------------------------------------------------


def _nd_min_bound(Zq, Wr, B2):
    """Rigorous lower bounds of min u.z over {||u||_inf <= B2, W u >= 0} per row z of Zq.

    u.z = mu (w.u) + (z - mu w).u >= -B2 ||z - mu w||_1 for mu >= 0 and any row w of W;
    candidates: mu = 0 and mu = max(z_i / w_i, 0) per row and coordinate.
    """
    nu = Zq.shape[1]
    grow = 1 + 4 * (nu + 2) * U
    best = np.abs(Zq).sum(axis=1) * grow
    if len(Wr):
        with np.errstate(divide="ignore", invalid="ignore"):
            mus = np.where(Wr[None, :, :] != 0.0, Zq[:, None, :] / Wr[None, :, :], 0.0)
        mus = np.maximum(np.nan_to_num(mus, nan=0.0, posinf=0.0, neginf=0.0), 0.0)
        prod = mus[:, :, :, None] * Wr[None, :, None, :]
        res = Zq[:, None, None, :] - prod
        mag = np.abs(Zq)[:, None, None, :] + np.abs(prod)
        norm = (np.abs(res) + 12 * U * mag).sum(axis=3) * grow
        best = np.minimum(best, norm.min(axis=(1, 2)))
    return -(best * B2) * (1 + 4 * U)


def _nd_mult_bound(Zq, Wm, mu, B2):
    """Rigorous lower bounds of min u.z over {||u||_inf <= B2, w.u >= 0 for the rows w of Wm}
    per z of Zq (Q, nu), Wm (Q, k, nu), mu (Q, k) >= 0: -B2 ||z - sum_i mu_i w_i||_1
    (u.z = sum_i mu_i w_i.u + (z - sum_i mu_i w_i).u, weak duality)."""
    nu = Zq.shape[1]
    k = Wm.shape[1]
    prod = mu[:, :, None] * Wm
    res = Zq - prod.sum(axis=1)
    mag = np.abs(Zq) + np.abs(prod).sum(axis=1)
    norm = (np.abs(res) + 4 * (k + 3) * U * mag).sum(axis=1) * (1 + 4 * (nu + 2) * U)
    return -(norm * B2) * (1 + 4 * U)


def _nd_copies(X):
    """(copies, leaders): every point d' whose coordinates equal those of an earlier point,
    and the first such point (found here by comparing the rows of X exactly)."""
    D = X.shape[0]
    first = {}
    cp, ld = [], []
    for d in range(D):
        key = tuple(float(v) + 0.0 for v in X[d])  # + 0.0: -0.0 and 0.0 are the same z
        e = first.setdefault(key, d)
        if e != d:
            cp.append(d)
            ld.append(e)
    return np.asarray(cp, dtype=np.int64), np.asarray(ld, dtype=np.int64)


def _nd_leaf_lp(X, ys, loss, B, w, signs, st, tan=None, hull=None, mult=None):
    """The documented leaf LP for n >= 2 inputs (see :func:`_verify_nd`); ``mult``: the
    leaf's range multipliers (pair, side, points, mu), already validated."""
    D, n = X.shape
    nu = n + 1
    B2 = float(_up(B * B))
    Z = np.hstack([X, np.ones((D, 1))])
    hull = np.zeros((0, 4), dtype=np.int64) if hull is None else hull
    zn = _up(np.abs(Z).sum(axis=1) * (1 + 4 * (nu + 2) * U))
    gmax = _up(B2 * zn * (1 + 4 * U))
    omax = _up((B + w * gmax) * (1 + 8 * U))
    P = w * D
    c_col = w * nu
    o_col = c_col + 1
    g_col = o_col + D
    e_col = g_col + P
    ncol = e_col + D
    col_lo = np.zeros(ncol)
    col_hi = np.zeros(ncol)
    col_lo[:c_col], col_hi[:c_col] = -B2, B2
    col_lo[c_col], col_hi[c_col] = -B, B
    col_lo[o_col:g_col], col_hi[o_col:g_col] = -omax, omax
    R, C, V, rlo, req = [], [], [], [], []
    for j in range(w - 1):
        if signs[j] == signs[j + 1]:
            R += [np.array([j, j])]
            C += [np.array([j * nu, (j + 1) * nu])]
            V += [np.array([1.0, -1.0])]
    rlo += [0.0] * (w - 1)
    req += [False] * (w - 1)
    row = w - 1
    d = np.arange(D)
    jr = np.repeat(np.arange(w), D)
    rr = np.tile(d, w)
    R += [row + d, row + d, row + rr]
    C += [o_col + d, np.full(D, c_col), g_col + np.arange(P)]
    V += [np.ones(D), -np.ones(D), -np.ones(P)]
    rlo += [0.0] * D
    req += [True] * D
    row += D
    # ranges of u_j.z_d for undecided pairs
    L = np.zeros((w, D))
    H = np.zeros((w, D))
    for j in range(w):
        und = np.nonzero(st[j] == 0)[0]
        if und.size == 0:
            continue
        dec = np.nonzero(st[j] != 0)[0]
        Wr = (signs[j] * st[j, dec]).astype(np.float64)[:, None] * Z[dec]
        L[j, und] = np.minimum(_nd_min_bound(Z[und], Wr, B2), 0.0)
        H[j, und] = np.maximum(-_nd_min_bound(-Z[und], Wr, B2), 0.0)
    if mult is not None and len(mult[0]):
        pair, side, pts, mu = mult
        jm, dm = np.divmod(pair, D)
        sg = np.where(side == 0, 1.0, -1.0)
        ptc = np.maximum(pts, 0)
        Wm = (np.asarray(signs, dtype=np.float64)[jm][:, None] * st[jm[:, None], ptc]
              * (pts >= 0))[:, :, None] * Z[ptc]
        b = _nd_mult_bound(sg[:, None] * Z[dm], Wm, np.where(pts >= 0, mu, 0.0), B2)
        lo = side == 0
        np.maximum.at(L, (jm[lo], dm[lo]), np.minimum(b[lo], 0.0))
        np.minimum.at(H, (jm[~lo], dm[~lo]), np.maximum(-b[~lo], 0.0))
    l, h = L.ravel(), H.ravel()
    stf = st.ravel().astype(np.int64)
    sj = np.asarray(signs, dtype=np.float64)[jr]
    zr = Z[rr]
    ga = g_col + np.arange(P)
    rA = row + 2 * np.arange(P)
    rB = rA + 1
    ucols = [nu * jr + i for i in range(nu)]
    R += [rA] * (nu + 1)
    C += [ga] + ucols
    V += [sj] + [-sj * zr[:, i] for i in range(nu)]
    und, act = stf == 0, stf > 0
    beta = np.maximum(_down(h - l), 0.0)
    lead = np.where(sj > 0, h, l)
    coefs = [lead * zr[:, i] for i in range(nu)]
    err = _up(sum(np.abs(cz) for cz in coefs) * 2 * U * B2 * (1 + 4 * (nu + 2) * U))
    gam = _down(_down(h * l) - err)
    gB = np.where(und, np.where(sj > 0, -beta, beta), np.where(act, -sj, 0.0))
    R += [rB] * (nu + 1)
    C += [ga] + ucols
    V += [gB] + [np.where(und, coefs[i], np.where(act, sj * zr[:, i], 0.0)) for i in range(nu)]
    lo_pairs = np.zeros(2 * P)
    lo_pairs[1::2] = np.where(und, gam, 0.0)
    rlo += lo_pairs.tolist()
    req += [False] * (2 * P)
    row += 2 * P
    gm = gmax[rr]
    glo = np.where(und, l, -gm)
    ghi = np.where(und, h, gm)
    col_lo[g_col:e_col] = np.where(stf < 0, 0.0, np.where(sj > 0, 0.0, glo))
    col_hi[g_col:e_col] = np.where(stf < 0, 0.0, np.where(sj > 0, ghi, 0.0))
    if loss == "absolute":
        r0 = row + 2 * d
        R += [r0, r0, r0 + 1, r0 + 1]
        C += [e_col + d, o_col + d, e_col + d, o_col + d]
        V += [np.ones(D), -np.ones(D), np.ones(D), np.ones(D)]
        lo = np.empty(2 * D)
        lo[0::2], lo[1::2] = -ys, ys
        rlo += lo.tolist()
        req += [False] * (2 * D)
        row += 2 * D
        col_hi[e_col:] = _up((omax + np.abs(ys)) * (1 + 4 * U))
    elif loss == "quadratic":
        K = tan.shape[1]
        dk = np.repeat(d, K)
        rk = row + np.arange(K * D)
        tau = tan.ravel()
        kappa = 2.0 * tau
        p1 = kappa * ys[dk]
        p2 = tau * tau
        rhs = _down(-p1 - p2 - 4 * U * (np.abs(p1) + p2))
        R += [rk, rk]
        C += [e_col + dk, o_col + dk]
        V += [np.ones(K * D), -kappa]
        rlo += rhs.tolist()
        req += [False] * (K * D)
        row += K * D
        col_hi[e_col:] = _up(((omax + np.abs(ys)) ** 2) * (1 + 8 * U))
    else:
        R += [row + d, row + d]
        C += [e_col + d, o_col + d]
        V += [np.ones(D), ys]
        rlo += [1.0] * D
        req += [False] * D
        row += D
        col_hi[e_col:] = _up((1.0 + np.abs(ys) * omax) * (1 + 4 * U))
    T = len(hull)
    if T:
        # s_j (sum_e lam_e g_(j,e) - g_(j,d)) >= -B2 ||z_d - sum_e lam_e z_e||_1 (relu sublinear)
        M = np.stack([Z[hull[:, 1]], Z[hull[:, 2]], Z[hull[:, 3]]], axis=2)
        lam = np.maximum(np.linalg.solve(M, Z[hull[:, 0]][:, :, None])[:, :, 0], 0.0)
        prods = lam[:, None, :] * M  # (T, nu, 3)
        delta = Z[hull[:, 0]] - prods.sum(axis=2)
        mag = np.abs(Z[hull[:, 0]]) + np.abs(prods).sum(axis=2)
        dn = _up((np.abs(delta) + 8 * U * mag).sum(axis=1) * (1 + 4 * (nu + 2) * U))
        slack = _up(B2 * dn * (1 + 4 * U))
        hj = np.repeat(np.arange(w), T)
        ht = np.tile(np.arange(T), w)
        sh = np.asarray(signs, dtype=np.float64)[hj]
        rh = row + np.arange(w * T)
        for q in range(4):
            R.append(rh)
            C.append(g_col + hj * D + hull[ht, q])
        V += [-sh, sh * lam[ht, 0], sh * lam[ht, 1], sh * lam[ht, 2]]
        rlo += (-slack[ht]).tolist()
        req += [False] * (w * T)
        row += w * T
    cp, ld = _nd_copies(X)
    if len(cp):
        # copies: z_d' = z_d exactly, so g_(j,d') = g_(j,d) for every net
        nc = w * len(cp)
        cj = np.repeat(np.arange(w), len(cp))
        rc = row + np.arange(nc)
        R += [rc, rc]
        C += [g_col + cj * D + np.tile(cp, w), g_col + cj * D + np.tile(ld, w)]
        V += [np.ones(nc), -np.ones(nc)]
        rlo += [0.0] * nc
        req += [True] * nc
        row += nc
    A = sp.csr_matrix((np.concatenate(V), (np.concatenate(R), np.concatenate(C))),
                      shape=(row, ncol))
    return (A, np.asarray(rlo, dtype=np.float64), np.asarray(req), col_lo, col_hi,
            dict(o_col=o_col, e_col=e_col, ncol=ncol))


class _DataND:
    def __init__(self, D):
        self.D = D


def _verify_nd(proof, loss_name, X, Y, w, B, lb):
    """Replay a pair-branching proof (n >= 2 inputs).

    Cover: with s_j = sign(v_j) and u_j = v_j (a_j, b_j), units of one sign are
    interchangeable, so every net has a permutation with signs sorted (+1 first) and u_j0
    nonincreasing within a sign group (row u_j0 - u_(j+1)0 >= 0).  A split of unit j at point
    d makes two children, first s_j u_j.z_d >= 0 (active: g = u_j.z_d), then <= 0 (inactive:
    g = 0); every (u, c) lies in one of them.  The split decides d and every exact copy of it
    (rows of X equal to x_d, found here; equal z, so the same half-space).  Leaf LP (columns u_j in R^(n+1) j-major, c,
    o_d, g_(j,d) j-major, e_d; rows: the w - 1 symmetry rows (empty across signs), D output
    equalities o_d - c - sum_j g_(j,d) = 0, two rows per pair (A: s_j (g - u_j.z_d) >= 0;
    B: undecided: the ReLU triangle over [l, h] as for n = 1, active: -s_j (g - u_j.z_d) >= 0,
    inactive: empty), the loss rows as for n = 1, then per unit j (outer) and listed triple
    (d; e1, e2, e3) of ``proof["hull"]`` (inner) the sublinearity row
    s_j (sum_e lam_e g_(j,e) - g_(j,d)) >= -B^2 ||z_d - sum_e lam_e z_e||_1 with lam >= 0 the
    barycentric weights computed here (clipped at 0): relu(u.z_d) <= sum_e lam_e relu(u.z_e)
    + |u.(z_d - sum_e lam_e z_e)| for any u and lam >= 0), then per unit j (outer) and copy d'
    (inner, ascending: a point equal to an earlier one, d its first occurrence) the equality
    g_(j,d') - g_(j,d) = 0.  g in [0, h] / [l, 0] (undecided, s = +1 /
    -1), [0, gmax] / [-gmax, 0] (active), {0} (inactive); [l, h] bound u_j.z_d on
    {||u_j||_inf <= B^2, the unit's decided rows}, derived here by weak duality: the best
    single decided row (found here), improved by the leaf's listed multipliers where they give
    more (``range_*``: per undecided pair and side, up to n + 1 decided rows w_i of the unit
    with mu_i >= 0; min u.z >= -B^2 ||z - sum_i mu_i w_i||_1, evaluated with a rounding
    margin; multipliers on undecided rows, negative or not finite are refused).
    """
    D = X.shape[0]
    if int(proof["D"]) != D or int(proof["width"]) != w or float(proof["box"]) != B:
        return False, "data size, width or box does not match the proof"
    ys = Y[:, 0]
    own = set(tuple([1] * p + [-1] * (w - p)) for p in range(w + 1))
    roots = [tuple(int(v) for v in s) for s in proof["roots_signs"]]
    if len(roots) != len(set(roots)) or set(roots) != own:
        return False, "the root sign vectors are not the complete sorted set"
    code, unit, point = proof["code"], proof["unit"], proof["point"]
    leaf_bound, yidx, yval, ystart = (proof["leaf_bound"], proof["y_index"], proof["y_value"],
                                      proof["y_start"])
    tvals = proof.get("t")
    hull = np.asarray(proof.get("hull", np.zeros((0, 4))), dtype=np.int64).reshape(-1, 4)
    if hull.size and (hull.min() < 0 or hull.max() >= D):
        return False, "hull rows name points that do not exist"
    Z = np.hstack([X, np.ones((D, 1))])
    if len(hull):
        M = np.stack([Z[hull[:, 1]], Z[hull[:, 2]], Z[hull[:, 3]]], axis=2)
        if X.shape[1] != 2 or not np.all(np.abs(np.linalg.det(M)) > 1e-12):
            return False, "hull rows need three affinely independent points in the plane"
        if np.any(hull[:, 0:1] == hull[:, 1:]) or np.any(hull[:, 1] == hull[:, 2]) or \
                np.any(hull[:, 1] == hull[:, 3]) or np.any(hull[:, 2] == hull[:, 3]):
            return False, "hull rows repeat a point"
    cp, ld = _nd_copies(X)
    leader = np.arange(D)
    leader[cp] = ld
    dat = _DataND(D)
    pos = 0
    seen = 0
    worst = np.inf
    for s in roots:
        stack = [np.zeros((w, D), dtype=np.int8)]
        while stack:
            st = stack.pop()
            if pos >= len(code):
                return False, "the tree ends early: a node is missing"
            kind = int(code[pos])
            if kind == 1:
                j, d = int(unit[pos]), int(point[pos])
                if not (0 <= j < w and 0 <= d < D):
                    return False, f"node {pos}: invalid split"
                grp = leader == leader[d]  # the point and its exact copies
                if np.any(st[j, grp] != 0):
                    return False, f"node {pos}: invalid split"
                a, b = st.copy(), st.copy()
                a[j, grp], b[j, grp] = 1, -1
                stack += [b, a]
                pos += 1
                continue
            if kind != 0:
                return False, f"node {pos}: unknown code"
            li = int(point[pos])
            if li != seen:
                return False, f"node {pos}: leaves out of order"
            seen += 1
            if not float(leaf_bound[li]) >= lb:
                return False, f"leaf {li}: its bound is below the claimed lower bound"
            tan = None
            if loss_name == "quadratic":
                K = int(proof["tangents"])
                tan = np.asarray(tvals[li * D * K : (li + 1) * D * K], dtype=np.float64)
                if tan.shape != (D * K,) or not np.all(np.isfinite(tan)):
                    return False, f"leaf {li}: tangent points missing"
                tan = tan.reshape(D, K)
            mult = None
            if "range_start" in proof:
                rs = proof["range_start"]
                if len(rs) != len(leaf_bound) + 1:
                    return False, "range multipliers: block offsets do not match the leaves"
                a, b = int(rs[li]), int(rs[li + 1])
                if not 0 <= a <= b <= len(proof["range_pair"]):
                    return False, f"leaf {li}: range multipliers out of range"
                pair = np.asarray(proof["range_pair"][a:b], dtype=np.int64)
                side = np.asarray(proof["range_side"][a:b], dtype=np.int64)
                nu = X.shape[1] + 1
                pts = np.asarray(proof["range_point"][a:b], dtype=np.int64)
                mu = np.asarray(proof["range_mu"][a:b], dtype=np.float64)
                if pts.shape != (b - a, nu) or mu.shape != (b - a, nu) or \
                        len(proof["range_side"]) != len(proof["range_pair"]):
                    return False, f"leaf {li}: range multipliers malformed"
                if pair.size and (pair.min() < 0 or pair.max() >= w * D or
                                  not np.all((side == 0) | (side == 1))):
                    return False, f"leaf {li}: range multipliers name pairs that do not exist"
                if pts.size and (pts.min() < -1 or pts.max() >= D):
                    return False, f"leaf {li}: range multipliers name points that do not exist"
                jm, dm = np.divmod(pair, D)
                if np.any(st[jm, dm] != 0):
                    return False, f"leaf {li}: range multipliers for a decided pair"
                used = pts >= 0
                if np.any(used & (st[jm[:, None], np.maximum(pts, 0)] == 0)):
                    return False, f"leaf {li}: range multipliers use an undecided row"
                if not (np.all(np.isfinite(mu)) and np.all(mu >= 0)):
                    return False, f"leaf {li}: range multipliers must be finite and >= 0"
                mult = (pair, side, pts, mu)
            lp = _nd_leaf_lp(X, ys, loss_name, B, w, s, st, tan, hull, mult)
            y = np.zeros(lp[0].shape[0])
            a, b = int(ystart[li]), int(ystart[li + 1])
            idx = np.asarray(yidx[a:b], dtype=np.int64)
            if idx.size and (idx.min() < 0 or idx.max() >= y.size):
                return False, f"leaf {li}: dual index out of range"
            y[idx] = yval[a:b]
            if not np.all(np.isfinite(y)):
                return False, f"leaf {li}: non-finite certificate"
            val = _leaf_bound(dat, lp, y)
            worst = min(worst, val)
            if not val >= lb:
                return False, f"leaf {li}: proven bound {val!r} is below the lower bound {lb!r}"
            pos += 1
    if pos != len(code) or seen != len(leaf_bound):
        return False, "the tree has extra nodes or leaves"
    return True, f"valid: {seen} leaves, {pos} nodes, proven lower bound {worst:.10g}"
