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


@pytest.mark.parametrize("n, scale, box", [(1, 1e3, 1.0), (1, 1.0, 30.0), (2, 1.0, 30.0)])
def test_quadratic_large_coefficients_certify(n, scale, box):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8 if n == 1 else 10, n)) * scale
    y = rng.uniform(-1, 1, (len(x), 1))
    res, cert = _solve_and_check(f"{n}-2-1", "quadratic", x, y, box=box, time_limit=60)
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


def _onnx_chain(tmp_path, bias_node):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    W1 = np.array([[0.5], [-0.7]], dtype=np.float32)
    W2 = np.array([[0.8, -0.6]], dtype=np.float32)
    b2 = np.array([0.1], dtype=np.float32)
    nodes = [bias_node(helper),
             helper.make_node("Gemm", ["x", "W1", "b1c"], ["h"], transB=1),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], transB=1)]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
                          [numpy_helper.from_array(W1, "W1"), numpy_helper.from_array(W2, "W2"),
                           numpy_helper.from_array(b2, "b2")])
    path = tmp_path / "net.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_onnx_gemm_bias_from_a_constant_node_with_value_floats(tmp_path):
    """R7-3: a Constant node with ``value_floats`` (not ``value``) was skipped, so the Gemm
    read its bias as zeros: ``gap`` reported the loss of another network."""
    from lptrain.continuous.importers import import_network

    path = _onnx_chain(tmp_path, lambda h: h.make_node("Constant", [], ["b1c"], value_floats=[0.3, 0.2]))
    imp = import_network(str(path))
    x = np.linspace(-1, 1, 7)
    want = 0.8 * np.maximum(0.5 * x + 0.3, 0) - 0.6 * np.maximum(-0.7 * x + 0.2, 0) + 0.1
    got = imp.arch.predict(x[:, None], imp.params)[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_onnx_gemm_bias_that_is_not_a_constant_is_refused(tmp_path):
    from lptrain.continuous.importers import import_network
    from lptrain.exceptions import InputError

    # the Gemm's bias names a tensor nothing defines (before: silently zeros)
    path = _onnx_chain(tmp_path, lambda h: h.make_node("Constant", [], ["other"], value_floats=[0.3, 0.2]))
    with pytest.raises(InputError, match="not a constant"):
        import_network(str(path))


def test_spatial_replay_refuses_relaxation_leaves_for_cross_entropy():
    """R7-4: the replay's Lagrangian objective is the absolute, hinge or (otherwise) quadratic
    loss; a leaf marked as a relaxation leaf under cross-entropy was bounded by the squared
    error, which exceeds the cross-entropy near one-hot targets.  A crafted proof certified
    0.690 where a network of the box reaches 0.683."""
    from scipy.optimize import minimize

    from lptrain.continuous import check_spatial
    from lptrain.continuous.result import ContinuousResult

    arch = Architecture.layered([1, 1, 2], "relu")
    names, N, B = list(arch.param_names), arch.n_params, 0.1
    X, Y = np.array([[-1.0], [1.0]]), np.eye(2)
    rows = 14  # relaxation rows per point of this 1-1-2 net (none for the loss)

    def ce(p):
        return check_spatial.risk(arch, "cross_entropy", X, Y, np.clip(p, -B, B))

    rng = np.random.default_rng(0)
    true_min = min(minimize(ce, rng.uniform(-B, B, N), method="L-BFGS-B", bounds=[(-B, B)] * N).fun
                   for _ in range(10))
    q = np.zeros(N)
    q[names.index("b2[1]")], q[names.index("b2[2]")] = -0.09, 0.09
    # isolate a tiny box around q (an interval leaf); every other leaf is a "relaxation" leaf
    parent, dim, val, leaves, cur = [], [], [], [], 0
    for k in range(N):
        for cut in (q[k] - 1e-3, q[k] + 1e-3):
            kid = len(parent)
            parent.append(cur), dim.append(k), val.append(cut)
            lo_id, hi_id = 2 * kid + 1, 2 * kid + 2
            leaves.append(lo_id if cut < q[k] else hi_id)
            cur = hi_id if cut < q[k] else lo_id
    proof = {"format": "lptrain-spatial-proof", "version": 1, "box": B,
             "split_parent": np.array(parent), "split_dim": np.array(dim), "split_value": np.array(val),
             "leaf_id": np.array(leaves + [cur]), "leaf_bound": np.zeros(len(leaves) + 1),
             "leaf_kind": np.array([1] * len(leaves) + [0]),
             "leaf_multipliers": np.zeros((len(leaves), 2 * rows))}
    lb = 0.5 * (true_min + ce(q))
    assert lb > true_min + 1e-3  # a false claim
    res = ContinuousResult(status="time_limit", objective=ce(q), lower_bound=lb, params=q, nodes=1,
                           solve_seconds=0.0, method="spatial", proof=proof, requested_gap=1e-4,
                           requested_abs_gap=1e-6)
    cert = check_continuous(res, arch, "cross_entropy", X, Y, box=B)
    assert not cert.valid, cert.reason


def test_cli_does_not_call_a_failed_bound_certified(tmp_path, monkeypatch, capsys):
    """R7-5: with the certificate INVALID the text output still said 'certified lower bound'."""
    from lptrain import cli
    from lptrain.continuous import check_patterns

    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 8)
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([x, np.abs(x)]), delimiter=",", header="x,y", comments="")
    monkeypatch.setattr(check_patterns, "verify", lambda *a, **k: (False, "forced failure"))
    rc = cli.main(["train", str(data), "--arch", "1-1-1", "--loss", "absolute", "--continuous"])
    out = capsys.readouterr().out
    assert rc != 0 and "INVALID" in out
    assert "certified lower bound" not in out and "NOT certified" in out


def test_nd_quadratic_with_repeated_points_closes():
    rng = np.random.default_rng(0)
    x = np.repeat(rng.uniform(-1, 1, (1, 2)), 5, axis=0)
    y = rng.uniform(-1, 1, (5, 1))
    res, cert = _solve_and_check("2-2-1", "quadratic", x, y, time_limit=5)
    assert cert.valid
    # every network is constant on one point: the optimum is the variance of y
    assert res.lower_bound <= np.var(y) + 1e-9
    assert res.status == "optimal"


def test_spatial_quadratic_box_30_certifies():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (6, 1)), rng.uniform(-1, 1, (6, 1))
    arch = Architecture.layered([1, 1, 1, 1], "relu")
    res = solve_continuous(arch, "quadratic", x, y, box=30.0, time_limit=6, method="spatial")
    cert = check_continuous(res, arch, "quadratic", x, y, box=30.0)
    assert cert.valid, cert.reason


def test_demo_does_not_call_a_failed_bound_certified(tmp_path, monkeypatch, capsys):
    import json

    from lptrain import cli
    from lptrain.continuous import check_patterns

    monkeypatch.setattr(check_patterns, "verify", lambda *a, **k: (False, "forced failure"))
    cli.main(["demo", "--json", str(tmp_path / "d.json")])
    assert json.loads((tmp_path / "d.json").read_text())["continuous"]["status"] == "certificate_failed"
    out = capsys.readouterr().out
    tail = out[out.index("continuous optimum"):]
    assert "NOT certified" in tail and "certified lower bound" not in tail
    assert "at most" not in tail
