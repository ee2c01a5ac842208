"""Thm 2.8 as a library: BO instances against brute force over {0,1}^n."""

import itertools

import networkx as nx
import numpy as np
import pytest

from lptrain import decomposition as dec
from lptrain.arch import Architecture
from lptrain.bo import BinaryProblem
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.solvers import get_solver


def table_fn(table, k):
    return lambda v: table[int(sum(b << (k - 1 - i) for i, b in enumerate(v)))]


def random_problem(rng, infeasible_ok=True):
    n = int(rng.integers(3, 11))
    p = BinaryProblem(n)
    spec = []
    for _ in range(int(rng.integers(0, 5))):
        k = int(rng.integers(1, 4))
        s = sorted(rng.choice(n, k, replace=False).tolist())
        t = rng.choice([-1.0, 0.0, 1.0], 2**k, p=[0.25, 0.25, 0.5] if infeasible_ok else [0.05, 0.35, 0.6])
        p.add_constraint(s, table_fn(t, k))
        spec.append(("c", s, t))
    for _ in range(int(rng.integers(0, 4))):
        k = int(rng.integers(1, 4))
        s = sorted(rng.choice(n, k, replace=False).tolist())
        t = np.round(rng.normal(0, 2, 2**k), 3)
        d = float(np.round(rng.normal(), 3))
        p.add_output(s, table_fn(t, k), cost=d)
        spec.append(("g", s, t, d))
    c = np.round(rng.normal(0, 1, n), 3)
    p.set_cost(c)
    return p, spec, c


def brute(n, spec, c):
    best, arg = None, None
    for x in itertools.product((0, 1), repeat=n):
        ok, val = True, float(np.dot(c, x))
        for e in spec:
            k = len(e[1])
            idx = sum(x[i] << (k - 1 - j) for j, i in enumerate(e[1]))
            if e[0] == "c":
                ok &= e[2][idx] >= 0
            else:
                val += e[3] * e[2][idx]
        if ok and (best is None or val < best - 1e-12):
            best, arg = val, x
    return best, arg


@pytest.mark.parametrize("seed", range(40))
def test_bo_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    p, spec, c = random_problem(rng)
    ref, _ = brute(p.n, spec, c)
    for h in ("min_fill_in", "min_degree"):
        res = p.solve(heuristic=h)
        if ref is None:
            assert res.status == "infeasible"
            continue
        assert res.status == "optimal"
        assert res.objective == pytest.approx(ref, abs=1e-9)
        x = res.x
        assert set(np.unique(x)) <= {0, 1}
        val, _ = brute_at(spec, c, x)
        assert val == pytest.approx(ref, abs=1e-9)  # the returned x is feasible and optimal
        assert res.variables <= 2 ** (res.width + 1) * (len(res.bags) + len(p.outputs)) + p.n + len(p.outputs)


def brute_at(spec, c, x):
    val = float(np.dot(c, x))
    for e in spec:
        k = len(e[1])
        idx = sum(int(x[i]) << (k - 1 - j) for j, i in enumerate(e[1]))
        if e[0] == "c":
            assert e[2][idx] >= 0
        else:
            val += e[3] * e[2][idx]
    return val, x


def test_infeasible_is_a_status():
    p = BinaryProblem(2)
    p.add_constraint([0], lambda v: v[0] - 1)  # x0 = 1
    p.add_constraint([0, 1], lambda v: -v[0] - v[1] + 0.5)  # x0 + x1 <= 0.5
    assert p.solve().status == "infeasible"


