"""A trained network: architecture, grid parameters, optional scaling; predict, save, load.

Model files are JSON with a format version and a SHA-256 checksum over their content;
they are written atomically.  ``predict`` takes and returns raw units when the model
was trained with ``--scale``.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from .arch import Architecture
from .data import Scaling
from .exceptions import FileFormatError, InputError
from .fileio import atomic_write_text, read_bytes

FORMAT = "lptrain-model"
VERSION = 1


class Network:
    """f(., phi) for a fixed parameter vector phi (canonical order, docs/design.md §9)."""

    def __init__(self, arch: Architecture, params, scaling: Scaling | None = None, info=None):
        self.arch = arch
        self.params = np.asarray(params, dtype=np.float64)
        if self.params.shape != (arch.n_params,):
            raise InputError(f"expected {arch.n_params} parameters, got {self.params.shape}")
        self.scaling = scaling
        self.info = dict(info or {})

    @property
    def n_inputs(self):
        return self.arch.n_inputs

    @property
    def n_outputs(self):
        return self.arch.n_outputs

    def predict(self, x) -> np.ndarray:
        """Outputs for inputs x (P, n), in raw units if the model carries a scaling."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        if x.shape[1] != self.n_inputs:
            raise InputError(f"the model takes {self.n_inputs} inputs, got {x.shape[1]}")
        n = self.n_inputs
        if self.scaling is not None:
            x = self.scaling.forward(x, slice(0, n))
        if self.info.get("binarized"):
            from .bnn import forward

            return forward(self.arch, x, self.params[None, :])[0]
        z = self.arch.predict(x, self.params)
        if self.scaling is not None:
            z = self.scaling.inverse(z, slice(n, None))
        return z

    def describe(self) -> str:
        """The network as formulas, one node per line."""
        lines = []
        width = max(len(nd.name) for nd in self.arch.nodes)
        for nd in self.arch.nodes:
            terms = [f"{self.params[w]:+.4g}*{s}" for s, w in zip(nd.sources, nd.weights)]
            if nd.bias is not None:
                terms.append(f"{self.params[nd.bias]:+.4g}")
            expr = " ".join(terms)
            if self.info.get("binarized"):
                w = " ".join(f"{self.params[w]:+.0f}*{s}" for s, w in zip(nd.sources, nd.weights))
                expr = f"[{w} > {self.params[nd.bias]:+.0f}]"
            else:
                expr = f"{nd.activation}({expr})" if nd.activation else expr
            lines.append(f"  {nd.name:<{width}} = {expr}")
        return "\n".join(lines)

    def to_torch(self):
        """An ``nn.Module`` with identical outputs (see :mod:`lptrain.export`)."""
        from .export import to_torch

        return to_torch(self)

    def to_onnx(self, path, dtype="float32"):
        """Export to ONNX with ``dtype`` (``"float32"`` or ``"float64"``) inputs and outputs.

        onnxruntime reproduces :meth:`predict`: exactly with float64, to float32's precision
        with float32 (see :mod:`lptrain.onnx_export`).
        """
        from .export import to_onnx

        to_onnx(self, path, dtype)

    def to_dict(self) -> dict:
        d = {
            "format": FORMAT,
            "version": VERSION,
            "architecture": self.arch.to_dict(),
            "param_names": list(self.arch.param_names),
            "params": [float(p) for p in self.params],
            "scaling": self.scaling.to_dict() if self.scaling else None,
            "info": self.info,
        }
        d["checksum"] = _checksum(d)
        return d

    def save(self, path):
        atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path) -> "Network":
        raw = read_bytes(path, "model")
        try:
            d = json.loads(raw.decode())
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise FileFormatError(f"{path}: not a valid lptrain model file (not JSON)") from None
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise FileFormatError(f"{path}: not an lptrain model file")
        if d.get("version") != VERSION:
            raise FileFormatError(f"{path}: model file version {d.get('version')!r}, expected {VERSION}")
        stored = d.pop("checksum", None)
        if stored != _checksum(d):
            raise FileFormatError(f"{path}: checksum mismatch: the model file was altered or damaged")
        try:
            arch = Architecture.from_dict(d["architecture"])
            scaling = Scaling.from_dict(d["scaling"]) if d.get("scaling") else None
            return cls(arch, d["params"], scaling, d.get("info"))
        except (KeyError, TypeError, ValueError, InputError) as e:
            raise FileFormatError(f"{path}: invalid model content ({e})") from None


def _checksum(d: dict) -> str:
    body = {k: v for k, v in d.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
