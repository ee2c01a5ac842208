"""numba kernels of the fused structured solver (see ``fused.py``); imported lazily.

Module-level functions so that numba's on-disk cache (``cache=True``) holds them between runs.
Losses are the codes of ``codes.py``.
"""

import math

import numba as nb
import numpy as np

from .codes import ABSOLUTE, HINGE, L1, QUADRATIC


@nb.njit(cache=True, fastmath={"reassoc", "nsz"})
def sweep_abs(e, cnt, c):
    s = 0.0
    for p in range(e.shape[0]):
        s += cnt[p] * abs(e[p] + c)
    return s


@nb.njit(cache=True, fastmath={"reassoc", "nsz"})
def sweep_hinge(e, Y, cnt, c):
    s = 0.0
    for p in range(e.shape[0]):
        y = Y[p, 0]
        s += cnt[p] * max(1.0 - (e[p] + y + c) * y, 0.0)
    return s


@nb.njit(cache=True)
def fill_combos(start, count, K, w, out):
    """The nondecreasing w-tuples over [0, K) with ranks start..start+count-1 (lex order)."""
    t = np.zeros(w, np.int64)
    # unrank: walk the lexicographic order
    r = start
    lo = 0
    for j in range(w):
        v = lo
        while True:
            # tuples with t_j = v: nondecreasing (w-j-1)-tuples over [v, K)
            n_ = K - v + (w - j - 1) - 1
            k_ = w - j - 1
            c = 1
            for q in range(k_):
                c = c * (n_ - q) // (q + 1)
            if r < c:
                break
            r -= c
            v += 1
        t[j] = v
        lo = v
    for i in range(count):
        for j in range(w):
            out[i, j] = t[j]
        j = w - 1
        while j >= 0 and t[j] == K - 1:
            j -= 1
        if j < 0:
            break
        t[j] += 1
        for q in range(j + 1, w):
            t[q] = t[j]


@nb.njit(parallel=True, cache=True)
def scan_m1(combos, H, Rh, gv, Y, cnt, code, lamD, thr, best_val, best_o, first_o, first_val):
    """Per combo: its minimum S, the first output index attaining it, and the first output
    index with S <= thr (-1 if none) and its S: the tie-break's second look, see ``fused.py``."""
    n_c, w = combos.shape
    P = H.shape[1]
    G = gv.shape[0]
    nV = G**w
    l1 = lamD[1] == L1
    S0 = 0.0
    for p in range(P):
        S0 += cnt[p]
    for ci in nb.prange(n_c):
        e = np.empty(P)
        dig = np.zeros(w, np.int64)
        base = 0.0
        for j in range(w):
            base += Rh[combos[ci, j]]
        # start at V = (g_0, ..., g_0): e_p = r_p - y_p
        regv = 0.0
        for p in range(P):
            e[p] = -Y[p, 0]
        for j in range(w):
            regv += abs(gv[0]) if l1 else gv[0] * gv[0]
            t = combos[ci, j]
            for p in range(P):
                e[p] += gv[0] * H[t, p]
        bv = np.inf
        bo = -1
        fo = -1
        fv = np.inf
        for vi in range(nV):
            if vi > 0:  # odometer step on the least significant digits, r updated in place
                j = w - 1
                while dig[j] == G - 1:
                    t = combos[ci, j]
                    dv = gv[0] - gv[G - 1]
                    for p in range(P):
                        e[p] += dv * H[t, p]
                    regv += (abs(gv[0]) - abs(gv[G - 1])) if l1 else (gv[0] ** 2 - gv[G - 1] ** 2)
                    dig[j] = 0
                    j -= 1
                t = combos[ci, j]
                old, new = gv[dig[j]], gv[dig[j] + 1]
                for p in range(P):
                    e[p] += (new - old) * H[t, p]
                regv += (abs(new) - abs(old)) if l1 else (new * new - old * old)
                dig[j] += 1
            if code == QUADRATIC:  # quadratic: sum cnt (e + c)^2 = S2 + 2 c S1 + c^2 S0
                S1 = 0.0
                S2 = 0.0
                for p in range(P):
                    S1 += cnt[p] * e[p]
                    S2 += cnt[p] * e[p] * e[p]
            for cj in range(G):
                c = gv[cj]
                if code == QUADRATIC:
                    s = S2 + 2.0 * c * S1 + c * c * S0
                elif code == ABSOLUTE:
                    s = sweep_abs(e, cnt, c)
                elif code == HINGE:
                    s = sweep_hinge(e, Y, cnt, c)
                else:
                    s = 0.0
                if lamD[0] != 0.0:
                    rc = abs(c) if l1 else c * c
                    s += lamD[0] * (base + regv + rc)
                if s < bv:
                    bv = s
                    bo = vi * G + cj
                if fo < 0 and s <= thr:
                    fo = vi * G + cj
                    fv = s
        best_val[ci] = bv
        best_o[ci] = bo
        first_o[ci] = fo
        first_val[ci] = fv


@nb.njit(parallel=True, cache=True)
def scan_general(combos, H, Rh, gv, Y, cnt, code, lamD, thr, m, best_val, best_o, first_o, first_val):
    n_c, w = combos.shape
    P = H.shape[1]
    G = gv.shape[0]
    nO = G ** (m * (w + 1))
    for ci in nb.prange(n_c):
        z = np.empty((P, m))
        dig = np.empty(m * (w + 1), np.int64)
        base = 0.0
        for j in range(w):
            base += Rh[combos[ci, j]]
        bv = np.inf
        bo = -1
        fo = -1
        fv = np.inf
        for o in range(nO):
            rem = o
            for q in range(m * (w + 1) - 1, -1, -1):
                dig[q] = rem % G
                rem //= G
            regv = 0.0
            for k in range(m):
                c = gv[dig[k * (w + 1) + w]]
                regv += abs(c) if lamD[1] == L1 else c * c
                for p in range(P):
                    z[p, k] = c
                for j in range(w):
                    v = gv[dig[k * (w + 1) + j]]
                    regv += abs(v) if lamD[1] == L1 else v * v
                    t = combos[ci, j]
                    for p in range(P):
                        z[p, k] += v * H[t, p]
            s = 0.0
            for p in range(P):
                if code == ABSOLUTE:
                    e = 0.0
                    for k in range(m):
                        e += abs(z[p, k] - Y[p, k])
                elif code == QUADRATIC:
                    e = 0.0
                    for k in range(m):
                        e += (z[p, k] - Y[p, k]) ** 2
                elif code == HINGE:
                    e = 1.0
                    for k in range(m):
                        e -= z[p, k] * Y[p, k]
                    e = max(e, 0.0)
                else:
                    mx = z[p, 0]
                    for k in range(1, m):
                        mx = max(mx, z[p, k])
                    se = 0.0
                    for k in range(m):
                        se += math.exp(z[p, k] - mx)
                    lse = mx + math.log(se)
                    e = 0.0
                    for k in range(m):
                        e -= Y[p, k] * (z[p, k] - lse)
                s += cnt[p] * e
            if lamD[0] != 0.0:
                s += lamD[0] * (base + regv)
            if s < bv:
                bv = s
                bo = o
            if fo < 0 and s <= thr:
                fo = o
                fv = s
        best_val[ci] = bv
        best_o[ci] = bo
        first_o[ci] = fo
        first_val[ci] = fv
