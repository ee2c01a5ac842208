"""The one pipeline: architecture -> grid -> polytope -> face -> solver -> certificate -> network.

The CLI and the Python estimators call these functions and nothing below them;
the grid path returns a :class:`TrainResult`: the network, the solution, the certificate and
a :class:`~lptrain.report.Report` (what ``--json`` writes); the continuous path a
:class:`ContinuousTrainResult` with a :class:`~lptrain.report.ContinuousReport`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import rounding
from .arch import Architecture
from .certificate import check
from .exceptions import InputError, SizeError
from .face import Face
from .grid import Grid
from .lipschitz import architecture_lipschitz, paper_constant
from .losses import get_loss
from .network import Network
from .polytope import Polytope
from .report import ContinuousReport, Report
from .sizes import DEFAULT_MAX_EVALUATIONS, DEFAULT_MEMORY, big
from .solvers import get_solver
from .solvers.base import Solution
from .verdict import Certificate

if TYPE_CHECKING:
    from .bnn import BinaryFace
    from .continuous import ContinuousCertificate, ContinuousResult

AUTO_HIGHS_MAX_VARIABLES = 200_000


def architecture(spec, activation="relu") -> Architecture:
    """An :class:`Architecture` from ``n-w1-...-m`` (or an existing one)."""
    if isinstance(spec, Architecture):
        return spec
    if isinstance(spec, str) and spec.lower().endswith(".json"):
        return _arch_file(spec)
    return Architecture.parse(spec, activation)


def parse_widths(text):
    """``2-2-2-1`` -> [2, 2, 2, 1], with the same errors as ``--arch``."""
    return list(Architecture.parse(text).widths)


def _arch_file(path):
    import json

    try:
        with open(path) as fh:
            d = json.load(fh)
    except FileNotFoundError:
        raise InputError(f"{path}: no such architecture file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a valid JSON architecture file ({e})") from None
    try:
        return Architecture.from_dict(d)
    except InputError as e:
        raise InputError(f"{path}: {e}") from None


def grid_for(arch, loss, bits=None, epsilon=None, reg=None, lam=0.0) -> Grid:
    """The grid for ``bits``, or the coarsest one reaching ``epsilon`` (docs/design.md §1)."""
    if (bits is None) == (epsilon is None):
        raise InputError("give exactly one of bits and epsilon")
    if bits is not None:
        return Grid(bits)
    L = architecture_lipschitz(arch, get_loss(loss) if isinstance(loss, str) else loss, reg, lam)
    return Grid.for_epsilon(epsilon, L.required("epsilon="))


def polytope(arch, loss, samples, bits=None, epsilon=None, form="compact", reg=None,
             lam=0.0, activation="relu") -> Polytope:
    """The (unbuilt) polytope P for these choices."""
    arch = architecture(arch, activation)
    loss = get_loss(loss) if isinstance(loss, str) else loss
    return Polytope(arch, loss, grid_for(arch, loss, bits, epsilon, reg, lam), samples, form,
                    reg, lam)


def describe_polytope(p: Polytope, requested_epsilon=None) -> dict:
    """Sizes (exact), Thm 3.1(a) bounds and constants of P: ``size``/``build``'s JSON."""
    s = p.sizes()
    out = {
        "architecture": p.arch.describe(),
        "loss": p.loss.name,
        "form": p.form,
        "samples": p.samples,
        "bits": p.grid.bits,
        "grid_values": p.grid.size,
        "parameters": p.N,
        "epsilon": p.epsilon,
        "requested_epsilon": requested_epsilon,
        "lipschitz": p.lipschitz.value,
        "lipschitz_paper": _paper_L(p),
        "reg": p.reg,
        "lam": p.lam,
        **s,
        "memory_bytes": s["lp_bytes"],
        "within_bound": s["variables"] <= s["bound_variables"] and s["constraints"] <= s["bound_constraints"],
    }
    return out


