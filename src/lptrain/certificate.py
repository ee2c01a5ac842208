"""Checking a face solution against its LP, independently of the solver that produced it.

LP duality for the face LP  min c^T x, A x = b, x_lam >= 0, other columns free:
a primal x and a row dual y prove optimality when

* primal feasibility: ||A x - b||_inf ~ 0 and x_lam >= 0;
* dual feasibility:   (A^T y)_j <= c_j on lambda columns, = c_j on free columns;
* zero gap:           c^T x = b^T y.

When the explicit face LP fits in memory the checker builds it itself (through
:meth:`Face.lp`, not through any solver) and checks the three conditions with a
relative tolerance; since the LP's costs come from the same table the solvers read, it also
rescans the (then small) grid in its own arithmetic.  When it does not, a branch-and-bound answer is checked by replaying
its proof (``lptrain.replay``), and any other answer by docs/design.md §4's structured certificate,
checked implicitly: for that y the only rows of A^T y <= c that can be strict are those of
the last bag, and they sum to ``sum_d c_d(a) >= sum_d u_d`` for every grid point a; the
checker's own compiled scan (``lptrain.verify``) computes min_a sum_d c_d(a), and checks
u_d = c_d(a*) and that sum_d u_d is the reported objective.

Every check also verifies the answer itself, in ``lptrain.verify``'s own arithmetic (its own
rounding of the data, forward pass and loss formulas): the returned parameters are the
values of the returned grid point, and they attain the reported objective on the rounded
data.  Every comparison is written so that NaN fails it; a non-finite objective, residual
or bound makes the certificate invalid.
"""

from __future__ import annotations


import numpy as np

from . import verify
from .verdict import TOL, Certificate
from .sizes import DEFAULT_MEMORY

def _within(x, limit) -> bool:
    """x <= limit, False for NaN or infinite x."""
    return bool(np.isfinite(x)) and bool(x <= limit)


def check(face, solution, memory=DEFAULT_MEMORY, tol=TOL) -> Certificate:
    """Verify ``solution`` on ``face``, independently of the solver that produced it.

    The answer itself is always checked (its parameters are the values of its grid point and
    attain its objective, in the checker's own arithmetic); its optimality explicitly on the
    face LP when that fits in ``memory`` (the three LP conditions, plus a rescan of the grid),
    by replaying the proof for branch-and-bound, else implicitly (docs/design.md §4).

    Parameters
    ----------
    face : Face
        The face the solution claims to solve.
    solution : Solution
        Any solver's answer: objective, grid point, parameters, dual certificate (and a
        proof or explicit LP vectors where the solver gives them).
    memory : int
        Bytes allowed for the explicit face LP; beyond it the check is implicit.
    tol : float
        Relative tolerance of every comparison (NaN never passes).

    Returns
    -------
    Certificate
        ``valid``, the ``method`` used (``explicit``, ``implicit``, ``proof``), the primal
        residual, dual violation and gap, the ``reason`` when invalid, and the objective the
        checker recomputed.
    """
    data = verify.Data(face)
    problems, own = answer_problems(face, solution, tol, data)
    if _index_problem(solution.grid_index, face.param_points):
        cert = Certificate(False, "none", float("nan"), float("nan"), float("nan"))
    elif face.fits(memory):
        lp = face.lp(memory)
        cert = _explicit_or_invalid(face, lp, solution, tol)
        # the LP's costs come from the solvers' table: rescan the (small) grid in own arithmetic
        least = verify.scan_minimum(face, data)
        obj = float(solution.objective)
        if least is not None and not _within(obj - least, tol * (1.0 + abs(obj))):
            problems.append(f"the checker's own scan finds a grid point with objective {least:.10g}")
    elif "proof" in (solution.info or {}):
        from .replay import check_proof

        cert = check_proof(face, solution, tol)
    else:
        cert = check_implicit(face, solution, memory, tol, data=data)
    return _merge(cert, problems, own)


def _index_problem(a, size):
    """Why grid index ``a`` names no grid point of ``size`` points ("" when it does)."""
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
        return f"grid index {a!r} is not an integer"
    if not 0 <= int(a) < size:
        return f"grid index {a} is outside the grid"
    return ""


