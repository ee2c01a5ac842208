"""Loss functions and their Lipschitz constants L_inf(l) (Sec. 4.3).

A loss maps network outputs z (..., m) and targets y (..., m) to (...,).  Its
constant bounds sup ||grad l(z, y)||_1 over z in [-U, U]^m, y in [-1, 1]^m, the
domain of Sec. 4.3 with U the output bound of Lemma 4.1 (so it is a Lipschitz
constant for the infinity norm in (z, y) jointly):

=================  ===========================  ===================
loss               l(z, y)                      L_inf(l)
=================  ===========================  ===================
absolute           ||z - y||_1                  2 m
quadratic          ||z - y||_2^2                4 m (U + 1)
hinge              max(1 - z^T y, 0)            m (U + 1)
cross_entropy      -sum_i y_i log softmax(z)_i  2 m (log m + 2 U)
=================  ===========================  ===================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .exceptions import InputError


def absolute(z, y):
    return np.abs(z - y).sum(axis=-1)


def quadratic(z, y):
    d = z - y
    return (d * d).sum(axis=-1)


def hinge(z, y):
    return np.maximum(1.0 - (z * y).sum(axis=-1), 0.0)


def cross_entropy(z, y):
    zmax = z.max(axis=-1, keepdims=True)
    logsum = np.log(np.exp(z - zmax).sum(axis=-1, keepdims=True)) + zmax
    return -(y * (z - logsum)).sum(axis=-1)


@dataclass(frozen=True)
class Loss:
    """A loss by name: ``evaluate(z, y)`` and its constant ``lipschitz(m, U)``."""

    name: str
    evaluate: Callable
    constant: Callable

    def lipschitz(self, m: int, U: float) -> float:
        """L_inf(l) over [-U, U]^m x [-1, 1]^m (Sec. 4.3)."""
        return float(self.constant(m, U))


LOSSES = {
    "absolute": Loss("absolute", absolute, lambda m, U: 2.0 * m),
    "quadratic": Loss("quadratic", quadratic, lambda m, U: 4.0 * m * (U + 1.0)),
    "hinge": Loss("hinge", hinge, lambda m, U: m * (U + 1.0)),
    "cross_entropy": Loss(
        "cross_entropy", cross_entropy, lambda m, U: 2.0 * m * (math.log(m) + 2.0 * U)
    ),
}


def get_loss(name: str) -> Loss:
    """The loss registered under ``name``; a clear error otherwise."""
    try:
        return LOSSES[name]
    except KeyError:
        raise InputError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}") from None


def check_outputs(loss: Loss | str, m: int) -> None:
    """Refuse a loss that is constant for this number of outputs.

    Cross-entropy over one output is ``-y (z - log exp z) = 0`` for every network: training on
    it would certify an arbitrary network as optimal.
    """
    name = loss if isinstance(loss, str) else loss.name
    if name == "cross_entropy" and m < 2:
        raise InputError("cross_entropy needs at least 2 outputs (one output gives loss 0 for every "
                         "network): use one output per class, or hinge with +-1 targets")
