"""Replaying a spatial branch-and-bound proof, apart from the search (docs/design.md §10, rigor).

Shares no code with :mod:`lptrain.continuous.spatial`'s bounding.  It checks that

1. the splits form a tree over the root box [-B, B]^N: split k cuts a box that exists and was
   not cut before, strictly inside its range, into ids 2k+1 (lower) and 2k+2 (upper); the
   leaves listed are exactly the boxes never cut, so they partition the root box;
2. on every leaf, its own interval evaluation of the network and the loss, with every
   floating-point operation rounded outward (``np.nextafter`` after each +, -, *, and a
   margin of ``ULPS`` units in the last place after exp, log1p, expm1 and tanh), gives a lower
   bound no smaller than the result's ``lower_bound`` and than the bound the leaf claims;
3. the returned parameters lie in the box and their risk, recomputed by its own forward pass,
   is the reported objective (relative 1e-9).
"""

from __future__ import annotations

import numpy as np

from ..activations import LEAKY_SLOPE

ULPS = 4
LEAF_CHUNK = 4096
OBJ_TOL = 1e-9
CLAIM_TOL = 1e-7


def _dn(a):
    return np.nextafter(a, -np.inf)


def _up(a):
    return np.nextafter(a, np.inf)


def _widen(lo, hi):
    """A margin of ULPS units in the last place for library transcendental functions."""
    e = ULPS * np.finfo(np.float64).eps
    t = np.finfo(np.float64).tiny
    return lo - e * np.abs(lo) - t, hi + e * np.abs(hi) + t


def _act(name, lo, hi):
    """Image of [lo, hi] under a nondecreasing activation, enclosed outward."""
    if name == "identity":
        return lo, hi
    if name == "relu":
        return np.maximum(lo, 0.0), np.maximum(hi, 0.0)
    if name == "leaky_relu":
        s = LEAKY_SLOPE
        return (np.where(lo >= 0, lo, _dn(s * lo)), np.where(hi >= 0, hi, _up(s * hi)))
    if name == "elu":
        a, _ = _widen(np.expm1(np.minimum(lo, 0.0)), 0.0)
        _, b = _widen(0.0, np.expm1(np.minimum(hi, 0.0)))
        return (np.where(lo > 0, lo, np.maximum(a, -1.0)), np.where(hi > 0, hi, np.minimum(b, 0.0)))
    if name == "tanh":
        a, _ = _widen(np.tanh(lo), 0.0)
        _, b = _widen(0.0, np.tanh(hi))
        return np.maximum(a, -1.0), np.minimum(b, 1.0)
    raise ValueError(f"no rigorous enclosure for activation {name!r}")


def _mul(al, ah, bl, bh):
    """Outward-rounded interval product."""
    p = (al * bl, al * bh, ah * bl, ah * bh)
    lo = np.minimum(np.minimum(p[0], p[1]), np.minimum(p[2], p[3]))
    hi = np.maximum(np.maximum(p[0], p[1]), np.maximum(p[2], p[3]))
    return _dn(lo), _up(hi)


def _enclose_outputs(spec, X, lo, hi, keep=None):
    """Outward enclosures of every output for every leaf and point: (L, P, m) twice.

    ``keep`` receives every node's (pre low, pre high, post low, post high)."""
    inputs, nodes, outputs = spec
    L, P = lo.shape[0], X.shape[0]
    val = {}
    for i, name in enumerate(inputs):
        x = X[None, :, i]
        val[name] = (x, x)
    for name, srcs, wids, bid, act in nodes:
        if bid is None:
            sl = np.zeros((L, P))
            sh = np.zeros((L, P))
        else:
            sl = np.broadcast_to(lo[:, bid, None], (L, P)).copy()
            sh = np.broadcast_to(hi[:, bid, None], (L, P)).copy()
        for s, w in zip(srcs, wids):
            pl, ph = _mul(lo[:, w, None], hi[:, w, None], *val[s])
            sl = _dn(sl + pl)
            sh = _up(sh + ph)
        pre = (sl, sh)
        if act is not None:
            sl, sh = _act(act, sl, sh)
        val[name] = (sl, sh)
        if keep is not None:
            keep[name] = (pre[0], pre[1], sl, sh)
    return (np.stack([val[o][0] for o in outputs], -1), np.stack([val[o][1] for o in outputs], -1))


