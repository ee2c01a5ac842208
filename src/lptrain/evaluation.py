"""The oracle calls of Thm 3.1(b): l(f(x, phi), y) at grid points, chunked.

The polytope's only data-independent numbers are the values l(f(x, a), y) (+ lam R(a))
for grid points v = (x, y, a) of one bag, F_1.  Points are addressed by flat indices in
C order: a data point (x, y) by ``xy`` in [0, G^(n+m)), a parameter vector by ``a`` in
[0, G^N) (parameter 0 most significant), and v by ``xy * G^N + a``.

Flat indices outgrow int64 once bits * (n + m) or bits * N reaches 63 (an architecture
file with 40 inputs at 2 bits; 1-2-1 at 10 bits).  So data points travel as digit rows,
a single grid index is an exact Python int, and :func:`flat_index`, the one vectorized
int64 conversion, refuses sizes it cannot represent instead of wrapping.
"""

from __future__ import annotations

import numpy as np

from .exceptions import SizeError
from .grid import Grid

CHUNK_BYTES = 64 << 20
INT64_MAX = 2**63 - 1


def fits_int64(base: int, count: int) -> bool:
    """Whether every flat index of ``count`` digits in ``base`` (< base^count) fits an int64."""
    return base**count - 1 <= INT64_MAX


def digits(index, count: int, base: int) -> np.ndarray:
    """Mixed-radix digits of flat indices (C order, most significant first): (..., count).

    A scalar index is taken as an exact Python int (grid indices of bnb's large grids pass
    2^63); an array holds int64 indices, whose digits are exact whatever ``count`` is.
    """
    if isinstance(index, (int, np.integer)):
        rest = int(index)
        if rest < 0 or rest >= base**count:
            raise ValueError(f"index {rest} out of range for {count} digits in base {base}")
        out = np.empty(count, dtype=np.int64)
        for k in range(count - 1, -1, -1):
            rest, out[k] = divmod(rest, base)
        return out
    index = np.asarray(index, dtype=np.int64)
    out = np.empty(index.shape + (count,), dtype=np.int64)
    rest = index.copy()
    for k in range(count - 1, -1, -1):
        out[..., k] = rest % base
        rest //= base
    return out


def index_of(digit_vector, base: int) -> int:
    """The exact flat index (a Python int) of one digit vector: inverse of :func:`digits`."""
    a = 0
    for d in np.asarray(digit_vector).reshape(-1):
        a = a * base + int(d)
    return a


def flat_index(digit_array, base: int) -> np.ndarray:
    """Inverse of :func:`digits` along the last axis, as int64.

    Refused (SizeError) when base^count exceeds int64: such indices would wrap.  Code that
    can meet such sizes keeps digit vectors (``np.unique(..., axis=0)`` orders them as
    their flat indices) or uses :func:`index_of`.
    """
    digit_array = np.asarray(digit_array, dtype=np.int64)
    count = digit_array.shape[-1]
    if not fits_int64(base, count):
        raise SizeError(f"{base}^{count} grid points cannot be indexed by 64-bit integers")
    out = np.zeros(digit_array.shape[:-1], dtype=np.int64)
    for k in range(count):
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
        """Grid values (x (P, n), y (P, m)) of data points given as digit rows (P, n+m)
        (the face's form, which never overflows) or as flat indices (P,)."""
        xy = np.asarray(xy)
        dig = xy if xy.ndim == 2 else digits(xy, self.n + self.m, self.grid.size)
        v = self.grid.value(dig)
        return v[:, : self.n], v[:, self.n :]

    def params(self, a_start: int, a_stop: int) -> np.ndarray:
        """Grid parameter vectors for flat indices a_start..a_stop-1: (C, N).

        Exact for any indices (Python ints): past int64 the high digits are taken from
        a_start and only the low ones (at most 62 bits) vary inside the range.
        """
        G, N = self.grid.size, self.N
        if a_stop <= INT64_MAX:  # np.arange needs its stop in int64 too
            return self.grid.value(digits(np.arange(a_start, a_stop), N, G))
        low = min(N, 62 // self.grid.bits)
        span = G**low
        q, r = divmod(int(a_start), span)
        if r + (a_stop - a_start) > span:
            cut = (q + 1) * span
            return np.concatenate([self.params(a_start, cut), self.params(cut, a_stop)])
        dig = np.empty((a_stop - a_start, N), dtype=np.int64)
        dig[:, : N - low] = digits(q, N - low, G)
        dig[:, N - low :] = digits(np.arange(r, r + (a_stop - a_start)), low, G)
        return self.grid.value(dig)

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
