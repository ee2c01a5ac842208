"""The data-independent ERM polytope P (Main Thm 3.1, docs/design.md §3).

For an architecture, a loss, a sample size D and a grid, P is written down before any
data exists.  Every bag of the path decomposition (Fig. 2b) is a copy of the same set
F_1 of all G^(n+m+N) grid assignments v = (x, y, phi), so P is determined by the
metadata and *one* table ``table[xy, a] = l(f(x, a), y) (+ lam R(a))`` over F_1: the
number of evaluations of f and l is G^(n+m+N), whatever D is (Thm 3.1(b)).

:meth:`Polytope.lp` assembles the explicit sparse LP (``lptrain.lp``) from it; the
file written by :meth:`Polytope.save` holds the table and the metadata with a format
version and a checksum.  Sizes are counted exactly and compared with Thm 3.1(a):
at most ``4 D (2L/eps)^(n+m+N)`` variables and ``2 D (2 (2L/eps)^(n+m+N) + 1)`` constraints,
where 2L/eps = 1/gamma = G.
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np

from . import lp as lpmod
from .arch import Architecture
from .evaluation import Evaluator, flat_index
from .exceptions import FileFormatError, InputError, SizeError
from .fileio import atomic_write, read_bytes
from .grid import Grid
from .lipschitz import architecture_lipschitz
from .losses import check_outputs, get_loss
from .sizes import DEFAULT_MEMORY, big, human_bytes, lp_bytes

FORMAT = "lptrain-polytope"
VERSION = 1
FORMS = ("compact", "literal")
REGS = (None, "l1", "l2")


class Polytope:
    """The data-independent polytope P of Thm 3.1; its table is filled by :meth:`build`.

    Parameters
    ----------
    arch : Architecture
        The network (n inputs, m outputs, N parameters).
    loss : str or Loss
        ``absolute``, ``quadratic``, ``hinge`` or ``cross_entropy`` (or a loss object).
    grid : Grid
        The discretization: G = 2^bits values per number.
    samples : int
        D, the sample size P is written for.
    form : {"compact", "literal"}
        ``literal`` adds Thm 2.8's leaf bags and bit variables; both have the same optimum.
    reg : {None, "l1", "l2"}
        Regularizer R(phi) (App. B).
    lam : float
        Its weight (finite, >= 0; ignored without ``reg``).
    table : ndarray, optional
        A table already evaluated (as :meth:`load` reads it).

    Raises
    ------
    InputError
        For a bad sample size, form, regularizer or weight.
    """

    def __init__(self, arch: Architecture, loss, grid: Grid, samples: int, form="compact",
                 reg=None, lam=0.0, table=None):
        if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
            raise InputError(f"the sample size must be a positive integer, got {samples!r}")
        if form not in FORMS:
            raise InputError(f"unknown form {form!r}; choose compact or literal")
        if reg not in REGS:
            raise InputError(f"unknown regularizer {reg!r}; choose l1 or l2")
        if not (np.isfinite(lam) and lam >= 0):
            raise InputError(f"the regularization weight lam must be a finite number >= 0, got {lam!r}")
        if reg is None and lam:
            raise InputError("lam= is a regularization weight: give reg='l1' or reg='l2' with it")
        self.arch = arch
        self.loss = get_loss(loss) if isinstance(loss, str) else loss
        check_outputs(self.loss, arch.n_outputs)
        self.grid = grid
        self.samples = int(samples)
        self.form = form
        self.reg = reg
        self.lam = float(lam) if reg else 0.0
        self.evaluator = Evaluator(arch, self.loss, grid, reg, self.lam)
        self.lipschitz = architecture_lipschitz(arch, self.loss, reg, self.lam)
        self.table = table

    # -- dimensions --------------------------------------------------------------

    @property
    def n(self):
        return self.arch.n_inputs

    @property
    def m(self):
        return self.arch.n_outputs

    @property
    def N(self):
        return self.arch.n_params

    @property
    def data_points(self) -> int:
        """G^(n+m): grid points of one data point (x, y)."""
        return self.grid.size ** (self.n + self.m)

    @property
    def param_points(self) -> int:
        """G^N: grid points of the parameters."""
        return self.grid.size**self.N

    @property
    def bag_size(self) -> int:
        """|F_1| = G^(n+m+N): assignments of one bag, = evaluations of f and l."""
        return self.data_points * self.param_points

    @property
    def epsilon(self) -> float:
        """epsilon = 2 gamma L (Lemma 3.1)."""
        L = self.lipschitz.value
        return None if L is None else self.grid.epsilon(L)

    def sizes(self, samples=None) -> dict:
        """Exact sizes of the explicit LP of P, Thm 3.1(a)'s bounds and memory estimates."""
        D = self.samples if samples is None else samples
        return size_counts(self.form, D, self.n, self.m, self.N, self.grid.bits)

    # -- the table ---------------------------------------------------------------

    def check_buildable(self, memory=DEFAULT_MEMORY):
        """Refuse, before allocating, a table that would not fit in ``memory`` bytes."""
        need = 8 * self.bag_size
        if need > memory:
            raise SizeError(
                f"polytope too large to build: one bag has {big(self.bag_size)} assignments "
                f"(G^(n+m+N) = {self.grid.size}^{self.n + self.m + self.N}), its table needs "
                f"{human_bytes(need)} (limit {human_bytes(memory)}); use fewer bits or a smaller "
                f"architecture, raise memory=, or train with solver='structured', which "
                f"evaluates only the data's face"
            )

    def build(self, memory=DEFAULT_MEMORY, progress=False) -> "Polytope":
        """Evaluate l(f(x, a), y) on all of F_1 once (Thm 3.1(b)); returns self."""
        self.check_buildable(memory)
        xy = np.arange(self.data_points)
        self.table = self.rows(xy, progress=progress)
        return self

    def rows(self, xy, progress=False) -> np.ndarray:
        """Table rows for data points ``xy`` (flat indices, or digit rows (P, n+m)): (P, G^N),
        from the table if built."""
        xy = np.asarray(xy, dtype=np.int64)
        if self.table is not None:
            return self.table[flat_index(xy, self.grid.size) if xy.ndim == 2 else xy]
        x, y = self.evaluator.points(xy)
        out = np.empty((len(xy), self.param_points))
        from .progress import bar

        with bar(self.param_points, "evaluating", progress) as pb:
            for a0, a1, blk in self.evaluator.blocks(x, y):
                out[:, a0:a1] = blk
                pb.update(a1 - a0)
        return out

    # -- explicit LP ----------------------------------------------------------------

    def lp(self, memory=DEFAULT_MEMORY) -> lpmod.ExplicitLP:
        """The explicit sparse LP of P (needs the table); refused if it would not fit."""
        s = self.sizes()
        if s["lp_bytes"] > memory:
            raise SizeError(
                f"explicit LP of P too large: {big(s['variables'])} variables, "
                f"{big(s['nonzeros'])} nonzeros, about {human_bytes(s['lp_bytes'])} "
                f"(limit {human_bytes(memory)}); use fewer samples or bits"
            )
        if self.table is None:
            self.build(memory)
        D, k = self.samples, self.data_points
        xy = np.tile(np.arange(k, dtype=np.int64), (D, 1))
        return lpmod.assemble(self.form, xy, xy, self.table, D, self.n, self.m, self.N,
                              self.grid.bits)

    # -- persistence ----------------------------------------------------------------

    def meta(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "architecture": self.arch.to_dict(),
            "loss": self.loss.name,
            "bits": self.grid.bits,
            "samples": self.samples,
            "form": self.form,
            "reg": self.reg,
            "lam": self.lam,
        }

    def save(self, path):
        """Write the polytope (metadata, table, checksum) atomically to ``path`` (.npz)."""
        if self.table is None:
            raise InputError("the polytope has not been built")
        meta = self.meta()
        meta["checksum"] = _checksum(meta, self.table)
        buf = io.BytesIO()
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                 table=self.table)
        atomic_write(path, buf.getvalue())

    @classmethod
    def load(cls, path) -> "Polytope":
        """Read a file written by :meth:`save`; refuse missing, corrupt or altered files."""
        raw = read_bytes(path, "polytope")
        try:
            with np.load(io.BytesIO(raw), allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                table = np.array(z["table"], dtype=np.float64)
        except Exception:  # any failure to decode an untrusted container means a damaged file
            raise FileFormatError(f"{path}: not a valid lptrain polytope file (corrupt or truncated)") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise FileFormatError(f"{path}: not an lptrain polytope file")
        if meta.get("version") != VERSION:
            raise FileFormatError(
                f"{path}: polytope file version {meta.get('version')!r}, this lptrain reads "
                f"version {VERSION}; rebuild it with 'lptrain build'"
            )
        stored = meta.pop("checksum", None)
        if stored != _checksum(meta, table):
            raise FileFormatError(f"{path}: checksum mismatch: the polytope file was altered or damaged")
        try:
            arch = Architecture.from_dict(meta["architecture"])
            poly = cls(arch, meta["loss"], Grid(meta["bits"]), meta["samples"], meta["form"],
                       meta["reg"], meta["lam"])
        except (KeyError, TypeError, InputError) as e:
            raise FileFormatError(f"{path}: invalid polytope metadata ({e})") from None
        if table.shape != (poly.data_points, poly.param_points):
            raise FileFormatError(f"{path}: table shape {table.shape} does not match its metadata")
        poly.table = table
        return poly


def size_counts(form, D: int, n: int, m: int, N: int, bits: int) -> dict:
    """Exact sizes of P's explicit LP for any bits (Python integers, never a float).

    Also used where the grid is only described, not built (``table1``, ``sample-size``),
    so a bits count beyond :data:`lptrain.grid.MAX_BITS` still gets its exact sizes.
    """
    G = 1 << bits
    k, GN = G ** (n + m), G**N
    var, con, nnz = lpmod.counts(form, D, k, GN, n, m, N, bits)
    F = k * GN
    return {
        "variables": var,
        "constraints": con,
        "nonzeros": nnz,
        "evaluations": F,
        "bound_variables": 4 * D * F,
        "bound_constraints": 2 * D * (2 * F + 1),
        "table_bytes": 8 * F,
        "lp_bytes": lp_bytes(var, con, nnz),
    }


def _checksum(meta: dict, table: np.ndarray) -> str:
    h = hashlib.sha256(json.dumps(meta, sort_keys=True).encode())
    h.update(np.ascontiguousarray(table, dtype=np.float64).tobytes())
    return h.hexdigest()
