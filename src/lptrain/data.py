"""Reading data sets: CSV with a header, the first n columns inputs, the last m outputs.

Values must lie in [-1, 1] (the paper's normalized data, Sec. 2) unless ``scale`` is
asked for, which maps each column affinely onto the grid's range [-1, 1 - 2 gamma] and
returns the :class:`Scaling` so that models take and return raw units.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from .exceptions import InputError
from .grid import SNAP_TOL

MAX_COLUMNS = 10_000


@dataclass(frozen=True)
class Scaling:
    """Per-column affine maps [lo, hi] -> [-1, top] (a constant column maps to 0).

    ``top`` is the grid's top point 1 - 2 gamma (eq. 7: the grid stops below 1), so a
    column's maximum lands on a grid point and stays apart from its neighbours after
    rounding down; mapping it to 1 would round it to 1 - 2 gamma together with everything
    above that.  ``top`` defaults to 1 (models saved before it existed).  The maps are
    computed after dividing each column by a power of two near its largest magnitude, which
    is exact, so finite values up to 1.8e308 never overflow; ``lo`` and ``hi`` land exactly
    on -1 and ``top``.
    """

    lo: tuple
    hi: tuple
    top: tuple | None = None

    @classmethod
    def fit(cls, table: np.ndarray, top=1.0) -> "Scaling":
        """The maps of each column of ``table`` onto [-1, top] (``top`` a number or one per column)."""
        table = np.asarray(table, dtype=np.float64)
        tops = np.broadcast_to(np.asarray(top, dtype=np.float64), (table.shape[1],))
        return cls(tuple(map(float, table.min(axis=0))), tuple(map(float, table.max(axis=0))),
                   tuple(map(float, tops)))

    @classmethod
    def for_grid(cls, table, grid) -> "Scaling":
        """:meth:`fit` onto ``grid``'s own range [-1, 1 - 2 gamma]."""
        return cls.fit(table, top=1.0 - 2.0 * grid.gamma)

    def _ab(self, cols):
        lo = np.asarray(self.lo, dtype=np.float64)[cols]
        hi = np.asarray(self.hi, dtype=np.float64)[cols]
        top = np.ones_like(lo) if self.top is None else np.asarray(self.top, dtype=np.float64)[cols]
        _, e = np.frexp(np.maximum(np.abs(lo), np.abs(hi)))
        s = np.ldexp(1.0, e - 1)  # a power of two within a factor 2 of max |value|: exact division
        lo_s, span_s = lo / s, hi / s - lo / s
        safe = np.where(span_s > 0, span_s, 1.0)
        return s, lo_s, span_s, safe, top + 1.0

    def forward(self, values, cols=slice(None)) -> np.ndarray:
        """Raw values -> [-1, top] (columns ``cols``)."""
        s, lo_s, span_s, safe, width = self._ab(cols)
        out = -1.0 + width * ((np.asarray(values, dtype=np.float64) / s - lo_s) / safe)
        return np.where(span_s > 0, out, 0.0)

    def forward_error(self, cols=slice(None)) -> np.ndarray:
        """A bound on |forward(x) - forward(x*)| per column, x the float of a decimal x*.

        The input's own rounding (half an ulp of x, and of lo) is magnified by the map's
        slope width / span; the map's four operations add a few ulps of [-1, 1].
        """
        s, lo_s, span_s, safe, width = self._ab(cols)
        eps = np.finfo(np.float64).eps
        mag = np.maximum(np.abs(lo_s), np.abs(lo_s + span_s))
        return np.where(span_s > 0, 4.0 * eps * width * mag / safe + 8.0 * eps, 0.0)

    def inverse(self, values, cols=slice(None)) -> np.ndarray:
        """[-1, top] -> raw values (columns ``cols``); a constant column returns its value."""
        s, lo_s, span_s, _, width = self._ab(cols)
        t = (np.asarray(values, dtype=np.float64) + 1.0) / width
        with np.errstate(over="ignore"):
            out = s * (lo_s + t * span_s)
        lo = np.asarray(self.lo, dtype=np.float64)[cols]
        hi = np.asarray(self.hi, dtype=np.float64)[cols]
        inside = (t >= 0) & (t <= 1)  # rounding must not step past [lo, hi] (nor overflow there)
        out = np.where(inside, np.clip(out, lo, hi), out)
        return np.where(span_s > 0, out, lo)

    def to_dict(self):
        d = {"lo": list(self.lo), "hi": list(self.hi)}
        if self.top is not None:
            d["top"] = list(self.top)
        return d

    @classmethod
    def from_dict(cls, d):
        top = tuple(map(float, d["top"])) if d.get("top") is not None else None
        if top is not None and len(top) != len(d["lo"]):
            raise InputError("scaling: 'top' has the wrong length")
        return cls(tuple(map(float, d["lo"])), tuple(map(float, d["hi"])), top)


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
    """Parse a numeric CSV into (header, array); one clear error per problem.

    The header line is optional: a first line whose every cell is a finite number is read as
    data, and the columns are named x1.., y1.. (by :func:`make_dataset`; ``header`` is None).
    ``accept`` is a set of allowed column counts (default: exactly ``ncols``).
    """
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
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
                raise InputError(f"{path}: empty file (expected data rows, after an optional header line)")
            header = [h.strip() for h in header]
            first_is_data = _numeric_row(header)
            if not first_is_data and any(_is_number(c) for c in header):
                raise InputError(f"{path}: line 1 mixes numbers with names, empty or NaN cells: a header "
                                 f"line holds names only, a data line finite numbers only")
            if len(header) > MAX_COLUMNS:
                raise InputError(f"{path}: {len(header)} columns, too many")
            want = accept or {ncols}
            if len(header) not in want:
                raise InputError(
                    f"{path}: {len(header)} columns, expected {' or '.join(map(str, sorted(want)))} "
                    f"for this architecture"
                )
            rows = [[float(c) for c in header]] if first_is_data else []
            for line, row in enumerate(reader, start=2):
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    raise InputError(f"{path}: line {line} has {len(row)} fields, the first line has {len(header)}")
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
    return (None if first_is_data else header), np.asarray(rows, dtype=np.float64)


