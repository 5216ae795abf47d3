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
