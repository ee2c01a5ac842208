"""Sec. 5's claimed treewidth against measured widths and proven lower bounds.

For each architecture, bits and D: the Sec. 5 formulation's intersection graph, the best
width of two networkx heuristics (validated), the proven lower bound (degeneracy,
minor-min-width, and the K_(BN,D) minor), the paper's claimed width and whether its
copy-the-decomposition construction is a valid tree decomposition.

    python benchmarks/structure_widths.py
"""

import time

from lptrain.arch import Architecture
from lptrain.structure import measure

CASES = [("1-1-1", 1, 8), ("1-2-1", 1, 10), ("1-2-1", 2, 20), ("2-2-1", 1, 12), ("2-3-1", 1, 8),
         ("2-3-1", 1, 20), ("3-4-1", 1, 10), ("3-4-1", 1, 30), ("2", 1, 1)]


def main():
    print(f"# {time.strftime('%Y-%m-%d')}")
    hdr = ("arch", "B", "D", "N", "|V(Γ)|", "measured width", "lower bound", "K_(BN,D) bound",
           "tw(Γ_φ)", "claimed", "verdict", "paper's construction")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for spec, B, D in CASES:
        if "-" not in spec:
            continue
        r = measure(Architecture.parse(spec), B, D)
        pc = "valid" if r["paper_construction_valid"] else "invalid (running intersection)"
        print(f"| {spec} | {B} | {D} | {r['parameters']} | {r['graph_vertices']} | {r['measured_width']} | "
              f"{r['lower_bound']} | {r['minor_lower_bound']} | {r['tw_phi']} | {r['claimed_width']} | "
              f"{r['claim']} | {pc} |")


if __name__ == "__main__":
    main()
