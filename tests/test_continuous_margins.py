"""Leaf claims with large coefficients (review R7-1): x far from 0, a large box.

The searches claim, per leaf, a bound from a dual vector; the checkers replay it with an
a-priori rounding margin that grows with the column bounds (up to ~1e9 here).  A claim above
the replay is refused (``certificate_failed``).  References: the checkers' own replays
(recorded leaf by leaf), and random networks of the box with an own forward pass.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lptrain.arch import Architecture
from lptrain.continuous import check_continuous, check_patterns, solve_continuous


def _random_box_risk(arch, loss, X, Y, B, k=400, seed=0):
    """Least risk of ``k`` random networks of [-B, B]^N (own forward pass, n-w-1 ReLU)."""
    names = list(arch.param_names)
    n, w = arch.widths[0], arch.widths[1]
    P = np.random.default_rng(seed).uniform(-B, B, (k, len(names)))
    out = np.repeat(P[:, names.index("b2[1]")][:, None], len(X), axis=1)
    for j in range(w):
        a = P[:, [names.index(f"W1[{j + 1},{i + 1}]") for i in range(n)]]
        b = P[:, names.index(f"b1[{j + 1}]")]
        v = P[:, names.index(f"W2[1,{j + 1}]")]
        out += v[:, None] * np.maximum(a @ X.T + b[:, None], 0.0)
    y = Y[:, 0][None, :]
    if loss == "absolute":
        return float(np.abs(out - y).mean(axis=1).min())
    if loss == "quadratic":
        return float(((out - y) ** 2).mean(axis=1).min())
    return float(np.maximum(1.0 - y * out, 0.0).mean(axis=1).min())


def _case(n, D, loss, k, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, n)) * 10.0 ** k
    y = rng.uniform(-1, 1, (D, 1))
    if loss == "hinge":
        y = np.where(y >= 0, 1.0, -1.0)
    return x, y


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.sampled_from([1, 1, 2]), k=st.integers(-3, 3), box=st.sampled_from([0.3, 1.0, 3.0, 30.0]),
       loss=st.sampled_from(["quadratic", "quadratic", "absolute", "hinge"]),
       seed=st.integers(0, 10_000))
def test_pattern_runs_certify_at_every_scale(n, k, box, loss, seed):
    D = 6 if n == 1 else 5
    x, y = _case(n, D, loss, k, seed)
    arch = Architecture.layered([n, 2, 1], "relu")
    res = solve_continuous(arch, loss, x, y, box=box, workers=1, time_limit=4)
    cert = check_continuous(res, arch, loss, x, y, box=box)
    assert cert.valid, f"x*1e{k}, box {box}, {loss}: {cert.reason}"
    ref = _random_box_risk(arch, loss, x, y, box)
    assert res.lower_bound <= ref + 1e-9 * (1 + abs(ref))
    assert res.lower_bound <= res.objective


@pytest.mark.parametrize("n, k, box", [(1, 3, 1.0), (1, 0, 30.0), (2, 0, 30.0), (2, 3, 1.0)])
def test_no_leaf_claims_more_than_its_replay(monkeypatch, n, k, box):
    """Each leaf's claimed bound is at most what the checker proves for its dual."""
    x, y = _case(n, 8 if n == 1 else 7, "quadratic", k, 1)
    arch = Architecture.layered([n, 2, 1], "relu")
    res = solve_continuous(arch, "quadratic", x, y, box=box, workers=1, time_limit=20)
    seen = []
    orig = check_patterns._leaf_bound

    def record(*a):
        seen.append(orig(*a))
        return seen[-1]

    monkeypatch.setattr(check_patterns, "_leaf_bound", record)
    cert = check_continuous(res, arch, "quadratic", x, y, box=box)
    assert cert.valid, cert.reason
    claimed = np.asarray(res.proof["leaf_bound"])
    assert len(seen) == len(claimed) > 0
    assert np.all(claimed <= np.asarray(seen))
    assert res.status == "optimal"