def _explicit_or_invalid(face, lp, solution, tol):
    """check_explicit on the solution's LP vectors; invalid when they cannot be formed or
    have the wrong shapes."""
    nan = float("nan")
    if _index_problem(solution.grid_index, face.param_points):
        return Certificate(False, "explicit", nan, nan, nan, "no LP vectors for that grid index")
    if solution.primal is None or solution.dual is None:
        u = np.asarray(solution.dual_u, dtype=np.float64)
        if u.shape != (face.samples,):
            return Certificate(False, "explicit", nan, nan, nan, "the dual u has the wrong shape")
    x, y = solution.explicit(face, lp)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != (lp.A.shape[1],) or y.shape != (lp.A.shape[0],):
        return Certificate(False, "explicit", nan, nan, nan, "the primal or dual vector has the wrong shape")
    return check_explicit(lp, x, y, objective=solution.objective, tol=tol)


def _merge(cert, problems, own):
    if problems:
        cert.valid = False
        cert.reason = "; ".join(([cert.reason] if cert.reason else []) + problems)
    cert.recomputed_objective = own
    return cert


def answer_problems(face, solution, tol=TOL, data=None):
    """What is wrong with the answer itself (empty when nothing), and the objective the
    checker recomputes for the returned parameters (None when they are not a grid point)."""
    p = face.polytope
    data = data or verify.Data(face)
    out = []
    obj = solution.objective
    if not verify.is_finite(obj):
        out.append(f"the objective {obj} is not finite")
    params = np.asarray(solution.params, dtype=np.float64).reshape(-1)
    if params.shape != (p.N,) or not np.all(np.isfinite(params)):
        return out + [f"the parameters are not {p.N} finite numbers"], None
    G = data.G
    j = np.clip(np.rint((params + 1.0) * (G / 2.0)), 0, G - 1).astype(np.int64)
    if not np.all(data.gv[j] == params):
        return out + ["the parameters are not grid values"], None
    why = _index_problem(solution.grid_index, G ** p.N)
    if why:
        out.append(why)
    elif list(j) != verify.grid_digits(solution.grid_index, p.N, G)[0]:
        out.append(f"the parameters are not the values of grid point {solution.grid_index}")
    _, own = verify.per_sample_costs(face, params, data)
    if not _within(abs(own - obj), tol * (1.0 + abs(own))):
        out.append(f"the returned network's objective on the rounded data is {own:.10g}, "
                   f"not the reported {obj:.10g}")
    return out, own


def check_explicit(lp, x, y, objective=None, tol=TOL) -> Certificate:
    """The three LP optimality conditions on an explicit LP, with relative tolerance.

    Each row's residual and each column's reduced cost is measured against the size of the
    terms it sums (|A| |x| + |b| per row, |A|^T |y| + |c| per column): the costs can span
    many orders of magnitude (a large lam)."""
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        nan = float("nan")
        return Certificate(False, "explicit", nan, nan, nan, "the primal or dual vector is not finite")
    absA = abs(lp.A)
    scale = 1.0 + float(np.max(np.abs(lp.c), initial=0.0)) + (abs(objective) if objective is not None else 0.0)
    prim_v = np.abs(lp.A @ x - lp.b)
    prim_rel = prim_v / (1.0 + absA @ np.abs(x) + np.abs(lp.b))
    free = np.isinf(lp.lower)
    prim = max(float(np.max(prim_v, initial=0.0)), float(np.max(-x[~free], initial=0.0)))
    prim_r = max(float(np.max(prim_rel, initial=0.0)), float(np.max(-x[~free], initial=0.0)))
    red = lp.A.T @ y - lp.c
    mag = 1.0 + absA.T @ np.abs(y) + np.abs(lp.c)
    viol = np.where(free, np.abs(red), red)
    dual = float(np.max(viol, initial=0.0))
    dual_r = float(np.max(viol / mag, initial=0.0))
    pobj, dobj = float(lp.c @ x), float(lp.b @ y)
    gap = abs(pobj - dobj)
    gap_scale = scale + float(np.abs(lp.b) @ np.abs(y))
    if objective is not None:
        gap = max(gap, abs(pobj - objective))
    bad = []
    if not _within(prim_r, tol):
        bad.append(f"primal residual {prim:.3g}")
    if not _within(dual_r, tol):
        bad.append(f"dual violation {dual:.3g}")
    if not _within(gap, tol * gap_scale):
        bad.append(f"duality gap {gap:.3g}")
    return Certificate(not bad, "explicit", prim, dual, gap, "; ".join(bad))


