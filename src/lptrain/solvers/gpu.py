"""The structured scan on a GPU with PyTorch (``--solver gpu``; ``pip install ".[torch]"``).

One-hidden-layer nets (the fused kernel's setting): the hidden outputs H[t, p] for every
neuron parameter vector t live on the device; for a chunk of sorted hidden-unit tuples, one
batched matrix product gives r = V H for *every* output-weight vector V of the grid at once,
the output bias is swept, and the weighted loss sums go into the tie records of
``lptrain.ties`` in (tuple, V, bias) order, the fused kernel's order (increasing grid
index), so ties go to the smallest grid index like every other solver.  Other architectures run the blockwise
forward pass of ``evaluation.py`` in torch.  float64 throughout: the optimum is the CPU's.
``info["flops"]`` counts the floating-point operations issued (multiply-adds as two), for
the benchmark's fraction of peak.

The device is CUDA when available; ``LPTRAIN_GPU_DEVICE`` overrides it (``cpu`` lets the
tests check this code on machines without a GPU).
"""

from __future__ import annotations

import os

import numpy as np

from ..activations import LEAKY_SLOPE
from ..evaluation import fits_int64
from ..exceptions import InputError, LPTrainError, SizeError
from ..progress import bar
from ..ties import Records, window
from .base import Solution, Solver
from .fused import scan_work

CHUNK_BYTES = 512 << 20


def device():
    import torch

    want = os.environ.get("LPTRAIN_GPU_DEVICE")
    if want:
        return torch.device(want)
    return torch.device("cuda") if torch.cuda.is_available() else None


def _loss(torch, name, z, y):
    if name == "absolute":
        return (z - y).abs()
    if name == "quadratic":
        return (z - y) ** 2
    if name == "hinge":
        return torch.clamp(1.0 - z * y, min=0.0)
    return torch.zeros_like(z)  # softmax of one output


def _offer(torch, rec, start, flat):
    """Offer a block of S values (keys start, start+1, ...) to the tie records; only the
    entries within the tie window of the block's minimum leave the device."""
    m = float(torch.min(flat)) if flat.numel() else float("nan")
    if not m < rec.best:
        return
    idx = torch.nonzero(flat <= window(m, rec.scale)).reshape(-1)
    for j, v in zip(idx.cpu().numpy(), flat[idx].cpu().numpy()):
        rec.add(start + int(j), v)


BUILTIN = ("relu", "tanh", "elu", "leaky_relu", "identity")


def _require_builtin_activations(arch):
    """The device code implements the built-in activations only: refuse others in one line."""
    from .. import activations

    for nd in arch.nodes:
        a = nd.activation
        if a is not None and (a not in BUILTIN or activations.get_activation(a) is not getattr(activations, a)):
            raise InputError(f"solver 'gpu' cannot run or bound activation {a!r} (built-in activations "
                             f"only); use --solver structured")


