"""numba kernels of the compiled branch-and-bound (see ``bnb.py``); imported lazily.

The same search as the numpy path, one box at a time: interval bounds per distinct point
through any DAG, the exact minimum over the swept output bias, symmetry pruning of
unsorted hidden blocks, a best-first heap ordered by (bound, insertion number), and the
canonical bisection, so the proof has the same form.  The tie phase's pieces
(``bnb.BranchAndBound._ties``): :func:`find_tied`, a depth-first search for any point within
the tie window, and :func:`contract`, constraint propagation narrowing its boxes.

The face's arrays travel as one tuple ``data = (X, Y, cnt, gv)`` (distinct points, targets,
counts, grid values) and the architecture as one tuple ``arch = (src_ptr, src_idx, w_idx,
bias_idx, act, out_idx)`` of flat int64 arrays (``bnb.kernel_arrays``); losses,
activations and regularizers are the codes of ``codes.py``, and the leaky-ReLU slope is an
argument.
"""

import math

import numba as nb
import numpy as np

from .codes import ABSOLUTE, ELU, HINGE, LEAKY_RELU, NO_REG, QUADRATIC, RELU, TANH, L1

KIND_PRUNED, KIND_SYMMETRIC, KIND_EVALUATED = 0, 1, 2
OK, HEAP_FULL, PROOF_FULL, BUDGET = 0, 1, 2, 3
FM = {"nnan", "ninf", "nsz"}  # values are finite: min/max without NaN branches; no reassociation


@nb.njit(cache=True, fastmath=FM)
def activate(t, code, slope):
    if code == RELU:
        return max(t, 0.0)
    if code == LEAKY_RELU:
        return t if t >= 0.0 else slope * t
    if code == ELU:
        return t if t > 0.0 else math.expm1(t)
    if code == TANH:
        return math.tanh(t)
    return t


@nb.njit(cache=True, fastmath=FM)
def loss_lb1(zl, zh, y, code):
    """Lower bound of the loss of one output over z in [zl, zh] at target y."""
    if code <= QUADRATIC:
        d = max(max(zl - y, y - zh), 0.0)
        return d if code == ABSOLUTE else d * d
    best = max(zl * y, zh * y)
    if code == HINGE:
        return max(1.0 - best, 0.0)
    z = zl if y >= 0 else zh
    return y * z - best  # softmax of one output: log-sum-exp of z is z


@nb.njit(cache=True, fastmath=FM)
def sweep_bias(tot, gv, u, v, w, y, a, b, code, g0, g1):
    """tot[g] += w * (lower bound of the loss at output bias gv[g]), g0 <= g <= g1, for an
    output in [a, b] before the bias; u = a - y, v = y - b.  The two common losses in
    branch-free loops."""
    if code == ABSOLUTE:
        for g in range(g0, g1 + 1):
            tot[g] += w * max(max(u + gv[g], v - gv[g]), 0.0)
    elif code == QUADRATIC:
        for g in range(g0, g1 + 1):
            d = max(max(u + gv[g], v - gv[g]), 0.0)
            tot[g] += w * (d * d)
    else:
        for g in range(g0, g1 + 1):
            tot[g] += w * loss_lb1(a + gv[g], b + gv[g], y, code)


@nb.njit(cache=True)
def loss_lb(zl, zh, Y, p, m, code):
    """Lower bound of the loss over the output box [zl, zh] at target Y[p] (m outputs)."""
    if code <= QUADRATIC:
        s = 0.0
        for j in range(m):
            d = max(max(zl[j] - Y[p, j], Y[p, j] - zh[j]), 0.0)
            s += d if code == ABSOLUTE else d * d
        return s
    best = 0.0
    for j in range(m):
        best += max(zl[j] * Y[p, j], zh[j] * Y[p, j])
    if code == HINGE:
        return max(1.0 - best, 0.0)
    sy = 0.0
    for j in range(m):
        sy += Y[p, j]
    mx = -np.inf
    for j in range(m):
        mx = max(mx, zl[j] if sy >= 0 else zh[j])
    t = 0.0
    for j in range(m):
        t += math.exp((zl[j] if sy >= 0 else zh[j]) - mx)
    return sy * (math.log(t) + mx) - best


