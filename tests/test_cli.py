"""The command line: results, files, and one clear line for every bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lptrain.cli import main
from lptrain.network import Network
from oracle import brute_force


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def write_csv(path, header, rows):
    with open(path, "w") as fh:
        fh.write(",".join(header) + "\n")
        for r in rows:
            fh.write(",".join(str(v) for v in r) + "\n")
    return path


@pytest.fixture
def data(tmp_path, rng):
    x = rng.uniform(-1, 1, 12)
    y = rng.uniform(-1, 1, 12)
    return write_csv(tmp_path / "d.csv", ["x", "y"], zip(x, y)), x, y


JSON_FIELDS = {"objective", "params", "train_loss", "epsilon", "lipschitz", "bits", "status",
               "certificate", "polytope", "warnings"}
SIZE_FIELDS = {"variables", "constraints", "nonzeros", "evaluations", "bound_variables",
               "bound_constraints", "memory_bytes"}


def test_demo(capsys, tmp_path):
    rc, out, err = run(capsys, "demo", "--json", tmp_path / "d.json")
    assert rc == 0
    assert "network:" in out and "o1" in out and "certificate: valid" in out
    rep = json.loads((tmp_path / "d.json").read_text())
    assert JSON_FIELDS <= set(rep) and rep["status"] == "optimal"


def test_build_then_solve_many_datasets(capsys, tmp_path, rng):
    P = tmp_path / "P.npz"
    rc, out, _ = run(capsys, "build", "--arch", "1-1-1", "--loss", "absolute", "--bits", "2",
                     "--samples", "12", "--out", P, "--json", tmp_path / "b.json")
    assert rc == 0 and P.exists()
    b = json.loads((tmp_path / "b.json").read_text())
    assert SIZE_FIELDS <= set(b) and b["evaluations"] == 4**6
    for k in range(3):
        x, y = rng.uniform(-1, 1, 12), rng.uniform(-1, 1, 12)
        d = write_csv(tmp_path / f"d{k}.csv", ["x", "y"], zip(x, y))
        for solver in ("highs", "structured"):
            js = tmp_path / f"s{k}{solver}.json"
            rc, out, _ = run(capsys, "solve", P, d, "--solver", solver, "--json", js)
            assert rc == 0
            rep = json.loads(js.read_text())
            assert JSON_FIELDS <= set(rep) and SIZE_FIELDS - {"memory_bytes"} <= set(rep["polytope"])
            ref, _ = brute_force((1, 1, 1), "relu", "absolute", 2, x[:, None].tolist(), y[:, None].tolist())
            assert rep["objective"] == pytest.approx(ref, rel=1e-9)
            assert rep["certificate"]["valid"] and rep["solver"] == solver


def test_train_model_predict_roundtrip(capsys, tmp_path, data):
    path, x, y = data
    model = tmp_path / "m.json"
    rc, out, _ = run(capsys, "train", path, "--arch", "1-2-1", "--bits", "1", "--model", model,
                     "--json", tmp_path / "t.json")
    assert rc == 0
    rep = json.loads((tmp_path / "t.json").read_text())
    net = Network.load(model)
    assert np.allclose(net.params, rep["params"])
    z = net.predict(x[:, None])
    assert rep["train_loss"] == pytest.approx(float(((z[:, 0] - y) ** 2).mean()))
    rc, out, _ = run(capsys, "predict", model, path, "--out", tmp_path / "p.csv", "--json", tmp_path / "p.json")
    assert rc == 0
    pj = json.loads((tmp_path / "p.json").read_text())
    assert np.allclose(np.array(pj["predictions"])[:, 0], z[:, 0])
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "x,o1" and len(lines) == 13


def test_scale_roundtrip(capsys, tmp_path, rng):
    x = rng.uniform(10, 50, 15)
    y = 3 * x + 7 + rng.normal(0, 1, 15)
    d = write_csv(tmp_path / "raw.csv", ["x", "y"], zip(x, y))
    rc, _, err = run(capsys, "train", d, "--arch", "1-1", "--bits", "1")
    assert rc != 0 and "--scale" in err
    rc, _, _ = run(capsys, "train", d, "--arch", "1-1", "--bits", "3", "--scale", "--model", tmp_path / "m.json")
    assert rc == 0
    net = Network.load(tmp_path / "m.json")
    pred = net.predict(x[:, None])[:, 0]
    top = 1 - 2 / 8  # --scale maps onto the 3-bit grid's range [-1, 1 - 2 gamma]
    xs = (top + 1) * (x - x.min()) / (x.max() - x.min()) - 1
    zs = net.params[0] * xs + net.params[1]
    assert np.allclose(pred, y.min() + (zs + 1) * (y.max() - y.min()) / (top + 1))
    assert np.corrcoef(pred, y)[0, 1] > 0.9


def test_size_reports_both_forms(capsys, tmp_path):
    rc, out, _ = run(capsys, "size", "--arch", "2-3-1", "--loss", "absolute", "--epsilon", "0.5",
                     "--samples", "1000", "--json", tmp_path / "s.json")
    assert rc == 0
    s = json.loads((tmp_path / "s.json").read_text())
    assert SIZE_FIELDS <= set(s) and set(s["forms"]) == {"compact", "literal"}
    assert s["epsilon"] <= 0.5 and s["requested_epsilon"] == 0.5


def test_entry_point_subprocess(tmp_path):
    r = subprocess.run([sys.executable, "-m", "lptrain.cli", "size", "--arch", "1-2-1", "--bits", "2",
                        "--samples", "50"], capture_output=True, text=True)
    assert r.returncode == 0 and "variables" in r.stdout


def _bad_files(tmp_path):
    f = {}
    f["nan"] = write_csv(tmp_path / "nan.csv", ["x", "y"], [[0.1, 0.2], ["nan", 0.3]])
    f["range"] = write_csv(tmp_path / "range.csv", ["x", "y"], [[0.1, 0.2], [1.5, 0.3]])
    f["cols"] = write_csv(tmp_path / "cols.csv", ["x", "y", "z"], [[0.1, 0.2, 0.3]])
    f["text"] = write_csv(tmp_path / "text.csv", ["x", "y"], [[0.1, "abc"]])
    f["ragged"] = write_csv(tmp_path / "ragged.csv", ["x", "y"], [[0.1, 0.2], [0.3]])
    f["empty"] = tmp_path / "empty.csv"
    f["empty"].write_text("")
    f["header"] = tmp_path / "header.csv"
    f["header"].write_text("x,y\n")
    f["good"] = write_csv(tmp_path / "good.csv", ["x", "y"], [[0.1, 0.2], [0.3, -0.4]])
    f["corrupt"] = tmp_path / "corrupt.npz"
    f["corrupt"].write_bytes(b"PK\x03\x04 not really a zip")
    f["badmodel"] = tmp_path / "bad.json"
    f["badmodel"].write_text('{"format": "lptrain-model", "version": 1}')
    return f


BAD = [
    ("nan", ["train", "{nan}", "--arch", "1-1-1"], "NaN"),
    ("range", ["train", "{range}", "--arch", "1-1-1"], "outside"),
    ("cols", ["train", "{cols}", "--arch", "1-1-1"], "columns"),
    ("text", ["train", "{text}", "--arch", "1-1-1"], "not a number"),
    ("ragged", ["train", "{ragged}", "--arch", "1-1-1"], "fields"),
    ("empty", ["train", "{empty}", "--arch", "1-1-1"], "empty"),
    ("norows", ["train", "{header}", "--arch", "1-1-1"], "no data rows"),
    ("arch", ["train", "{good}", "--arch", "1-x-1"], "malformed architecture"),
    ("arch0", ["train", "{good}", "--arch", "1-0-1"], "at least 1"),
    ("missing", ["train", "{tmp}/nope.csv", "--arch", "1-1-1"], "no such file"),
    ("bits0", ["train", "{good}", "--arch", "1-1-1", "--bits", "0"], "positive integer"),
    ("eps", ["train", "{good}", "--arch", "1-1-1", "--epsilon", "-1"], "positive number"),
    ("loss", ["train", "{good}", "--arch", "1-1-1", "--loss", "huber"], "unknown loss"),
    ("act", ["train", "{good}", "--arch", "1-1-1", "--activation", "gelu"], "unknown activation"),
    ("solver", ["train", "{good}", "--arch", "1-1-1", "--solver", "magic"], "unknown solver"),
    ("corrupt", ["solve", "{corrupt}", "{good}"], "not a valid"),
    ("nopoly", ["solve", "{tmp}/none.npz", "{good}"], "no such"),
    ("model", ["predict", "{badmodel}", "{good}"], "checksum"),
    ("huge", ["build", "--arch", "4-8-8-1", "--bits", "8", "--samples", "1000", "--out", "{tmp}/P.npz"], "too large"),
    ("both", ["train", "{good}", "--arch", "1-1-1", "--bits", "2", "--epsilon", "1"], "not allowed"),
    ("nocmd", [], "required"),
    ("outdir", ["train", "{good}", "--arch", "1-1-1", "--model", "{tmp}/no/such/m.json"], "does not exist"),
]


@pytest.mark.parametrize("name,argv,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_no_traceback_no_file(capsys, tmp_path, name, argv, msg):
    files = _bad_files(tmp_path)
    before = set(os.listdir(tmp_path))
    argv = [a.format(tmp=tmp_path, **files) for a in argv]
    out_json = tmp_path / "out.json"
    rc, out, err = run(capsys, *argv, "--json", out_json) if argv else run(capsys)
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and msg.lower() in err.lower()
    assert set(os.listdir(tmp_path)) == before  # no output file, no temporary left


def test_polytope_of_other_version_or_size(capsys, tmp_path, rng):
    P = tmp_path / "P.npz"
    assert run(capsys, "build", "--arch", "1-1-1", "--bits", "1", "--samples", "3", "--out", P)[0] == 0
    d = write_csv(tmp_path / "d.csv", ["x", "y"], zip(rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4)))
    rc, _, err = run(capsys, "solve", P, d)
    assert rc != 0 and "4 rows" in err and "3 samples" in err


def test_huge_build_refused_quickly(capsys, tmp_path):
    import time

    t0 = time.perf_counter()
    rc, _, err = run(capsys, "build", "--arch", "4-8-8-1", "--bits", "8", "--samples", "1000",
                     "--out", tmp_path / "P.npz")
    assert rc == 3 and time.perf_counter() - t0 < 5
    assert "GiB" in err or "EiB" in err or "TiB" in err
    assert "bits" in err and not (tmp_path / "P.npz").exists()


def test_train_bnb_reports_its_search(capsys, data, tmp_path):
    path, x, y = data
    rc, out, _ = run(capsys, "train", path, "--arch", "1-2-1", "--bits", "2", "--solver", "bnb",
                     "--json", tmp_path / "r.json")
    assert rc == 0 and "branch-and-bound:" in out and "grid points evaluated" in out
    rep = json.loads((tmp_path / "r.json").read_text())
    si = rep["solver_info"]
    assert si["implementation"] == "compiled" and 0 < si["evaluated"] <= si["grid_points"] == 2 ** 14
    ref, _ = brute_force((1, 2, 1), "relu", "quadratic", 2, x.reshape(-1, 1).tolist(), y.reshape(-1, 1).tolist())
    assert rep["objective"] == pytest.approx(ref, rel=1e-9)


TRAIN_KEYS = ["status", "objective", "params", "param_names", "train_loss", "epsilon", "lipschitz",
              "lipschitz_paper", "bits", "samples", "distinct_points", "grid_points", "evaluations",
              "nominal_evaluations", "grid_index", "solver", "solver_note", "solver_info", "solve_seconds", "check_seconds", "certificate", "polytope",
              "face_lp", "warnings", "notes"]


def test_report_is_typed_and_writes_the_same_json(capsys, tmp_path, data):
    data = data[0]
    """The Report's fields are the JSON's keys, in order; it reads like that JSON object."""
    from lptrain.certificate import Certificate
    from lptrain.data import read_dataset
    from lptrain.report import Report

    from lptrain import api

    res = api.train(read_dataset(data, 1, 1), "1-1-1", bits=2, solver="structured")
    rep = res.report
    assert isinstance(rep, Report) and isinstance(rep.certificate, Certificate)
    assert list(rep.to_dict()) == TRAIN_KEYS + ["requested_epsilon"] == list(rep)
    assert rep["certificate"] == rep.certificate.to_dict() and rep["objective"] == rep.objective
    assert dict(rep) == rep.to_dict() and "notes" in rep and "extra" not in rep
    with pytest.raises(KeyError):
        rep["extra"]
    assert main(["train", str(data), "--arch", "1-1-1", "--bits", "2", "--solver", "structured",
                 "--json", str(tmp_path / "r.json"), "--model", str(tmp_path / "m.json")]) == 0
    out = json.loads((tmp_path / "r.json").read_text())
    assert list(out) == TRAIN_KEYS + ["requested_epsilon", "model"]
    assert out["objective"] == rep.objective and out["params"] == rep.params


def test_model_not_written_when_the_certificate_fails(tmp_path, monkeypatch, capsys):
    """A rejected answer is reported (JSON, exit 1) but never saved as a model to deploy."""
    import json

    from lptrain import api
    from lptrain.verdict import Certificate

    monkeypatch.setattr(api, "check", lambda *a, **k: Certificate(False, "test", 0.0, 0.0, 0.0, "forced"))
    data = tmp_path / "d.csv"
    data.write_text("x,y\n0.5,0.25\n-0.5,0\n")
    model, js = tmp_path / "m.json", tmp_path / "o.json"
    assert main(["train", str(data), "--arch", "1-1-1", "--bits", "2", "--model", str(model),
                 "--json", str(js)]) == 1
    assert not model.exists()
    rep = json.loads(js.read_text())
    assert rep["status"] == "certificate_failed" and rep["model"] is None
    assert "not written" in capsys.readouterr().err
