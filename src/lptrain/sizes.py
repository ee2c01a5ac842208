"""Sizes and memory: the default limit, readable byte counts and the estimates behind them.

Every large allocation in lptrain is estimated first and refused with a
:class:`~lptrain.exceptions.SizeError` when it would exceed the memory limit (the ``memory=``
parameter, ``--memory`` on the command line).  These helpers are shared by the polytope,
faces, solvers and the command line, and depend on nothing else in lptrain but its errors.
"""

from __future__ import annotations

import re

from .exceptions import InputError

DEFAULT_MEMORY = 2 << 30
"""The default memory limit for tables and explicit LPs: 2 GiB."""

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def human_bytes(n: float) -> str:
    """``n`` bytes with a binary unit and three significant digits (``1.5 GiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024:
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"


def big(n: int) -> str:
    """A large count printed readably (exact below a million)."""
    return str(n) if n < 10**6 else f"{float(n):.3g}"


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
