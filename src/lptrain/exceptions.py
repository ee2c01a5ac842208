"""The few error types users see.

Every error raised for a user's mistake derives from :class:`LPTrainError`; the CLI
prints its message as one line on stderr and exits non-zero, never a traceback.
"""


class LPTrainError(Exception):
    """Base class of every error caused by input, files or sizes (exit code 2)."""

    exit_code = 2


class InputError(LPTrainError):
    """Bad arguments or data: NaN, out-of-range values, wrong shape, unknown names."""


class FileFormatError(LPTrainError):
    """A polytope or model file that is missing, corrupt, altered or of another version."""


class SizeError(LPTrainError):
    """A polytope or LP too large to build or solve within the memory limit.

    Raised *before* anything large is allocated; the message names the size,
    the memory it would need and what to change.
    """

    exit_code = 3
