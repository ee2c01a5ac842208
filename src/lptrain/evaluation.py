"""The oracle calls of Thm 3.1(b): l(f(x, phi), y) at grid points, chunked.

The polytope's only data-independent numbers are the values l(f(x, a), y) (+ lam R(a))
for grid points v = (x, y, a) of one bag, F_1.  Points are addressed by flat indices in
C order: a data point (x, y) by ``xy`` in [0, G^(n+m)), a parameter vector by ``a`` in
[0, G^N) (parameter 0 most significant), and v by ``xy * G^N + a``.
"""

from __future__ import annotations

import numpy as np

from .grid import Grid

CHUNK_BYTES = 64 << 20


def digits(index, count: int, base: int) -> np.ndarray:
    """Mixed-radix digits of flat indices (C order, most significant first): (..., count)."""
    index = np.asarray(index, dtype=np.int64)
    out = np.empty(index.shape + (count,), dtype=np.int64)
    rest = index.copy()
    for k in range(count - 1, -1, -1):
        out[..., k] = rest % base
        rest //= base
    return out


def flat_index(digit_array, base: int) -> np.ndarray:
    """Inverse of :func:`digits` along the last axis."""
    digit_array = np.asarray(digit_array, dtype=np.int64)
    out = np.zeros(digit_array.shape[:-1], dtype=np.int64)
    for k in range(digit_array.shape[-1]):
        out = out * base + digit_array[..., k]
    return out


def regularizer(params, reg) -> np.ndarray:
    """R(phi) of App. B for parameter vectors (C, N): ||phi||_1 or ||phi||_2^2."""
    if reg is None:
        return np.zeros(params.shape[0])
    if reg == "l1":
        return np.abs(params).sum(axis=1)
    return (params * params).sum(axis=1)


class Evaluator:
    """Computes rows of the bag table: loss[p, a] = l(f(x_p, a), y_p) + lam R(a)."""

    def __init__(self, arch, loss, grid: Grid, reg=None, lam=0.0):
        self.arch, self.loss, self.grid, self.reg, self.lam = arch, loss, grid, reg, float(lam)
        self.n, self.m, self.N = arch.n_inputs, arch.n_outputs, arch.n_params
        self.param_points = grid.size**self.N

    def points(self, xy):
        """Grid values (x (P, n), y (P, m)) of flat data-point indices."""
        v = self.grid.value(digits(xy, self.n + self.m, self.grid.size))
        return v[:, : self.n], v[:, self.n :]

    def params(self, a_start: int, a_stop: int) -> np.ndarray:
        """Grid parameter vectors for flat indices a_start..a_stop-1: (C, N)."""
        return self.grid.value(digits(np.arange(a_start, a_stop), self.N, self.grid.size))

    def chunk(self, n_points: int, budget: int = CHUNK_BYTES) -> int:
        """Parameter vectors per block so that one block's arrays stay near ``budget`` bytes."""
        per = 8 * max(1, n_points) * (len(self.arch.nodes) + self.m + 3) + 8 * 3 * self.N
        return int(max(1, min(self.param_points, min(budget, CHUNK_BYTES) // per)))

    def block(self, x, y, a_start: int, a_stop: int) -> np.ndarray:
        """loss[p, a - a_start] for the points (x, y) and a in [a_start, a_stop): (P, C)."""
        phi = self.params(a_start, a_stop)
        z = self.arch.forward(x, phi)
        val = self.loss.evaluate(z, y[None, :, :])
        if self.reg is not None and self.lam:
            val = val + self.lam * regularizer(phi, self.reg)[:, None]
        return np.ascontiguousarray(val.T)

    def blocks(self, x, y, budget: int = CHUNK_BYTES, start: int = 0, stop: int | None = None):
        """Yield (a_start, a_stop, loss block) over parameter vectors start..stop-1, in order."""
        stop = self.param_points if stop is None else stop
        step = self.chunk(len(x), budget)
        for a0 in range(start, stop, step):
            a1 = min(stop, a0 + step)
            yield a0, a1, self.block(x, y, a0, a1)
