"""Exact branch-and-bound over the parameter grid (``--solver bnb``).

The face's optimum is min over grid points a of S(a) = sum_p count_p l_p(a) (+ D lam R(a))
(docs/design.md §4).  A *box* is a product of index intervals, one per parameter.  Its lower bound
propagates intervals through the network for every distinct data point (|phi s| bounds by
the four corner products, each activation by its declared bound, ``activations.interval``;
an activation without one is refused), bounds each point's loss from
below on its output interval, and sums with the counts.  The bound is exact on a one-point
box.

* The output bias c of a single-output net is never branched on: for a box, the bound is
  min over the grid values of c of the summed bounds at the pre-bias interval shifted by
  c, which is exact once every other parameter is fixed (3-4x fewer boxes than branching on c, measured on
  1-3-1 at D = 100).
* Each box taken from the queue has its centre evaluated exactly: the incumbent.
* Best-first in batches; a box whose bound is not below the incumbent is pruned, and for
  one-hidden-layer nets so is a box holding no point whose hidden units are sorted
  (permuting hidden units with their output weights leaves f unchanged).
* Branching halves the widest interval (last parameter first), so the search tree is
  canonical: :func:`verify_proof` checks that the recorded leaves partition the grid and
  that every pruned leaf's bound, recomputed independently, is not below the optimum.

Two implementations of the same search: a compiled one (numba, ``_bnb_kernels.py``: one
box at a time, a centre probe every ``centre_every`` boxes; used for the built-in
activations) and the numpy one below (best-first in batches; any registered activation).
The compiled search runs depth-first by default (``depth_first``), lower-bound child first:
memory is the depth of the tree and every step stays in cache.  Depth-first needs a good
incumbent early, so it starts from the optimum of the same data on the grid with one bit
less (``coarse_seed``; that grid's points are points of this one), found the same way,
recursively; ``seed_evaluated`` reports that work.  Best-first (``depth_first = False``)
visits the fewest boxes for a given bound.
Both record the proof as arrays ``lo``, ``hi`` (grid indices of each leaf box), ``kind``
(0 pruned, 1 symmetric, 2 evaluated) and ``bound``; :func:`verify_proof` (and the certificate
check) replays them with ``lptrain.replay``, which shares no code with either search.

``evaluated`` counts grid points whose loss was computed exactly (centres, and one-point
boxes over every value of c).  ``evaluations`` (the work) = (points evaluated, the coarse
seeds' included) x distinct points + (boxes bounded) x (G with a swept bias, else 1) x
distinct points; ``info`` splits them as ``point_evaluations`` and ``box_bound_evaluations``.

Ties follow ``lptrain.ties``: every evaluated point is offered to a :class:`~lptrain.ties.Front`
(the tie candidates); then ``BranchAndBound._ties`` finds the smallest-index point within
the window of the proven minimum (halving on the most significant parameter, each lower
half decided by ``_bnb_kernels.find_tied``), so bnb returns the grid point the scans
return.  The proof is the optimum's search's alone: the point returned is within the
window, so the proof's bounds stay >= its objective up to the check's tolerance.
"""

from __future__ import annotations

import copy
import heapq

import numpy as np

from .. import activations
from ..activations import get_activation
from ..evaluation import index_of, regularizer
from ..exceptions import InputError, LPTrainError, SizeError
from ..progress import bar
from ..sizes import human_bytes
from ..ties import TIE_RTOL, Front, window
from . import codes, fused
from .base import Solution, Solver

BATCH = 256
KINDS = ("pruned", "symmetric", "evaluated")


def _interval_outputs(arch, X, lo_v, hi_v):
    """Output intervals for boxes (B, N) of parameter values and points X (P, n): (B, P, m) x2."""
    Bn = lo_v.shape[0]
    P = X.shape[0]
    L = {x: np.broadcast_to(X[None, :, i], (Bn, P)) for i, x in enumerate(arch.input_names)}
    U = dict(L)
    for nd in arch.nodes:
        if nd.bias is not None:
            lo = np.repeat(lo_v[:, nd.bias, None], P, 1)
            hi = np.repeat(hi_v[:, nd.bias, None], P, 1)
        else:
            lo = np.zeros((Bn, P))
            hi = np.zeros((Bn, P))
        for s, w in zip(nd.sources, nd.weights):
            wl, wh = lo_v[:, w, None], hi_v[:, w, None]
            c = np.stack([wl * L[s], wl * U[s], wh * L[s], wh * U[s]])
            lo = lo + c.min(axis=0)
            hi = hi + c.max(axis=0)
        if nd.activation is not None:
            lo, hi = activations.interval(nd.activation, lo, hi)
        L[nd.name], U[nd.name] = lo, hi
    return (np.stack([L[o] for o in arch.outputs], -1), np.stack([U[o] for o in arch.outputs], -1))


