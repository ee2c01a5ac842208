"""What rounding the data onto the grid (eq. 7, docs/design.md §1) did, said the right way.

Rounding merges nearby real values: that is what a grid is, and it is reported as a *note*
(``notes`` in the report and the JSON, one quiet line on the command line).  It is a
:class:`~lptrain.exceptions.RoundingWarning` only where the user probably made a mistake:

* **labels collapse**: a column of labels (integer values in raw units, at most
  :data:`MAX_LABELS` of them: one-hot, +-1, class numbers) loses distinct values, e.g. one-hot
  targets at 1 bit, where 1 rounds to 0;
* **every target becomes one value** in an output column that had several;
* **+-1 labels move**: +1 is not a grid point (the grid stops at 1 - 2 gamma), so a column of
  +-1 labels becomes -1 / 1 - 2 gamma and the two classes are no longer symmetric.

Each message says how many bits would keep the values apart, when some number up to 24 does.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .exceptions import RoundingWarning
from .grid import Grid

MAX_LABELS = 32
MAX_BITS_SUGGESTED = 24


@dataclass
class RoundingReport:
    """``warnings`` (probable mistakes) and ``notes`` (merges that are what rounding is)."""

    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        """One line for the command line's stderr: the first note, and how many more."""
        if not self.notes:
            return ""
        more = f"{len(self.notes) - 1} more; " if len(self.notes) > 1 else ""
        return f"note: {self.notes[0]} ({more}see --json notes)"


def inspect(grid: Grid, dataset) -> RoundingReport:
    """The warnings and notes for rounding ``dataset`` (x, y in [-1, 1]) onto ``grid``."""
    rep = RoundingReport()
    n = dataset.x.shape[1]
    b = grid.bits
    bits = f"{b} bit" + ("s" if b > 1 else "")
    for j in range(dataset.y.shape[1]):
        col = dataset.y[:, j]
        raw, got = np.unique(col), np.unique(grid.round_index(col))
        where = f"output column {j + 1}"
        label = _is_label(col, dataset.scaling, n + j)
        if len(raw) > 1 and len(got) == 1:
            rep.warnings.append(f"rounding to {bits} maps every target to one value in {where}"
                                + _keep_apart(col, b))
        elif len(got) < len(raw):
            if label:
                rep.warnings.append(f"rounding to {bits} merges {len(raw)} distinct labels into "
                                    f"{len(got)} in {where}" + _keep_apart(col, b))
            else:
                rep.notes.append(f"rounding to {bits} merged {len(raw)} distinct targets into "
                                 f"{len(got)} in {where}" + _keep_apart(col, b))
        elif label and set(raw.tolist()) == {-1.0, 1.0}:
            rep.warnings.append(f"{where} holds +-1 labels and +1 is not a grid point: it becomes "
                                f"1 - 2 gamma = {grid.round(1.0):g} at {bits}, so the classes are "
                                "no longer symmetric")
    raw_x = len(np.unique(dataset.x, axis=0))
    got_x = len(np.unique(grid.round_index(dataset.x), axis=0))
    if got_x < raw_x:
        rep.notes.append(f"rounding to {bits} merged {raw_x} distinct inputs into {got_x}"
                         + _keep_apart(dataset.x, b))
    return rep


def issue(grid: Grid, dataset, stacklevel=3) -> RoundingReport:
    """:func:`inspect`, with each warning issued as a :class:`RoundingWarning`."""
    rep = inspect(grid, dataset)
    for w in rep.warnings:
        warnings.warn(w, RoundingWarning, stacklevel=stacklevel)
    return rep


def _is_label(col, scaling, k) -> bool:
    """Whether a column holds labels: integer raw values (before ``scaling``), few of them."""
    raw = col if scaling is None else scaling.inverse(col, k)
    values = np.unique(raw)
    return len(values) <= MAX_LABELS and bool(np.all(np.abs(values - np.rint(values)) <= 1e-9 * (1 + np.abs(values))))


def _keep_apart(values, bits) -> str:
    need = bits_to_separate(values, bits)
    return f"; {need} bits keep them apart" if need else ""


def bits_to_separate(values, bits, limit=MAX_BITS_SUGGESTED):
    """The fewest bits above ``bits`` keeping the distinct rows of ``values`` apart, or None."""
    v = np.asarray(values).reshape(len(values), -1)
    want = len(np.unique(v, axis=0))
    for b in range(bits + 1, limit + 1):
        if len(np.unique(Grid(b).round_index(v), axis=0)) == want:
            return b
    return None