def check_implicit(face, solution, memory=DEFAULT_MEMORY, tol=TOL, *, data=None) -> Certificate:
    """docs/design.md §4's certificate without the explicit LP (see the module docstring), by the
    checker's own compiled scan of the whole grid."""
    data = data or verify.Data(face)
    u = np.asarray(solution.dual_u, dtype=np.float64).reshape(-1)
    lp_dual = solution.dual is not None  # an explicit LP's dual: u need not be c(a*)
    total = float(solution.objective) if lp_dual else float(np.sum(u))
    bad = []
    least = verify.scan_minimum(face, data)
    if least is None:
        bad.append(f"the grid of {face.grid.size}^{face.polytope.N} points is too large to rescan")
        least = float("nan")
    worst = total - least
    prim = float("nan")
    params = np.asarray(solution.params, dtype=np.float64)
    if params.shape == (face.polytope.N,) and (lp_dual or u.shape == (data.D,)):
        c, own = verify.per_sample_costs(face, params, data)
        prim = abs(own - total) if lp_dual else float(np.max(np.abs(c - u)))
    else:
        bad.append("the certificate has the wrong shape")
    scale = 1.0 + abs(total) if np.isfinite(total) else float("nan")
    gap = abs(total - solution.objective)
    if not _within(prim, tol * scale):
        bad.append(f"u_d differs from c_d(a*) by {prim:.3g}")
    if not _within(worst, tol * scale):
        bad.append(f"dual violation {worst:.3g} (a grid point has objective {least:.10g})")
    if not _within(gap, tol * scale):
        bad.append(f"duality gap {gap:.3g}")
    return Certificate(not bad, "implicit", prim, max(worst, 0.0) if np.isfinite(worst) else worst, gap,
                       "; ".join(bad))


def check_binary(face, solution, memory=DEFAULT_MEMORY, tol=TOL) -> Certificate:
    """Verify a binarized (App. C) solution: the returned signs are those of the returned
    point and attain the reported mean of wrong bits (the checker's own forward pass), and
    no sign vector does better: explicitly on the face LP when it fits, else by the checker's
    own scan of all 2^N sign vectors, with u_d = c_d(a*)."""
    arch = face.arch
    N, D = arch.n_params, face.samples
    x = np.asarray(face.x, dtype=np.float64)
    y = np.asarray(face.y, dtype=np.float64)
    pts, which, cnt = np.unique(np.concatenate([x, y], 1), axis=0, return_inverse=True, return_counts=True)
    which = np.asarray(which).reshape(-1)
    X, Y, cnt = pts[:, : arch.n_inputs], pts[:, arch.n_inputs:], cnt.astype(np.float64)
    problems = []
    obj = solution.objective
    if not verify.is_finite(obj):
        problems.append(f"the objective {obj} is not finite")
    signs = np.asarray(solution.params, dtype=np.float64).reshape(-1)
    own = None
    if signs.shape != (N,) or not np.all((signs == 1) | (signs == -1)):
        problems.append(f"the parameters are not {N} signs")
    else:
        why = _index_problem(solution.grid_index, 2 ** N)
        if why or list(((signs + 1) // 2).astype(int)) != verify.grid_digits(solution.grid_index, N, 2)[0]:
            problems.append(f"the parameters are not the signs of point {solution.grid_index}")
        per = verify.binary_wrong_bits(arch, X, Y, signs[None])[0]
        own = float(per @ cnt) / D
        if not _within(abs(own - obj), tol * (1.0 + abs(own))):
            problems.append(f"the returned network's mean wrong bits is {own:.10g}, not the reported {obj:.10g}")
    if face.lp_bytes() <= memory:
        lp = face.lp()
        cert = _explicit_or_invalid(face, lp, solution, tol)
        # the explicit check's tolerances scale with |y|: a dual with huge cancelling entries
        # slips through them, so the (small) set of sign vectors is rescanned as in check()
        least = verify.binary_minimum(arch, X, Y, cnt) / D
        if not _within(float(obj) - least, tol * (1.0 + abs(float(obj)))):
            problems.append(f"the checker's own scan finds a network with mean wrong bits {least:.10g}")
    else:
        u = np.asarray(solution.dual_u, dtype=np.float64).reshape(-1)
        total = float(np.sum(u))
        least = verify.binary_minimum(arch, X, Y, cnt) / D
        prim = float(np.max(np.abs(u - per[which] / D))) if own is not None and u.shape == (D,) else float("nan")
        worst = total - least
        gap = abs(total - obj)
        bad = []
        scale = 1.0 + abs(total)
        if not _within(prim, tol * scale):
            bad.append(f"u_d differs from c_d(a*) by {prim:.3g}")
        if not _within(worst, tol * scale):
            bad.append(f"dual violation {worst:.3g} (a network has mean wrong bits {least:.10g})")
        if not _within(gap, tol * scale):
            bad.append(f"duality gap {gap:.3g}")
        cert = Certificate(not bad, "implicit", prim, max(worst, 0.0) if np.isfinite(worst) else worst, gap,
                           "; ".join(bad))
    return _merge(cert, problems, own)