def size_report(p: Polytope, requested_epsilon=None, memory=DEFAULT_MEMORY) -> dict:
    """``size``'s JSON: :func:`describe_polytope`, the sizes of both forms, and whether the
    table fits in ``memory`` bytes.  Nothing is built."""
    r = describe_polytope(p, requested_epsilon)
    other = "literal" if p.form == "compact" else "compact"
    q = Polytope(p.arch, p.loss, p.grid, p.samples, other, p.reg, p.lam)
    keys = ("variables", "constraints", "nonzeros")
    r["forms"] = {p.form: {k: r[k] for k in keys}, other: {k: q.sizes()[k] for k in keys}}
    r["fits_memory"] = r["table_bytes"] <= memory
    return r


def _paper_L(p: Polytope):
    w = p.arch.widths
    if w is None or p.reg:
        return None
    return paper_constant(w, p.loss)


@dataclass
class TrainResult:
    """What :func:`train` (on the grid), :func:`solve_face` and :func:`train_bnn` return.

    Attributes
    ----------
    network : Network
        The trained network (predicts in raw units when the data were scaled).
    solution : Solution
        The solver's answer: status, objective, optimal grid point, dual certificate.
    certificate : Certificate or None
        The independent check of ``solution`` (None with ``certify=False``).
    report : Report
        Everything ``--json`` writes (:meth:`Report.to_dict`).
    face : Face or BinaryFace
        The face that was solved.
    """

    network: Network
    solution: Solution
    certificate: Certificate | None
    report: Report
    face: Face | BinaryFace | None = None


@dataclass
class ContinuousTrainResult:
    """What :func:`train_continuous` (and :func:`train` with ``continuous=True``) return.

    Attributes
    ----------
    network : Network
        The best network found (predicts in raw units when the data were scaled).
    result : ContinuousResult
        The search's answer: status, the interval [lower_bound, objective], the parameters
        and the proof.
    certificate : ContinuousCertificate or None
        The independent replay of the proof (None with ``certify=False``).
    report : ContinuousReport
        Everything ``--json`` writes (:meth:`ContinuousReport.to_dict`).
    """

    network: Network
    result: ContinuousResult
    certificate: ContinuousCertificate | None
    report: ContinuousReport


def choose_solver(face: Face, name: str, memory: int, options=None):
    """(solver, note): ``name`` configured by ``options``, or for ``auto`` HiGHS on the explicit
    face LP when small, else the structured solver (``auto`` takes no options)."""
    if name != "auto":
        return get_solver(name, **(options or {})), ""
    if options:
        raise InputError("solver_options= need a named solver; solver='auto' chooses one itself")
    v = face.lp_sizes()["variables"]
    if v <= AUTO_HIGHS_MAX_VARIABLES and face.fits(memory):
        return get_solver("highs"), f"auto: highs (explicit face LP has {v} variables)"
    return get_solver("structured"), (
        f"auto: structured (the explicit face LP would have {v:,} variables; "
        f"the structured solver returns the same optimum without it)"
    )


MAX_OBJECTIVE = 1e300


def refuse_overflowing_regularizer(p: Polytope):
    """Refuse, before any solver runs, a weight lam for which D lam R(phi) (R <= N on the
    parameter box [-1, 1]^N, App. B) could overflow a float: the sums would be inf or NaN."""
    if not p.reg:
        return
    lam = float(p.lam)
    worst = lam * max(1, p.N) * p.samples
    if not (np.isfinite(lam) and np.isfinite(worst) and worst <= MAX_OBJECTIVE):
        raise InputError(f"--lam {lam:g} makes the objective overflow (lam x N x D = {worst:.3g} > "
                         f"{MAX_OBJECTIVE:g}); use a smaller --lam")


def refuse_endless_scan(slv, face, max_evaluations):
    """Refuse, before it starts, a scan scoring more than ``max_evaluations`` pairs (its work is
    exact in advance: :meth:`~lptrain.solvers.base.Solver.work`); None means no limit."""
    work = slv.work(face)
    if max_evaluations is None or work is None or work <= max_evaluations:
        return
    raise SizeError(f"the {slv.name} scan would score {big(work)} (grid point, data point) pairs, "
                    f"over the limit of {big(int(max_evaluations))} (about {_duration(work // 10**9)} at "
                    f"1e9 per second): use fewer bits=, solver='bnb', or raise max_evaluations=")


