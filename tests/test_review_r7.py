"""Reviewer R7's reproducers for issue 12 (continuous optimum): each pins one finding.

Findings that are not fixed yet are marked ``xfail(strict=True)``: when a fix lands the test
passes, the xfail turns into a failure and the mark must be removed.  References are
independent of the search (enumeration with HiGHS in the tests' own model, random points).
"""

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.continuous import check_continuous, solve_continuous


def _solve_and_check(spec, loss, x, y, box=1.0, **kw):
    arch = Architecture.layered([int(t) for t in spec.split("-")], "relu")
    res = solve_continuous(arch, loss, x, y, box=box, workers=1, **kw)
    cert = check_continuous(res, arch, loss, x, y, box=box)
    return res, cert


@pytest.mark.xfail(strict=True, reason="R7-1: n=1 quadratic with large |x| or large box: the search "
                   "claims leaf bounds its own replay does not reach and stops at once with "
                   "status time_limit (certificate_failed)")
@pytest.mark.parametrize("scale, box", [(1e3, 1.0), (1.0, 30.0)])
def test_quadratic_large_coefficients_certify(scale, box):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 1)) * scale
    y = rng.uniform(-1, 1, (8, 1))
    res, cert = _solve_and_check("1-2-1", "quadratic", x, y, box=box, time_limit=60)
    assert cert.valid, cert.reason
    assert res.status == "optimal"


def test_spatial_replay_refuses_leaves_whose_bound_is_nan():
    """R7-2: a leaf whose outward interval evaluation overflows to 0 * inf = NaN used to pass
    every comparison (NaN < lb is False): the replay accepted any claimed lower bound for it."""
    from lptrain.continuous import check_spatial

    arch = Architecture.layered([1, 1, 1, 1], "relu")
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-1, 1, (5, 1)), rng.uniform(-1, 1, (5, 1))
    B = 1e300  # finite, accepted; h2's enclosure overflows to [0, inf]
    iw3 = list(arch.param_names).index("W3[1,1]")
    proof = {"format": "lptrain-spatial-proof", "version": 1, "box": B,
             "split_parent": np.array([0]), "split_dim": np.array([iw3]),
             "split_value": np.array([0.0]), "leaf_id": np.array([1, 2]),
             "leaf_bound": np.array([1e9, 1e9]), "leaf_kind": np.zeros(2, dtype=np.int64),
             "leaf_multipliers": np.zeros((0, 0))}
    with np.errstate(all="ignore"):
        ok, why, _ = check_spatial.verify(proof, arch, "quadratic", X, Y, box=B, reg=None, lam=0.0,
                                          lower_bound=1e9)
    assert not ok and "not a number" in why
