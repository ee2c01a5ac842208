"""Progress bars on a terminal only (tqdm on stderr); silent otherwise."""

from __future__ import annotations

import contextlib
import sys


class _Null:
    def update(self, n=1):
        pass


@contextlib.contextmanager
def bar(total, desc, enabled):
    """A tqdm bar when ``enabled`` and stderr is a terminal, else a no-op object."""
    if enabled and sys.stderr.isatty():
        from tqdm import tqdm

        with tqdm(total=total, desc=desc, unit="pt", unit_scale=True, leave=False) as pb:
            yield pb
    else:
        yield _Null()