def _duration(seconds: int) -> str:
    for unit, s in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * s:
            return f"{big(seconds // s)} {unit}"
    return f"{seconds} seconds"


def solve_face(p: Polytope, dataset, solver="auto", memory=DEFAULT_MEMORY, certify=True,
               progress=False, *, solver_options=None,
               max_evaluations=DEFAULT_MAX_EVALUATIONS) -> TrainResult:
    """Fix the face of ``p`` for ``dataset``, solve it, check the certificate, build the network.

    Parameters
    ----------
    p : Polytope
        P for the data's sample size (built or not: an unbuilt P evaluates only the face).
    dataset : Dataset
        The data, already in [-1, 1] (scaled by its :class:`~lptrain.data.Scaling` if any).
    solver : str
        ``auto`` (HiGHS on small explicit face LPs, else ``structured``) or a name of
        :func:`lptrain.solvers.installed_solvers`.
    memory : int
        Bytes allowed for tables and explicit LPs; larger ones are refused before allocation.
    certify : bool
        Check the solution independently (:func:`lptrain.certificate.check`).
    progress : bool
        Show a progress bar on stderr.
    solver_options : dict, optional
        Keyword options for the named solver (:func:`lptrain.solvers.get_solver`), e.g.
        ``{"scheduler": "tcp://host:8786"}`` for ``dask`` or ``{"depth_first": False}`` for
        ``bnb``.
    max_evaluations : int or None
        Refuse a scan that would score more (grid point, distinct point) pairs (default 1e13,
        an hour or two on two cores); None for no limit.  bnb and HiGHS are not limited.

    Returns
    -------
    TrainResult
        The network, the solution, the certificate, the :class:`~lptrain.report.Report` and
        the face.

    Raises
    ------
    InputError, SizeError, SolverError
        For bad data or solver names, faces too large for ``memory``, solver failures.
    """
    refuse_overflowing_regularizer(p)
    face = Face(p, dataset.x, dataset.y)
    rounded = rounding.issue(p.grid, dataset)
    slv, note = choose_solver(face, solver, memory, solver_options)
    refuse_endless_scan(slv, face, max_evaluations)
    sol = slv.solve(face, memory, progress)
    t0 = time.perf_counter()
    cert = check(face, sol, memory) if certify else None
    check_seconds = time.perf_counter() - t0 if certify else None
    net = Network(p.arch, sol.params, dataset.scaling,
                  info={"loss": p.loss.name, "bits": p.grid.bits, "objective": sol.objective,
                        "reg": p.reg, "lam": p.lam})
    z = p.arch.predict(dataset.x, sol.params)
    risk = p.loss.evaluate(z, dataset.y)
    train_loss = float(risk.mean())
    if p.reg and p.lam:
        from .evaluation import regularizer

        train_loss += p.lam * float(regularizer(sol.params[None, :], p.reg)[0])
    report = Report(
        status=sol.status if cert is None or cert.valid else "certificate_failed",
        objective=sol.objective,
        params=[float(v) for v in sol.params],
        param_names=list(p.arch.param_names),
        train_loss=train_loss,
        epsilon=p.epsilon,
        lipschitz=p.lipschitz.value,
        lipschitz_paper=_paper_L(p),
        bits=p.grid.bits,
        samples=p.samples,
        distinct_points=int(len(face.distinct)),
        grid_points=p.param_points,
        evaluations=sol.evaluations,
        nominal_evaluations=sol.nominal_evaluations,
        grid_index=int(sol.grid_index),
        solver=sol.solver,
        solver_note=note,
        solver_info={k: v for k, v in sol.info.items() if isinstance(v, (int, float, str))},
        solve_seconds=sol.seconds,
        check_seconds=check_seconds,
        certificate=cert,
        polytope=describe_polytope(p),
        face_lp=face.lp_sizes(),
        warnings=rounded.warnings,
        notes=rounded.notes,
    )
    return TrainResult(net, sol, cert, report, face)


