"""Tree decompositions (Def. 2.3): heuristics, a mechanical checker, Lemma 2.5's shrinking.

A decomposition is a networkx tree whose nodes are bags (frozensets of graph vertices),
as networkx's ``treewidth_min_degree`` / ``treewidth_min_fill_in`` return it.  Its width is
the largest bag size minus one.

:func:`validate` checks the three axioms and that every given clique (support) lies in
some bag (Lemma 2.6), and raises :class:`DecompositionError` naming the first violation;
:func:`shrink` contracts every tree edge whose one bag contains the other, which leaves at
most |V(Gamma)| bags (Lemma 2.5).  Lower bounds on treewidth: degeneracy and the
minor-min-width heuristic (contracting a minimum-degree vertex into its lowest-degree
neighbour), both valid lower bounds since treewidth is minor-monotone.
"""

from __future__ import annotations

import networkx as nx
from networkx.algorithms.approximation import treewidth_min_degree, treewidth_min_fill_in

from .exceptions import LPTrainError

HEURISTICS = {"min_degree": treewidth_min_degree, "min_fill_in": treewidth_min_fill_in}


class DecompositionError(LPTrainError):
    """A tree decomposition that breaks one of the axioms of Def. 2.3."""


def width(T: nx.Graph) -> int:
    return max((len(b) for b in T.nodes), default=0) - 1


def decompose(G: nx.Graph, heuristic="min_fill_in"):
    """(width, decomposition) of G by a networkx heuristic; a single empty bag for an empty graph."""
    if G.number_of_nodes() == 0:
        T = nx.Graph()
        T.add_node(frozenset())
        return -1, T
    try:
        fn = HEURISTICS[heuristic]
    except KeyError:
        raise LPTrainError(f"unknown heuristic {heuristic!r}; choose {', '.join(HEURISTICS)}") from None
    comps = [G.subgraph(c).copy() for c in nx.connected_components(G)]
    T = nx.Graph()
    prev = None
    for comp in comps:  # networkx's heuristics need connected graphs: join components' trees
        _, t = fn(comp)
        T = nx.union(T, t) if T.number_of_nodes() else t.copy()
        root = next(iter(t.nodes))
        if prev is not None:
            T.add_edge(prev, root)
        prev = root
    return width(T), T


def validate(G: nx.Graph, T: nx.Graph, cliques=()):
    """Raise :class:`DecompositionError` at the first violated axiom; return the width."""
    if T.number_of_nodes() == 0:
        raise DecompositionError("the decomposition has no bags")
    if not nx.is_tree(T):
        raise DecompositionError("the decomposition is not a tree (it has a cycle or is disconnected)")
    where: dict = {}
    for bag in T.nodes:
        for v in bag:
            where.setdefault(v, []).append(bag)
    for v in G.nodes:
        if v not in where:
            raise DecompositionError(f"vertex {v!r} lies in no bag")
    for u, v in G.edges:
        if not any(u in b for b in where[v]):
            raise DecompositionError(f"edge ({u!r}, {v!r}) lies in no bag")
    for v, bags in where.items():
        if len(bags) > 1 and not nx.is_connected(T.subgraph(bags)):
            raise DecompositionError(
                f"the bags containing {v!r} do not form a connected subtree (running intersection)"
            )
    for k, c in enumerate(cliques):
        c = set(c)
        if c and not any(c <= b for b in T.nodes):
            raise DecompositionError(f"support {k} {sorted(c)!r} lies in no single bag (Lemma 2.6)")
    return width(T)


def is_valid(G, T, cliques=()) -> tuple[bool, str]:
    try:
        validate(G, T, cliques)
    except DecompositionError as e:
        return False, str(e)
    return True, ""


def shrink(T: nx.Graph) -> nx.Graph:
    """Contract tree edges whose one bag contains the other (Lemma 2.5): <= |V| bags remain."""
    T = T.copy()
    changed = True
    while changed and T.number_of_nodes() > 1:
        changed = False
        for a, b in list(T.edges):
            if a <= b or b <= a:
                small, big = (a, b) if a <= b else (b, a)
                for nb in list(T.neighbors(small)):
                    if nb != big:
                        T.add_edge(big, nb)
                T.remove_node(small)
                changed = True
                break
    return T


def from_bags(bags, edges) -> nx.Graph:
    """A decomposition from a list of bags and index pairs (i, j) of tree edges."""
    T = nx.Graph()
    fb = [frozenset(b) for b in bags]
    if len(set(fb)) != len(fb):
        raise DecompositionError("two bags are equal; merge them")
    T.add_nodes_from(fb)
    for i, j in edges:
        T.add_edge(fb[i], fb[j])
    return T


def degeneracy(G: nx.Graph) -> int:
    """max over subgraphs of the minimum degree: a lower bound on treewidth."""
    if G.number_of_edges() == 0:
        return 0
    return max(nx.core_number(G).values())


def minor_min_width(G: nx.Graph) -> int:
    """MMW lower bound: contract a min-degree vertex into its min-degree neighbour, repeatedly."""
    H = nx.Graph(G)
    best = 0
    while H.number_of_nodes() > 1:
        v = min(H.nodes, key=lambda u: (H.degree(u), str(u)))
        d = H.degree(v)
        best = max(best, d)
        if d == 0:
            H.remove_node(v)
            continue
        u = min(H.neighbors(v), key=lambda w: (H.degree(w), str(w)))
        H = nx.contracted_nodes(H, u, v, self_loops=False)
    return best


def lower_bound(G: nx.Graph) -> int:
    return max(degeneracy(G), minor_min_width(G))
