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
from fractions import Fraction

from . import bignum
from .arch import Architecture
from .exceptions import InputError, SizeError
from .grid import MAX_BITS, bits_for_epsilon
from .lipschitz import architecture_lipschitz
from .losses import get_loss
from .polytope import size_counts

ROWS = [
    ("DNN", "absolute/quadratic/hinge", "O((m w^O(k^2) / eps)^(n+m+N) D)", "N = |E(G)|"),
    ("DNN", "cross_entropy", "O((m log(m) w^O(k^2) / eps)^(n+m+N) D)", "N = |E(G)|"),
    ("CNN", "absolute/quadratic/hinge", "O((m w^O(k^2) / eps)^(n+m+N) D)", "N << |E(G)|"),
    ("ResNet", "absolute/quadratic/hinge", "O((m Delta^O(k^2) / eps)^(n+m+N) D)", "Delta = max in-degree"),
    ("ResNet", "cross_entropy", "O((m log(m) Delta^O(k^2) / eps)^(n+m+N) D)", "Delta = max in-degree"),
]
LOSSES = ("absolute", "quadratic", "hinge", "cross_entropy")


def paper_lipschitz(arch: Architecture, loss) -> float:
    """The paper's constant: L_inf(l at U_k) prod_{i=1..k} sum_{j<=i} 2 b^j, b = w (DNN/CNN) or Delta.

    U_k and the product are integers, computed exactly; a constant beyond the float range
    is refused (:class:`SizeError`).
    """
    k = arch.depth
    b = arch.max_in_degree if arch.kind == "ResNet" else arch.width
    u_k = sum(b**j for j in range(k + 1))
    prod = 1
    for i in range(1, k + 1):
        prod *= sum(2 * b**j for j in range(i + 1))
    try:
        value = loss.lipschitz(arch.n_outputs, float(u_k)) * float(prod)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise SizeError(f"the paper's Lipschitz constant for {arch.describe()} exceeds the float "
                        f"range (about 10^{bignum.log10(prod):.0f}); use a shallower architecture")
    return value


def row_log10(kind, ce, arch: Architecture, eps, D) -> float:
    """log10 of a Table 1 row with its O(.)'s at constant 1 (log m taken as max(log m, 1))."""
    m, k = arch.n_outputs, arch.depth
    b = arch.max_in_degree if kind == "ResNet" else arch.width
    base = math.log10(m) + (math.log10(max(math.log(m), 1.0)) if ce else 0.0) \
        + k * k * math.log10(b) - math.log10(eps)
    return base * (arch.n_inputs + m + arch.n_params) + math.log10(D)


def row_value(kind, ce, arch: Architecture, eps, D):
    """A Table 1 row with its O(.)'s at constant 1, as a float (None outside the float range)."""
    return bignum.float_or_none(row_log10(kind, ce, arch, eps, D))


