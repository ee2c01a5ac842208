"""Export: PyTorch and ONNX reproduce Network.predict (skipped without torch / onnxruntime)."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lptrain import api, load_model  # noqa: E402
from lptrain.architectures import resnet  # noqa: E402
from lptrain.bnn import BinaryFace, solve  # noqa: E402
from lptrain.cli import main  # noqa: E402
from lptrain.data import make_dataset  # noqa: E402
from lptrain.network import Network  # noqa: E402
from lptrain.arch import Architecture  # noqa: E402


def nets(rng):
    out = []
    for spec, act in [("1-2-1", "relu"), ("2-2-2", "tanh"), ("1-3-1", "elu"), ("2-1-1", "leaky_relu")]:
        a = Architecture.parse(spec, act)
        out.append(Network(a, rng.uniform(-1, 1, a.n_params)))
    r = resnet([2, 2, 2, 1])
    out.append(Network(r, rng.uniform(-1, 1, r.n_params)))
    raw = np.column_stack([rng.uniform(10, 20, 30), rng.uniform(-5, 5, 30)])
    res = api.train(make_dataset(raw, 1, scale=True), "1-2-1", bits=2)
    out.append(res.network)
    f = BinaryFace(Architecture.parse("2-2-1"), [[0, 0], [0, 1], [1, 0], [1, 1]], [[0], [1], [1], [0]])
    sol, _ = solve(f)
    out.append(Network(f.arch, sol.params, info={"binarized": True}))
    return out


def test_torch_matches_predict(rng):
    for net in nets(rng):
        x = rng.uniform(-1, 1, (50, net.n_inputs)) if not net.info.get("binarized") else \
            rng.integers(0, 2, (50, 2)).astype(float)
        if net.scaling is not None:
            x = rng.uniform(10, 20, (50, 1))
        got = net.to_torch()(torch.tensor(x)).detach().numpy()
        assert np.allclose(got, net.predict(x), rtol=1e-12, atol=1e-12)


def _inputs(net, rng, k=20):
    if net.info.get("binarized"):
        return rng.integers(0, 2, (k, net.n_inputs)).astype(float)
    return rng.uniform(10, 20, (k, 1)) if net.scaling is not None else rng.uniform(-1, 1, (k, net.n_inputs))


def test_onnx_and_cli(tmp_path, rng):
    """float64 on request: onnxruntime reproduces predict to the last digits."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    for k, net in enumerate(nets(rng)):
        m = tmp_path / f"m{k}.json"
        net.save(m)
        assert main(["export", str(m), "--onnx", str(tmp_path / f"m{k}.onnx"), "--torch", str(tmp_path / f"m{k}.pt"),
                     "--dtype", "float64"]) == 0
        x = _inputs(net, rng)
        sess = ort.InferenceSession(str(tmp_path / f"m{k}.onnx"))
        assert sess.get_inputs()[0].type == sess.get_outputs()[0].type == "tensor(double)"
        got = sess.run(None, {"x": x})[0]
        assert np.allclose(got, load_model(m).predict(x), rtol=1e-12, atol=1e-12)
        ts = torch.jit.load(str(tmp_path / f"m{k}.pt"))
        assert np.allclose(ts(torch.tensor(x)).numpy(), net.predict(x), rtol=1e-12, atol=1e-12)


def test_onnx_is_float32_by_default(tmp_path, rng):
    """float32 in and out, as onnxruntime and OMLT feed; outputs agree to float32 precision."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    for k, net in enumerate(nets(rng)):
        m, path = tmp_path / f"m{k}.json", tmp_path / f"m{k}.onnx"
        net.save(m)
        assert main(["export", str(m), "--onnx", str(path), "--json", str(tmp_path / "e.json")]) == 0
        assert json.loads((tmp_path / "e.json").read_text())["onnx_dtype"] == "float32"
        sess = ort.InferenceSession(str(path))
        assert sess.get_inputs()[0].type == sess.get_outputs()[0].type == "tensor(float)"
        x = _inputs(net, rng).astype(np.float32)
        got = sess.run(None, {"x": x})[0]
        assert got.dtype == np.float32
        ref = net.predict(x.astype(np.float64))
        assert np.allclose(got, ref, rtol=1e-5, atol=1e-5 * (1 + np.abs(ref).max()))
    net = nets(rng)[0]
    net.to_onnx(tmp_path / "api.onnx", dtype="float64")
    assert ort.InferenceSession(str(tmp_path / "api.onnx")).get_inputs()[0].type == "tensor(double)"


def test_grid_weights_are_exact_in_float32():
    from lptrain.grid import Grid

    for bits in (1, 2, 8, 16, 23):
        v = Grid(bits).values()[:: max(1, (1 << bits) // 4096)]
        assert np.array_equal(v.astype(np.float32).astype(np.float64), v)


def test_onnx_dtype_is_checked(tmp_path, rng):
    from lptrain.exceptions import InputError

    with pytest.raises(InputError, match="dtype='float16'"):
        nets(rng)[0].to_onnx(tmp_path / "x.onnx", dtype="float16")
    assert not (tmp_path / "x.onnx").exists()
