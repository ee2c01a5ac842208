"""Issue 4: DAG files, shared weights, skips, Lemma 4.5, Table 1, Thm 6.2, Lemma 3.5."""

import json
import math

import numpy as np
import pytest

from lptrain import api
from lptrain.arch import Architecture
from lptrain.architectures import conv1d, resnet
from lptrain.cli import main
from lptrain.data import make_dataset
from lptrain.exceptions import InputError
from lptrain.grid import Grid
from lptrain.lipschitz import architecture_lipschitz
from lptrain.losses import get_loss
from lptrain.table1 import paper_lipschitz, sample_size, table1
from oracle import brute_force, brute_force_dag, dag_param_names

SMALL_RESNET = {"inputs": 1, "nodes": [
    {"name": "h1", "from": ["x1"], "weights": ["a"], "bias": "b", "activation": "relu"},
    {"name": "h2", "from": ["h1", "x1"], "weights": ["c", "s"], "bias": "d", "activation": "relu"},
    {"name": "o1", "from": ["h2", "h1"], "weights": ["e", "t"], "bias": "f"}], "outputs": ["o1"]}


def train_dag(spec, loss, bits, x, y, solver="auto"):
    arch = Architecture.from_dict(spec)
    ds = make_dataset(np.column_stack([x, y]), arch.n_inputs)
    return api.train(ds, arch, loss=loss, bits=bits, solver=solver)


CASES = [
    ("resnet-skip", SMALL_RESNET, "absolute", 1, 1),
    ("conv1d-shared", conv1d(3, 2).dag_dict(), "quadratic", 1, 1),
    ("conv1d-2ch", conv1d(3, 2, channels=2, stride=1, activation="tanh").dag_dict(), "hinge", 1, 1),
    ("leaky", Architecture.parse("1-2-1", "leaky_relu").dag_dict(), "absolute", 1, 1),
    ("elu", Architecture.parse("1-1-1", "elu").dag_dict(), "quadratic", 2, 1),
    ("tanh", Architecture.parse("2-1-1", "tanh").dag_dict(), "hinge", 1, 1),
    ("ce-m2", Architecture.parse("1-1-2").dag_dict(), "cross_entropy", 1, 2),
    ("ce-m3", Architecture.parse("1-3").dag_dict(), "cross_entropy", 1, 3),
    ("hinge-m2", Architecture.parse("1-2").dag_dict(), "hinge", 2, 2),
]


