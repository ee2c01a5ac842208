"""Concurrent evaluation of branch-and-bound nodes: threads on this machine, or a Dask cluster.

The pattern searches (:mod:`.patterns` for n = 1, :mod:`._patterns_nd` for n >= 2) are
best-first with synchronous batches: they pop the ``batch`` best open nodes (by bound, then
depth, then node id), evaluate their children here concurrently and take the results back in
task order, so the search does not depend on which worker finished first.  A node's
evaluation (its LP solves) is a pure function of the data and the task, run on a per-thread
engine built once from the data: HiGHS releases the GIL while it solves (``Highs.run``), so
threads use every core.  With a ``scheduler`` (a dask.distributed address, as the grid
``dask`` solver takes) the data is scattered to the cluster once and each task runs there.
Simplex warm starts travel with the tasks as data (:func:`pack_basis`).
"""

from __future__ import annotations

import hashlib
import os
import threading

import numpy as np

from ..exceptions import InputError

_LOCAL = threading.local()
CONNECT_TIMEOUT = 20  # seconds to reach a scheduler, and for it to have a worker


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


MAX_WORKERS = 512


def check_workers(workers):
    """``workers`` as a positive int (None: every core); InputError otherwise."""
    if workers is None:
        return default_workers()
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InputError(f"workers={workers!r}: expected a positive integer")
    if workers > MAX_WORKERS:
        raise InputError(f"workers={workers}: at most {MAX_WORKERS} threads (each holds its own copy of "
                         f"the node LPs; this machine has {default_workers()} cores); for more, use a "
                         "Dask cluster (scheduler=)")
    return int(workers)


def check_scheduler(scheduler):
    """``scheduler`` is None or a string (an address; empty: none); InputError otherwise."""
    if scheduler is not None and not isinstance(scheduler, str):
        raise InputError(f"scheduler={scheduler!r}: expected a dask scheduler address (a string)")


def token(*arrays_and_values) -> str:
    """A key naming one data set and configuration (the worker-side engine cache's key)."""
    h = hashlib.sha256()
    for a in arrays_and_values:
        if isinstance(a, np.ndarray):
            h.update(f"array {a.dtype.str} {a.shape}:".encode())
            h.update(np.ascontiguousarray(a).tobytes())
        else:
            h.update(f"{type(a).__name__} {a!r}:".encode())
    return h.hexdigest()


def engine(key, factory, args):
    """This thread's engine for ``key``, built by ``factory(*args)`` on first use."""
    cache = getattr(_LOCAL, "cache", None)
    if cache is None:
        cache = _LOCAL.cache = {}
    eng = cache.get(key)
    if eng is None:
        if len(cache) > 4:
            cache.clear()
        eng = cache[key] = factory(*args)
    return eng


def pack_basis(b):
    """A HiGHS basis as two int8 arrays (a ``HighsBasis`` does not pickle by itself)."""
    return (np.fromiter(map(int, b.col_status), dtype=np.int8),
            np.fromiter(map(int, b.row_status), dtype=np.int8))


def unpack_basis(hs, p):
    """The HiGHS basis packed by :func:`pack_basis` (``alien=False``, as ``getBasis`` gives it:
    HiGHS then takes it as it is instead of first repairing it)."""
    by_value = {int(m): m for m in hs.HighsBasisStatus.__members__.values()}
    b = hs.HighsBasis()
    b.col_status = [by_value[v] for v in p[0].tolist()]
    b.row_status = [by_value[v] for v in p[1].tolist()]
    b.valid = True
    b.alien = False
    return b


def _basis_from(p, valid=True, alien=False):
    import highspy

    b = unpack_basis(highspy, p)
    b.valid, b.alien = bool(valid), bool(alien)
    return b


def picklable_bases():
    """Let HiGHS bases pickle (as :func:`pack_basis` arrays): a warm start then travels to a
    Dask worker as data, while threads share the object as it is (no conversion).  The
    registration is process-wide, so a basis keeps its ``valid`` and ``alien`` flags (an
    invalid one stays invalid)."""
    import copyreg

    import highspy

    copyreg.pickle(highspy.HighsBasis,
                   lambda b: (_basis_from, (pack_basis(b), bool(b.valid), bool(b.alien))))


def _remote(key, factory, args, method, task):
    return getattr(engine(key, factory, args), method)(*task)


class NodePool:
    """Runs ``getattr(engine, method)(*task)`` for a list of tasks, results in task order.

    Parameters
    ----------
    factory, args : the engine's constructor and its arguments (the data).
    workers : int, optional
        Local threads (default every core); with a scheduler, ignored.
    scheduler : str, optional
        A dask.distributed scheduler address: tasks run on that cluster.
    """

    def __init__(self, factory, args, *, workers=None, scheduler=None):
        self.factory, self.args = factory, args
        self.key = token(f"{factory.__module__}.{factory.__qualname__}", *args)
        self.client = None
        self.executor = None
        check_scheduler(scheduler)
        if scheduler:
            try:
                from distributed import Client
            except ImportError:
                raise InputError("scheduler= needs dask.distributed: pip install 'lptrain[dask]'") from None
            import logging

            for name in ("distributed", "tornado", "asyncio"):
                logging.getLogger(name).setLevel(logging.CRITICAL)
            try:
                self.client = Client(scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, ValueError, TypeError) as e:  # unreachable, or not an address
                raise InputError(f"cannot reach the dask scheduler at {scheduler} ({e})") from None
            try:
                try:
                    self.client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
                except (OSError, TimeoutError):
                    raise InputError(f"the dask scheduler at {scheduler} has no workers") from None
                info = self.client.scheduler_info()["workers"]
                self.workers = max(1, sum(int(v.get("nthreads", 1)) for v in info.values()))
                self.remote_args = self.client.scatter(list(args), broadcast=True)
            except BaseException:
                self.close()
                raise
        else:
            self.workers = check_workers(workers)
            if self.workers > 1:
                from concurrent.futures import ThreadPoolExecutor

                self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="lptrain-node")

    @property
    def serial(self):
        """True when tasks run one by one in the calling thread (one worker, no cluster)."""
        return self.client is None and self.executor is None

    def local(self):
        """The engine of the calling thread (for work kept in the driver)."""
        return engine(self.key, self.factory, self.args)

    def map(self, method, tasks):
        if not tasks:
            return []
        if self.client is not None:
            futs = [self.client.submit(_remote, self.key, self.factory, self.remote_args, method, t,
                                       pure=False) for t in tasks]
            return self.client.gather(futs)
        if self.executor is None or len(tasks) == 1:
            eng = self.local()
            return [getattr(eng, method)(*t) for t in tasks]
        return list(self.executor.map(
            lambda t: getattr(engine(self.key, self.factory, self.args), method)(*t), tasks))

    def close(self):
        """Stop the threads or the client; the calling thread drops its engine (the data)."""
        cache = getattr(_LOCAL, "cache", None)
        if cache:
            cache.pop(self.key, None)
        if self.executor is not None:
            self.executor.shutdown(wait=True)
            self.executor = None
        if self.client is not None:
            self.client.close()
            self.client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