def _loss_floor(loss, zl, zh, Y):
    """Outward lower bound of the loss over the output box, per leaf and point: (L, P)."""
    y = Y[None]
    if loss in ("absolute", "quadratic"):
        d = np.maximum(np.maximum(_dn(zl - y), _dn(y - zh)), 0.0)
        if loss == "quadratic":
            d = _dn(d * d)
        tot = d[..., 0]
        for i in range(1, d.shape[-1]):
            tot = _dn(tot + d[..., i])
        return tot
    if loss == "hinge":
        best = np.maximum(_up(zl * y), _up(zh * y))
        tot = best[..., 0]
        for i in range(1, best.shape[-1]):
            tot = _up(tot + best[..., i])
        return np.maximum(_dn(1.0 - tot), 0.0)
    if loss == "cross_entropy":
        m = zl.shape[-1]
        tot = np.zeros(zl.shape[:-1])
        for i in range(m):
            sl = np.zeros(zl.shape[:-1])
            sh = np.zeros(zl.shape[:-1])
            for j in range(m):
                if j == i:
                    continue
                el, _ = _widen(np.exp(_dn(zl[..., j] - zh[..., i])), 0.0)
                _, eh = _widen(0.0, np.exp(_up(zh[..., j] - zl[..., i])))
                sl = _dn(sl + np.maximum(el, 0.0))
                sh = _up(sh + eh)
            gl, _ = _widen(np.log1p(sl), 0.0)
            _, gh = _widen(0.0, np.log1p(sh))
            gl = np.maximum(gl, 0.0)
            yi = y[..., i]
            term = np.where(yi >= 0, _dn(yi * gl), _dn(yi * gh))
            tot = _dn(tot + term)
        return tot
    raise ValueError(f"unknown loss {loss!r}")


def _mean_floor(v):
    """Rounded-down mean over the last axis."""
    tot = v[..., 0].copy()
    for i in range(1, v.shape[-1]):
        tot = _dn(tot + v[..., i])
    return _dn(tot / v.shape[-1])


def _reg_floor(reg, lam, lo, hi):
    if reg is None or not lam:
        return np.zeros(lo.shape[0])
    d = np.maximum(np.maximum(-hi, lo), 0.0)
    if reg == "l2":
        d = _dn(d * d)
    tot = d[:, 0].copy()
    for i in range(1, d.shape[1]):
        tot = _dn(tot + d[:, i])
    return _dn(lam * tot)


def _spec(arch):
    nodes = [(nd.name, nd.sources, nd.weights, nd.bias, nd.activation) for nd in arch.nodes]
    return arch.input_names, nodes, arch.outputs


def leaf_boxes(proof, N):
    """Rebuild the leaves from the splits; raises ValueError when the tree is malformed."""
    B = float(proof["box"])
    if not (np.isfinite(B) and B > 0):
        raise ValueError("box is not a positive number")
    parent = np.asarray(proof["split_parent"], dtype=np.int64).ravel()
    dim = np.asarray(proof["split_dim"], dtype=np.int64).ravel()
    value = np.asarray(proof["split_value"], dtype=np.float64).ravel()
    leaf_id = np.asarray(proof["leaf_id"], dtype=np.int64).ravel()
    if not (len(parent) == len(dim) == len(value)):
        raise ValueError("split arrays differ in length")
    M = len(parent)
    total = 2 * M + 1
    lo = np.empty((total, N))
    hi = np.empty((total, N))
    lo[0], hi[0] = -B, B
    cut = np.zeros(total, dtype=bool)
    born = np.zeros(total, dtype=bool)
    born[0] = True
    for k in range(M):
        p, d, v = int(parent[k]), int(dim[k]), float(value[k])
        if not (0 <= p < total and born[p]) or cut[p]:
            raise ValueError(f"split {k} cuts box {p}, which does not exist or was cut before")
        if not (0 <= d < N):
            raise ValueError(f"split {k} names dimension {d} of {N}")
        if not (lo[p, d] < v < hi[p, d]):
            raise ValueError(f"split {k} at {v!r} is not inside box {p}'s range along {d}")
        cut[p] = True
        a, b = 2 * k + 1, 2 * k + 2
        lo[a], hi[a] = lo[p], hi[p]
        lo[b], hi[b] = lo[p], hi[p]
        hi[a, d] = v
        lo[b, d] = v
        born[a] = born[b] = True
    expected = np.flatnonzero(~cut)
    if len(leaf_id) != len(expected) or not np.array_equal(np.sort(leaf_id), expected):
        raise ValueError("the leaves listed are not exactly the boxes never cut (they do not cover the box)")
    return lo[leaf_id], hi[leaf_id]


