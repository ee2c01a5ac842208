"""Certified global optimum over continuous parameters in a box (beyond the paper, docs/design.md §10).

The grid optimum of Sec. 3 carries an a-priori epsilon that is vacuous at usable
resolutions; this package returns an interval [lower_bound, objective] for
min over phi in [-B, B]^N of the empirical risk on the original data, with a proof that
code apart from the search replays.

* ``patterns``: one hidden ReLU layer n-w-1 (exact per activation pattern, fast);
* ``spatial``: branch-and-bound over parameter boxes, every other network.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from ..exceptions import InputError
from ..losses import LOSSES, check_outputs
from .result import ContinuousResult, derive_status, tolerance

METHODS = ("auto", "patterns", "spatial")


def _patterns():
    """The patterns engine, or None while it is not available."""
    try:
        from . import patterns
    except ImportError:
        return None
    return patterns


@dataclass
class ContinuousCertificate:
    """The independent replay of a continuous proof.

    ``derived_status`` is the status the certified interval earns under the result's stored
    tolerances (:func:`~lptrain.continuous.result.derive_status`): ``optimal`` or
    ``time_limit``, None when the result carries no tolerances.
    """

    valid: bool
    method: str
    reason: str = ""
    replayed_lower_bound: float | None = None
    seconds: float = 0.0
    derived_status: str | None = None

    def to_dict(self):
        return asdict(self)


def _validate(arch, loss, X, Y, box, reg, lam, gap=0.0, abs_gap=0.0, time_limit=None):
    if loss not in LOSSES:
        raise InputError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    check_outputs(loss, arch.n_outputs)
    if reg not in (None, "l1", "l2"):
        raise InputError(f"unknown regularizer {reg!r}; use l1 or l2")
    for name, v, ok in (("box", box, lambda v: v > 0), ("gap", gap, lambda v: v >= 0),
                        ("abs_gap", abs_gap, lambda v: v >= 0), ("lam", lam, lambda v: v >= 0)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(v)) or not ok(float(v)):
            raise InputError(f"{name} must be a {'positive' if name == 'box' else 'non-negative'} number, got {v!r}")
    if reg is None and lam:
        raise InputError("lam= is a regularization weight: give reg='l1' or reg='l2' with it")
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and math.isfinite(time_limit)
                                       and time_limit > 0):
        raise InputError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or len(X) == 0:
        raise InputError("data must be X (D, n) and Y (D, m) with the same D > 0")
    if X.shape[1] != arch.n_inputs or Y.shape[1] != arch.n_outputs:
        raise InputError(f"data has {X.shape[1]} inputs and {Y.shape[1]} outputs; "
                         f"the architecture needs {arch.n_inputs} and {arch.n_outputs}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InputError("data contain NaN or infinite values")
    return X, Y, (reg if lam else None)  # a weight of 0: the unregularized problem (patterns apply)


def choose_method(arch, loss, reg=None, method="auto") -> str:
    """``patterns`` where it applies (and is asked or auto), else ``spatial``."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    pat = _patterns()
    can = pat is not None and bool(pat.applies(arch, loss, reg))
    if method == "patterns" and not can:
        raise InputError("method 'patterns' covers one hidden ReLU layer n-w-1 (absolute, quadratic or "
                         "hinge loss, no regularizer); use method 'spatial' or 'auto'")
    if method == "auto":
        return "patterns" if can else "spatial"
    return method


def solve_continuous(arch, loss, X, Y, *, box=1.0, reg=None, lam=0.0, gap=1e-4, abs_gap=1e-6,
                     time_limit=None, incumbent=None, progress=False, method="auto", workers=None,
                     scheduler=None) -> ContinuousResult:
    """The best network in [-box, box]^N and a certified lower bound on the risk.

    Parameters
    ----------
    arch : Architecture
    loss : str
        ``absolute``, ``quadratic``, ``hinge`` or ``cross_entropy``.
    X, Y : array (D, n), (D, m)
        The original data, not rounded.
    box : float
        B: every parameter in [-B, B] (default 1, the paper's domain).
    reg, lam : regularizer ``l1``/``l2`` (App. B) and its weight.
    gap, abs_gap : float
        Stop when objective - lower_bound <= max(abs_gap, gap * |objective|).
    time_limit : float or None
        Seconds; at the limit the proven interval is returned with status ``time_limit``.
    incumbent : array (N,) or None
        A network to start from (e.g. the grid optimum).
    method : {"auto", "patterns", "spatial"}
    workers : int or None
        Threads bounding nodes concurrently (default: every core): the pattern search's
        nodes, the spatial search's LP relaxations.
    scheduler : str or None
        A dask.distributed scheduler address; nodes are bounded on that cluster (default
        ``LPTRAIN_SCHEDULER`` from the environment, as the grid ``dask`` solver, unless
        ``workers`` is given; unset or empty: threads on this machine).

    Returns
    -------
    ContinuousResult
        With ``requested_gap`` and ``requested_abs_gap`` set to ``gap`` and ``abs_gap``.
    """
    X, Y, reg = _validate(arch, loss, X, Y, box, reg, lam, gap, abs_gap, time_limit)
    if incumbent is not None:
        incumbent = np.asarray(incumbent, dtype=np.float64)
        if incumbent.shape != (arch.n_params,) or not np.all(np.isfinite(incumbent)):
            raise InputError(f"incumbent must be {arch.n_params} finite numbers")
    which = choose_method(arch, loss, reg, method)
    if scheduler is None and workers is None:
        scheduler = os.environ.get("LPTRAIN_SCHEDULER") or None
    from ._parallel import check_scheduler

    check_scheduler(scheduler)
    kw = dict(box=float(box), reg=reg, lam=float(lam), gap=float(gap), abs_gap=float(abs_gap),
              time_limit=time_limit, incumbent=incumbent, progress=progress)
    if which == "patterns":
        res = _patterns().solve(arch, loss, X, Y, workers=workers, scheduler=scheduler, **kw)
    else:
        from . import spatial

        res = spatial.solve(arch, loss, X, Y, workers=workers, scheduler=scheduler, **kw)
    res.requested_gap, res.requested_abs_gap = float(gap), float(abs_gap)
    return res