def train(dataset, arch, *, loss="quadratic", bits=None, epsilon=None, activation="relu",
          solver="auto", form="compact", reg=None, lam=0.0, memory=DEFAULT_MEMORY,
          certify=True, progress=False, solver_options=None, continuous=False, box=1.0, gap=1e-4,
          abs_gap=1e-6, time_limit=None, proof=None, method="auto",
          max_evaluations=DEFAULT_MAX_EVALUATIONS) -> TrainResult | ContinuousTrainResult:
    """Train ``arch`` on ``dataset`` to the grid optimum of its empirical risk (Thm 3.1, Lemma 3.5).

    Builds P for the data's size lazily (only the face's table rows are evaluated), solves the
    face and checks the certificate.  The result is within 2 epsilon of the best network with
    parameters in [-1, 1]^N.

    Parameters
    ----------
    dataset : Dataset
        The data (:func:`lptrain.read_dataset` or :func:`lptrain.make_dataset`).
    arch : str or Architecture
        Widths ``n-w1-...-m`` (e.g. ``"1-2-1"``), an architecture ``.json`` file, or an
        :class:`~lptrain.arch.Architecture`.
    loss : str
        ``absolute``, ``quadratic``, ``hinge`` or ``cross_entropy``.
    bits, epsilon : int or float, optional
        The grid: ``bits`` per number, or the coarsest grid whose epsilon = 2 gamma L reaches
        ``epsilon``; give exactly one.
    activation : str
        Hidden activation of a widths spec (``relu``, ``leaky_relu``, ``elu``, ``tanh``).
    solver : str
        ``auto`` or a solver name (see :func:`solve_face`).
    form : {"compact", "literal"}
        The LP's form.
    reg : {None, "l1", "l2"}
        Regularizer (App. B), weighted by ``lam`` >= 0.
    lam : float
    memory : int
        Bytes allowed for tables and explicit LPs.
    max_evaluations : int or None
        The largest scan allowed (see :func:`solve_face`).
    certify : bool
        Check the solution independently.
    progress : bool
        Show a progress bar on stderr.
    solver_options : dict, optional
        Keyword options for the named solver (see :func:`solve_face`).
    continuous : bool
        Skip the grid: :func:`train_continuous` returns the best network over continuous
        parameters in [-box, box]^N with a certified lower bound.
    box, gap, abs_gap, time_limit, proof, method
        Passed to :func:`train_continuous` when ``continuous``.

    Returns
    -------
    TrainResult or ContinuousTrainResult
        ``network``, ``solution``, ``certificate``, ``report`` (whose ``to_dict()`` is the
        CLI's JSON) and ``face``; with ``continuous``, :func:`train_continuous`'s result.

    Raises
    ------
    InputError
        For inconsistent data, architecture or options.
    SizeError
        When a table or LP would exceed ``memory``.
    """
    if continuous:
        if bits is not None or epsilon is not None:
            raise InputError("continuous training uses no grid: bits and epsilon do not apply")
        return train_continuous(dataset, arch, loss=loss, activation=activation, reg=reg, lam=lam,
                                box=box, gap=gap, abs_gap=abs_gap, time_limit=time_limit,
                                proof=proof, method=method, certify=certify, progress=progress)
    p = polytope(arch, loss, dataset.samples, bits, epsilon, form, reg, lam, activation)
    if p.n != dataset.x.shape[1] or p.m != dataset.y.shape[1]:
        raise InputError(
            f"data has {dataset.x.shape[1]} inputs and {dataset.y.shape[1]} outputs; "
            f"the architecture needs {p.n} and {p.m}"
        )
    res = solve_face(p, dataset, solver, memory, certify, progress, solver_options=solver_options,
                     max_evaluations=max_evaluations)
    res.report.extra["requested_epsilon"] = epsilon
    return res


def distributed_choice(solver="auto", scheduler=None, workers=None):
    """(solver, solver_options) for a dask.distributed run: a ``scheduler`` address or a number
    of local ``workers`` implies ``solver="dask"`` (the CLI's ``--scheduler``/``--workers``).

    Raises
    ------
    InputError
        When ``scheduler`` or ``workers`` is given with a solver other than ``auto`` or ``dask``.
    """
    if scheduler is None and workers is None:
        return solver, {}
    if solver not in ("auto", "dask"):
        raise InputError("scheduler= and workers= go with solver='dask'")
    return "dask", {"scheduler": scheduler, "workers": workers}


