"""The spatial search's relaxations solved concurrently: threads, a Dask cluster, LPTRAIN_SCHEDULER.

Every step pops the ``batch`` best open boxes and takes the relaxations' results back in task
order, so for one batch size the result (interval, tree, proof) must be the same whichever
workers ran the boxes.  Every proof is replayed by the independent checker, and a tampered
one is refused.
"""

import dataclasses
import json

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.cli import main
from lptrain.continuous import check_continuous, solve_continuous, spatial
from lptrain.exceptions import InputError
from lptrain.network import Network

# small problems the search closes to the gap in a second or two (no time limit: deterministic)
CASES = [("1-1-1", "relu", "absolute", None, 5, 1),
         ("1-1-1", "tanh", "quadratic", "l2", 3, 2),
         ("1-1-1", "tanh", "hinge", "l1", 4, 2)]


def _problem(spec, act, loss, reg, D, seed):
    arch = Architecture.parse(spec, act)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, arch.n_inputs))
    y = rng.uniform(-1, 1, (D, 1))
    if loss == "hinge":
        y = np.where(y > 0, 1.0, -1.0)
    return arch, loss, x, y, reg, (0.01 if reg else 0.0)


def _solve(p, **kw):
    arch, loss, x, y, reg, lam = p
    return solve_continuous(arch, loss, x, y, reg=reg, lam=lam, gap=3e-2, abs_gap=1e-3,
                            method="spatial", **kw)


def _same(a, b):
    assert a.status == b.status and a.objective == b.objective and a.lower_bound == b.lower_bound
    assert a.nodes == b.nodes and np.array_equal(a.params, b.params)
    assert set(a.proof) == set(b.proof)
    for k, v in a.proof.items():
        assert np.array_equal(np.asarray(v), np.asarray(b.proof[k])), k


def _valid(r, p):
    arch, loss, x, y, reg, lam = p
    c = check_continuous(r, arch, loss, x, y, reg=reg, lam=lam)
    assert c.valid, c.reason


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_threads_give_the_same_search(case):
    p = _problem(*case)
    one = _solve(p, workers=1)
    assert one.status == "optimal" and one.info["workers"] == 1 and one.info["lp_solves"] > 3
    _valid(one, p)
    for w in (2, 3):
        r = _solve(p, workers=w)
        assert r.info["workers"] == w and r.info["batch"] == one.info["batch"]
        _same(one, r)
    # another batch size: another tree, the same certified optimum within the tolerance
    arch, loss, x, y, reg, lam = p
    kw = dict(reg=reg, lam=lam, gap=3e-2, abs_gap=1e-3)
    b1 = spatial.solve(arch, loss, x, y, workers=1, batch=2, **kw)
    b3 = spatial.solve(arch, loss, x, y, workers=3, batch=2, **kw)
    _same(b1, b3)
    assert b1.info["batch"] == 2
    for r in (one, b1):
        assert r.objective - r.lower_bound <= max(1e-3, 3e-2 * abs(r.objective)) * (1 + 1e-9)
    assert b1.lower_bound <= one.objective + 1e-12 and one.lower_bound <= b1.objective + 1e-12


def test_parallel_proof_tampered_is_refused():
    p = _problem(*CASES[0])
    arch, loss, x, y, reg, lam = p
    r = _solve(p, workers=2)
    _valid(r, p)
    assert r.proof["leaf_kind"].sum() > 0  # leaves bounded by the relaxation's multipliers
    mult = r.proof["leaf_multipliers"].copy()
    mult[0] = -mult[0] * 3.0
    sv = r.proof["split_value"].copy()
    sv[-1] += 0.2
    for change in (dict(leaf_multipliers=mult), dict(split_value=sv),
                   dict(leaf_bound=r.proof["leaf_bound"] + 0.5)):
        proof = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in r.proof.items()}
        proof.update(change)
        bad = dataclasses.replace(r, proof=proof, lower_bound=float(np.min(proof["leaf_bound"])))
        assert not check_continuous(bad, arch, loss, x, y, reg=reg, lam=lam).valid


def test_bad_workers_and_batch():
    p = _problem(*CASES[0])
    arch, loss, x, y, reg, lam = p
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InputError):
            _solve(p, workers=bad)
        with pytest.raises(InputError):
            spatial.solve(arch, loss, x, y, batch=bad)


def _cross_entropy_problem():
    arch = Architecture.parse("1-1-2", "relu")
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (4, 1))
    y = np.eye(2)[rng.integers(0, 2, 4)]
    return arch, "cross_entropy", x, y, None, 0.0


def test_cross_entropy_interval_bounds_on_threads_give_the_same_search():
    """No relaxation for cross-entropy: its interval bounds are computed in fixed chunks
    (here, or on a cluster), so 1, 2 and 3 threads give the same tree."""
    p = _cross_entropy_problem()
    one = _solve(p, workers=1, box=0.1)
    assert one.info["lp_solves"] == 0 and one.status == "optimal"
    c = check_continuous(one, *p[:4], box=0.1)
    assert c.valid, c.reason
    for k in (2, 3):
        _same(one, _solve(p, workers=k, box=0.1))


def test_environment_ignored_when_workers_given(monkeypatch):
    monkeypatch.setenv("LPTRAIN_SCHEDULER", "tcp://127.0.0.1:9")  # nothing listens there
    p = _problem(*CASES[0])
    r = _solve(p, workers=2)
    assert r.info["workers"] == 2
    _valid(r, p)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield c
    c.close()


def test_dask_cluster_gives_the_same_search(cluster):
    p = _problem(*CASES[1])
    local = _solve(p, workers=1)
    res = _solve(p, scheduler=cluster.scheduler_address)
    assert res.info["workers"] == 2
    _same(local, res)
    _valid(res, p)


def test_cross_entropy_on_the_cluster(cluster):
    p = _cross_entropy_problem()
    res = _solve(p, scheduler=cluster.scheduler_address, box=0.1)
    assert res.info["workers"] == 2
    _same(_solve(p, workers=1, box=0.1), res)


def test_scheduler_from_the_environment(cluster, monkeypatch, tmp_path):
    monkeypatch.setenv("LPTRAIN_SCHEDULER", cluster.scheduler_address)
    p = _problem(*CASES[0])
    arch, loss, x, y, reg, lam = p
    local = _solve(p, workers=1)
    res = _solve(p)
    assert res.info["workers"] == 2  # the cluster's two single-threaded workers
    _same(local, res)
    # the CLI: train --continuous and gap take the default too
    data = tmp_path / "d.csv"
    np.savetxt(data, np.hstack([x, y]), delimiter=",")
    out = tmp_path / "t.json"
    assert main(["train", str(data), "--arch", "1-1-1", "--loss", loss, "--continuous",
                 "--method", "spatial", "--gap", "3e-2", "--abs-gap", "1e-3", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["solver_info"]["workers"] == 2 and rep["certificate"]["valid"]
    model = tmp_path / "m.json"
    Network(arch, local.params).save(model)
    out2 = tmp_path / "g.json"
    assert main(["gap", str(model), str(data), "--loss", loss, "--method", "spatial", "--gap", "3e-2",
                 "--abs-gap", "1e-3", "--json", str(out2)]) == 0
    rep2 = json.loads(out2.read_text())
    assert rep2["solver_info"]["workers"] == 2 and rep2["certificate"]["valid"]