def loss_lower_bound(name, zl, zh, y):
    """A lower bound of l(z, y) over z in [zl, zh] (exact when zl == zh): (...,)."""
    if name in ("absolute", "quadratic"):
        d = np.maximum(np.maximum(zl - y, y - zh), 0.0)
        return (d if name == "absolute" else d * d).sum(-1)
    best = np.maximum(zl * y, zh * y).sum(-1)
    if name == "hinge":
        return np.maximum(1.0 - best, 0.0)
    sy = y.sum(-1)
    z = np.where((sy >= 0)[..., None], zl, zh)
    mx = z.max(-1, keepdims=True)
    lse = (np.log(np.exp(z - mx).sum(-1, keepdims=True)) + mx)[..., 0]
    return sy * lse - best


def _reg_lower(lo_v, hi_v, reg):
    if reg is None:
        return np.zeros(lo_v.shape[0])
    m = np.where((lo_v <= 0) & (hi_v >= 0), 0.0, np.minimum(np.abs(lo_v), np.abs(hi_v)))
    return m.sum(1) if reg == "l1" else (m * m).sum(1)


class Bounder:
    """Lower bounds and exact values of S on boxes of one face."""

    def __init__(self, face):
        p = face.polytope
        self.arch, self.loss, self.gv = p.arch, p.loss.name, p.grid.values()
        self.X, self.Y = p.evaluator.points(face.distinct)
        self.cnt = face.counts.astype(np.float64)
        self.D = face.samples
        self.lamD = p.lam * face.samples if p.reg else 0.0
        self.reg = p.reg
        self.G, self.N = p.grid.size, p.N
        out = self.arch.nodes[self.arch.node_index[self.arch.outputs[0]]]
        self.c_index = out.bias if (self.arch.n_outputs == 1 and out.bias is not None
                                     and sum(nd.bias == out.bias for nd in self.arch.nodes) == 1
                                     and not any(out.bias in nd.weights for nd in self.arch.nodes)) else None

    def bounds(self, lo, hi):
        """(bound, best c index or -1) for boxes lo, hi (B, N) of grid indices."""
        lo_v, hi_v = self.gv[lo], self.gv[hi]
        if self.c_index is None:
            zl, zh = _interval_outputs(self.arch, self.X, lo_v, hi_v)
            b = (loss_lower_bound(self.loss, zl, zh, self.Y[None]) * self.cnt).sum(1)
            return b + self.lamD * _reg_lower(lo_v, hi_v, self.reg), np.full(len(lo), -1)
        ci = self.c_index
        lo_v = lo_v.copy()
        hi_v = hi_v.copy()
        lo_v[:, ci] = 0.0
        hi_v[:, ci] = 0.0
        zl, zh = _interval_outputs(self.arch, self.X, lo_v, hi_v)
        cs = self.gv[:, None, None, None]  # (G, 1, 1, 1): every value of c
        lb = loss_lower_bound(self.loss, zl[None] + cs, zh[None] + cs, self.Y[None, None])  # (G, B, P)
        tot = (lb * self.cnt).sum(-1)  # (G, B)
        if self.reg:
            rc = np.abs(self.gv) if self.reg == "l1" else self.gv ** 2
            tot = tot + self.lamD * (_reg_lower(lo_v, hi_v, self.reg)[None] + rc[:, None])
        j = np.argmin(tot, axis=0)
        return tot[j, np.arange(tot.shape[1])], j

    def bias_values(self, point):
        """S at one grid point for every value of the swept bias (its bound is exact there)."""
        lo_v = self.gv[point][None].copy()
        ci = self.c_index
        lo_v[:, ci] = 0.0
        zl, zh = _interval_outputs(self.arch, self.X, lo_v, lo_v)
        cs = self.gv[:, None, None, None]
        tot = (loss_lower_bound(self.loss, zl[None] + cs, zh[None] + cs, self.Y[None, None]) * self.cnt).sum(-1)
        if self.reg:
            rc = np.abs(self.gv) if self.reg == "l1" else self.gv ** 2
            tot = tot + self.lamD * (_reg_lower(lo_v, lo_v, self.reg)[None] + rc[:, None])
        return tot[:, 0]

    def exact(self, idx):
        """S at grid points idx (B, N) (with c free when it is the swept bias): (values, c index)."""
        return self.bounds(idx, idx)

    def evaluate_points(self, idx):
        v = self.gv[idx]
        z = self.arch.forward(self.X, v)
        s = (self.loss_vals(z) * self.cnt).sum(1)
        if self.reg:
            s = s + self.lamD * regularizer(v, self.reg)
        return s

    def loss_vals(self, z):
        from ..losses import get_loss

        return get_loss(self.loss).evaluate(z, self.Y[None])


