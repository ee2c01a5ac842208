"""The explicit sparse LP of the ERM polytope or of one of its faces (Thm 2.8 assembled).

Thm 3.1 applies Thm 2.8 to the path decomposition of Fig. 2b: bag d holds the bits of
(x_d, y_d, phi), neighbouring bags share exactly the bits of phi.  One routine writes
the LP for any choice of *which data points each bag keeps*: all G^(n+m) of them gives
P itself, one (the rounded data point) gives the face of Sec. 3.3.  So the face LP is,
by construction, P with the other lambda's fixed to 0 and their columns dropped.

Every row is an equality ``A x = b``.  Columns (lambda >= 0, the rest free)::

    lam[d, j, a]        bag d, its j-th data point, parameter grid point a
    lam'[d, j, a]       literal form only: the leaf bag Q'(d) of L_d (a copy of bag d)
    L[d]                the loss of data point d, objective (1/D) sum_d L[d]
    z[...]              literal form only: the binary variables of BO (data bits per bag,
                        then parameter bits, read in bag 0)

Rows::

    S[d]       sum_{j,a} lam[d, j, a] = 1
    E[d, a]    sum_j lam[d+1, j, a] - sum_j lam[d, j, a] = 0       (gluing over phi's bits)
    R[d]       L[d] - sum_{j,a} l(v) lam[d, j, a] = 0            (compact form)
               L[d] - sum_{j,a} l(v) lam'[d, j, a] = 0           (literal form)
    S'[d]      sum lam'[d, j, a] = 1                              (literal)
    H[d, j, a] lam'[d, j, a] - lam[d, j, a] = 0                   (literal: gluing to the leaf)
    Z[...]     z - sum_v bit(v) lam[d, v] = 0                     (literal)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .evaluation import digits


@dataclass
class ExplicitLP:
    """min c^T x  s.t.  A x = b,  lower <= x <= upper, with named row and column blocks."""

    c: np.ndarray
    A: sp.csc_matrix
    b: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rows: dict = field(default_factory=dict)
    cols: dict = field(default_factory=dict)

    @property
    def shape(self):
        return self.A.shape


def counts(form, D, k, GN, n, m, N, bits, popcount_total=None):
    """(variables, constraints, nonzeros) of the assembled LP, without building it.

    ``k`` data points per bag; ``popcount_total`` is the number of one-bits over all data
    points of all bags (literal form; defaults to that of P, where every bag keeps all).
    """
    lam = D * k * GN
    if form == "compact":
        return lam + D, 2 * D + (D - 1) * GN, 2 * lam + 2 * (D - 1) * k * GN + D
    nbits = (D * (n + m) + N) * bits
    if popcount_total is None:
        popcount_total = D * (n + m) * bits * k // 2
    var = 2 * lam + D + nbits
    con = 3 * D + (D - 1) * GN + lam + nbits
    nnz = 5 * lam + 2 * (D - 1) * k * GN + D + nbits + popcount_total * GN + N * bits * k * GN // 2
    return var, con, nnz


def assemble(form, xy_sets, rows_of, table, D_scale, n, m, N, bits, direct=True) -> ExplicitLP:
    """Assemble the LP for bags whose data points are ``xy_sets``: flat indices (D, k), or
    digit rows (D, k, n+m) where flat indices would outgrow int64.

    ``table[rows_of[d, j], a]`` is l(f(x, a), y) for the j-th point of bag d; the
    objective is ``sum_d L[d] / D_scale``.  The compact form is written straight into CSC
    arrays (``direct``); ``direct=False`` takes the general COO route (a reference in tests).
    """
    D, k = xy_sets.shape[:2]
    GN = table.shape[1]
    G = 1 << bits
    lam = D * k * GN
    literal = form == "literal"
    nbits = (D * (n + m) + N) * bits if literal else 0

    # column offsets
    c_lam, c_leaf = 0, lam
    c_L = 2 * lam if literal else lam
    c_z = c_L + D
    ncol = c_z + nbits
    # row offsets
    r_S, r_E = 0, D
    r_R = D + (D - 1) * GN
    r_S2 = r_R + D
    r_H = r_S2 + D
    r_Z = r_H + lam
    nrow = r_Z + nbits if literal else r_S2

    if not literal and direct:
        return _assemble_compact(D, k, GN, rows_of, table, D_scale)
    d_of = np.repeat(np.arange(D, dtype=np.int64), k * GN)
    a_of = np.tile(np.arange(GN, dtype=np.int64), D * k)
    col = np.arange(lam, dtype=np.int64)
    loss = table[rows_of.reshape(-1)].reshape(-1)

    R_list, C_list, V_list = [], [], []

    def add(r, c, v):
        R_list.append(np.asarray(r, dtype=np.int64))
        C_list.append(np.asarray(c, dtype=np.int64))
        V_list.append(np.broadcast_to(np.asarray(v, dtype=np.float64), np.shape(r)))

    add(r_S + d_of, c_lam + col, 1.0)
    first = d_of > 0
    add(r_E + (d_of[first] - 1) * GN + a_of[first], c_lam + col[first], 1.0)
    last = d_of < D - 1
    add(r_E + d_of[last] * GN + a_of[last], c_lam + col[last], -1.0)
    add(r_R + np.arange(D), c_L + np.arange(D), 1.0)
    if not literal:
        add(r_R + d_of, c_lam + col, -loss)
    else:
        add(r_S2 + d_of, c_leaf + col, 1.0)
        add(r_H + col, c_leaf + col, 1.0)
        add(r_H + col, c_lam + col, -1.0)
        add(r_R + d_of, c_leaf + col, -loss)
        add(r_Z + np.arange(nbits), c_z + np.arange(nbits), 1.0)
        shifts = np.arange(bits - 1, -1, -1)
        # data bits of bag d: z[d, i, h] - sum_{j,a: bit_h(x_{j,i}) = 1} lam[d, j, a]
        dig = xy_sets if xy_sets.ndim == 3 else digits(xy_sets, n + m, G)
        dbits = (dig[..., None] >> shifts) & 1  # (D, k, n+m, B)
        dd, jj, ii, hh = np.nonzero(dbits)
        row = r_Z + (dd * (n + m) + ii) * bits + hh
        base = (dd * k + jj) * GN
        add(np.repeat(row, GN), c_lam + (base[:, None] + np.arange(GN)).reshape(-1), -1.0)
        # parameter bits, read in bag 0: z[phi_i, h] - sum_{j,a: bit_h(a_i) = 1} lam[0, j, a]
        pbits = (digits(np.arange(GN), N, G)[..., None] >> shifts) & 1  # (GN, N, B)
        aa, ii, hh = np.nonzero(pbits)
        row = r_Z + D * (n + m) * bits + ii * bits + hh
        add(np.repeat(row, k), c_lam + (np.arange(k)[None, :] * GN + aa[:, None]).reshape(-1), -1.0)

    A = sp.csc_matrix(
        (np.concatenate(V_list), (np.concatenate(R_list), np.concatenate(C_list))),
        shape=(nrow, ncol),
    )
    c = np.zeros(ncol)
    c[c_L : c_L + D] = 1.0 / D_scale
    b = np.zeros(nrow)
    b[r_S : r_S + D] = 1.0
    if literal:
        b[r_S2 : r_S2 + D] = 1.0
    lower = np.zeros(ncol)
    lower[c_L:] = -np.inf
    upper = np.full(ncol, np.inf)
    rows = {"S": slice(r_S, r_E), "E": slice(r_E, r_R), "R": slice(r_R, r_S2)}
    cols = {"lam": slice(0, lam), "L": slice(c_L, c_L + D)}
    if literal:
        rows.update(S2=slice(r_S2, r_H), H=slice(r_H, r_Z), Z=slice(r_Z, nrow))
        cols.update(leaf=slice(c_leaf, c_leaf + lam), z=slice(c_z, ncol))
    return ExplicitLP(c, A, b, lower, upper, rows, cols)


def _assemble_compact(D, k, GN, rows_of, table, D_scale) -> ExplicitLP:
    """The compact form straight into CSC arrays: a lambda column's rows are S_d, E_{d-1,a},
    E_{d,a}, R_d (already in increasing order), so no COO sort is needed.  Bags 0 and D-1
    lack one gluing row; the bags in between share one pattern, built by broadcasting."""
    lam = D * k * GN
    r_E, r_R = D, D + (D - 1) * GN
    nrow = 2 * D + (D - 1) * GN
    a = np.tile(np.arange(GN, dtype=np.int64), k)  # the a of each column within a bag
    loss = -table[rows_of.reshape(-1)].reshape(D, k * GN)
    idx_parts, val_parts, per = [], [], []
    for d0, d1 in ((0, 1), (1, D - 1), (D - 1, D)) if D > 1 else ((0, 1),):
        if d1 <= d0:
            continue
        d = np.arange(d0, d1, dtype=np.int64)[:, None]
        cols = [np.broadcast_to(d, (d1 - d0, k * GN))]
        vals = [np.ones((d1 - d0, k * GN))]
        if d0 > 0:
            cols.append(r_E + (d - 1) * GN + a[None])
            vals.append(np.ones((d1 - d0, k * GN)))
        if d1 < D:
            cols.append(r_E + d * GN + a[None])
            vals.append(-np.ones((d1 - d0, k * GN)))
        cols.append(np.broadcast_to(r_R + d, (d1 - d0, k * GN)))
        vals.append(loss[d0:d1])
        idx_parts.append(np.stack(cols, axis=-1).reshape(-1))
        val_parts.append(np.stack(vals, axis=-1).reshape(-1))
        per.append(np.full((d1 - d0) * k * GN, len(cols), dtype=np.int64))
    indptr = np.zeros(lam + D + 1, dtype=np.int64)
    np.cumsum(np.concatenate(per), out=indptr[1 : lam + 1])
    indptr[lam + 1 :] = indptr[lam] + np.arange(1, D + 1)
    indices = np.concatenate(idx_parts + [r_R + np.arange(D)])
    data = np.concatenate(val_parts + [np.ones(D)])
    A = sp.csc_matrix((data, indices, indptr), shape=(nrow, lam + D))
    c = np.zeros(lam + D)
    c[lam:] = 1.0 / D_scale
    b = np.zeros(nrow)
    b[:D] = 1.0
    lower = np.zeros(lam + D)
    lower[lam:] = -np.inf
    return ExplicitLP(c, A, b, lower, np.full(lam + D, np.inf),
                      {"S": slice(0, D), "E": slice(r_E, r_R), "R": slice(r_R, nrow)},
                      {"lam": slice(0, lam), "L": slice(lam, lam + D)})