def _short_first(monkeypatch, module, name, count):
    """Make the first ``count`` leaf certificates fall short by 1 (a claim the search did not
    mean): the search must branch those nodes instead of closing them."""
    orig = getattr(module, name)
    calls = [0]

    def short(*a, **kw):
        c, yv = orig(*a, **kw)
        calls[0] += 1
        return (c - 1.0, yv) if calls[0] <= count else (c, yv)

    monkeypatch.setattr(module, name, short)


@pytest.mark.parametrize("loss", ["quadratic", "absolute"])
def test_n1_node_with_a_short_certificate_is_branched(monkeypatch, loss):
    from lptrain.continuous import _patterns_lp

    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, (8, 1)), rng.uniform(-1, 1, (8, 1))
    arch = Architecture.layered([1, 2, 1], "relu")
    ref = solve_continuous(arch, loss, x, y, workers=1)
    _short_first(monkeypatch, _patterns_lp.NodeLP, "certificate", 6)
    res = solve_continuous(arch, loss, x, y, workers=1)
    cert = check_continuous(res, arch, loss, x, y, box=1.0)
    assert cert.valid, cert.reason
    assert res.info["short_certificates"] > 0
    assert res.status == "optimal"
    assert abs(res.objective - ref.objective) <= 1e-4 * abs(ref.objective) + 1e-6


def test_nd_node_with_a_short_certificate_is_branched(monkeypatch):
    from lptrain.continuous import _patterns_nd

    rng = np.random.default_rng(4)
    x, y = rng.uniform(-1, 1, (6, 2)), rng.uniform(-1, 1, (6, 1))
    arch = Architecture.layered([2, 2, 1], "relu")
    ref = solve_continuous(arch, "absolute", x, y, workers=1)
    orig = _patterns_nd.NodeWork.evaluate
    calls = [0]

    def short(self, *a):  # nodes with undecided pairs (they can be branched) fall short
        res = orig(self, *a)
        calls[0] += 1
        if calls[0] <= 60 and not res["decided"]:
            res["cert"]["bound"] -= 1.0
        return res

    monkeypatch.setattr(_patterns_nd.NodeWork, "evaluate", short)
    res = solve_continuous(arch, "absolute", x, y, workers=1)
    cert = check_continuous(res, arch, "absolute", x, y, box=1.0)
    assert cert.valid, cert.reason
    assert res.info["short_certificates"] > 0
    assert res.status == "optimal"
    assert abs(res.objective - ref.objective) <= 1e-4 * abs(ref.objective) + 1e-6


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(k=st.integers(-1, 3), box=st.sampled_from([1.0, 30.0]), seed=st.integers(0, 10_000))
def test_spatial_relaxation_leaves_certify_at_every_scale(k, box, seed):
    x, y = _case(1, 5, "quadratic", k, seed)
    arch = Architecture.layered([1, 2, 1], "relu")
    res = solve_continuous(arch, "quadratic", x, y, box=box, time_limit=1.5, method="spatial",
                           workers=1)
    cert = check_continuous(res, arch, "quadratic", x, y, box=box)
    assert cert.valid, f"x*1e{k}, box {box}: {cert.reason}"
    ref = _random_box_risk(arch, "quadratic", x, y, box)
    assert res.lower_bound <= ref + 1e-9 * (1 + abs(ref))


@pytest.mark.parametrize("box,loss", [(1e6, "quadratic"), (1e12, "quadratic"), (1e6, "absolute")])
def test_huge_boxes_answer_or_refuse_in_one_line(box, loss):
    """At boxes where HiGHS cannot solve the node LPs the search refuses (SolverError, one
    line in the CLI), never an internal error nor a failed certificate."""
    from lptrain.arch import Architecture
    from lptrain.continuous import check_continuous, solve_continuous
    from lptrain.exceptions import SolverError

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 1))
    y = np.clip(0.5 * np.maximum(x, 0) + rng.normal(0, 0.05, x.shape), -1, 1)
    arch = Architecture.parse("1-2-1")
    try:
        res = solve_continuous(arch, loss, x, y, box=box, time_limit=10, workers=1)
    except SolverError as e:
        assert "smaller --box" in str(e)
        return
    assert check_continuous(res, arch, loss, x, y, box=box).valid
