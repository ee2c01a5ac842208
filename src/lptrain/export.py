"""Trained networks into PyTorch and ONNX (``pip install ".[torch,onnx]"``).

:func:`to_torch` returns an ``nn.Module`` that evaluates the network's DAG with the grid
parameters (the canonical order of docs/design.md §9) and, when the model was trained with
``--scale``, the same input and output maps, so its outputs equal ``Network.predict`` in raw
units.  It computes in float64 unless asked otherwise.

:func:`to_onnx` exports that module with float32 inputs and outputs by default, the type
onnxruntime and the tools built on ONNX (OMLT, ...) feed: a grid value -1 + 2j/2^B is
exact in float32 for B <= 23 bits, so only the arithmetic rounds (relative error ~1e-7).
``dtype="float64"`` exports a model whose outputs equal ``predict`` to the last digits.
"""

from __future__ import annotations

import numpy as np

from .activations import LEAKY_SLOPE
from .exceptions import InputError


def _torch():
    try:
        import torch
    except ImportError:
        raise InputError("export needs PyTorch: pip install 'lptrain[torch]'") from None
    return torch


DTYPES = ("float32", "float64")


def _dtype(torch, dtype):
    if dtype not in DTYPES:
        raise InputError(f"dtype={dtype!r}: choose 'float32' or 'float64'")
    return getattr(torch, dtype)


def to_torch(network, dtype="float64"):
    """An ``nn.Module`` computing ``network.predict`` in ``dtype`` (float64: identical outputs)."""
    torch = _torch()
    dt = _dtype(torch, dtype)
    arch = network.arch
    binar = bool(network.info.get("binarized"))
    n = arch.n_inputs
    zero = torch.zeros((), dtype=dt)
    acts = {  # elementary ops only: onnxruntime lacks float64 Elu and LeakyRelu
        "relu": lambda t: torch.where(t > 0, t, zero), "tanh": torch.tanh, "identity": lambda t: t,
        "leaky_relu": lambda t: torch.where(t >= 0, t, LEAKY_SLOPE * t),
        "elu": lambda t: torch.where(t > 0, t, torch.exp(torch.minimum(t, zero)) - 1.0),
    }
    if network.scaling is not None:
        lo = np.asarray(network.scaling.lo, dtype=np.float64)
        top = np.asarray(network.scaling.top or [1.0] * len(lo), dtype=np.float64)
        hi = lo + (np.asarray(network.scaling.hi, dtype=np.float64) - lo) * 2.0 / (top + 1.0)
    else:
        lo = hi = None

    class LPTrainNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.phi = torch.nn.Parameter(torch.tensor(network.params, dtype=dt), requires_grad=False)
            if lo is not None:
                span = hi - lo
                self.register_buffer("in_lo", torch.tensor(lo[:n], dtype=dt))
                self.register_buffer("in_span", torch.tensor(np.where(span[:n] > 0, span[:n], 1.0), dtype=dt))
                self.register_buffer("in_const", torch.tensor((span[:n] <= 0).astype(np.float64), dtype=dt))
                self.register_buffer("out_lo", torch.tensor(lo[n:], dtype=dt))
                self.register_buffer("out_span", torch.tensor(span[n:], dtype=dt))

        def forward(self, x):
            x = x.to(dt)
            if lo is not None:
                x = (2.0 * (x - self.in_lo) / self.in_span - 1.0) * (1.0 - self.in_const)
            vals = {name: x[:, i] for i, name in enumerate(arch.input_names)}
            for nd in arch.nodes:
                acc = torch.zeros_like(x[:, 0])
                for s, w in zip(nd.sources, nd.weights):
                    acc = acc + self.phi[w] * vals[s]
                if binar:
                    vals[nd.name] = (acc > self.phi[nd.bias]).to(dt)
                    continue
                if nd.bias is not None:
                    acc = acc + self.phi[nd.bias]
                vals[nd.name] = acts[nd.activation](acc) if nd.activation else acc
            z = torch.stack([vals[o] for o in arch.outputs], dim=1)
            if lo is not None and not binar:
                z = self.out_lo + (z + 1.0) * self.out_span / 2.0
            return z

    return LPTrainNet().eval()


def to_onnx(network, path, dtype="float32"):
    """Export to ONNX (opset 17), inputs and outputs in ``dtype``, a dynamic batch dimension.

    Written atomically.  ``dtype`` is ``"float32"`` (default) or ``"float64"``.
    """
    from .fileio import atomic_path

    torch = _torch()
    module = to_torch(network, dtype)
    x = torch.zeros((2, network.n_inputs), dtype=_dtype(torch, dtype))
    with atomic_path(path, ".onnx") as tmp:
        torch.onnx.export(module, (x,), tmp, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17,
                          dynamo=False)


def save_torch(network, path):
    """A TorchScript trace of the module (``torch.jit.load``), written atomically."""
    from .fileio import atomic_path

    torch = _torch()
    traced = torch.jit.trace(to_torch(network), torch.zeros((2, network.n_inputs), dtype=torch.float64))
    with atomic_path(path, ".pt") as tmp:
        traced.save(tmp)
