"""Sizes beyond a float, epsilon at the ends of its range, quiet HiGHS, --scale on the grid.

Every count is checked against a formula recomputed here with exact integers or rationals;
the fuzz tests drive ``lptrain size``, ``table1`` and ``sample-size`` through ``main()``
over the whole documented input range and accept only an answer or a one-line refusal.
"""

import json
import math
import os
import subprocess
import sys
import tempfile
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lptrain import api
from lptrain.arch import Architecture
from lptrain.bignum import json_int, sci, sci_log10
from lptrain.cli import main
from lptrain.data import Scaling, make_dataset
from lptrain.exceptions import InputError, LPTrainError, SizeError
from lptrain.grid import Grid, bits_for_epsilon
from lptrain.lipschitz import architecture_lipschitz
from lptrain.losses import get_loss
from lptrain.network import Network
from lptrain.sizes import human_bytes


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def exact_bits(eps, L):
    """Least bits >= 1 with 2 L 2^-bits <= eps, by counting up in exact rationals."""
    b = 1
    while Fraction(2) * Fraction(L) > Fraction(eps) * 2**b:
        b += 1
    return b


def compact_variables(D, n, m, N, bits):
    return D * 2 ** (bits * (n + m + N)) + D


# -- the commands -------------------------------------------------------------


def test_size_8_32_1_is_exact(capsys, tmp_path):
    rc, out, err = run(capsys, "size", "--arch", "8-32-1", "--bits", "4", "--samples", "100",
                       "--json", tmp_path / "s.json")
    assert rc == 0 and err == ""
    s = json.loads((tmp_path / "s.json").read_text())
    n, m, N = 8, 1, 8 * 32 + 32 + 32 + 1
    assert s["variables"] == compact_variables(100, n, m, N, 4)
    assert s["evaluations"] == 16 ** (n + m + N) and s["bound_variables"] == 400 * 16 ** (n + m + N)
    assert s["table_bytes"] == 8 * 16 ** (n + m + N)
    assert "inf" not in out and "nan" not in out
    assert sci(s["variables"]) in out  # 2.29e+399, from the exact integer


def test_table1_8_32_1(capsys, tmp_path):
    rc, out, err = run(capsys, "table1", "--arch", "8-32-1", "--epsilon", "0.1", "--json", tmp_path / "t.json")
    assert rc == 0 and err == "" and "inf" not in out
    t = json.loads((tmp_path / "t.json").read_text())
    e = t["exponent"]
    assert e == 8 + 1 + 321
    lv = e * (2 * 2 * math.log10(32) - math.log10(0.1)) + math.log10(1000)  # (w^(k^2)/eps)^e D
    assert t["rows"][0]["log10_value"] == pytest.approx(lv, rel=1e-12) and t["rows"][0]["value"] is None
    assert sci_log10(lv) in out
    a = Architecture.parse("8-32-1")
    for row in t["sizes"]:
        L = architecture_lipschitz(a, get_loss(row["loss"])).value
        b = exact_bits(0.1, L)
        assert row["bits"] == b and row["variables"] == compact_variables(1000, 8, 1, 321, b)
        Lp = row["paper_lipschitz"]
        assert row["log10_paper_bound"] == pytest.approx(math.log10(4000) + e * math.log10(2 * Lp / 0.1), rel=1e-12)


def test_sample_size_8_32_1_exact(capsys, tmp_path):
    rc, out, err = run(capsys, "sample-size", "--arch", "8-32-1", "--epsilon", "0.1", "--alpha", "0.05",
                       "--json", tmp_path / "s.json")
    assert rc == 0 and err == ""
    r = json.loads((tmp_path / "s.json").read_text())
    a = Architecture.parse("8-32-1")
    L = architecture_lipschitz(a, get_loss("quadratic")).value
    log_term = 321 * math.log(2 * L / 0.1) + math.log(1 / 0.05)
    D = math.ceil(4 * r["sigma2"] / 0.1**2 * log_term)
    assert r["samples"] == D and r["bits"] == exact_bits(0.1, L)
    assert r["variables"] == compact_variables(D, 8, 1, 321, r["bits"])


