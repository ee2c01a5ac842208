"""The 1-Lipschitz activations with a(0) = 0 that the paper covers (Sec. 4.2), and how to bound them.

Each maps a numpy array elementwise.  Every built-in one satisfies |a(t)| <= |t| and
|a(t) - a(s)| <= |t - s|, which is all the Lipschitz analysis (Lemma 4.1/4.5) uses.
The dict :data:`ACTIVATIONS` is the registry of functions; callers may add their own,
preferably with :func:`register`.

Branch-and-bound (and any solver that bounds a network over a box of parameters) needs,
besides the function, the image of an interval [lo, hi] under it.  An activation declares
this when it is registered: ``monotone=True`` (nondecreasing: the image is [a(lo), a(hi)]),
or ``bound=f`` with ``f(lo, hi) -> (lo', hi')`` an enclosure of a([lo, hi]) (arrays,
elementwise).  An activation registered without a declaration (or put into
:data:`ACTIVATIONS` directly) can be evaluated but not bounded: :func:`interval` refuses it,
and so do the solvers that need it.  A declaration belongs to the function it was made
for: replacing ``ACTIVATIONS[name]`` by another function voids it.
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

MONOTONE = "monotone"

# name -> (the function the declaration was made for, MONOTONE or an interval function)
BOUNDS = {name: (fn, MONOTONE) for name, fn in ACTIVATIONS.items()}

# name -> the function declared 1-Lipschitz with a(0) = 0 (the assumption of Lemma 4.1)
CONTRACTIONS = dict(ACTIVATIONS)


def get_activation(name: str):
    """The activation function registered under ``name``; a clear error otherwise."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise InputError(
            f"unknown activation {name!r}; choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None


def register(name: str, fn, monotone: bool = False, bound=None, contraction: bool = False):
    """Register activation ``fn`` under ``name``, with how to bound it (or neither).

    Parameters
    ----------
    name : str
    fn : callable
        Elementwise on numpy arrays.
    monotone : bool
        ``fn`` is nondecreasing: the image of [lo, hi] is [fn(lo), fn(hi)].
    bound : callable, optional
        ``bound(lo, hi) -> (lo', hi')``, arrays with lo' <= fn(t) <= hi' for every t in
        [lo, hi] (elementwise).  Without ``monotone`` or ``bound`` the activation can be
        trained by the scanning solvers but not by ``bnb`` or ``gpu``.
    contraction : bool
        ``|fn(t) - fn(s)| <= |t - s|`` and ``fn(0) = 0``, what the Lipschitz constant of
        Lemma 4.1 assumes.  Without it lptrain reports no epsilon for networks using ``fn``
        (it would not be backed) and refuses ``epsilon=``; a declaration that a sample of
        [-8, 8] contradicts is refused.
    """
    if not isinstance(name, str) or not name:
        raise InputError("an activation needs a non-empty name")
    if not callable(fn):
        raise InputError(f"activation {name!r} must be callable")
    if bound is not None and not callable(bound):
        raise InputError(f"the bound of activation {name!r} must be callable")
    if contraction:
        why = _not_a_contraction(fn)
        if why:
            raise InputError(f"activation {name!r} declared contraction=True, but {why}")
        CONTRACTIONS[name] = fn
    else:
        CONTRACTIONS.pop(name, None)
    ACTIVATIONS[name] = fn
    if monotone:
        BOUNDS[name] = (fn, MONOTONE)
    elif bound is not None:
        BOUNDS[name] = (fn, bound)
    else:
        BOUNDS.pop(name, None)


def unregister(name: str):
    """Remove a registered activation (and its declarations)."""
    ACTIVATIONS.pop(name, None)
    BOUNDS.pop(name, None)
    CONTRACTIONS.pop(name, None)


def is_contraction(name: str) -> bool:
    """Whether ``name`` is declared 1-Lipschitz with a(0) = 0 (for the function registered now)."""
    return name in ACTIVATIONS and CONTRACTIONS.get(name) is ACTIVATIONS[name]


def _not_a_contraction(fn) -> str:
    """Why a sample of [-8, 8] contradicts |fn(t) - fn(s)| <= |t - s| and fn(0) = 0 ('' if none)."""
    t = np.concatenate([np.linspace(-8.0, 8.0, 4097), np.random.default_rng(0).uniform(-8, 8, 4096)])
    t = np.unique(t)
    with np.errstate(all="ignore"):
        v = np.asarray(fn(t), dtype=np.float64)
        z = float(np.asarray(fn(np.zeros(1)), dtype=np.float64)[0])
    if z != 0.0:
        return f"a(0) = {z:g}"
    if v.shape != t.shape or not np.all(np.isfinite(v)):
        return "it is not finite elementwise on [-8, 8]"
    slope = np.abs(np.diff(v)) / np.diff(t)
    k = int(np.argmax(slope))
    if slope[k] > 1.0 + 1e-9:
        return f"its slope reaches {slope[k]:.6g} near t = {t[k]:.6g}"
    return ""


def declaration(name: str):
    """MONOTONE, the interval function, or None when ``name`` cannot be bounded."""
    fn = get_activation(name)
    entry = BOUNDS.get(name)
    if entry is None or entry[0] is not fn:
        return None
    return entry[1]


def boundable(name: str) -> bool:
    return declaration(name) is not None


def require_bounds(arch, solver: str):
    """Refuse, in one line, an architecture with an activation that cannot be bounded."""
    for nd in arch.nodes:
        if nd.activation is not None and not boundable(nd.activation):
            raise InputError(
                f"solver {solver!r} cannot bound activation {nd.activation!r}: register it with "
                f"monotone=True or an interval function (lptrain.activations.register), "
                f"or use --solver structured"
            )


def interval(name: str, lo, hi):
    """An enclosure (lo', hi') of the image of [lo, hi] under activation ``name``."""
    how = declaration(name)
    if how is None:
        raise InputError(f"activation {name!r} declares no bound (monotone or an interval function)")
    fn = ACTIVATIONS[name]
    if how == MONOTONE:
        return fn(lo), fn(hi)
    a, b = how(np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
    return np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
