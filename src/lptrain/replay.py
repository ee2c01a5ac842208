"""Replaying a branch-and-bound proof, sharing no code with the search (``solvers/bnb.py``).

A proof is a list of leaf boxes (products of grid-index intervals, one per parameter), each
marked pruned, symmetric or evaluated.  It proves that no grid point beats the optimum S*
(= D times the reported objective) when

1. **the leaves partition the grid.**  Every leaf must be a node of the canonical bisection
   (from the root [0, G-1]^N: halve the widest interval, the last parameter among equals,
   never the output bias when the search sweeps it; lower half [l, (l+h)//2]).  Two nodes of
   one binary tree are disjoint or nested, so leaves whose root-to-node paths form a
   prefix-free set are pairwise disjoint; disjoint leaves whose sizes sum to G^N cover the
   grid.
2. **every pruned or evaluated leaf has a lower bound >= S*,** recomputed here: intervals
   propagated through the DAG from the box (each weight-times-input product bounded by its
   four corner products, the activation's declared bound), each point's loss bounded below
   on its output interval, summed with the counts, plus D lam times the least regularizer
   on the box; when the single output's bias is not branched on, every grid value of it is
   tried exactly.  Built-in activations run compiled (``_verify_kernels``); others through
   their declared interval function (``activations.interval``) in numpy.
   A user activation's declared bound is first tried on a fixed set of intervals
   (``_falsify_declarations``): a false declaration (``|t|`` declared monotone) is refused.
3. **every symmetric leaf holds no sorted point** (one hidden layer, one activation): permuting hidden units
   together with their output weights changes neither f nor R, so every grid point has a
   permuted copy whose hidden units' own parameter vectors are in nondecreasing
   lexicographic order; such a copy lies in a leaf of kind 1 or 2 by (1).  A box holds no
   sorted point when some unit j+1's largest vector (its ``hi``) is lexicographically below
   unit j's smallest (its ``lo``).

The reported point attaining S* is checked separately (``certificate.answer_problems``).
"""

from __future__ import annotations

import numpy as np

from . import activations as _acts
from . import verify
from .verdict import TOL, Certificate

MAX_DEPTH = 128


def check_proof(face, solution, tol=TOL) -> Certificate:
    ok, why, worst = replay(face, solution, tol)
    return Certificate(ok, "proof", 0.0 if ok else float("nan"), worst, 0.0 if ok else float("nan"),
                       "" if ok else f"proof replay: {why}")


def replay(face, solution, tol=TOL):
    """(valid, reason, largest shortfall of a leaf bound below S*, 0 when none)."""
    p = face.polytope
    data = verify.Data(face)
    g = verify.Graph(p.arch)
    G, N = data.G, p.N
    pr = (solution.info or {}).get("proof")
    if pr is None:
        return False, "no proof recorded", float("nan")
    lo = np.ascontiguousarray(np.asarray(pr["lo"], dtype=np.int64).reshape(-1, N))
    hi = np.ascontiguousarray(np.asarray(pr["hi"], dtype=np.int64).reshape(-1, N))
    kind = np.asarray(pr["kind"]).reshape(-1)
    if len(lo) == 0 or len(hi) != len(lo) or len(kind) != len(lo):
        return False, "the proof is empty or malformed", float("nan")
    if lo.min() < 0 or hi.max() > G - 1 or np.any(lo > hi):
        return False, "a leaf is not a box of the grid", float("nan")
    S = float(solution.objective) * data.D
    if not np.isfinite(S):
        return False, "the objective is not finite", float("nan")
    why = _falsify_declarations(g)
    if why:
        return False, why, float("nan")
    cpos = _swept_bias(p.arch)
    why = _partition(lo, hi, G, N, cpos)
    if why:
        return False, why, float("nan")
    sym = kind == 1
    if np.any(sym):
        blocks = _hidden_blocks(p.arch)
        if blocks is None:
            return False, "leaves are marked symmetric on a net without interchangeable units", float("nan")
        idx = np.flatnonzero(sym)
        holds = ~_no_sorted_point(lo[idx], hi[idx], blocks)
        if np.any(holds):
            i = int(idx[np.flatnonzero(holds)[0]])
            return False, f"leaf {i} is marked symmetric but holds a sorted point", float("nan")
    bnd = ~sym
    b = _bounds(g, data, p, lo[bnd], hi[bnd], cpos)
    short = S - b
    limit = tol * (1.0 + abs(S))
    bad = ~(short <= limit)
    worst = float(np.max(short, initial=0.0)) / data.D
    if np.any(bad):
        i = int(np.flatnonzero(bnd)[np.flatnonzero(bad)[0]])
        v = float(b[np.flatnonzero(bad)[0]])
        return False, f"leaf {i}'s recomputed bound {v / data.D:.10g} is below the optimum {S / data.D:.10g}", worst
    return True, "", max(worst, 0.0)


