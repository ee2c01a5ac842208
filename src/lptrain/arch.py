"""Architectures as DAGs of affine nodes with activations (Sec. 4, docs/design.md §5, §9).

Every non-input node v computes ``a_v(sum_{u -> v} phi_uv s_u + phi_v)``; output nodes
are affine (no activation).  Parameters are *named*: a name used on several edges is
one shared parameter (weight sharing, as in CNNs), so N counts distinct names.

The canonical parameter order (docs/design.md §9) is the order of first appearance when the
nodes are read in topological order, each node's in-edge weights in source order and
then its bias.  A layered ``n-w1-...-m`` network is sugar for the DAG whose node for
neuron j of layer i reads every node of layer i-1 with weights ``W{i}[j,k]`` and bias
``b{i}[j]``, so its order is, per layer and neuron j, A[j, :] then b[j].
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .exceptions import InputError

MAX_INPUTS = 10_000
MAX_EDGES = 1_000_000


@dataclass(frozen=True)
class Node:
    """One non-input node: its sources, weight and bias parameter indices, activation."""

    name: str
    sources: tuple
    weights: tuple
    bias: int | None
    activation: str | None


class Architecture:
    """A feed-forward network over inputs x1..xn: nodes in topological order, outputs.

    Parameters
    ----------
    n_inputs : int
    nodes : sequence of dicts or :class:`Node`
        For dicts: ``name``, ``from`` (source names), ``weights`` (parameter names, one
        per source), optional ``bias`` (parameter name) and ``activation``.
    outputs : sequence of node names (affine nodes, in output order)
    spec : dict, optional
        The description :meth:`to_dict` returns (default: the DAG description).
    widths : sequence of int, optional
        ``(n, w1, ..., m)`` when the architecture is the layered network of these widths
        (set by :meth:`layered`); ``None`` for any other DAG.
    """

    def __init__(self, n_inputs, nodes, outputs, *, spec=None, widths=None):
        if not isinstance(n_inputs, int) or isinstance(n_inputs, bool) or n_inputs < 1:
            raise InputError(f"architecture needs a positive number of inputs, got {n_inputs!r}")
        if n_inputs > MAX_INPUTS:
            raise InputError(f"architecture has {n_inputs} inputs; at most {MAX_INPUTS} are supported")
        if not isinstance(nodes, (list, tuple)):
            raise InputError("architecture 'nodes' must be a list")
        if not isinstance(outputs, (list, tuple)) or not all(isinstance(o, str) for o in outputs):
            raise InputError("architecture 'outputs' must be a list of node names")
        edges = sum(len(nd["from"]) if isinstance(nd, dict) and isinstance(nd.get("from"), (list, tuple))
                    else 1 for nd in nodes)
        if edges > MAX_EDGES:
            raise InputError(f"architecture has {edges} edges; at most {MAX_EDGES} are supported")
        self.n_inputs = n_inputs
        self.input_names = tuple(f"x{i + 1}" for i in range(n_inputs))
        self.param_names: list[str] = []
        index: dict[str, int] = {}
        known = set(self.input_names)
        built = []
        for k, raw in enumerate(nodes):
            node = self._parse_node(k, raw, known, index)
            known.add(node.name)
            built.append(node)
        if not built:
            raise InputError("architecture has no nodes")
        self.nodes = tuple(built)
        self.node_index = {nd.name: i for i, nd in enumerate(self.nodes)}
        outputs = tuple(outputs)
        if not outputs:
            raise InputError("architecture has no outputs")
        for o in outputs:
            if o not in self.node_index:
                raise InputError(f"output {o!r} is not a node of the architecture")
            if self.nodes[self.node_index[o]].activation is not None:
                raise InputError(f"output node {o!r} has an activation; outputs must be affine")
        if len(set(outputs)) != len(outputs):
            raise InputError("an output is listed twice")
        self.outputs = outputs
        self.param_names = tuple(self.param_names)
        self.widths = None if widths is None else tuple(int(w) for w in widths)
        self.spec = spec or self.dag_dict()

    def _parse_node(self, k, raw, known, index) -> Node:
        if isinstance(raw, Node):
            return raw
        if not isinstance(raw, dict):
            raise InputError(f"node {k + 1} must be an object, got {type(raw).__name__}")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"node {k + 1} has no name")
        if name in known:
            raise InputError(f"duplicate node name {name!r}")
        srcs = raw.get("from")
        weights = raw.get("weights")
        if not isinstance(srcs, list) or not srcs or not all(isinstance(s, str) for s in srcs):
            raise InputError(f"node {name!r}: 'from' must be a non-empty list of names")
        if not isinstance(weights, list) or not all(isinstance(w, str) and w for w in weights):
            raise InputError(f"node {name!r}: 'weights' must be a list of parameter names")
        if len(weights) != len(srcs):
            raise InputError(f"node {name!r}: {len(srcs)} sources but {len(weights)} weights")
        for s in srcs:
            if s not in known:
                raise InputError(
                    f"node {name!r} reads {s!r}, which is not an input or an earlier node"
                )
        if len(set(srcs)) != len(srcs):
            raise InputError(f"node {name!r} reads the same source twice")
        bias = raw.get("bias")
        if bias is not None and not (isinstance(bias, str) and bias):
            raise InputError(f"node {name!r}: 'bias' must be a parameter name")
        act = raw.get("activation")
        if act is not None:
            if not isinstance(act, str):
                raise InputError(f"node {name!r}: 'activation' must be a name")
            get_activation(act)

        def pid(p):
            if p not in index:
                index[p] = len(self.param_names)
                self.param_names.append(p)
            return index[p]

        w_ids = tuple(pid(w) for w in weights)
        b_id = pid(bias) if bias is not None else None
        return Node(name, tuple(srcs), w_ids, b_id, act)

    # -- construction helpers -------------------------------------------------------

    @classmethod
    def layered(cls, widths, activation="relu") -> "Architecture":
        """The fully connected network n-w1-...-m (docs/design.md §9 parameter order)."""
        if not isinstance(widths, (list, tuple)) or not all(
            isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in widths
        ):
            raise InputError("'layers' must be a list of integer widths")
        widths = [int(w) for w in widths]
        if len(widths) < 2 or any(w < 1 for w in widths):
            raise InputError("a layered architecture needs at least two positive widths")
        if sum(a * b for a, b in zip(widths, widths[1:])) > MAX_EDGES or widths[0] > MAX_INPUTS:
            raise InputError(f"architecture {'-'.join(map(str, widths))} is too large (over {MAX_EDGES} edges)")
        if not isinstance(activation, str):
            raise InputError("'activation' must be a name")
        get_activation(activation)
        prev = [f"x{i + 1}" for i in range(widths[0])]
        nodes = []
        k = len(widths) - 1
        for layer in range(1, k + 1):
            cur = []
            last = layer == k
            for j in range(widths[layer]):
                name = f"o{j + 1}" if last else f"h{layer}_{j + 1}"
                nodes.append(
                    {
                        "name": name,
                        "from": list(prev),
                        "weights": [f"W{layer}[{j + 1},{i + 1}]" for i in range(len(prev))],
                        "bias": f"b{layer}[{j + 1}]",
                        "activation": None if last else activation,
                    }
                )
                cur.append(name)
            prev = cur
        spec = {"layers": widths, "activation": activation}
        return cls(widths[0], nodes, prev, spec=spec, widths=widths)

    @classmethod
    def parse(cls, text: str, activation="relu") -> "Architecture":
        """Parse ``n-w1-...-m`` (e.g. ``1-2-1``) into a layered architecture."""
        if not isinstance(text, str) or not re.fullmatch(r"\s*\d+(\s*-\s*\d+)+\s*", text):
            raise InputError(
                f"malformed architecture {text!r}: expected widths like 1-2-1 (inputs-hidden-outputs)"
            )
        widths = [int(t) for t in text.split("-")]
        if any(w < 1 for w in widths):
            raise InputError(f"malformed architecture {text!r}: every width must be at least 1")
        return cls.layered(widths, activation)

    @classmethod
    def from_dict(cls, d) -> "Architecture":
        """Inverse of :meth:`to_dict` (a layered spec or a DAG spec)."""
        if not isinstance(d, dict):
            raise InputError("architecture must be a JSON object")
        if "layers" in d:
            return cls.layered(d["layers"], d.get("activation", "relu"))
        try:
            return cls(d["inputs"], d["nodes"], d["outputs"], spec=d)
        except KeyError as e:
            raise InputError(f"architecture is missing the field {e.args[0]!r}") from None

    def to_dict(self) -> dict:
        """A JSON-able description that :meth:`from_dict` reads back."""
        if self.spec:
            return self.spec
        return self.dag_dict()

    def dag_dict(self) -> dict:
        """The full DAG description (the architecture-file format), also for layered nets."""
        nodes = []
        for nd in self.nodes:
            e = {
                "name": nd.name,
                "from": list(nd.sources),
                "weights": [self.param_names[w] for w in nd.weights],
            }
            if nd.bias is not None:
                e["bias"] = self.param_names[nd.bias]
            if nd.activation is not None:
                e["activation"] = nd.activation
            nodes.append(e)
        return {"inputs": self.n_inputs, "nodes": nodes, "outputs": list(self.outputs)}

    # -- sizes -----------------------------------------------------------------------

    @property
    def n_params(self) -> int:
        """N: the number of distinct parameters."""
        return len(self.param_names)

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)

    @property
    def max_in_degree(self) -> int:
        """Delta of Lemma 4.5."""
        return max(len(nd.sources) for nd in self.nodes)

    def levels(self) -> dict:
        """Depth of every node: inputs 0, a node 1 + the deepest of its sources."""
        lv = {x: 0 for x in self.input_names}
        for nd in self.nodes:
            lv[nd.name] = 1 + max(lv[s] for s in nd.sources)
        return lv

    @property
    def depth(self) -> int:
        """k: the number of layers (longest path from an input to an output, in edges)."""
        lv = self.levels()
        return max(lv[o] for o in self.outputs)

    @property
    def width(self) -> int:
        """w: the most nodes on one level below the output level (inputs included)."""
        lv = self.levels()
        k = self.depth
        counts = {}
        for v, d in lv.items():
            if d < k:
                counts[d] = counts.get(d, 0) + 1
        return max(counts.values())

    @property
    def n_edges(self) -> int:
        return sum(len(nd.sources) for nd in self.nodes)

    @property
    def has_shared_parameters(self) -> bool:
        uses = sum(len(nd.weights) + (nd.bias is not None) for nd in self.nodes)
        return uses > self.n_params

    @property
    def has_skip_connections(self) -> bool:
        lv = self.levels()
        return any(lv[s] < lv[nd.name] - 1 for nd in self.nodes for s in nd.sources)

    @property
    def kind(self) -> str:
        """DNN, CNN (shared weights), ResNet (skip connections) or DAG, for Table 1."""
        if self.widths is not None:
            return "DNN"
        if self.has_skip_connections:
            return "ResNet"
        if self.has_shared_parameters:
            return "CNN"
        return "DAG"

    def describe(self) -> str:
        w = self.widths
        if w is not None:
            act = self.spec.get("activation", "relu")
            return "-".join(map(str, w)) + f" ({act})"
        return f"DAG: {self.n_inputs} inputs, {len(self.nodes)} nodes, {self.n_params} parameters"

    # -- evaluation ------------------------------------------------------------------

    def forward(self, x, params) -> np.ndarray:
        """Outputs f(x, phi) for every pair of a parameter vector and a point.

        x : (P, n) points; params : (C, N) parameter vectors.  Returns (C, P, m).
        """
        x = np.asarray(x, dtype=np.float64)
        params = np.asarray(params, dtype=np.float64)
        vals = {name: x[None, :, i] for i, name in enumerate(self.input_names)}
        C = params.shape[0]
        P = x.shape[0]
        for nd in self.nodes:
            acc = np.zeros((C, P)) if nd.bias is None else np.repeat(params[:, nd.bias, None], P, 1)
            for s, w in zip(nd.sources, nd.weights):
                acc += params[:, w, None] * vals[s]
            if nd.activation is not None:
                acc = get_activation(nd.activation)(acc)
            vals[nd.name] = acc
        return np.stack([vals[o] for o in self.outputs], axis=-1)

    def predict(self, x, params) -> np.ndarray:
        """f(x, phi) for one parameter vector: x (P, n) -> (P, m)."""
        return self.forward(x, np.asarray(params, dtype=np.float64)[None, :])[0]
