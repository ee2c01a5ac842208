import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.evaluation import regularizer
from lptrain.lipschitz import architecture_lipschitz, node_bounds, paper_constant
from lptrain.losses import get_loss

CASES = [
    ("1-2-1", "relu", "quadratic"),
    ("2-3-1", "relu", "absolute"),
    ("1-2-2-1", "tanh", "hinge"),
    ("2-2-2", "elu", "cross_entropy"),
    ("1-3-3", "leaky_relu", "cross_entropy"),
    ("3-1", "relu", "quadratic"),
]


def test_hand_computed_1_2_1_quadratic():
    a = Architecture.parse("1-2-1")
    U, K = node_bounds(a)
    # hidden: U = 1 + 1 = 2, K = (1 + 1) + 1 = 3; output: U = 2*2 + 1 = 5, K = 2*(3 + 2) + 1 = 11
    assert U["h1_1"] == 2 and K["h1_1"] == 3 and U["o1"] == 5 and K["o1"] == 11
    L = architecture_lipschitz(a, get_loss("quadratic"))
    assert L.loss_constant == 4 * 1 * (5 + 1)
    assert L.value == 24 * 11
    # Cor. 4.2 as the paper states it: w = 2, U_2 = 1 + 2 + 4 = 7, w~_1 = 2 + 4, w~_2 = 2 + 4 + 8
    assert paper_constant((1, 2, 1), get_loss("quadratic")) == 4 * 8 * 6 * 14


@pytest.mark.parametrize("spec,act,loss", CASES)
def test_never_above_paper_constant(spec, act, loss):
    a = Architecture.parse(spec, act)
    assert architecture_lipschitz(a, get_loss(loss)).value <= paper_constant(a.widths, get_loss(loss))


def _one_hot_ok(loss, y):
    return y


@pytest.mark.parametrize("spec,act,loss", CASES)
@pytest.mark.parametrize("reg", [None, "l1", "l2"])
def test_constant_is_a_true_bound(spec, act, loss, reg, rng):
    """|l(f(x,phi),y) - l(f(x',phi'),y')| <= L ||(x,phi,y)-(x',phi',y')||_inf on random pairs."""
    a = Architecture.parse(spec, act)
    lo = get_loss(loss)
    lam = 0.3 if reg else 0.0
    L = architecture_lipschitz(a, lo, reg, lam).value
    n, m, N = a.n_inputs, a.n_outputs, a.n_params
    worst = 0.0
    for scale in (2.0, 0.1, 1e-3):
        P = 2000
        x = rng.uniform(-1, 1, (P, n))
        y = rng.uniform(-1, 1, (P, m))
        phi = rng.uniform(-1, 1, (P, N))
        dx = np.clip(x + rng.uniform(-scale, scale, x.shape), -1, 1)
        dy = np.clip(y + rng.uniform(-scale, scale, y.shape), -1, 1)
        dphi = np.clip(phi + rng.uniform(-scale, scale, phi.shape), -1, 1)
        # phi with all-extreme entries stress the bound
        phi[: P // 4] = np.sign(phi[: P // 4])
        f1 = np.array([lo.evaluate(a.predict(x[i : i + 1], phi[i]), y[i : i + 1])[0] for i in range(P)])
        f2 = np.array([lo.evaluate(a.predict(dx[i : i + 1], dphi[i]), dy[i : i + 1])[0] for i in range(P)])
        if reg:
            f1 += lam * regularizer(phi, reg)
            f2 += lam * regularizer(dphi, reg)
        dist = np.max(np.abs(np.concatenate([x - dx, y - dy, phi - dphi], axis=1)), axis=1)
        ok = dist > 0
        ratio = np.abs(f1 - f2)[ok] / dist[ok]
        worst = max(worst, float(ratio.max()))
    assert worst <= L * (1 + 1e-9)


def test_custom_activations_give_an_epsilon_only_when_declared_contractions(capsys):
    """Lemma 4.1 assumes |a(t) - a(s)| <= |t - s| and a(0) = 0: an undeclared activation gets no
    epsilon (never the ReLU figure), a false declaration is refused, a true one gets epsilon."""
    import numpy as np

    from lptrain import activations, api
    from lptrain.data import make_dataset
    from lptrain.exceptions import InputError

    ds = make_dataset(np.array([[0.5, 0.25], [-0.5, 0.0]]), 1)
    relu_eps = api.train(ds, "1-2-1", bits=2).report["epsilon"]
    try:
        activations.register("triple_t", lambda t: 3.0 * t, monotone=True)
        rep = api.train(ds, api.architecture("1-2-1", "triple_t"), bits=2).report
        assert rep["epsilon"] is None and rep["lipschitz"] is None
        with pytest.raises(InputError, match="contraction=True"):
            api.train(ds, api.architecture("1-2-1", "triple_t"), epsilon=1.0)
        for bad, why in ((lambda t: 3.0 * t, "slope"), (lambda t: np.maximum(t, 0) + 0.5, "a\\(0\\)")):
            with pytest.raises(InputError, match=why):
                activations.register("bad_t", bad, contraction=True)
        activations.register("half_relu", lambda t: 0.5 * np.maximum(t, 0.0), monotone=True, contraction=True)
        assert api.train(ds, api.architecture("1-2-1", "half_relu"), bits=2).report["epsilon"] == relu_eps
        activations.ACTIVATIONS["half_relu"] = lambda t: 2.0 * t  # replaced: the declaration is void
        assert api.train(ds, api.architecture("1-2-1", "half_relu"), bits=2).report["epsilon"] is None
    finally:
        for name in ("triple_t", "bad_t", "half_relu"):
            activations.unregister(name)
