"""The report of one training run: what ``--json`` writes and what :func:`lptrain.train` returns.

A :class:`Report` (the grid optimum) or a :class:`ContinuousReport` (the continuous
optimum) is a dataclass with one field per JSON key, built by the pipeline
(:func:`lptrain.api.solve_face`, :func:`lptrain.api.train_bnn`,
:func:`lptrain.api.train_continuous`, :func:`lptrain.api.gap`) and nowhere else;
``to_dict()`` gives the JSON object.  Both also read like that object
(``report["objective"]``, ``"notes" in report``, ``dict(report)``; ``report[key] = value``
sets a field or an extra key), so code written against the JSON keys keeps working.  Keys
that only some commands write (``requested_epsilon``, ``model``, ``mps``, ``binarized``,
``proof``, ``gap``'s figures of the network brought) go in ``extra``, after the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from .verdict import Certificate

if TYPE_CHECKING:
    from .continuous import ContinuousCertificate


class _JsonFields(Mapping):
    """A dataclass that reads like its JSON object: its fields (a value with ``to_dict`` as
    that dict), then the keys of its ``extra`` dict."""

    def to_dict(self) -> dict:
        """The JSON object: every field (a certificate as its dict), then ``extra``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out

    def __getitem__(self, key):
        if key == "extra" or key not in self._keys():
            raise KeyError(key)
        if key in self.extra:
            return self.extra[key]
        return _plain(getattr(self, key))

    def __setitem__(self, key, value):
        """``report[key] = value``: a field by its name, any other key into ``extra``."""
        if key in {f.name for f in fields(self)} - {"extra"}:
            setattr(self, key, value)
        else:
            self.extra[key] = value

    def __iter__(self):
        return iter(self._keys())

    def __len__(self):
        return len(self._keys())

    def _keys(self):
        names = [f.name for f in fields(self) if f.name != "extra"]
        return names + [k for k in self.extra if k not in names]


def _plain(v):
    return v.to_dict() if hasattr(v, "to_dict") else v


@dataclass(eq=False)
class Report(_JsonFields):
    """The results of solving one face (or one binarized face).

    Attributes
    ----------
    status : str
        ``optimal``, a solver's status, or ``certificate_failed`` when the check rejected it.
    objective : float
        The face LP's optimum: the mean loss on the rounded data (plus lam R).
    params, param_names : list
        The optimal grid point's parameter values and names, in canonical order.
    train_loss : float
        The mean loss of that network on the original (unrounded) data (plus lam R).
    epsilon, lipschitz, lipschitz_paper : float or None
        The grid's accuracy 2 gamma L, the architecture's Lipschitz constant L, and the
        paper's Cor. 4.2 constant where it applies.
    bits, samples, distinct_points, grid_points : int
        Bits per number, D, distinct rounded points, G^N.
    evaluations, nominal_evaluations : int
        Losses the solver computed (the work done), and D G^N (a scan without de-duplication).
    grid_index : int
        The optimal grid point's flat index (exact, may pass 2^63).
    solver, solver_note : str
        The solver that ran and why it was chosen (``auto``).
    solver_info : dict
        The solver's own scalar figures (kernel, boxes, workers, ...).
    solve_seconds, check_seconds : float
        Seconds spent solving and checking (None when not checked).
    certificate : Certificate or None
        The independent check (None with ``certify=False``).
    polytope, face_lp : dict or None
        Sizes of P and of the explicit face LP.
    warnings, notes : list of str
        Rounding warnings (probable mistakes) and notes (what rounding merged).
    extra : dict
        Command-specific keys, written after the others.
    """

    status: str
    objective: float
    params: list
    param_names: list
    train_loss: float
    epsilon: float | None
    lipschitz: float | None
    lipschitz_paper: float | None
    bits: int
    samples: int
    distinct_points: int
    grid_points: int
    evaluations: int
    nominal_evaluations: int
    grid_index: int
    solver: str
    solver_note: str
    solver_info: dict
    solve_seconds: float
    check_seconds: float | None
    certificate: Certificate | None
    polytope: dict | None
    face_lp: dict | None
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


@dataclass(eq=False)
class ContinuousReport(_JsonFields):
    """The results of a continuous solve (``train --continuous``, ``gap``): an interval with a proof.

    Attributes
    ----------
    status : str
        ``optimal`` (the interval is within the requested tolerances), ``time_limit``, or
        ``certificate_failed`` when the independent replay rejected the proof.
    objective : float
        The risk of the network returned on the original data (plus lam R).
    lower_bound : float
        The certified lower bound of the risk over the box [-box, box]^N.
    gap : float
        ``objective - lower_bound`` (for :func:`lptrain.api.gap`: the network's loss minus
        ``lower_bound``; the best network's interval is then ``best_gap`` in :attr:`extra`).
    params, param_names : list
        The network returned, in canonical order, and the parameters' names.
    nodes : int
        Search nodes processed (the work done).
    solve_seconds, check_seconds : float
        Seconds spent solving and replaying the proof (None when not checked).
    certificate : ContinuousCertificate or None
        The independent replay (None with ``certify=False``).
    box : float
        B: the parameters searched lie in [-B, B].
    method : str
        ``patterns`` or ``spatial``.
    loss, reg, lam
        The risk minimized.
    samples : int
        D, the number of data points.
    train_loss : float
        Equal to ``objective`` (the same key as the grid's report).
    continuous : bool
        Always True: tells this report from the grid's.
    solver_info : dict
        The search's own scalar figures (LPs solved, leaves, stop reason, ...).
    extra : dict
        Command-specific keys, written after the others.
    """

    status: str
    objective: float
    lower_bound: float
    gap: float
    params: list
    param_names: list
    nodes: int
    solve_seconds: float
    check_seconds: float | None
    certificate: ContinuousCertificate | None
    box: float
    method: str
    loss: str
    reg: str | None
    lam: float
    samples: int
    train_loss: float
    continuous: bool = True
    solver_info: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
