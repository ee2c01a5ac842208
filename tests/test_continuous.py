"""The continuous optimum (docs/design.md §10): intervals against independent references, proofs replayed."""

import dataclasses
import json

import numpy as np
import pytest

from lptrain import api
from lptrain.arch import Architecture
from lptrain.architectures import conv1d, resnet
from lptrain.cli import main
from lptrain.continuous import (check_continuous, load_proof, save_proof, solve_continuous)
from lptrain.continuous import check_spatial
from lptrain.data import make_dataset
from lptrain.exceptions import FileFormatError, InputError
from lptrain.network import Network

LOSSES = ["absolute", "quadratic", "hinge", "cross_entropy"]


def issue_data(D=10, seed=3, noise=0.05):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 1))
    y = 0.8 * np.maximum(0.9 * x - 0.2, 0) - 0.6 * np.maximum(-0.7 * x + 0.1, 0) + 0.1
    return x, np.clip(y + rng.normal(0, noise, (D, 1)), -1, 1)


def risk(arch, loss, x, y, p, reg=None, lam=0.0):
    return check_spatial.risk(arch, loss, x, y, p, reg, lam)


def targets(arch, loss, x, rng):
    m = arch.n_outputs
    if loss == "cross_entropy":
        return np.eye(m)[rng.integers(0, m, len(x))]
    if loss == "hinge":
        return np.where(rng.uniform(-1, 1, (len(x), m)) > 0, 1.0, -1.0)
    return rng.uniform(-1, 1, (len(x), m))


def test_noise_free_optimum_zero():
    arch = Architecture.parse("1-1-1")
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (6, 1))
    true = np.array([0.7, -0.2, 0.9, 0.1])
    y = arch.predict(x, true)
    r = solve_continuous(arch, "absolute", x, y, method="spatial", time_limit=3)
    assert -1e-9 <= r.lower_bound <= r.objective
    assert r.objective <= 2e-3
    assert check_continuous(r, arch, "absolute", x, y).valid


def test_one_one_one_against_dense_sweep():
    """1-1-1: the lower bound is below the least risk on a dense grid minus its Lipschitz margin,
    and the best network found is no worse than the sweep's best plus that margin."""
    arch = Architecture.parse("1-1-1")
    x, y = issue_data(8)
    r = solve_continuous(arch, "absolute", x, y, method="spatial", time_limit=4)
    g = np.linspace(-1, 1, 21)
    P = np.stack(np.meshgrid(g, g, g, g, indexing="ij"), -1).reshape(-1, 4)
    z = arch.forward(x, P)[..., 0]
    sweep = np.abs(z - y[:, 0]).mean(1)
    h = g[1] - g[0]
    # |d risk / d phi|_1 <= |relu(.)| + |v| (|x| + 1) + 1 <= 2 + 2 + 1 on [-1, 1]^4
    margin = 5.0 * h / 2
    assert r.lower_bound <= sweep.min() + 1e-12
    assert r.objective <= sweep.min() + 1e-12 or r.objective <= sweep.min()  # descent beats the sweep
    assert sweep.min() - margin <= r.objective


def test_lower_bound_below_random_points_and_grid_optimum():
    arch = Architecture.parse("1-2-1")
    x, y = issue_data(10)
    r = solve_continuous(arch, "quadratic", x, y, method="spatial", time_limit=3)
    rng = np.random.default_rng(1)
    P = rng.uniform(-1, 1, (10_000, arch.n_params))
    vals = ((arch.forward(x, P)[..., 0] - y[:, 0]) ** 2).mean(1)
    assert r.lower_bound <= vals.min()
    ds = make_dataset(np.column_stack([x, y]), 1)
    g = api.train(ds, arch, loss="quadratic", bits=2)
    assert r.lower_bound <= g.report["train_loss"] + 1e-12
    assert r.objective <= g.report["train_loss"] + 1e-9


CASES = [
    ("1-2-1", "relu", "absolute", None),
    ("1-2-1", "leaky_relu", "quadratic", "l2"),
    ("2-1-1", "elu", "hinge", "l1"),
    ("1-2-2", "tanh", "cross_entropy", None),
    ("1-1-1-1", "relu", "quadratic", None),
    ("1-1-1", "tanh", "quadratic", "l2"),  # boxes whose pre-activation range ends exactly at 0
]