def test_user_decomposition_and_violations():
    p = BinaryProblem(4)
    p.add_output([0, 1], lambda v: v[0] * v[1], cost=-1)
    p.add_output([1, 2], lambda v: v[0] * v[1], cost=-1)
    p.add_output([2, 3], lambda v: v[0] * v[1], cost=-1)
    p.set_cost([0.4, 0.4, 0.4, 0.4])
    res = p.solve(decomposition=([[0, 1], [1, 2], [2, 3]], [(0, 1), (1, 2)]))
    assert res.status == "optimal" and res.width == 1 and res.objective == pytest.approx(-3 + 1.6)
    with pytest.raises(dec.DecompositionError, match="running intersection"):
        p.solve(decomposition=([[0, 1], [2, 3], [1, 2]], [(0, 1), (1, 2)]))
    with pytest.raises(dec.DecompositionError, match="edge"):
        p.solve(decomposition=([[0, 1], [2, 3]], [(0, 1)]))
    with pytest.raises(dec.DecompositionError, match="not a tree"):
        p.solve(decomposition=([[0, 1], [1, 2], [2, 3]], [(0, 1), (1, 2), (2, 0)]))
    with pytest.raises(dec.DecompositionError, match="no bag"):
        p.solve(decomposition=([[0, 1], [1, 2]], [(0, 1)]))
    q = BinaryProblem(3)
    q.add_constraint([0, 1, 2], lambda v: 1)
    with pytest.raises(dec.DecompositionError, match="Lemma 2.6|running|edge"):
        q.solve(decomposition=([[0, 1], [1, 2], [0, 2]], [(0, 1), (1, 2)]))


def test_shrink_lemma_2_5(rng):
    for _ in range(10):
        G = nx.gnm_random_graph(12, 18, seed=int(rng.integers(1000)))
        _, T = dec.decompose(G, "min_degree")
        # add redundant subset bags to a leaf
        leaf = next(iter(T.nodes))
        for k in range(3):
            sub = frozenset(list(leaf)[: max(0, len(leaf) - 1 - k)] + [("pad", k)])
            T.add_edge(leaf, frozenset(x for x in sub if not isinstance(x, tuple)) | {("pad", k)})
        S = dec.shrink(T)
        G2 = G.copy()
        G2.add_nodes_from(("pad", k) for k in range(3))
        dec.validate(G2, S)
        assert S.number_of_nodes() <= G2.number_of_nodes()
        assert not any(a <= b or b <= a for a, b in S.edges)


def test_lower_bounds_are_below_heuristic_widths(rng):
    for _ in range(10):
        G = nx.gnm_random_graph(14, 30, seed=int(rng.integers(1000)))
        w, T = dec.decompose(G)
        dec.validate(G, T)
        assert dec.lower_bound(G) <= w
    assert dec.lower_bound(nx.complete_graph(6)) == 5
    assert dec.lower_bound(nx.complete_bipartite_graph(3, 7)) <= 3


def test_erm_face_through_the_bo_api(rng):
    """A small ERM face written as a BO (data bits fixed by constraints) = the structured optimum."""
    arch = Architecture.parse("1-1-1")
    bits, D = 1, 3
    P = Polytope(arch, "absolute", Grid(bits), D)
    x, y = rng.uniform(-1, 1, (D, 1)), rng.uniform(-1, 1, (D, 1))
    face = Face(P, x, y)
    ref = get_solver("structured").solve(face, 1 << 30).objective
    N, nm = arch.n_params, 2
    g = Grid(bits)
    nvar = N * bits + D * nm * bits
    prob = BinaryProblem(nvar)
    par = list(range(N * bits))
    for d in range(D):
        dat = list(range(N * bits + d * nm * bits, N * bits + (d + 1) * nm * bits))
        target = [face.x_index[d, 0], face.y_index[d, 0]]
        for i, var in enumerate(dat):
            prob.add_constraint([var], (lambda want: lambda v: 0 if v[0] == want else -1)(target[i]))

        def loss(v, nb=N * bits):
            phi = g.value(np.array(v[:nb]))
            xv, yv = g.value(v[nb]), g.value(v[nb + 1])
            return float(P.loss.evaluate(arch.predict(np.array([[xv]]), phi), np.array([[yv]]))[0])

        prob.add_output(par + dat, loss, cost=1.0 / D)
    res = prob.solve()
    assert res.status == "optimal" and res.objective == pytest.approx(ref, rel=1e-9)
