"""The paper's Table 1 as formulas and as numbers, beside lptrain's exact sizes.

Table 1 (Sec. 1.2.2) states polytope sizes with O(.)'s.  For a concrete architecture and
epsilon we evaluate each row with every hidden constant set to 1, Thm 3.1(a)'s explicit
bound 4 D (2 L / eps)^(n+m+N) with the paper's own constant (Cor. 4.2 / Lemma 4.5), and the
exact number of variables of the LP lptrain builds (compact form, bits = ceil(log2(2L/eps))
with lptrain's node-wise L).  The base of every row is raised to n + m + N, so a constant
factor c hidden in the base is a factor c^(n+m+N) in the size: that is where the O(.)'s
matter (2^k in Cor. 4.2's product, the loss constants 2m, 4m(U+1), m(U+1),
2m(log m + 2U), w^(k(k+1)/2) rather than w^(k^2), and rounding bits up to an integer,
which alone can double the base).
"""

from __future__ import annotations

import math

from .arch import Architecture
from .grid import Grid
from .lipschitz import architecture_lipschitz
from .losses import get_loss
from .polytope import Polytope

ROWS = [
    ("DNN", "absolute/quadratic/hinge", "O((m w^O(k^2) / eps)^(n+m+N) D)", "N = |E(G)|"),
    ("DNN", "cross_entropy", "O((m log(m) w^O(k^2) / eps)^(n+m+N) D)", "N = |E(G)|"),
    ("CNN", "absolute/quadratic/hinge", "O((m w^O(k^2) / eps)^(n+m+N) D)", "N << |E(G)|"),
    ("ResNet", "absolute/quadratic/hinge", "O((m Delta^O(k^2) / eps)^(n+m+N) D)", "Delta = max in-degree"),
    ("ResNet", "cross_entropy", "O((m log(m) Delta^O(k^2) / eps)^(n+m+N) D)", "Delta = max in-degree"),
]
LOSSES = ("absolute", "quadratic", "hinge", "cross_entropy")


def paper_lipschitz(arch: Architecture, loss) -> float:
    """The paper's constant: L_inf(l at U_k) prod_{i=1..k} sum_{j<=i} 2 b^j, b = w (DNN/CNN) or Delta."""
    k = arch.depth
    b = arch.max_in_degree if arch.kind == "ResNet" else arch.width
    u_k = float(sum(b**j for j in range(k + 1)))
    prod = 1.0
    for i in range(1, k + 1):
        prod *= sum(2.0 * b**j for j in range(i + 1))
    return loss.lipschitz(arch.n_outputs, u_k) * prod


def row_value(kind, ce, arch: Architecture, eps, D) -> float:
    """A Table 1 row with its O(.)'s at constant 1 (log m taken as max(log m, 1))."""
    m, k = arch.n_outputs, arch.depth
    b = arch.max_in_degree if kind == "ResNet" else arch.width
    base = m * (max(math.log(m), 1.0) if ce else 1.0) * float(b) ** (k * k) / eps
    return base ** (arch.n_inputs + m + arch.n_params) * D


def table1(arch: Architecture, eps: float, D: int) -> dict:
    """Formulas, their values, the paper's explicit bound and lptrain's exact sizes."""
    e = arch.n_inputs + arch.n_outputs + arch.n_params
    rows = []
    for kind, losses, formula, note in ROWS:
        rows.append({"type": kind, "loss": losses, "formula": formula, "notes": note,
                     "value": row_value(kind, "cross" in losses, arch, eps, D)})
    exact = []
    for name in LOSSES:
        loss = get_loss(name)
        Lp = paper_lipschitz(arch, loss)
        L = architecture_lipschitz(arch, loss).value
        g = Grid.for_epsilon(eps, L)
        P = Polytope(arch, loss, g, D)
        s = P.sizes()
        ce = name == "cross_entropy"
        exact.append({
            "loss": name,
            "table1_value": row_value(arch.kind if arch.kind in ("ResNet",) else "DNN", ce, arch, eps, D),
            "paper_lipschitz": Lp,
            "paper_bound": 4.0 * D * (2.0 * Lp / eps) ** e,
            "lipschitz": L,
            "bits": g.bits,
            "bound_variables": s["bound_variables"],
            "variables": s["variables"],
            "constraints": s["constraints"],
        })
    return {"architecture": arch.describe(), "kind": arch.kind, "n": arch.n_inputs,
            "m": arch.n_outputs, "N": arch.n_params, "edges": arch.n_edges, "k": arch.depth,
            "w": arch.width, "Delta": arch.max_in_degree, "epsilon": eps, "samples": D,
            "exponent": e, "rows": rows, "sizes": exact}


def sample_size(arch: Architecture, loss, eps: float, alpha: float, sigma2=None, reg=None, lam=0.0) -> dict:
    """Thm 6.2 / Cor. 6.3: D = ceil((4 sigma^2 / eps^2) (N ln(2L/eps) + ln(1/alpha))) and P's size.

    sigma^2 bounds max_phi Var[l(f(x, phi), y)]; when not given, Popoviciu's inequality
    Var <= (b - a)^2 / 4 on the loss's range [a, b] over the domain (U the output bound):
    absolute [0, m(U+1)], quadratic [0, m(U+1)^2], hinge [0, 1 + mU],
    cross_entropy [-m(log m + 2U), m(log m + 2U)].
    """
    loss = get_loss(loss) if isinstance(loss, str) else loss
    if not (0 < alpha < 1):
        from .exceptions import InputError

        raise InputError(f"alpha must lie in (0, 1), got {alpha}")
    rep = architecture_lipschitz(arch, loss, reg, lam)
    L, U, m = rep.value, rep.output_bound, arch.n_outputs
    if sigma2 is None:
        lo, hi = loss_range(loss.name, m, U)
        if reg and lam:
            hi += lam * arch.n_params
        sigma2 = (hi - lo) ** 2 / 4.0
        source = "loss range (Popoviciu)"
    else:
        source = "given"
    N = arch.n_params
    log_term = N * math.log(2.0 * L / eps) + math.log(1.0 / alpha)
    D = max(1, math.ceil(4.0 * sigma2 / eps**2 * log_term))
    P = Polytope(arch, loss, Grid.for_epsilon(eps, L), D, reg=reg, lam=lam)
    s = P.sizes()
    return {"samples": D, "sigma2": sigma2, "sigma2_source": source, "lipschitz": L,
            "epsilon": eps, "alpha": alpha, "N": N, "log_term": log_term, "bits": P.grid.bits,
            "variables": s["variables"], "constraints": s["constraints"],
            "nonzeros": s["nonzeros"], "evaluations": s["evaluations"],
            "guarantee": f"with probability {1 - alpha:g}, the LP's network is {6 * eps:g}-optimal for the true risk"}


def loss_range(name, m, U):
    if name == "absolute":
        return 0.0, m * (U + 1.0)
    if name == "quadratic":
        return 0.0, m * (U + 1.0) ** 2
    if name == "hinge":
        return 0.0, 1.0 + m * U
    c = m * (math.log(m) + 2.0 * U)
    return -c, c