def hidden_blocks(arch):
    """Parameter index blocks of the hidden units of a one-hidden-layer net (else None)."""
    w = arch.widths
    if w is None or len(w) != 3 or w[1] < 2:
        return None
    n = w[0]
    return [list(range(j * (n + 1), (j + 1) * (n + 1))) for j in range(w[1])]


def lex_less(a, b):
    for x, y in zip(a, b):
        if x != y:
            return x < y
    return False


def no_sorted_point(lo, hi, blocks) -> bool:
    """True when the box holds no point with hidden blocks in nondecreasing lex order.

    Permuting hidden units (with their output weights) leaves f unchanged, so some optimum
    has sorted blocks; a box whose block j+1 is lex-below block j everywhere can go.
    """
    if blocks is None:
        return False
    for b1, b2 in zip(blocks, blocks[1:]):
        if lex_less(hi[b2], lo[b1]):
            return True
    return False


def split(lo, hi, c_index):
    """Canonical bisection: the widest interval, the *last* parameter first (the output layer
    before the hidden ones: about 10x fewer evaluations on 1-3-1), at its midpoint."""
    width = hi - lo
    if c_index is not None:
        width = width.copy()
        width[c_index] = -1
    k = len(width) - 1 - int(np.argmax(width[::-1]))
    if width[k] <= 0:
        return None
    mid = (lo[k] + hi[k]) // 2
    h1 = hi.copy()
    h1[k] = mid
    l2 = lo.copy()
    l2[k] = mid + 1
    return (lo, h1), (l2, hi)


def kernel_arrays(arch):
    """The architecture as the compiled search's tuple of flat arrays (src_ptr, src_idx, w_idx,
    bias_idx, act, out_idx), or None when an activation is not one of the built-in ones (then
    the numpy path runs)."""
    slot = {x: i for i, x in enumerate(arch.input_names)}
    slot.update({nd.name: arch.n_inputs + k for k, nd in enumerate(arch.nodes)})
    act = []
    for nd in arch.nodes:
        if nd.activation is None:
            act.append(codes.NO_ACTIVATION)
        elif get_activation(nd.activation) is getattr(activations, nd.activation, None):
            act.append(codes.ACT_CODES[nd.activation])
        else:
            return None
    ptr = np.cumsum([0] + [len(nd.sources) for nd in arch.nodes]).astype(np.int64)
    src = np.array([slot[x] for nd in arch.nodes for x in nd.sources], np.int64)
    wts = np.array([w for nd in arch.nodes for w in nd.weights], np.int64)
    bias = np.array([-1 if nd.bias is None else nd.bias for nd in arch.nodes], np.int64)
    outs = np.array([slot[o] for o in arch.outputs], np.int64)
    return ptr, src, wts, bias, np.array(act, np.int64), outs


def _too_big(what, memory, done):
    return SizeError(f"bnb's {what} outgrew the memory limit ({human_bytes(memory)}) after "
                     f"{done:,} boxes; raise memory=, or use solver='structured'")


