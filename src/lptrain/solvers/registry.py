"""The solvers by name: the one module that lists them (as cvxpy's ``reductions/solvers/defines.py``).

The base class (:mod:`lptrain.solvers.base`) knows no solver; each interface lives in its own
module and imports its optional library only when it runs.  Adding a solver means writing its
module and adding its class to :data:`SOLVER_CLASSES`.
"""

from __future__ import annotations

from ..exceptions import InputError
from .base import Solver
from .bnb import BranchAndBound
from .distributed import DaskSolver
from .gpu import GpuSolver
from .highs import HighsSolver
from .structured import StructuredSolver

SOLVER_CLASSES = (HighsSolver, StructuredSolver, BranchAndBound, DaskSolver, GpuSolver)
SOLVERS: dict[str, type[Solver]] = {cls.name: cls for cls in SOLVER_CLASSES}


def get_solver(name: str) -> Solver:
    """The solver registered under ``name``.

    Parameters
    ----------
    name : str
        One of :data:`SOLVERS` (``highs``, ``structured``, ``bnb``, ``dask``, ``gpu``).

    Returns
    -------
    Solver
        A new instance of that solver.

    Raises
    ------
    InputError
        For an unknown name, or a solver whose optional dependency is not installed.
    """
    if name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; choose one of {', '.join(sorted(SOLVERS))} or auto")
    cls = SOLVERS[name]
    if not cls.available():
        raise InputError(f"solver {name!r} is not available here ({cls.unavailable_reason})")
    return cls()


def installed_solvers() -> list[str]:
    """The names of the solvers that can run here, sorted."""
    return sorted(n for n, c in SOLVERS.items() if c.available())
