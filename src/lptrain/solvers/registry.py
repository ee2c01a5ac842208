"""The solvers by name: the one module that lists them (as cvxpy's ``reductions/solvers/defines.py``).

The base class (:mod:`lptrain.solvers.base`) knows no solver; each interface lives in its own
module and imports its optional library only when it runs.  Adding a solver means writing its
module and adding its class to :data:`SOLVER_CLASSES`.
"""

from __future__ import annotations

import inspect

from ..exceptions import InputError
from .base import Solver
from .bnb import BranchAndBound
from .distributed import DaskSolver
from .gpu import GpuSolver
from .highs import HighsSolver
from .structured import StructuredSolver

SOLVER_CLASSES = (HighsSolver, StructuredSolver, BranchAndBound, DaskSolver, GpuSolver)
SOLVERS: dict[str, type[Solver]] = {cls.name: cls for cls in SOLVER_CLASSES}


def get_solver(name: str, **options) -> Solver:
    """A new instance of the solver registered under ``name``, configured by ``options``.

    Options are passed to the solver's constructor (as cvxpy hands ``solver_opts`` to its
    interfaces), never set on its class, so two solvers in one process never share them.

    Parameters
    ----------
    name : str
        One of :data:`SOLVERS` (``highs``, ``structured``, ``bnb``, ``dask``, ``gpu``).
    **options
        The solver's keyword options, e.g. ``get_solver("dask", scheduler="tcp://host:8786")``,
        ``get_solver("bnb", depth_first=False)``, ``get_solver("structured", plain=True)``;
        :func:`solver_options` lists them.

    Returns
    -------
    Solver
        The configured solver; ``solve(face, memory, progress)`` solves a face.

    Raises
    ------
    InputError
        For an unknown name, an option the solver does not take, or a solver whose optional
        dependency is not installed.
    """
    if name not in SOLVERS:
        raise InputError(f"unknown solver {name!r}; choose one of {', '.join(sorted(SOLVERS))} or auto")
    cls = SOLVERS[name]
    unknown = sorted(set(options) - set(solver_options(name)))
    if unknown:
        takes = ", ".join(solver_options(name)) or "no options"
        raise InputError(f"solver {name!r} has no option {', '.join(unknown)} (it takes {takes})")
    if not cls.available():
        raise InputError(f"solver {name!r} is not available here ({cls.unavailable_reason})")
    return cls(**options)


def solver_options(name: str) -> tuple[str, ...]:
    """The keyword options the solver ``name`` takes (its constructor's parameters)."""
    params = inspect.signature(SOLVERS[name]).parameters.values()
    return tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY or p.kind is p.POSITIONAL_OR_KEYWORD)


def installed_solvers() -> list[str]:
    """The names of the solvers that can run here, sorted."""
    return sorted(n for n, c in SOLVERS.items() if c.available())