def _falsify_declarations(g, span=8.0, ends=65, inner=9):
    """A declared bound of a user activation is trusted by the search and by this replay
    alike; try to refute it: on every interval between two of ``ends`` points of
    [-span, span], the function at ``inner`` points must lie in the declared enclosure.
    (A test, not a proof; the built-in activations are nondecreasing by their formulas.)"""
    names = {a for a, c in zip(g.act_names, g.act) if a is not None and c < 0}
    t = np.linspace(-span, span, ends)
    L, H = np.meshgrid(t, t, indexing="ij")
    keep = L <= H
    L, H = L[keep], H[keep]
    frac = np.linspace(0.0, 1.0, inner)
    T = L[:, None] + (H - L)[:, None] * frac[None, :]
    for name in sorted(names):
        lo_, hi_ = _acts.interval(name, L, H)
        v = np.asarray(_acts.get_activation(name)(T), dtype=np.float64)
        slack = 1e-12 * (1.0 + np.abs(v))
        ok = (lo_[:, None] - slack <= v) & (v <= hi_[:, None] + slack)
        if not np.all(ok):
            i = int(np.flatnonzero(~np.all(ok, axis=1))[0])
            return (f"activation {name!r}'s declared bound does not enclose its values on "
                    f"[{L[i]:g}, {H[i]:g}]")
    return ""


def _swept_bias(arch):
    """The output bias's parameter index when the net has one output whose bias is used
    nowhere else (then the search never branches on it), else -1."""
    if arch.n_outputs != 1:
        return -1
    out = [nd for nd in arch.nodes if nd.name == arch.outputs[0]][0]
    c = out.bias
    if c is None:
        return -1
    uses = sum((nd.bias == c) + sum(w == c for w in nd.weights) for nd in arch.nodes)
    return c if uses == 1 else -1


def _partition(lo, hi, G, N, cpos):
    from . import _verify_kernels as k

    if (G.bit_length() - 1) * N > MAX_DEPTH:
        return f"bisection paths of up to {(G.bit_length() - 1) * N} halvings exceed the replay's {MAX_DEPTH}"
    w0, w1, depth = k.canonical_paths(lo, hi, G, cpos, MAX_DEPTH)
    if np.any(depth < 0):
        i = int(np.flatnonzero(depth < 0)[0])
        return f"leaf {i} is not a node of the canonical bisection"
    order = np.lexsort((depth, w1, w0))
    a0, a1, d = w0[order], w1[order], depth[order]
    if len(order) > 1:
        x0, x1, dx = a0[:-1], a1[:-1], d[:-1]
        y0, y1 = a0[1:], a1[1:]
        m0 = _mask(np.minimum(dx, 64))
        m1 = _mask(np.maximum(dx - 64, 0))
        prefix = ((x0 & m0) == (y0 & m0)) & ((x1 & m1) == (y1 & m1))
        if np.any(prefix & (d[:-1] == d[1:])):
            return "a leaf box is recorded twice"
        if np.any(prefix):
            return "two leaves overlap"
    if G ** N < (1 << 62):
        total = int(k.volumes_sum(lo, hi))
    else:  # exact in Python integers
        total = int(np.prod((hi - lo + 1).astype(object), axis=1).sum())
    if total != G ** N:
        return "the leaves do not cover the grid"
    return ""


def _mask(bits):
    bits = np.asarray(bits, dtype=np.int64)
    full = np.uint64(0xFFFFFFFFFFFFFFFF)
    out = np.zeros(bits.shape, np.uint64)
    nz = bits > 0
    out[nz] = full << (np.uint64(64) - bits[nz].astype(np.uint64))
    return out


def _hidden_blocks(arch):
    """Per hidden unit of a one-hidden-layer net (every output reads exactly the hidden units,
    which read exactly the inputs with one activation; nothing shared): its own parameter
    indices (weights, bias)."""
    outs = set(arch.outputs)
    hidden = [nd for nd in arch.nodes if nd.name not in outs]
    inputs = tuple(arch.input_names)
    if len(hidden) < 2 or any(nd.sources != inputs or nd.activation != hidden[0].activation for nd in hidden):
        return None
    names = tuple(nd.name for nd in hidden)
    if any(nd.sources != names for nd in arch.nodes if nd.name in outs):
        return None
    blocks = [list(nd.weights) + ([nd.bias] if nd.bias is not None else []) for nd in hidden]
    used = [q for b in blocks for q in b] + [q for nd in arch.nodes if nd.name in outs
                                             for q in list(nd.weights) + [nd.bias]]
    if len(set(q for q in used if q is not None)) != len([q for q in used if q is not None]):
        return None
    if len({len(b) for b in blocks}) != 1:
        return None
    return blocks


