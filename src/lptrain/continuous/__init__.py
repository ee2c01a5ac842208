"""Certified global optimum over continuous parameters in a box (beyond the paper).

The grid optimum of Sec. 3 carries an a-priori epsilon that is vacuous at usable
resolutions; this package returns an interval [lower_bound, objective] for
min over phi in [-B, B]^N of the empirical risk on the original data, with a proof.
"""

from .result import ContinuousResult

__all__ = ["ContinuousResult"]