@pytest.mark.parametrize("spec,act,loss,reg", CASES)
def test_every_kind_gives_a_valid_interval(spec, act, loss, reg):
    arch = Architecture.parse(spec, act)
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (5, arch.n_inputs))
    y = targets(arch, loss, x, rng)
    lam = 0.01 if reg else 0.0
    r = solve_continuous(arch, loss, x, y, reg=reg, lam=lam, time_limit=1.0, method="spatial")
    assert r.status in ("optimal", "time_limit")
    assert r.lower_bound <= r.objective
    assert abs(r.objective - risk(arch, loss, x, y, r.params, reg, lam)) < 1e-9
    c = check_continuous(r, arch, loss, x, y, reg=reg, lam=lam)
    assert c.valid, c.reason
    P = rng.uniform(-1, 1, (2000, arch.n_params))
    assert r.lower_bound <= min(risk(arch, loss, x, y, p, reg, lam) for p in P[:200])


@pytest.mark.parametrize("arch", [conv1d(3, 2, 1, 1, 1), resnet([1, 1, 1, 1])], ids=["cnn", "resnet"])
def test_dag_architectures(arch):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (4, arch.n_inputs))
    y = rng.uniform(-1, 1, (4, 1))
    r = solve_continuous(arch, "absolute", x, y, time_limit=1.0)
    assert r.method == "spatial"
    assert check_continuous(r, arch, "absolute", x, y).valid


def test_easy_case_reaches_optimal():
    arch = Architecture.parse("1-1", "relu")  # affine: z = a x + b
    x = np.linspace(-1, 1, 7)[:, None]
    y = 0.3 * x - 0.2
    r = solve_continuous(arch, "quadratic", x, y, gap=1e-3, abs_gap=1e-4, time_limit=20)
    assert r.status == "optimal"
    assert r.objective - r.lower_bound <= max(1e-4, 1e-3 * r.objective) + 1e-9
    assert check_continuous(r, arch, "quadratic", x, y).valid


def tampered(r, **changes):
    p = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in r.proof.items()}
    p.update(changes)
    return dataclasses.replace(r, proof=p)  # the tolerances kept: only the tampering may fail it


def test_tampered_proof_rejected():
    arch = Architecture.parse("1-1-1")
    x, y = issue_data(6)
    r = solve_continuous(arch, "absolute", x, y, method="spatial", time_limit=4)
    assert check_continuous(r, arch, "absolute", x, y).valid
    assert len(r.proof["split_parent"]) > 2
    sv = r.proof["split_value"].copy()
    sv[0] = sv[0] + 0.3
    bad = [
        tampered(r, split_value=sv),
        tampered(r, leaf_id=r.proof["leaf_id"][1:], leaf_bound=r.proof["leaf_bound"][1:]),
        tampered(r, leaf_bound=r.proof["leaf_bound"] + 1.0),
        tampered(r, box=0.5),
    ]
    higher = tampered(r)
    higher.lower_bound = r.objective + 0.1
    bad.append(higher)
    other = tampered(r)
    other.objective = r.objective - 0.01
    bad.append(other)
    moved = tampered(r)
    moved.params = r.params + 0.01
    bad.append(moved)
    for b in bad:
        assert not check_continuous(b, arch, "absolute", x, y).valid
    # replayed on other data the bound does not hold
    assert not check_continuous(r, arch, "absolute", x, y + 0.5).valid or r.lower_bound < 1e-3


def test_proof_file_round_trip_and_checksum(tmp_path):
    arch = Architecture.parse("1-1-1")
    x, y = issue_data(6)
    r = solve_continuous(arch, "quadratic", x, y, method="spatial", time_limit=0.5)
    path = tmp_path / "p.npz"
    save_proof(path, r, arch, "quadratic", x, y)
    r2, problem = load_proof(path)
    assert problem["loss"] == "quadratic" and r2.lower_bound == r.lower_bound
    assert check_continuous(r2, arch, "quadratic", x, y).valid
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError):
        load_proof(path)


def test_bad_inputs():
    arch = Architecture.parse("1-1-1")
    x, y = issue_data(4)
    for kw in ({"box": 0}, {"box": float("nan")}, {"gap": -1}, {"time_limit": 0}, {"method": "x"}):
        with pytest.raises(InputError):
            solve_continuous(arch, "absolute", x, y, **kw)
    with pytest.raises(InputError):
        solve_continuous(arch, "nope", x, y)
    with pytest.raises(InputError):
        solve_continuous(arch, "absolute", x, y[:3])


# -- api.gap and importers -------------------------------------------------------


