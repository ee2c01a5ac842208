"""The checker's compiled kernels (numba): exhaustive scans and the proof replay's bounds.

Written apart from the solvers' kernels (``solvers/_fused_kernels.py``, ``_bnb_kernels.py``);
see ``verify.py`` and ``replay.py`` for what they compute and why it is enough.
Module-level functions so that numba's on-disk cache (``cache=True``) keeps them.

Each scan is one plain compiled function over a chunk of the work, releasing the GIL
(``nogil``), run on chunks by a pool of ``numba.get_num_threads()`` Python threads.  Not
``parallel=True``: numba's parfor passes cost compile time in proportion to the ``prange``
body (and recompile what it calls), so the first run after install (empty cache) spent
~12 s compiling the checker, several times a small solve; the plain functions compile in
a fraction of that (the units' scan in two kernels, so that a run compiles only the one its
loss needs).  The price: the units' scan runs ~1.2-1.5x slower per tuple than it did as a
parfor body (the replay's kernels and the DAG scan run as fast); on the benchmark cases
that is hundredths to a tenth of a second.  Arguments are passed with fixed types (int64, float64,
C-contiguous arrays) so that each function is compiled once; work arrays are allocated by
the caller, as each numpy allocation inside a kernel is one more function to compile.
"""

import math
from concurrent.futures import ThreadPoolExecutor

import numba as nb
import numpy as np


def _threads():
    return max(1, int(nb.get_num_threads()))


def _on_chunks(fn, nchunks, args, scratch):
    """[fn(ch, nchunks, *args, *scratch()) for ch in range(nchunks)] on the pool's threads;
    ``scratch()`` makes one chunk's work arrays.  Few chunks (default 8 per thread; the pool
    balances them): each costs a call from Python (~0.1 ms)."""
    nchunks = 8 * _threads() if nchunks is None else int(nchunks)

    def one(ch):
        return fn(ch, nchunks, *args, *scratch())

    t = min(_threads(), nchunks)
    if t <= 1:
        return [one(ch) for ch in range(nchunks)]
    with ThreadPoolExecutor(t) as ex:
        return list(ex.map(one, range(nchunks)))


@nb.njit(cache=True)
def _act(code, t, slope):
    if code == 1:
        return t if t > 0.0 else 0.0
    if code == 2:
        return slope * t if t < 0.0 else t
    if code == 3:
        return t if t > 0.0 else math.expm1(t)
    if code == 4:
        return math.tanh(t)
    return t


@nb.njit(cache=True)
def _loss_row(code, z, Y, p, m):
    if code == 0:
        s = 0.0
        for k in range(m):
            s += abs(Y[p, k] - z[k])
        return s
    if code == 1:
        s = 0.0
        for k in range(m):
            s += (Y[p, k] - z[k]) ** 2
        return s
    if code == 2:
        s = 0.0
        for k in range(m):
            s += Y[p, k] * z[k]
        return max(0.0, 1.0 - s)
    top = z[0]
    for k in range(1, m):
        top = max(top, z[k])
    e = 0.0
    sy = 0.0
    yz = 0.0
    for k in range(m):
        e += math.exp(z[k] - top)
        sy += Y[p, k]
        yz += Y[p, k] * z[k]
    return sy * (top + math.log(e)) - yz


@nb.njit(cache=True, nogil=True)
def _all_chunk(ch, nchunks, total, N, G, gv, X, Y, cnt, start, src, par, bias, act, out, loss, reg, lamD, slope,
               dig, par_v, val, z):
    """min of S over chunk ch of the grid points a (decoded digit by digit, then counted up)."""
    P, n = X.shape
    nodes = bias.shape[0]
    m = out.shape[0]
    q, r = total // nchunks, total % nchunks
    a0 = q * ch + min(ch, r)
    a1 = a0 + q + (1 if ch < r else 0)
    if a1 <= a0:
        return np.inf
    r = a0
    for k in range(N - 1, -1, -1):
        dig[k] = r % G
        r //= G
    b = np.inf
    for a in range(a0, a1):
        pen = 0.0
        for k in range(N):
            par_v[k] = gv[dig[k]]
            if reg == 1:
                pen += abs(par_v[k])
            elif reg == 2:
                pen += par_v[k] * par_v[k]
        s = lamD * pen if reg != 0 else 0.0
        for p in range(P):
            for i in range(n):
                val[i] = X[p, i]
            for q in range(nodes):
                t = par_v[bias[q]] if bias[q] >= 0 else 0.0
                for e in range(start[q], start[q + 1]):
                    t += par_v[par[e]] * val[src[e]]
                val[n + q] = _act(act[q], t, slope)
            for k in range(m):
                z[k] = val[out[k]]
            s += cnt[p] * _loss_row(loss, z, Y, p, m)
        if s < b:
            b = s
        k = N - 1
        while k >= 0:
            dig[k] += 1
            if dig[k] < G:
                break
            dig[k] = 0
            k -= 1
    return b