def risk(arch, loss, X, Y, params, reg=None, lam=0.0):
    """The risk of one parameter vector, by this module's own forward pass."""
    p = np.asarray(params, dtype=np.float64)
    val = {name: X[:, i] for i, name in enumerate(arch.input_names)}
    acts = {
        "relu": lambda t: np.maximum(t, 0.0),
        "leaky_relu": lambda t: np.where(t >= 0, t, LEAKY_SLOPE * t),
        "elu": lambda t: np.where(t > 0, t, np.expm1(np.minimum(t, 0.0))),
        "tanh": np.tanh,
        "identity": lambda t: t,
    }
    for nd in arch.nodes:
        s = np.full(len(X), p[nd.bias]) if nd.bias is not None else np.zeros(len(X))
        for src, w in zip(nd.sources, nd.weights):
            s = s + p[w] * val[src]
        val[nd.name] = acts[nd.activation](s) if nd.activation else s
    z = np.stack([val[o] for o in arch.outputs], -1)
    if loss == "absolute":
        per = np.abs(z - Y).sum(-1)
    elif loss == "quadratic":
        per = ((z - Y) ** 2).sum(-1)
    elif loss == "hinge":
        per = np.maximum(1.0 - (z * Y).sum(-1), 0.0)
    else:
        mx = z.max(-1, keepdims=True)
        lse = np.log(np.exp(z - mx).sum(-1, keepdims=True)) + mx
        per = -(Y * (z - lse)).sum(-1)
    r = float(per.mean())
    if reg == "l1":
        r += lam * float(np.abs(p).sum())
    elif reg == "l2":
        r += lam * float((p * p).sum())
    return r


