"""Beyond one machine: the structured scan sharded over a dask.distributed cluster.

``--solver dask`` (or ``--scheduler ADDRESS`` / ``LPTRAIN_SCHEDULER``, or ``--workers K``
for a LocalCluster of K processes) splits the face's scan into shards: hidden-unit tuples
of the fused kernel for one-hidden-layer nets, ranges of flat grid indices otherwise.
The face's arrays are scattered to the workers once; each task returns its shard's tie
records (``lptrain.ties``); the client merges them in shard order, so the result is the
grid point the one-machine scan returns (the smallest index within the tie window),
whatever the cluster does.

Pointing it at a real cluster: start ``dask scheduler`` on one host and ``dask worker
tcp://HOST:8786`` on the others (each with lptrain installed), then run
``lptrain train data.csv --arch 1-3-1 --bits 3 --scheduler tcp://HOST:8786``.
"""

from __future__ import annotations

import os

import numpy as np

from ..exceptions import InputError, LPTrainError
from ..progress import bar
from ..ties import Records
from .base import Solution, Solver
from .fused import scan_work

SHARDS_PER_WORKER = 4


def _range_records(ev, X, Y, cnt, a0, a1, budget, scale):
    from .structured import records_over_blocks

    return records_over_blocks(ev.blocks(X, Y, budget, a0, a1), cnt, scale)


def _fused_shard(prep, start, count):
    from . import fused

    return fused.scan(prep, start, count)


def _merge(parts, scale) -> Records:
    """The records of the whole scan from its shards' records, in shard order."""
    rec = Records(scale)
    for r in parts:
        rec.extend(r)
    return rec


def _gather(client, futures, progress):
    """The futures' results in order, a progress bar counting the shards as they finish."""
    from distributed import as_completed

    with bar(len(futures), "solving (dask shards)", progress) as pb:
        for _ in as_completed(futures):
            pb.update(1)
    return client.gather(futures)


def _shards(total, k):
    step = max(1, -(-total // k))
    return [(s, min(step, total - s)) for s in range(0, total, step)]


class DaskSolver(Solver):
    """The structured scan sharded over a dask.distributed cluster (see the module docstring).

    Parameters
    ----------
    scheduler : str, optional
        A scheduler address (``tcp://host:8786``); default ``LPTRAIN_SCHEDULER`` from the
        environment, else a LocalCluster.
    workers : int, optional
        The LocalCluster's number of worker processes (default 2) when no scheduler is given.
    """

    name = "dask"
    unavailable_reason = "needs dask.distributed: pip install 'lptrain[dask]'"

    def __init__(self, *, scheduler=None, workers=None):
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer))
                                    or workers < 1):
            raise InputError(f"solver 'dask': workers={workers!r}; expected a positive integer")
        self.scheduler = scheduler
        self.workers = workers

    @staticmethod
    def available():
        try:
            import distributed  # noqa: F401
        except ImportError:
            return False
        return True

    def client(self):
        import logging

        from distributed import Client, LocalCluster

        for name in ("distributed", "tornado", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)

        address = self.scheduler or os.environ.get("LPTRAIN_SCHEDULER")
        if address:
            try:
                return Client(address, timeout=20), None
            except (OSError, ValueError, TypeError) as e:  # unreachable, or not an address
                raise InputError(f"cannot reach the dask scheduler at {address} ({e})") from None
        cluster = LocalCluster(n_workers=self.workers or 2, threads_per_worker=1, processes=True,
                               dashboard_address=None,
                               silence_logs=logging.CRITICAL)
        return Client(cluster), cluster

    def work(self, face) -> int:
        from . import fused

        return scan_work(face, fused.applies(face.polytope.arch))

    def _solve(self, face, memory, progress):
        from . import fused

        client, cluster = self.client()
        try:
            nworkers = max(1, len(client.scheduler_info()["workers"]))
            k = nworkers * SHARDS_PER_WORKER
            if fused.applies(face.polytope.arch):
                prep = fused.prepare(face)
                fut = client.scatter(prep, broadcast=True)
                shards = _shards(prep["total"], k)
                res = _gather(client, client.map(_fused_shard, [fut] * len(shards), *zip(*shards), pure=False),
                              progress)
                S, a = fused.finish(prep, _merge(res, face.samples))
                evaluations = fused.evaluations(prep)
            else:
                ev = face.polytope.evaluator
                X, Y = ev.points(face.distinct)
                cnt = face.counts.astype(np.float64)
                shards = _shards(face.param_points, k)
                futs = client.map(_range_records, [ev] * len(shards), [X] * len(shards), [Y] * len(shards),
                                  [cnt] * len(shards), [s for s, _ in shards], [s + c for s, c in shards],
                                  [max(1 << 20, int(memory) // 16)] * len(shards),
                                  [face.samples] * len(shards), pure=False)
                res = _gather(client, futs, progress)
                a, S = _merge(res, face.samples).result()
                evaluations = face.param_points * len(face.distinct)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        if a is None:
            raise LPTrainError("the face objective is NaN at every grid point")
        return Solution.at_grid_point(face, a, S, solver=self.name, evaluations=evaluations,
                                      info={"workers": nworkers, "shards": len(res)})