@pytest.mark.parametrize("name,spec,loss,bits,m", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("seed", range(2))
def test_train_matches_brute_force(name, spec, loss, bits, m, seed):
    rng = np.random.default_rng(seed)
    D = int(rng.integers(2, 10))
    n = spec["inputs"]
    x = rng.uniform(-1, 1, (D, n))
    if loss == "cross_entropy":
        y = np.eye(m)[rng.integers(0, m, D)] * 0.999  # near one-hot
    else:
        y = rng.uniform(-1, 1, (D, m))
    ref = brute_force_dag(spec, loss, bits, x.tolist(), y.tolist())
    for solver in ("highs", "structured"):
        res = train_dag(spec, loss, bits, x, y, solver)
        assert res.report["objective"] == pytest.approx(ref, rel=1e-9, abs=1e-12)
        assert res.certificate.valid
        assert res.report["param_names"] == dag_param_names(spec)


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_regularizers_through_train(reg, rng):
    x, y = rng.uniform(-1, 1, (8, 1)), rng.uniform(-1, 1, (8, 1))
    ds = make_dataset(np.column_stack([x, y]), 1)
    res = api.train(ds, "1-1-1", loss="absolute", bits=2, reg=reg, lam=0.1)
    ref, params = brute_force((1, 1, 1), "relu", "absolute", 2, x.tolist(), y.tolist(), reg, 0.1)
    assert res.report["objective"] == pytest.approx(ref, rel=1e-9)
    # the constant includes lam R (Def. B.1): lam N for l1, 2 lam N for l2
    base = architecture_lipschitz(Architecture.parse("1-1-1"), get_loss("absolute")).value
    assert res.report["lipschitz"] == pytest.approx(base + {"l1": 1, "l2": 2}[reg] * 0.1 * 4)


def test_layered_and_its_dag_file_are_the_same_network(rng):
    lay = Architecture.parse("2-2-1", "tanh")
    dag = Architecture.from_dict(lay.dag_dict())
    assert dag.param_names == lay.param_names
    for loss in ("absolute", "quadratic", "hinge", "cross_entropy"):
        assert architecture_lipschitz(dag, get_loss(loss)).value == architecture_lipschitz(lay, get_loss(loss)).value
    x = rng.uniform(-1, 1, (7, 2))
    phi = rng.uniform(-1, 1, (5, lay.n_params))
    assert np.array_equal(lay.forward(x, phi), dag.forward(x, phi))


def test_resnet_lipschitz_uses_in_degree():
    a = Architecture.from_dict(SMALL_RESNET)
    assert a.max_in_degree == 2 and a.kind == "ResNet" and a.depth == 3
    # by hand: U_h1 = 2, K_h1 = 3; h2 reads h1, x1: U = 2+1+1 = 4, K = (3+2)+(1+1)+1 = 8;
    # o1 reads h2, h1: U = 4+2+1 = 7, K = (8+4)+(3+2)+1 = 18; absolute: 2m = 2
    assert architecture_lipschitz(a, get_loss("absolute")).value == 2 * 18


@pytest.mark.parametrize("arch", [conv1d(4, 2, channels=2), resnet([2, 2, 2, 1], "elu"),
                                  Architecture.from_dict(SMALL_RESNET)], ids=["conv", "resnet", "small"])
@pytest.mark.parametrize("loss", ["absolute", "quadratic", "hinge", "cross_entropy"])
def test_dag_constant_is_a_true_bound(arch, loss, rng):
    lo = get_loss(loss)
    L = architecture_lipschitz(arch, lo).value
    P = 3000
    n, m, N = arch.n_inputs, arch.n_outputs, arch.n_params
    worst = 0.0
    for scale in (2.0, 0.01):
        x, y, phi = rng.uniform(-1, 1, (P, n)), rng.uniform(-1, 1, (P, m)), rng.uniform(-1, 1, (P, N))
        phi[: P // 2] = np.sign(phi[: P // 2])
        x2 = np.clip(x + rng.uniform(-scale, scale, x.shape), -1, 1)
        y2 = np.clip(y + rng.uniform(-scale, scale, y.shape), -1, 1)
        p2 = np.clip(phi + rng.uniform(-scale, scale, phi.shape), -1, 1)
        f1 = np.array([lo.evaluate(arch.predict(x[i:i + 1], phi[i]), y[i:i + 1])[0] for i in range(P)])
        f2 = np.array([lo.evaluate(arch.predict(x2[i:i + 1], p2[i]), y2[i:i + 1])[0] for i in range(P)])
        d = np.max(np.abs(np.concatenate([x - x2, y - y2, phi - p2], 1)), 1)
        worst = max(worst, float((np.abs(f1 - f2) / d).max()))
    assert worst <= L


@pytest.mark.parametrize("seed", range(4))
def test_lemma_3_5_within_two_epsilon_of_a_finer_grid(seed):
    """Training loss of the LP's network vs the best of a much finer grid, on the original data."""
    rng = np.random.default_rng(seed)
    D = 12
    x = rng.uniform(-1, 1, (D, 1))
    y = np.clip(0.5 * x - 0.2 + rng.normal(0, 0.1, (D, 1)), -1, 1)
    loss = ["absolute", "quadratic"][seed % 2]
    ds = make_dataset(np.column_stack([x, y]), 1)
    res = api.train(ds, "1-1", loss=loss, bits=3)
    eps = res.report["epsilon"]
    arch = Architecture.parse("1-1")
    fine = Grid(9).values()
    A, B = np.meshgrid(fine, fine, indexing="ij")
    phi = np.column_stack([A.ravel(), B.ravel()])
    z = arch.forward(x, phi)
    best_fine = get_loss(loss).evaluate(z, y[None]).mean(axis=1).min()
    assert res.report["train_loss"] <= best_fine + 2 * eps


MALFORMED = [
    ({"inputs": 1, "nodes": [{"name": "h", "from": ["h2"], "weights": ["a"], "bias": "b"},
                             {"name": "h2", "from": ["h"], "weights": ["c"]}], "outputs": ["h2"]},
     "not an input or an earlier node"),
    ({"inputs": 1, "nodes": [{"name": "o", "from": ["x9"], "weights": ["a"]}], "outputs": ["o"]}, "'x9'"),
    ({"inputs": 1, "nodes": [{"name": "o", "from": ["x1"], "weights": ["a"], "activation": "relu"}],
      "outputs": ["o"]}, "has an activation"),
    ({"inputs": 1, "nodes": [{"name": "o", "from": ["x1"], "weights": ["a"]},
                             {"name": "o", "from": ["x1"], "weights": ["b"]}], "outputs": ["o"]}, "duplicate"),
    ({"inputs": 1, "nodes": [{"name": "o", "from": ["x1"], "weights": ["a"]}], "outputs": ["z"]}, "not a node"),
    ({"inputs": 1, "nodes": [{"name": "o", "from": ["x1"], "weights": ["a", "b"]}], "outputs": ["o"]}, "weights"),
    ({"inputs": 0, "nodes": [], "outputs": []}, "inputs"),
    ({"nodes": []}, "missing the field"),
    ([1, 2], "JSON object"),
]


@pytest.mark.parametrize("spec,msg", MALFORMED)
def test_malformed_architecture_files(spec, msg, tmp_path, capsys):
    with pytest.raises(InputError, match=msg):
        Architecture.from_dict(spec)
    f = tmp_path / "a.json"
    f.write_text(json.dumps(spec))
    d = tmp_path / "d.csv"
    d.write_text("x,y\n0.1,0.2\n")
    rc = main(["train", str(d), "--arch", str(f)])
    err = capsys.readouterr().err
    assert rc != 0 and len(err.strip().splitlines()) == 1 and "a.json" in err


def test_arch_helpers_cli(tmp_path, capsys):
    out = tmp_path / "conv.json"
    assert main(["arch", "conv1d", "--inputs", "5", "--kernel", "2", "--channels", "1", "--out", str(out),
                 "--json", str(tmp_path / "i.json")]) == 0
    a = Architecture.from_dict(json.loads(out.read_text()))
    assert a.kind == "CNN" and a.n_params == 3 + 5 and a.n_edges == 4 * 2 + 4
    info = json.loads((tmp_path / "i.json").read_text())
    assert info["parameters"] == 8
    out2 = tmp_path / "res.json"
    assert main(["arch", "resnet", "--widths", "2-2-2-1", "--out", str(out2)]) == 0
    r = Architecture.from_dict(json.loads(out2.read_text()))
    assert r.kind == "ResNet" and r.max_in_degree == 3


def test_table1_numbers_by_hand():
    a = Architecture.parse("2-3-1")
    t = table1(a, 0.5, 1000)
    assert (t["n"], t["m"], t["N"], t["k"], t["w"]) == (2, 1, 13, 2, 3)
    assert t["rows"][0]["value"] == pytest.approx((1 * 3 ** 4 / 0.5) ** 16 * 1000)
    ab = t["sizes"][0]
    # paper's constant: L_inf = 2m = 2, U_2 = 1 + 3 + 9; prod (2 + 6) (2 + 6 + 18)
    assert ab["paper_lipschitz"] == 2 * 8 * 26
    assert ab["paper_bound"] == pytest.approx(4 * 1000 * (2 * 416 / 0.5) ** 16)
    bits = math.ceil(math.log2(2 * ab["lipschitz"] / 0.5))
    assert ab["bits"] == bits and ab["bound_variables"] == 4 * 1000 * (2**bits) ** 16
    assert ab["variables"] <= ab["bound_variables"] and paper_lipschitz(a, get_loss("absolute")) == 416


def test_sample_size_by_hand(capsys, tmp_path):
    a = Architecture.parse("1-2-1")
    r = sample_size(a, "absolute", 0.5, 0.05)
    L = architecture_lipschitz(a, get_loss("absolute")).value
    U = 5.0  # output bound of 1-2-1
    sigma2 = (1 * (U + 1)) ** 2 / 4
    D = math.ceil(4 * sigma2 / 0.25 * (7 * math.log(2 * L / 0.5) + math.log(1 / 0.05)))
    assert r["samples"] == D and r["sigma2"] == sigma2
    r2 = sample_size(a, "absolute", 0.5, 0.05, sigma2=0.1)
    assert r2["samples"] == math.ceil(4 * 0.1 / 0.25 * (7 * math.log(2 * L / 0.5) + math.log(20)))
    assert main(["sample-size", "--arch", "1-2-1", "--loss", "absolute", "--epsilon", "0.5", "--alpha",
                 "0.05", "--json", str(tmp_path / "s.json")]) == 0
    js = json.loads((tmp_path / "s.json").read_text())
    assert {"samples", "variables", "constraints", "sigma2", "lipschitz"} <= set(js) and js["samples"] == D
    assert main(["sample-size", "--arch", "1-2-1", "--epsilon", "0.5", "--alpha", "2"]) != 0
