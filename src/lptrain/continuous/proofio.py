"""Proof files: ``--proof PATH`` (npz), with a format version and a SHA-256 checksum.

One file holds the problem (architecture, loss, regularizer, box, a hash of the data), the
result (status, objective, lower bound, parameters, and the gap tolerances the status was
decided with) and the method's proof: its arrays as npz members, its scalars in a JSON
header.  Written atomically; a file altered after writing fails its checksum (which covers
the tolerances too) and is refused before any replay.

Version 2 added the tolerances.  A version-1 file cannot have its ``status`` re-derived, so
it is refused with one line saying so (its solve, re-run with ``--proof``, writes version 2).
"""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np

from ..exceptions import FileFormatError
from ..fileio import atomic_write, read_bytes
from .result import ContinuousResult

FORMAT = "lptrain-continuous-proof"
VERSION = 2


def data_hash(X, Y) -> str:
    """SHA-256 of the data as float64, so a proof is replayed on the data it was made for."""
    h = hashlib.sha256()
    for a in (X, Y):
        a = np.ascontiguousarray(a, dtype=np.float64)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _flatten(d, prefix=""):
    arrays, scalars = {}, {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            a, s = _flatten(v, key + "/")
            arrays.update(a)
            scalars.update(s)
        elif isinstance(v, np.ndarray):
            arrays[key] = v
        elif isinstance(v, (np.integer, np.floating, np.bool_)):
            scalars[key] = v.item()
        elif isinstance(v, (list, tuple)) and not all(
                isinstance(e, (int, float, str, bool, type(None))) for e in v):
            a, s = _flatten({f"#{i}": e for i, e in enumerate(v)}, key + "/")
            arrays.update(a)
            scalars.update(s)
            if not v:
                scalars[key] = []
        else:
            scalars[key] = v
    return arrays, scalars


def _lists(d):
    """Dicts whose keys are all #0, #1, ... back into lists."""
    if not isinstance(d, dict):
        return d
    d = {k: _lists(v) for k, v in d.items()}
    if d and all(k.startswith("#") and k[1:].isdigit() for k in d):
        return [d[f"#{i}"] for i in range(len(d))]
    return d


def _unflatten(arrays, scalars):
    out = {}
    for k, v in list(scalars.items()) + list(arrays.items()):
        parts = k.split("/")
        d = out
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = v
    return _lists(out)


def _digest(header: dict, arrays: dict) -> str:
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(path, result: ContinuousResult, problem: dict):
    """Write ``result`` and its proof to ``path`` (npz, atomically)."""
    arrays, scalars = _flatten(result.proof)
    header = {
        "format": FORMAT, "version": VERSION, "problem": problem,
        "result": {"status": result.status, "objective": float(result.objective),
                   "lower_bound": float(result.lower_bound), "nodes": int(result.nodes),
                   "method": result.method, "solve_seconds": float(result.solve_seconds),
                   "requested_gap": _number(result.requested_gap),
                   "requested_abs_gap": _number(result.requested_abs_gap)},
        "proof_scalars": scalars,
    }
    members = {f"proof/{k}": np.asarray(v) for k, v in arrays.items()}
    members["params"] = np.asarray(result.params, dtype=np.float64)
    header["checksum"] = _digest(header, members)
    buf = io.BytesIO()
    np.savez_compressed(buf, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **members)
    atomic_write(path, buf.getvalue())


def _number(v):
    return None if v is None else float(v)


def load(path):
    """``(result, problem)`` from a proof file; FileFormatError when damaged or altered."""
    raw = read_bytes(path, "proof")
    try:
        z = np.load(io.BytesIO(raw), allow_pickle=False)
        header = json.loads(bytes(z["header"]).decode())
        members = {k: z[k] for k in z.files if k != "header"}
    except Exception:
        raise FileFormatError(f"{path}: not a valid lptrain proof file") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not an lptrain proof file")
    if header.get("version") == 1:
        raise FileFormatError(f"{path}: proof file version 1 does not store the gap tolerances its status "
                              f"was decided with; re-run the solve with --proof to write version {VERSION}")
    if header.get("version") != VERSION:
        raise FileFormatError(f"{path}: proof file version {header.get('version')!r}, expected {VERSION}")
    stored = header.pop("checksum", None)
    if stored != _digest(header, members):
        raise FileFormatError(f"{path}: checksum mismatch: the proof file was altered or damaged")
    try:
        r = header["result"]
        arrays = {k[len("proof/"):]: v for k, v in members.items() if k.startswith("proof/")}
        proof = _unflatten(arrays, header["proof_scalars"])
        res = ContinuousResult(status=r["status"], objective=r["objective"], lower_bound=r["lower_bound"],
                               params=members["params"], nodes=r["nodes"], solve_seconds=r["solve_seconds"],
                               method=r["method"], proof=proof, requested_gap=r["requested_gap"],
                               requested_abs_gap=r["requested_abs_gap"])
        return res, header["problem"]
    except (KeyError, TypeError) as e:
        raise FileFormatError(f"{path}: invalid proof content ({e})") from None
