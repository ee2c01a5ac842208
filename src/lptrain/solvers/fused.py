"""A fused CPU kernel (numba) for the structured solver on one-hidden-layer nets n-w-m.

The face's optimum is min over grid points a of S(a) = sum_p count_p l(f(x_p, a), y_p)
(+ D lam R(a)) over the distinct rounded points p (docs/design.md §4).  For a layered net with one
hidden layer, the network's structure makes this cheap:

* a hidden neuron's output depends only on (its own n+1 grid parameters, the point), so
  H[t, p] = act(A_t x_p + b_t) is computed once for each of the K = G^(n+1) neuron
  parameter vectors t;
* permuting hidden units (with their output weights) does not change f, so only
  nondecreasing tuples t_1 <= ... <= t_w are enumerated (about K^w / w! instead of K^w);
* for m = 1, the output's weights fix r_p = sum_j v_j H[t_j, p] once and the output bias c
  is swept over the grid without recomputing r.

The enumeration order (tuple rank, then output digits) is increasing canonical grid
index, and the smallest index of every symmetry orbit is enumerated (sorted tuples; equal
units' output weights range freely), so the tie rule of ``lptrain.ties`` holds: each
tuple's minimum goes into the tie records (key: tuple rank), and the winning tuple is
scanned once more for its first output within the final tie window.  The result is the
exact grid optimum; the canonical grid index a* is rebuilt from the tuple and the output
digits.  ``evaluations`` = tuples x G^(m(w+1)) output settings x distinct points: every
(grid point, point) pair scored once (the quadratic loss sweeps the bias in closed form).
"""

from __future__ import annotations

import math

import numpy as np

from ..activations import get_activation
from ..evaluation import digits, regularizer
from ..exceptions import InputError, SizeError
from ..ties import Records
from . import codes

COMBO_CHUNK = 1 << 15



def available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


# Break-even of loading the compiled kernel from numba's cache (~0.5 s) against the numpy
# block scan (~9e-8 s per grid point x distinct point), measured on 2 cores, 2026-11-22.
MIN_WORK = 6_000_000


def applies(arch, work=None) -> bool:
    """One hidden layer, numba present, and (when given) enough work (grid points x distinct
    points) to pay for loading the compiled kernel."""
    w = arch.widths
    return w is not None and len(w) == 3 and (work is None or work >= MIN_WORK) and available()


def kernels():
    """(fill_combos, scan_m1, scan_general), compiled (or loaded from numba's cache) on first use."""
    from . import _fused_kernels as k

    return k.fill_combos, k.scan_m1, k.scan_general


def n_combos(K: int, w: int) -> int:
    return math.comb(K + w - 1, w)


def prepare(face) -> dict:
    """The arrays a scan needs (plain numpy: they can be shipped to other processes)."""
    p = face.polytope
    n, w, m = p.arch.widths
    G = p.grid.size
    gv = p.grid.values()
    K = G ** (n + 1)
    X, Y = p.evaluator.points(face.distinct)
    theta = gv[digits(np.arange(K), n + 1, G)]  # (K, n+1): weights, then bias
    act = get_activation(p.arch.nodes[0].activation)
    H = np.ascontiguousarray(act(theta[:, :n] @ X.T + theta[:, n:]))  # (K, P)
    lam = p.lam if p.reg else 0.0
    if G ** (m * (w + 1)) >= 2**62:
        raise SizeError(f"the fused scan's {G}^{m * (w + 1)} output settings per hidden tuple "
                        "pass its 64-bit counters; use fewer bits or --solver bnb")
    return {
        "H": H, "Rh": regularizer(theta, p.reg) if p.reg else np.zeros(K), "gv": gv,
        "Y": np.ascontiguousarray(Y), "cnt": face.counts.astype(np.float64),
        "code": codes.LOSS_CODES[p.loss.name], "lamD": np.array([lam * face.samples, float(codes.L1 if p.reg == "l1" else codes.L2)]),
        "n": n, "w": w, "m": m, "G": G, "K": K, "total": n_combos(K, w), "D": face.samples,
    }


