"""Errors and warnings the scikit-learn way (issue 13).

InputError and SizeError are ValueErrors; solver failures are SolverErrors; rounding warns
(RoundingWarning) only where the user probably made a mistake and notes the rest; library
messages name Python parameters, the CLI its flags.
"""

import json
import warnings

import numpy as np
import pytest

from lptrain import api
from lptrain.arch import Architecture
from lptrain.cli import flagged, main
from lptrain.data import Scaling, make_dataset
from lptrain.exceptions import InputError, RoundingWarning, SizeError, SolverError
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.rounding import inspect


def write(path, x, y):
    path.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)))
    return str(path)


def test_error_types_are_value_errors():
    assert issubclass(InputError, ValueError) and issubclass(SizeError, ValueError)
    assert issubclass(SolverError, RuntimeError) and not issubclass(SolverError, ValueError)
    with pytest.raises(ValueError, match="bits"):
        Grid(0)


def test_train_is_keyword_only_after_dataset_and_arch(rng):
    ds = make_dataset(rng.uniform(-1, 1, (5, 2)), 1)
    with pytest.raises(TypeError):
        api.train(ds, "1-1", "absolute")
    assert api.train(ds, "1-1", loss="absolute", bits=1).report["status"] == "optimal"


# -- warnings: probable mistakes -------------------------------------------------------------


def test_class_labels_merged_warn(rng):
    labels = rng.integers(0, 3, 20).astype(float)  # classes 0, 1, 2 scaled onto -1, 0, 1
    table = np.column_stack([rng.uniform(0, 5, 20), labels])
    ds = make_dataset(table, 1, scale=True)
    rep = inspect(Grid(1), ds)
    assert any("merges 3 distinct labels into 2" in w and "2 bits keep them apart" in w for w in rep.warnings)


def test_plus_minus_one_labels_moved_warn(rng):
    y = np.where(rng.uniform(size=20) < 0.5, -1.0, 1.0)
    ds = make_dataset(np.column_stack([rng.uniform(-1, 1, 20), y]), 1)
    with pytest.warns(RoundingWarning, match=r"\+-1 labels.*1 - 2 gamma = 0.5 at 2 bits"):
        api.train(ds, "1-1", loss="hinge", bits=2)


def test_inputs_merged_are_only_a_note():
    ds = make_dataset(np.array([[0.0, -0.5], [1.0, 0.5], [0.0, -0.5]]), 1)
    rep = inspect(Grid(1), ds)
    assert rep.warnings == [] and rep.notes == ["rounding to 1 bit merged 2 distinct inputs into 1; 2 bits keep them apart"]


# -- notes: what rounding is -------------------------------------------------------------------


def test_real_targets_merged_are_a_note(rng):
    x = rng.uniform(-1, 1, 100)
    ds = make_dataset(np.column_stack([x, 0.8 * x]), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoundingWarning)
        rep = api.train(ds, "1-1", bits=3).report
    assert rep["warnings"] == []
    assert any("rounding to 3 bits merged 100 distinct targets into" in s for s in rep["notes"])
    assert any("100 distinct inputs into" in s for s in rep["notes"])


def test_cli_note_is_one_quiet_line_and_in_the_json(tmp_path, rng, capsys):
    x = rng.uniform(-1, 1, 100)
    d = write(tmp_path / "d.csv", x, 0.8 * x)
    assert main(["train", d, "--arch", "1-1", "--bits", "3", "--json", str(tmp_path / "o.json")]) == 0
    err = capsys.readouterr().err
    assert "warning" not in err
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "see --json notes" in notes[0] and "distinct targets" in notes[0]
    rep = json.loads((tmp_path / "o.json").read_text())
    assert rep["warnings"] == [] and len(rep["notes"]) == 2


def test_cli_collects_warnings_for_stderr_and_json(tmp_path, rng, capsys):
    d = write(tmp_path / "d.csv", rng.uniform(-1, 1, 10), rng.integers(0, 2, 10).astype(float))
    assert main(["train", d, "--arch", "1-1", "--bits", "1", "--json", str(tmp_path / "o.json")]) == 0
    err = capsys.readouterr().err
    lines = [s for s in err.splitlines() if s.startswith("lptrain: warning:")]
    assert len(lines) == 1 and "maps every target to one value" in lines[0]
    rep = json.loads((tmp_path / "o.json").read_text())
    assert len(rep["warnings"]) == 1 and rep["warnings"][0] in lines[0]


def test_classifier_does_not_warn_about_its_own_encoding(rng):
    pytest.importorskip("sklearn")
    from lptrain.estimators import LPTrainClassifier

    X = rng.uniform(-1, 1, (20, 1))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RoundingWarning)
        LPTrainClassifier(arch="1-1", loss="hinge", bits=2).fit(X, y)


