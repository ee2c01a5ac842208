"""Review r8: the parallel continuous searches' scheduler handling, determinism, threads.

Regression tests for what the review found (scheduler addresses, basis pickling, batch and
workers validation, engine keys, wall-clock-free LP caps); each is small.
"""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lptrain.arch import Architecture
from lptrain.cli import main
from lptrain.continuous import _parallel, solve_continuous
from lptrain.exceptions import InputError

X4 = np.array([[0.1], [0.5], [-0.4], [0.9]])
Y4 = np.array([[0.2], [0.3], [0.1], [-0.2]])


@pytest.mark.parametrize("method", ["patterns", "spatial"])
@pytest.mark.parametrize("scheduler", [0, 5, ["tcp://a:1"], b"tcp://a:1"])
def test_scheduler_not_a_string_is_refused(method, scheduler):
    with pytest.raises(InputError, match="scheduler="):
        solve_continuous(Architecture.parse("1-1-1"), "absolute", X4, Y4, method=method,
                         scheduler=scheduler)


@pytest.mark.parametrize("address", ["garbage", "tcp://[::1", "http://x:8786"])
def test_bad_scheduler_address_is_one_clean_line(address, tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    data = tmp_path / "d.csv"
    np.savetxt(data, np.hstack([X4, Y4]), delimiter=",")
    out = tmp_path / "o.json"
    monkeypatch.setenv("LPTRAIN_SCHEDULER", address)
    code = main(["train", str(data), "--arch", "1-1-1", "--loss", "absolute", "--continuous",
                 "--json", str(out)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and not out.exists()
    assert err.startswith("lptrain: error: cannot reach the dask scheduler") and "\n" not in err
    # the grid's dask solver reads the same variable
    code = main(["train", str(data), "--arch", "1-1-1", "--bits", "1", "--solver", "dask"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("lptrain: error: cannot reach the dask scheduler")


def test_scheduler_without_workers_is_refused_and_closed(monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(_parallel, "CONNECT_TIMEOUT", 2)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as c:
        closed = []
        real_close = distributed.Client.close

        def spy(self, *a, **k):
            closed.append(self)
            return real_close(self, *a, **k)

        monkeypatch.setattr(distributed.Client, "close", spy)
        with pytest.raises(InputError, match="has no workers"):
            solve_continuous(Architecture.parse("1-1-1"), "absolute", X4, Y4, method="patterns",
                             scheduler=c.scheduler_address)
        assert closed  # the client was closed, not leaked


def _node_threads():
    return [t for t in threading.enumerate() if t.name.startswith("lptrain-node")]


@pytest.mark.parametrize("method", ["patterns", "spatial"])
def test_no_node_threads_left(method):
    solve_continuous(Architecture.parse("1-1-1"), "absolute", X4, Y4, method=method, workers=3,
                     gap=3e-2, abs_gap=1e-3)
    assert not _node_threads()


def test_pickled_basis_keeps_its_flags():
    import copy
    import pickle

    highspy = pytest.importorskip("highspy")
    _parallel.picklable_bases()
    _parallel.picklable_bases()  # twice: harmless
    b = highspy.HighsBasis()  # not valid: an empty basis from no solve
    assert not b.valid
    for r in (pickle.loads(pickle.dumps(b)), copy.deepcopy(b)):
        assert r.valid == b.valid and r.alien == b.alien and list(r.col_status) == list(b.col_status)
    st = highspy.HighsBasisStatus
    b.col_status, b.row_status = [st.kBasic, st.kLower, st.kUpper], [st.kNonbasic, st.kZero]
    b.valid, b.alien = True, False
    r = pickle.loads(pickle.dumps(b))
    assert (r.valid, r.alien) == (True, False)
    assert list(r.col_status) == list(b.col_status) and list(r.row_status) == list(b.row_status)


@pytest.mark.parametrize("batch", [0, -1, 2.5, "2", True])
def test_pattern_batch_refused_like_spatial(batch):
    from lptrain.continuous import patterns, spatial

    for mod in (patterns, spatial):
        with pytest.raises(InputError, match="batch="):
            mod.solve(Architecture.parse("1-1-1"), "absolute", X4, Y4, batch=batch)


def test_box_bound_does_not_depend_on_the_wall_clock(monkeypatch):
    import json

    from lptrain.continuous import spatial_lp
    from lptrain.continuous.spatial import BoxWork

    made = []
    real = spatial_lp._new_highs

    def record():
        h = real()
        made.append(h)
        return h

    monkeypatch.setattr(spatial_lp, "_new_highs", record)
    arch = Architecture.parse("1-1-1", "tanh")
    bw = BoxWork(json.dumps(arch.dag_dict(), sort_keys=True), "quadratic", X4, Y4, "", 0.0)
    bw.bound(np.full(4, -1.0), np.full(4, 1.0))
    def option(h, name):
        v = h.getOptionValue(name)
        return v[1] if isinstance(v, tuple) else v  # (status, value) in some highspy versions

    assert made and all(option(h, "time_limit") == np.inf for h in made)
    assert all(0 < option(h, "simplex_iteration_limit") < 10**9 for h in made)


def test_engine_key_names_the_factory_and_every_argument():
    class A:
        def __init__(self, *args):
            self.args = args

    class B(A):
        pass

    x = np.arange(3.0)
    keys = {_parallel.NodePool(f, args, workers=1).key
            for f, args in [(A, (x, 1)), (B, (x, 1)), (A, (x, 1.0)), (A, (x.astype(np.int64), 1)),
                            (A, (x, 1, None)), (A, (x, 1, (2, 3)))]}
    assert len(keys) == 6


def _same_search(a, b):
    assert (a.status, a.objective, a.lower_bound, a.nodes) == (b.status, b.objective, b.lower_bound, b.nodes)
    assert np.array_equal(a.params, b.params) and set(a.proof) == set(b.proof)
    for k, v in a.proof.items():
        assert np.array_equal(np.asarray(v), np.asarray(b.proof[k])), k


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(1, 2), w=st.integers(1, 2),
       loss=st.sampled_from(["absolute", "quadratic", "hinge"]), batch=st.integers(1, 3),
       dup=st.booleans())
def test_patterns_threads_replay_the_serial_batches(seed, n, w, loss, batch, dup):
    """For one batch the search on 3 threads is the search in the calling thread; both replay
    valid, and neither lower bound exceeds the loss of random networks of the box."""
    from lptrain.continuous import check_continuous, patterns
    from lptrain.losses import get_loss

    rng = np.random.default_rng(seed)
    D = int(rng.integers(1, 7 if n == 1 else 5))
    x = rng.uniform(-1, 1, (D, n))
    y = rng.uniform(-1, 1, (D, 1))
    if dup and D > 1:
        x[1] = x[0]
    if loss == "hinge":
        y = np.where(y > 0, 1.0, -1.0)
    arch = Architecture.parse(f"{n}-{w}-1")
    one = patterns.solve(arch, loss, x, y, workers=1, batch=batch)
    three = patterns.solve(arch, loss, x, y, workers=3, batch=batch)
    _same_search(one, three)
    P = rng.uniform(-1, 1, (2000, arch.n_params))
    ref = get_loss(loss).evaluate(arch.forward(x, P), y[None]).mean(axis=1).min()
    one.requested_gap, one.requested_abs_gap = 1e-4, 1e-6
    c = check_continuous(one, arch, loss, x, y)
    assert c.valid, c.reason
    assert one.lower_bound <= ref + 1e-12


@pytest.mark.parametrize("method", ["patterns", "spatial"])
def test_driver_thread_keeps_no_engine_after_a_solve(method):
    solve_continuous(Architecture.parse("1-1-1"), "absolute", X4, Y4, method=method, workers=1,
                     gap=3e-2, abs_gap=1e-3)
    assert not getattr(_parallel._LOCAL, "cache", None)


def test_absurd_thread_counts_are_refused_in_one_line():
    from lptrain.exceptions import InputError

    with pytest.raises(InputError, match="at most 512 threads"):
        _parallel.check_workers(10**6)
    assert _parallel.check_workers(512) == 512