class GpuSolver(Solver):
    name = "gpu"
    unavailable_reason = "needs PyTorch and a CUDA GPU: pip install 'lptrain[torch]'; LPTRAIN_GPU_DEVICE=cpu runs it on the CPU"

    @staticmethod
    def available():
        try:
            import torch  # noqa: F401
        except ImportError:
            return False
        return device() is not None

    def work(self, face) -> int:
        p = face.polytope
        w = p.arch.widths
        return scan_work(face, w is not None and len(w) == 3 and w[2] == 1 and not p.reg)

    def _solve(self, face, memory, progress):
        import torch

        from . import fused

        dev = device()
        p = face.polytope
        _require_builtin_activations(p.arch)
        w = p.arch.widths
        if w is not None and len(w) == 3 and w[2] == 1 and not p.reg:
            with bar(fused.n_combos(face.grid.size ** (w[0] + 1), w[1]), "solving (GPU)", progress) as pb:
                S, a, flops, evaluations = self._one_hidden(torch, dev, face, fused, pb)
        else:
            with bar(face.param_points, "solving (GPU)", progress) as pb:
                S, a, flops = self._blocks(torch, dev, face, pb)
            evaluations = face.param_points * len(face.distinct)
        if a is None:
            raise LPTrainError("the face objective is NaN at every grid point")
        return Solution.at_grid_point(face, a, S, solver=self.name, evaluations=evaluations,
                                      info={"device": str(dev), "flops": flops})

    def _one_hidden(self, torch, dev, face, fused, pb):
        prep = fused.prepare(face)
        fill = fused.kernels()[0]
        G, w, K = prep["G"], prep["w"], prep["K"]
        H = torch.tensor(prep["H"], dtype=torch.float64, device=dev)  # (K, P)
        Y = torch.tensor(prep["Y"][:, 0], dtype=torch.float64, device=dev)
        cnt = torch.tensor(prep["cnt"], dtype=torch.float64, device=dev)
        gv = torch.tensor(prep["gv"], dtype=torch.float64, device=dev)
        V = gv[torch.tensor(np.indices((G,) * w).reshape(w, -1).T, device=dev)]  # (G^w, w), C order
        name = face.polytope.loss.name
        P = H.shape[1]
        chunk = max(1, CHUNK_BYTES // (8 * V.shape[0] * P * (G + 2)))
        rec = Records(face.samples)
        nO = V.shape[0] * G
        flops = 0
        buf = np.empty((chunk, w), np.int64)
        total = prep["total"]
        for start in range(0, total, chunk):
            c = min(chunk, total - start)
            fill(start, c, K, w, buf)
            T = torch.tensor(buf[:c], device=dev)
            Hc = H[T]  # (c, w, P)
            R = torch.einsum("vw,cwp->cvp", V, Hc)  # (c, G^w, P)
            Z = R[..., None, :] + gv[None, None, :, None]  # (c, G^w, G, P)
            s = (_loss(torch, name, Z, Y) * cnt).sum(-1).reshape(c, -1)  # (c, G^w * G)
            flops += 2 * c * V.shape[0] * w * P + 4 * c * V.shape[0] * G * P
            _offer(torch, rec, start * nO, s.reshape(-1))
            pb.update(c)
        key, S = rec.result()
        if key is None:
            return S, None, flops, 0
        rank, o = divmod(key, nO)
        tup = tuple(int(t) for t in fused.combo(prep, rank)[0])
        return S, fused.grid_index(prep, tup, o), flops, total * nO * P

    def _blocks(self, torch, dev, face, pb):
        p = face.polytope
        ev = p.evaluator
        X, Y = ev.points(face.distinct)
        Xt = torch.tensor(X, device=dev)
        Yt = torch.tensor(Y, device=dev)
        cnt = torch.tensor(face.counts.astype(np.float64), device=dev)
        gv = torch.tensor(p.grid.values(), device=dev)
        N, G = p.N, p.grid.size
        if not fits_int64(G, N):
            raise SizeError(f"the GPU scan indexes grid points by int64; {G}^{N} is too many")
        acts = {"relu": torch.relu, "tanh": torch.tanh, "elu": torch.nn.functional.elu,
                "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, LEAKY_SLOPE), "identity": lambda t: t}
        step = max(1, CHUNK_BYTES // (8 * max(1, len(X)) * (len(p.arch.nodes) + 4)))
        rec = Records(face.samples)
        per_point = sum(2 * len(nd.sources) + 2 for nd in p.arch.nodes) + 4 * p.arch.n_outputs
        for a0 in range(0, p.param_points, step):
            a1 = min(p.param_points, a0 + step)
            idx = torch.arange(a0, a1, device=dev)
            dig = torch.empty((a1 - a0, N), dtype=torch.long, device=dev)
            rest = idx.clone()
            for k in range(N - 1, -1, -1):
                dig[:, k] = rest % G
                rest = rest // G
            phi = gv[dig]
            vals = {name: Xt[None, :, i] for i, name in enumerate(p.arch.input_names)}
            for nd in p.arch.nodes:
                acc = phi[:, nd.bias, None].expand(-1, len(X)).clone() if nd.bias is not None else \
                    torch.zeros((a1 - a0, len(X)), dtype=torch.float64, device=dev)
                for s_, wi in zip(nd.sources, nd.weights):
                    acc = acc + phi[:, wi, None] * vals[s_]
                vals[nd.name] = acts[nd.activation](acc) if nd.activation else acc
            z = torch.stack([vals[o] for o in p.arch.outputs], -1)
            if p.loss.name == "cross_entropy":
                lse = torch.logsumexp(z, -1, keepdim=True)
                lv = -(Yt[None] * (z - lse)).sum(-1)
            elif p.loss.name == "hinge":
                lv = torch.clamp(1.0 - (z * Yt[None]).sum(-1), min=0.0)
            else:
                lv = _loss(torch, p.loss.name, z, Yt[None]).sum(-1)
            s = (lv * cnt).sum(-1)
            if p.reg and p.lam:
                r = phi.abs().sum(1) if p.reg == "l1" else (phi * phi).sum(1)
                s = s + p.lam * face.samples * r
            _offer(torch, rec, a0, s)
            pb.update(a1 - a0)
        arg, best = rec.result()
        return best, arg, per_point * p.param_points * len(X)
