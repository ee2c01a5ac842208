"""The data-independent polytope: sizes, Thm 3.1(a), linear growth, faces, files."""

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.exceptions import FileFormatError, SizeError
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope


@pytest.mark.parametrize("form", ["compact", "literal"])
@pytest.mark.parametrize("spec,bits,D", [("1-1-1", 1, 1), ("1-1-1", 2, 5), ("2-1-1", 1, 7), ("1-1-2", 1, 3)])
def test_sizes_match_assembled_lp_and_bound(form, spec, bits, D):
    P = Polytope(Architecture.parse(spec), "quadratic", Grid(bits), D, form).build()
    s = P.sizes()
    lp = P.lp()
    assert lp.A.shape == (s["constraints"], s["variables"])
    assert lp.A.nnz == s["nonzeros"]
    assert s["variables"] <= s["bound_variables"] == 4 * D * (2**bits) ** (P.n + P.m + P.N)
    assert s["constraints"] <= s["bound_constraints"] == 2 * D * (2 * (2**bits) ** (P.n + P.m + P.N) + 1)
    assert s["evaluations"] == (2**bits) ** (P.n + P.m + P.N)


@pytest.mark.parametrize("form", ["compact", "literal"])
def test_linear_growth_in_D_and_evaluations_independent_of_D(form):
    P = Polytope(Architecture.parse("1-2-1"), "absolute", Grid(2), 1, form)
    sizes = [P.sizes(D) for D in range(1, 40)]
    for key in ("variables", "constraints", "nonzeros"):
        v = np.array([s[key] for s in sizes])
        assert len(set(np.diff(v[1:]))) == 1  # exactly affine in D (for D >= 2)
    assert len({s["evaluations"] for s in sizes}) == 1
    assert all(s["variables"] <= s["bound_variables"] and s["constraints"] <= s["bound_constraints"]
               for s in sizes)


@pytest.mark.parametrize("form", ["compact", "literal"])
def test_face_lp_is_P_restricted_to_the_face(form, rng):
    D = 4
    P = Polytope(Architecture.parse("1-1-1"), "hinge", Grid(1), D, form).build()
    x, y = rng.uniform(-1, 1, (D, 1)), rng.uniform(-1, 1, (D, 1))
    face = Face(P, x, y)
    full, sub = P.lp(), face.lp()
    cols, rows = face.columns_in_polytope(), face.rows_in_polytope()
    assert sub.A.shape == (len(rows), len(cols))
    restricted = full.A[:, cols].toarray()
    assert np.array_equal(restricted[rows], sub.A.toarray())
    assert np.array_equal(full.c[cols], sub.c) and np.array_equal(full.b[rows], sub.b)
    dropped = np.setdiff1d(np.arange(full.A.shape[0]), rows)
    assert not restricted[dropped].any() and not full.b[dropped].any()
    if form == "compact":
        assert len(dropped) == 0
    # the other lambda's of P are exactly the ones whose data part disagrees with the rounded data
    lam = np.setdiff1d(np.arange(full.cols["lam"].stop), cols)
    G, N = 2, P.N
    xy_of_col = (lam % (P.data_points * G**N)) // G**N
    bag = lam // (P.data_points * G**N)
    assert np.all(xy_of_col != face.xy[bag])


def test_save_load_roundtrip_and_tampering(tmp_path):
    P = Polytope(Architecture.parse("1-1-2", "tanh"), "cross_entropy", Grid(1), 3, "literal").build()
    path = tmp_path / "P.npz"
    P.save(path)
    Q = Polytope.load(path)
    assert np.array_equal(P.table, Q.table) and Q.form == "literal" and Q.samples == 3
    assert Q.arch.param_names == P.arch.param_names and Q.loss.name == "cross_entropy"
    raw = bytearray(path.read_bytes())
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(FileFormatError, match="corrupt|truncated"):
        Polytope.load(tmp_path / "trunc.npz")
    with pytest.raises(FileFormatError, match="no such"):
        Polytope.load(tmp_path / "missing.npz")


def test_altered_table_is_refused(tmp_path):
    import io
    import json

    P = Polytope(Architecture.parse("1-1-1"), "absolute", Grid(1), 2).build()
    path = tmp_path / "P.npz"
    P.save(path)
    with np.load(path) as z:
        meta, table = bytes(z["meta"]), z["table"].copy()
    table[0, 0] += 1.0
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(meta, np.uint8), table=table)
    (tmp_path / "alt.npz").write_bytes(buf.getvalue())
    with pytest.raises(FileFormatError, match="checksum"):
        Polytope.load(tmp_path / "alt.npz")
    m = json.loads(meta)
    m["version"] = 99
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(m).encode(), np.uint8), table=table)
    (tmp_path / "ver.npz").write_bytes(buf.getvalue())
    with pytest.raises(FileFormatError, match="version"):
        Polytope.load(tmp_path / "ver.npz")


def test_far_too_large_is_refused_before_allocating():
    import time

    t0 = time.perf_counter()
    P = Polytope(Architecture.parse("4-8-8-1"), "quadratic", Grid(8), 1000)
    s = P.sizes()
    with pytest.raises(SizeError, match="too large"):
        P.build()
    assert time.perf_counter() - t0 < 5  # sanity only: nothing was allocated
    assert s["variables"] > 10**300


@pytest.mark.parametrize("D,k,GN", [(1, 1, 4), (2, 1, 8), (3, 2, 4), (5, 4, 16), (9, 1, 1)])
def test_direct_csc_equals_coo_route(D, k, GN, rng):
    from lptrain import lp as lpmod

    table = rng.normal(size=(k + 2, GN))
    xy = rng.integers(0, 50, (D, k))
    rows_of = rng.integers(0, k + 2, (D, k))
    a = lpmod.assemble("compact", xy, rows_of, table, D, 1, 1, 2, 1, direct=True)
    b = lpmod.assemble("compact", xy, rows_of, table, D, 1, 1, 2, 1, direct=False)
    assert a.A.shape == b.A.shape and (a.A != b.A).nnz == 0 and a.A.has_sorted_indices
    for f in ("c", "b", "lower", "upper"):
        assert np.array_equal(getattr(a, f), getattr(b, f))
    assert a.rows == b.rows and a.cols == b.cols