def scan_all(total, N, G, gv, X, Y, cnt, start, src, par, bias, act, out, loss, reg, lamD, slope, nchunks):
    """min over all G^N grid points of sum_p cnt_p l(f(X_p, a), Y_p) + lamD R(a)."""
    args = (np.int64(total), np.int64(N), np.int64(G), _f(gv), _f(X), _f(Y), _f(cnt), _i(start), _i(src), _i(par),
            _i(bias), _i(act), _i(out), np.int64(loss), np.int64(reg), float(lamD), float(slope))
    nv = len(X[0]) + len(bias)
    return float(min(_on_chunks(_all_chunk, nchunks, args,
                                lambda: (np.zeros(N, np.int64), np.zeros(N), np.zeros(nv), np.zeros(len(out))))))


@nb.njit(cache=True)
def _sweep(r, y, cnt, gc, rc, loss, lamD, pen):
    """min over the output bias c of sum_p cnt_p l(r_p + c, y_p) + lamD (pen + R(c))."""
    P = r.shape[0]
    G = gc.shape[0]
    b = np.inf
    if loss == 1:
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        for p in range(P):
            e = r[p] - y[p]
            s0 += cnt[p]
            s1 += cnt[p] * e
            s2 += cnt[p] * e * e
        for j in range(G):
            c = gc[j]
            v = s2 + 2.0 * c * s1 + c * c * s0 + lamD * (pen + rc[j])
            if v < b:
                b = v
        return b
    for j in range(G):
        c = gc[j]
        s = lamD * (pen + rc[j])
        if loss == 0:
            for p in range(P):
                s += cnt[p] * abs(r[p] + c - y[p])
        elif loss == 2:
            for p in range(P):
                s += cnt[p] * max(0.0, 1.0 - (r[p] + c) * y[p])
        # cross entropy over one output is 0
        if s < b:
            b = s
    return b


@nb.njit(cache=True, inline="always")  # the units scan's innermost step: ~20% faster inlined
def _best_c(q2, q1, q0, gc, rc, lamD, pen):
    """min over grid values c of q2 + 2 c q1 + c^2 q0 (+ lamD (pen + R(c))).  Without a
    regularizer the parabola is least at the grid value nearest -q1 / q0: one of the two
    around it (or an end of the grid)."""
    G = gc.shape[0]
    if lamD != 0.0 or q0 <= 0.0:
        b = np.inf
        for j in range(G):
            c = gc[j]
            v = q2 + 2.0 * c * q1 + c * c * q0 + lamD * (pen + rc[j])
            if v < b:
                b = v
        return b
    star = -q1 / q0
    step = gc[1] - gc[0] if G > 1 else 1.0
    f = (star - gc[0]) / step if math.isfinite(star) else 0.0
    f = min(max(f, -4.0), G + 4.0)
    k = int(math.floor(f))
    b = np.inf
    for j in range(k - 1, k + 3):
        if 0 <= j < G:
            c = gc[j]
            v = q2 + 2.0 * c * q1 + c * c * q0
            if v < b:
                b = v
    if k < -1:
        c = gc[0]
        b = min(b, q2 + 2.0 * c * q1 + c * c * q0)
    if k + 2 >= G:
        c = gc[G - 1]
        b = min(b, q2 + 2.0 * c * q1 + c * c * q0)
    return b


