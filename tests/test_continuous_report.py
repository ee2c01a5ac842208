"""The continuous path's typed results and its re-derived status.

* ``status`` is a claim about the certified interval relative to the requested tolerances,
  which the proof stores (format version 2): the checker re-derives it, and a result
  claiming ``optimal`` with a wider interval is invalid, through the API and through a
  proof file whose checksum was recomputed;
* the reports are dataclasses whose JSON keys are the recorded lists below;
* ``loss`` is keyword-only after the data, as in ``train``.
"""

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lptrain import api
from lptrain.arch import Architecture
from lptrain.cli import main
from lptrain.continuous import (ContinuousCertificate, check_continuous, load_proof, proofio, save_proof,
                                solve_continuous)
from lptrain.continuous.result import STATUS_SLACK_ABS, STATUS_SLACK_REL, ContinuousResult, derive_status
from lptrain.data import make_dataset
from lptrain.exceptions import FileFormatError
from lptrain.network import Network
from lptrain.report import ContinuousReport

# The keys ``train --continuous --json`` and ``gap --json`` wrote before the report was typed.
CONTINUOUS_KEYS = ["status", "objective", "lower_bound", "gap", "params", "param_names", "nodes",
                   "solve_seconds", "check_seconds", "certificate", "box", "method", "loss", "reg",
                   "lam", "samples", "train_loss", "continuous", "solver_info"]
GAP_KEYS = CONTINUOUS_KEYS + ["loss_of_network", "best_gap", "network_source", "architecture", "warnings"]
BOX_KEYS = ["box_warning", "suggested_box"]
# ``derived_status`` is new in the certificate (the re-derived status), the rest as before.
CERTIFICATE_KEYS = ["valid", "method", "reason", "replayed_lower_bound", "seconds", "derived_status"]
CHECK_PROOF_KEYS = ["valid", "method", "reason", "status", "objective", "lower_bound", "gap", "check_seconds",
                    "loss", "reg", "lam", "box", "architecture", "samples", "proof", "derived_status",
                    "requested_gap", "requested_abs_gap"]

CASES = [("1-2-1", "relu", "absolute", "patterns"), ("1-1-1", "tanh", "absolute", "spatial")]


def data(D=8, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 1))
    return x, np.clip(0.7 * np.sin(2 * x) + rng.normal(0, 0.05, (D, 1)), -1, 1)


@pytest.fixture(scope="module", params=CASES, ids=[c[3] for c in CASES])
def solved(request):
    spec, act, loss, method = request.param
    arch = Architecture.parse(spec, act)
    x, y = data()
    r = solve_continuous(arch, loss, x, y, method=method, gap=1e-3, abs_gap=1e-5, time_limit=20)
    assert r.status == "optimal" and (r.requested_gap, r.requested_abs_gap) == (1e-3, 1e-5)
    return arch, loss, x, y, r


def check(solved, res):
    arch, loss, x, y, _ = solved
    return check_continuous(res, arch, loss, x, y)


def test_optimal_claim_with_a_wide_interval_is_rejected(solved):
    """Lowering the bound keeps it a true lower bound (the replay accepts it); only the claim
    ``optimal`` is wrong, and that alone makes the result invalid."""
    r = solved[4]
    good = check(solved, r)
    assert good.valid and good.derived_status == "optimal"
    wide = dataclasses.replace(r, lower_bound=r.lower_bound - 0.05)
    c = check(solved, wide)
    assert not c.valid and c.derived_status == "time_limit" and "claims status optimal" in c.reason
    honest = dataclasses.replace(wide, status="time_limit")
    c = check(solved, honest)
    assert c.valid and c.derived_status == "time_limit"
    # a stopped search whose interval is within the tolerance is fine; the re-derived status says so
    c = check(solved, dataclasses.replace(r, status="time_limit"))
    assert c.valid and c.derived_status == "optimal"


