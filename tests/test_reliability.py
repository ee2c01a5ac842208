"""Issue 8: solvers that never disagree, inputs that never crash, files that never half-exist."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lptrain import api
from lptrain.arch import Architecture
from lptrain.architectures import conv1d
from lptrain.certificate import check
from lptrain.data import make_dataset, read_table
from lptrain.exceptions import FileFormatError, InputError, LPTrainError, RoundingWarning
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.network import Network
from lptrain.polytope import Polytope
from lptrain.solvers import get_solver, installed_solvers
from oracle import brute_force_dag

# -- 1. cross-solver agreement on random small problems -------------------------------------

SKIP = {"inputs": 1, "nodes": [
    {"name": "h", "from": ["x1"], "weights": ["a"], "bias": "b", "activation": "relu"},
    {"name": "o1", "from": ["h", "x1"], "weights": ["c", "s"]}], "outputs": ["o1"]}
SHAPES = [("1-1", 2), ("1-1-1", 1), ("1-1-1", 2), ("2-1-1", 1), ("1-2-1", 1), ("1-1-2", 1),
          ("1-2", 2), ("2-1", 2), ("conv", 1), ("skip", 1), ("skip", 2)]
N_CASES = int(os.environ.get("LPTRAIN_PROPERTY_CASES", "100"))


def make_case(i):
    rng = np.random.default_rng(7919 * i)
    shape, bits = SHAPES[rng.integers(len(SHAPES))]
    act = ["relu", "leaky_relu", "elu", "tanh"][rng.integers(4)]
    if shape == "conv":
        spec = conv1d(3, 2, activation=act).dag_dict()
    elif shape == "skip":
        spec = json.loads(json.dumps(SKIP))
        spec["nodes"][0]["activation"] = act
    else:
        spec = Architecture.parse(shape, act).dag_dict()
    arch = Architecture.from_dict(spec)
    loss = ["absolute", "quadratic", "hinge", "cross_entropy"][rng.integers(4)]
    D = int(rng.integers(1, 21))
    n, m = arch.n_inputs, arch.n_outputs
    g = Grid(bits).values()
    x = rng.uniform(-1, 1, (D, n))
    y = rng.uniform(-1, 1, (D, m))
    kind = rng.integers(4)
    if kind == 1:  # duplicates
        x[:] = x[rng.integers(0, D, D)]
    elif kind == 2:  # exactly on grid values, and the ends of the range
        x = rng.choice(np.append(g, 1.0), (D, n))
        y = rng.choice(np.append(g, [1.0, -1.0]), (D, m))
    elif kind == 3:
        x[0] = 1.0
        y[-1] = -1.0
    return spec, loss, bits, x, y


def _agree(i):
    spec, loss, bits, x, y = make_case(i)
    ref = brute_force_dag(spec, loss, bits, x.tolist(), y.tolist())
    P = Polytope(Architecture.from_dict(spec), loss, Grid(bits), len(x))
    face = Face(P, x, y)
    for name in [s for s in installed_solvers() if s != "dask"]:  # dask: tests/test_distributed.py
        sol = get_solver(name).solve(face, 1 << 30)
        assert abs(sol.objective - ref) <= 1e-9 * (1 + abs(ref)), (i, name, sol.objective, ref)
        cert = check(face, sol, 1 << 30)
        assert cert.valid, (i, name, cert)


@pytest.mark.parametrize("i", range(N_CASES))
def test_every_solver_equals_brute_force(i):
    _agree(i)


@pytest.mark.slow
@pytest.mark.parametrize("i", range(N_CASES, N_CASES + 1000))
def test_every_solver_equals_brute_force_long(i):
    _agree(i)


# -- 2. rounding that destroys information is reported -------------------------------------


def test_one_bit_one_hot_targets_vanish_and_are_reported(rng):
    x = rng.uniform(-1, 1, (10, 1))
    y = np.eye(2)[rng.integers(0, 2, 10)]
    ds = make_dataset(np.column_stack([x, y]), 1)
    with pytest.warns(RoundingWarning, match="maps every target to one value.*2 bits keep them apart"):
        rep = api.train(ds, "1-2", loss="cross_entropy", bits=1).report
    assert any("maps every target to one value" in w and "2 bits keep them apart" in w for w in rep["warnings"])


def test_no_warnings_when_nothing_is_lost():
    g = Grid(2).values()
    x = np.array([[g[0]], [g[1]], [g[2]]])
    y = np.array([[g[3]], [g[1]], [g[0]]])
    ds = make_dataset(np.column_stack([x, y]), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoundingWarning)
        rep = api.train(ds, "1-1", bits=2).report
    assert rep["warnings"] == [] and rep["notes"] == []


def test_many_inputs_merged_is_a_note_not_a_warning(rng):
    x = rng.uniform(0.01, 0.2, (30, 1))
    ds = make_dataset(np.column_stack([x, np.zeros((30, 1))]), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoundingWarning)
        rep = api.train(ds, "1-1", bits=2).report
    assert rep["warnings"] == [] and any("distinct inputs into 1" in s for s in rep["notes"])


# -- 3. parsers that cannot be crashed --------------------------------------------------------

FUZZ = settings(max_examples=int(os.environ.get("LPTRAIN_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_fuzz_csv(tmp_path, blob):
    p = tmp_path / "f.csv"
    p.write_bytes(blob)
    try:
        header, table = read_table(p, accept={1, 2, 3})
        assert table.ndim == 2 and np.all(np.isfinite(table))
    except InputError as e:
        assert "\n" not in str(e) and str(p) in str(e)


csv_cells = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=5),
                      st.sampled_from(["", "1e999", "-0", "0x10", " 0.5 ", "nan", "1,2"]))


@FUZZ
@given(st.lists(st.lists(csv_cells, min_size=0, max_size=4), max_size=6))
def test_fuzz_csv_structured(tmp_path, rows):
    p = tmp_path / "g.csv"
    p.write_text("a,b\n" + "\n".join(",".join(r) for r in rows))
    try:
        header, table = read_table(p, 2)
        make_dataset(table, 1, header)
    except InputError as e:
        assert "\n" not in str(e)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats() | st.text(max_size=6),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=20)
arch_like = st.fixed_dictionaries(
    {"inputs": st.integers(-2, 4) | json_values,
     "nodes": st.lists(st.fixed_dictionaries(
         {"name": st.sampled_from(["h", "o", "x1", ""]) | json_values,
          "from": st.lists(st.sampled_from(["x1", "x2", "h", "o", "zz"]), max_size=3) | json_values,
          "weights": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3) | json_values},
         optional={"bias": st.sampled_from(["a", "d"]) | json_values,
                   "activation": st.sampled_from(["relu", "tanh", "bogus"]) | json_values}), max_size=4),
     "outputs": st.lists(st.sampled_from(["o", "h", "q"]), max_size=2) | json_values})


@FUZZ
@given(arch_like | json_values | st.fixed_dictionaries({"layers": json_values, "activation": json_values}))
@example({"inputs": 1, "nodes": [{"name": "h", "from": True, "weights": []}], "outputs": []})
def test_fuzz_architecture(spec):
    try:
        a = Architecture.from_dict(spec)
        a.forward(np.zeros((1, a.n_inputs)), np.zeros((1, a.n_params)))
    except InputError as e:
        assert "\n" not in str(e)


@pytest.fixture(scope="module")
def good_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    P = Polytope(Architecture.parse("1-1-1"), "absolute", Grid(1), 2).build()
    P.save(d / "P.npz")
    Network(Architecture.parse("1-1-1"), [0.5, 0, -0.5, 0]).save(d / "m.json")
    return (d / "P.npz").read_bytes(), (d / "m.json").read_bytes()


@FUZZ
@given(st.data())
def test_fuzz_polytope_and_model_files(tmp_path, good_files, data):
    for raw, loader, err in ((good_files[0], Polytope.load, FileFormatError),
                             (good_files[1], Network.load, FileFormatError)):
        how = data.draw(st.sampled_from(["truncate", "flip", "random", "splice"]))
        b = bytearray(raw)
        if how == "truncate":
            b = b[: data.draw(st.integers(0, len(b) - 1))]
        elif how == "flip":
            for _ in range(data.draw(st.integers(1, 5))):
                i = data.draw(st.integers(0, len(b) - 1))
                b[i] ^= 1 << data.draw(st.integers(0, 7))
        elif how == "random":
            b = bytearray(data.draw(st.binary(max_size=300)))
        else:
            i = data.draw(st.integers(0, len(b)))
            b = b[:i] + data.draw(st.binary(min_size=1, max_size=50)) + b[i:]
        p = tmp_path / "f.bin"
        p.write_bytes(bytes(b))
        try:
            got = loader(p)
        except err as e:
            assert "\n" not in str(e) and str(p) in str(e)
            continue
        # only an alteration that leaves the checksummed content intact may load
        q = tmp_path / "orig.bin"
        q.write_bytes(raw)
        ref = loader(q)
        if isinstance(ref, Polytope):
            assert got.meta() == ref.meta() and np.array_equal(got.table, ref.table)
        else:
            assert got.to_dict() == ref.to_dict()


@FUZZ
@given(json_values)
def test_fuzz_model_json_content(tmp_path, content):
    import hashlib

    body = {"format": "lptrain-model", "version": 1, "architecture": content, "param_names": [],
            "params": content, "scaling": content, "info": {}}
    body["checksum"] = hashlib.sha256(json.dumps({k: v for k, v in body.items()}, sort_keys=True).encode()).hexdigest()
    p = tmp_path / "m.json"
    try:
        p.write_text(json.dumps(body))
    except ValueError:
        return
    try:
        Network.load(p)
    except LPTrainError as e:
        assert "\n" not in str(e)


# -- 4. files are whole or absent -------------------------------------------------------------


def test_sigkill_during_build_leaves_no_file_or_the_previous_one(tmp_path):
    target = tmp_path / "P.npz"
    cmd = [sys.executable, "-m", "lptrain.cli", "build", "--arch", "2-1-1", "--bits", "3", "--samples", "5",
           "--out", str(target)]
    previous = None
    for delay in (0.05, 0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 3.0):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if target.exists():
            P = Polytope.load(target)  # whole, or this raises
            assert P.samples == 5
            data = target.read_bytes()
            if previous is not None:
                assert data == previous  # deterministic builds: the same complete file
            previous = data
    assert not [f for f in os.listdir(tmp_path) if not f.startswith(".tmp-") and f != "P.npz"]


# -- 5. resources -----------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_memory_limit_bounds_peak_rss(tmp_path, rng):
    """A face whose loss table is ~1 GiB is solved in blocks under --memory 300M.

    Peak RSS is VmHWM of the child's own address space (ru_maxrss would carry the
    pytest parent's high-water mark across fork+exec on Linux).
    """
    x = np.linspace(-1, 1, 64)
    y = rng.uniform(-1, 1, 64)
    d = tmp_path / "d.csv"
    d.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y)))
    code = (
        "import re, sys; from lptrain.cli import main; "
        "rc = main(sys.argv[1:]); "
        "print('RSS', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); sys.exit(rc)"
    )
    r = subprocess.run([sys.executable, "-c", code, "train", str(d), "--arch", "1-2-1", "--bits", "3",
                        "--loss", "absolute", "--memory", "300M", "--json", str(tmp_path / "o.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rss_kib = int(r.stdout.strip().split("RSS")[-1])
    rep = json.loads((tmp_path / "o.json").read_text())
    table_bytes = rep["distinct_points"] * rep["grid_points"] * 8
    assert table_bytes > 300 << 20  # without chunking it would not fit
    assert rss_kib * 1024 < 300 << 20
    assert rep["certificate"]["valid"] and rep["certificate"]["method"] == "implicit"


def test_refused_before_allocation_names_size(tmp_path, rng):
    x = rng.uniform(-1, 1, (30, 1))
    ds = make_dataset(np.column_stack([x, x]), 1)
    with pytest.raises(LPTrainError, match="too large.*variables"):
        api.train(ds, "1-2-1", bits=3, solver="highs", memory=50 << 20)


# -- 6. determinism ---------------------------------------------------------------------------

TIMING = {"solve_seconds", "build_seconds", "check_seconds"}


@pytest.mark.parametrize("solver", ["highs", "structured"])
def test_same_inputs_same_json(tmp_path, solver, rng):
    from lptrain.cli import main

    d = tmp_path / "d.csv"
    d.write_text("a,b,y\n" + "".join(f"{u},{v},{w}\n" for u, v, w in rng.uniform(-1, 1, (15, 3))))
    outs = []
    for k in range(2):
        assert main(["train", str(d), "--arch", "2-1-1", "--bits", "2", "--solver", solver,
                     "--json", str(tmp_path / f"{k}.json"), "--model", str(tmp_path / f"{k}.m")]) == 0
        rep = json.loads((tmp_path / f"{k}.json").read_text())
        outs.append({k2: v for k2, v in rep.items() if k2 not in TIMING and k2 != "model"})
    assert outs[0] == outs[1]
    assert (tmp_path / "0.m").read_bytes() == (tmp_path / "1.m").read_bytes()