def test_gap_warns_when_parameters_leave_the_box():
    arch = Architecture.parse("1-1-1")
    x, y = issue_data(6)
    net = Network(arch, [2.5, 0.1, 0.3, -0.1])
    with pytest.warns(api.BoxWarning, match="leave the box"):
        g = api.gap(net, x, y, loss="absolute", time_limit=0.5)
    assert g.report["suggested_box"] == 2.5
    assert "leave the box" in g.report["box_warning"]
    assert abs(g.gap - (g.loss - g.lower_bound)) < 1e-12
    inside = api.gap(net, x, y, loss="absolute", box=2.5, time_limit=0.5)
    assert "box_warning" not in inside.report
    assert inside.lower_bound <= inside.loss and inside.report["objective"] <= inside.loss + 1e-12


def test_suggest_box():
    assert api.suggest_box([0.3, -1.234]) == pytest.approx(1.3)
    assert api.suggest_box([2.0]) == 2.0
    assert api.suggest_box([0.0]) == 1.0


def test_import_torch_round_trip():
    torch = pytest.importorskip("torch")
    from lptrain.continuous.importers import import_network

    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2),
                              torch.nn.LeakyReLU(0.01), torch.nn.Linear(2, 1)).double()
    imp = import_network(seq)
    x = np.random.default_rng(0).uniform(-1, 1, (5, 2))
    want = seq(torch.tensor(x)).detach().numpy()
    assert np.allclose(imp.arch.predict(x, imp.params), want, atol=1e-12)
    with pytest.raises(InputError):
        import_network(torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid()))


def test_import_sklearn_round_trip():
    pytest.importorskip("sklearn")
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from lptrain.continuous.importers import import_network

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (30, 2))
    reg = MLPRegressor(hidden_layer_sizes=(3,), max_iter=50, random_state=0).fit(X, X[:, 0] - X[:, 1])
    imp = import_network(reg)
    assert np.allclose(imp.arch.predict(X, imp.params)[:, 0], reg.predict(X), atol=1e-10)
    lab = np.where(X[:, 0] > 0, "a", "b")
    clf = MLPClassifier(hidden_layer_sizes=(2,), max_iter=50, random_state=0).fit(X, lab)
    imp = import_network(clf)
    z = imp.arch.predict(X, imp.params)
    e = np.exp(z - z.max(1, keepdims=True))
    assert np.allclose(e / e.sum(1, keepdims=True), clf.predict_proba(X), atol=1e-10)
    g = api.gap(clf, X[:6], lab[:6], box=api.suggest_box(imp.params), time_limit=0.3)
    assert g.report["loss"] == "cross_entropy" and g.lower_bound <= g.loss


def test_import_onnx_round_trip(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    from lptrain.continuous.importers import import_network

    rng = np.random.default_rng(0)
    W1, b1 = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 3)
    W2, b2 = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 2)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((W1, "W1"), (b1, "b1"), (W2.T.copy(), "W2"), (b2, "b2"))]
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1),
             helper.make_node("Elu", ["h"], ["a"], alpha=1.0),
             helper.make_node("MatMul", ["a", "W2"], ["m"]),
             helper.make_node("Add", ["m", "b2"], ["y"])]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None, 2])], inits)
    path = tmp_path / "n.onnx"
    onnx.save(helper.make_model(g), str(path))
    imp = import_network(str(path))
    x = rng.uniform(-1, 1, (4, 2))
    h = W1 @ x.T + b1[:, None]
    want = (W2 @ np.where(h > 0, h, np.expm1(np.minimum(h, 0))) + b2[:, None]).T
    assert np.allclose(imp.arch.predict(x, imp.params), want, atol=1e-12)


# -- the command line ------------------------------------------------------------


def write_data(path, x, y):
    with open(path, "w") as fh:
        fh.write("x,y\n")
        for a, b in zip(x[:, 0], y[:, 0]):
            fh.write(f"{float(a)!r},{float(b)!r}\n")
    return path