# -- messages: Python parameters in the library, flags on the command line ------------------


def test_flagged_maps_parameters_to_flags():
    assert flagged("raise memory=, or use solver='structured'") == "raise --memory, or use --solver structured"
    assert flagged("rescale the data or pass scale=True") == "rescale the data or pass --scale"
    assert flagged("bits must be between 1 and 30") == "bits must be between 1 and 30"


def test_library_names_parameters_cli_names_flags(tmp_path, rng, capsys):
    x, y = rng.uniform(-1, 1, 30), rng.uniform(-1, 1, 30)
    face = Face(Polytope(Architecture.parse("1-2-1"), "quadratic", Grid(3), 30), x[:, None], y[:, None])
    with pytest.raises(SizeError, match=r"solver='structured', fewer bits or raise memory=$"):
        face.lp(memory=1 << 10)
    d = write(tmp_path / "d.csv", x, y)
    assert main(["train", d, "--arch", "1-2-1", "--bits", "3", "--solver", "highs", "--memory", "1K"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("use --solver structured, fewer bits or raise --memory")
    d2 = write(tmp_path / "d2.csv", 3 * x, y)
    assert main(["train", d2, "--arch", "1-2-1"]) == 2
    assert capsys.readouterr().err.strip().endswith("rescale the data or pass --scale")


def test_solver_failure_is_a_solver_error(tmp_path, rng, monkeypatch, capsys):
    import lptrain.solvers.highs as highs

    monkeypatch.setattr(highs, "solve_lp", lambda lp, method="choose": ("infeasible", 0.0, None, None))
    x, y = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)
    face = Face(Polytope(Architecture.parse("1-1"), "quadratic", Grid(1), 5), x[:, None], y[:, None])
    with pytest.raises(SolverError, match="HiGHS did not solve the face LP: status infeasible"):
        highs.HighsSolver().solve(face, 1 << 30)
    d = write(tmp_path / "d.csv", x, y)
    assert main(["train", d, "--arch", "1-1", "--bits", "1", "--solver", "highs"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lptrain: error: HiGHS did not solve the face LP: status infeasible"]


def test_scaling_inverse_finds_labels():
    s = Scaling((0.0, 0.0), (1.0, 2.0))
    ds = make_dataset(np.array([[0.0, 0.0], [1.0, 2.0], [0.5, 1.0]]), 1, scaling=s)
    assert inspect(Grid(4), ds).warnings == []


def test_cli_passes_other_warnings_through(monkeypatch, capsys, tmp_path):
    import lptrain.cli as cli

    def cmd(args):
        warnings.warn("from another library", UserWarning)
        warnings.warn("labels merged", RoundingWarning)
        cli._write_json(args.json, {"x": 1})
        return 0

    monkeypatch.setitem(cli.COMMANDS, "size", cmd)
    with pytest.warns(UserWarning, match="from another library"):
        assert main(["size", "--arch", "1-1", "--samples", "1", "--json", str(tmp_path / "o.json")]) == 0
    assert capsys.readouterr().err.count("lptrain: warning: labels merged") == 1
    assert json.loads((tmp_path / "o.json").read_text()) == {"x": 1, "warnings": ["labels merged"]}


# -- rounding that destroys information is reported (issue 8) ---------------------------------


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


def test_highs_method_error_lists_the_choices():
    from lptrain.solvers.registry import get_solver

    with pytest.raises(InputError, match="expected 'choose', 'simplex', 'ipm' or 'pdlp'"):
        get_solver("highs", method="dual")


def test_lam_without_reg_is_refused(tmp_path, capsys):
    """A regularization weight without a regularizer was silently ignored (JSON lam 0)."""
    import numpy as np

    from lptrain import api
    from lptrain.cli import main
    from lptrain.data import make_dataset
    from lptrain.exceptions import InputError

    ds = make_dataset(np.array([[0.1, 0.2], [0.5, -0.3]]), 1)
    with pytest.raises(InputError, match="reg="):
        api.train(ds, "1-1-1", loss="quadratic", bits=2, lam=3.0)
    with pytest.raises(InputError, match="reg="):
        api.train_continuous(ds, "1-1-1", loss="quadratic", lam=3.0, time_limit=1)
    data, out = tmp_path / "d.csv", tmp_path / "o.json"
    data.write_text("x,y\n0.1,0.2\n0.5,-0.3\n")
    assert main(["train", str(data), "--arch", "1-1-1", "--lam", "3", "--json", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lam" in err[0] and "--reg l1" in err[0] and not out.exists()