def _run(prep, combos, thr):
    """(combo minima, their first outputs, first outputs with S <= thr, S there) per tuple."""
    _, scan_m1, scan_general = kernels()
    c = len(combos)
    bv = np.empty(c)
    bo = np.empty(c, np.int64)
    fo = np.empty(c, np.int64)
    fv = np.empty(c)
    args = (combos, prep["H"], prep["Rh"], prep["gv"], prep["Y"], prep["cnt"], prep["code"], prep["lamD"],
            float(thr))
    if prep["m"] == 1:
        scan_m1(*args, bv, bo, fo, fv)
    else:
        scan_general(*args, prep["m"], bv, bo, fo, fv)
    return bv, bo, fo, fv


def combo(prep, rank: int) -> np.ndarray:
    """The hidden tuple of one rank."""
    buf = np.empty((1, prep["w"]), np.int64)
    kernels()[0](rank, 1, prep["K"], prep["w"], buf)
    return buf


def scan(prep: dict, start: int, count: int) -> Records:
    """Tie records (key: tuple rank, value: the tuple's minimum S) over ranks start..start+count-1."""
    fill_combos = kernels()[0]
    w = prep["w"]
    rec = Records(prep["D"])
    buf = np.empty((min(COMBO_CHUNK, count), w), np.int64)
    for s0 in range(start, start + count, COMBO_CHUNK):
        c = min(COMBO_CHUNK, start + count - s0)
        fill_combos(s0, c, prep["K"], w, buf)
        bv = _run(prep, buf[:c], -np.inf)[0]
        rec.add_block(s0, bv)
    return rec


def finish(prep: dict, rec: Records):
    """(S, canonical grid index) of the tie-broken optimum from the records of a whole scan:
    the first tuple whose minimum is in the window, at its first output in the window."""
    rank, _ = rec.result()
    if rank is None:
        return np.inf, None
    tup = combo(prep, rank)
    thr = rec.threshold()
    bv, bo, fo, fv = _run(prep, tup, thr)
    if fo[0] < 0:  # cannot happen (the tuple's minimum is in the window); keep its minimizer
        fo, fv = bo, bv
    return float(fv[0]), grid_index(prep, tuple(int(t) for t in tup[0]), int(fo[0]))


def grid_index(prep: dict, tup, o) -> int:
    """The canonical flat grid index (an exact Python int) of (hidden tuple, output digits)."""
    a = 0
    for t in tup:
        a = a * prep["K"] + int(t)
    return a * prep["G"] ** (prep["m"] * (prep["w"] + 1)) + o


def solve(face, progress_bar=None):
    """(S, a*, evaluations) for a one-hidden-layer face: the exact minimum of
    sum_p count_p l_p(a) + D lam R(a), ties to the smallest grid index (``lptrain.ties``)."""
    prep = prepare(face)
    rec = Records(prep["D"])
    for start in range(0, prep["total"], COMBO_CHUNK):
        c = min(COMBO_CHUNK, prep["total"] - start)
        rec.extend(scan(prep, start, c))
        if progress_bar is not None:
            progress_bar.update(c)
    S, a = finish(prep, rec)
    if not math.isfinite(S):
        raise InputError(f"the face's objective is {S} (lam * D * R(a) overflows a float); "
                         f"lower the regularization weight lam")
    return S, a, evaluations(prep)


def scan_work(face, fused_kernel: bool) -> int:
    """Pairs a scan of ``face`` will score, before it starts: with the fused kernel the count of
    :func:`evaluations`, else every grid point on every distinct point."""
    if not fused_kernel:
        return face.param_points * len(face.distinct)
    n, w, m = face.polytope.arch.widths
    G = face.grid.size
    return n_combos(G ** (n + 1), w) * G ** (m * (w + 1)) * len(face.distinct)


def evaluations(prep) -> int:
    """(grid point, distinct point) pairs the fused scan scores (see the module docstring)."""
    return prep["total"] * prep["G"] ** (prep["m"] * (prep["w"] + 1)) * prep["H"].shape[1]