@nb.njit(cache=True, fastmath=FM)
def box_bound(lo, hi, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot):
    """(lower bound of S on the box, best index of the swept bias or -1); exact on one point.
    With a swept bias, ``tot[g]`` holds the bound at bias value gv[g] on return."""
    return range_bound(lo, hi, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot, 0, data[3].shape[0] - 1)


@nb.njit(cache=True, fastmath=FM)
def range_bound(lo, hi, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot, g0, g1):
    """:func:`box_bound` with the swept bias's values restricted to indices g0..g1 (``tot`` is
    left as it was at the others)."""
    X, Y, cnt, gv = data
    src_ptr, src_idx, w_idx, bias_idx, act, out_idx = arch
    N = lo.shape[0]
    P, n_in = X.shape
    M = bias_idx.shape[0]
    m = out_idx.shape[0]
    r = 0.0
    if reg != NO_REG:
        for k in range(N):
            if k == ci:
                continue
            a = gv[lo[k]]
            b = gv[hi[k]]
            mm = 0.0 if (a <= 0.0 and b >= 0.0) else min(abs(a), abs(b))
            r += mm if reg == L1 else mm * mm
    for g in range(g0, g1 + 1):
        tot[g] = 0.0
    total = 0.0
    for p in range(P):
        for i in range(n_in):
            vl[i] = X[p, i]
            vh[i] = X[p, i]
        for k in range(M):
            b = bias_idx[k]
            if b >= 0 and b != ci:
                lk = gv[lo[b]]
                hk = gv[hi[b]]
            else:
                lk = 0.0
                hk = 0.0
            for e in range(src_ptr[k], src_ptr[k + 1]):
                s = src_idx[e]
                w = w_idx[e]
                wl = gv[lo[w]]
                wh = gv[hi[w]]
                c1 = wl * vl[s]
                c2 = wl * vh[s]
                c3 = wh * vl[s]
                c4 = wh * vh[s]
                lk += min(min(c1, c2), min(c3, c4))
                hk += max(max(c1, c2), max(c3, c4))
            if act[k] >= 0:
                lk = activate(lk, act[k], slope)
                hk = activate(hk, act[k], slope)
            vl[n_in + k] = lk
            vh[n_in + k] = hk
        if m == 1:
            a = vl[out_idx[0]]
            b = vh[out_idx[0]]
            y = Y[p, 0]
            if ci >= 0:
                sweep_bias(tot, gv, a - y, y - b, cnt[p], y, a, b, loss, g0, g1)
            else:
                total += cnt[p] * loss_lb1(a, b, y, loss)
        else:
            for j in range(m):
                zl[j] = vl[out_idx[j]]
                zh[j] = vh[out_idx[j]]
            total += cnt[p] * loss_lb(zl, zh, Y, p, m, loss)
    if ci < 0:
        return total + lamD * r, -1
    best = np.inf
    arg = -1
    for g in range(g0, g1 + 1):
        c = gv[g]
        v = tot[g]
        if reg != NO_REG:
            v += lamD * (r + (abs(c) if reg == L1 else c * c))
        tot[g] = v  # the value at each bias: the tie front reads them
        if v < best:
            best = v
            arg = g
    return best, arg


@nb.njit(cache=True)
def _unsorted(lo, hi, nblocks, blen):
    """True when no point of the box has its hidden blocks in nondecreasing lex order."""
    for j in range(nblocks - 1):
        a = (j + 1) * blen  # block j+1's hi against block j's lo
        b = j * blen
        for t in range(blen):
            if hi[a + t] != lo[b + t]:
                if hi[a + t] < lo[b + t]:
                    return True
                break
    return False


@nb.njit(cache=True)
def _heap_push(key, seq, slot, n, k, s, sl):
    """Insert (k, s) -> sl into the binary min-heap of size n, ordered by (key, seq)."""
    i = n
    while i > 0:
        par = (i - 1) >> 1
        kp = key[par]
        if k < kp or (k == kp and s < seq[par]):
            key[i] = kp
            seq[i] = seq[par]
            slot[i] = slot[par]
            i = par
        else:
            break
    key[i] = k
    seq[i] = s
    slot[i] = sl


