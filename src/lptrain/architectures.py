"""Common shapes written as architecture DAGs (Sec. 4.2): 1-D convolutions, ResNets.

Both return an :class:`~lptrain.arch.Architecture` whose ``dag_dict()`` is the JSON that
``--arch FILE.json`` reads.

* ``conv1d``: one convolutional layer over n inputs (kernel size q, stride s, c channels):
  node ``c{ch}_{p}`` reads x_{ps+1..ps+q} with the *shared* weights ``k{ch}_{1..q}`` and
  bias ``c{ch}``, then m dense affine outputs ``o{j}`` (weights ``v{j}_{ch}_{p}``, bias ``d{j}``).
  N = c (q + 1) + m (c P + 1) with P = (n - q) // s + 1 positions, far fewer than edges.
* ``resnet``: the layered net of ``widths`` plus a skip edge into node j of every layer
  i >= 2 from node j of layer i - 2 (for j within both widths), with its own weight
  ``S{i}[j]``: skip connections are edges from further back, the in-degree grows by one.
"""

from __future__ import annotations

from .arch import Architecture
from .exceptions import InputError


def conv1d(inputs: int, kernel: int, channels: int = 1, stride: int = 1, outputs: int = 1,
           activation: str = "relu") -> Architecture:
    if min(inputs, kernel, channels, stride, outputs) < 1:
        raise InputError("conv1d: inputs, kernel, channels, stride and outputs must be >= 1")
    if kernel > inputs:
        raise InputError(f"conv1d: kernel {kernel} is wider than the {inputs} inputs")
    positions = (inputs - kernel) // stride + 1
    nodes, conv = [], []
    for ch in range(1, channels + 1):
        for p in range(positions):
            name = f"c{ch}_{p + 1}"
            nodes.append({
                "name": name,
                "from": [f"x{p * stride + t + 1}" for t in range(kernel)],
                "weights": [f"k{ch}_{t + 1}" for t in range(kernel)],
                "bias": f"c{ch}",
                "activation": activation,
            })
            conv.append(name)
    outs = []
    for j in range(1, outputs + 1):
        nodes.append({"name": f"o{j}", "from": list(conv),
                      "weights": [f"v{j}_{c[1:]}" for c in conv], "bias": f"d{j}"})
        outs.append(f"o{j}")
    return Architecture(inputs, nodes, outs)


def resnet(widths, activation: str = "relu") -> Architecture:
    widths = [int(w) for w in widths]
    if len(widths) < 3 or min(widths) < 1:
        raise InputError("resnet: needs at least three positive widths (inputs, hidden..., outputs)")
    base = Architecture.layered(widths, activation).dag_dict()
    layer_names = [[f"x{i + 1}" for i in range(widths[0])]]
    k = len(widths) - 1
    for layer in range(1, k + 1):
        layer_names.append([f"o{j + 1}" if layer == k else f"h{layer}_{j + 1}" for j in range(widths[layer])])
    by_name = {nd["name"]: nd for nd in base["nodes"]}
    for layer in range(2, k + 1):
        for j, name in enumerate(layer_names[layer]):
            if j < len(layer_names[layer - 2]):
                nd = by_name[name]
                nd["from"].append(layer_names[layer - 2][j])
                nd["weights"].append(f"S{layer}[{j + 1}]")
    return Architecture(base["inputs"], base["nodes"], base["outputs"])