@nb.njit(cache=True, nogil=True)
def _units_sweep_chunk(ch, nchunks, contrib, ru, w, y, cnt, gc, rc, loss, lamD, acc, racc, idx):
    """min over the tuples whose first unit u0 = ch (mod nchunks), the output bias swept for
    each whole tuple (see scan_units)."""
    U, P = contrib.shape
    b = np.inf
    for u0 in range(ch, U, nchunks):
        for p in range(P):
            acc[1, p] = contrib[u0, p]
        racc[1] = ru[u0]
        if w == 1:
            v = _sweep(acc[1], y, cnt, gc, rc, loss, lamD, racc[1])
            if v < b:
                b = v
            continue
        idx[0] = u0
        j = 1
        idx[1] = u0 - 1
        while j >= 1:
            idx[j] += 1
            if idx[j] >= U:
                j -= 1
                continue
            u = idx[j]
            for p in range(P):
                acc[j + 1, p] = acc[j, p] + contrib[u, p]
            racc[j + 1] = racc[j] + ru[u]
            if j == w - 1:
                v = _sweep(acc[w], y, cnt, gc, rc, loss, lamD, racc[w])
                if v < b:
                    b = v
            else:
                j += 1
                idx[j] = idx[j - 1] - 1
    return b


@nb.njit(cache=True, nogil=True)
def _units_quad_chunk(ch, nchunks, contrib, ru, w, y, cnt, gc, rc, lamD, cu1, cu2, s0, we, acc, racc, idx):
    """The same for the quadratic loss and w >= 2: for each (w-1)-tuple the last unit u and
    the bias c from the moments, sum_p cnt_p (e_p + contrib_up + c)^2 with e = acc - y being
    sum cnt e^2 + sum 2 cnt e contrib_u + cu2_u + 2 c (sum cnt e + cu1_u) + c^2 s0."""
    U, P = contrib.shape
    t1 = 0.0
    t2 = 0.0
    b = np.inf
    for u0 in range(ch, U, nchunks):
        for p in range(P):
            acc[1, p] = contrib[u0, p]
        racc[1] = ru[u0]
        idx[0] = u0
        j = 1
        idx[1] = u0 - 1
        while j >= 1:
            idx[j] += 1
            if idx[j] >= U:
                j -= 1
                continue
            u = idx[j]
            if j == w - 1:
                if idx[j] == idx[j - 1]:
                    t1 = 0.0
                    t2 = 0.0
                    for p in range(P):
                        e = acc[j, p] - y[p]
                        t1 += cnt[p] * e
                        t2 += cnt[p] * e * e
                        we[p] = 2.0 * cnt[p] * e
                d = 0.0
                for p in range(P):
                    d += we[p] * contrib[u, p]
                v = _best_c(t2 + d + cu2[u], t1 + cu1[u], s0, gc, rc, lamD, racc[j] + ru[u])
                if v < b:
                    b = v
                continue
            for p in range(P):
                acc[j + 1, p] = acc[j, p] + contrib[u, p]
            racc[j + 1] = racc[j] + ru[u]
            j += 1
            idx[j] = idx[j - 1] - 1
    return b


def scan_units(contrib, ru, w, y, cnt, gc, rc, loss, lamD, nchunks):
    """min over nondecreasing w-tuples of units and the output bias (see verify.py).  Two
    kernels, so that a run compiles only the one its loss needs."""
    contrib, cnt, ru, y, gc, rc = _f(contrib), _f(cnt), _f(ru), _f(y), _f(gc), _f(rc)
    P = contrib.shape[1]
    w = int(w)

    def work():
        return np.zeros((w + 1, P)), np.zeros(w + 1), np.zeros(w, np.int64)

    if loss == 1 and w >= 2:
        args = (contrib, ru, np.int64(w), y, cnt, gc, rc, float(lamD), (contrib * cnt).sum(1),
                (contrib * contrib * cnt).sum(1), float(cnt.sum()))
        part = _on_chunks(_units_quad_chunk, nchunks, args, lambda: (np.zeros(P), *work()))
    else:
        args = (contrib, ru, np.int64(w), y, cnt, gc, rc, np.int64(loss), float(lamD))
        part = _on_chunks(_units_sweep_chunk, nchunks, args, work)
    return float(min(part))


# -- the proof replay (see replay.py) -------------------------------------------------------

