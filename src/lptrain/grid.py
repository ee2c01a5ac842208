"""Discretization of [-1, 1] (the paper's eq. 7, docs/design.md §1).

A number r in [-1, 1] is represented by ``bits`` = N_gamma binary digits z_1..z_B::

    value(z) = -1 + 2 * sum_h 2^-h z_h        (gamma = 2^-B)
    value(z) <= r <= value(z) + 2 gamma        (round down; r = 1 maps to the top point)

so the grid has G = 2^B points -1, -1 + 2 gamma, ..., 1 - 2 gamma, and grid index j
stands for -1 + 2 j / G.  With the architecture Lipschitz constant L (Def. 2.2),
the resolution is epsilon = 2 gamma L (Lemma 3.1), and a requested epsilon needs
B = ceil(log2(2 L / epsilon)) bits.
"""

from __future__ import annotations

import math
from fractions import Fraction
from dataclasses import dataclass

import numpy as np

from .exceptions import InputError

MAX_BITS = 30
SNAP_TOL = 1e-12
"""Scaled data this close to a grid point is taken as on it (:meth:`Grid.snap`)."""


@dataclass(frozen=True)
class Grid:
    """The grid of 2**bits points on [-1, 1); see the module docstring."""

    bits: int

    def __post_init__(self):
        if isinstance(self.bits, bool) or not isinstance(self.bits, (int, np.integer)):
            raise InputError(f"bits must be an integer, got {self.bits!r}")
        if not 1 <= int(self.bits) <= MAX_BITS:
            raise InputError(f"bits must be between 1 and {MAX_BITS}, got {self.bits}")
        object.__setattr__(self, "bits", int(self.bits))

    @property
    def size(self) -> int:
        """G = 2**bits, the number of grid points."""
        return 1 << self.bits

    @property
    def gamma(self) -> float:
        """gamma = 2**-bits; neighbouring grid points are 2 gamma apart."""
        return 2.0 ** -self.bits

    def values(self) -> np.ndarray:
        """All grid values in index order, shape (G,)."""
        return self.value(np.arange(self.size))

    def value(self, index) -> np.ndarray:
        """Grid value(s) of index(es) j: -1 + 2 j / G (exact: dyadic rationals)."""
        return -1.0 + np.asarray(index, dtype=np.float64) * (2.0 / self.size)

    def round_index(self, r) -> np.ndarray:
        """Index of the grid point r rounds down to (eq. 7); r = 1 maps to the top point.

        Exact for every float in [-1, 1]: the floor is corrected by comparing with the
        exactly representable grid values, so value(j) <= r < value(j + 1) always holds.
        """
        r = np.asarray(r, dtype=np.float64)
        if not np.all(np.isfinite(r)):
            raise InputError("cannot round NaN or infinite values onto the grid")
        if np.any((r < -1.0) | (r > 1.0)):
            raise InputError("values to round must lie in [-1, 1]")
        G = self.size
        j = np.floor((r + 1.0) * (G / 2.0)).astype(np.int64)
        j = np.clip(j, 0, G - 1)
        j = np.where(self.value(j) > r, j - 1, j)
        j = np.where((j + 1 < G) & (self.value(np.minimum(j + 1, G - 1)) <= r), j + 1, j)
        return j

    def snap(self, r, tol=SNAP_TOL) -> np.ndarray:
        """``r`` with every value within ``tol`` of a grid point moved onto it.

        For data that --scale computed: the affine map of decimal inputs (2.20, 2.21, 2.22,
        2.23 onto 2 bits) lands on grid points only up to float rounding, and a value one ulp
        below a point would round down a whole cell (eq. 7).  ``tol`` broadcasts against
        ``r`` (one per column: :meth:`lptrain.data.Scaling.forward_error`).
        """
        r = np.asarray(r, dtype=np.float64)
        j = np.clip(np.rint((r + 1.0) * (self.size / 2.0)), 0, self.size)
        v = -1.0 + j * (2.0 / self.size)
        return np.where(np.abs(r - v) <= tol, v, r)

    def round(self, r) -> np.ndarray:
        """The rounded values themselves (value(round_index(r)))."""
        return self.value(self.round_index(r))

    def epsilon(self, lipschitz: float) -> float:
        """epsilon = 2 gamma L, the accuracy this grid guarantees (Lemma 3.1)."""
        return 2.0 * self.gamma * lipschitz

    @classmethod
    def for_epsilon(cls, epsilon: float, lipschitz: float) -> "Grid":
        """The coarsest grid with 2 gamma L <= epsilon: bits = ceil(log2(2 L / epsilon))."""
        if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
            raise InputError(f"epsilon must be a positive number, got {epsilon!r}")
        if not (math.isfinite(lipschitz) and lipschitz > 0):
            raise InputError(f"the Lipschitz constant must be a positive number, got {lipschitz!r}")
        bits = bits_for_epsilon(epsilon, lipschitz)
        if bits > MAX_BITS:
            raise InputError(
                f"epsilon={epsilon:g} needs {bits} bits per number (L={lipschitz:g}); "
                f"at most {MAX_BITS} are supported: choose a larger epsilon"
            )
        return cls(bits)


def bits_for_epsilon(epsilon: float, lipschitz: float) -> int:
    """The least bits >= 1 with 2 * 2^-bits * L <= epsilon, decided exactly (no overflow).

    Compared in exact rationals, so epsilon from 1e-300 to 1e300 neither overflows 2L/epsilon
    nor misrounds it at a power of two; epsilon >= 2L gives 1 bit (the coarsest grid).
    """
    q = 2 * Fraction(lipschitz) / Fraction(epsilon)
    bits = max(1, q.numerator.bit_length() - q.denominator.bit_length())
    while bits > 1 and q <= 2 ** (bits - 1):
        bits -= 1
    while q > 2**bits:
        bits += 1
    return bits
