"""The linear solves of Newton's method (cge/solve/linear.py): the Krylov route solves to its
tolerance (and, run to round-off, gives the same step as the dense inverse and a direct solve),
bit for bit the same every time, and both refuse a singular Jacobian."""

import numpy as np
import pytest

from cge.solve import linear


def coupled_blocks(n_regions=12, size=40, coupling=0.3, seed=3):
    """A Jacobian shaped like the model's: one dense-ish block per region, sparse trade entries
    between regions, and one unknown and one equation of no region (a numeraire)."""
    rng = np.random.default_rng(seed)
    n = n_regions * size + 1
    region = np.r_[np.repeat(np.arange(n_regions), size), -1]
    dense = np.zeros((n, n))
    for r in range(n_regions):
        k = slice(r * size, (r + 1) * size)
        dense[k, k] = rng.standard_normal((size, size)) * (rng.random((size, size)) < 0.3)
        dense[k, k] += np.eye(size) * size**0.5 * 2
    between = (region[:, None] != region[None, :]) & (rng.random((n, n)) < 0.02)
    dense[between] = coupling * rng.standard_normal(between.sum())
    dense[-1, :-1] = rng.random(n - 1)  # the numeraire's equation reaches every region
    dense[:-1, -1] = rng.random(n - 1)  # and its unknown too
    dense[-1, -1] = 1.0
    return entries(dense), region


def interleaved_bordered(n_regions=7, size=9, seed=4):
    """A Jacobian laid out as the model lays it out at GTAP size: the regions alternate from one
    index to the next, region 0 holds one unknown more than equations (pinned by the numeraire's
    equation), and three equations and two unknowns belong to no region (the numeraire and two
    union-wide factor markets, which reach every region).  Returns the Jacobian, the blocks and
    the dense matrix of the entries the preconditioner keeps."""
    rng = np.random.default_rng(seed)
    row_block = np.r_[np.tile(np.arange(n_regions), size), -1, -1, -1]
    col_block = np.r_[np.tile(np.arange(n_regions), size), 0, -1, -1]
    n = len(row_block)
    same = row_block[:, None] == col_block[None, :]
    border = (row_block[:, None] < 0) | (col_block[None, :] < 0)
    kept = np.where(same | border, rng.standard_normal((n, n)), 0.0)
    kept[same] *= rng.random(same.sum()) < 0.5
    square = np.flatnonzero(row_block >= 0)
    kept[square, square] += 3.0 * size**0.5  # the diagonal of the blocks (region 0's extra unknown is past it)
    trade = ~(same | border) & (rng.random((n, n)) < 0.1)
    return entries(kept + np.where(trade, 0.3 * rng.standard_normal((n, n)), 0.0)), (row_block, col_block), kept


def test_preconditioner_solves_the_bordered_blocks_to_round_off():
    jac, (row_block, col_block), kept = interleaved_bordered()
    krylov = linear.BlockKrylov(jac, row_block, col_block)
    for seed in range(3):
        b = np.random.default_rng(seed).standard_normal(jac.n)
        x = krylov.precondition(b)
        np.testing.assert_allclose(x, np.linalg.solve(kept, b), rtol=0, atol=1e-12 * np.abs(x).max())
        np.testing.assert_allclose(kept @ x, b, rtol=0, atol=1e-12 * np.abs(b).max())


def test_a_new_jacobian_of_the_same_pattern_is_solved_with_its_own_values():
    # the pattern (orders, masks) is kept between factorisations of the same arrays: only the
    # values change, and a new pattern in another order is made afresh
    jac, blocks, kept = interleaved_bordered(seed=7)
    linear.BlockKrylov(jac, *blocks)
    scaled = linear.Jacobian(jac.rows, jac.cols, jac.values * np.linspace(0.5, 2.0, len(jac.values)), jac.n)
    b = np.random.default_rng(4).standard_normal(jac.n)
    dense = scaled.dense()
    np.testing.assert_allclose(
        linear.BlockKrylov(scaled, *blocks).precondition(b),
        np.linalg.solve(np.where(kept != 0, dense, 0.0), b),
        rtol=1e-10,
    )
    flip = np.arange(len(jac.values))[::-1]
    other = linear.Jacobian(jac.rows[flip], jac.cols[flip], jac.values[flip], jac.n)
    np.testing.assert_allclose(linear.BlockKrylov(other, *blocks).precondition(b), np.linalg.solve(kept, b), rtol=1e-10)