def verify(proof, arch, loss, X, Y, *, box, reg, lam, lower_bound, params=None, objective=None):
    """Replay a spatial proof. Returns ``(valid, reason, replayed_lower_bound)``."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    N = arch.n_params
    if np.isnan(lower_bound) or (objective is not None and not np.isfinite(objective)):
        return False, "objective or lower bound is not a number", None
    try:
        if proof.get("format") != "lptrain-spatial-proof":
            return False, "not a spatial proof", None
        if abs(float(proof["box"]) - float(box)) > 0:
            return False, f"proof is for box {proof['box']}, not {box}", None
        lo, hi = leaf_boxes(proof, N)
        claimed = np.asarray(proof["leaf_bound"], dtype=np.float64).ravel()
        if len(claimed) != len(lo):
            return False, "leaf bounds and leaves differ in number", None
        kind = np.asarray(proof.get("leaf_kind", np.zeros(len(lo))), dtype=np.int64).ravel()
        if len(kind) != len(lo) or not np.all((kind == 0) | (kind == 1)):
            return False, "leaf kinds are malformed", None
        mult = np.asarray(proof.get("leaf_multipliers", np.zeros((0, 0))), dtype=np.float64)
        if mult.ndim != 2 or mult.shape[0] != int(kind.sum()):
            return False, "one multiplier vector per relaxation leaf is needed", None
        mrow = np.full(len(lo), -1, dtype=np.int64)
        mrow[kind == 1] = np.arange(int(kind.sum()))
    except (KeyError, TypeError, ValueError) as e:
        return False, f"malformed proof: {e}", None
    spec = _spec(arch)
    nonneg = loss in ("absolute", "quadratic", "hinge") or (loss == "cross_entropy" and np.all(Y >= 0))
    least = np.inf
    per = max(1, min(LEAF_CHUNK, 4_000_000 // max(1, len(X) * (len(arch.nodes) + 2))))
    for a in range(0, len(lo), per):
        b = min(len(lo), a + per)
        zl, zh = _enclose_outputs(spec, X, lo[a:b], hi[a:b])
        lbs = _mean_floor(_loss_floor(loss, zl, zh, Y))
        rf = _reg_floor(reg, lam, lo[a:b], hi[a:b])
        lbs = _dn(lbs + rf)
        sel = np.flatnonzero(kind[a:b] == 1)
        if len(sel):
            try:
                lag = lagrangian_floor(arch, loss, X, Y, reg, lam, lo[a:b][sel], hi[a:b][sel],
                                       mult[mrow[a:b][sel]])
            except ValueError as e:
                return False, f"relaxation leaf: {e}", None
            lbs[sel] = np.maximum(lbs[sel], lag)
        if nonneg:
            lbs = np.maximum(lbs, 0.0)
        nan = np.flatnonzero(np.isnan(lbs))
        if len(nan):
            return False, (f"leaf {a + int(nan[0])}: its replayed bound is not a number (the interval "
                           "evaluation overflowed: 0 times infinity)"), None
        bad = np.flatnonzero(lbs < lower_bound)
        if len(bad):
            k = a + int(bad[0])
            return False, (f"leaf {k}: replayed bound {lbs[bad[0]]:.17g} is below the claimed "
                           f"lower bound {lower_bound:.17g}"), float(np.min(lbs))
        over = np.flatnonzero(lbs < claimed[a:b] - CLAIM_TOL * (1.0 + np.abs(claimed[a:b])))
        if len(over):
            k = a + int(over[0])
            return False, (f"leaf {k} claims {claimed[k]:.17g}, its replayed bound is "
                           f"{lbs[over[0]]:.17g}"), None
        least = min(least, float(np.min(lbs)))
    if params is not None:
        p = np.asarray(params, dtype=np.float64)
        if p.shape != (N,) or not np.all(np.isfinite(p)):
            return False, "params have the wrong shape or are not finite", least
        if np.any(np.abs(p) > box):
            return False, "the returned parameters leave the box", least
        if objective is not None:
            r = risk(arch, loss, X, Y, p, reg, lam)
            if abs(r - objective) > OBJ_TOL * (1.0 + abs(r)):
                return False, f"objective {objective!r} but the parameters' risk is {r!r}", least
            if least > r + OBJ_TOL * (1.0 + abs(r)):
                return False, "lower bound above the returned network's risk", least
    return True, "", least


# -- leaves bounded by the relaxation: the Lagrangian of the stored multipliers ----------
#
# Layout (per point d, its rows and variables follow the N parameters and the earlier
# points' blocks; R rows and V variables per point).  Node by node in topological order:
#   variables  t(v, u) for each non-input source u (source order), p(v), s(v) if v has an
#              activation; then e(o) per output (absolute) or h (hinge);
#   rows       EQ(v): p - sum_inputs x w - sum t - b = 0;
#              for each non-input source u, with w in [wl, wh], u's value in [sl, sh]:
#                t - wl s - sl w >= -wl sl;   t - wh s - sh w >= -wh sh;
#                -t + wh s + sl w >= wh sl;  -t + wl s + sh w >= wl sh;
#              the activation rows  a_s s + a_p p >= b  over [pl, ph] (relu/leaky: s >= p,
#              s >= slope p, chord above; elu: tangents at pl, mid, ph, chord above; tanh:
#              convex side tangents + chord above, concave side tangents above + chord below,
#              across 0 the slope-1 lines through the end points, twice; identity: s = p);
#              then absolute: e - p_o >= -y_o, e + p_o >= y_o per output; hinge: h + y.p >= 1.
# Objective: absolute sum e / D, hinge sum h / D, quadratic sum (p_o - y_o)^2 / D; plus the
# regularizer on phi.  For any multipliers (>= 0 on the inequality rows) the minimum of the
# Lagrangian over the variable boxes is a lower bound; here the rows are rebuilt from this
# module's outward enclosures, activation rows loosened by a margin covering the library's
# transcendental functions, and the whole evaluation's rounding bounded a priori.

EPS = np.finfo(np.float64).eps
ROW_SLACK = 64 * EPS
REGIME_TOL = 1e-12


def _act_funcs(name):
    if name in ("relu", "leaky_relu"):
        a = 0.0 if name == "relu" else LEAKY_SLOPE
        return (lambda t: np.where(t >= 0, t, a * t)), (lambda t: np.where(t > 0, 1.0, a))
    if name == "elu":
        return (lambda t: np.where(t > 0, t, np.expm1(np.minimum(t, 0.0))),
                lambda t: np.where(t > 0, 1.0, np.exp(np.minimum(t, 0.0))))
    if name == "tanh":
        return np.tanh, (lambda t: 1.0 - np.tanh(t) ** 2)
    return (lambda t: t), (lambda t: np.ones_like(t))


def _envelope(name, pl, ph):
    """This module's own activation rows: list of (a_s, a_p, b) arrays."""
    f, df = _act_funcs(name)
    one = np.ones_like(pl)
    zero = np.zeros_like(pl)
    if name == "identity":
        return [(one, -one, zero), (-one, one, zero)]
    fl, fh = f(pl), f(ph)
    w = ph - pl
    k = np.where(w > 0, (fh - fl) / np.where(w > 0, w, 1.0), 0.0)
    above = (-one, k, k * pl - fl)
    below = (one, -k, fl - k * pl)
    if name in ("relu", "leaky_relu"):
        slope = 0.0 if name == "relu" else LEAKY_SLOPE
        return [(one, -one, zero), (one, -slope * one, zero), above]
    pts = (pl, 0.5 * (pl + ph), ph)
    tan_lo = [(one, -df(t), f(t) - df(t) * t) for t in pts]
    tan_hi = [(-one, df(t), df(t) * t - f(t)) for t in pts]
    if name == "elu":
        return tan_lo + [above]
    # a side is taken as convex (concave) when the range overshoots 0 by at most REGIME_TOL;
    # the overshoot costs at most 2 * overshoot per row (f and every row are 1-Lipschitz there)
    # and is added to the rows' slack by the caller (:func:`_regime_slack`)
    cv, cc = ph <= REGIME_TOL, pl >= -REGIME_TOL
    l1 = (one, -one, fh - ph)
    u1 = (-one, one, pl - fl)
    cross = [l1, u1, l1, u1]
    out = []
    for i in range(3):
        out.append(tuple(np.where(cv, tan_lo[i][j], np.where(cc, tan_hi[i][j], cross[i][j])) for j in range(3)))
    out.append(tuple(np.where(cv, above[j], np.where(cc, below[j], u1[j])) for j in range(3)))
    return out