def train_bnn(dataset, arch, *, activation="relu", loss="absolute", form="compact",
              solver="structured", memory=DEFAULT_MEMORY, certify=True, bits=None, epsilon=None,
              reg=None, scale=False) -> TrainResult:
    """Train a binarized network exactly (App. C): parameters in {-1, 1}, 0/1 data, no epsilon.

    Parameters
    ----------
    dataset : Dataset
        0/1 inputs ``x`` (D, n) and outputs ``y`` (D, m), unscaled.
    arch : str or Architecture
        Every node needs a threshold (the ``bias`` slot); at most 40 parameters.
    activation : str
        Only used to parse ``arch`` (binarized units have no activation).
    loss : {"absolute", "quadratic"}
        Both count wrong output bits on 0/1 data.
    form : {"compact", "literal"}
        The LP's form (Thm 2.8 with or without leaf bags).
    solver : {"structured", "highs", "auto"}
        A scan of every network, or HiGHS on the explicit LP.
    memory : int
        Bytes for the loss table and explicit LPs.
    certify : bool
        Check the answer (``certificate`` in the result).
    bits, epsilon, reg, scale
        Must be left unset: binarized training is exact on 0/1 data.

    Returns
    -------
    TrainResult
        With ``report.extra["binarized"] = True``, ``epsilon = 0`` and ``bits = 1``; ``face``
        is the :class:`~lptrain.bnn.BinaryFace`.

    Raises
    ------
    InputError
        For non-binary data, a non-applicable option or loss, or an unknown solver.
    """
    from . import bnn

    if bits is not None or epsilon is not None or scale or reg:
        raise InputError("binarized training is exact on 0/1 data: bits=, epsilon=, scale= and reg= "
                         "do not apply")
    if loss not in ("quadratic", "absolute"):
        raise InputError("binarized training uses the absolute loss (the number of wrong output bits)")
    arch = architecture(arch, activation)
    face = bnn.BinaryFace(arch, dataset.x, dataset.y, form)
    sol, cert = bnn.solve(face, solver, memory, certify)
    net = Network(arch, sol.params, info={"binarized": True, "loss": "absolute", "objective": sol.objective})
    report = Report(
        status=sol.status if cert is None or cert.valid else "certificate_failed",
        objective=sol.objective,
        params=[float(v) for v in sol.params],
        param_names=list(arch.param_names),
        train_loss=sol.objective,
        epsilon=0.0,
        lipschitz=None,
        lipschitz_paper=None,
        bits=1,
        samples=face.samples,
        distinct_points=int(len(face.distinct)),
        grid_points=face.param_points,
        evaluations=sol.evaluations,
        nominal_evaluations=sol.nominal_evaluations,
        grid_index=int(sol.grid_index),
        solver=sol.solver,
        solver_note="",
        solver_info={},
        solve_seconds=sol.seconds,
        check_seconds=sol.info.get("check_seconds"),
        certificate=cert,
        polytope=bnn.sizes(arch, face.samples, form),
        face_lp=None,
        extra={"binarized": True},
    )
    return TrainResult(net, sol, cert, report, face)


def demo_data_path() -> str:
    return os.path.join(os.path.dirname(__file__), "data", "demo.csv")


# -- the continuous optimum (docs/design.md §10) ------------------------------------------------


def continuous_report(res, cert, arch, loss, box, reg, lam, samples) -> ContinuousReport:
    """The report of a continuous solve: the interval, the network, the replayed certificate."""
    return ContinuousReport(
        status=res.status if cert is None or cert.valid else "certificate_failed",
        objective=float(res.objective),
        lower_bound=float(res.lower_bound),
        gap=float(res.objective - res.lower_bound),
        params=[float(v) for v in res.params],
        param_names=list(arch.param_names),
        nodes=int(res.nodes),
        solve_seconds=float(res.solve_seconds),
        check_seconds=float(cert.seconds) if cert is not None else None,
        certificate=cert,
        box=float(box),
        method=res.method,
        loss=loss,
        reg=reg,
        lam=float(lam),
        samples=int(samples),
        train_loss=float(res.objective),
        solver_info={k: v for k, v in res.info.items() if isinstance(v, (int, float, str, bool))},
    )


