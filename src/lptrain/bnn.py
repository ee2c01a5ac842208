"""App. C: exact training of binarized networks (BiUs), no epsilon.

A binarized unit with parameters (a, b) in {-1, 1}^(p+1) maps a 0/1 input z to
1 if a^T z > b else 0; every node of the network (outputs included) is one.  Data are 0/1,
the loss is the absolute loss, i.e. the number of wrong output bits, averaged over the
sample.  Parameters are ordered as for real networks (docs/design.md §9): per unit, its weights,
then its threshold b (the architecture's "bias" slot).

Since data and parameters are binary, Thm 2.8 applies to the epigraph formulation directly
(Thm C.1): the same path decomposition as Thm 3.1 with one bit per number, bags of all
2^(n+m+N) assignments, exact.  Thm C.1 states a size O(2^p |V(G)| D) (p the largest fan-in);
that needs a decomposition whose width depends on p only, and the network-structure
argument of ``lptrain.structure`` (a K_{N,D} minor) rules that out for tree decompositions
once D >= N.  :func:`sizes` reports both.
"""

from __future__ import annotations

import time

import numpy as np

from . import lp as lpmod
from .arch import Architecture
from .certificate import check_binary
from .evaluation import digits
from .exceptions import InputError, SizeError, SolverError
from .sizes import DEFAULT_MEMORY, human_bytes, lp_bytes
from .solvers.base import Solution


def forward(arch: Architecture, x, params) -> np.ndarray:
    """BiU outputs for 0/1 points x (P, n) and +-1 parameter vectors (C, N): (C, P, m) in {0, 1}."""
    x = np.asarray(x, dtype=np.float64)
    params = np.asarray(params, dtype=np.float64)
    vals = {name: x[None, :, i] for i, name in enumerate(arch.input_names)}
    for nd in arch.nodes:
        acc = np.zeros((params.shape[0], x.shape[0]))
        for s, w in zip(nd.sources, nd.weights):
            acc = acc + params[:, w, None] * vals[s]
        thr = params[:, nd.bias, None] if nd.bias is not None else 0.0
        vals[nd.name] = (acc > thr).astype(np.float64)
    return np.stack([vals[o] for o in arch.outputs], axis=-1)


def check_arch(arch: Architecture):
    if any(nd.bias is None for nd in arch.nodes):
        raise InputError("binarized networks need a threshold (the 'bias' name) on every node")
    if arch.n_params > 40:
        raise SizeError(f"{arch.n_params} binary parameters: 2^{arch.n_params} networks are too many")


def sizes(arch: Architecture, D: int, form="compact") -> dict:
    n, m, N = arch.n_inputs, arch.n_outputs, arch.n_params
    var, con, nnz = lpmod.counts(form, D, 2 ** (n + m), 2**N, n, m, N, 1)
    p = arch.max_in_degree
    V = arch.n_inputs + len(arch.nodes)
    return {"variables": var, "constraints": con, "nonzeros": nnz, "evaluations": 2 ** (n + m + N),
            "bound_variables": 4 * D * 2 ** (n + m + N), "bound_constraints": 2 * D * (2 * 2 ** (n + m + N) + 1),
            "thm_c1_size": 2**p * V * D, "fan_in": p, "graph_vertices": V}