@nb.njit(cache=True)
def _heap_pop(key, seq, slot, n):
    """Remove the top of a heap of size n >= 1 (the caller reads it first)."""
    n -= 1
    k = key[n]
    s = seq[n]
    sl = slot[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and (key[c + 1] < key[c] or (key[c + 1] == key[c] and seq[c + 1] < seq[c])):
            c += 1
        if key[c] < k or (key[c] == k and seq[c] < s):
            key[i] = key[c]
            seq[i] = seq[c]
            slot[i] = slot[c]
            i = c
        else:
            break
    key[i] = k
    seq[i] = s
    slot[i] = sl


@nb.njit(cache=True)
def _split_axis(lo, hi, ci):
    """The canonical bisection's axis: the widest interval, the last one among ties; -1 if none."""
    best = 0
    k = -1
    for t in range(lo.shape[0] - 1, -1, -1):
        if t == ci:
            continue
        w = hi[t] - lo[t]
        if w > best:
            best = w
            k = t
    return k


@nb.njit(cache=True)
def _append(plo, phi, pkind, pbound, n, lo, hi, kind, bound, max_proof):
    """Record leaf n of the proof, doubling the arrays when full; ok is False past max_proof."""
    if n == plo.shape[0]:
        cap = 2 * n
        if cap > max_proof:
            return plo, phi, pkind, pbound, False
        plo = _grow2(plo, cap)
        phi = _grow2(phi, cap)
        pkind = _grow1(pkind, cap)
        pbound = _grow1(pbound, cap)
    plo[n, :] = lo
    phi[n, :] = hi
    pkind[n] = kind
    pbound[n] = bound
    return plo, phi, pkind, pbound, True


@nb.njit(cache=True)
def _lex_less(a, b):
    for t in range(a.shape[0]):
        if a[t] != b[t]:
            return a[t] < b[t]
    return False


@nb.njit(cache=True)
def _window(fval, nf, tie_rtol, scale):
    if nf == 0:
        return np.inf
    b = fval[nf - 1]
    return b + tie_rtol * (scale + abs(b))


@nb.njit(cache=True)
def _front_offer(fidx, fval, nf, idx, v, tie_rtol, scale):
    """``ties.Front.offer`` on arrays: returns (fidx, fval, nf), grown when full."""
    if not v <= _window(fval, nf, tie_rtol, scale):
        return fidx, fval, nf
    pos = 0
    while pos < nf and _lex_less(fidx[pos], idx):
        pos += 1
    if pos > 0 and fval[pos - 1] <= v:
        return fidx, fval, nf
    if pos < nf and fval[pos] <= v:
        same = True
        for t in range(idx.shape[0]):
            if fidx[pos, t] != idx[t]:
                same = False
                break
        if same:
            return fidx, fval, nf
    end = pos
    while end < nf and fval[end] >= v:
        end += 1
    shift = 1 - (end - pos)  # entries pos..end-1 are replaced by the new one
    if nf + shift > fidx.shape[0]:
        fidx = _grow2(fidx, 2 * fidx.shape[0])
        fval = _grow1(fval, 2 * fval.shape[0])
    if shift > 0:
        for f in range(nf - 1, end - 1, -1):
            fidx[f + shift] = fidx[f]
            fval[f + shift] = fval[f]
    elif shift < 0:
        for f in range(end, nf):
            fidx[f + shift] = fidx[f]
            fval[f + shift] = fval[f]
    fidx[pos] = idx
    fval[pos] = v
    nf += shift
    thr = _window(fval, nf, tie_rtol, scale)
    drop = 0
    while fval[drop] > thr:
        drop += 1
    if drop:
        for f in range(drop, nf):
            fidx[f - drop] = fidx[f]
            fval[f - drop] = fval[f]
        nf -= drop
    return fidx, fval, nf


@nb.njit(cache=True)
def _offer_point(fidx, fval, nf, point, ci, v, tot, tie_rtol, scale, tmp):
    """Offer an evaluated point: with a swept bias every bias value (tot), else v."""
    if ci < 0:
        for t in range(point.shape[0]):
            tmp[t] = point[t]
        return _front_offer(fidx, fval, nf, tmp, v, tie_rtol, scale)
    for t in range(point.shape[0]):
        tmp[t] = point[t]
    for g in range(tot.shape[0]):
        if tot[g] <= _window(fval, nf, tie_rtol, scale):
            tmp[ci] = g
            fidx, fval, nf = _front_offer(fidx, fval, nf, tmp, tot[g], tie_rtol, scale)
    return fidx, fval, nf


@nb.njit(cache=True)
def search(N, data, arch, slope, loss, reg, lamD, ci, nblocks, blen, out_w0, max_heap, max_proof,
           keep_proof, centre_every, depth_first, seed, tie_rtol, scale):
    """Branch-and-bound over the grid of N parameters: best-first (a heap ordered by bound,
    then insertion) or depth-first (a stack, the child with the lower bound first).
    ``seed`` (grid digits, or seed[0] < 0 for none) is evaluated first as the incumbent.
    A box is pruned when its bound is >= the minimum so far.  Evaluated points go into the
    tie front of ``lptrain.ties``; the answer is its first (the smallest-index optimum
    among the points evaluated: ``bnb._ties`` finishes the rule).

    Returns (status, best value, best grid digits, evaluated, boxes, proof arrays lo, hi,
    kind, bound, proof length, minimum).  status: 0 done, 1 queue over max_heap, 2 proof
    over max_proof.
    """
    X, gv = data[0], data[3]
    bias_idx, out_idx = arch[3], arch[5]
    G = gv.shape[0]
    nv = X.shape[1] + bias_idx.shape[0]
    vl = np.empty(nv)
    vh = np.empty(nv)
    zl = np.empty(out_idx.shape[0])
    zh = np.empty(out_idx.shape[0])
    tot = np.empty(G)
    per_leaf = G if ci >= 0 else 1

    cap = 1024
    key = np.empty(cap)
    seq = np.empty(cap, np.int64)
    slot = np.empty(cap, np.int64)
    pool_lo = np.empty((cap, N), np.int32)
    pool_hi = np.empty((cap, N), np.int32)
    free = np.empty(cap, np.int64)
    for i in range(cap):
        free[i] = cap - 1 - i
    nfree = cap
    pcap = 1024 if keep_proof else 1
    plo = np.empty((pcap, N), np.int16)  # grid indices < 2^15 (bnb.py checks)
    phi = np.empty((pcap, N), np.int16)
    pkind = np.empty(pcap, np.int8)
    pbound = np.empty(pcap)
    nproof = 0

    lo = np.zeros(N, np.int32)
    hi = np.full(N, G - 1, np.int32)
    kl = np.empty(N, np.int32)
    kh = np.empty(N, np.int32)
    fidx = np.empty((16, N), np.int64)
    fval = np.empty(16)
    nf = 0
    ptmp = np.empty(N, np.int64)
    best_idx = np.zeros(N, np.int64)
    evaluated = 0
    boxes = 0
    status = OK
    b0, j0 = box_bound(lo, hi, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot)
    n = 0
    nseq = 0
    if seed[0] >= 0:
        for t in range(N):
            kl[t] = seed[t]
        sv, sj = box_bound(kl, kl, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot)
        evaluated += per_leaf
        fidx, fval, nf = _offer_point(fidx, fval, nf, kl, ci, sv, tot, tie_rtol, scale, ptmp)
    if _split_axis(lo, hi, ci) < 0:  # the grid is one point (up to the swept bias)
        evaluated += per_leaf
        b0, j0 = box_bound(lo, hi, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot)
        fidx, fval, nf = _offer_point(fidx, fval, nf, lo, ci, b0, tot, tie_rtol, scale, ptmp)
        best = fval[0]
        for t in range(N):
            best_idx[t] = fidx[0, t]
        if keep_proof:
            plo, phi, pkind, pbound, ok = _append(plo, phi, pkind, pbound, 0, lo, hi, KIND_EVALUATED,
                                                  b0, max_proof)
            nproof = 1
        return (status, best, best_idx, evaluated, boxes, plo[:nproof], phi[:nproof], pkind[:nproof],
                pbound[:nproof], nproof, fval[nf - 1])
    sl = free[nfree - 1]
    nfree -= 1
    pool_lo[sl, :] = lo
    pool_hi[sl, :] = hi
    key[0] = b0
    seq[0] = 0
    slot[0] = sl
    n += 1
    nseq += 1
    pops = 0
    centre = np.empty(N, np.int32)
    order = np.empty(max(nblocks, 1), np.int64)
    tmp = np.empty(N, np.int32)
    while n > 0:
        if depth_first:
            bkey = key[n - 1]
            sl = slot[n - 1]
        else:
            bkey = key[0]
            sl = slot[0]
            _heap_pop(key, seq, slot, n)
        n -= 1
        lo[:] = pool_lo[sl]
        hi[:] = pool_hi[sl]
        free[nfree] = sl
        nfree += 1
        if nf > 0 and bkey >= fval[nf - 1]:
            if keep_proof:
                plo, phi, pkind, pbound, ok = _append(plo, phi, pkind, pbound, nproof, lo, hi,
                                                      KIND_PRUNED, bkey, max_proof)
                if not ok:
                    status = PROOF_FULL
                    break
                nproof += 1
            continue
        if pops % centre_every == 0:
            for t in range(N):
                centre[t] = (lo[t] + hi[t]) // 2
            if nblocks > 1:  # a canonical probe: hidden blocks sorted, output weights along
                for j in range(nblocks):
                    order[j] = j
                for j in range(1, nblocks):  # insertion sort by lexicographic block order
                    q = j
                    while q > 0:
                        a = order[q - 1] * blen
                        b = order[q] * blen
                        swap = False
                        for t in range(blen):
                            if centre[b + t] != centre[a + t]:
                                swap = centre[b + t] < centre[a + t]
                                break
                        if not swap:
                            break
                        order[q - 1], order[q] = order[q], order[q - 1]
                        q -= 1
                tmp[:] = centre
                for j in range(nblocks):
                    for t in range(blen):
                        centre[j * blen + t] = tmp[order[j] * blen + t]
                    if out_w0 >= 0:
                        centre[out_w0 + j] = tmp[out_w0 + order[j]]
            cv, cj = box_bound(centre, centre, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot)
            evaluated += per_leaf
            fidx, fval, nf = _offer_point(fidx, fval, nf, centre, ci, cv, tot, tie_rtol, scale, ptmp)
        pops += 1
        ax = _split_axis(lo, hi, ci)
        mid = (lo[ax] + hi[ax]) // 2
        pushed = 0
        for half in range(2):
            kl[:] = lo
            kh[:] = hi
            if half == 0:
                kh[ax] = mid
            else:
                kl[ax] = mid + 1
            kind = -1
            kb = 0.0
            if nblocks > 1 and _unsorted(kl, kh, nblocks, blen):
                kind = KIND_SYMMETRIC
            else:
                kb, kj = box_bound(kl, kh, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot)
                boxes += 1
                if _split_axis(kl, kh, ci) < 0:
                    kind = KIND_EVALUATED
                    evaluated += per_leaf
                    fidx, fval, nf = _offer_point(fidx, fval, nf, kl, ci, kb, tot, tie_rtol, scale, ptmp)
                elif not (nf > 0 and kb >= fval[nf - 1]):
                    if n == max_heap:
                        status = HEAP_FULL
                        break
                    if nfree == 0:
                        newcap = min(2 * cap, max_heap)
                        key = _grow1(key, newcap)
                        seq = _grow1(seq, newcap)
                        slot = _grow1(slot, newcap)
                        pool_lo = _grow2(pool_lo, newcap)
                        pool_hi = _grow2(pool_hi, newcap)
                        free = _grow1(free, newcap)
                        for i in range(newcap - cap):
                            free[i] = newcap - 1 - i
                        nfree = newcap - cap
                        cap = newcap
                    s2 = free[nfree - 1]
                    nfree -= 1
                    pool_lo[s2, :] = kl
                    pool_hi[s2, :] = kh
                    if depth_first:
                        key[n] = kb
                        seq[n] = nseq
                        slot[n] = s2
                    else:
                        _heap_push(key, seq, slot, n, kb, nseq, s2)
                    pushed += 1
                    n += 1
                    nseq += 1
                else:
                    kind = KIND_PRUNED
            if kind >= 0 and keep_proof:
                plo, phi, pkind, pbound, ok = _append(plo, phi, pkind, pbound, nproof, kl, kh,
                                                      kind, kb, max_proof)
                if not ok:
                    status = PROOF_FULL
                    break
                nproof += 1
        if depth_first and pushed == 2 and key[n - 1] > key[n - 2]:  # lower bound on top
            key[n - 1], key[n - 2] = key[n - 2], key[n - 1]
            seq[n - 1], seq[n - 2] = seq[n - 2], seq[n - 1]
            slot[n - 1], slot[n - 2] = slot[n - 2], slot[n - 1]
        if status != OK:
            break
    best = np.inf
    smin = np.inf
    if nf > 0:
        best = fval[0]
        smin = fval[nf - 1]
        for t in range(N):
            best_idx[t] = fidx[0, t]
    return (status, best, best_idx, evaluated, boxes, plo[:nproof], phi[:nproof], pkind[:nproof], pbound[:nproof],
            nproof, smin)


@nb.njit(cache=True)
def _first_tied(point, ci, v, tot, thr, out, g0, g1):
    """Whether the evaluated point ``point`` (the swept bias's values g0..g1: ``tot``) holds a
    value <= thr; the smallest such grid point goes to ``out``."""
    for t in range(point.shape[0]):
        out[t] = point[t]
    if ci < 0:
        return v <= thr
    for g in range(g0, g1 + 1):
        if tot[g] <= thr:
            out[ci] = g
            return True
    return False

@nb.njit(cache=True)
def _widen(a, b):
    """[a, b] widened by 1e-9 of its size: slack for the rounding of the contraction."""
    t = 1e-9 * (1.0 + max(abs(a), abs(b)) if (a > -np.inf and b < np.inf) else 1.0)
    return a - t, b + t


@nb.njit(cache=True)
def _act_inverse(a, code, slope):
    """The smallest t with activation(t) >= a (a nondecreasing activation); -inf if none."""
    if code == RELU:
        return a if a > 0.0 else -np.inf
    if code == LEAKY_RELU:
        return a if a >= 0.0 else a / slope
    if code == ELU:
        return a if a > 0.0 else (math.log1p(a) if a > -1.0 else -np.inf)
    if code == TANH:
        return math.atanh(a) if -1.0 < a < 1.0 else (np.inf if a >= 1.0 else -np.inf)
    return a


@nb.njit(cache=True)
def _act_inverse_hi(b, code, slope):
    """The largest t with activation(t) <= b; +inf if every t; nan if none."""
    if code == RELU:
        return b if b >= 0.0 else np.nan
    if code == LEAKY_RELU:
        return b if b >= 0.0 else b / slope
    if code == ELU:
        return b if b > 0.0 else (math.log1p(b) if b > -1.0 else np.nan)
    if code == TANH:
        return math.atanh(b) if -1.0 < b < 1.0 else (np.inf if b >= 1.0 else np.nan)
    return b


@nb.njit(cache=True)
def _divide(tl, th, dl, dh):
    """An enclosure of {t / d : t in [tl, th], d in [dl, dh]} for 0 not in [dl, dh]."""
    q1 = tl / dl
    q2 = tl / dh
    q3 = th / dl
    q4 = th / dh
    return min(min(q1, q2), min(q3, q4)), max(max(q1, q2), max(q3, q4))


@nb.njit(cache=True)
def contract(lo, hi, data, arch, slope, loss, ci, thr, sl, sh, ul, uh, pl, ph, rounds):
    """Narrow the box [lo, hi] of grid indices (in place) to a box holding all its points with
    S <= thr; False when there is none (constraint propagation, forward then backward).

    For the losses that are a distance to the target (absolute, quadratic) every term of S is
    >= 0, so S <= thr forces every output of point p within e_p = thr / count_p (quadratic:
    its square root) of the target.  Intervals are propagated forward through the DAG for
    every distinct point, then the targets backward: each node's value is intersected with
    the required interval, pulled back through its (nondecreasing) activation and shared
    among its terms (bias, weight times source; a product narrows each factor by interval
    division when the other excludes 0); the parameters' intervals, shared by all points,
    are narrowed and rounded inward to grid values.  Every required interval is widened by
    1e-9 of its size (rounding), so no point with S <= thr is lost.  The swept bias ``ci``'s
    range is narrowed as well (:func:`range_bound` then sweeps only it).  Other losses:
    unchanged, True.  ``sl``, ``sh`` (P, slots), ``ul``, ``uh`` (P, nodes), ``pl``, ``ph`` (N,):
    work arrays."""
    if loss != ABSOLUTE and loss != QUADRATIC:
        return True
    X, Y, cnt, gv = data
    src_ptr, src_idx, w_idx, bias_idx, act, out_idx = arch
    N = lo.shape[0]
    P, n_in = X.shape
    M = bias_idx.shape[0]
    m = out_idx.shape[0]
    for rnd in range(rounds):
        for k in range(N):
            pl[k] = gv[lo[k]]
            ph[k] = gv[hi[k]]
        for p in range(P):  # forward
            for i in range(n_in):
                sl[p, i] = X[p, i]
                sh[p, i] = X[p, i]
            for k in range(M):
                b = bias_idx[k]
                a0 = pl[b] if b >= 0 else 0.0
                b0 = ph[b] if b >= 0 else 0.0
                for e in range(src_ptr[k], src_ptr[k + 1]):
                    s = src_idx[e]
                    w = w_idx[e]
                    c1 = pl[w] * sl[p, s]
                    c2 = pl[w] * sh[p, s]
                    c3 = ph[w] * sl[p, s]
                    c4 = ph[w] * sh[p, s]
                    a0 += min(min(c1, c2), min(c3, c4))
                    b0 += max(max(c1, c2), max(c3, c4))
                ul[p, k] = a0
                uh[p, k] = b0
                if act[k] >= 0:
                    a0 = activate(a0, act[k], slope)
                    b0 = activate(b0, act[k], slope)
                sl[p, n_in + k] = a0
                sh[p, n_in + k] = b0
        for p in range(P):  # backward
            e_p = thr / cnt[p]
            if loss == QUADRATIC:
                e_p = math.sqrt(max(e_p, 0.0))
            for j in range(m):
                o = out_idx[j]
                a, b = _widen(Y[p, j] - e_p, Y[p, j] + e_p)
                if a > sh[p, o] or b < sl[p, o]:
                    return False
                sl[p, o] = max(sl[p, o], a)
                sh[p, o] = min(sh[p, o], b)
            for k in range(M - 1, -1, -1):
                a = sl[p, n_in + k]
                b = sh[p, n_in + k]
                if act[k] >= 0:
                    ta = _act_inverse(a, act[k], slope)
                    tb = _act_inverse_hi(b, act[k], slope)
                    if np.isnan(tb):
                        return False
                    a, b = _widen(ta, tb)
                ua = max(ul[p, k], a)
                ub = min(uh[p, k], b)
                if ua > ub:
                    return False
                bb = bias_idx[k]
                tot_l = pl[bb] if bb >= 0 else 0.0
                tot_h = ph[bb] if bb >= 0 else 0.0
                for e in range(src_ptr[k], src_ptr[k + 1]):
                    s = src_idx[e]
                    w = w_idx[e]
                    c1 = pl[w] * sl[p, s]
                    c2 = pl[w] * sh[p, s]
                    c3 = ph[w] * sl[p, s]
                    c4 = ph[w] * sh[p, s]
                    tot_l += min(min(c1, c2), min(c3, c4))
                    tot_h += max(max(c1, c2), max(c3, c4))
                if bb >= 0:
                    ta, tb = _widen(ua - (tot_h - ph[bb]), ub - (tot_l - pl[bb]))
                    pl[bb] = max(pl[bb], ta)
                    ph[bb] = min(ph[bb], tb)
                    if pl[bb] > ph[bb]:
                        return False
                for e in range(src_ptr[k], src_ptr[k + 1]):
                    s = src_idx[e]
                    w = w_idx[e]
                    c1 = pl[w] * sl[p, s]
                    c2 = pl[w] * sh[p, s]
                    c3 = ph[w] * sl[p, s]
                    c4 = ph[w] * sh[p, s]
                    tl = min(min(c1, c2), min(c3, c4))
                    th = max(max(c1, c2), max(c3, c4))
                    ta, tb = _widen(ua - (tot_h - th), ub - (tot_l - tl))
                    if sl[p, s] > 0.0 or sh[p, s] < 0.0:
                        qa, qb = _divide(ta, tb, sl[p, s], sh[p, s])
                        qa, qb = _widen(qa, qb)
                        pl[w] = max(pl[w], qa)
                        ph[w] = min(ph[w], qb)
                        if pl[w] > ph[w]:
                            return False
                    if s >= n_in and (pl[w] > 0.0 or ph[w] < 0.0):
                        qa, qb = _divide(ta, tb, pl[w], ph[w])
                        qa, qb = _widen(qa, qb)
                        sl[p, s] = max(sl[p, s], qa)
                        sh[p, s] = min(sh[p, s], qb)
                        if sl[p, s] > sh[p, s]:
                            return False
        changed = False
        for k in range(N):
            a = np.searchsorted(gv, pl[k], side="left")
            b = np.searchsorted(gv, ph[k], side="right") - 1
            if a > lo[k]:
                lo[k] = a
                changed = True
            if b < hi[k]:
                hi[k] = b
                changed = True
            if lo[k] > hi[k]:
                return False
        if not changed:
            break
    return True

@nb.njit(cache=True)
def find_tied(lo0, hi0, data, arch, slope, loss, reg, lamD, ci, nblocks, blen, thr, max_work, contracting):
    """A grid point with S <= thr in the box [lo0, hi0] when it holds a sorted one, else
    none found: depth-first, the canonical bisection (``_split_axis``), the child with the
    lower bound first (the lower half among equal bounds); each box taken is first narrowed
    by :func:`contract` (when ``contracting``), and boxes with a bound above thr or no sorted
    point are dropped.  The swept bias ``ci`` (when >= 0) takes every value of its range,
    which contraction narrows.

    Returns (status, found, digits, boxes bounded or contracted, points evaluated): status 0
    done, 3 past ``max_work`` of those."""
    X, gv = data[0], data[3]
    bias_idx, out_idx = arch[3], arch[5]
    N = lo0.shape[0]
    G = gv.shape[0]
    P = X.shape[0]
    M = bias_idx.shape[0]
    nv = X.shape[1] + M
    vl = np.empty(nv)
    vh = np.empty(nv)
    zl = np.empty(out_idx.shape[0])
    zh = np.empty(out_idx.shape[0])
    tot = np.empty(G)
    sl = np.empty((P, nv))
    sh = np.empty((P, nv))
    ul = np.empty((P, M))
    uh = np.empty((P, M))
    pl = np.empty(N)
    ph = np.empty(N)
    bits = 0
    while (1 << bits) < G:
        bits += 1
    cap = N * (bits + 1) + 4  # one pending sibling per level, plus the pair just split
    slo = np.empty((cap, N), np.int32)
    shi = np.empty((cap, N), np.int32)
    sb = np.empty(cap)
    lo = np.empty(N, np.int32)
    hi = np.empty(N, np.int32)
    out = np.zeros(N, np.int64)
    cs = max(ci, 0)
    evaluated = 0
    boxes = 0
    slo[0, :] = lo0
    shi[0, :] = hi0
    sb[0] = -np.inf
    n = 1
    while n > 0:
        n -= 1
        lo[:] = slo[n]
        hi[:] = shi[n]
        if contracting:
            boxes += 1
            if not contract(lo, hi, data, arch, slope, loss, ci, thr, sl, sh, ul, uh, pl, ph, 8):
                continue
        if nblocks > 1 and _unsorted(lo, hi, nblocks, blen):
            continue
        ax = _split_axis(lo, hi, ci)
        if ax < 0:  # one point: its bound is its value at each value of the swept bias
            v, _ = range_bound(lo, hi, data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot,
                               lo[cs], hi[cs])
            evaluated += 1
            if _first_tied(lo, ci, v, tot, thr, out, lo[cs], hi[cs]):
                return OK, True, out, boxes, evaluated
            continue
        mid = (lo[ax] + hi[ax]) // 2
        base = n
        for half in range(2):
            slo[n, :] = lo
            shi[n, :] = hi
            if half == 0:
                shi[n, ax] = mid
            else:
                slo[n, ax] = mid + 1
            if nblocks > 1 and _unsorted(slo[n], shi[n], nblocks, blen):
                continue
            if _split_axis(slo[n], shi[n], ci) < 0:
                sb[n] = -np.inf  # a point: evaluated when taken
            else:
                b, _ = range_bound(slo[n], shi[n], data, arch, slope, loss, reg, lamD, ci, vl, vh, zl, zh, tot,
                                   slo[n, cs], shi[n, cs])
                boxes += 1
                if not b <= thr:
                    continue
                sb[n] = b
            n += 1
        if n == base + 2 and sb[base] <= sb[base + 1]:  # the lower bound (else the lower half) on top
            for t in range(N):
                slo[base, t], slo[base + 1, t] = slo[base + 1, t], slo[base, t]
                shi[base, t], shi[base + 1, t] = shi[base + 1, t], shi[base, t]
            sb[base], sb[base + 1] = sb[base + 1], sb[base]
        if evaluated + boxes > max_work:
            return BUDGET, False, out, boxes, evaluated
    return OK, False, out, boxes, evaluated


@nb.njit(cache=True)
def _grow2(a, cap):
    b = np.empty((cap, a.shape[1]), a.dtype)
    b[: a.shape[0]] = a
    return b


@nb.njit(cache=True)
def _grow1(a, cap):
    b = np.empty(cap, a.dtype)
    b[: a.shape[0]] = a
    return b