def _no_sorted_point(lo, hi, blocks):
    """For leaves lo, hi (L, N): True where some unit's largest vector is lexicographically
    below the previous unit's smallest."""
    out = np.zeros(len(lo), bool)
    for b1, b2 in zip(blocks, blocks[1:]):
        diff = hi[:, b2] - lo[:, b1]
        nz = diff != 0
        first = np.argmax(nz, axis=1)
        below = nz.any(axis=1) & (diff[np.arange(len(lo)), first] < 0)
        out |= below
    return out


def _bounds(g, data, p, lo, hi, cpos, block=1 << 16):
    reg = {None: 0, "l1": 1, "l2": 2}[p.reg]
    lamD = (p.lam if p.reg else 0.0) * data.D
    loss = verify._LOSS[p.loss.name]
    if g.compiled:
        from . import _verify_kernels as k

        return k.leaf_bounds(lo, hi, data.gv, data.X, data.Y, data.cnt, g.start, g.src, g.par, g.bias, g.act,
                             g.out, loss, reg, lamD, _acts.LEAKY_SLOPE, cpos)
    return np.concatenate([_bounds_numpy(g, data, p.loss.name, reg, lamD, lo[s:s + block], hi[s:s + block], cpos)
                           for s in range(0, len(lo), block)]) if len(lo) else np.zeros(0)


def _bounds_numpy(g, data, loss, reg, lamD, lo, hi, cpos):
    """The same bound as ``leaf_bounds`` for any declared activation, leaves in a batch."""
    gv = data.gv
    Lv, Hv = gv[lo], gv[hi]
    B, P = len(lo), len(data.X)
    if cpos >= 0:
        Lv[:, cpos] = 0.0
        Hv[:, cpos] = 0.0
    low = np.where(Lv > 0, Lv, np.where(Hv < 0, -Hv, 0.0))
    pen = (low if reg == 1 else low * low).sum(1) if reg else np.zeros(B)
    vl = [np.broadcast_to(data.X[None, :, j], (B, P)) for j in range(g.n)]
    vh = list(vl)
    for q in range(len(g.bias)):
        b = g.bias[q]
        sl = np.repeat(Lv[:, b, None], P, 1) if b >= 0 else np.zeros((B, P))
        sh = np.repeat(Hv[:, b, None], P, 1) if b >= 0 else np.zeros((B, P))
        for e in range(g.start[q], g.start[q + 1]):
            wl, wh = Lv[:, g.par[e], None], Hv[:, g.par[e], None]
            xl, xh = vl[g.src[e]], vh[g.src[e]]
            corners = np.stack([wl * xl, wl * xh, wh * xl, wh * xh])
            sl = sl + corners.min(0)
            sh = sh + corners.max(0)
        name = g.act_names[q]
        if name is not None:
            sl, sh = _acts.interval(name, sl, sh)
        vl.append(sl)
        vh.append(sh)
    zl = np.stack([vl[o] for o in g.out], -1)
    zh = np.stack([vh[o] for o in g.out], -1)
    shifts = gv if cpos >= 0 else np.zeros(1)
    best = np.full(B, np.inf)
    for j, c in enumerate(shifts):
        if cpos >= 0:
            inside = (lo[:, cpos] <= j) & (j <= hi[:, cpos])
        else:
            inside = np.ones(B, bool)
        lb = _lb_numpy(loss, zl + c, zh + c, data.Y[None]) @ data.cnt
        extra = lamD * (pen + (abs(c) if reg == 1 else c * c if reg == 2 else 0.0)) if reg else 0.0
        best = np.where(inside, np.minimum(best, lb + extra), best)
    return best


def _lb_numpy(loss, zl, zh, Y):
    if loss in ("absolute", "quadratic"):
        gap = np.maximum(0.0, np.maximum(zl - Y, Y - zh))
        return (gap if loss == "absolute" else gap * gap).sum(-1)
    best = np.maximum(Y * zl, Y * zh).sum(-1)
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - best)
    sy = Y.sum(-1)
    z = np.where(sy[..., None] >= 0, zl, zh)
    top = z.max(-1)
    return sy * (top + np.log(np.exp(z - top[..., None]).sum(-1))) - best
