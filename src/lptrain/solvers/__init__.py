"""Face solvers behind one interface, chosen by name (see :func:`get_solver`)."""

from .base import Solution, Solver
from .registry import SOLVERS, get_solver, installed_solvers

__all__ = ["SOLVERS", "Solution", "Solver", "get_solver", "installed_solvers"]