def _regime_slack(name, pl, ph):
    if name != "tanh":
        return 0.0
    cv, cc = ph <= REGIME_TOL, pl >= -REGIME_TOL
    return 2.0 * np.where(cv, np.maximum(ph, 0.0), np.where(cc, np.maximum(-pl, 0.0), 0.0))


def _min_separable(g, q, l1, lo, hi):
    """A lower bound of min over [lo, hi] of g x + q x^2 + l1 |x| (elementwise)."""
    best = np.minimum(g * lo + q * lo * lo + l1 * np.abs(lo), g * hi + q * hi * hi + l1 * np.abs(hi))
    zero_in = (lo <= 0) & (hi >= 0)
    best = np.where(zero_in, np.minimum(best, 0.0), best)
    with np.errstate(divide="ignore", invalid="ignore"):
        for sign, a, b in ((1.0, np.maximum(lo, 0.0), hi), (-1.0, lo, np.minimum(hi, 0.0))):
            gg = g + sign * l1
            vert = -gg / (2.0 * q)
            tau = 1e-9 * (1.0 + np.abs(a) + np.abs(b))
            inside = (q > 0) & (a <= b) & (vert >= a - tau) & (vert <= b + tau)
            best = np.where(inside, np.minimum(best, -gg * gg / (4.0 * q)), best)
    return best