def test_cli_train_continuous_and_gap(tmp_path, capsys):
    x, y = issue_data(6)
    data = write_data(tmp_path / "d.csv", x, y)
    js, model, proof = tmp_path / "r.json", tmp_path / "m.json", tmp_path / "p.npz"
    rc = main(["train", str(data), "--arch", "1-1-1", "--loss", "absolute", "--continuous",
               "--time-limit", "0.5", "--json", str(js), "--model", str(model), "--proof", str(proof)])
    out, err = capsys.readouterr()
    assert rc in (0, 1), err
    rep = json.loads(js.read_text())
    for k in ("status", "objective", "lower_bound", "gap", "params", "nodes", "solve_seconds",
              "check_seconds", "certificate", "param_names", "box", "method"):
        assert k in rep
    assert rep["certificate"]["valid"] and rep["lower_bound"] <= rep["objective"]
    assert abs(rep["gap"] - (rep["objective"] - rep["lower_bound"])) < 1e-12
    r2, _ = load_proof(proof)
    assert r2.lower_bound == rep["lower_bound"]
    js2 = tmp_path / "g.json"
    rc = main(["gap", str(model), str(data), "--time-limit", "0.5", "--json", str(js2)])
    out, err = capsys.readouterr()
    assert rc == 0 and "lower bound" in out
    g = json.loads(js2.read_text())
    assert g["loss"] == "absolute" and g["lower_bound"] <= g["loss_of_network"] + 1e-12


@pytest.mark.parametrize("argv,msg", [
    (["--continuous", "--bits", "2"], "--bits"),
    (["--continuous", "--box", "-1"], "box"),
    (["--continuous", "--time-limit", "x"], "time-limit"),
    (["--continuous", "--method", "magic"], "method"),
    (["--continuous", "--method", "patterns", "--activation", "tanh"], "patterns"),
    (["--continuous", "--solver", "highs"], "--solver"),
])
def test_cli_error_lines(tmp_path, capsys, argv, msg):
    x, y = issue_data(4)
    data = write_data(tmp_path / "d.csv", x, y)
    js = tmp_path / "r.json"
    rc = main(["train", str(data), "--arch", "1-1-1", "--json", str(js)] + argv)
    out, err = capsys.readouterr()
    assert rc != 0 and err.count("\n") == 1 and msg in err and "Traceback" not in err
    assert not js.exists()


def test_cli_gap_missing_model(tmp_path, capsys):
    x, y = issue_data(4)
    data = write_data(tmp_path / "d.csv", x, y)
    rc = main(["gap", str(tmp_path / "none.json"), str(data)])
    out, err = capsys.readouterr()
    assert rc != 0 and err.count("\n") == 1


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "elu", "tanh", "identity"])
@pytest.mark.parametrize("loss,reg", [("absolute", None), ("quadratic", "l2"), ("hinge", "l1")])
def test_replayed_relaxation_bound_is_valid_for_any_multipliers(act, loss, reg):
    """The checker's Lagrangian bound holds for garbage multipliers as well as the solver's:
    never above the risk of any network in the box."""
    from lptrain.continuous import spatial
    from lptrain.continuous.spatial_lp import Relaxation

    arch = Architecture.parse("1-2-1", act)
    rng = np.random.default_rng(hash((act, loss)) % 2**32)
    x = rng.uniform(-1, 1, (5, 1))
    y = targets(arch, loss, x, rng)
    lam = 0.05 if reg else 0.0
    bnd = spatial._Bounder(arch, loss, x, y, reg, lam)
    rel = Relaxation(arch, loss, x, y, reg, lam)
    for trial in range(4):
        c = rng.uniform(-1, 1, arch.n_params)
        w = rng.uniform(0.01, 0.6, arch.n_params) * 0.4 ** trial
        lo, hi = np.clip(c - w, -1, 1), np.clip(c + w, -1, 1)
        enc = {}
        bnd.outputs(lo[None], hi[None], keep=enc)
        val, mult = rel.bound(lo, hi, {k: tuple(a[0] for a in v) for k, v in enc.items()})
        P = rng.uniform(lo, hi, (3000, arch.n_params))
        best = min(risk(arch, loss, x, y, p, reg, lam) for p in P)
        tries = [mult] if mult is not None else []
        tries += [rng.normal(0, 1, rel.n_rows), rng.exponential(1, rel.n_rows) * (mult if mult is not None else 1)]
        for m in tries:
            got = check_spatial.lagrangian_floor(arch, loss, x, y, reg, lam, lo[None], hi[None], m[None])[0]
            assert got <= best + 1e-12
        if mult is not None:
            got = check_spatial.lagrangian_floor(arch, loss, x, y, reg, lam, lo[None], hi[None], mult[None])[0]
            assert got >= val - 1e-8 * (1 + abs(val))  # the replay reproduces the solver's bound