def test_optimal_claim_needs_its_tolerances(solved):
    r = solved[4]
    width = r.objective - r.lower_bound
    tight = dataclasses.replace(r, requested_gap=0.0, requested_abs_gap=width / 10)
    if width > 10 * STATUS_SLACK_ABS * (1 + abs(r.lower_bound)):
        assert not check(solved, tight).valid
    for gap, abs_gap in [(None, 1e-5), (1e-3, None), (float("nan"), 1e-5), (1e-3, -1.0), (True, 1e-5)]:
        c = check(solved, dataclasses.replace(r, requested_gap=gap, requested_abs_gap=abs_gap))
        assert not c.valid and c.derived_status is None and "tolerances" in c.reason
        c = check(solved, dataclasses.replace(r, requested_gap=gap, requested_abs_gap=abs_gap, status="time_limit"))
        assert c.valid and c.derived_status is None
    c = check(solved, dataclasses.replace(r, status="converged"))
    assert not c.valid and "unknown status" in c.reason


def test_tolerances_round_trip_and_tampered_file(solved, tmp_path, capsys):
    arch, loss, x, y, r = solved
    path = tmp_path / "p.npz"
    save_proof(path, r, arch, loss, x, y)
    r2, problem = load_proof(path)
    assert (r2.requested_gap, r2.requested_abs_gap, r2.status) == (1e-3, 1e-5, "optimal")
    assert check_continuous(r2, arch, loss, x, y).valid
    # a claim of optimal with a wider interval, written with a fresh checksum: replays invalid
    proofio.save(path, dataclasses.replace(r2, lower_bound=r2.lower_bound - 0.05), problem)
    ds = make_dataset(np.column_stack([x, y]), 1)
    rep = api.check_proof(str(path), ds)
    assert not rep["valid"] and rep["status"] == "optimal" and rep["derived_status"] == "time_limit"
    csv, js = tmp_path / "d.csv", tmp_path / "c.json"
    csv.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x[:, 0], y[:, 0])))
    assert main(["check-proof", str(path), str(csv), "--json", str(js)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "re-derived status: time_limit (gap 0.001, abs-gap 1e-05)" in out
    got = json.loads(js.read_text())
    assert list(got) == CHECK_PROOF_KEYS and got["derived_status"] == "time_limit"
    # the tolerances are under the checksum: loosening them in the file is detected
    z = np.load(path)
    header = json.loads(bytes(z["header"]).decode())
    header["result"]["requested_gap"] = 10.0
    members = {k: z[k] for k in z.files if k != "header"}
    np.savez(path, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **members)
    with pytest.raises(FileFormatError, match="checksum"):
        load_proof(path)


def test_version_1_proof_is_refused_in_one_line(tmp_path, capsys):
    arch = Architecture.parse("1-2-1")
    x, y = data()
    r = solve_continuous(arch, "absolute", x, y, time_limit=5)
    path = tmp_path / "p.npz"
    save_proof(path, r, arch, "absolute", x, y)
    z = np.load(path)
    header = json.loads(bytes(z["header"]).decode())
    members = {k: z[k] for k in z.files if k != "header"}
    del header["checksum"], header["result"]["requested_gap"], header["result"]["requested_abs_gap"]
    header["version"] = 1
    header["checksum"] = proofio._digest(header, members)
    np.savez(path, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **members)
    with pytest.raises(FileFormatError, match="version 1 does not store the gap tolerances"):
        load_proof(path)
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x[:, 0], y[:, 0])))
    assert main(["check-proof", str(path), str(csv)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "version 1" in err[0] and "Traceback" not in err[0]


@settings(max_examples=60, deadline=None)
@given(obj=st.floats(-1e3, 1e3), width=st.floats(0, 10), gap=st.floats(0, 1), abs_gap=st.floats(0, 1),
       scale=st.sampled_from([1e-9, 1e-6, 1e-3, 1.0]))
def test_derive_status_against_the_searches_rules(obj, width, gap, abs_gap, scale):
    """Both searches' final rules (patterns: width <= tol (1 + 1e-9); spatial: width <= tol
    (1 + 1e-6) + 2 FLOAT_MARGIN (1 + |least|), lower = least - FLOAT_MARGIN (1 + |least|)) give
    ``optimal`` only where the checker re-derives it; beyond the slack it never does."""
    from lptrain.continuous.spatial import FLOAT_MARGIN

    width *= scale
    lower = obj - width
    tol = max(abs_gap, gap * abs(obj))
    least = lower + FLOAT_MARGIN * (1 + abs(lower))
    patterns_ok = width <= tol * (1 + 1e-9)
    spatial_ok = obj - lower <= tol * (1 + 1e-6) + 2 * FLOAT_MARGIN * (1 + abs(least))
    got = derive_status(obj, lower, gap, abs_gap)
    if patterns_ok or spatial_ok:
        assert got == "optimal"
    if width > tol * (1 + STATUS_SLACK_REL) + STATUS_SLACK_ABS * (1 + abs(lower)) * (1 + 1e-12):
        assert got == "time_limit"


# -- typed results, recorded keys, keyword-only arguments ----------------------------------------


def test_typed_report_and_recorded_keys(tmp_path):
    x, y = data()
    ds = make_dataset(np.column_stack([x, y]), 1)
    proof = tmp_path / "p.npz"
    res = api.train(ds, "1-2-1", loss="absolute", continuous=True, time_limit=5, proof=proof)
    assert isinstance(res, api.ContinuousTrainResult) and isinstance(res.result, ContinuousResult)
    assert isinstance(res.certificate, ContinuousCertificate) and res.certificate.valid
    rep = res.report
    assert isinstance(rep, ContinuousReport) and rep.certificate is res.certificate
    assert list(rep.to_dict()) == CONTINUOUS_KEYS + ["proof"] == list(rep)
    assert list(rep["certificate"]) == CERTIFICATE_KEYS and rep["certificate"] == res.certificate.to_dict()
    assert dict(rep) == rep.to_dict() and "extra" not in rep and rep.get("epsilon") is None
    assert rep.gap == rep["gap"] == rep.objective - rep.lower_bound and rep.continuous is True
    assert rep.status == res.result.status and rep.params == [float(v) for v in res.result.params]
    json.dumps(rep.to_dict(), allow_nan=False)
    rep["model"] = "m.json"
    assert rep.extra == {"proof": str(proof), "model": "m.json"}
    unchecked = api.train_continuous(ds, "1-2-1", loss="absolute", time_limit=5, certify=False)
    assert unchecked.certificate is None and unchecked.report["certificate"] is None


def test_gap_report_keys(tmp_path):
    x, y = data()
    net = Network(Architecture.parse("1-2-1"), np.full(7, 1.5))
    with pytest.warns(api.BoxWarning):
        g = api.gap(net, x, y, loss="absolute", time_limit=5)
    assert isinstance(g.report, ContinuousReport) and list(g.report) == GAP_KEYS + BOX_KEYS
    assert g.report.gap == g.gap == g.loss - g.lower_bound
    assert g.report["best_gap"] == g.result.objective - g.result.lower_bound


def test_cli_json_keys(tmp_path, capsys):
    x, y = data()
    csv, js, model, gj = tmp_path / "d.csv", tmp_path / "r.json", tmp_path / "m.json", tmp_path / "g.json"
    csv.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x[:, 0], y[:, 0])))
    assert main(["train", str(csv), "--arch", "1-2-1", "--loss", "absolute", "--continuous",
                 "--time-limit", "5", "--json", str(js), "--model", str(model)]) == 0
    rep = json.loads(js.read_text())
    assert list(rep) == CONTINUOUS_KEYS + ["model"] and list(rep["certificate"]) == CERTIFICATE_KEYS
    assert main(["gap", str(model), str(csv), "--time-limit", "5", "--json", str(gj)]) == 0
    assert list(json.loads(gj.read_text())) == GAP_KEYS
    capsys.readouterr()


