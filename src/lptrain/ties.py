"""One tie-break for every solver: the smallest grid index among the optimal points.

Several grid points can attain the face's optimum (symmetric nets, all-zero targets,
data that a whole family of nets fits).  Every solver returns the same one:

    a* = the smallest canonical grid index a (C order, parameter 0 most significant)
         with  S(a) <= S_min + TIE_RTOL * (D + |S_min|),

where S(a) = sum_d c_d(a) (+ D lam R(a)) is D times the face objective and S_min its
minimum over the grid; in objective units, obj(a) <= obj_min + TIE_RTOL * (1 + |obj_min|).
The tolerance absorbs the rounding of different summation orders (the fused kernel, the
block scan, the GPU and bnb's bounds add the same terms differently); it is far below
the certificate check's tolerance (1e-9), so the returned point is an optimum that the
check accepts.  Solvers computing S in different orders agree unless some S(a) lies
within rounding (~1e-16 relative) of the window's edge.

A scan in increasing index order needs no second pass: the answer is always a *record*
(a point whose S is strictly below every earlier S), so :class:`Records` keeps only the
records within the tie window of the running minimum -- a handful.
"""

from __future__ import annotations

import math

import numpy as np

TIE_RTOL = 1e-12


def window(S: float, scale: float) -> float:
    """The largest S that ties with the minimum S (scale: D, the number of samples)."""
    return S + TIE_RTOL * (scale + abs(S))


class Records:
    """Records of a scan in increasing key order (key: a grid index, or any order-preserving
    rank), trimmed to the tie window of the running minimum."""

    def __init__(self, scale: float):
        self.scale = float(scale)
        self.keys: list = []
        self.vals: list = []

    @property
    def best(self) -> float:
        return self.vals[-1] if self.vals else math.inf

    def threshold(self) -> float:
        return window(self.best, self.scale)

    def add(self, key, value) -> None:
        """Offer one point; keys must increase from call to call."""
        value = float(value)
        if not value < self.best:  # also drops NaN
            return
        self.keys.append(key)
        self.vals.append(value)
        thr = self.threshold()
        drop = 0
        while self.vals[drop] > thr:
            drop += 1
        if drop:
            del self.keys[:drop], self.vals[:drop]

    def add_block(self, start: int, values) -> None:
        """Offer values of keys start, start+1, ... (numpy array)."""
        values = np.asarray(values)
        if values.size == 0:
            return
        m = np.nanmin(values) if not np.all(np.isnan(values)) else np.nan
        if not m < self.best:
            return
        for j in np.flatnonzero(values <= window(float(m), self.scale)):
            self.add(start + int(j), values[j])

    def extend(self, other: "Records") -> None:
        """Append the records of a later part of the scan (all its keys above ours)."""
        for k, v in zip(other.keys, other.vals):
            self.add(k, v)

    def result(self):
        """(key, S) of the tie-broken optimum, or (None, inf) when nothing finite was seen."""
        if not self.vals:
            return None, math.inf
        return self.keys[0], self.vals[0]


def first_within(values, scale: float):
    """Index of the tie-broken optimum of a whole array of S values in index order."""
    rec = Records(scale)
    rec.add_block(0, values)
    return rec.result()


class Front:
    """Tie candidates offered in any order (bnb): the points within the tie window of the
    running minimum that no point of smaller index and no larger S dominates, sorted by
    index (digit tuples compare as grid indices) with S strictly decreasing.  The answer
    is the first among the points offered (bnb's tie phase then looks below it)."""

    def __init__(self, scale: float):
        self.scale = float(scale)
        self.idx: list = []
        self.val: list = []

    @property
    def best(self) -> float:
        return self.val[-1] if self.val else math.inf

    def threshold(self) -> float:
        return window(self.best, self.scale)

    def offer(self, idx, value) -> None:
        import bisect

        value = float(value)
        idx = tuple(int(t) for t in idx)
        if not value <= self.threshold():
            return
        pos = bisect.bisect_left(self.idx, idx)
        if pos > 0 and self.val[pos - 1] <= value:
            return
        if pos < len(self.idx) and self.idx[pos] == idx and self.val[pos] <= value:
            return
        end = pos
        while end < len(self.val) and self.val[end] >= value:
            end += 1
        self.idx[pos:end] = [idx]
        self.val[pos:end] = [value]
        thr = self.threshold()
        drop = 0
        while self.val[drop] > thr:
            drop += 1
        if drop:
            del self.idx[:drop], self.val[:drop]

    def result(self):
        """(digit tuple, S) of the tie-broken optimum, or (None, inf)."""
        return (self.idx[0], self.val[0]) if self.val else (None, math.inf)
