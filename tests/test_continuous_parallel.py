"""The pattern search's nodes bounded concurrently: threads and a Dask cluster.

The search expands the ``batch`` best open nodes per synchronous batch and takes the results
in a fixed order, so for one batch size the result (interval, tree, proof) must be the same
whichever workers ran the nodes; across batch sizes the certified interval must agree within
the tolerance.  Every proof is replayed by the independent checker.
"""

import sys

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.continuous import check_patterns, patterns, solve_continuous
from lptrain.exceptions import InputError


def _data2(D, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 2))
    y = np.clip(0.5 * x[:, :1] * x[:, 1:2] + rng.normal(0, 0.05, (D, 1)), -1, 1)
    return x, y


def _valid(res, arch, loss, X, Y):
    ok, why = check_patterns.verify(res.proof, arch, loss, X, Y, box=1.0, reg=None, lam=0.0,
                                    lower_bound=res.lower_bound, params=res.params,
                                    objective=res.objective)
    assert ok, why


def _same(a, b):
    assert a.objective == b.objective and a.lower_bound == b.lower_bound and a.nodes == b.nodes
    assert set(a.proof) == set(b.proof)
    for k, v in a.proof.items():
        assert np.array_equal(np.asarray(v), np.asarray(b.proof[k])), k


def _agree(a, b, gap=1e-4, abs_gap=1e-6):
    """Both intervals certified to the gap and overlapping: the optimum lies in both."""
    for r in (a, b):
        assert r.status == "optimal"
        assert r.objective - r.lower_bound <= max(abs_gap, gap * abs(r.objective)) * (1 + 1e-9)
    assert a.lower_bound <= b.objective + 1e-12 and b.lower_bound <= a.objective + 1e-12


@pytest.mark.parametrize("loss,seed", [("absolute", 3), ("quadratic", 5)])
def test_threads_match_serial(loss, seed):
    X, Y = _data2(9, seed)
    arch = Architecture.parse("2-2-1")
    serial = patterns.solve(arch, loss, X, Y, workers=1)
    assert serial.info["workers"] == 1 and serial.info["batch"] == 1
    par = patterns.solve(arch, loss, X, Y, workers=2)
    assert par.info["workers"] == 2 and par.info["batch"] == 2
    _valid(serial, arch, loss, X, Y)
    _valid(par, arch, loss, X, Y)
    _agree(serial, par)
    # one batch size: the same search whatever runs the nodes
    _same(serial, patterns.solve(arch, loss, X, Y, workers=2, batch=1))
    _same(par, patterns.solve(arch, loss, X, Y, workers=1, batch=2))
    _same(par, patterns.solve(arch, loss, X, Y, workers=3, batch=2))


def test_larger_batches_still_certify():
    X, Y = _data2(10, 8)
    arch = Architecture.parse("2-1-1")
    ref = patterns.solve(arch, "absolute", X, Y, workers=1)
    for batch in (3, 7):
        res = patterns.solve(arch, "absolute", X, Y, workers=2, batch=batch)
        _valid(res, arch, "absolute", X, Y)
        _agree(ref, res)


def test_solve_continuous_takes_workers():
    X, Y = _data2(8, 4)
    arch = Architecture.parse("2-2-1")
    a = solve_continuous(arch, "absolute", X, Y, workers=2)
    b = solve_continuous(arch, "absolute", X, Y, workers=1)
    _agree(a, b)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InputError):
            patterns.solve(arch, "absolute", X, Y, workers=bad)


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes: tasks, HiGHS warm-start bases and results are
    pickled on their way."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


def _cluster_matches_threads(cluster, spec, X, Y):
    arch = Architecture.parse(spec)
    local = patterns.solve(arch, "quadratic", X, Y, workers=1, batch=2)
    res = patterns.solve(arch, "quadratic", X, Y, scheduler=cluster.scheduler_address, batch=2)
    _valid(res, arch, "quadratic", X, Y)
    _same(local, res)
    return arch, local


def test_dask_cluster_matches_threads(cluster):
    X, Y = _data2(8, 6)
    arch, local = _cluster_matches_threads(cluster, "2-2-1", X, Y)
    dflt = patterns.solve(arch, "quadratic", X, Y, scheduler=cluster.scheduler_address)
    assert dflt.info["workers"] == 2
    _agree(local, dflt)


def test_cli_continuous_workers(tmp_path, capsys):
    from lptrain.cli import main

    X, Y = _data2(8, 2)
    path = tmp_path / "d.csv"
    np.savetxt(path, np.hstack([X, Y]), delimiter=",")
    out = tmp_path / "r.json"
    assert main(["train", str(path), "--arch", "2-1-1", "--loss", "absolute", "--continuous",
                 "--workers", "2", "--json", str(out)]) == 0
    assert "certificate: valid" in capsys.readouterr().out
    assert out.exists()


# n = 1: threshold-window branching, the same batch design


def _data1(D, seed, hinge=False):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 1))
    y = 0.8 * np.maximum(0.9 * x - 0.2, 0) - 0.6 * np.maximum(-0.7 * x + 0.1, 0) + 0.1
    y = np.clip(y + rng.normal(0, 0.05, y.shape), -1, 1)
    return x, (np.where(y >= np.median(y), 1.0, -1.0) if hinge else y)


