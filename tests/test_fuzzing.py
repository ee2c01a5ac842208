"""Parsers that cannot be crashed: CSV data, architecture, polytope and model files, fuzzed with
hypothesis; every failure is one line naming the file (issue 8)."""

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lptrain.arch import Architecture
from lptrain.data import make_dataset, read_table
from lptrain.exceptions import FileFormatError, InputError, LPTrainError
from lptrain.grid import Grid
from lptrain.network import Network
from lptrain.polytope import Polytope

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


@FUZZ
@given(st.lists(st.lists(st.floats(-1, 1), min_size=2, max_size=2), min_size=1, max_size=6),
       st.booleans())
def test_csv_header_optional(tmp_path, rows, with_header):
    """Every data row is read, whether or not a header line comes first."""
    p = tmp_path / "h.csv"
    body = "\n".join(",".join(repr(v) for v in r) for r in rows)
    p.write_text(("x,y\n" if with_header else "") + body + "\n")
    header, table = read_table(p, 2)
    assert table.tolist() == [[float(v) for v in r] for r in rows]
    assert header == (["x", "y"] if with_header else None)
    assert make_dataset(table, 1, header).columns == (["x", "y"] if with_header else ["x1", "y1"])


def test_cli_headerless_csv(tmp_path):
    import json

    from lptrain.cli import main
    p = tmp_path / "d.csv"
    p.write_text("0.5,0.25\n-0.5,0\n0.25,0.5\n")
    out = tmp_path / "o.json"
    assert main(["train", str(p), "--arch", "1-1-1", "--bits", "2", "--loss", "quadratic",
                 "--json", str(out)]) in (0, None)
    assert json.loads(out.read_text())["samples"] == 3


@pytest.mark.parametrize("first", ["nan,0.3", "0.1,", "0.5,inf", "x,0.5", " ,0.5"])
def test_first_line_neither_header_nor_data_is_refused(tmp_path, first):
    """A first line with a NaN, an empty cell or a number beside a name is a broken data row
    (or header), not a header to drop silently."""
    p = tmp_path / "m.csv"
    p.write_text(first + "\n0.5,0.5\n-0.5,-0.5\n")
    with pytest.raises(InputError, match="line 1"):
        read_table(p, 2)


@pytest.mark.parametrize("with_header", [False, True])
def test_utf8_bom_is_not_part_of_the_first_line(tmp_path, with_header):
    """Spreadsheets write a UTF-8 byte-order mark: a headerless file keeps its first row and a
    header its first name."""
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (b"x,y\n" if with_header else b"") + b"0.9,0.9\n0.5,0.5\n")
    header, table = read_table(p, 2)
    assert table.tolist() == [[0.9, 0.9], [0.5, 0.5]]
    assert header == (["x", "y"] if with_header else None)
