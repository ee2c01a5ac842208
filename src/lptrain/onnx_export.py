"""Trained networks as ONNX graphs, built directly with the ``onnx`` package (no PyTorch).

A layered network ``n-w1-...-m`` becomes the chain the ONNX tools expect: ``Gemm`` per layer
(weights ``W`` of shape (out, in), ``transB=1``) followed by ``Relu``/``Tanh``/``LeakyRelu``/
``Elu`` -- the form OMLT reads and :func:`lptrain.gap` imports back.  Any other DAG (shared
weights, skip connections) and binarized networks (App. C) become an elementwise graph of the
node sums in the canonical parameter order (docs/design.md §9).  A model trained with
``--scale`` gets the same input and output maps as :meth:`Network.predict` around the net.

Inputs and outputs are float32 by default (grid values -1 + 2j/2^B are exact there for
B <= 23); ``dtype="float64"`` reproduces ``predict`` to rounding.  onnxruntime has no float64
``LeakyRelu``/``Elu`` kernels, so in float64 those two are written with ``Where``.
"""

from __future__ import annotations

import numpy as np

from .activations import LEAKY_SLOPE
from .exceptions import InputError

DTYPES = ("float32", "float64")
OPSET = 17
IR_VERSION = 8  # the IR of opset 17: read by every onnxruntime since 1.11


def _onnx():
    try:
        import onnx
    except ImportError:
        raise InputError("ONNX export needs the onnx package: pip install 'lptrain[onnx]'") from None
    return onnx


class _Graph:
    """Nodes and constants of the graph being built; names are unique and short."""

    def __init__(self, onnx, dtype):
        self.onnx, self.dt, self.nodes, self.inits, self.k = onnx, dtype, [], [], 0

    def _name(self, prefix):
        self.k += 1
        return f"{prefix}{self.k}"

    def const(self, value, dtype=None):
        name = self._name("c")
        arr = np.asarray(value, dtype=dtype or self.dt)
        self.inits.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type, *inputs, **attrs):
        name = self._name("t")
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [name], **attrs))
        return name


def _activate(g: _Graph, name, t):
    if name is None or name == "identity":
        return t
    if name == "relu":
        return g.op("Relu", t)
    if name == "tanh":
        return g.op("Tanh", t)
    float32 = g.dt == np.float32
    if name == "leaky_relu":
        if float32:
            return g.op("LeakyRelu", t, alpha=LEAKY_SLOPE)
        return g.op("Where", g.op("Less", t, g.const(0.0)), g.op("Mul", t, g.const(LEAKY_SLOPE)), t)
    if name == "elu":
        if float32:
            return g.op("Elu", t, alpha=1.0)
        zero = g.const(0.0)
        neg = g.op("Sub", g.op("Exp", g.op("Min", t, zero)), g.const(1.0))
        return g.op("Where", g.op("Greater", t, zero), t, neg)
    raise InputError(f"activation {name!r} has no ONNX form; export supports relu, leaky_relu, elu, tanh")


def _scaling(network):
    """(lo, hi) of the affine maps onto [-1, top] (as :func:`lptrain.export.to_torch`), or None."""
    sc = network.scaling
    if sc is None:
        return None
    lo = np.asarray(sc.lo, dtype=np.float64)
    top = np.asarray(sc.top or [1.0] * len(lo), dtype=np.float64)
    hi = lo + (np.asarray(sc.hi, dtype=np.float64) - lo) * 2.0 / (top + 1.0)
    return lo, hi


def _layers(arch, params):
    """[(W, b, activation)] of a layered architecture, W of shape (out, in)."""
    out, pos = [], 0
    for layer, width in enumerate(arch.widths[1:]):
        nodes = arch.nodes[pos:pos + width]
        pos += width
        W = np.array([[params[w] for w in nd.weights] for nd in nodes])
        b = np.array([params[nd.bias] for nd in nodes])
        out.append((W, b, nodes[0].activation))
    return out


def _dag(g: _Graph, network, x):
    """The node sums of any DAG, elementwise on columns (N, 1); returns the (N, m) output."""
    arch, phi = network.arch, network.params
    binar = bool(network.info.get("binarized"))
    vals = {name: g.op("Gather", x, g.const([i], np.int64), axis=1)
            for i, name in enumerate(arch.input_names)}
    for nd in arch.nodes:
        acc = None
        for s, w in zip(nd.sources, nd.weights):
            term = g.op("Mul", vals[s], g.const(phi[w]))
            acc = term if acc is None else g.op("Add", acc, term)
        if acc is None:
            acc = g.op("Mul", g.op("Gather", x, g.const([0], np.int64), axis=1), g.const(0.0))
        if binar:
            vals[nd.name] = g.op("Cast", g.op("Greater", acc, g.const(phi[nd.bias])),
                                 to=g.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(g.dt)))
            continue
        if nd.bias is not None:
            acc = g.op("Add", acc, g.const(phi[nd.bias]))
        vals[nd.name] = _activate(g, nd.activation, acc)
    outs = [vals[o] for o in arch.outputs]
    return outs[0] if len(outs) == 1 else g.op("Concat", *outs, axis=1)


def build(network, dtype="float32"):
    """The ONNX ``ModelProto`` of ``network`` (checked by ``onnx.checker``)."""
    onnx = _onnx()
    if dtype not in DTYPES:
        raise InputError(f"dtype={dtype!r}: choose 'float32' or 'float64'")
    g = _Graph(onnx, np.float32 if dtype == "float32" else np.float64)
    arch, n = network.arch, network.n_inputs
    binar = bool(network.info.get("binarized"))
    maps = _scaling(network)
    x = "x"
    if maps is not None:
        lo, hi = maps
        span = hi - lo
        safe = np.where(span[:n] > 0, span[:n], 1.0)
        t = g.op("Div", g.op("Mul", g.op("Sub", x, g.const(lo[:n])), g.const(2.0)), g.const(safe))
        x = g.op("Mul", g.op("Sub", t, g.const(1.0)), g.const((span[:n] > 0).astype(np.float64)))
    if arch.widths is not None and not binar and not arch.has_shared_parameters:
        z = x
        for W, b, act in _layers(arch, network.params):
            z = _activate(g, act, g.op("Gemm", z, g.const(W), g.const(b), transB=1))
    else:
        z = _dag(g, network, x)
    if maps is not None and not binar:
        lo, hi = maps
        z = g.op("Add", g.op("Mul", g.op("Add", z, g.const(1.0)), g.const((hi - lo)[n:] / 2.0)),
                 g.const(lo[n:]))
    g.nodes.append(onnx.helper.make_node("Identity", [z], ["y"]))
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(g.dt))
    graph = onnx.helper.make_graph(
        g.nodes, "lptrain", [onnx.helper.make_tensor_value_info("x", elem, ["batch", n])],
        [onnx.helper.make_tensor_value_info("y", elem, ["batch", network.n_outputs])], g.inits)
    model = onnx.helper.make_model(graph, producer_name="lptrain",
                                   opset_imports=[onnx.helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def to_onnx(network, path, dtype="float32"):
    """Write ``network`` as ONNX (opset 17, a dynamic batch dimension), atomically.

    Parameters
    ----------
    network : Network
    path : str or path-like
    dtype : {"float32", "float64"}
        Type of the inputs, outputs and arithmetic.
    """
    from .fileio import atomic_path

    model = build(network, dtype)
    with atomic_path(path, ".onnx") as tmp:
        with open(tmp, "wb") as fh:
            fh.write(model.SerializeToString())
