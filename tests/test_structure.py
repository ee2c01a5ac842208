"""Sec. 5 measured: decompositions are valid, bounds are consistent, the claim is tested."""

import json

import networkx as nx
import pytest

from lptrain import decomposition as dec
from lptrain.arch import Architecture
from lptrain.cli import main
from lptrain.structure import formulation, measure, minor_bound, paper_construction, parameter_graph


@pytest.mark.parametrize("spec,B,D", [("1-1-1", 1, 3), ("1-2-1", 1, 6), ("2-1-1", 2, 4), ("1-1", 2, 5)])
def test_measured_decompositions_are_valid_and_above_lower_bound(spec, B, D):
    r = measure(Architecture.parse(spec), B, D)
    assert r["decomposition_valid"]
    assert r["lower_bound"] <= r["measured_width"]
    a = Architecture.parse(spec)
    assert r["minor_lower_bound"] == min(B * a.n_params, D)


def test_graph_matches_the_formulation_by_hand():
    a = Architecture.parse("1-1-1")
    G, supports, blocks, params = formulation(a, 1, 2)
    # per data point: x, h, o, y bits (1 each); params W1, b1, W2, b2
    assert G.number_of_nodes() == 4 + 2 * 4
    # h's constraint joins s_h, x, W1, b1; o's joins s_o, s_h, W2, b2; the loss joins s_o, y
    assert G.has_edge((("s", 0, "h1_1"), 0), (("phi", 0), 0))
    assert G.has_edge((("s", 1, "o1"), 0), (("phi", 3), 0))
    assert not G.has_edge((("s", 0, "o1"), 0), (("s", 1, "o1"), 0))
    assert len(supports) == 2 * 3


def test_paper_construction_breaks_running_intersection():
    a = Architecture.parse("1-1-1")
    H = parameter_graph(a)
    _, Tphi = dec.decompose(H)
    assert Tphi.number_of_nodes() == 2  # {W1, b1} and {W2, b2}
    G, supports, _, _ = formulation(a, 1, 3)
    with pytest.raises(dec.DecompositionError, match="running intersection"):
        dec.validate(G, paper_construction(a, 1, 3, Tphi), supports)


def test_paper_construction_is_valid_when_gamma_phi_is_one_bag():
    a = Architecture.parse("2-1")  # one node: all parameters in one clique
    r = measure(a, 1, 4)
    assert r["paper_construction_valid"]


def test_claim_refuted_by_a_proven_bound():
    r = measure(Architecture.parse("2-3-1"), 1, 16)
    # N = 13, tw(Gamma_phi) = 3, |V(G)| = 6, n + m = 3: claimed 12 < min(B N, D) = 13
    assert r["tw_phi"] == 3 and r["claimed_width"] == 12
    assert r["minor_lower_bound"] == 13 and r["lower_bound"] >= 13 and r["claim"] == "refuted"
    assert not r["paper_construction_valid"]


def test_minor_bound_needs_connected_blocks():
    G = nx.path_graph(4)
    assert minor_bound(G, [[0, 2]], [1]) == 0  # block {0, 2} is not connected


def test_structure_cli(tmp_path, capsys):
    assert main(["structure", "--arch", "1-2-1", "--bits", "1", "--samples", "5",
                 "--json", str(tmp_path / "s.json")]) == 0
    r = json.loads((tmp_path / "s.json").read_text())
    assert {"measured_width", "decomposition_valid", "lower_bound", "claimed_width",
            "paper_construction_valid"} <= set(r)
    assert main(["structure", "--arch", "4-8-8-1", "--bits", "8", "--samples", "1000"]) != 0
    assert "20000 vertices" in capsys.readouterr().err
