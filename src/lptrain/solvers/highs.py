"""The explicit face LP solved by HiGHS (highspy), primal and row duals read back.

The reference solver: it materializes the face LP of ``lptrain.lp`` (every column of
the face, all gluing rows) and lets HiGHS solve it.  Exact but memory-hungry: the face LP
has D G^N lambda columns (1-2-1 at 2 bits, D = 100: 1.6M columns and about 2.3 GiB; see
BENCHMARKS.md), so it is the reference for small faces, not a way to scale.
The optimal grid point follows the tie rule of ``lptrain.ties``: from the face's loss
table (which the explicit LP holds anyway) the smallest grid index within the tie window
of the minimum.  When that is the vertex HiGHS returned, its primal and row duals are the
certificate; otherwise (an optimal face with several vertices) the certificate is the
vertex at the tie-broken point with u_d = c_d(a*) (docs/design.md §4), like the
structured solvers'.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import InputError, SolverError
from ..fileio import atomic_path
from ..progress import bar
from ..ties import first_within
from .base import Solution, Solver

STATUS_MAP = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
}


def quiet_highs():
    """A ``Highs`` instance that writes nothing to stdout, its banner included.

    highspy's Python ``Highs.__init__`` calls a HiGHS method before any option can be set,
    which prints the "Running HiGHS" banner on stdout (once per process); the compiled base
    class ``_Highs`` does not, so it is used when present.  Logging is then switched off
    before anything else is called.
    """
    import highspy

    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    h = core() if core is not None else highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("log_to_console", False)
    return h


def _floats(v):
    """float64 bounds (HiGHS reads +-inf as infinite)."""
    return np.asarray(v, dtype=np.float64)


def highs_model(A, c, col_lower, col_upper, row_lower, row_upper, method="choose"):
    """A configured ``highspy.Highs`` (quiet, one thread, fixed seed) holding the LP."""
    import highspy

    A = A.tocsc(copy=True)
    A.eliminate_zeros()
    A.sort_indices()
    h = quiet_highs()
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("solver", method)
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = A.shape[1], A.shape[0]
    model.col_cost_ = np.asarray(c, dtype=np.float64)
    model.col_lower_, model.col_upper_ = _floats(col_lower), _floats(col_upper)
    model.row_lower_, model.row_upper_ = _floats(row_lower), _floats(row_upper)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = A.data
    h.passModel(model)
    return h


def run(h):
    """Run HiGHS; (status, objective, primal, row duals).

    HiGHS keeps one thread scheduler per process: when another HiGHS instance in the same
    process initialised it with another thread count, ``run`` refuses to start; the scheduler
    is then reset and the run repeated once.
    """
    import highspy

    if h.run() == highspy.HighsStatus.kError and str(h.getModelStatus()).endswith("kNotset"):
        highspy.Highs.resetGlobalScheduler(True)
        h.run()
    key = str(h.getModelStatus()).split(".")[-1]
    sol = h.getSolution()
    return (STATUS_MAP.get(key, key), float(h.getInfo().objective_function_value),
            np.array(sol.col_value), np.array(sol.row_dual))


def write_mps(lp, path):
    """Write an :class:`~lptrain.lp.ExplicitLP` in (free) MPS through HiGHS, atomically.

    Any LP/MIP solver (HiGHS, Gurobi, CPLEX, SCIP, cuPDLP) can read it; its optimal objective
    value is the ``objective`` lptrain reports for the same face.
    """
    with atomic_path(path, ".mps") as tmp:
        highs_model(lp.A, lp.c, lp.lower, lp.upper, lp.b, lp.b).writeModel(tmp)


def solve_lp(lp, method="choose"):
    """Solve an :class:`~lptrain.lp.ExplicitLP` (rows A x = b) with HiGHS."""
    return run(highs_model(lp.A, lp.c, lp.lower, lp.upper, lp.b, lp.b, method))


class HighsSolver(Solver):
    """HiGHS on the explicit face LP.

    Parameters
    ----------
    method : {"choose", "simplex", "ipm", "pdlp"}
        HiGHS's ``solver`` option.
    """

    name = "highs"

    def __init__(self, *, method="choose"):
        if method not in ("choose", "simplex", "ipm", "pdlp"):
            raise InputError(f"solver 'highs': method={method!r}; expected 'choose', 'simplex', 'ipm' or 'pdlp'")
        self.method = method

    @staticmethod
    def available():
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def _solve(self, face, memory, progress):
        with bar(1, "solving (HiGHS)", progress) as pb:
            lp = face.lp(memory)
            status, obj, x, y = solve_lp(lp, self.method)
            pb.update(1)
        if status != "optimal":
            raise SolverError(f"HiGHS did not solve the face LP: status {status}")
        GN, D = face.param_points, face.samples
        vertex = int(np.argmax(x[lp.cols["lam"].start : lp.cols["lam"].start + GN]))
        rows = face.rows(memory)
        a, S = first_within(face.counts.astype(np.float64) @ rows, D)
        info = {"lp_variables": lp.A.shape[1], "lp_constraints": lp.A.shape[0],
                "lp_nonzeros": int(lp.A.nnz), "highs_vertex": vertex}
        if a == vertex:
            return Solution(status, obj, a, face.params(a), self.name, y[lp.rows["S"]].copy(),
                            len(face.distinct) * GN, primal=x, dual=y, info=info,
                            nominal_evaluations=D * GN)
        return Solution(status, S / D, a, face.params(a), self.name, rows[face.inverse, a] / D,
                        len(face.distinct) * GN, info=info, nominal_evaluations=D * GN)
