"""ONNX export (built with the onnx package, no PyTorch) reproduces Network.predict in
onnxruntime; layered nets come out as Gemm chains that lptrain's own importer reads back."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from export_nets import inputs, nets  # noqa: E402
from lptrain import load_model  # noqa: E402
from lptrain.arch import Architecture  # noqa: E402
from lptrain.cli import main  # noqa: E402
from lptrain.continuous.importers import from_onnx  # noqa: E402
from lptrain.exceptions import InputError  # noqa: E402
from lptrain.network import Network  # noqa: E402


def _run(path, x):
    return ort.InferenceSession(str(path)).run(None, {"x": x})[0]


def test_onnx_float64_and_cli(tmp_path, rng):
    """float64 on request: onnxruntime reproduces predict to rounding."""
    for k, net in enumerate(nets(rng)):
        m = tmp_path / f"m{k}.json"
        net.save(m)
        assert main(["export", str(m), "--onnx", str(tmp_path / f"m{k}.onnx"), "--dtype", "float64"]) == 0
        x = inputs(net, rng)
        sess = ort.InferenceSession(str(tmp_path / f"m{k}.onnx"))
        assert sess.get_inputs()[0].type == sess.get_outputs()[0].type == "tensor(double)"
        assert np.allclose(sess.run(None, {"x": x})[0], load_model(m).predict(x), rtol=1e-12, atol=1e-12)


def test_onnx_is_float32_by_default(tmp_path, rng):
    """float32 in and out, as onnxruntime and OMLT feed; outputs agree to float32 precision."""
    for k, net in enumerate(nets(rng)):
        m, path = tmp_path / f"m{k}.json", tmp_path / f"m{k}.onnx"
        net.save(m)
        assert main(["export", str(m), "--onnx", str(path), "--json", str(tmp_path / "e.json")]) == 0
        assert json.loads((tmp_path / "e.json").read_text())["onnx_dtype"] == "float32"
        sess = ort.InferenceSession(str(path))
        assert sess.get_inputs()[0].type == sess.get_outputs()[0].type == "tensor(float)"
        x = inputs(net, rng).astype(np.float32)
        got = sess.run(None, {"x": x})[0]
        assert got.dtype == np.float32
        ref = net.predict(x.astype(np.float64))
        assert np.allclose(got, ref, rtol=1e-5, atol=1e-5 * (1 + np.abs(ref).max()))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=2, max_size=4),
       st.sampled_from(["relu", "tanh", "elu", "leaky_relu"]), st.sampled_from(["float32", "float64"]),
       st.integers(0, 2**31))
def test_layered_nets_are_gemm_chains_read_back_exactly(tmp_path_factory, widths, act, dtype, seed):
    rng = np.random.default_rng(seed)
    arch = Architecture.layered(widths, act)
    net = Network(arch, rng.uniform(-1, 1, arch.n_params))
    path = tmp_path_factory.mktemp("o") / "n.onnx"
    net.to_onnx(path, dtype=dtype)
    ops = [nd.op_type for nd in onnx.load(str(path)).graph.node]
    assert ops.count("Gemm") == len(widths) - 1
    x = rng.uniform(-1, 1, (30, widths[0]))
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert np.allclose(_run(path, x.astype(dtype)), net.predict(x), rtol=tol, atol=tol)
    if dtype == "float32" or act in ("relu", "tanh"):  # float64 leaky/elu are written with Where
        back = from_onnx(path)
        assert back.arch.param_names == arch.param_names
        assert np.allclose(back.params, net.params, rtol=0, atol=1e-7 if dtype == "float32" else 0)


def test_errors_leave_no_file(tmp_path, rng, monkeypatch):
    net = nets(rng)[0]
    with pytest.raises(InputError, match="dtype='float16'"):
        net.to_onnx(tmp_path / "x.onnx", dtype="float16")
    assert not (tmp_path / "x.onnx").exists()
    m = tmp_path / "m.json"
    net.save(m)
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # torch absent: --torch refused before --onnx writes
    assert main(["export", str(m), "--onnx", str(tmp_path / "y.onnx"), "--torch", str(tmp_path / "y.pt")]) == 2
    assert not (tmp_path / "y.onnx").exists() and not (tmp_path / "y.pt").exists()