def test_estimator_continuous():
    pytest.importorskip("sklearn")
    from lptrain.estimators import LPTrainClassifier, LPTrainRegressor

    x, y = issue_data(8)
    est = LPTrainRegressor(arch="1-1-1", loss="absolute", continuous=True, time_limit=0.5).fit(x, y[:, 0])
    assert est.certificate_["valid"] and est.lower_bound_ <= est.objective_
    assert est.predict(x).shape == (8,)
    clf = LPTrainClassifier(arch="n-1-m", loss="hinge", continuous=True, time_limit=0.5)
    clf.fit(x, (y[:, 0] > 0.1).astype(int))
    assert clf.certificate_["valid"] and set(clf.predict(x)) <= {0, 1}


def test_cli_gap_box_warning(tmp_path, capsys):
    x, y = issue_data(5)
    data = write_data(tmp_path / "d.csv", x, y)
    model = tmp_path / "m.json"
    Network(Architecture.parse("1-1-1"), [1.7, -0.2, 0.5, 0.1], info={"loss": "quadratic"}).save(model)
    js = tmp_path / "g.json"
    rc = main(["gap", str(model), str(data), "--time-limit", "0.3", "--json", str(js)])
    out, err = capsys.readouterr()
    assert rc == 0
    warn = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warn) == 1 and "1.7" in warn[0]
    g = json.loads(js.read_text())
    assert g["suggested_box"] == 1.7 and g["loss"] == "quadratic"


def test_proof_io_nested_structures(tmp_path):
    """Any method's proof: nested dicts, lists of arrays, scalars survive the file."""
    from lptrain.continuous import proofio
    from lptrain.continuous.result import ContinuousResult

    proof = {"format": "x", "n": np.int64(3), "leaves": [np.arange(3), np.ones((2, 2))],
             "sub": {"a": np.zeros(2), "b": 1.5, "names": ["u", "v"]}}
    r = ContinuousResult("optimal", 1.0, 0.5, np.zeros(2), 3, 0.1, "patterns", proof)
    proofio.save(tmp_path / "p.npz", r, {"loss": "absolute"})
    r2, prob = proofio.load(tmp_path / "p.npz")
    assert r2.proof["n"] == 3 and r2.proof["sub"]["b"] == 1.5 and r2.proof["sub"]["names"] == ["u", "v"]
    assert np.array_equal(r2.proof["leaves"][1], np.ones((2, 2))) and len(r2.proof["leaves"]) == 2


def test_local_descent_stops_at_the_deadline():
    """The incumbent's local descent obeys the time limit (it ran minutes past a 2 s limit on
    1-40-40-1): with the deadline already passed it evaluates the risk only a few times."""
    import time

    from lptrain.continuous import spatial

    arch = Architecture.parse("1-6-6-1")
    x, y = issue_data(6)
    calls = []
    r0 = spatial._Risk(arch, "absolute", x, y, None, 0.0)

    def counted(p):
        calls.append(1)
        return r0(p)

    x0 = np.full(arch.n_params, 0.3)
    xb, fb = spatial.local_descent(counted, x0, 1.0, polish=True, deadline=time.perf_counter() - 1)
    assert len(calls) <= 3
    assert np.all(np.abs(xb) <= 1) and fb == pytest.approx(r0(xb[None])[0])


def test_strong_branching_batch_fits_memory():
    """The (k, N, 2, N) strong-branching arrays are sized from ``memory``, and a net whose single
    box already exceeds it is refused before anything is allocated."""
    from lptrain.continuous import spatial
    from lptrain.exceptions import SizeError

    assert spatial.branch_batch(2000, 32, 2 << 30) * 32 * 2000 ** 2 <= 2 << 30
    assert spatial.branch_batch(10, 32, 2 << 30) == 32
    arch = Architecture.parse("1-200-200-1")
    x, y = issue_data(4)
    with pytest.raises(SizeError):
        solve_continuous(arch, "absolute", x, y, method="spatial", time_limit=1)


@pytest.mark.parametrize("method,spec", [("spatial", "1-1-1"), ("patterns", "1-2-1")])
@pytest.mark.parametrize("field,value", [("lower_bound", np.nan), ("objective", np.nan),
                                         ("params", np.nan), ("params", None)])
def test_non_finite_numbers_are_never_certified(method, spec, field, value):
    """NaN fails every comparison: a result whose bound, objective or parameters are NaN (or
    whose parameters have the wrong shape) must be rejected, not replayed as valid."""
    import copy

    arch = Architecture.parse(spec, "tanh" if method == "spatial" else "relu")
    x, y = issue_data(6)
    r = solve_continuous(arch, "absolute", x, y, method=method, time_limit=1)
    assert check_continuous(r, arch, "absolute", x, y).valid
    bad = copy.deepcopy(r)
    if field == "params":
        bad.params = np.full(arch.n_params, np.nan) if value is not None else r.params[:-1]
    else:
        setattr(bad, field, value)
    assert not check_continuous(bad, arch, "absolute", x, y).valid


