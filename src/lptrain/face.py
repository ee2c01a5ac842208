"""Data faces of the ERM polytope (Sec. 3.3, Lemmas 3.4-3.6, docs/design.md §4).

A data set (x_d, y_d) is rounded onto the grid (eq. 7) and fixes a face of P: in bag d,
lambda[d, v] = 0 for every v whose (x, y) part is not the rounded point (x~_d, y~_d).
What survives in bag d is one lambda per parameter grid point a, with cost
c_d(a) = l(f(x~_d, a), y~_d) / D, and the face LP's optimum is
min_a sum_d c_d(a) (Lemma 3.5: within 2 epsilon of the true ERM optimum).

c_d depends on d only through the rounded point, so the face keeps the data's
histogram: distinct rounded points (as rows of n+m grid digits, in flat-index order: a
flat index G^(n+m) would outgrow int64 on wide inputs), their counts, and which one
each d is.  The map
back from a face solution to a network is :meth:`Face.params` (grid index a -> values).
"""

from __future__ import annotations

import numpy as np

from . import lp as lpmod
from .evaluation import digits, flat_index
from .exceptions import InputError, SizeError
from .polytope import Polytope
from .sizes import DEFAULT_MEMORY, big, human_bytes, lp_bytes


class Face:
    """The face of ``polytope`` fixed by a data set (Sec. 3.3).

    The data are rounded onto the grid (eq. 7) and reduced to their distinct rounded points
    with counts; nothing is evaluated until a solver asks (:meth:`blocks`, :meth:`rows`,
    :meth:`lp`).

    Parameters
    ----------
    polytope : Polytope
        P for the architecture, loss, grid and sample size D (built or not).
    x : array_like, shape (D, n)
        Inputs in [-1, 1].
    y : array_like, shape (D, m)
        Outputs in [-1, 1].

    Raises
    ------
    InputError
        When the shapes do not match P's n, m and D, or the data hold NaN or infinities.
    """

    def __init__(self, polytope: Polytope, x, y):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, m, D = polytope.n, polytope.m, polytope.samples
        if x.ndim != 2 or x.shape[1] != n or y.ndim != 2 or y.shape[1] != m:
            raise InputError(
                f"data has {x.shape[-1] if x.ndim == 2 else '?'} inputs and "
                f"{y.shape[-1] if y.ndim == 2 else '?'} outputs; the architecture needs {n} and {m}"
            )
        if x.shape[0] != D or y.shape[0] != D:
            raise InputError(f"data has {x.shape[0]} rows; the polytope was built for {D} samples")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InputError("data contains NaN or infinite values")
        self.polytope = polytope
        self.grid = polytope.grid
        self.x, self.y = x, y
        self.x_index = self.grid.round_index(x)
        self.y_index = self.grid.round_index(y)
        self.data_index = np.concatenate([self.x_index, self.y_index], axis=1)
        self.distinct, self.inverse, self.counts = np.unique(
            self.data_index, axis=0, return_inverse=True, return_counts=True
        )
        self.inverse = self.inverse.reshape(-1)
        self._rows = None

    @property
    def xy(self) -> np.ndarray:
        """Flat data-point index of each sample (D,); refused when G^(n+m) passes int64."""
        return flat_index(self.data_index, self.grid.size)

    @property
    def samples(self) -> int:
        return self.polytope.samples

    @property
    def param_points(self) -> int:
        return self.polytope.param_points

    def x_rounded(self):
        return self.grid.value(self.x_index)

    def y_rounded(self):
        return self.grid.value(self.y_index)

    # -- costs ------------------------------------------------------------------------

    def rows_bytes(self) -> int:
        return 8 * len(self.distinct) * self.param_points

    def rows(self, memory=DEFAULT_MEMORY) -> np.ndarray:
        """l(f(x~_p, a), y~_p) for every distinct rounded point p and every a: (P, G^N)."""
        if self._rows is None:
            if self.rows_bytes() > memory:
                raise SizeError(
                    f"the face's loss table needs {human_bytes(self.rows_bytes())} "
                    f"(limit {human_bytes(memory)})"
                )
            self._rows = self.polytope.rows(self.distinct)
        return self._rows

    def blocks(self, memory=DEFAULT_MEMORY):
        """Yield (a0, a1, loss block (P, a1 - a0)) over all parameter grid points, in order.

        Blocks are sized to a small fraction of ``memory`` (at most 64 MiB), so a scan's
        peak memory does not grow with the grid or with D.
        """
        budget = max(1 << 20, int(memory) // 16)
        if self._rows is not None or self.polytope.table is not None:
            rows = self.rows(memory=float("inf"))
            step = self.polytope.evaluator.chunk(len(self.distinct), budget)
            for a0 in range(0, self.param_points, step):
                a1 = min(self.param_points, a0 + step)
                yield a0, a1, rows[:, a0:a1]
            return
        x, y = self.polytope.evaluator.points(self.distinct)
        yield from self.polytope.evaluator.blocks(x, y, budget)

    def loss_at(self, a: int) -> np.ndarray:
        """l(f(x~_p, a), y~_p) for every distinct point p at one grid point a: (P,)."""
        if self._rows is not None or self.polytope.table is not None:
            return self.rows(memory=float("inf"))[:, a].copy()
        x, y = self.polytope.evaluator.points(self.distinct)
        return self.polytope.evaluator.block(x, y, a, a + 1)[:, 0]

    # -- back to the network -------------------------------------------------------

    def param_index(self, a: int) -> np.ndarray:
        """Grid indices of the N parameters of flat grid point a."""
        return digits(int(a), self.polytope.N, self.grid.size)  # exact for any Python int

    def params(self, a: int) -> np.ndarray:
        """Parameter values (canonical order, docs/design.md §9) of flat grid point a."""
        return self.grid.value(self.param_index(a))

    # -- the explicit face LP --------------------------------------------------------

    def lp_sizes(self) -> dict:
        p = self.polytope
        pop = sum(int(((self.data_index >> s) & 1).sum()) for s in range(self.grid.bits))
        var, con, nnz = lpmod.counts(p.form, self.samples, 1, self.param_points, p.n, p.m,
                                     p.N, self.grid.bits, popcount_total=pop)
        return {"variables": var, "constraints": con, "nonzeros": nnz,
                "lp_bytes": lp_bytes(var, con, nnz)}

    def fits(self, memory=DEFAULT_MEMORY) -> bool:
        """Whether the explicit face LP (and its loss table) fits in ``memory`` bytes."""
        return self.lp_sizes()["lp_bytes"] + self.rows_bytes() <= memory

    def lp(self, memory=DEFAULT_MEMORY) -> lpmod.ExplicitLP:
        """The explicit face LP: P's LP restricted to the surviving columns (see lptrain.lp)."""
        s = self.lp_sizes()
        if s["lp_bytes"] + self.rows_bytes() > memory:
            raise SizeError(
                f"explicit face LP too large: {big(s['variables'])} variables, "
                f"{big(s['nonzeros'])} nonzeros, about {human_bytes(s['lp_bytes'])} "
                f"(limit {human_bytes(memory)}); use solver='structured', fewer bits or raise memory="
            )
        p = self.polytope
        return lpmod.assemble(p.form, self.data_index[:, None, :], self.inverse[:, None], self.rows(memory),
                              self.samples, p.n, p.m, p.N, self.grid.bits)

    def columns_in_polytope(self) -> np.ndarray:
        """For each column of the face LP, its column in P's LP (the face's inverse map)."""
        p = self.polytope
        D, GN, k = self.samples, self.param_points, p.data_points
        a = np.arange(GN)
        lam = ((np.arange(D)[:, None] * k + self.xy[:, None]) * GN + a[None, :]).reshape(-1)
        lamP = D * k * GN
        parts = [lam]
        if p.form == "literal":
            parts.append(lamP + lam)
            rest = np.arange(2 * lamP, 2 * lamP + D + (D * (p.n + p.m) + p.N) * self.grid.bits)
        else:
            rest = np.arange(lamP, lamP + D)
        parts.append(rest)
        return np.concatenate(parts)

    def rows_in_polytope(self) -> np.ndarray:
        """For each row of the face LP, its row in P's LP.

        P's other rows restricted to the face's columns are empty (0 = 0): in the literal
        form, the leaf gluing rows H[d, v] of the assignments v the face discards.
        """
        p = self.polytope
        D, GN, k = self.samples, self.param_points, p.data_points
        head = np.arange(2 * D + (D - 1) * GN)
        if p.form == "compact":
            return head
        lamP = D * k * GN
        r_H = head[-1] + 1 + D
        h = r_H + ((np.arange(D)[:, None] * k + self.xy[:, None]) * GN + np.arange(GN)).reshape(-1)
        nbits = (D * (p.n + p.m) + p.N) * self.grid.bits
        return np.concatenate([head, np.arange(head[-1] + 1, r_H), h,
                               np.arange(r_H + lamP, r_H + lamP + nbits)])