N1_CASES = [("absolute", "1-3-1", 16, 3), ("quadratic", "1-2-1", 30, 5),
            ("hinge", "1-2-1", 14, 7)]


@pytest.mark.parametrize("loss,spec,D,seed", N1_CASES)
def test_n1_threads_match_serial(loss, spec, D, seed):
    X, Y = _data1(D, seed, hinge=loss == "hinge")
    arch = Architecture.parse(spec)
    serial = patterns.solve(arch, loss, X, Y, workers=1)
    assert serial.info["workers"] == 1 and serial.info["batch"] == 1
    par = patterns.solve(arch, loss, X, Y, workers=2)
    assert par.info["workers"] == 2 and par.info["batch"] == 2
    _valid(serial, arch, loss, X, Y)
    _valid(par, arch, loss, X, Y)
    _agree(serial, par)
    assert np.array_equal(serial.proof["perm"], np.argsort(X[:, 0], kind="stable"))
    _same(serial, patterns.solve(arch, loss, X, Y, workers=2, batch=1))
    _same(par, patterns.solve(arch, loss, X, Y, workers=1, batch=2))
    _same(par, patterns.solve(arch, loss, X, Y, workers=3, batch=2))
    big = patterns.solve(arch, loss, X, Y, workers=2, batch=5)
    _valid(big, arch, loss, X, Y)
    _agree(serial, big)
    _same(big, patterns.solve(arch, loss, X, Y, workers=3, batch=5))


@pytest.mark.parametrize("guess", [-np.inf, np.nan])
def test_n1_result_does_not_depend_on_what_a_task_skips(monkeypatch, guess):
    """A task uses the incumbent at its batch's start only to skip work (the QP after a
    realised tangent LP, a QP leaf's certificate); the search decides from the results in
    task order and computes what was skipped.  Tasks that judge every node pruned (-inf: skip
    the QPs) or none (nan: skip the QP leaves' certificates) must give the same result."""
    from lptrain.continuous import _patterns_1d

    X, Y = _data1(30, 5)
    arch = Architecture.parse("1-2-1")
    ref = patterns.solve(arch, "quadratic", X, Y, workers=2, batch=3)
    orig = _patterns_1d.NodeWork.evaluate
    orig_cert = _patterns_1d.NodeWork.certify_qp
    by_search = []

    def guessing(self, s, o, klo, khi, basis, tbasis, t_in, use_qp, inc, gap, abs_gap):
        if sys._getframe(1).f_code.co_name == "take":
            by_search.append("qp")
        return orig(self, s, o, klo, khi, basis, tbasis, t_in, use_qp, guess, gap, abs_gap)

    def cert(self, *args):
        if sys._getframe(1).f_code.co_name == "take":
            by_search.append("cert")
        return orig_cert(self, *args)

    monkeypatch.setattr(_patterns_1d.NodeWork, "evaluate", guessing)
    monkeypatch.setattr(_patterns_1d.NodeWork, "certify_qp", cert)
    res = patterns.solve(arch, "quadratic", X, Y, workers=2, batch=3)
    _same(ref, res)
    _valid(res, arch, "quadratic", X, Y)
    assert ("cert" if np.isnan(guess) else "qp") in by_search


def test_n1_tampered_parallel_proof_is_rejected():
    X, Y = _data1(16, 3)
    arch = Architecture.parse("1-3-1")
    res = patterns.solve(arch, "absolute", X, Y, workers=2, batch=3)
    _valid(res, arch, "absolute", X, Y)

    def verify(proof=None, lower=None):
        return check_patterns.verify(res.proof if proof is None else proof, arch, "absolute", X,
                                     Y, box=1.0, reg=None, lam=0.0,
                                     lower_bound=res.lower_bound if lower is None else lower,
                                     params=res.params, objective=res.objective)[0]

    assert not verify(lower=res.lower_bound + 1e-4)
    p = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in res.proof.items()}
    p["leaf_bound"] = p["leaf_bound"] + 1e-3
    p["lower_bound"] = res.lower_bound + 1e-3
    assert not verify(p, lower=res.lower_bound + 1e-3)
    p = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in res.proof.items()}
    split = int(np.nonzero(p["code"] == 1)[0][0])
    p["m"][split] += 1
    assert not verify(p)


def test_n1_dask_cluster_matches_threads(cluster):
    X, Y = _data1(30, 5)
    _cluster_matches_threads(cluster, "1-2-1", X, Y)


def test_highs_bases_pickle_as_data():
    import pickle

    from lptrain.continuous._parallel import pack_basis, picklable_bases
    from lptrain.continuous._patterns_lp import NodeLP

    picklable_bases()
    X, Y = _data1(12, 1)
    xs = np.sort(X[:, 0])
    eng = NodeLP(xs, Y[:, 0], 2, "absolute", 1.0)
    lp = eng.build((1, -1), (1, 1), (0, 0), (12, 12))
    ok, obj, _, _, basis = eng.solve(lp)
    assert ok
    back = pickle.loads(pickle.dumps(basis))
    assert not back.alien and back.valid
    for a, b in zip(pack_basis(basis), pack_basis(back)):
        assert np.array_equal(a, b)
    ok2, obj2, _, _, _ = eng.solve(lp, back)  # the optimal basis: no simplex step to take
    assert ok2 and abs(obj2 - obj) <= 1e-12 and eng.h.getInfo().simplex_iteration_count == 0
