"""Export: PyTorch and ONNX reproduce Network.predict (skipped without torch / onnxruntime)."""

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


def test_onnx_and_cli(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    for k, net in enumerate(nets(rng)):
        m = tmp_path / f"m{k}.json"
        net.save(m)
        assert main(["export", str(m), "--onnx", str(tmp_path / f"m{k}.onnx"), "--torch", str(tmp_path / f"m{k}.pt")]) == 0
        x = rng.integers(0, 2, (20, net.n_inputs)).astype(float) if net.info.get("binarized") else (
            rng.uniform(10, 20, (20, 1)) if net.scaling is not None else rng.uniform(-1, 1, (20, net.n_inputs)))
        sess = ort.InferenceSession(str(tmp_path / f"m{k}.onnx"))
        got = sess.run(None, {"x": x})[0]
        assert np.allclose(got, load_model(m).predict(x), rtol=1e-12, atol=1e-12)
        ts = torch.jit.load(str(tmp_path / f"m{k}.pt"))
        assert np.allclose(ts(torch.tensor(x)).numpy(), net.predict(x), rtol=1e-12, atol=1e-12)
