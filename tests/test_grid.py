import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lptrain.exceptions import InputError
from lptrain.grid import Grid
from oracle import grid_values, round_down


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 20), st.floats(-1.0, 1.0, allow_nan=False))
def test_round_down_brackets_value(bits, r):
    g = Grid(bits)
    j = int(g.round_index(r))
    assert 0 <= j < g.size
    assert g.value(j) <= r
    if j < g.size - 1:
        assert r < g.value(j + 1)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.floats(-1.0, 1.0, allow_nan=False))
def test_round_matches_oracle(bits, r):
    assert Grid(bits).round(r) == round_down(r, bits)


def test_grid_points_and_edges():
    g = Grid(2)
    assert list(g.values()) == grid_values(2) == [-1, -0.5, 0, 0.5]
    assert g.round(1.0) == 0.5  # r = 1 maps to the top point
    assert g.round(-1.0) == -1.0
    assert g.round(0.4999999) == 0.0
    assert g.round(np.nextafter(-0.5, -1)) == -1.0
    assert Grid(1).round(1.0) == 0.0  # with one bit a label of 1 rounds to 0 (docs/design.md §1)
    assert g.gamma == 0.25 and g.epsilon(10.0) == 5.0


def test_points_just_below_grid_values_round_down():
    for bits in range(1, 12):
        g = Grid(bits)
        vals = g.values()[1:]
        below = np.nextafter(vals, -2)
        assert np.all(g.round_index(below) == np.arange(g.size - 1))
        assert np.all(g.round_index(vals) == np.arange(1, g.size))


@pytest.mark.parametrize("L,eps", [(264.0, 132.0), (264.0, 100.0), (10.0, 0.3), (2.0, 4.0)])
def test_bits_for_epsilon(L, eps):
    g = Grid.for_epsilon(eps, L)
    assert g.bits == max(1, math.ceil(math.log2(2 * L / eps)))
    assert g.epsilon(L) <= eps or g.bits == 1
    if g.bits > 1:
        assert Grid(g.bits - 1).epsilon(L) > eps


@pytest.mark.parametrize("bad", [0, -1, 31, 2.5, "2", True])
def test_bad_bits(bad):
    with pytest.raises(InputError):
        Grid(bad)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_epsilon(bad):
    with pytest.raises(InputError, match="epsilon"):
        Grid.for_epsilon(bad, 10.0)


def test_rounding_rejects_out_of_range_and_nan():
    with pytest.raises(InputError):
        Grid(2).round_index([1.5])
    with pytest.raises(InputError):
        Grid(2).round_index([float("nan")])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(-10**6, 10**6), st.integers(1, 10**4), st.integers(0, 6))
@example(2, 29360, 1, 1)  # 2936.0 .. 2936.3: the map's slope magnifies the input's rounding
@example(6, 10**6, 1, 6)
@example(6, -10**6, 1, 0)
def test_scaled_decimal_columns_keep_one_cell_per_grid_point(bits, start, step, digits):
    """Equally spaced decimals (2.20, 2.21, 2.22, 2.23 at 2 bits) map onto the grid points one
    to one under --scale, although their floats map one ulp off (Grid.snap)."""
    from lptrain.data import make_dataset

    G = 1 << bits
    col = np.array([float(f"{(start + i * step) / 10**digits:.{digits}f}") for i in range(G - 1)] + [0.0])
    col[-1] = float(f"{(start + (G - 1) * step) / 10**digits:.{digits}f}")
    table = np.column_stack([col, np.zeros(G)])
    ds = make_dataset(table, 1, scale=True, grid=Grid(bits))
    assert np.array_equal(Grid(bits).round_index(ds.x[:, 0]), np.arange(G))


def test_snap_moves_only_values_near_grid_points():
    g = Grid(3)
    r = np.array([-1.0, -0.75 - 1e-15, -0.75 + 3e-13, -0.5 + 1e-9, 0.6, 0.75 - 1e-14])
    assert np.array_equal(g.snap(r), [-1.0, -0.75, -0.75, -0.5 + 1e-9, 0.6, 0.75])


def test_snap_tolerance_follows_the_columns_magnitude_not_beyond_a_cell():
    """A column whose range is tiny beside its magnitude gets a wider snap (its own rounding),
    capped at an eighth of a cell: values a fraction of a cell off a point stay where they are."""
    from lptrain.data import Scaling

    table = np.array([[2936.0], [2936.1], [2936.3]])
    sc = Scaling.for_grid(table, Grid(2))
    err = sc.forward_error()
    assert 1e-12 < err[0] < 1e-10
    raw = sc.forward(table)
    assert np.all(np.abs(Grid(2).snap(raw, err) - raw) <= err)
    assert np.max(np.abs(Grid(2).snap(raw, err) - raw)) > 0
    tol = np.minimum(1e3, Grid(2).gamma / 4)
    assert np.array_equal(Grid(2).snap(np.array([-0.4]), tol), [-0.4])
