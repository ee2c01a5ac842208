"""The few error and warning types users see, in scikit-learn's manner.

Every error lptrain raises on purpose derives from :class:`LPTrainError`; the CLI prints its
message as one line on stderr and exits non-zero, never a traceback.  Errors about argument
values (:class:`InputError`, :class:`SizeError`) are also ``ValueError``, so code written for
scikit-learn's estimators catches them unchanged.  Library messages name the Python parameter
(``memory=``); the CLI translates them into its flags (``--memory``).

:class:`RoundingWarning` is issued with :func:`warnings.warn` where rounding onto the grid
probably defeats the user's intent (distinct labels merged, every target one value, +-1
labels moved); the CLI collects these warnings for stderr and its JSON.
"""


class LPTrainError(Exception):
    """Base class of every error caused by input, files, sizes or a solver (exit code 2)."""

    exit_code = 2


class InputError(LPTrainError, ValueError):
    """Bad arguments or data: NaN, out-of-range values, wrong shape, unknown names."""


class FileFormatError(LPTrainError):
    """A polytope or model file that is missing, corrupt, altered or of another version."""


class SizeError(LPTrainError, ValueError):
    """A polytope or LP too large to build or solve within the memory limit.

    Raised *before* anything large is allocated; the message names the size,
    the memory it would need and what to change.
    """

    exit_code = 3


class SolverError(LPTrainError, RuntimeError):
    """A solver that failed on a well-formed problem (e.g. HiGHS returned no optimum; exit code 4)."""

    exit_code = 4


class RoundingWarning(UserWarning):
    """Rounding the data onto the grid (eq. 7) probably changed what the user meant."""
