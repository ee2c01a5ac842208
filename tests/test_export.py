"""Export to PyTorch reproduces Network.predict (skipped without torch); ONNX: test_onnx_export.py."""


import numpy as np
import pytest

torch = pytest.importorskip("torch")

from export_nets import inputs, nets  # noqa: E402
from lptrain.cli import main  # noqa: E402


def test_torch_matches_predict(rng):
    for net in nets(rng):
        x = rng.uniform(-1, 1, (50, net.n_inputs)) if not net.info.get("binarized") else \
            rng.integers(0, 2, (50, 2)).astype(float)
        if net.scaling is not None:
            x = rng.uniform(10, 20, (50, 1))
        got = net.to_torch()(torch.tensor(x)).detach().numpy()
        assert np.allclose(got, net.predict(x), rtol=1e-12, atol=1e-12)


def test_torch_export_and_cli(tmp_path, rng):
    for k, net in enumerate(nets(rng)):
        m = tmp_path / f"m{k}.json"
        net.save(m)
        assert main(["export", str(m), "--torch", str(tmp_path / f"m{k}.pt2")]) == 0
        x = inputs(net, rng)
        ts = torch.export.load(str(tmp_path / f"m{k}.pt2")).module()
        assert np.allclose(ts(torch.tensor(x)).numpy(), net.predict(x), rtol=1e-12, atol=1e-12)


def test_grid_weights_are_exact_in_float32():
    from lptrain.grid import Grid

    for bits in (1, 2, 8, 16, 23):
        v = Grid(bits).values()[:: max(1, (1 << bits) // 4096)]
        assert np.array_equal(v.astype(np.float32).astype(np.float64), v)
