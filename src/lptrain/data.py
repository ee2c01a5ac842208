"""Reading data sets: CSV with a header, the first n columns inputs, the last m outputs.

Values must lie in [-1, 1] (the paper's normalized data, Sec. 2) unless ``scale`` is
asked for, which maps each column affinely onto [-1, 1] and returns the
:class:`Scaling` so that models take and return raw units.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from .exceptions import InputError

MAX_COLUMNS = 10_000


@dataclass(frozen=True)
class Scaling:
    """Per-column affine maps [lo, hi] -> [-1, 1] (a constant column maps to 0)."""

    lo: tuple
    hi: tuple

    @classmethod
    def fit(cls, table: np.ndarray) -> "Scaling":
        return cls(tuple(map(float, table.min(axis=0))), tuple(map(float, table.max(axis=0))))

    def _ab(self, cols):
        lo = np.asarray(self.lo, dtype=np.float64)[cols]
        hi = np.asarray(self.hi, dtype=np.float64)[cols]
        span = hi - lo
        safe = np.where(span > 0, span, 1.0)
        return lo, span, safe

    def forward(self, values, cols=slice(None)) -> np.ndarray:
        lo, span, safe = self._ab(cols)
        out = 2.0 * (values - lo) / safe - 1.0
        return np.where(span > 0, out, 0.0)

    def inverse(self, values, cols=slice(None)) -> np.ndarray:
        lo, span, _ = self._ab(cols)
        return np.where(span > 0, lo + (values + 1.0) * span / 2.0, lo)

    def to_dict(self):
        return {"lo": list(self.lo), "hi": list(self.hi)}

    @classmethod
    def from_dict(cls, d):
        return cls(tuple(map(float, d["lo"])), tuple(map(float, d["hi"])))


@dataclass
class Dataset:
    """x (D, n) and y (D, m) in [-1, 1], the header, and the scaling used (or None)."""

    x: np.ndarray
    y: np.ndarray
    columns: list
    scaling: Scaling | None = None

    @property
    def samples(self) -> int:
        return self.x.shape[0]


def read_table(path, ncols=None, accept=None):
    """Parse a numeric CSV with a header into (header, array); one clear error per problem.

    ``accept`` is a set of allowed column counts (default: exactly ``ncols``).
    """
    try:
        fh = open(path, newline="")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a CSV file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    with fh:
        try:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}: empty file (expected a header and data rows)")
            header = [h.strip() for h in header]
            if len(header) > MAX_COLUMNS:
                raise InputError(f"{path}: {len(header)} columns, too many")
            want = accept or {ncols}
            if len(header) not in want:
                raise InputError(
                    f"{path}: {len(header)} columns, expected {' or '.join(map(str, sorted(want)))} "
                    f"for this architecture"
                )
            rows = []
            for line, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    raise InputError(f"{path}: line {line} has {len(row)} fields, the header has {len(header)}")
                vals = []
                for name, cell in zip(header, row):
                    try:
                        v = float(cell)
                    except ValueError:
                        raise InputError(f"{path}: line {line}, column {name!r}: {cell.strip()!r} is not a number") from None
                    if not math.isfinite(v):
                        raise InputError(f"{path}: line {line}, column {name!r}: {cell.strip()} (NaN or infinite values are not allowed)")
                    vals.append(v)
                rows.append(vals)
        except UnicodeDecodeError:
            raise InputError(f"{path}: not a text CSV file") from None
        except csv.Error as e:
            raise InputError(f"{path}: malformed CSV ({e})") from None
    if not rows:
        raise InputError(f"{path}: no data rows")
    return header, np.asarray(rows, dtype=np.float64)


def read_dataset(path, n: int, m: int, scale=False, scaling: Scaling | None = None) -> Dataset:
    """Read training data for an architecture with n inputs and m outputs."""
    header, table = read_table(path, n + m)
    return make_dataset(table, n, header, scale=scale, scaling=scaling, source=str(path))


def make_dataset(table, n, header=None, scale=False, scaling=None, source="data") -> Dataset:
    """Validate an array (D, n + m) of raw values and split it; see :func:`read_dataset`."""
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise InputError(f"{source}: expected a non-empty table of rows")
    if not np.all(np.isfinite(table)):
        raise InputError(f"{source}: contains NaN or infinite values")
    header = header or [f"x{i + 1}" for i in range(n)] + [f"y{i + 1}" for i in range(table.shape[1] - n)]
    if scaling is None and scale:
        scaling = Scaling.fit(table)
    if scaling is not None:
        table = scaling.forward(table)
    else:
        bad = np.argwhere((table < -1.0) | (table > 1.0))
        if len(bad):
            r, c = bad[0]
            raise InputError(
                f"{source}: value {table[r, c]:g} in column {header[c]!r} (row {r + 1}) lies "
                f"outside [-1, 1]; rescale the data or pass scale=True"
            )
    return Dataset(table[:, :n], table[:, n:], list(header), scaling)