def table1(arch: Architecture, eps: float, D: int) -> dict:
    """Formulas, their values, the paper's explicit bound and lptrain's exact sizes.

    Values are real numbers that can leave the float range either way (eps from 1e-300 to
    1e300, exponents in the thousands): each is given as ``log10_...`` (always finite) and
    as a float, ``None`` when it has none.  Exact sizes are Python integers.
    """
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise InputError(f"epsilon must be a positive number, got {eps!r}")
    e = arch.n_inputs + arch.n_outputs + arch.n_params
    rows = []
    for kind, losses, formula, note in ROWS:
        lv = row_log10(kind, "cross" in losses, arch, eps, D)
        rows.append({"type": kind, "loss": losses, "formula": formula, "notes": note,
                     "value": bignum.float_or_none(lv), "log10_value": lv})
    exact = []
    for name in LOSSES:
        loss = get_loss(name)
        Lp = paper_lipschitz(arch, loss)
        L = architecture_lipschitz(arch, loss).required("Table 1")
        bits = bits_for_epsilon(eps, L)
        s = size_counts("compact", D, arch.n_inputs, arch.n_outputs, arch.n_params, bits)
        ce = name == "cross_entropy"
        lv = row_log10("ResNet" if arch.kind == "ResNet" else "DNN", ce, arch, eps, D)
        lb = math.log10(4 * D) + e * (math.log10(2.0) + math.log10(Lp) - math.log10(eps))
        exact.append({
            "loss": name,
            "table1_value": bignum.float_or_none(lv),
            "log10_table1_value": lv,
            "paper_lipschitz": Lp,
            "paper_bound": bignum.float_or_none(lb),
            "log10_paper_bound": lb,
            "lipschitz": L,
            "bits": bits,
            "bits_supported": bits <= MAX_BITS,
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

    D is an exact integer however large (eps down to 1e-300).  For eps >= 2L one bit already
    reaches eps, and ln(2L/eps), which counts the grid's points per parameter, is taken as 0
    rather than negative (a larger, still valid D).  The LP's sizes are exact integers for
    any bits, also beyond the ``MAX_BITS`` that lptrain builds (``bits_supported``).
    """
    loss = get_loss(loss) if isinstance(loss, str) else loss
    if not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise InputError(f"epsilon must be a positive number, got {eps!r}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InputError(f"alpha must lie in (0, 1), got {alpha}")
    rep = architecture_lipschitz(arch, loss, reg, lam)
    L, U, m = rep.required("the sample size"), rep.output_bound, arch.n_outputs
    if sigma2 is None:
        lo, hi = loss_range(loss.name, m, U)
        if reg and lam:
            hi += lam * arch.n_params
        try:
            sigma2 = (hi - lo) ** 2 / 4.0
        except OverflowError:
            sigma2 = math.inf
        source = "loss range (Popoviciu)"
    else:
        source = "given"
    if not (isinstance(sigma2, (int, float)) and math.isfinite(sigma2) and sigma2 > 0):
        why = "" if source == "given" else " (Popoviciu's bound overflows a float: lower lam or give sigma2)"
        raise InputError(f"the variance bound sigma2 must be a positive number, got {sigma2!r}{why}")
    N = arch.n_params
    q = 2.0 * L / eps
    log_grid = math.log(q) if 0 < q < math.inf else math.log(2.0) + math.log(L) - math.log(eps)
    log_term = N * max(0.0, log_grid) - math.log(alpha)  # not ln(1/alpha): 1/alpha overflows for subnormal alpha
    D = _ceil_samples(sigma2, eps, log_term)
    bits = bits_for_epsilon(eps, L)
    s = size_counts("compact", D, arch.n_inputs, m, N, bits)
    return {"samples": D, "sigma2": sigma2, "sigma2_source": source, "lipschitz": L,
            "epsilon": eps, "alpha": alpha, "N": N, "log_term": log_term, "bits": bits,
            "bits_supported": bits <= MAX_BITS,
            "variables": s["variables"], "constraints": s["constraints"],
            "nonzeros": s["nonzeros"], "evaluations": s["evaluations"],
            "guarantee": f"with probability {1 - alpha:g}, the LP's network is "
                         f"{bignum.sci_log10(math.log10(6) + math.log10(eps))}-optimal for the true risk"}


def _ceil_samples(sigma2, eps, log_term) -> int:
    """ceil(4 sigma^2 / eps^2 * log_term) >= 1; in floats when they hold it, else exactly."""
    try:
        v = 4.0 * sigma2 / eps**2 * log_term
    except (OverflowError, ZeroDivisionError):
        v = math.inf
    if math.isfinite(v) and v < 2.0**52:
        return max(1, math.ceil(v))
    return max(1, math.ceil(4 * Fraction(sigma2) / Fraction(eps) ** 2 * Fraction(log_term)))


def loss_range(name, m, U):
    if name == "absolute":
        return 0.0, m * (U + 1.0)
    if name == "quadratic":
        return 0.0, m * (U + 1.0) ** 2
    if name == "hinge":
        return 0.0, 1.0 + m * U
    c = m * (math.log(m) + 2.0 * U)
    return -c, c
