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
