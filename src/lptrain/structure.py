"""Sec. 5, measured: the network-structure formulation and its real treewidth.

Sec. 5 adds node variables s_{v,d} in [-1, 1] (Assumption 5.1), one per data point and
non-input node, discretized like everything else with B bits, and the constraints

    s_{v,d} = a_v( sum_{u -> v} phi_uv s_{u,d} + phi_v )      (s_{x_i,d} = x_{d,i})
    L_d = l(s_{outputs,d}, y_d)

whose supports define the intersection graph Gamma over all binary variables (bits of
phi, of x_d, y_d and of every s_{v,d}).  The paper claims a tree decomposition of width
B (tw(Gamma_phi) + |V(G)| + n + m), built by copying a decomposition of Gamma_phi (the
parameters' graph: two parameters adjacent when they meet in one node's constraint) once
per data point, concatenating the copies and adding each data point's variables to its
copy's bags.

Here we build Gamma, decompose it with networkx heuristics, validate every decomposition
mechanically, compute proven lower bounds, and build the paper's construction literally
and check it.  One lower bound is specific: contracting each data point's block (its
data and node bits, connected in Gamma) leaves every parameter bit adjacent to every
block, a K_{BN, D} subgraph of a minor of Gamma, so tw(Gamma) >= min(B N, D); the code
verifies that structure on the graph rather than assuming it.
"""

from __future__ import annotations

import itertools

import networkx as nx

from . import decomposition as dec
from .arch import Architecture
from .exceptions import SizeError


def bits_of(name, B):
    return [(name, h) for h in range(B)]


def formulation(arch: Architecture, B: int, D: int):
    """(Gamma, supports, blocks, param_vertices): the Sec. 5 formulation's graph."""
    G = nx.Graph()
    supports = []
    params = [v for i in range(arch.n_params) for v in bits_of(("phi", i), B)]
    G.add_nodes_from(params)
    blocks = []
    for d in range(D):
        block = []
        val = {}
        for i, xn in enumerate(arch.input_names):
            val[xn] = bits_of(("x", d, i), B)
            block += val[xn]
        for nd in arch.nodes:
            own = bits_of(("s", d, nd.name), B)
            block += own
            sup = list(own)
            for s, w in zip(nd.sources, nd.weights):
                sup += val[s] + bits_of(("phi", w), B)
            if nd.bias is not None:
                sup += bits_of(("phi", nd.bias), B)
            supports.append(sup)
            val[nd.name] = own
        ys = [v for j in range(arch.n_outputs) for v in bits_of(("y", d, j), B)]
        block += ys
        supports.append([v for o in arch.outputs for v in val[o]] + ys)
        blocks.append(block)
        G.add_nodes_from(block)
    for sup in supports:
        G.add_edges_from(itertools.combinations(set(sup), 2))
    return G, supports, blocks, params


def parameter_graph(arch: Architecture) -> nx.Graph:
    """Gamma_phi at the parameter level: parameters meeting in one node's constraint."""
    H = nx.Graph()
    H.add_nodes_from(range(arch.n_params))
    for nd in arch.nodes:
        ps = list(nd.weights) + ([nd.bias] if nd.bias is not None else [])
        H.add_edges_from(itertools.combinations(set(ps), 2))
    return H


def minor_bound(G, blocks, params) -> int:
    """min(#params adjacent to every block, #blocks), each block connected: a K_{a,b} minor."""
    if not blocks or not all(nx.is_connected(G.subgraph(b)) for b in blocks):
        return 0
    touching = set(params)
    for b in blocks:
        nb = set()
        for v in b:
            nb.update(G.neighbors(v))
        touching &= nb
    return min(len(touching), len(blocks))


def paper_construction(arch: Architecture, B: int, D: int, Tphi: nx.Graph) -> nx.Graph:
    """Sec. 5's decomposition, literally: copies of (T, Q) of Gamma_phi, one per data point,
    concatenated, each bag of copy d extended by all of d's data-dependent bits."""
    _, _, blocks, _ = formulation(arch, B, D)
    bags = list(Tphi.nodes)
    T = nx.Graph()
    first = []
    for d in range(D):
        extra = frozenset(blocks[d])

        def lift(bag, extra=extra):
            return frozenset(v for p in bag for v in bits_of(("phi", p), B)) | extra

        for bag in bags:
            T.add_node(lift(bag))
        for a, b in Tphi.edges:
            T.add_edge(lift(a), lift(b))
        first.append(lift(bags[0]))
    for d in range(D - 1):
        T.add_edge(first[d], first[d + 1])
    return T


MAX_VERTICES = 20_000


def measure(arch: Architecture, B: int, D: int, heuristics=("min_degree", "min_fill_in")) -> dict:
    """Decompose Gamma, validate, bound, and test the paper's claim and construction.

    Refused (:class:`~lptrain.exceptions.SizeError`) before anything is built when Gamma would
    have more than :data:`MAX_VERTICES` vertices: B (N + D (n + m + |V|)).
    """
    vertices = B * (arch.n_params + D * (arch.n_inputs + arch.n_outputs + len(arch.nodes)))
    if vertices > MAX_VERTICES:
        raise SizeError(f"structure: the intersection graph would have over {MAX_VERTICES} vertices "
                        f"({vertices:,}); use fewer samples or bits")
    G, supports, blocks, params = formulation(arch, B, D)
    widths, best = {}, None
    valid = True
    for h in heuristics:
        w, T = dec.decompose(G, h)
        ok, why = dec.is_valid(G, T, supports)
        valid &= ok
        widths[h] = w
        if ok and (best is None or w < best):
            best = w
    H = parameter_graph(arch)
    tw_phi_ub = min(dec.decompose(H, h)[0] for h in heuristics)
    tw_phi_lb = dec.lower_bound(H)
    _, Tphi = min((dec.decompose(H, h) for h in heuristics), key=lambda t: t[0])
    n_vertices = arch.n_inputs + len(arch.nodes)
    claimed = B * (tw_phi_ub + n_vertices + arch.n_inputs + arch.n_outputs)
    lb_minor = minor_bound(G, blocks, params)
    lb = max(dec.lower_bound(G), lb_minor)
    Tp = paper_construction(arch, B, D, Tphi)
    pc_ok, pc_why = dec.is_valid(G, Tp, supports)
    verdict = "refuted" if lb > claimed else ("consistent" if best is not None and best <= claimed else "open")
    return {
        "architecture": arch.describe(), "bits": B, "samples": D,
        "parameters": arch.n_params, "graph_vertices": G.number_of_nodes(),
        "graph_edges": G.number_of_edges(),
        "measured_width": best, "heuristic_widths": widths, "decomposition_valid": bool(valid),
        "lower_bound": lb, "minor_lower_bound": lb_minor,
        "tw_phi": tw_phi_ub, "tw_phi_lower_bound": tw_phi_lb,
        "claimed_width": claimed, "claim": verdict,
        "paper_construction_valid": pc_ok, "paper_construction_violation": pc_why,
        "paper_construction_width": dec.width(Tp),
    }