@nb.njit(cache=True, nogil=True)
def _paths_range(ch, nchunks, lo, hi, G, skip, maxdepth, w0, w1, depth, bl, bh):
    """canonical_paths for chunk ch of the leaves, written into w0, w1, depth."""
    L, N = lo.shape
    i0 = L * ch // nchunks
    i1 = L * (ch + 1) // nchunks
    for i in range(i0, i1):
        for k in range(N):
            bl[k] = 0
            bh[k] = G - 1
        d = 0
        a = np.uint64(0)
        b = np.uint64(0)
        ok = True
        while True:
            same = True
            for k in range(N):
                if bl[k] != lo[i, k] or bh[k] != hi[i, k]:
                    same = False
                    break
            if same:
                break
            best = -1
            bw = 0
            for k in range(N - 1, -1, -1):
                if k != skip and bh[k] - bl[k] > bw:
                    bw = bh[k] - bl[k]
                    best = k
            if best < 0 or d >= maxdepth:
                ok = False
                break
            mid = (bl[best] + bh[best]) // 2
            if hi[i, best] <= mid and lo[i, best] >= bl[best]:
                bh[best] = mid
                bit = 0
            elif lo[i, best] > mid and hi[i, best] <= bh[best]:
                bl[best] = mid + 1
                bit = 1
            else:
                ok = False
                break
            if bit == 1:
                if d < 64:
                    a |= np.uint64(1) << np.uint64(63 - d)
                else:
                    b |= np.uint64(1) << np.uint64(127 - d)
            d += 1
        w0[i] = a
        w1[i] = b
        depth[i] = d if ok else -1


def canonical_paths(lo, hi, G, skip, maxdepth, nchunks=None):
    """For each leaf box, its path of halvings from the root [0, G-1]^N (bit 0: lower half),
    packed into two words, and its depth; depth -1 when the box is not a node of the
    canonical bisection (widest interval, the last parameter among equals, never ``skip``,
    split after its midpoint (l + h) // 2)."""
    lo, hi = _leaves(lo, hi)
    L = lo.shape[0]
    w0 = np.zeros(L, np.uint64)
    w1 = np.zeros(L, np.uint64)
    depth = np.zeros(L, np.int64)
    N = lo.shape[1]
    _on_chunks(_paths_range, nchunks, (lo, hi, np.int64(G), np.int64(skip), np.int64(maxdepth), w0, w1, depth),
               lambda: (np.zeros(N, np.int64), np.zeros(N, np.int64)))
    return w0, w1, depth


def volumes_sum(lo, hi):
    """sum over leaves of prod_k (hi_k - lo_k + 1), exact in int64 (callers ensure G^N < 2^62
    and that the leaves are disjoint boxes of the grid, so no partial sum exceeds G^N)."""
    lo, hi = _leaves(lo, hi)
    return int(np.prod(hi - lo + 1, axis=1, dtype=np.int64).sum(dtype=np.int64))


def _f(a):
    return np.ascontiguousarray(a, dtype=np.float64)


def _i(a):
    return np.ascontiguousarray(a, dtype=np.int64)


def _leaves(lo, hi):
    """The leaves' bounds as C-contiguous int64 (L, N) arrays: one compiled signature."""
    return np.ascontiguousarray(lo, dtype=np.int64), np.ascontiguousarray(hi, dtype=np.int64)


@nb.njit(cache=True)
def _lb1(loss, zl, zh, y):
    """_point_lb for one output: a lower bound of l(z, y) over z in [zl, zh]."""
    if loss == 0:
        return zl - y if y < zl else (y - zh if y > zh else 0.0)
    if loss == 1:
        g = zl - y if y < zl else (y - zh if y > zh else 0.0)
        return g * g
    if loss == 2:
        return max(0.0, 1.0 - max(y * zl, y * zh))
    return (y * (zl if y >= 0.0 else zh)) - max(y * zl, y * zh)


@nb.njit(cache=True)
def _point_lb(loss, ZL, ZH, Y, p, m, shift):
    """A lower bound of l(z, Y[p]) over the box z_k in [ZL[p, k] + shift, ZH[p, k] + shift]."""
    if loss == 0 or loss == 1:
        s = 0.0
        for k in range(m):
            gap = 0.0
            if Y[p, k] < ZL[p, k] + shift:
                gap = ZL[p, k] + shift - Y[p, k]
            elif Y[p, k] > ZH[p, k] + shift:
                gap = Y[p, k] - ZH[p, k] - shift
            s += gap if loss == 0 else gap * gap
        return s
    best = 0.0
    for k in range(m):
        best += max(Y[p, k] * (ZL[p, k] + shift), Y[p, k] * (ZH[p, k] + shift))
    if loss == 2:
        return max(0.0, 1.0 - best)
    sy = 0.0
    for k in range(m):
        sy += Y[p, k]
    top = -np.inf
    for k in range(m):
        v = ZL[p, k] + shift if sy >= 0.0 else ZH[p, k] + shift
        top = max(top, v)
    e = 0.0
    for k in range(m):
        v = ZL[p, k] + shift if sy >= 0.0 else ZH[p, k] + shift
        e += math.exp(v - top)
    return sy * (top + math.log(e)) - best


