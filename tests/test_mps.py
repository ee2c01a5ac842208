"""LP interchange: the MPS files read back into HiGHS give the reported objective."""

import json

import highspy
import numpy as np
import pytest

from lptrain.cli import main


def solve_mps(path):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    return h.modelStatusToString(h.getModelStatus()), h.getInfo().objective_function_value, h.getLp()


@pytest.mark.parametrize("form", ["compact", "literal"])
def test_build_and_face_mps(tmp_path, rng, form):
    P, Pm, Fm = tmp_path / "P.npz", tmp_path / "P.mps", tmp_path / "face.mps"
    assert main(["build", "--arch", "1-1-1", "--loss", "absolute", "--bits", "1", "--samples", "4", "--form", form,
                 "--out", str(P), "--mps", str(Pm), "--json", str(tmp_path / "b.json")]) == 0
    b = json.loads((tmp_path / "b.json").read_text())
    status, obj, lp = solve_mps(Pm)
    assert status == "Optimal" and (lp.num_col_, lp.num_row_) == (b["variables"], b["constraints"])
    d = tmp_path / "d.csv"
    d.write_text("x,y\n" + "".join(f"{a},{c}\n" for a, c in rng.uniform(-1, 1, (4, 2))))
    assert main(["solve", str(P), str(d), "--mps", str(Fm), "--json", str(tmp_path / "s.json")]) == 0
    rep = json.loads((tmp_path / "s.json").read_text())
    status, obj, _ = solve_mps(Fm)
    assert status == "Optimal" and obj == pytest.approx(rep["objective"], rel=1e-9, abs=1e-12)
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".tmp-")]