class BinaryFace:
    """The face of the BiU polytope fixed by 0/1 data (the duck type of :class:`Face` that
    :meth:`Solution.explicit` and the certificate use)."""

    class _Bits:
        bits = 1

    def __init__(self, arch: Architecture, x, y, form="compact"):
        check_arch(arch)
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != arch.n_inputs or y.ndim != 2 or y.shape[1] != arch.n_outputs:
            raise InputError(f"data must have {arch.n_inputs} inputs and {arch.n_outputs} outputs")
        for name, v in (("inputs", x), ("outputs", y)):
            if not np.all((v == 0) | (v == 1)):
                raise InputError(f"binarized networks need 0/1 data; the {name} hold other values")
        self.arch, self.form, self.grid = arch, form, self._Bits()
        self.x, self.y = x, y
        self.x_index, self.y_index = x.astype(np.int64), y.astype(np.int64)
        self.samples = len(x)
        self.param_points = 2**arch.n_params
        self.data_index = np.concatenate([self.x_index, self.y_index], 1)  # digit rows: no int64 overflow
        self.distinct, self.inverse, self.counts = np.unique(self.data_index, axis=0, return_inverse=True,
                                                             return_counts=True)
        self.inverse = self.inverse.reshape(-1)
        self._rows = None

    def param_index(self, a):
        return digits(int(a), self.arch.n_params, 2)

    def params(self, a):
        return 2.0 * self.param_index(a) - 1.0

    def rows(self, memory=DEFAULT_MEMORY):
        """Wrong output bits of every network on every distinct point: (P, 2^N)."""
        if self._rows is None:
            need = 8 * len(self.distinct) * self.param_points * (len(self.arch.nodes) + 2)
            if need > memory:
                raise SizeError(f"the binarized face needs {human_bytes(need)} (limit {human_bytes(memory)})")
            v = self.distinct.astype(np.float64)
            xs, ys = v[:, : self.arch.n_inputs], v[:, self.arch.n_inputs:]
            phi = 2.0 * digits(np.arange(self.param_points), self.arch.n_params, 2) - 1.0
            z = forward(self.arch, xs, phi)
            self._rows = np.abs(z - ys[None]).sum(axis=-1).T.copy()
        return self._rows

    def lp(self):
        a = self.arch
        return lpmod.assemble(self.form, self.data_index[:, None, :], self.inverse[:, None], self.rows(), self.samples,
                              a.n_inputs, a.n_outputs, a.n_params, 1)

    def lp_bytes(self):
        a = self.arch
        var, con, nnz = lpmod.counts(self.form, self.samples, 1, self.param_points, a.n_inputs,
                                     a.n_outputs, a.n_params, 1, popcount_total=0)
        return lp_bytes(var, con, nnz + self.samples * (a.n_inputs + a.n_outputs) * self.param_points)


def solve(face: BinaryFace, solver="structured", memory=DEFAULT_MEMORY, certify=True):
    """Exact BiU ERM on the face: (Solution, Certificate or None when ``certify`` is off).

    The certificate is checked by :func:`lptrain.certificate.check_binary`, whose forward
    pass and scan are the checker's own (not :func:`forward` above); ``sol.info`` holds
    ``check_seconds``."""
    t0 = time.perf_counter()
    rows = face.rows(memory)
    D = face.samples
    if solver == "highs":
        from .solvers.highs import solve_lp

        lp = face.lp()
        status, obj, x, y = solve_lp(lp)
        if status != "optimal":
            raise SolverError(f"HiGHS did not solve the binarized face LP: status {status}")
        vertex = int(np.argmax(x[: face.param_points]))
        s = (rows * face.counts[:, None]).sum(axis=0)
        a = int(np.argmin(s))  # the tie rule (lptrain.ties): wrong-bit counts are exact
        if a == vertex:
            sol = Solution(status, obj, a, face.params(a), "highs", y[lp.rows["S"]], D * face.param_points,
                           primal=x, dual=y, info={"highs_vertex": vertex},
                           nominal_evaluations=D * face.param_points)
        else:
            sol = Solution(status, float(s[a]) / D, a, face.params(a), "highs", rows[face.inverse, a] / D,
                           D * face.param_points, info={"highs_vertex": vertex},
                           nominal_evaluations=D * face.param_points)
    elif solver in ("structured", "auto"):
        s = (rows * face.counts[:, None]).sum(axis=0)
        a = int(np.argmin(s))
        sol = Solution("optimal", float(s[a]) / D, a, face.params(a), "structured",
                       rows[face.inverse, a] / D, D * face.param_points,
                       nominal_evaluations=D * face.param_points)
    else:
        raise InputError(f"unknown solver {solver!r} for binarized networks; choose structured or highs")
    sol.seconds = time.perf_counter() - t0
    if not certify:
        return sol, None
    t1 = time.perf_counter()
    cert = check_binary(face, sol, memory)
    sol.info["check_seconds"] = time.perf_counter() - t1
    return sol, cert
