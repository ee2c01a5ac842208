"""The face LP's optimum without the LP (docs/design.md §4).

The face LP's optimum is min over grid points a of sum_d c_d(a), and c_d depends on d
only through the rounded data point, so
``S(a) = sum_p count_p * l(f(x~_p, a), y~_p)`` over the *distinct* rounded points p.
One-hidden-layer nets use the fused numba kernel of ``fused.py`` (hidden outputs computed
once per neuron parameter vector, hidden-unit symmetry, output bias swept last); every
other architecture scans the parameter grid in blocks (memory stays bounded whatever D and the grid
are).  Ties go to the smallest grid index within ``ties.TIE_RTOL`` of the minimum (the rule
every solver follows), and the dual certificate u_d = c_d(a*) of docs/design.md §4 is returned.
``evaluations`` counts the (distinct point, grid point) pairs whose loss was computed.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import LPTrainError
from ..progress import bar
from ..ties import Records
from .base import Solution, Solver
from .fused import scan_work


def records_over_blocks(blocks, counts, scale, pb=None) -> Records:
    """The tie :class:`Records` of S over (a0, a1, loss block) blocks given in index order."""
    counts = np.asarray(counts, dtype=np.float64)
    rec = Records(scale)
    for a0, a1, blk in blocks:
        rec.add_block(a0, (blk * counts[:, None]).sum(axis=0))
        if pb is not None:
            pb.update(a1 - a0)
    return rec


def min_over_blocks(blocks, counts, scale=1.0, pb=None):
    """(S at the tie-broken optimum, its grid index) over (a0, a1, loss block) blocks."""
    key, val = records_over_blocks(blocks, counts, scale, pb).result()
    return val, key


class StructuredSolver(Solver):
    """The face's optimum by a scan of the parameter grid (docs/design.md §4).

    Parameters
    ----------
    plain : bool
        Always the blockwise numpy scan, never the fused kernel.
    force_fused : bool
        The fused kernel for every one-hidden-layer net, however little the work.
    """

    name = "structured"

    def __init__(self, *, plain=False, force_fused=False):
        self.plain = bool(plain)
        self.force_fused = bool(force_fused)

    def _fused(self, face) -> bool:
        from . import fused

        work = face.param_points * len(face.distinct)
        return not self.plain and fused.applies(face.polytope.arch, None if self.force_fused else work)

    def work(self, face) -> int:
        return scan_work(face, self._fused(face))

    def _solve(self, face, memory, progress):
        from . import fused

        D = face.samples
        work = face.param_points * len(face.distinct)
        if self._fused(face):
            n, w, m = face.polytope.arch.widths
            K = face.grid.size ** (n + 1)
            with bar(fused.n_combos(K, w), "solving", progress) as pb:
                best, best_a, evaluations = fused.solve(face, pb)
            kernel = "fused"
        else:
            with bar(face.param_points, "solving", progress) as pb:
                best, best_a = min_over_blocks(face.blocks(memory), face.counts, D, pb)
            kernel = "blocks"
            evaluations = work
        if best_a is None:
            raise LPTrainError("the face objective is NaN at every grid point")
        return Solution.at_grid_point(face, best_a, best, solver=self.name, evaluations=evaluations,
                                      info={"kernel": kernel})
