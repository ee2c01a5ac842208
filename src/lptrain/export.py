"""Trained networks into PyTorch (``pip install ".[torch]"``) and ONNX (``".[onnx]"``).

:func:`to_torch` returns an ``nn.Module`` that evaluates the network's DAG with the grid
parameters (the canonical order of docs/design.md §9) and, when the model was trained with
``--scale``, the same input and output maps, so its outputs equal ``Network.predict`` in raw
units.  It computes in float64 unless asked otherwise.

:func:`to_onnx` writes the same network as an ONNX graph built directly with the ``onnx``
package (:mod:`lptrain.onnx_export`: Gemm layers for layered nets), float32 by default.
"""

from __future__ import annotations

import numpy as np

from .activations import LEAKY_SLOPE
from .exceptions import InputError


def torch_module():
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
    torch = torch_module()
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
    """Export to ONNX: see :func:`lptrain.onnx_export.to_onnx` (built without PyTorch)."""
    from .onnx_export import to_onnx as write

    write(network, path, dtype)


def save_torch(network, path):
    """The module as a ``torch.export`` program with a dynamic batch dimension, written
    atomically; ``torch.export.load(path).module()`` gives it back (TorchScript is deprecated)."""
    from .fileio import atomic_path

    torch = torch_module()
    x = torch.zeros((2, network.n_inputs), dtype=torch.float64)
    program = torch.export.export(to_torch(network), (x,), dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
    with atomic_path(path, ".pt2") as tmp:
        torch.export.save(program, tmp)