def test_krylov_step_on_bordered_blocks_equals_the_dense_solve(monkeypatch):
    monkeypatch.setattr(linear, "RTOL", 1e-13)
    jac, blocks, _ = interleaved_bordered(seed=6)
    by_col = np.lexsort((jac.rows, jac.cols))  # the entries by column, as the ASL gives them
    jac = linear.Jacobian(jac.rows[by_col], jac.cols[by_col], jac.values[by_col], jac.n)
    b = np.random.default_rng(3).standard_normal(jac.n)
    s = linear.BlockKrylov(jac, *blocks)(b)
    np.testing.assert_allclose(s, np.linalg.solve(jac.dense(), b), rtol=0, atol=1e-10 * np.abs(s).max())


def entries(dense):
    rows, cols = np.nonzero(dense)
    return linear.Jacobian(rows, cols, dense[rows, cols], dense.shape[0])


def test_krylov_step_solves_to_rtol():
    # an inexact Newton step: the linear residual is RTOL of the right-hand side, not less
    jac, region = coupled_blocks()
    b = np.random.default_rng(1).standard_normal(jac.n)
    s = linear.BlockKrylov(jac, region, region)(b)
    gap = np.linalg.norm(jac.dense() @ s - b) / np.linalg.norm(b)
    assert gap <= linear.RTOL and gap > 1e-9


def test_krylov_step_equals_the_direct_solve(monkeypatch):
    monkeypatch.setattr(linear, "RTOL", 1e-12)
    jac, region = coupled_blocks()
    b = np.random.default_rng(1).standard_normal(jac.n)
    krylov = linear.BlockKrylov(jac, region, region)
    s = krylov(b)
    assert 0 < krylov.iterations < linear.RESTART
    np.testing.assert_allclose(jac.dense() @ s, b, rtol=0, atol=1e-11 * np.abs(b).max())
    np.testing.assert_allclose(s, np.linalg.solve(jac.dense(), b), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(linear.DenseInverse(jac)(b), s, rtol=1e-9, atol=1e-12)


def test_gmres_restarts_until_the_residual_asked_for():
    # cycles of 2 iterations, restarted from the true residual, reach 1e-10 of |b|
    jac, region = coupled_blocks(coupling=0.6)
    krylov = linear.BlockKrylov(jac, region, region)
    b = np.random.default_rng(6).standard_normal(jac.n)
    matrix = jac.dense()
    x, iterations = linear.gmres(lambda v: matrix @ v, krylov.precondition, b, 1e-10, 2, 100)
    assert iterations > 2 and np.linalg.norm(matrix @ x - b) <= 1e-10 * np.linalg.norm(b)
    _, few = linear.gmres(lambda v: matrix @ v, krylov.precondition, b, 1e-10, 2, 1)
    assert few == 2  # one cycle is not enough: the answer above took restarts
    np.testing.assert_allclose(x, np.linalg.solve(matrix, b), rtol=0, atol=1e-8 * np.abs(x).max())


def test_krylov_is_reproducible_bit_for_bit():
    jac, region = coupled_blocks(seed=5)
    b = np.random.default_rng(2).standard_normal(jac.n)
    for route in (linear.BlockKrylov(jac, region, region), linear.DenseInverse(jac)):
        again = type(route)(jac, region, region) if isinstance(route, linear.BlockKrylov) else type(route)(jac)
        np.testing.assert_array_equal(route(b), again(b.copy()))


def test_routes_by_size(monkeypatch):
    jac, region = coupled_blocks(n_regions=3, size=10)
    assert isinstance(linear.factorise(jac, (region, region)), linear.DenseInverse)
    monkeypatch.setattr(linear, "KRYLOV_FROM", 0)
    assert isinstance(linear.factorise(jac, (region, region)), linear.BlockKrylov)
    assert isinstance(linear.factorise(jac), linear.SparseLU)  # no regions: a direct sparse solve


def test_singular_jacobian_is_refused():
    jac, region = coupled_blocks(n_regions=3, size=10)
    dense = jac.dense()
    dense[:, 4] = 0.0  # an unknown that no equation holds
    with pytest.raises(RuntimeError, match="singular"):
        linear.BlockKrylov(entries(dense), region, region)
    with pytest.raises(ValueError, match="[Ss]ingular"):
        linear.DenseInverse(entries(dense))


def test_region_blocks_reads_the_last_region_label():
    labels = [("c1", "CHN"), ("labour", "JPN"), ("CHN", "c1", "KOR"), ("labour",), ()]
    np.testing.assert_array_equal(linear.region_blocks(labels, ["CHN", "JPN", "KOR"]), [0, 1, 2, -1, -1])
