"""One interface for every face solver and the Solution they return.

A solver takes a :class:`~lptrain.face.Face` and returns a :class:`Solution`: status,
objective (the face LP's optimum), the optimal grid point a* (the face's vertex), and a
dual certificate.  Solvers that solve the explicit LP return its primal and row-dual
vectors; structured solvers return the certificate of docs/design.md §4 in compact form
(u_d = c_d(a*)), which :meth:`Solution.explicit` expands into LP vectors:

    u_d = c_d(a*),   p_d(a) = sum_{d' <= d} (u_d' - c_d'(a)),   r_d = 1/D,
    (literal form) h_d(a) = c_d(a), all other duals 0.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

@dataclass
class Solution:
    """The result of solving one face LP.

    ``grid_index`` is an exact Python int (it can pass 2^63).  ``evaluations`` is the work
    the solver did: losses l(f(x_p, a), y_p) computed, over distinct data points p and the
    grid points a it evaluated (bnb: exact evaluations plus box bounds, each times the
    distinct points, split in ``info``).  ``nominal_evaluations`` is D * G^N, what a
    scan of the face without de-duplication would compute (:meth:`Solver.solve` fills it in
    when a solver leaves it None).
    """

    status: str
    objective: float
    grid_index: int
    params: np.ndarray
    solver: str
    dual_u: np.ndarray
    evaluations: int
    seconds: float = 0.0
    primal: np.ndarray | None = None
    dual: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    nominal_evaluations: int | None = None

    @classmethod
    def at_grid_point(cls, face, a, S, *, solver, evaluations, info=None) -> "Solution":
        """The solution of a solver that found the optimal grid point ``a`` without the LP.

        Everything follows from ``a`` (docs/design.md §4): the parameters are the grid
        values of ``a``'s digits, the dual certificate is u_d = c_d(a) = l(f(x~_d, a), y~_d) / D
        (plus lam R(a)), and the objective is S(a) / D.

        Parameters
        ----------
        face : Face
        a : int
            The flat grid index of the optimum (exact; may pass 2^63).
        S : float
            sum_p count_p l_p(a) (+ D lam R(a)) as the solver computed it.
        solver : str
            The solver's name.
        evaluations : int
            The losses the solver computed (the work done).
        info : dict, optional
            The solver's own figures; ``distinct_points`` is added.

        Returns
        -------
        Solution
            Status ``optimal``, with ``nominal_evaluations`` = D G^N.
        """
        D = face.samples
        ell = face.loss_at(a)
        return cls("optimal", S / D, a, face.params(a), solver, ell[face.inverse] / D, evaluations,
                   nominal_evaluations=D * face.param_points,
                   info={"distinct_points": int(len(face.distinct)), **(info or {})})

    def explicit(self, face, lp):
        """(x, y): primal and row-dual vectors of the explicit face LP ``lp``."""
        if self.primal is not None and self.dual is not None:
            return self.primal, self.dual
        D, GN = face.samples, face.param_points
        rows = face.rows()
        a = self.grid_index
        ell = rows[face.inverse, a]
        x = np.zeros(lp.A.shape[1])
        lam = lp.cols["lam"].start + np.arange(D) * GN + a
        x[lam] = 1.0
        x[lp.cols["L"]] = ell
        y = np.zeros(lp.A.shape[0])
        c = rows[face.inverse] / D
        u = np.asarray(self.dual_u, dtype=np.float64)
        y[lp.rows["S"]] = u
        if D > 1:
            p = np.cumsum(u[:, None] - c, axis=0)[:-1]
            y[lp.rows["E"]] = p.reshape(-1)
        y[lp.rows["R"]] = 1.0 / D
        if "leaf" in lp.cols:
            x[lp.cols["leaf"].start + np.arange(D) * GN + a] = 1.0
            x[lp.cols["z"]] = _bits(face, a)
            y[lp.rows["H"]] = c.reshape(-1)
        return x, y


def _bits(face, a):
    """Values of the binary variables z (data bits per bag, then parameter bits)."""
    B = face.grid.bits
    shifts = np.arange(B - 1, -1, -1)
    data = np.concatenate([face.x_index, face.y_index], axis=1)
    dbits = (data[..., None] >> shifts) & 1
    pbits = (face.param_index(a)[:, None] >> shifts) & 1
    return np.concatenate([dbits.reshape(-1), pbits.reshape(-1)]).astype(np.float64)


class Solver(ABC):
    """A face solver; subclasses set ``name`` and implement :meth:`_solve`.

    A solver's options are its constructor's keyword arguments
    (``get_solver(name, **options)``), stored on the instance, never on the class.  Every
    solver honours ``progress``: with it (and a terminal on stderr) a bar shows the work done.
    """

    name = "abstract"
    unavailable_reason = "a missing optional dependency"

    def solve(self, face, memory, progress=False) -> Solution:
        t0 = time.perf_counter()
        sol = self._solve(face, memory, progress)
        sol.seconds = time.perf_counter() - t0
        if sol.nominal_evaluations is None:
            sol.nominal_evaluations = face.samples * face.param_points
        return sol

    @abstractmethod
    def _solve(self, face, memory, progress) -> Solution:  # pragma: no cover
        ...

    def work(self, face) -> int | None:
        """The (grid point, distinct point) pairs a scan of ``face`` will score, known before it
        starts; None for solvers whose work is not known in advance (bnb prunes, HiGHS is
        bounded by ``memory``)."""
        return None

    @staticmethod
    def available() -> bool:
        """Whether the solver's optional dependencies are installed (see ``unavailable_reason``)."""
        return True