def train_continuous(dataset, arch, *, loss="quadratic", activation="relu", reg=None, lam=0.0,
                     box=1.0, gap=1e-4, abs_gap=1e-6, time_limit=None, proof=None,
                     method="auto", certify=True, incumbent=None, progress=False, workers=None,
                     scheduler=None) -> ContinuousTrainResult:
    """The best network over continuous parameters in [-box, box]^N, with a certified bound.

    Parameters
    ----------
    dataset : Dataset
        The original data (scaled only if the dataset carries a scaling).
    arch : str or Architecture
    loss, reg, lam, activation : as for :func:`train`.
    box : float
        B: every parameter in [-B, B] (default 1, the paper's domain).
    gap, abs_gap : float
        Relative and absolute tolerances on objective - lower_bound.
    time_limit : float or None
        Seconds; the proven interval is returned at the limit (status ``time_limit``).
    proof : path or None
        Write the result and its proof there (npz, atomic, checksummed).
    method : {"auto", "patterns", "spatial"}
    certify : bool
        Replay the proof independently (``certificate`` in the report).
    workers, scheduler : int, str or None
        Threads bounding the search's nodes concurrently (default every core; the pattern
        search's node LPs, the spatial search's box relaxations), or a dask.distributed
        scheduler address to bound them on that cluster (default ``LPTRAIN_SCHEDULER``
        from the environment unless ``workers`` is given).

    Returns
    -------
    ContinuousTrainResult
        ``network``, ``result``, ``certificate`` and ``report`` (a
        :class:`~lptrain.report.ContinuousReport`: status, objective, lower_bound, gap, params,
        param_names, nodes, solve_seconds, check_seconds, certificate, box, method, ...).
    """
    from .continuous import check_continuous, solve_continuous

    arch = architecture(arch, activation)
    if dataset.x.shape[1] != arch.n_inputs or dataset.y.shape[1] != arch.n_outputs:
        raise InputError(
            f"data has {dataset.x.shape[1]} inputs and {dataset.y.shape[1]} outputs; "
            f"the architecture needs {arch.n_inputs} and {arch.n_outputs}"
        )
    res = solve_continuous(arch, loss, dataset.x, dataset.y, box=box, reg=reg, lam=lam, gap=gap,
                           abs_gap=abs_gap, time_limit=time_limit, incumbent=incumbent,
                           progress=progress, method=method, workers=workers, scheduler=scheduler)
    cert = check_continuous(res, arch, loss, dataset.x, dataset.y, box=box, reg=reg, lam=lam) if certify else None
    report = continuous_report(res, cert, arch, loss, box, reg, lam, dataset.samples)
    _write_proof(proof, res, cert, report, arch, loss, dataset.x, dataset.y, box, reg, lam)
    net = Network(arch, res.params, dataset.scaling,
                  info={"loss": loss, "continuous": True, "objective": float(res.objective),
                        "lower_bound": float(res.lower_bound), "box": float(box), "reg": reg,
                        "lam": float(lam)})
    return ContinuousTrainResult(net, res, cert, report)


def _write_proof(path, res, cert, report, arch, loss, X, Y, box, reg, lam):
    """Write the proof file unless the independent replay rejected it (as for the model):
    ``report.extra["proof"]`` is the path written, or None."""
    from .continuous import save_proof

    if path is None:
        return
    if cert is not None and not cert.valid:
        report.extra["proof"] = None
        return
    save_proof(path, res, arch, loss, X, Y, box=box, reg=reg, lam=lam)
    report.extra["proof"] = str(path)


class BoxWarning(UserWarning):
    """A network brought to :func:`gap` has parameters outside the box searched."""


@dataclass
class GapResult:
    """``lptrain.gap``: the loss of a network, the certified best in its box, and the gap."""

    loss: float
    lower_bound: float
    gap: float
    best: Network
    report: ContinuousReport
    result: ContinuousResult | None = None
    certificate: ContinuousCertificate | None = None


