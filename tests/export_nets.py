"""Networks every exporter must reproduce: layered nets of each activation, a ResNet DAG,
a model trained with --scale and a binarized net (App. C)."""

import numpy as np

from lptrain import api
from lptrain.arch import Architecture
from lptrain.architectures import resnet
from lptrain.bnn import BinaryFace, solve
from lptrain.data import make_dataset
from lptrain.network import Network


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


def inputs(net, rng, k=20):
    if net.info.get("binarized"):
        return rng.integers(0, 2, (k, net.n_inputs)).astype(float)
    return rng.uniform(10, 20, (k, 1)) if net.scaling is not None else rng.uniform(-1, 1, (k, net.n_inputs))
