"""Networks users bring, as an lptrain architecture and parameter vector (``lptrain gap``).

Accepted: an lptrain :class:`~lptrain.network.Network` (or its model file), an ONNX file of
a feed-forward net (Gemm, or MatMul then Add, with Relu / LeakyRelu / Elu / Tanh between;
read with the optional ``onnx`` package), a ``torch.nn.Sequential`` of ``Linear`` and those
activations, and a fitted scikit-learn ``MLPRegressor`` / ``MLPClassifier``.  Each becomes
the layered architecture n-w1-...-m (one activation per hidden layer; a DAG when they differ)
with its parameters in the canonical order of docs/design.md §9: per layer and unit j, W[j, :] then
b[j].  Activations must be the ones lptrain evaluates exactly: LeakyRelu with slope 0.01,
Elu with alpha 1; anything else is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..activations import LEAKY_SLOPE
from ..arch import Architecture
from ..exceptions import InputError


@dataclass
class Imported:
    """An imported network: architecture, parameters, scaling, and what it was."""

    arch: Architecture
    params: np.ndarray
    scaling: object = None
    source: str = ""
    loss: str | None = None
    classes: np.ndarray | None = None
    info: dict = field(default_factory=dict)


def dense_chain(layers, source="") -> Imported:
    """``layers``: list of (W (out, in), b (out,), activation after it or None); last is None."""
    if not layers:
        raise InputError(f"{source}: no dense layers found")
    widths = [int(layers[0][0].shape[1])] + [int(W.shape[0]) for W, _, _ in layers]
    for k, (W, b, _) in enumerate(layers):
        if W.shape[1] != widths[k] or b.shape != (W.shape[0],):
            raise InputError(f"{source}: layer {k + 1} has shape {W.shape}, expected {widths[k]} inputs")
    if layers[-1][2] is not None:
        raise InputError(f"{source}: the last layer has an activation ({layers[-1][2]}); "
                         "lptrain outputs are affine")
    acts = [a or "identity" for _, _, a in layers[:-1]]
    params = np.concatenate([np.column_stack([W, b]).ravel() for W, b, _ in layers]).astype(np.float64)
    if len(set(acts)) <= 1:
        arch = Architecture.layered(widths, acts[0] if acts else "relu")
    else:
        d = Architecture.layered(widths, "relu").dag_dict()
        k = 0
        for layer in range(1, len(widths) - 1):
            for _ in range(widths[layer]):
                d["nodes"][k]["activation"] = acts[layer - 1]
                k += 1
        arch = Architecture.from_dict(d)
    if not np.all(np.isfinite(params)):
        raise InputError(f"{source}: parameters contain NaN or infinite values")
    return Imported(arch, params, source=source)


def from_torch(model) -> Imported:
    import torch

    acts = {torch.nn.ReLU: "relu", torch.nn.Tanh: "tanh", torch.nn.ELU: "elu",
            torch.nn.LeakyReLU: "leaky_relu", torch.nn.Identity: None}
    mods = list(model.children()) if isinstance(model, torch.nn.Sequential) else [model]
    layers = []
    for m in mods:
        if isinstance(m, torch.nn.Linear):
            W = m.weight.detach().cpu().double().numpy()
            b = (m.bias.detach().cpu().double().numpy() if m.bias is not None else np.zeros(W.shape[0]))
            layers.append([W, b, None])
        elif type(m) in acts:
            name = acts[type(m)]
            if isinstance(m, torch.nn.LeakyReLU) and m.negative_slope != LEAKY_SLOPE:
                raise InputError(f"torch: LeakyReLU slope {m.negative_slope} (lptrain uses {LEAKY_SLOPE})")
            if isinstance(m, torch.nn.ELU) and m.alpha != 1.0:
                raise InputError(f"torch: ELU alpha {m.alpha} (lptrain uses 1)")
            if name is None:
                continue
            if not layers or layers[-1][2] is not None:
                raise InputError(f"torch: {type(m).__name__} must follow a Linear layer")
            layers[-1][2] = name
        else:
            raise InputError(f"torch: unsupported module {type(m).__name__}; a Sequential of Linear "
                             "and ReLU/LeakyReLU/ELU/Tanh is accepted")
    return dense_chain([tuple(L) for L in layers], "torch")


def from_sklearn(model) -> Imported:
    name = type(model).__name__
    if not hasattr(model, "coefs_"):
        raise InputError(f"scikit-learn {name}: not fitted (no coefs_)")
    act = {"relu": "relu", "tanh": "tanh", "identity": None}.get(model.activation, "bad")
    if act == "bad":
        raise InputError(f"scikit-learn {name}: activation {model.activation!r} is not one lptrain "
                         "evaluates (relu, tanh, identity)")
    layers = [[np.asarray(W, dtype=np.float64).T, np.asarray(b, dtype=np.float64), act]
              for W, b in zip(model.coefs_, model.intercepts_)]
    layers[-1][2] = None
    out = getattr(model, "out_activation_", "identity")
    classes = None
    loss = "quadratic"
    if name == "MLPClassifier" or out in ("softmax", "logistic"):
        classes = np.asarray(model.classes_)
        loss = "cross_entropy"
        if out == "logistic":
            W, b, _ = layers[-1]
            if W.shape[0] != 1 or len(classes) != 2:
                raise InputError(f"scikit-learn {name}: multi-label outputs are not supported")
            # sigmoid(l) = softmax([0, l])_1: two outputs, the first one identically 0
            layers[-1] = [np.vstack([np.zeros_like(W), W]), np.concatenate([[0.0], b]), None]
        elif out != "softmax":
            raise InputError(f"scikit-learn {name}: output activation {out!r} is not supported")
    imp = dense_chain([tuple(L) for L in layers], f"scikit-learn {name}")
    imp.loss, imp.classes = loss, classes
    return imp


def from_onnx(path) -> Imported:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise InputError("reading ONNX files needs the onnx package: pip install 'lptrain[onnx]'") from None
    try:
        model = onnx.load(str(path))
    except Exception as e:
        raise InputError(f"{path}: not a readable ONNX file ({type(e).__name__})") from None
    g = model.graph
    init = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
    for nd in g.node:
        if nd.op_type == "Constant":
            for a in nd.attribute:
                if a.name == "value":
                    init[nd.output[0]] = numpy_helper.to_array(a.t).astype(np.float64)
                elif a.name in ("value_float", "value_floats", "value_int", "value_ints"):
                    init[nd.output[0]] = np.asarray(onnx.helper.get_attribute_value(a), dtype=np.float64)
    layers = []
    pending = None  # a MatMul waiting for its Add
    acts = {"Relu": "relu", "Tanh": "tanh", "Elu": "elu", "LeakyRelu": "leaky_relu"}
    feeds = [i.name for i in g.input if i.name not in init]
    if len(feeds) != 1 or len(g.output) != 1:
        raise InputError(f"{path}: a feed-forward net has one input and one output")
    cur = feeds[0]  # the tensor the chain has computed so far; each node must read it

    def reads(nd, k=0):
        if len(nd.input) <= k or nd.input[k] != cur:
            raise InputError(f"{path}: {nd.op_type} does not read the previous layer's output "
                             f"({cur!r}); only a plain chain of layers is accepted")

    for nd in g.node:
        op = nd.op_type
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in nd.attribute}
        if op == "Constant":
            continue
        if op == "Gemm":
            reads(nd)
            if attrs.get("transA", 0):
                raise InputError(f"{path}: Gemm with transA is not supported")
            W = init.get(nd.input[1])
            if W is None:
                raise InputError(f"{path}: Gemm weights are not constants")
            W = W if attrs.get("transB", 0) else W.T
            W = W * float(attrs.get("alpha", 1.0))
            b = np.zeros(W.shape[0])
            if len(nd.input) > 2 and nd.input[2]:
                b = init.get(nd.input[2])
                if b is None:
                    raise InputError(f"{path}: Gemm bias {nd.input[2]!r} is not a constant")
            b = np.asarray(b * float(attrs.get("beta", 1.0)))
            if b.ndim == 2 and b.shape[0] == 1:
                b = b[0]
            if b.size not in (1, W.shape[0]) or b.ndim > 1:
                raise InputError(f"{path}: Gemm bias of shape {b.shape} for {W.shape[0]} units")
            b = np.broadcast_to(b, (W.shape[0],)).copy()
            layers.append([W, b, None])
        elif op == "MatMul":
            reads(nd)
            W = init.get(nd.input[1])
            if W is None:
                raise InputError(f"{path}: MatMul weights are not constants")
            pending = [W.T, np.zeros(W.shape[1]), None]
            layers.append(pending)
        elif op == "Add" and pending is not None:
            if cur not in nd.input[:2]:
                reads(nd)
            other = nd.input[1] if nd.input[0] == cur else nd.input[0]
            b = init.get(other)
            if b is None:
                raise InputError(f"{path}: Add after MatMul needs a constant bias")
            b = np.asarray(b)
            if b.ndim == 2 and b.shape[0] == 1:
                b = b[0]
            if b.size not in (1, pending[1].size) or b.ndim > 1:
                raise InputError(f"{path}: bias of shape {b.shape} for {pending[1].size} units")
            pending[1] = np.broadcast_to(b, pending[1].shape).copy()
            pending = None
        elif op in acts:
            reads(nd)
            name = acts[op]
            if op == "LeakyRelu" and np.float32(attrs.get("alpha", 0.01)) != np.float32(LEAKY_SLOPE):  # attributes are float32
                raise InputError(f"{path}: LeakyRelu alpha {attrs.get('alpha')} (lptrain uses {LEAKY_SLOPE})")
            if op == "Elu" and abs(float(attrs.get("alpha", 1.0)) - 1.0) > 1e-12:
                raise InputError(f"{path}: Elu alpha {attrs.get('alpha')} (lptrain uses 1)")
            if not layers or layers[-1][2] is not None:
                raise InputError(f"{path}: {op} must follow a dense layer")
            layers[-1][2] = name
            pending = None
        elif op in ("Identity", "Flatten", "Cast"):
            reads(nd)
        else:
            raise InputError(f"{path}: unsupported ONNX operator {op}; Gemm/MatMul+Add with "
                             "Relu/LeakyRelu/Elu/Tanh are accepted")
        cur = nd.output[0]
    if cur != g.output[0].name:
        raise InputError(f"{path}: the graph's output is not the last layer's")
    return dense_chain([tuple(L) for L in layers], str(path))


def import_network(obj) -> Imported:
    """Any accepted network (see the module docstring) as an :class:`Imported`."""
    from ..network import Network

    if isinstance(obj, Network):
        if obj.info.get("binarized"):
            raise InputError("binarized networks (App. C) have no continuous counterpart")
        return Imported(obj.arch, obj.params.copy(), obj.scaling, "lptrain model", obj.info.get("loss"))
    if isinstance(obj, (str, bytes)) or hasattr(obj, "__fspath__"):
        import os

        path = os.fspath(obj)
        if str(path).lower().endswith(".onnx"):
            return from_onnx(path)
        net = Network.load(path)
        imp = import_network(net)
        imp.source = str(path)
        return imp
    mod = type(obj).__module__ or ""
    if mod.startswith("torch"):
        return from_torch(obj)
    if mod.startswith("sklearn"):
        return from_sklearn(obj)
    raise InputError(f"cannot read a network from {type(obj).__name__}: give an lptrain Network or "
                     "model file, an ONNX file, a torch.nn.Sequential or a fitted MLPRegressor/MLPClassifier")