def lagrangian_floor(arch, loss, X, Y, reg, lam, lo, hi, mult):
    """Rigorous lower bounds of the risk on leaves (L, N) from stored multipliers (L, D*R)."""
    if loss not in ("absolute", "quadratic", "hinge"):
        raise ValueError(f"the relaxation covers the absolute, quadratic and hinge losses, not {loss!r}")
    spec = _spec(arch)
    inputs = {nm: i for i, nm in enumerate(arch.input_names)}
    L, N = lo.shape
    D = len(X)
    enc = {}
    _enclose_outputs(spec, X, lo, hi, keep=enc)
    # rows per point, in the layout's order
    rows_per = 0
    for nd in arch.nodes:
        rows_per += 1 + 4 * sum(u not in inputs for u in nd.sources)
        if nd.activation:
            rows_per += {"relu": 3, "leaky_relu": 3, "elu": 4, "tanh": 4, "identity": 2}[nd.activation]
    rows_per += 2 * arch.n_outputs if loss == "absolute" else (1 if loss == "hinge" else 0)
    mult = np.asarray(mult, dtype=np.float64)
    if mult.shape != (L, D * rows_per) or not np.all(np.isfinite(mult)):
        raise ValueError(f"multipliers have shape {mult.shape}, the relaxation has {D * rows_per} rows")
    Ym = mult.reshape(L, D, rows_per)
    g_phi = np.zeros((L, N))
    s_phi = np.zeros((L, N))
    loc = {}  # variable -> [g, s, lo, hi, q]

    def var(key, vlo, vhi):
        loc[key] = [np.zeros((L, D)), np.zeros((L, D)), vlo, vhi, np.zeros((L, D))]

    const = np.zeros(L)
    mag = np.zeros(L)
    terms = 0
    r = 0

    def row(y, entries, b, geq=True, slack=None):
        """Subtract y * (a x - b) from the Lagrangian; entries: (('phi', k) | key, coef (L, D))."""
        nonlocal r, terms, const, mag
        if geq:
            y = np.maximum(y, 0.0)
        for key, coef in entries:
            c = np.broadcast_to(coef, (L, D))
            if key[0] == "phi":
                k = key[1]
                g_phi[:, k] -= (y * c).sum(1)
                s_phi[:, k] += np.abs(y * c).sum(1)
            else:
                loc[key][0] -= y * c
                loc[key][1] += np.abs(y * c)
        bb = np.broadcast_to(b, (L, D))
        if slack is not None:
            bb = bb - slack
        const += (y * bb).sum(1)
        mag += np.abs(y * bb).sum(1)
        terms += len(entries) + 2
        r += 1

    for name, srcs, wids, bid, act in spec[1]:
        pl, ph, sl, sh = enc[name]
        var(("p", name), pl, ph)
        if act:
            var(("s", name), sl, sh)
        y_eq = Ym[:, :, r]
        ent = [(("p", name), 1.0)]
        for u, w in zip(srcs, wids):
            if u in inputs:
                ent.append((("phi", w), -X[None, :, inputs[u]]))
            else:
                var(("t", name, u), *_mul(lo[:, w, None], hi[:, w, None], enc[u][2], enc[u][3]))
                ent.append((("t", name, u), -1.0))
        if bid is not None:
            ent.append((("phi", bid), -1.0))
        row(y_eq, ent, 0.0, geq=False)
        for u, w in zip(srcs, wids):
            if u in inputs:
                continue
            ul, uh = enc[u][2], enc[u][3]
            ukey = ("s", u) if arch.nodes[arch.node_index[u]].activation else ("p", u)
            wl, wh = lo[:, w, None], hi[:, w, None]
            t = ("t", name, u)
            for a_t, a_s, a_w, b in ((1.0, -wl, -ul, -wl * ul), (1.0, -wh, -uh, -wh * uh),
                                     (-1.0, wh, ul, wh * ul), (-1.0, wl, uh, wl * uh)):
                row(Ym[:, :, r], [(t, a_t), (ukey, a_s), (("phi", w), a_w)], b)
        if act:
            Mp = np.maximum(np.abs(pl), np.abs(ph))
            Ms = np.maximum(np.abs(sl), np.abs(sh))
            for a_s, a_p, b in _envelope(act, pl, ph):
                slack = ROW_SLACK * (1.0 + np.abs(b) + np.abs(a_p) * Mp + Ms) + _regime_slack(act, pl, ph)
                row(Ym[:, :, r], [(("s", name), a_s), (("p", name), a_p)], b, slack=slack)
    cost = {}
    if loss == "absolute":
        for k, o in enumerate(arch.outputs):
            pl, ph = enc[o][0], enc[o][1]
            yk = Y[None, :, k]
            var(("e", o), np.zeros((L, D)), np.maximum(np.abs(_dn(pl - yk)), np.abs(_up(ph - yk))) * (1 + 4 * EPS))
            cost[("e", o)] = 1.0 / D
            row(Ym[:, :, r], [(("e", o), 1.0), (("p", o), -1.0)], -yk)
            row(Ym[:, :, r], [(("e", o), 1.0), (("p", o), 1.0)], yk)
    elif loss == "hinge":
        worst = np.zeros((L, D))
        ent = [(("h",), 1.0)]
        for k, o in enumerate(arch.outputs):
            pl, ph = enc[o][0], enc[o][1]
            yk = Y[None, :, k]
            worst = worst + np.minimum(yk * pl, yk * ph)
            ent.append((("p", o), yk))
        var(("h",), np.zeros((L, D)), np.maximum(0.0, 1.0 - worst) * (1 + 4 * EPS) + 4 * EPS)
        cost[("h",)] = 1.0 / D
        row(Ym[:, :, r], ent, 1.0)
    else:
        for k, o in enumerate(arch.outputs):
            yk = Y[None, :, k]
            loc[("p", o)][4] = loc[("p", o)][4] + 1.0 / D
            loc[("p", o)][0] = loc[("p", o)][0] - 2.0 * yk / D
            loc[("p", o)][1] = loc[("p", o)][1] + np.abs(2.0 * yk / D)
            const += (yk * yk).sum(1) / D
            mag += (yk * yk).sum(1) / D
    if r != rows_per:
        raise ValueError(f"internal layout mismatch ({r} rows, expected {rows_per})")
    total = const.copy()
    for key, (g, sabs, vlo, vhi, q) in loc.items():
        g = g + cost.get(key, 0.0)
        mn = _min_separable(g, q, 0.0, vlo, vhi)
        M = np.maximum(np.abs(vlo), np.abs(vhi))
        total += mn.sum(1)
        mag += (np.abs(mn) + (sabs + abs(cost.get(key, 0.0))) * M + q * M * M).sum(1)
    ql = lam if reg == "l2" else 0.0
    l1 = lam if reg == "l1" else 0.0
    mn = _min_separable(g_phi, ql, l1, lo, hi)
    M = np.maximum(np.abs(lo), np.abs(hi))
    total += mn.sum(1)
    mag += (np.abs(mn) + s_phi * M + (ql + l1) * (M * M + M)).sum(1)
    K = terms * D + (len(loc) + 4) * D + 4 * N + 16
    err = (K + 16) * EPS * mag + 1e-300
    return total - err


def verify_lp_leaves(arch, loss, X, Y, reg, lam, lo, hi, mult):
    return lagrangian_floor(arch, loss, X, Y, reg, lam, lo, hi, mult)
