"""Architecture Lipschitz constants (Def. 2.2, Lemma 4.1, Cor. 4.2, Lemma 4.5, App. B).

Def. 2.2 asks for L with |l(f(x, phi), y) - l(f(x', phi'), y')| <= L ||(x, phi, y) - (x', phi', y')||_inf
over [-1, 1]^n x [-1, 1]^N x [-1, 1]^m.  We compute it node by node on the DAG, the
argument of Lemma 4.1 and Cor. 4.2 without its rounding-up:

* node bound (Lemma 4.1): ``U_x = 1`` for inputs, ``U_v = sum_{u -> v} U_u + 1`` (the +1 only
  with a bias), since |phi| <= 1 and |a(t)| <= |t|;
* sensitivity: a perturbation of size delta in every coordinate moves s_v by at most
  ``K_v delta``, with ``K_x = 1`` and ``K_v = sum_{u -> v} (K_u + U_u) + 1``, because
  |phi s - phi' s'| <= |s - s'| + |phi - phi'| |s'|; activations are 1-Lipschitz;
* the loss is L_inf(l)-Lipschitz on [-U, U]^m x [-1, 1]^m (Sec. 4.3) with U the largest
  output bound, so ``L = L_inf(l) * max(1, max_o K_o)``;
* App. B: a regularizer lam R(phi) adds lam N (R = ||phi||_1) or 2 lam N (R = ||phi||_2^2).

Shared parameters change nothing: each use of one moves by at most delta.  For a layered
net this is never larger than the paper's Cor. 4.2 constant
``L_inf(l at U_k) * prod_{i=1..k} w~_i`` with ``w~_i = sum_{j=0..i} 2 w^j`` and
``U_k = sum_{j=0..k} w^j`` (w the largest of w_0..w_{k-1}), which
:func:`paper_constant` returns for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .activations import is_contraction
from .arch import Architecture
from .exceptions import InputError, SizeError
from .losses import Loss

REG_CONSTANTS = {"l1": 1.0, "l2": 2.0}


@dataclass(frozen=True)
class LipschitzReport:
    """The architecture constant and the pieces it is made of."""

    value: float | None  # None: an activation is not declared a contraction (no epsilon)
    loss_constant: float
    output_bound: float
    sensitivity: float
    regularization: float

    def required(self, what: str) -> float:
        """The constant, or one line saying why ``what`` cannot be computed without it."""
        if self.value is None:
            raise InputError(f"{what} needs the Lipschitz constant of Lemma 4.1, which assumes "
                             "1-Lipschitz activations with a(0) = 0: register custom activations with "
                             "contraction=True (when true), or give bits=")
        return self.value


def node_bounds(arch: Architecture):
    """(U, K): output bound and sensitivity of every node, by name (Lemma 4.1 on the DAG)."""
    U = {x: 1.0 for x in arch.input_names}
    K = {x: 1.0 for x in arch.input_names}
    for nd in arch.nodes:
        b = 1.0 if nd.bias is not None else 0.0
        U[nd.name] = sum(U[s] for s in nd.sources) + b
        K[nd.name] = sum(K[s] + U[s] for s in nd.sources) + b
    return U, K


def architecture_lipschitz(arch: Architecture, loss: Loss, reg=None, lam=0.0) -> LipschitzReport:
    """L(D, Phi, l, f) of Def. 2.2 (with App. B's regularizer), as described above."""
    U, K = node_bounds(arch)
    u_out = max(U[o] for o in arch.outputs)
    k_out = max(1.0, max(K[o] for o in arch.outputs))
    lc = loss.lipschitz(arch.n_outputs, u_out)
    if reg and not (isinstance(lam, (int, float)) and math.isfinite(lam) and lam >= 0):
        raise InputError(f"the regularization weight lam must be a finite number >= 0, got {lam!r}")
    r = REG_CONSTANTS[reg] * lam * arch.n_params if reg else 0.0
    if not all(is_contraction(nd.activation) for nd in arch.nodes if nd.activation is not None):
        return LipschitzReport(None, lc, u_out, k_out, r)
    value = lc * k_out + r
    if not math.isfinite(value):
        what = "the regularization weight lam" if math.isfinite(lc * k_out) else "the architecture"
        raise SizeError(f"the Lipschitz constant overflows a float ({what} is too large)")
    return LipschitzReport(value, lc, u_out, k_out, r)


def paper_constant(widths, loss: Loss) -> float:
    """Cor. 4.2's constant L_inf(l) prod_i w~_i for a layered net, as the paper states it.

    U_k and the product are exact integers; a constant past the float range is ``math.inf``
    (it is only ever compared with, never used to size a grid).
    """
    k = len(widths) - 1
    w = max(widths[:-1])
    u_k = sum(w**j for j in range(k + 1))
    prod = 1
    for i in range(1, k + 1):
        prod *= sum(2 * w**j for j in range(i + 1))
    try:
        return loss.lipschitz(widths[-1], float(u_k)) * float(prod)
    except OverflowError:
        return math.inf
