"""The explicit face LP solved by HiGHS (highspy), primal and row duals read back.

The reference solver: it materializes the face LP of ``lptrain.lp`` (every column of
the face, all gluing rows) and lets HiGHS solve it.  Exact but memory-hungry; see
PERF-NOTES.  The optimal grid point is read off bag 0's lambda's (a vertex of the face
puts weight 1 on one a; with ties an interior solution is mapped to its heaviest a,
which is optimal too since every a in its support is).
"""

from __future__ import annotations

import numpy as np

from ..exceptions import LPTrainError
from .base import Solution, Solver, register

STATUS_MAP = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
}


def solve_lp(lp, method="choose"):
    """Solve an :class:`~lptrain.lp.ExplicitLP` with HiGHS; returns (status, obj, x, y)."""
    import highspy

    A = lp.A.tocsc(copy=True)
    A.eliminate_zeros()
    A.sort_indices()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("solver", method)
    model = highspy.HighsLp()
    model.num_col_ = A.shape[1]
    model.num_row_ = A.shape[0]
    inf = highspy.kHighsInf
    model.col_cost_ = np.asarray(lp.c, dtype=np.float64)
    model.col_lower_ = np.where(np.isinf(lp.lower), -inf, lp.lower)
    model.col_upper_ = np.where(np.isinf(lp.upper), inf, lp.upper)
    model.row_lower_ = np.asarray(lp.b, dtype=np.float64)
    model.row_upper_ = np.asarray(lp.b, dtype=np.float64)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = A.data
    h.passModel(model)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    key = str(h.getModelStatus()).split(".")[-1]
    sol = h.getSolution()
    x = np.array(sol.col_value)
    y = np.array(sol.row_dual)
    obj = h.getInfo().objective_function_value
    return STATUS_MAP.get(key, status), float(obj), x, y


@register
class HighsSolver(Solver):
    name = "highs"
    method = "choose"

    @staticmethod
    def available():
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True

    def _solve(self, face, memory, progress):
        lp = face.lp(memory)
        status, obj, x, y = solve_lp(lp, self.method)
        if status != "optimal":
            raise LPTrainError(f"HiGHS did not solve the face LP: status {status}")
        GN = face.param_points
        a = int(np.argmax(x[lp.cols["lam"].start : lp.cols["lam"].start + GN]))
        return Solution(
            status=status,
            objective=obj,
            grid_index=a,
            params=face.params(a),
            solver=self.name,
            dual_u=y[lp.rows["S"]].copy(),
            evaluations=face.samples * GN,
            primal=x,
            dual=y,
            info={"lp_variables": lp.A.shape[1], "lp_constraints": lp.A.shape[0],
                  "lp_nonzeros": int(lp.A.nnz)},
        )