def suggest_box(params) -> float:
    """The box that contains ``params``: max |param| rounded up to two significant digits."""
    import math

    v = float(np.max(np.abs(params), initial=0.0))
    if v <= 0:
        return 1.0
    step = 10.0 ** (math.floor(math.log10(v)) - 1)
    k = math.ceil(v / step * (1 - 1e-12))
    out = float(f"{k * step:.12g}")
    while out < v:
        k += 1
        out = float(f"{k * step:.12g}")
    return out


def gap(net, X, y, *, loss=None, box=None, reg=None, lam=0.0, gap=1e-4, abs_gap=1e-6,
        time_limit=None, proof=None, method="auto", certify=True, progress=False, workers=None,
        scheduler=None) -> GapResult:
    """How far a network is from the best one of its architecture: loss - certified lower bound.

    Parameters
    ----------
    net : Network, model or ONNX path, torch.nn.Sequential, fitted MLPRegressor/MLPClassifier
    X, y : array (D, n), (D,) or (D, m)
        The data, in the network's raw units (a model's scaling is applied first).  For
        classifiers ``y`` holds labels, one-hot encoded inside (cross-entropy).
    loss : str or None
        Default: the model's training loss, cross-entropy for classifiers, else quadratic.
    box : float or None
        B (default 1).  When the network's own parameters leave it, the report says so under
        ``box_warning`` and offers ``suggested_box``, the box that contains them.
    gap, abs_gap, time_limit, proof, method, reg, lam, workers, scheduler : as for
        :func:`train_continuous`.

    Returns
    -------
    GapResult
        ``loss`` of ``net`` on the data, certified ``lower_bound`` of the best network of the
        same architecture in the box, ``gap = loss - lower_bound``, the ``best`` network found
        and the full ``report`` (a :class:`~lptrain.report.ContinuousReport`; its ``gap`` is
        this gap, the best network's own interval is under ``best_gap``).
    """
    from .continuous import check_continuous, solve_continuous
    from .continuous.check_spatial import risk as _risk
    from .continuous.importers import import_network

    imp = import_network(net)
    arch = imp.arch
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None] if arch.n_inputs == 1 else X[None, :]
    if imp.classes is not None:
        labels = np.asarray(y).ravel()
        idx = np.searchsorted(imp.classes, labels)
        if np.any(idx >= len(imp.classes)) or np.any(imp.classes[np.minimum(idx, len(imp.classes) - 1)] != labels):
            raise InputError("y holds labels the classifier does not know")
        Y = np.eye(arch.n_outputs)[idx] if arch.n_outputs > 1 else np.ones((len(labels), 1))
    else:
        Y = np.asarray(y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
    if X.shape[0] != Y.shape[0]:
        raise InputError(f"X has {X.shape[0]} rows and y {Y.shape[0]}")
    if X.shape[1] != arch.n_inputs or Y.shape[1] != arch.n_outputs:
        raise InputError(f"data has {X.shape[1]} inputs and {Y.shape[1]} outputs; the network "
                         f"takes {arch.n_inputs} and gives {arch.n_outputs}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InputError("data contain NaN or infinite values")
    if imp.scaling is not None:
        n = arch.n_inputs
        X = imp.scaling.forward(X, slice(0, n))
        Y = imp.scaling.forward(Y, slice(n, None))
    loss = loss or imp.loss or "quadratic"
    get_loss(loss)
    B = 1.0 if box is None else box
    if isinstance(B, bool) or not isinstance(B, (int, float)) or not np.isfinite(B) or B <= 0:
        raise InputError(f"box must be a positive number, got {box!r}")
    B = float(B)
    own = float(np.max(np.abs(imp.params), initial=0.0))
    warnings = []
    report_extra = {}
    if own > B:
        sb = suggest_box(imp.params)
        msg = (f"the network's parameters leave the box [-{B:g}, {B:g}] (max |param| = {own:.6g}); "
               f"the bound is for networks inside it: use box {sb:g} to contain this one")
        warnings.append(msg)
        report_extra = {"box_warning": msg, "suggested_box": sb}
        import warnings as _w

        _w.warn(BoxWarning(msg), stacklevel=2)
    own_loss = _risk(arch, loss, X, Y, imp.params, reg, float(lam))
    res = solve_continuous(arch, loss, X, Y, box=B, reg=reg, lam=lam, gap=gap, abs_gap=abs_gap,
                           time_limit=time_limit, incumbent=np.clip(imp.params, -B, B),
                           progress=progress, method=method, workers=workers, scheduler=scheduler)
    cert = check_continuous(res, arch, loss, X, Y, box=B, reg=reg, lam=lam) if certify else None
    rep = continuous_report(res, cert, arch, loss, B, reg, lam, len(X))
    rep.gap = own_loss - float(res.lower_bound)
    rep.extra.update({"loss_of_network": own_loss, "best_gap": float(res.objective - res.lower_bound),
                      "network_source": imp.source, "architecture": arch.describe(),
                      "warnings": warnings, **report_extra})
    _write_proof(proof, res, cert, rep, arch, loss, X, Y, B, reg, lam)
    best = Network(arch, res.params, imp.scaling,
                   info={"loss": loss, "continuous": True, "objective": float(res.objective),
                         "lower_bound": float(res.lower_bound), "box": B})
    return GapResult(own_loss, float(res.lower_bound), rep.gap, best, rep, res, cert)


def check_proof(path, dataset) -> dict:
    """Replay a continuous proof file (``--proof``) on ``dataset``, as anyone can.

    The file holds the problem (architecture, loss, regularizer, box and a SHA-256 of the
    data it was made for) and the result with its proof; the data must be the data the
    solver saw (after ``--scale`` when it was given, which is deterministic).  The replay
    is the same independent check ``train --continuous`` runs
    (:func:`lptrain.continuous.check_continuous`).

    Parameters
    ----------
    path : str
        A proof file written by ``train --continuous --proof`` or ``gap --proof``.
    dataset : Dataset
        The data, with the architecture's numbers of inputs and outputs.

    Returns
    -------
    dict
        ``valid``, ``method``, ``reason``, ``status`` (as the file claims it), ``objective``,
        ``lower_bound``, ``gap``, ``check_seconds``, the problem's ``loss``, ``reg``, ``lam``,
        ``box``, then ``derived_status`` (the status the certified interval earns under the
        stored tolerances: a claimed ``optimal`` that it does not bear out is invalid) and
        those tolerances, ``requested_gap`` and ``requested_abs_gap``.

    Raises
    ------
    FileFormatError
        For a damaged or altered file, or one of format version 1 (it stores no tolerances).
    InputError
        For data other than the data the proof was made for.
    """
    from .continuous import check_continuous, load_proof
    from .continuous.proofio import data_hash

    result, problem = load_proof(path)
    try:
        arch = Architecture.from_dict(problem["architecture"])
        loss, reg, lam, box = problem["loss"], problem["reg"], float(problem["lam"]), float(problem["box"])
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{path}: the proof's problem description is incomplete ({e})") from None
    x, y = np.asarray(dataset.x, dtype=np.float64), np.asarray(dataset.y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != arch.n_inputs or y.ndim != 2 or y.shape[1] != arch.n_outputs:
        raise InputError(f"the proof's network has {arch.n_inputs} inputs and {arch.n_outputs} outputs; "
                         f"the data has {x.shape[-1]} and {y.shape[-1]}")
    if data_hash(x, y) != problem.get("data_sha256"):
        raise InputError(f"{path}: the proof was made for other data (SHA-256 of the data differs); "
                         "give the data the solver saw (with scale=True if it was scaled)")
    cert = check_continuous(result, arch, loss, x, y, box=box, reg=reg, lam=lam)
    return {"valid": bool(cert.valid), "method": cert.method, "reason": cert.reason,
            "status": result.status, "objective": float(result.objective),
            "lower_bound": float(result.lower_bound),
            "gap": float(result.objective - result.lower_bound), "check_seconds": float(cert.seconds),
            "loss": loss, "reg": reg, "lam": lam, "box": box, "architecture": arch.describe(),
            "samples": int(x.shape[0]), "proof": str(path), "derived_status": cert.derived_status,
            "requested_gap": result.requested_gap, "requested_abs_gap": result.requested_abs_gap}