@pytest.mark.parametrize("eps", ["1e-200", "1e-300", "1e300", "1.7976931348623157e308"])
def test_sample_size_extreme_epsilon(capsys, tmp_path, eps):
    rc, out, err = run(capsys, "sample-size", "--arch", "1-2-1", "--epsilon", eps, "--alpha", "0.05",
                       "--json", tmp_path / "s.json")
    assert rc == 0 and err == "" and "inf" not in out
    r = json.loads((tmp_path / "s.json").read_text())
    e = float(eps)
    L = architecture_lipschitz(Architecture.parse("1-2-1"), get_loss("quadratic")).value
    # exact D from the same float inputs, ln(2L/eps) taken as 0 once eps >= 2L (one bit)
    log_term = 7 * max(0.0, math.log(2) + math.log(L) - math.log(e)) + math.log(20)
    D = math.ceil(4 * Fraction(r["sigma2"]) / Fraction(e) ** 2 * Fraction(log_term))
    assert isinstance(r["samples"], int) and abs(r["samples"] - D) <= D // 10**12 + 1
    if e >= 2 * L:
        assert r["bits"] == 1 and r["samples"] == D
    else:
        assert r["bits"] == exact_bits(e, L) and not r["bits_supported"]


def test_json_counts_past_the_digit_limit(capsys, tmp_path):
    """64-32-1 at 24 bits: 15738-digit counts are written as a power of ten, not refused."""
    rc, out, err = run(capsys, "size", "--arch", "64-32-1", "--bits", "24", "--samples", "100",
                       "--json", tmp_path / "s.json")
    assert rc == 0 and err == ""
    s = json.loads((tmp_path / "s.json").read_text())
    N = 64 * 32 + 32 + 32 + 1
    exact = compact_variables(100, 64, 1, N, 24)
    mant, e = s["variables"].split("e+")
    assert int(e) == len(str(exact // 10**15700)) + 15699
    assert float(mant) == pytest.approx(math.pow(10, math.log10(exact) - int(e)), rel=1e-5)
    assert s["parameters"] == N and isinstance(s["samples"], int)


def test_number_helpers():
    assert sci(10**400) == "1e+400" and sci(999 * 10**1000) == "9.99e+1002" and sci(9996 * 10**1000) == "1e+1004"
    assert sci(123) == "123" and sci(1234567) == f"{1234567.0:.3g}"
    assert sci_log10(-5000.2) == "6.31e-5001" and sci_log10(2.0) == "100"
    assert json_int(10**400) == 10**400 and isinstance(json_int(2**20000), str)
    assert human_bytes(2 << 30) == "2 GiB" and human_bytes(10**400).endswith(" EiB")
    assert "inf" not in human_bytes(10**400)


@settings(max_examples=300, deadline=None)
@given(st.floats(1e-6, 1e6), st.floats(-300, 300))
def test_bits_for_epsilon_exact(L, le):
    eps = 10.0**le
    b = bits_for_epsilon(eps, L)
    if b <= 1100:
        assert b == exact_bits(eps, L)


# -- fuzz: size, table1, sample-size over their whole input range ----------------------

widths = st.builds(
    lambda n, hidden, m: [n, *hidden, m],
    st.integers(1, 64), st.lists(st.integers(1, 32), min_size=0, max_size=2), st.integers(1, 3))
epsilons = st.one_of(st.builds(lambda u: 10.0**u, st.floats(-300, 300)),
                     st.sampled_from([1e-300, 1e300, 5e-324, 1.7976931348623157e308, 1.0]))
alphas = st.one_of(st.floats(1e-300, 1.0, exclude_max=True, exclude_min=False),
                   st.sampled_from([1e-300, 0.5, 0.9999999999999999]))
lams = st.sampled_from([0.0, 1e-3, 1.0, 1e10, 1e300, 1e308])


def _check_cli(argv, capsys):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        rc = main([str(a) for a in argv] + ["--json", path])
        out, err = capsys.readouterr()
        if rc == 0:
            assert err == "", err
            assert "inf" not in out.replace("infeasible", "") and "nan" not in out, out
            with open(path) as fh:
                json.loads(fh.read(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
        else:
            assert rc in (2, 3), (rc, err)
            assert err.startswith("lptrain: error: ") and err.count("\n") == 1, err
            assert not os.path.exists(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths, st.one_of(st.integers(1, 24).map(lambda b: ["--bits", b]), epsilons.map(lambda e: ["--epsilon", repr(e)])),
       st.integers(1, 10**12), st.sampled_from(["absolute", "quadratic", "hinge", "cross_entropy"]),
       st.sampled_from([[], ["--reg", "l2"], ["--reg", "l1"]]), lams, st.sampled_from(["compact", "literal"]))
def test_fuzz_size(capsys, w, grid, D, loss, reg, lam, form):
    argv = ["size", "--arch", "-".join(map(str, w)), *grid, "--samples", D, "--loss", loss, "--form", form]
    if reg:
        argv += [*reg, "--lam", repr(lam)]
    _check_cli(argv, capsys)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths, epsilons, st.integers(1, 10**12))
def test_fuzz_table1(capsys, w, eps, D):
    _check_cli(["table1", "--arch", "-".join(map(str, w)), "--epsilon", repr(eps), "--samples", D], capsys)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(widths, epsilons, alphas, st.sampled_from(["absolute", "quadratic", "hinge", "cross_entropy"]),
       st.one_of(st.none(), st.builds(lambda u: 10.0**u, st.floats(-300, 300))),
       st.sampled_from([[], ["--reg", "l2"], ["--reg", "l1"]]), lams)
def test_fuzz_sample_size(capsys, w, eps, alpha, loss, sigma2, reg, lam):
    argv = ["sample-size", "--arch", "-".join(map(str, w)), "--epsilon", repr(eps), "--alpha", repr(alpha),
            "--loss", loss]
    if sigma2 is not None:
        argv += ["--sigma2", repr(sigma2)]
    if reg:
        argv += [*reg, "--lam", repr(lam)]
    _check_cli(argv, capsys)


# -- the regularization weight ---------------------------------------------------------


def test_lam_not_finite_or_overflowing_is_refused(capsys):
    ds = make_dataset(np.array([[0.5, 0.25], [-0.5, 0.0]]), 1)
    for lam in (math.inf, math.nan, -1.0):
        with pytest.raises(InputError, match="lam"):
            api.train(ds, "1-2-1", bits=2, reg="l2", lam=lam)
    with pytest.raises(LPTrainError, match="lam"):
        api.train(ds, "1-2-1", bits=2, reg="l2", lam=1e308)
    rc, out, err = run(capsys, "size", "--arch", "1-2-1", "--bits", "2", "--samples", "3", "--reg", "l2",
                       "--lam", "1e308")
    assert rc != 0 and err.count("\n") == 1 and "lam" in err and "internal" not in err


def test_fused_with_overflowing_regularizer_refuses():
    from lptrain.face import Face
    from lptrain.polytope import Polytope
    from lptrain.solvers import fused

    if not fused.available():
        pytest.skip("numba not installed")
    p = Polytope(Architecture.parse("1-2-1"), "quadratic", Grid(2), 100, reg="l2", lam=1e307)
    rng = np.random.default_rng(0)
    face = Face(p, rng.uniform(-1, 1, (100, 1)), rng.uniform(-1, 1, (100, 1)))
    with pytest.raises(InputError, match="lam"):  # lam * D overflows: no finite objective
        fused.solve(face)


# -- HiGHS writes nothing to stdout ---------------------------------------------------


def _data(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("x,y\n-0.5,0.25\n0.5,-0.5\n0.25,0.125\n")
    return path


def test_highs_stdout_is_lptrain_only_in_a_fresh_process(tmp_path):
    """The banner is printed once per process, so only a fresh interpreter can show it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-m", "lptrain.cli", "train", str(_data(tmp_path)), "--arch", "1-2-1",
                        "--bits", "2", "--solver", "highs", "--json", str(tmp_path / "o.json")],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("status: optimal") and "HiGHS" not in r.stdout and "HiGHS" not in r.stderr


def test_highs_quiet_in_process(capfd, tmp_path):
    from lptrain.solvers.highs import quiet_highs

    quiet_highs()
    assert main(["train", str(_data(tmp_path)), "--arch", "1-2-1", "--bits", "2", "--solver", "highs",
                 "--json", str(tmp_path / "o.json")]) == 0
    out, err = capfd.readouterr()
    assert out.startswith("status: optimal") and "HiGHS" not in out + err


# -- --scale maps onto the grid's own range ---------------------------------------------


def test_scale_keeps_the_extremes_apart():
    table = np.array([[0.0, 0.0], [9.0, 9.0], [10.0, 10.0]])
    g = Grid(2)
    old = Grid(2).round_index(Scaling.fit(table).forward(table))  # onto [-1, 1]: 9 and 10 merge
    assert old[1, 0] == old[2, 0]
    ds = make_dataset(table, 1, scale=True, grid=g)
    assert ds.x[2, 0] == 1 - 2 * g.gamma and ds.x[0, 0] == -1.0
    ix = g.round_index(ds.x[:, 0])
    assert len(set(ix)) == 3 and ix[2] == g.size - 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1.7976931348623157e308, 1.7976931348623157e308), min_size=2, max_size=12),
       st.integers(1, 24))
def test_scaling_exact_ends_and_round_trip(col, bits):
    x = np.array(col)[:, None]
    g = Grid(bits)
    sc = Scaling.for_grid(x, g)
    f = sc.forward(x)
    assert np.all(np.isfinite(f)) and np.all((f >= -1) & (f <= 1 - 2 * g.gamma))
    if x.max() > x.min():
        assert f[np.argmax(x[:, 0]), 0] == 1 - 2 * g.gamma and f[np.argmin(x[:, 0]), 0] == -1.0
        order = np.argsort(x[:, 0], kind="stable")
        assert np.all(np.diff(f[order, 0]) >= 0)
        back = sc.inverse(f)
        scale = max(abs(x.min()), abs(x.max()))
        assert np.all(np.abs(back - x) <= 1e-14 * scale)
    else:
        assert np.all(f == 0)


def test_scale_near_float_max_trains(capsys, tmp_path):
    path = tmp_path / "big.csv"
    xs = [-1.7e308, -1e308, 0.0, 1e308, 1.7e308]
    path.write_text("x,y\n" + "".join(f"{v!r},{v / 2!r}\n" for v in xs))
    rc, out, err = run(capsys, "train", path, "--arch", "1-1", "--bits", "3", "--scale", "--model",
                       tmp_path / "m.json")
    assert rc == 0, err
    net = Network.load(tmp_path / "m.json")
    pred = net.predict(np.array(xs)[:, None])[:, 0]
    assert np.all(np.isfinite(pred))


def test_scaled_model_round_trip(capsys, tmp_path, rng):
    """predict takes and returns raw units: inputs mapped onto [-1, top], outputs back."""
    x = rng.uniform(10, 50, 15)
    y = 3 * x + 7
    path = tmp_path / "raw.csv"
    path.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)))
    rc, _, err = run(capsys, "train", path, "--arch", "1-1", "--bits", "4", "--scale", "--model", tmp_path / "m.json")
    assert rc == 0, err
    saved = json.loads((tmp_path / "m.json").read_text())
    top = 1 - 2 / 16
    assert saved["scaling"]["top"] == [top, top]
    net = Network.load(tmp_path / "m.json")
    xs = -1 + (top + 1) * (x - x.min()) / (x.max() - x.min())
    zs = net.params[0] * xs + net.params[1]
    want = y.min() + (zs + 1) * (y.max() - y.min()) / (top + 1)
    assert np.allclose(net.predict(x[:, None])[:, 0], want, rtol=1e-12)
    # the extremes of the data are grid points themselves: -1 and the top point
    ds = make_dataset(np.column_stack([x, y]), 1, scaling=net.scaling)
    assert ds.x.min() == -1.0 and ds.x.max() == top and ds.y.max() == top
    assert np.allclose(net.scaling.inverse(ds.y, slice(1, None))[:, 0], y, rtol=1e-12)


def test_models_without_top_keep_the_old_map():
    sc = Scaling.from_dict({"lo": [10.0], "hi": [20.0]})
    assert sc.forward(np.array([[20.0]]))[0, 0] == 1.0 and sc.inverse(np.array([[0.0]]))[0, 0] == 15.0


@pytest.mark.parametrize("alpha", ["1e-320", "5e-324", "1e-300"])
def test_sample_size_subnormal_alpha(capsys, tmp_path, alpha):
    """ln(1/alpha) overflowed for subnormal alpha (1/alpha = inf): an internal error."""
    rc, out, err = run(capsys, "sample-size", "--arch", "1-2-1", "--epsilon", "0.1", "--alpha", alpha,
                       "--json", tmp_path / "s.json")
    assert rc == 0 and err == "" and "inf" not in out
    r = json.loads((tmp_path / "s.json").read_text())
    assert r["log_term"] == pytest.approx(7 * math.log(2 * r["lipschitz"] / 0.1) - math.log(float(alpha)))


def test_cross_entropy_with_one_output_is_refused(capsys):
    """Softmax over one output is 1, so the loss is 0 for every network: refused, never certified."""
    from lptrain.continuous import solve_continuous
    from lptrain.losses import cross_entropy

    z = np.random.default_rng(0).uniform(-5, 5, (20, 1))
    assert np.all(cross_entropy(z, np.ones_like(z)) == 0.0)
    ds = make_dataset(np.array([[0.5, 1.0], [-0.5, 0.0]]), 1)
    with pytest.raises(InputError, match="2 outputs"):
        api.train(ds, "1-1-1", loss="cross_entropy", bits=2)
    with pytest.raises(InputError, match="2 outputs"):
        solve_continuous(api.architecture("1-1-1"), "cross_entropy", ds.x, ds.y)
    _check_cli(["size", "--arch", "2-3-1", "--bits", "2", "--samples", "5", "--loss", "cross_entropy"], capsys)


# -- scans too long to run -------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["1-1-1", "1-2-1", "2-1-1", "1-1-2", "1-1-1-1"]), st.integers(1, 2),
       st.integers(1, 12), st.booleans(), st.integers(0, 2**31))
def test_scan_work_is_predicted_exactly(shape, bits, D, plain, seed):
    """The work a scan reports after running equals the figure refused on before it starts."""
    from lptrain.face import Face
    from lptrain.polytope import Polytope
    from lptrain.solvers import get_solver

    rng = np.random.default_rng(seed)
    arch = api.architecture(shape)
    P = Polytope(arch, "absolute", Grid(bits), D)
    face = Face(P, rng.uniform(-1, 1, (D, arch.n_inputs)), rng.uniform(-1, 1, (D, arch.n_outputs)))
    for slv in (get_solver("structured", plain=plain), get_solver("structured", force_fused=True)):
        assert slv.work(face) == slv.solve(face, 1 << 30).evaluations


def test_endless_scan_refused_before_it_starts(tmp_path, capsys):
    ds = make_dataset(np.array([[0.5, 0.25], [-0.5, 0.0], [0.25, 0.5]]), 1)
    with pytest.raises(SizeError, match="max_evaluations="):
        api.train(ds, "1-1-1", bits=13)
    with pytest.raises(SizeError, match="would score 768 "):
        api.train(ds, "1-1-1", bits=2, max_evaluations=500, solver="structured", solver_options={"plain": True})
    assert api.train(ds, "1-1-1", bits=13, solver="bnb").report.status == "optimal"
    data = tmp_path / "d.csv"
    data.write_text("x,y\n0.5,0.25\n-0.5,0\n0.25,0.5\n")
    model, js = tmp_path / "m.json", tmp_path / "o.json"
    from lptrain.cli import main
    assert main(["train", str(data), "--arch", "1-1-1", "--bits", "13", "--model", str(model),
                 "--json", str(js)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--max-evaluations" in err and "--bits" in err
    assert not model.exists() and not js.exists()
