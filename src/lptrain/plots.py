"""Figures (``pip install ".[plot]"``): polytope size against D and bits, training loss against
epsilon beside the 2 epsilon guarantee (Lemma 3.5), and a one-input network over its data.

Each function writes one PNG atomically and returns the data it plotted.
"""

from __future__ import annotations

import numpy as np

from .exceptions import InputError


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plots need matplotlib: pip install 'lptrain[plot]'") from None
    return plt


def _save(fig, path):
    from .fileio import atomic_path

    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")


def size_plot(arch, loss, bits, path, samples=(2, 10, 100, 1000, 10000), bit_range=(1, 2, 3, 4, 5)):
    """Variables and constraints of P against D (linear, Thm 3.1(a)) and against bits."""
    from .api import polytope

    plt = _plt()
    byD = [polytope(arch, loss, D, bits=bits).sizes() for D in samples]
    byB = [polytope(arch, loss, samples[len(samples) // 2], bits=b).sizes() for b in bit_range]
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for key, mk in (("variables", "o-"), ("constraints", "s-"), ("bound_variables", "k--")):
        ax[0].loglog(samples, [float(s[key]) for s in byD], mk, label=key.replace("_", " "))
        ax[1].semilogy(bit_range, [float(s[key]) for s in byB], mk, label=key.replace("_", " "))
    ax[0].set(xlabel="sample size D", ylabel="size", title=f"{arch}, {loss}, {bits} bits: linear in D")
    ax[1].set(xlabel="bits per number", title=f"D = {samples[len(samples) // 2]}: exponential in bits")
    for a in ax:
        a.legend()
        a.grid(True, which="both", alpha=0.3)
    _save(fig, path)
    plt.close(fig)
    return {"samples": list(samples), "by_samples": byD, "bits": list(bit_range), "by_bits": byB}


def epsilon_plot(dataset, arch, loss, path, bit_range=(1, 2, 3, 4), activation="relu"):
    """Training loss of the grid optimum against epsilon, beside best + 2 epsilon (Lemma 3.5)."""
    from .api import train

    plt = _plt()
    eps, tl, obj = [], [], []
    for b in bit_range:
        r = train(dataset, arch, loss=loss, bits=b, activation=activation, certify=False).report
        eps.append(r.epsilon)
        tl.append(r.train_loss)
        obj.append(r.objective)
    best = min(tl)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.loglog(eps, tl, "o-", label="train loss of the grid optimum")
    ax.loglog(eps, obj, "s--", label="objective (rounded data)")
    ax.loglog(eps, [best + 2 * e for e in eps], "k:", label="best found + 2 epsilon (Lemma 3.5)")
    for e, b in zip(eps, bit_range):
        ax.annotate(f"{b} bit{'s' if b > 1 else ''}", (e, tl[bit_range.index(b)]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    ax.set_yscale("symlog", linthresh=1e-3)
    name = arch.describe() if hasattr(arch, "describe") else str(arch)
    ax.set(xlabel="epsilon = 2 gamma L", ylabel="mean loss", title=f"{name}, {loss}")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    _save(fig, path)
    plt.close(fig)
    return {"bits": list(bit_range), "epsilon": eps, "train_loss": tl, "objective": obj}


def fit_plot(network, x, y, path):
    """One-input data and the trained network's function (raw units)."""
    if network.n_inputs != 1:
        raise InputError("the fit plot needs a network with one input")
    plt = _plt()
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    grid = np.linspace(x.min(), x.max(), 400)
    z = network.predict(grid[:, None])
    fig, ax = plt.subplots(figsize=(6, 4))
    y = np.asarray(y).reshape(len(x), -1)
    bits = network.info.get("bits")
    if bits and not network.info.get("binarized"):  # what the LP saw: the data rounded down (eq. 7)
        from .grid import Grid

        xy = np.column_stack([x, y])
        sc = network.scaling
        inner = sc.forward(xy) if sc is not None else xy
        rounded = Grid(bits).round(np.clip(inner, -1, 1))
        xy_r = sc.inverse(rounded) if sc is not None else rounded
        for j in range(y.shape[1]):
            ax.plot(xy_r[:, 0], xy_r[:, 1 + j], "x", ms=6, color="gray", label=f"rounded data ({bits} bits)")
    for j in range(y.shape[1]):
        ax.plot(x, y[:, j], "o", ms=4, alpha=0.6, label=f"data y{j + 1}")
        ax.plot(grid, z[:, j], "-", lw=2, label=f"network o{j + 1}")
    ax.set(xlabel="x", ylabel="y", title="trained network and its data")
    ax.legend()
    ax.grid(True, alpha=0.3)
    _save(fig, path)
    plt.close(fig)
    return {"x": grid.tolist(), "outputs": z.tolist()}
