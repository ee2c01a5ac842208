"""The one pipeline: architecture -> grid -> polytope -> face -> solver -> certificate -> network.

The CLI and the Python estimators call these functions and nothing below them;
each returns a :class:`TrainResult`: the network, the solution, the certificate and a
:class:`~lptrain.report.Report` (what ``--json`` writes).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

import numpy as np

from . import rounding
from .arch import Architecture
from .certificate import check
from .exceptions import InputError
from .face import Face
from .grid import Grid
from .lipschitz import architecture_lipschitz, paper_constant
from .losses import get_loss
from .network import Network
from .polytope import Polytope
from .report import Report
from .sizes import DEFAULT_MEMORY
from .solvers import get_solver
from .solvers.base import Solution

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
    return Grid.for_epsilon(epsilon, L.value)


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
    """What :func:`train`, :func:`solve_face` and :func:`train_bnn` return.

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
    face : Face or BinaryFace or None
        The face that was solved.
    """

    network: Network
    solution: Solution
    certificate: object
    report: Report
    face: object = None


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


def solve_face(p: Polytope, dataset, solver="auto", memory=DEFAULT_MEMORY, certify=True,
               progress=False, *, solver_options=None) -> TrainResult:
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
          certify=True, progress=False, solver_options=None) -> TrainResult:
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
    certify : bool
        Check the solution independently.
    progress : bool
        Show a progress bar on stderr.
    solver_options : dict, optional
        Keyword options for the named solver (see :func:`solve_face`).

    Returns
    -------
    TrainResult
        ``network``, ``solution``, ``certificate``, ``report`` (whose ``to_dict()`` is the
        CLI's JSON) and ``face``.

    Raises
    ------
    InputError
        For inconsistent data, architecture or options.
    SizeError
        When a table or LP would exceed ``memory``.
    """
    p = polytope(arch, loss, dataset.samples, bits, epsilon, form, reg, lam, activation)
    if p.n != dataset.x.shape[1] or p.m != dataset.y.shape[1]:
        raise InputError(
            f"data has {dataset.x.shape[1]} inputs and {dataset.y.shape[1]} outputs; "
            f"the architecture needs {p.n} and {p.m}"
        )
    res = solve_face(p, dataset, solver, memory, certify, progress, solver_options=solver_options)
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