def check_continuous(result: ContinuousResult, arch, loss, X, Y, *, box=1.0, reg=None,
                     lam=0.0) -> ContinuousCertificate:
    """Replay ``result``'s proof in code apart from its search; recompute its objective.

    Returns
    -------
    ContinuousCertificate
        ``valid`` only when every leaf bound replays at or above ``result.lower_bound``, the
        returned network's risk, recomputed, is ``result.objective``, and a status
        ``optimal`` is re-derived from the interval and the result's stored tolerances
        (``derived_status``); ``time_limit`` is always an honest claim about a certified
        interval.
    """
    from . import check_spatial

    t0 = time.perf_counter()
    X, Y, reg = _validate(arch, loss, X, Y, box, reg, lam)
    p = np.asarray(result.params, dtype=np.float64)
    if p.shape != (arch.n_params,) or not np.all(np.isfinite(p)):
        return ContinuousCertificate(False, str(result.method), "params have the wrong shape or are not finite")
    if not (np.isfinite(result.objective) and not np.isnan(result.lower_bound)):
        return ContinuousCertificate(False, str(result.method), "objective or lower bound is not a number")
    derived = derive_status(result.objective, result.lower_bound, result.requested_gap, result.requested_abs_gap)
    refused = _status_refused(result, derived)
    if refused:
        return ContinuousCertificate(False, str(result.method), refused, None, time.perf_counter() - t0, derived)
    if result.method == "spatial":
        ok, why, replay = check_spatial.verify(result.proof, arch, loss, X, Y, box=float(box), reg=reg,
                                               lam=float(lam), lower_bound=float(result.lower_bound),
                                               params=result.params, objective=float(result.objective))
        return ContinuousCertificate(ok, "spatial-interval-replay", why, replay, time.perf_counter() - t0,
                                     derived)
    if result.method == "patterns":
        try:
            from . import check_patterns
        except ImportError:
            return ContinuousCertificate(False, "patterns", "the patterns checker is not available",
                                         None, time.perf_counter() - t0, derived)
        ok, why = check_patterns.verify(result.proof, arch, loss, X, Y, box=float(box), reg=reg,
                                        lam=float(lam), lower_bound=float(result.lower_bound))
        p = np.asarray(result.params, dtype=np.float64)
        if ok and (p.shape != (arch.n_params,) or np.any(np.abs(p) > box)):
            ok, why = False, "the returned parameters leave the box"
        if ok:
            r = check_spatial.risk(arch, loss, X, Y, p, reg, float(lam))
            if abs(r - result.objective) > check_spatial.OBJ_TOL * (1 + abs(r)):
                ok, why = False, f"objective {result.objective!r} but the parameters' risk is {r!r}"
            elif result.lower_bound > r + check_spatial.OBJ_TOL * (1 + abs(r)):
                ok, why = False, "lower bound above the returned network's risk"
        return ContinuousCertificate(ok, "patterns-replay", why, None, time.perf_counter() - t0, derived)
    return ContinuousCertificate(False, str(result.method), f"unknown method {result.method!r}",
                                 None, time.perf_counter() - t0, derived)


def _status_refused(result, derived) -> str:
    """Why ``result.status`` is not borne out by its interval and tolerances ('' when it is)."""
    if result.status == "time_limit":
        return ""
    if result.status != "optimal":
        return f"unknown status {result.status!r}"
    if derived is None:
        return ("the result claims status optimal but stores no valid gap tolerances "
                f"(gap {result.requested_gap!r}, abs_gap {result.requested_abs_gap!r}) to check it against")
    if derived != "optimal":
        tol = tolerance(result.objective, result.requested_gap, result.requested_abs_gap)
        return (f"the result claims status optimal but its interval objective - lower_bound = "
                f"{result.objective - result.lower_bound:.6g} exceeds max(abs_gap, gap |objective|) = {tol:.6g}")
    return ""


def save_proof(path, result, arch, loss, X, Y, *, box=1.0, reg=None, lam=0.0):
    """Write the result and its proof to ``path`` (npz, atomic, versioned, checksummed)."""
    from . import proofio

    problem = {"architecture": arch.to_dict(), "loss": loss, "reg": reg, "lam": float(lam),
               "box": float(box), "data_sha256": proofio.data_hash(X, Y)}
    proofio.save(path, result, problem)


def load_proof(path):
    """``(result, problem)`` from a proof file written by :func:`save_proof`."""
    from . import proofio

    return proofio.load(path)


__all__ = ["ContinuousResult", "ContinuousCertificate", "check_continuous", "choose_method",
           "load_proof", "save_proof", "solve_continuous"]