def test_loss_is_keyword_only():
    x, y = data(4)
    ds = make_dataset(np.column_stack([x, y]), 1)
    with pytest.raises(TypeError, match="positional"):
        api.train_continuous(ds, "1-1-1", "absolute")
    with pytest.raises(TypeError, match="positional"):
        api.gap(Network(Architecture.parse("1-1-1"), np.zeros(4)), x, y, "absolute")
    with pytest.raises(TypeError, match="positional"):
        api.train(ds, "1-1-1", "absolute")


def test_estimators_continuous_report():
    pytest.importorskip("sklearn")
    from lptrain.estimators import LPTrainRegressor

    x, y = data()
    est = LPTrainRegressor(arch="1-2-1", loss="absolute", continuous=True, time_limit=5).fit(x, y[:, 0])
    assert isinstance(est.report_, ContinuousReport) and est.certificate_["valid"]
    assert est.gap_ == est.objective_ - est.lower_bound_ and est.epsilon_ is None
    assert est.certificate_["derived_status"] == est.report_.status == "optimal"


# -- nominal evaluations: carried by every Solution ----------------------------------------------


def test_every_solution_carries_nominal_evaluations():
    from lptrain.grid import Grid
    from lptrain.face import Face
    from lptrain.losses import get_loss
    from lptrain.polytope import Polytope
    from lptrain.solvers.base import Solution, Solver

    class Bare(Solver):
        name = "bare"

        def _solve(self, face, memory, progress):
            return Solution("optimal", 0.0, 0, face.params(0), self.name, np.zeros(face.samples), 1)

    x, y = data(5)
    p = Polytope(Architecture.parse("1-1-1"), get_loss("absolute"), Grid(1), 5)
    face = Face(p, np.clip(x, -1, 1), np.clip(y, -1, 1))
    assert Bare().solve(face, 1 << 30).nominal_evaluations == 5 * p.param_points
    bx = np.array([[0.0], [1.0], [1.0], [0.0]])
    res = api.train_bnn(make_dataset(np.column_stack([bx, 1 - bx]), 1), "1-1-1")
    assert res.solution.nominal_evaluations == res.report.nominal_evaluations == 4 * 2 ** 4