class BranchAndBound(Solver):
    """Exact branch-and-bound over the parameter grid (see the module docstring).

    Parameters
    ----------
    symmetry : bool
        Prune boxes holding no point with sorted hidden units (one hidden layer).
    compiled : bool
        The numba search when the activations are built in (else the numpy one).
    centre_every : int
        The compiled search evaluates a box's centre every ``centre_every`` boxes.
    depth_first : bool
        Depth-first (lower bound first) rather than best-first (compiled search).
    coarse_seed : bool
        Depth-first starts from the optimum on the grid with one bit less.
    tie_budget, tie_factor : int
        The smallest-index tie search stops (``tie_break = "unresolved"``) past tie_budget +
        tie_factor x (the boxes of the optimum's search and of its coarse seeds, their tie
        searches included) bounds and evaluations.
    contract : bool
        Narrow the tie search's boxes by constraint propagation (``_bnb_kernels.contract``).
    """

    name = "bnb"

    def __init__(self, *, symmetry=True, compiled=True, centre_every=64, depth_first=True,
                 coarse_seed=True, tie_budget=1_000_000, tie_factor=8, contract=True):
        for what, v, least in (("centre_every", centre_every, 1), ("tie_budget", tie_budget, 1),
                               ("tie_factor", tie_factor, 0)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < least:
                word = "positive" if least else "non-negative"
                raise InputError(f"solver 'bnb': {what}={v!r}; expected a {word} integer")
        self.symmetry, self.compiled = bool(symmetry), bool(compiled)
        self.centre_every, self.tie_budget = int(centre_every), int(tie_budget)
        self.depth_first, self.coarse_seed = bool(depth_first), bool(coarse_seed)
        self.contract = bool(contract)
        self.tie_factor = int(tie_factor)

    def _solve(self, face, memory, progress):
        with bar(face.param_points, "branch-and-bound", progress) as pb:
            sol = self._run(face, memory)
            pb.update(face.param_points)  # every grid point settled: evaluated or bounded away
        return sol

    def _run(self, face, memory, keep_proof=True):
        activations.require_bounds(face.polytope.arch, self.name)
        bd = Bounder(face)
        arrays = kernel_arrays(face.polytope.arch) if (self.compiled and bd.G < 2**15
                                                        and fused.available()) else None
        ties = {}
        if arrays is not None:
            seed, seed_evals, seed_boxes = self._seed(bd, face, memory)
            best, best_idx, evaluated, boxes, proof, smin = self._search_compiled(bd, arrays, face, memory,
                                                                                 keep_proof, seed)
        else:
            best, best_idx, evaluated, boxes, proof, smin = self._search_numpy(bd, face, memory)
            seed_evals = seed_boxes = 0
        if np.isfinite(best):  # the coarse seeds too: their answers seed the next grid's ties
            budget = self.tie_budget + self.tie_factor * (boxes + seed_boxes)
            tb, ti, te, tbx, resolved = self._ties(bd, arrays, face, smin, best_idx, budget)
            if ti is not None and not tb >= smin - (window(smin, face.samples) - smin):
                resolved, ti = False, None  # below the proven minimum: the bounds are wrong (a false
                # activation declaration); keep the search's answer, which the check refutes
            ties = {"tie_evaluated": int(te), "tie_boxes": int(tbx), "tie_budget": int(budget),
                    "tie_break": "smallest index" if resolved else "unresolved"}
            if ti is not None:
                best, best_idx = tb, ti
        if best_idx is None or not np.isfinite(best):
            raise LPTrainError("bnb found no grid point with a finite objective")
        a = index_of(best_idx, bd.G)
        P = len(face.distinct)
        per_box = bd.G if bd.c_index is not None else 1
        info = {"evaluated": int(evaluated),
                "grid_points": face.param_points, "boxes": int(boxes),
                "evaluated_fraction": evaluated / face.param_points, "seed_evaluated": int(seed_evals),
                "seed_boxes": int(seed_boxes),
                "point_evaluations": int(evaluated + seed_evals) * P,
                "box_bound_evaluations": int(boxes + seed_boxes) * per_box * P,
                "implementation": "compiled" if arrays is not None else "numpy", **ties}
        if ties:
            info["point_evaluations"] += ties["tie_evaluated"] * P
            info["box_bound_evaluations"] += ties["tie_boxes"] * per_box * P
        if keep_proof:
            info["proof"] = proof
        return Solution.at_grid_point(face, a, best, solver=self.name, info=info,
                                      evaluations=info["point_evaluations"] + info["box_bound_evaluations"])

    def _seed(self, bd, face, memory):
        """An incumbent from the same data on the grid with one bit less (its points are grid
        points here: coarse index j is index 2j), solved the same way; (digits or None, evaluated)."""
        p = face.polytope
        if not (self.coarse_seed and self.depth_first) or p.grid.bits < 2:
            return None, 0, 0
        from ..face import Face
        from ..grid import Grid
        from ..polytope import Polytope

        coarse = Face(Polytope(p.arch, p.loss.name, Grid(p.grid.bits - 1), face.samples, reg=p.reg, lam=p.lam),
                      bd.X[face.inverse], bd.Y[face.inverse])
        sol = self._run(coarse, memory, keep_proof=False)
        i = sol.info
        return (2 * coarse.param_index(sol.grid_index), i["evaluated"] + i["seed_evaluated"] + i.get("tie_evaluated", 0),
                i["boxes"] + i["seed_boxes"] + i.get("tie_boxes", 0))

    def _kernel_inputs(self, bd, face):
        """The compiled search's data, objective and symmetry arguments, shared by both phases."""
        blocks = hidden_blocks(face.polytope.arch) if self.symmetry else None
        nblocks, blen = (len(blocks), len(blocks[0])) if blocks else (0, 1)
        ci = -1 if bd.c_index is None else bd.c_index
        out_w0 = ci - nblocks if (blocks and ci >= 0) else -1
        data = (np.ascontiguousarray(bd.X, np.float64), np.ascontiguousarray(bd.Y, np.float64), bd.cnt,
                np.ascontiguousarray(bd.gv, np.float64))
        objective = (activations.LEAKY_SLOPE, codes.LOSS_CODES[bd.loss], codes.REG_CODES[bd.reg],
                     float(bd.lamD))
        return data, objective, ci, nblocks, blen, out_w0

    def _search_compiled(self, bd, arrays, face, memory, keep_proof, seed=None):
        from . import _bnb_kernels as k

        N = bd.N
        data, objective, ci, nblocks, blen, out_w0 = self._kernel_inputs(bd, face)
        max_heap = max(64, int(memory) // 4 // (8 * N + 32))
        max_proof = max(64, int(memory) // 4 // (4 * N + 9))
        status, best, best_idx, evaluated, boxes, plo, phi, pkind, pbound, _, smin = k.search(
            N, data, arrays, *objective, ci, nblocks, blen, out_w0, max_heap, max_proof, keep_proof,
            int(self.centre_every), bool(self.depth_first),
            np.full(N, -1, np.int64) if seed is None else np.asarray(seed, np.int64),
            TIE_RTOL, float(face.samples))
        if status == k.HEAP_FULL:
            raise _too_big("queue", memory, boxes)
        if status == k.PROOF_FULL:
            raise _too_big("proof", memory, boxes)
        proof = {"lo": plo.copy(), "hi": phi.copy(), "kind": pkind.copy(), "bound": pbound.copy()}
        return best, best_idx, evaluated, boxes, proof, smin

    def _ties(self, bd, arrays, face, smin, best_idx, budget):
        """The smallest-index optimum (``lptrain.ties``), given an optimum ``best_idx`` and the
        minimum ``smin``: (S, digits, points evaluated, boxes bounded, resolved).

        The answer a* (the smallest index with S <= thr, thr the rule's window around smin) has
        sorted hidden blocks (sorting them lowers the index and leaves S as it is).  Starting
        from the whole grid, which holds a*, the box is halved on its most significant free
        parameter; the lower half holds a* if it holds the smallest tied point known (r, at
        first best_idx), else exactly when it holds some sorted point with S <= thr, which
        ``_bnb_kernels.find_tied`` decides by branch-and-bound on the balanced bisection,
        returning such a point as the new r.  After every free parameter is halved down to
        one value the box is a* (the swept bias, the last parameter, takes every value
        exactly).  Past ``budget`` bounds and evaluations it stops unresolved and best_idx
        stands (an optimum, maybe not the rule's)."""
        thr = window(smin, face.samples)
        ci = -1 if bd.c_index is None else bd.c_index
        if ci != bd.N - 1:  # a swept bias elsewhere is branched on like the rest
            ci = -1
        if arrays is None:
            find = self._find_tied_numpy(bd, face, ci, thr)
        else:
            from . import _bnb_kernels as k

            data, objective, _, nblocks, blen, _ = self._kernel_inputs(bd, face)

            def find(lo, hi, work):
                status, found, q, nb, ne = k.find_tied(lo, hi, data, arrays, *objective, ci, nblocks, blen,
                                                       thr, int(work), self.contract)
                return status == k.BUDGET, (q.copy() if found else None), nb, ne
        G, N = bd.G, bd.N
        per_point = G if ci >= 0 else 1
        r = np.asarray(best_idx, np.int64).copy()
        lo, hi = np.zeros(N, np.int32), np.full(N, G - 1, np.int32)
        evals = boxes = 0
        for ax in [t for t in range(N) if t != ci]:
            while lo[ax] < hi[ax]:
                mid = (lo[ax] + hi[ax]) // 2
                if r[ax] <= mid:
                    hi[ax] = mid
                    continue
                h1 = hi.copy()
                h1[ax] = mid
                over, q, nb, ne = find(lo, h1, max(budget - evals - boxes, 0))
                boxes += nb
                evals += ne
                if over:
                    return None, None, evals * per_point, boxes, False
                if q is None:
                    lo[ax] = mid + 1
                else:
                    r, hi = q, h1
        point = lo.astype(np.int64)
        vals = self._point_values(bd, point, ci)
        evals += 1
        g = int(np.flatnonzero(vals <= thr)[0])
        if ci >= 0:
            point[ci] = g
        return float(vals[g]), point, evals * per_point, boxes, True

    @staticmethod
    def _point_values(bd, point, ci):
        """S at one point: at every value of the swept bias ci (>= 0), else one value."""
        if ci >= 0:
            return bd.bias_values(point)
        b = copy.copy(bd)
        b.c_index = None
        return b.exact(point[None])[0][:1]

    def _find_tied_numpy(self, bd, face, ci, thr):
        """``_bnb_kernels.find_tied`` in numpy (any declared activation): find(lo, hi, work)
        -> (over budget, digits or None, boxes bounded, points evaluated)."""
        if (bd.c_index is not None) != (ci >= 0):
            bd = copy.copy(bd)
            bd.c_index = None
        blocks = hidden_blocks(face.polytope.arch) if self.symmetry else None
        cix = None if ci < 0 else ci

        def find(lo0, hi0, work):
            lo0, hi0 = np.asarray(lo0, np.int64), np.asarray(hi0, np.int64)
            if no_sorted_point(lo0, hi0, blocks):
                return False, None, 0, 0
            stack = [(float(bd.bounds(lo0[None], hi0[None])[0][0]), lo0, hi0)]
            boxes, evals = 1, 0
            while stack:
                b, lo, hi = stack.pop()
                if not b <= thr:
                    continue
                sp = split(lo, hi, cix)
                if sp is None:
                    evals += 1
                    vals = self._point_values(bd, lo, ci)
                    hit = np.flatnonzero(vals <= thr)
                    if len(hit):
                        q = lo.copy()
                        if ci >= 0:
                            q[ci] = hit[0]
                        return False, q, boxes, evals
                    continue
                kids = []
                for cl, ch in sp:
                    if no_sorted_point(cl, ch, blocks):
                        continue
                    if split(cl, ch, cix) is None:
                        kids.append((-np.inf, cl, ch))
                        continue
                    kb = float(bd.bounds(cl[None], ch[None])[0][0])
                    boxes += 1
                    if kb <= thr:
                        kids.append((kb, cl, ch))
                if len(kids) == 2 and kids[0][0] <= kids[1][0]:
                    kids.reverse()  # the lower bound (else the lower half) on top
                stack.extend(kids)
                if boxes + evals > work:
                    return True, None, boxes, evals
            return False, None, boxes, evals

        return find

    def _search_numpy(self, bd, face, memory):
        """The numpy search (best-first in batches): (S of the answer, its digits, evaluated,
        boxes, proof, minimum)."""
        G, N = bd.G, bd.N
        ci = bd.c_index
        blocks = hidden_blocks(face.polytope.arch) if self.symmetry else None
        lo0 = np.zeros(N, np.int64)
        hi0 = np.full(N, G - 1, np.int64)
        front = Front(face.samples)

        def pruned(lo, bound):
            return bound >= front.best

        evaluated = 0
        boxes = 0
        leaves = []
        b0, _ = bd.bounds(lo0[None], hi0[None])
        heap = [(float(b0[0]), 0, lo0, hi0)]
        seq = 1
        per_leaf = G if ci is not None else 1
        max_queue = max(64, int(memory) // (64 * N + 200))
        while heap:
            batch = [heapq.heappop(heap) for _ in range(min(BATCH, len(heap)))]
            live = []
            for b in batch:
                if pruned(b[2], b[0]):
                    leaves.append((b[2], b[3], 0, b[0]))
                else:
                    live.append(b)
            if not live:
                continue
            centre = ((live[0][2] + live[0][3]) // 2)[None]
            if blocks is not None:  # keep the probe canonical: sort the hidden blocks
                order = sorted(range(len(blocks)), key=lambda j: tuple(centre[0, blocks[j]]))
                centre[0, sum(blocks, [])] = np.concatenate([centre[0, blocks[j]] for j in order])
                wo = [ci - len(blocks) + j for j in order] if ci is not None else None
                if wo is not None:
                    centre[0, ci - len(blocks):ci] = centre[0, wo]
            self._offer(bd, front, centre[0])
            evaluated += per_leaf
            kids_lo, kids_hi = [], []
            for (bnd, _, l, h) in live:
                sp = split(l, h, ci)
                if sp is None:  # only the root can be a leaf here: children are settled below
                    kids_lo.append(l)
                    kids_hi.append(h)
                    continue
                for cl, ch in sp:
                    kids_lo.append(cl)
                    kids_hi.append(ch)
            KL, KH = np.stack(kids_lo), np.stack(kids_hi)
            kb, kj = bd.bounds(KL, KH)
            boxes += len(KL)
            single = np.all(KL == KH, axis=1) if ci is None else np.all(
                np.delete(KL == KH, ci, axis=1), axis=1)
            for i in range(len(KL)):
                if no_sorted_point(KL[i], KH[i], blocks):
                    leaves.append((KL[i], KH[i], 1, float(kb[i])))
                elif single[i]:  # a one-point box (c swept): its bound is its exact value
                    evaluated += per_leaf
                    leaves.append((KL[i], KH[i], 2, float(kb[i])))
                    self._offer(bd, front, KL[i])
                elif not pruned(KL[i], float(kb[i])):
                    heapq.heappush(heap, (float(kb[i]), seq, KL[i], KH[i]))
                    seq += 1
                else:
                    leaves.append((KL[i], KH[i], 0, float(kb[i])))
            if len(heap) > max_queue:
                raise _too_big("queue", memory, boxes)
        proof = {"lo": np.array([lf[0] for lf in leaves], np.int32).reshape(-1, N),
                 "hi": np.array([lf[1] for lf in leaves], np.int32).reshape(-1, N),
                 "kind": np.array([lf[2] for lf in leaves], np.int8),
                 "bound": np.array([lf[3] for lf in leaves], np.float64)}
        best_idx, best = front.result()
        return best, None if best_idx is None else np.array(best_idx, np.int64), evaluated, boxes, proof, front.best

    @staticmethod
    def _offer(bd, front, point):
        """Offer an evaluated point to the tie front: every value of the swept bias, if any."""
        if bd.c_index is None:
            front.offer(point, bd.exact(point[None])[0][0])
            return
        for g, v in enumerate(bd.bias_values(point)):
            q = point.copy()
            q[bd.c_index] = g
            front.offer(q, v)


def verify_proof(face, solution, tol=1e-9) -> tuple[bool, str]:
    """Replay the proof independently of this module (``lptrain.replay``: its own partition
    check, interval bounds and symmetry test; no code shared with :class:`Bounder`), and check
    that the reported grid point attains the optimum (``lptrain.certificate``)."""
    from ..certificate import answer_problems
    from ..replay import replay

    ok, why, _ = replay(face, solution, tol)
    if not ok:
        return False, why
    problems, _ = answer_problems(face, solution, tol)
    return (not problems), "; ".join(problems)
