"""Sizes and memory: the default limit, readable byte counts and the estimates behind them.

Every large allocation in lptrain is estimated first and refused with a
:class:`~lptrain.exceptions.SizeError` when it would exceed the memory limit (the ``memory=``
parameter, ``--memory`` on the command line).  These helpers are shared by the polytope,
faces, solvers and the command line, and depend on nothing else in lptrain but its errors.
"""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np

from .bignum import sci
from .exceptions import InputError

DEFAULT_MEMORY = 2 << 30
"""The default memory limit for tables and explicit LPs: 2 GiB."""

DEFAULT_MAX_EVALUATIONS = 10**13
"""The default limit on a scan's work, in (grid point, distinct point) pairs scored: about an
hour or two at the 1e9-2e9 pairs per second of two cores (BENCHMARKS.md).  Larger scans are
refused before they start unless the limit is raised (``--max-evaluations``)."""

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def human_bytes(n) -> str:
    """A byte count with a binary unit (``1.5 GiB``), for exact integers of any size (no float overflow)."""
    units = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
    n = int(n) if isinstance(n, (int, np.integer)) else Fraction(n)
    i = 0
    while i < len(units) - 1 and n >= 1024 ** (i + 1):
        i += 1
    q = Fraction(n) / 1024**i
    return f"{float(q):.3g} {units[i]}" if q < 10**300 else f"{sci(round(q))} {units[i]}"


def big(n) -> str:
    """A large count printed readably: exact below a million, else a power of ten (never inf)."""
    return sci(n)


def lp_bytes(var: int, con: int, nnz: int) -> int:
    """Memory to assemble an explicit LP: COO triplets, CSC copy, vectors."""
    return 40 * nnz + 48 * var + 24 * con


def parse_memory(text) -> int:
    """A memory size such as ``2G``, ``512M``, ``1.5GiB`` or ``1000000`` in bytes (binary units)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", str(text), re.I)
    if not m:
        raise InputError(f"invalid memory size {text!r} (e.g. 2G, 512M)")
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value <= 0:
        raise InputError("memory must be positive")
    return value