def default_header(ncols: int, n: int) -> list:
    """Column names x1..xn, y1..ym for a file without a header line."""
    return [f"x{i + 1}" for i in range(n)] + [f"y{i + 1}" for i in range(ncols - n)]


def _is_number(cell) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _numeric_row(cells) -> bool:
    """True when every cell is a finite number (a data line, not a header)."""
    try:
        return all(math.isfinite(float(c)) for c in cells)
    except ValueError:
        return False


def read_dataset(path, n: int, m: int, scale=False, scaling: Scaling | None = None,
                 grid=None) -> Dataset:
    """Read training data for an architecture with n inputs and m outputs.

    With ``scale``, each column is mapped onto ``grid``'s range [-1, 1 - 2 gamma]
    (:class:`Scaling`; onto [-1, 1] when no grid is given); mapped values within float
    rounding of a grid point (1e-12, or more for columns whose range is small beside their
    magnitude, :meth:`Scaling.forward_error`) are put on it (:meth:`~lptrain.grid.Grid.snap`).
    """
    header, table = read_table(path, n + m)
    return make_dataset(table, n, header, scale=scale, scaling=scaling, source=str(path), grid=grid)


def make_dataset(table, n, header=None, scale=False, scaling=None, source="data", grid=None) -> Dataset:
    """Validate an array (D, n + m) of raw values and split it; see :func:`read_dataset`."""
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[0] == 0:
        raise InputError(f"{source}: expected a non-empty table of rows")
    if not np.all(np.isfinite(table)):
        raise InputError(f"{source}: contains NaN or infinite values")
    header = header or default_header(table.shape[1], n)
    if scaling is None and scale:
        scaling = Scaling.for_grid(table, grid) if grid is not None else Scaling.fit(table)
    if scaling is not None:
        table = scaling.forward(table)
        if grid is not None:
            # within the input's own rounding of a grid point, but never a cell's eighth
            tol = np.minimum(np.maximum(scaling.forward_error(), SNAP_TOL), grid.gamma / 4.0)
            table = grid.snap(table, tol)
    else:
        bad = np.argwhere((table < -1.0) | (table > 1.0))
        if len(bad):
            r, c = bad[0]
            raise InputError(
                f"{source}: value {table[r, c]:g} in column {header[c]!r} (row {r + 1}) lies "
                f"outside [-1, 1]; rescale the data or pass scale=True"
            )
    return Dataset(table[:, :n], table[:, n:], list(header), scaling)
