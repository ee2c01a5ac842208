"""scikit-learn estimators around the one pipeline (``api.train``).

``LPTrainRegressor`` and ``LPTrainClassifier`` follow scikit-learn's contract: ``__init__``
only stores its arguments, ``fit`` validates and returns ``self``, learned attributes end in
``_``.  Raw data are mapped onto the grid's range [-1, 1 - 2 gamma] column by column (the
CLI's ``--scale``), so ``predict`` takes and returns raw units.  ``arch`` is ``n-w1-...-m``;
the letters ``n`` and ``m`` stand for the data's number of features and of outputs (e.g. ``"n-2-m"``).
Bad parameters raise ``ValueError`` (lptrain's ``InputError`` and ``SizeError`` are ones);
rounding that merges labels issues a :class:`~lptrain.exceptions.RoundingWarning`.

The classifier encodes labels inside: one-hot targets with the cross-entropy loss (outputs =
classes), or +-1 targets with the hinge loss (two classes, one output).  The grid stops at
1 - 2 gamma, so a target of 1 becomes 1 - 2 gamma (0.5 at 2 bits): use bits >= 2.

``continuous=True`` skips the grid: the network is the best one found over continuous
parameters in [-box, box]^N (``lptrain.train_continuous``), with ``lower_bound_`` and ``gap_``
certified; ``time_limit`` (seconds) makes it anytime.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from . import api
from .data import Scaling, make_dataset
from .exceptions import RoundingWarning


def _arch(spec, n, m):
    parts = str(spec).split("-")
    if len(parts) < 2:
        raise ValueError(f"arch={spec!r}: expected widths like '1-2-1' or 'n-2-m'")
    if parts[0] == "n":
        parts[0] = str(n)
    if parts[-1] == "m":
        parts[-1] = str(m)
    text = "-".join(parts)
    widths = [int(p) for p in parts] if all(p.isdigit() for p in parts) else None
    if widths is None:
        raise ValueError(f"arch={spec!r}: widths must be integers (or n and m at the ends)")
    if widths[0] != n or widths[-1] != m:
        raise ValueError(f"arch={spec!r} has {widths[0]} inputs and {widths[-1]} outputs, the data "
                         f"{n} and {m}; use arch='n-...-m' to take them from the data")
    return text


class _LPTrainBase(BaseEstimator):
    def __init__(self, arch="1-2-1", activation="relu", loss="absolute", bits=2, epsilon=None,
                 solver="auto", reg=None, lam=0.0, continuous=False, box=1.0, gap=1e-4,
                 time_limit=None):
        self.arch = arch
        self.activation = activation
        self.loss = loss
        self.bits = bits
        self.epsilon = epsilon
        self.solver = solver
        self.reg = reg
        self.lam = lam
        self.continuous = continuous
        self.box = box
        self.gap = gap
        self.time_limit = time_limit

    def _train(self, X, T, loss):
        n, m = X.shape[1], T.shape[1]
        spec = _arch(self.arch, n, m)
        table = np.column_stack([X, T])
        bits, eps = (None, self.epsilon) if self.epsilon is not None else (self.bits, None)
        top = 1.0 - 2.0 * api.grid_for(api.architecture(spec, self.activation), loss, bits, eps,
                                       self.reg, self.lam).gamma
        sc = Scaling.fit(table, top)  # onto the grid's range [-1, 1 - 2 gamma]
        if self._scale_targets:
            scaling = sc
        else:  # targets are already in [-1, 1]: only the inputs are scaled
            scaling = Scaling(sc.lo[:n] + (-1.0,) * m, sc.hi[:n] + (1.0,) * m, sc.top[:n] + (1.0,) * m)
        ds = make_dataset(table, n, scaling=scaling)
        with warnings.catch_warnings():
            if not self._scale_targets:  # the classifier's own +-1 encoding, documented above
                warnings.filterwarnings("ignore", r".*\+-1 labels", RoundingWarning)
            if self.continuous:
                res = api.train_continuous(ds, spec, loss=loss, activation=self.activation, reg=self.reg,
                                           lam=self.lam, box=self.box, gap=self.gap,
                                           time_limit=self.time_limit)
            else:
                res = api.train(ds, spec, loss=loss, bits=bits, epsilon=eps, activation=self.activation,
                                solver=self.solver, reg=self.reg, lam=self.lam)
        self.network_ = res.network
        self.params_ = np.array(res.report["params"])
        self.objective_ = res.report["objective"]
        self.train_loss_ = res.report["train_loss"]
        self.epsilon_ = res.report.get("epsilon")
        self.lower_bound_ = res.report.get("lower_bound")
        self.gap_ = res.report.get("gap") if self.continuous else None
        self.certificate_ = res.report["certificate"]
        self.report_ = res.report
        return self

    def _raw_outputs(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.network_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class LPTrainRegressor(RegressorMixin, _LPTrainBase):
    """A network trained to the grid optimum of its empirical risk (Thm 3.1), for regression.

    Each column of X and y is mapped onto the grid's range; ``predict`` maps back.

    Parameters
    ----------
    arch : str
        Widths ``n-w1-...-m``; ``n`` and ``m`` stand for the data's numbers of features and
        outputs (e.g. ``"n-2-m"``).
    activation : str
        Hidden activation: ``relu``, ``leaky_relu``, ``elu`` or ``tanh``.
    loss : str
        ``absolute`` (default), ``quadratic`` (or ``hinge``/``cross_entropy``).
    bits : int
        Bits per number of the grid (used when ``epsilon`` is None).
    epsilon : float or None
        Accuracy: the coarsest grid with 2 gamma L <= epsilon (overrides ``bits``).
    solver : str
        ``auto`` or a solver name (:func:`lptrain.solvers.installed_solvers`).
    reg : {None, "l1", "l2"}
        Regularizer (App. B).
    lam : float
        Its weight, >= 0.
    continuous : bool
        Skip the grid: the best network over continuous parameters in [-box, box]^N
        (:func:`lptrain.train_continuous`), with a certified lower bound.
    box, gap, time_limit : float
        With ``continuous``: the parameter box, the relative gap to reach, a time limit (s).

    Attributes
    ----------
    network_ : Network
        The trained network (raw units in, raw units out).
    params_ : ndarray
        Its parameters on the grid (canonical order).
    objective_, train_loss_, epsilon_ : float
        The face LP's optimum (rounded data), the mean loss on the scaled training data, and
        the grid's epsilon: the network is within 2 epsilon of the best one (Lemma 3.5).
    lower_bound_, gap_ : float or None
        With ``continuous``: the certified lower bound and the gap to it.
    certificate_ : dict
        The independent check of the optimum.
    report_ : Report or ContinuousReport
        Everything ``lptrain train --json`` writes (``--continuous``'s with ``continuous``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> reg = LPTrainRegressor(arch="n-1-m", bits=2).fit(X, np.abs(X[:, 0]))
    >>> reg.certificate_["valid"]
    True
    """

    _scale_targets = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        T = y.reshape(len(y), -1).astype(np.float64)
        self._single = y.ndim == 1
        return self._train(X, T, self.loss)

    def predict(self, X):
        out = self._raw_outputs(X)
        return out[:, 0] if self._single else out


class LPTrainClassifier(ClassifierMixin, _LPTrainBase):
    """Classification: labels in, one-hot + cross-entropy (or +-1 + hinge) inside.

    X's columns are mapped onto the grid's range; the targets are the encoded labels.

    Parameters
    ----------
    arch : str
        Widths ``n-w1-...-m``; ``n`` and ``m`` stand for the data's numbers of features and
        outputs (e.g. ``"n-2-m"``).
    activation : str
        Hidden activation: ``relu``, ``leaky_relu``, ``elu`` or ``tanh``.
    loss : str
        ``cross_entropy`` (default; one output per class) or ``hinge`` (two classes, one output).
    bits : int
        Bits per number of the grid (used when ``epsilon`` is None).
    epsilon : float or None
        Accuracy: the coarsest grid with 2 gamma L <= epsilon (overrides ``bits``).
    solver : str
        ``auto`` or a solver name (:func:`lptrain.solvers.installed_solvers`).
    reg : {None, "l1", "l2"}
        Regularizer (App. B).
    lam : float
        Its weight, >= 0.
    continuous : bool
        Skip the grid: the best network over continuous parameters in [-box, box]^N
        (:func:`lptrain.train_continuous`), with a certified lower bound.
    box, gap, time_limit : float
        With ``continuous``: the parameter box, the relative gap to reach, a time limit (s).

    Attributes
    ----------
    network_ : Network
        The trained network (raw units in, raw units out).
    params_ : ndarray
        Its parameters on the grid (canonical order).
    objective_, train_loss_, epsilon_ : float
        The face LP's optimum (rounded data), the mean loss on the scaled training data, and
        the grid's epsilon: the network is within 2 epsilon of the best one (Lemma 3.5).
    lower_bound_, gap_ : float or None
        With ``continuous``: the certified lower bound and the gap to it.
    certificate_ : dict
        The independent check of the optimum.
    report_ : Report or ContinuousReport
        Everything ``lptrain train --json`` writes (``--continuous``'s with ``continuous``).
    classes_ : ndarray
        The labels seen by ``fit``, sorted.
    """

    _scale_targets = False

    def __init__(self, arch="n-2-m", activation="relu", loss="cross_entropy", bits=2, epsilon=None,
                 solver="auto", reg=None, lam=0.0, continuous=False, box=1.0, gap=1e-4,
                 time_limit=None):
        super().__init__(arch, activation, loss, bits, epsilon, solver, reg, lam, continuous, box,
                         gap, time_limit)

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, idx = np.unique(y, return_inverse=True)
        k = len(self.classes_)
        if k < 2:
            raise ValueError(f"the data contain 1 class ({self.classes_[0]!r}); a classifier needs "
                             "samples of at least 2 classes")
        if self.loss == "hinge":
            if k != 2:
                raise ValueError(f"loss='hinge' is for two classes, got {k}; use loss='cross_entropy'")
            T = np.where(idx == 1, 1.0, -1.0)[:, None]
        elif self.loss == "cross_entropy":
            T = np.eye(k)[idx]
        else:
            raise ValueError(f"loss={self.loss!r}: the classifier uses 'cross_entropy' or 'hinge'")
        return self._train(X, T, self.loss)

    def decision_function(self, X):
        """Hinge: the output; cross-entropy: the logits (for two classes, z_1 - z_0)."""
        z = self._raw_outputs(X)
        if self.loss == "hinge":
            return z[:, 0]
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X):
        z = self._raw_outputs(X)
        if self.loss == "hinge":
            p1 = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p1, p1])
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X):
        z = self._raw_outputs(X)
        if self.loss == "hinge":
            return self.classes_[(z[:, 0] > 0).astype(int)]
        return self.classes_[np.argmax(z, axis=1)]