@nb.njit(cache=True, nogil=True)
def _bounds_range(ch, nchunks, lo, hi, gv, X, Y, cnt, start, src, par, bias, act, out, loss, reg, lamD, slope,
                  cpos, res, vl, vh, zl, zh):
    """leaf_bounds for chunk ch of the leaves, written into res."""
    L, N = lo.shape
    i0 = L * ch // nchunks
    i1 = L * (ch + 1) // nchunks
    P, n = X.shape
    nodes = bias.shape[0]
    m = out.shape[0]
    for i in range(i0, i1):
        pen = 0.0
        for k in range(N):
            if k == cpos:
                continue
            a = gv[lo[i, k]]
            b = gv[hi[i, k]]
            low = 0.0
            if a > 0.0:
                low = a
            elif b < 0.0:
                low = -b
            pen += low if reg == 1 else low * low
        for p in range(P):
            for j in range(n):
                vl[j] = X[p, j]
                vh[j] = X[p, j]
            for q in range(nodes):
                if bias[q] >= 0 and bias[q] != cpos:
                    sl = gv[lo[i, bias[q]]]
                    sh = gv[hi[i, bias[q]]]
                else:
                    sl = 0.0
                    sh = 0.0
                for e in range(start[q], start[q + 1]):
                    wl = gv[lo[i, par[e]]]
                    wh = gv[hi[i, par[e]]]
                    xl = vl[src[e]]
                    xh = vh[src[e]]
                    c1 = wl * xl
                    c2 = wl * xh
                    c3 = wh * xl
                    c4 = wh * xh
                    sl += min(min(c1, c2), min(c3, c4))
                    sh += max(max(c1, c2), max(c3, c4))
                vl[n + q] = _act(act[q], sl, slope)  # built-in activations are nondecreasing
                vh[n + q] = _act(act[q], sh, slope)
            for k in range(m):
                zl[p, k] = vl[out[k]]
                zh[p, k] = vh[out[k]]
        if cpos < 0:
            s = lamD * pen if reg != 0 else 0.0
            for p in range(P):
                s += cnt[p] * _point_lb(loss, zl, zh, Y, p, m, 0.0)
            res[i] = s
        else:
            b = np.inf
            for j in range(lo[i, cpos], hi[i, cpos] + 1):
                c = gv[j]
                s = 0.0
                if reg == 1:
                    s = lamD * (pen + abs(c))
                elif reg == 2:
                    s = lamD * (pen + c * c)
                for p in range(P):
                    s += cnt[p] * _lb1(loss, zl[p, 0] + c, zh[p, 0] + c, Y[p, 0])
                if s < b:
                    b = s
            res[i] = b


def leaf_bounds(lo, hi, gv, X, Y, cnt, start, src, par, bias, act, out, loss, reg, lamD, slope, cpos,
                nchunks=None):
    """A lower bound of S on every leaf box, by interval propagation through the DAG (each
    edge's product bounded by its four corner products, monotone activations at the ends),
    per-point loss lower bounds, and for the output bias ``cpos`` (>= 0) every grid value in
    the box's range tried exactly."""
    lo, hi = _leaves(lo, hi)
    res = np.empty(lo.shape[0])
    _on_chunks(_bounds_range, nchunks, (lo, hi, _f(gv), _f(X), _f(Y), _f(cnt), _i(start), _i(src), _i(par),
                                        _i(bias), _i(act), _i(out), np.int64(loss), np.int64(reg), float(lamD),
                                        float(slope), np.int64(cpos), res),
               lambda: (np.zeros(len(X[0]) + len(bias)), np.zeros(len(bias) + len(X[0])),
                        np.zeros((len(X), len(out))), np.zeros((len(X), len(out)))))
    return res
