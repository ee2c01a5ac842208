"""Numbers beyond a float: exact integer counts and their powers of ten.

Polytope sizes are products like ``4 D G^(n+m+N)`` (Thm 3.1(a)): Python integers keep them
exact however large, but a float overflows past 1.8e308 (already G^(n+m+N) for an 8-32-1
net at 4 bits), and Table 1's formulas with O(.) = 1 are real numbers that can leave the
float range in both directions.  These helpers print and serialise such numbers without
ever going through an overflowing float: exact integers are formatted from their digits,
real values from their base-10 logarithm.
"""

from __future__ import annotations

import math
from fractions import Fraction

# Python refuses str() of integers over 4300 digits (sys.get_int_max_str_digits); beyond
# this many bits an exact count is written as a power of ten instead.
JSON_INT_MAX_BITS = 13_000


def log10(x) -> float:
    """Base-10 logarithm of a positive int of any size, a Fraction or a float (-inf for 0)."""
    if x == 0:
        return -math.inf
    if isinstance(x, Fraction):
        return math.log10(x.numerator) - math.log10(x.denominator)
    return math.log10(x)


def sci(x, digits: int = 3) -> str:
    """``x`` (int of any size, or float) as ``%g`` would print it, e.g. ``3.4e+41``; never ``inf``.

    Integers below a million are printed exactly; larger ones are rounded from their
    logarithm (Python's ``math.log10`` takes integers of any size), so 10^5000 prints as
    ``1e+5000`` where ``float()`` would overflow.
    """
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    n = int(x)
    if n < 0:
        return "-" + sci(-n, digits)
    if n < 10**6:
        return str(n)
    if n.bit_length() < 1000:
        return f"{float(n):.{digits}g}"
    return sci_log10(math.log10(n), digits)  # relative error ~1e-16 * digits of n: ample


def sci_log10(lv: float, digits: int = 3) -> str:
    """The number 10**lv printed as ``%g`` would print it, for any finite lv."""
    if not math.isfinite(lv):
        return "0" if lv == -math.inf else "inf"
    if -300 < lv < 300:
        return f"{10.0**lv:.{digits}g}"
    e = math.floor(lv)
    q = round(10.0 ** (lv - e + digits - 1))
    if q >= 10**digits:
        q //= 10
        e += 1
    return _mantissa(str(q)) + (f"e+{e:02d}" if e >= 0 else f"e-{-e:02d}")


def _mantissa(s: str) -> str:
    frac = s[1:].rstrip("0")
    return s[0] + ("." + frac if frac else "")


def float_or_none(lv: float):
    """10**lv as a float when it is a normal float (neither overflowing nor underflowing), else None."""
    if -307 < lv < 308:
        return 10.0**lv
    return None


def json_int(n: int):
    """An exact count for JSON: the integer itself, or past Python's digit limit a string
    like ``"2.75436e+15735"`` (six significant digits)."""
    if n.bit_length() <= JSON_INT_MAX_BITS:
        return n
    return sci(n, 6)
