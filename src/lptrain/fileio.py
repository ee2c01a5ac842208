"""Files that are whole or absent: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile

from .exceptions import FileFormatError, InputError


def atomic_write(path, data: bytes):
    """Write ``data`` to ``path`` atomically (fsync, then os.replace)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path, text: str):
    atomic_write(path, text.encode())


def read_bytes(path, what: str) -> bytes:
    """The bytes of ``path``; a :class:`FileFormatError` naming ``what`` if it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such {what} file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a {what} file") from None
    except OSError as e:
        raise FileFormatError(f"{path}: cannot read ({e.strerror})") from None


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside ``path`` for a writer that needs a file name (HiGHS,
    torch, matplotlib); rename it onto ``path`` on success, remove it on failure."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
