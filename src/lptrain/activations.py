"""The 1-Lipschitz activations with a(0) = 0 that the paper covers (Sec. 4.2).

Each maps a numpy array elementwise.  Every one satisfies |a(t)| <= |t| and
|a(t) - a(s)| <= |t - s|, which is all the Lipschitz analysis (Lemma 4.1/4.5) uses.
The dict :data:`ACTIVATIONS` is the registry; callers may add their own.
"""

from __future__ import annotations

import numpy as np

from .exceptions import InputError

LEAKY_SLOPE = 0.01


def relu(t):
    return np.maximum(t, 0.0)


def leaky_relu(t):
    return np.where(t >= 0.0, t, LEAKY_SLOPE * t)


def elu(t):
    return np.where(t > 0.0, t, np.expm1(np.minimum(t, 0.0)))


def tanh(t):
    return np.tanh(t)


def identity(t):
    return t


ACTIVATIONS = {
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "tanh": tanh,
    "identity": identity,
}


def get_activation(name: str):
    """The activation function registered under ``name``; a clear error otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise InputError(
            f"unknown activation {name!r}; choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None