def test_failed_replay_writes_no_proof_nor_model(tmp_path, capsys, monkeypatch):
    """As for the model: a proof whose independent replay failed is not written (CLI warns)."""
    import lptrain.continuous as cont

    x, y = data()
    csv, proof, model = tmp_path / "d.csv", tmp_path / "p.npz", tmp_path / "m.json"
    csv.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x[:, 0], y[:, 0])))
    monkeypatch.setattr(cont, "check_continuous",
                        lambda res, *a, **k: ContinuousCertificate(False, "patterns-replay", "tampered"))
    rc = main(["train", str(csv), "--arch", "1-2-1", "--loss", "absolute", "--continuous",
               "--time-limit", "5", "--proof", str(proof), "--model", str(model)])
    err = capsys.readouterr().err
    assert rc != 0 and not proof.exists() and not model.exists()
    assert f"{proof} not written" in err
    monkeypatch.undo()
    r = api.train_continuous(make_dataset(np.hstack([x, y]), 1), Architecture.parse("1-2-1"),
                             loss="absolute", time_limit=5, proof=str(proof))
    assert r.report["proof"] == str(proof) and proof.exists()


def test_zero_weight_regularizer_is_the_unregularized_problem():
    """reg='l1' with lam=0 is the plain risk: the exact pattern method applies."""
    from lptrain.continuous import solve_continuous

    x, y = data()
    arch = Architecture.parse("1-2-1")
    a = solve_continuous(arch, "absolute", x, y, reg="l1", lam=0.0, time_limit=10)
    b = solve_continuous(arch, "absolute", x, y, time_limit=10)
    assert a.method == b.method == "patterns" and a.lower_bound == b.lower_bound
    assert check_continuous(a, arch, "absolute", x, y, reg="l1", lam=0.0).valid
