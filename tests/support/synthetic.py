"""Random but exactly consistent benchmark datasets (MODEL.md section 2 format) for tests.

Both section-2 identities hold by construction (to rounding):
  1. sum_j intermediate[i,j,r] + final_demand[i,r] = trade[i,r,r] + sum_{s!=r} trade[i,s,r]*(1+tariff[i,s,r])
  2. sum_s trade[j,r,s] = sum_i intermediate[i,j,r] + sum_f factor_income[f,j,r]
"""

import numpy as np


def _balanced_offdiag(rng, n, scale=10.0, n_cycles=2):
    """Positive off-diagonal matrix T (zero diagonal) with equal row and column sums per index,
    i.e. sum_s T[s,r] == sum_s T[r,s] for every r: a symmetric part plus random directed cycles
    (each cycle adds the same inflow and outflow to every node on it)."""
    a = rng.uniform(1.0, scale, (n, n))
    t = a + a.T
    for _ in range(n_cycles):
        perm = rng.permutation(n)
        w = rng.uniform(0.0, scale)
        for k in range(n):
            t[perm[k], perm[(k + 1) % n]] += w
    np.fill_diagonal(t, 0.0)
    return t


def _to_dataset(
    trade,
    tariff,
    intermediate,
    final_demand,
    factor_income,
    esubd,
    esubm,
    esubva,
    mobility,
    regions,
    sectors,
    factors,
    population=None,
):
    from cge.dataset.schema import from_arrays

    return from_arrays(
        regions=regions,
        sectors=sectors,
        factors=factors,
        trade=trade,
        tariff=tariff,
        intermediate=intermediate,
        final_demand=final_demand,
        factor_income=factor_income,
        esubd=esubd,
        esubm=esubm,
        esubva=esubva,
        mobility=mobility,
        population=population,
    )


def make_dataset(
    n_regions=3,
    n_sectors=2,
    factors=(("labour", "mobile"), ("capital", "mobile")),
    seed=0,
    tariffs=True,
    balanced_trade=False,
    intermediates=True,
    population=True,
):
    """Random consistent benchmark with all flows strictly positive.

    balanced_trade=True makes every sector's off-diagonal trade matrix balanced (imports = exports
    for each region and sector), so the benchmark deficit B[r] is 0 for every region.
    """
    rng = np.random.default_rng(seed)
    R, N = n_regions, n_sectors
    regions = [f"R{k + 1}" for k in range(R)]
    sectors = [f"S{k + 1}" for k in range(N)]
    fnames = [f for f, _ in factors]
    mobility = [m for _, m in factors]
    size = rng.uniform(0.5, 2.0, R)  # region size

    trade = np.empty((N, R, R))
    for i in range(N):
        trade[i] = (
            _balanced_offdiag(rng, R, 10.0)
            if balanced_trade
            else rng.uniform(1.0, 20.0, (R, R)) * np.sqrt(np.outer(size, size))
        )
        trade[i][np.diag_indices(R)] = rng.uniform(60.0, 150.0, R) * size
    offdiag = ~np.eye(R, dtype=bool)
    tariff = np.where(offdiag[None], rng.uniform(0.0, 0.25, (N, R, R)), 0.0) if tariffs else np.zeros((N, R, R))

    # composite supply and output
    A0 = np.einsum("irr->ir", trade) + np.einsum("isr,isr->ir", np.where(offdiag[None], trade, 0.0), 1.0 + tariff)
    Y0 = trade.sum(axis=2)  # (j, r): sum over dest

    if intermediates:
        a = rng.uniform(0.2, 1.0, (N, N, R))
        a *= rng.uniform(0.15, 0.5, (1, N, R)) / a.sum(axis=0, keepdims=True)  # cost shares sum 15-50%
        inter = a * Y0[None, :, :]
        # keep intermediate use below 70% of composite supply (final demand > 0)
        ratio = inter.sum(axis=1) / (0.7 * A0)
        inter /= np.maximum(ratio, 1.0)[:, None, :]
    else:
        inter = np.zeros((N, N, R))
    final_demand = A0 - inter.sum(axis=1)
    VA0 = Y0 - inter.sum(axis=0)
    shares = rng.dirichlet(np.full(len(fnames), 2.0), size=(N, R)) * 0.9 + 0.1 / len(fnames)
    factor_income = np.moveaxis(shares, 2, 0) * VA0[None]
    assert (final_demand > 0).all() and (factor_income > 0).all()

    esubd = rng.uniform(1.5, 4.0, N)
    esubm = 2.0 * esubd
    esubva = rng.uniform(0.3, 1.5, N)
    pop = rng.uniform(1.0, 100.0, R) if population else None
    return _to_dataset(
        trade, tariff, inter, final_demand, factor_income, esubd, esubm, esubva, mobility, regions, sectors, fnames, pop
    )


def make_acr_dataset(n_regions=3, sigma=4.0, seed=0):
    """One sector, no intermediates, one mobile factor, zero tariffs, balanced (not symmetric)
    trade, esubd = esubm = sigma: the setting of the Arkolakis-Costinot-Rodriguez-Clare formula."""
    rng = np.random.default_rng(seed)
    R = n_regions
    regions = [f"R{k + 1}" for k in range(R)]
    t = _balanced_offdiag(rng, R, 10.0)
    t[np.diag_indices(R)] = rng.uniform(50.0, 150.0, R)
    trade = t[None]
    Y0 = trade.sum(axis=2)
    final_demand = trade.sum(axis=1)
    return _to_dataset(
        trade,
        np.zeros((1, R, R)),
        np.zeros((1, 1, R)),
        final_demand,
        Y0[None],
        [sigma],
        [sigma],
        [1.0],
        ["mobile"],
        regions,
        ["S1"],
        ["labour"],
        rng.uniform(1.0, 100.0, R),
    )


def dataset_variants():
    """The synthetic benchmarks the reference implementations are checked on, by name."""
    return {
        "default": make_dataset(),
        "4x3_specific": make_dataset(
            4, 3, (("labour", "mobile"), ("capital", "specific"), ("land", "specific")), seed=1
        ),
        "no_intermediates_no_tariffs": make_dataset(3, 2, seed=2, tariffs=False, intermediates=False),
        "balanced": make_dataset(3, 3, seed=3, balanced_trade=True),
    }