def test_random_cloud_obeys_the_time_limit(monkeypatch):
    """The 512-point random cloud for the first incumbent is evaluated in chunks that stop at
    the time limit (on 10^5 points it took 25 s past a 3 s limit)."""
    from lptrain.continuous import spatial

    rows = []
    orig = spatial._Risk.__call__

    def counted(self, params):
        rows.append(len(np.atleast_2d(params)))
        return orig(self, params)

    monkeypatch.setattr(spatial._Risk, "__call__", counted)
    arch = Architecture.parse("1-2-1", "tanh")
    x, y = issue_data(20)
    r = spatial.solve(arch, "absolute", x, y, time_limit=1e-6)
    assert r.status == "time_limit"
    assert sum(rows) < 256
    assert check_continuous(r, arch, "absolute", x, y).valid


def _onnx_chain(tmp_path, name, nodes, inits):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
                          [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in inits.items()])
    path = tmp_path / f"{name}.onnx"
    onnx.save(helper.make_model(g), str(path))
    return path


def test_onnx_follows_the_data_flow(tmp_path):
    """A Relu whose output no layer reads does not act: the net is affine, and importing it as a
    ReLU net reported a wrong loss.  The importer follows tensor names or refuses."""
    pytest.importorskip("onnx")
    from onnx import helper

    from lptrain.continuous.importers import from_onnx

    inits = dict(W1=[[0.5], [-0.3]], b1=[0.1, 0.2], W2=[[0.7, -0.4]], b2=[0.05])
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["h", "W2", "b2"], ["y"], transB=1)]
    with pytest.raises(InputError):
        from_onnx(_onnx_chain(tmp_path, "skip", nodes, inits))
    nodes[2] = helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], transB=1)
    imp = from_onnx(_onnx_chain(tmp_path, "ok", nodes, inits))
    x = np.linspace(-1, 1, 5)[:, None]
    h = np.maximum(x @ np.array([[0.5, -0.3]]) + [0.1, 0.2], 0)
    assert np.allclose(imp.arch.predict(x, imp.params), h @ np.array([[0.7], [-0.4]]) + 0.05, atol=1e-6)


def test_onnx_gemm_bias_of_shape_1_by_out(tmp_path):
    """Gemm's C broadcasts: a (1, out) bias is valid ONNX and must import (it raised ValueError)."""
    pytest.importorskip("onnx")
    from onnx import helper

    from lptrain.continuous.importers import from_onnx

    inits = dict(W1=[[0.5], [-0.3]], b1=[[0.1, 0.2]], W2=[[0.7, -0.4]], b2=[[0.05]])
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], transB=1)]
    imp = from_onnx(_onnx_chain(tmp_path, "b2d", nodes, inits))
    assert np.allclose(imp.params, [0.5, 0.1, -0.3, 0.2, 0.7, -0.4, 0.05], atol=1e-7)


@pytest.mark.parametrize("spec,act,loss", [("1-2-1", "relu", "absolute"), ("1-1-1", "tanh", "quadratic")])
def test_check_proof_command(tmp_path, capsys, spec, act, loss):
    """`lptrain check-proof` replays a saved proof on its data; other data is refused in one
    line; a proof whose lower bound was raised (checksum recomputed) replays invalid."""
    from lptrain.continuous import proofio

    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 8)
    y = np.clip(0.7 * np.sin(2 * x) + rng.normal(0, 0.05, 8), -1, 1)
    data, other = tmp_path / "d.csv", tmp_path / "e.csv"
    data.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)))
    other.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b) + 0.01!r}\n" for a, b in zip(x, y)))
    proof, out = tmp_path / "p.npz", tmp_path / "c.json"
    assert main(["train", str(data), "--arch", spec, "--activation", act, "--loss", loss, "--continuous",
                 "--time-limit", "5", "--proof", str(proof)]) in (0, 1)
    capsys.readouterr()
    assert main(["check-proof", str(proof), str(data), "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["valid"] and rep["lower_bound"] <= rep["objective"]
    assert main(["check-proof", str(proof), str(other)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "other data" in err[0]
    res, problem = load_proof(str(proof))
    res.lower_bound = res.objective + 1e-3
    proofio.save(str(proof), res, problem)
    assert main(["check-proof", str(proof), str(data)]) == 1
    assert "INVALID" in capsys.readouterr().out
