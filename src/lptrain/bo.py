"""Thm 2.8 as a library: binary optimization problems of low treewidth -> an exact LP.

BO:  min c^T x + d^T y  s.t.  f_i(x) >= 0 (i in [m]),  g_j(x) = y_j (j in [p]),  x in {0,1}^n,
with f_i, g_j oracles that read only their *support*.  Given a tree decomposition (T, Q) of
the intersection graph Gamma (a vertex per x-variable, an edge between variables sharing a
support) of width w, LBO is (docs/design.md §2):

* for each output y_j a leaf bag Q'(j) = Q_t next to a bag Q_t containing supp(g_j);
* per bag t, F_t = the assignments v of Q_t satisfying every f_i whose support lies in Q_t;
* lambda_{t,v} >= 0, sum_v lambda_{t,v} = 1;
* gluing: for every tree edge (t1, t2) and assignment a of Q_t1 & Q_t2,
  sum_{v in F_t1, v ~ a} lambda_{t1,v} = sum_{v in F_t2, v ~ a} lambda_{t2,v};
* x_i = sum_v lambda_{t,v} v_i in one bag containing i; y_j = sum_v lambda_{Q'(j),v} g_j(v).

Its projection onto (x, y) is the convex hull of BO's feasible set, so an optimal vertex
solves BO; the size is O(2^w (|V(T)| + p)).  Example::

    from lptrain.bo import BinaryProblem
    p = BinaryProblem(5)
    p.add_constraint([0, 1, 4], lambda v: 1 - v[0] - v[1])     # x0 + x1 <= 1
    p.add_output([1, 2], lambda v: 3.0 * v[0] * v[1], cost=2.0)  # y = 3 x1 x2, cost 2
    p.set_cost([1.0, -2.0, -1.0, 0.5, 0.0])
    res = p.solve()
    res.status, res.objective, res.x, res.y, res.width, res.variables, res.constraints
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import scipy.sparse as sp

from . import decomposition as dec
from .exceptions import InputError
from .lp import ExplicitLP

MAX_BAG = 22


@dataclass
class BOResult:
    status: str
    objective: float | None
    x: np.ndarray | None
    y: np.ndarray | None
    width: int
    bags: list
    variables: int
    constraints: int
    lp: ExplicitLP | None = field(default=None, repr=False)
    lp_solution: np.ndarray | None = field(default=None, repr=False)


class BinaryProblem:
    """A BO instance over x in {0,1}^n built from oracles with supports (Thm 2.8).

    Constraints and outputs are added by :meth:`add_constraint` and :meth:`add_output`, the
    linear cost of x by :meth:`set_cost`; :meth:`solve` builds LBO over a tree decomposition
    of the intersection graph and solves it.

    Parameters
    ----------
    n : int
        The number of binary variables x_0 .. x_{n-1} (at least 1).

    Raises
    ------
    InputError
        For n not a positive integer.

    Examples
    --------
    >>> p = BinaryProblem(2)
    >>> _ = p.add_constraint([0, 1], lambda v: 1 - v[0] - v[1])  # x0 + x1 <= 1
    >>> p.set_cost([-1.0, -2.0])
    >>> res = p.solve()
    >>> res.status, res.objective, res.x.tolist()
    ('optimal', -2.0, [0, 1])
    """

    def __init__(self, n: int):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"BinaryProblem needs n >= 1 variables, got {n!r}")
        self.n = int(n)
        self.constraints: list = []
        self.outputs: list = []
        self.c = np.zeros(self.n)

    def _support(self, support):
        s = [int(i) for i in support]
        if not s:
            raise InputError("a support must name at least one variable")
        if len(set(s)) != len(s) or min(s) < 0 or max(s) >= self.n:
            raise InputError(f"invalid support {support!r}: distinct indices in [0, {self.n}) expected")
        return tuple(s)

    def add_constraint(self, support, f):
        """Add the constraint f(v) >= 0.

        Parameters
        ----------
        support : sequence of int
            Distinct variable indices the oracle reads.
        f : callable
            ``f(v)`` with v the list of the support's values (in the given order); the
            constraint holds when it returns a number >= 0.

        Returns
        -------
        int
            The constraint's index i.
        """
        self.constraints.append((self._support(support), f))
        return len(self.constraints) - 1

    def add_output(self, support, g, cost=0.0):
        """Add an output y_j = g(v) with objective coefficient ``cost``.

        Parameters
        ----------
        support : sequence of int
            Distinct variable indices the oracle reads.
        g : callable
            ``g(v)`` with v the list of the support's values; returns a number.
        cost : float
            d_j, the coefficient of y_j in the objective.

        Returns
        -------
        int
            The output's index j.
        """
        self.outputs.append((self._support(support), g, float(cost)))
        return len(self.outputs) - 1

    def set_cost(self, c):
        c = np.asarray(c, dtype=np.float64)
        if c.shape != (self.n,) or not np.all(np.isfinite(c)):
            raise InputError(f"cost must be {self.n} finite numbers")
        self.c = c

    # -- the graph and the decomposition -----------------------------------------------

    def supports(self):
        return [s for s, _ in self.constraints] + [s for s, _, _ in self.outputs]

    def intersection_graph(self) -> nx.Graph:
        G = nx.Graph()
        G.add_nodes_from(range(self.n))
        for s in self.supports():
            G.add_edges_from(itertools.combinations(s, 2))
        return G

    def decomposition(self, decomposition=None, heuristic="min_fill_in"):
        """A validated, shrunk decomposition: the user's (networkx tree of frozensets, or
        (bags, edges)) or a heuristic's."""
        G = self.intersection_graph()
        if decomposition is None:
            _, T = dec.decompose(G, heuristic)
        elif isinstance(decomposition, nx.Graph):
            T = nx.relabel_nodes(decomposition, {b: frozenset(b) for b in decomposition.nodes})
        else:
            T = dec.from_bags(*decomposition)
        dec.validate(G, T, self.supports())
        return dec.shrink(T)

    # -- LBO --------------------------------------------------------------------------

    def build(self, decomposition=None, heuristic="min_fill_in"):
        """Assemble LBO; returns (lp, info) or (None, info) when some F_t is empty (infeasible)."""
        T = self.decomposition(decomposition, heuristic)
        w = dec.width(T)
        if w + 1 > MAX_BAG:
            raise InputError(f"decomposition width {w} is too large: bags of 2^{w + 1} assignments")
        bags = [tuple(sorted(b)) for b in T.nodes]
        index = {frozenset(b): k for k, b in enumerate(bags)}
        cons_of = {k: [] for k in range(len(bags))}
        for s, f in self.constraints:
            k = next(k for k, b in enumerate(bags) if set(s) <= set(b))
            cons_of[k].append((s, f))
        leaf_of = []
        for s, g, _ in self.outputs:
            leaf_of.append(next(k for k, b in enumerate(bags) if set(s) <= set(b)))

        def feasible(k):
            b = bags[k]
            pos = {v: i for i, v in enumerate(b)}
            out = []
            for vals in itertools.product((0, 1), repeat=len(b)):
                if all(f([vals[pos[i]] for i in s]) >= 0 for s, f in cons_of[k]):
                    out.append(vals)
            return np.array(out, dtype=np.int8).reshape(-1, len(b))

        # every constraint is checked in its bag; gluing makes all bags agree, so F_t per bag suffices
        F = [feasible(k) for k in range(len(bags))]
        info = {"width": w, "bags": [list(b) for b in bags]}
        if any(len(f) == 0 for f in F):
            return None, info
        # all bags: the tree's, then one leaf per output (a copy of its bag's F)
        allF = F + [F[k] for k in leaf_of]
        allB = bags + [bags[k] for k in leaf_of]
        offs = np.cumsum([0] + [len(f) for f in allF])
        nlam = int(offs[-1])
        c_x, c_y = nlam, nlam + self.n
        ncol = c_y + len(self.outputs)
        R, C, V = [], [], []
        row = 0
        b = []

        def add_row(cols, vals, rhs):
            nonlocal row
            R.extend([row] * len(cols))
            C.extend(cols)
            V.extend(vals)
            b.append(rhs)
            row += 1

        for t in range(len(allF)):
            cols = list(range(offs[t], offs[t + 1]))
            add_row(cols, [1.0] * len(cols), 1.0)
        edges = [(index[u], index[v]) for u, v in T.edges]
        edges += [(k, len(bags) + j) for j, k in enumerate(leaf_of)]
        for t1, t2 in edges:
            inter = sorted(set(allB[t1]) & set(allB[t2]))
            p1 = [allB[t1].index(i) for i in inter]
            p2 = [allB[t2].index(i) for i in inter]
            key1 = _keys(allF[t1][:, p1])
            key2 = _keys(allF[t2][:, p2])
            for a in range(1 << len(inter)):
                c1 = offs[t1] + np.flatnonzero(key1 == a)
                c2 = offs[t2] + np.flatnonzero(key2 == a)
                if len(c1) == 0 and len(c2) == 0:
                    continue
                add_row(list(c1) + list(c2), [1.0] * len(c1) + [-1.0] * len(c2), 0.0)
        for i in range(self.n):
            t = next(k for k, bb in enumerate(bags) if i in bb)
            pos = bags[t].index(i)
            cols = offs[t] + np.flatnonzero(F[t][:, pos] == 1)
            add_row([c_x + i] + list(cols), [1.0] + [-1.0] * len(cols), 0.0)
        for j, (s, g, _) in enumerate(self.outputs):
            t = len(bags) + j
            pos = [allB[t].index(i) for i in s]
            vals = np.array([float(g(list(v[pos]))) for v in allF[t]])
            cols = list(range(offs[t], offs[t + 1]))
            add_row([c_y + j] + cols, [1.0] + list(-vals), 0.0)
        A = sp.csc_matrix((V, (R, C)), shape=(row, ncol))
        cost = np.zeros(ncol)
        cost[c_x:c_y] = self.c
        cost[c_y:] = [d for _, _, d in self.outputs]
        lower = np.zeros(ncol)
        lower[c_y:] = -np.inf
        upper = np.full(ncol, np.inf)
        upper[c_x:c_y] = 1.0
        lp = ExplicitLP(cost, A, np.asarray(b), lower, upper,
                        rows={}, cols={"lam": slice(0, nlam), "x": slice(c_x, c_y), "y": slice(c_y, ncol)})
        return lp, info

    def solve(self, decomposition=None, heuristic="min_fill_in") -> BOResult:
        """Build LBO and solve it with HiGHS (simplex: an optimal vertex, hence integral).

        Parameters
        ----------
        decomposition : networkx.Graph or (bags, edges), optional
            A tree decomposition of the intersection graph (validated); default: the
            heuristic's.
        heuristic : {"min_fill_in", "min_degree"}
            The networkx treewidth heuristic used when no decomposition is given.

        Returns
        -------
        BOResult
            ``status``, ``objective``, the optimal ``x`` and ``y`` (None unless optimal), the
            decomposition's ``width`` and ``bags``, and LBO's ``variables`` and ``constraints``.

        Raises
        ------
        InputError
            For an invalid decomposition, or one whose bags exceed 2^22 assignments.
        """
        from .solvers.highs import solve_lp

        lp, info = self.build(decomposition, heuristic)
        if lp is None:
            return BOResult("infeasible", None, None, None, info["width"], info["bags"], 0, 0)
        status, obj, xs, _ = solve_lp(lp, "simplex")
        nv, nc = lp.A.shape[1], lp.A.shape[0]
        if status != "optimal":
            return BOResult(status, None, None, None, info["width"], info["bags"], nv, nc, lp, xs)
        x = np.rint(xs[lp.cols["x"]]).astype(int)
        y = np.array([g([x[i] for i in s]) for s, g, _ in self.outputs], dtype=np.float64)
        return BOResult("optimal", obj, x, y, info["width"], info["bags"], nv, nc, lp, xs)


def _keys(bits):
    k = np.zeros(len(bits), dtype=np.int64)
    for j in range(bits.shape[1]):
        k = k * 2 + bits[:, j]
    return k
