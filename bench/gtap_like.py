"""A synthetic benchmark shaped like GTAP (141 regions x 65 sectors), exactly consistent.

``make_gtap_like(n_regions, n_sectors, seed)`` returns an ``xarray.Dataset`` in MODEL.md section 2
format for which both identities hold by construction (to floating-point rounding):

1. composite balance: ``sum_j intermediate[i,j,r] + final_demand[i,r]
   = trade[i,r,r] + sum_{s!=r} trade[i,s,r] * (1 + tariff[i,s,r])``;
2. zero profit: ``sum_s trade[j,r,s] = sum_i intermediate[i,j,r] + sum_f factor_income[f,j,r]``.

The construction is the one of ``tests/synthetic.py`` (choose trade and tariffs, derive composite
supply and output, take intermediates as cost shares of output kept below 70% of composite
supply, then final demand and value added are the residuals), vectorised with numpy and made
realistic:

* region sizes and sector weights are lognormal (a few large economies, many small ones);
* bilateral flows follow a gravity pattern with lognormal noise; about 30% of off-diagonal
  (sector, source, dest) routes are zero, mostly between small regions, and every region keeps
  at least one import source for every commodity;
* a few (goods sector, small region) cells have no output at all (no domestic sales, no exports,
  no intermediates, no factor use); the region imports the good;
* the last ~30% of sectors are services: mostly non-traded (imports a few % of absorption,
  about half of their routes zero) and tariff-free;
* tariffs on goods routes: about 40% zero, the rest lognormal, capped at 30%;
* two mobile factors (labour, capital); GTAP-like elasticities (esubm = 2 esubd).

No import from ``tests/``: the bench must not depend on the test suite.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


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
    name="synthetic",
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
        attrs=dict(
            name=name,
            units="synthetic currency units",
            year=0,
            source="bench/gtap_like.py (random, exactly consistent)",
        ),
    )


def make_gtap_like(
    n_regions: int = 141,
    n_sectors: int = 65,
    seed: int = 0,
    *,
    zero_routes: float = 0.30,
    service_share: float = 0.30,
    service_zero_routes: float = 0.50,
    zero_output_cells: float = 0.01,
    tariff_zero_share: float = 0.40,
    tariff_cap: float = 0.30,
) -> xr.Dataset:
    """A random, exactly consistent benchmark of GTAP-like shape and sparsity (see module doc)."""
    rng = np.random.default_rng(seed)
    R, N = int(n_regions), int(n_sectors)
    if R < 2 or N < 1:
        raise ValueError("need at least 2 regions and 1 sector")
    n_serv = int(round(service_share * N)) if N > 1 else 0
    n_goods = N - n_serv
    service = np.zeros(N, dtype=bool)
    service[n_goods:] = True
    regions = [f"R{k + 1:03d}" for k in range(R)]
    sectors = [f"G{k + 1:02d}" for k in range(n_goods)] + [f"S{k + 1:02d}" for k in range(n_serv)]
    offdiag = ~np.eye(R, dtype=bool)

    # --- sizes: lognormal economies and sectors
    size = rng.lognormal(0.0, 1.5, R)
    size /= size.mean()
    weight = rng.lognormal(0.0, 0.8, N)
    weight[service] *= 2.0  # services are the larger part of output
    weight /= weight.mean()

    # --- domestic sales (i, r)
    D0 = 100.0 * weight[:, None] * size[None, :] * rng.lognormal(0.0, 0.5, (N, R))

    # --- gravity imports: X[i,s,r] ~ size_s^0.9 size_r^0.8 noise; import shares of absorption
    dist = rng.lognormal(0.0, 0.5, (R, R))
    dist = np.sqrt(dist * dist.T)  # symmetric "distance"
    raw = size[None, :, None] ** 0.9 * size[None, None, :] ** 0.8 / dist[None] * rng.lognormal(0.0, 1.2, (N, R, R))
    raw[:, ~offdiag] = 0.0
    # which routes are zero: lowest scores by a size-driven score with noise (small pairs first)
    score = np.log(size)[None, :, None] + np.log(size)[None, None, :] + rng.normal(0.0, 1.5, (N, R, R))
    zero = np.zeros((N, R, R), dtype=bool)
    n_off = R * (R - 1)
    # goods zero share chosen so that the overall share of zero routes is `zero_routes`
    goods_zero = (zero_routes * N - service_zero_routes * n_serv) / max(n_goods, 1)
    goods_zero = float(np.clip(goods_zero, 0.0, 0.9))
    for mask, share in ((~service, goods_zero), (service, service_zero_routes)):
        if not mask.any() or share <= 0:
            continue
        sc = score[mask][:, offdiag]  # (n_mask, n_off)
        k = int(round(share * n_off))
        if k > 0:
            cut = np.partition(sc, k - 1, axis=1)[:, k - 1 : k]  # k-th smallest per sector
            z = np.zeros((mask.sum(), R, R), dtype=bool)
            z[:, offdiag] = sc <= cut
            zero[mask] = z
    # every (i, r) keeps its best import source
    best = np.argmax(np.where(offdiag[None], score, -np.inf), axis=1)  # (i, r)
    ii, rr = np.meshgrid(np.arange(N), np.arange(R), indexing="ij")
    zero[ii, best, rr] = False
    raw[zero] = 0.0
    # scale imports to a target import share of absorption per (i, r)
    mshare = np.where(service[:, None], rng.uniform(0.01, 0.08, (N, R)), rng.uniform(0.10, 0.60, (N, R)))
    mshare *= np.clip(1.0 - 0.25 * np.log(size)[None, :], 0.5, 1.5)  # small = more open
    mshare = np.clip(mshare, 0.005, 0.85)
    imports = mshare / (1.0 - mshare) * D0  # (i, r)
    tot = raw.sum(axis=1)
    X = raw * (imports / tot)[:, None, :]

    # --- a few goods cells with no output at all (small regions), still imported
    n_zero_out = int(round(zero_output_cells * n_goods * R))
    if n_zero_out > 0 and n_goods > 0:
        p = 1.0 / size
        p = np.tile(p / p.sum() / n_goods, n_goods)  # over (g, r) flat
        cells = rng.choice(n_goods * R, size=min(n_zero_out, n_goods * R), replace=False, p=p)
        gi, gr = np.unravel_index(cells, (n_goods, R))
        D0[gi, gr] = 0.0
        X[gi, gr, :] = 0.0  # no exports
        # keep at least one import into those cells (the best source, never themselves)
        for i, r in zip(gi, gr):
            if X[i, :, r].sum() <= 0:
                src = int(np.argmax(np.where(np.arange(R) != r, size * (D0[i] > 0), -1)))
                X[i, src, r] = mshare[i, r] * 100.0 * weight[i] * size[r]
    # a source that makes nothing cannot export; an importer may then be left without a source
    made = D0 > 0
    X *= made[:, :, None]
    lost = X.sum(axis=1) <= 0
    for i, r in zip(*np.nonzero(lost)):
        src = int(np.argmax(np.where((np.arange(R) != r) & made[i], size, -1)))
        X[i, src, r] = max(mshare[i, r], 0.01) * 100.0 * weight[i] * size[r]

    trade = X.copy()
    trade[:, np.arange(R), np.arange(R)] = D0

    # --- tariffs: goods only, ~40% zero, lognormal, capped at 30%
    tariff = np.minimum(rng.lognormal(np.log(0.05), 0.9, (N, R, R)), tariff_cap)
    tariff[rng.random((N, R, R)) < tariff_zero_share] = 0.0
    tariff[service] = 0.0
    tariff[:, ~offdiag] = 0.0

    # --- composite supply and output
    A0 = D0 + (X * (1.0 + tariff)).sum(axis=1)  # (i, r)
    Y0 = trade.sum(axis=2)  # (j, r)

    # --- intermediates: sparse-ish lognormal input coefficients, cost shares 25-60% of output
    a = rng.lognormal(0.0, 1.5, (N, N, R))
    a[rng.random((N, N, R)) < 0.15] = 0.0
    a[np.arange(N), np.arange(N), :] += a.mean()  # own-sector input
    a *= rng.uniform(0.25, 0.60, (1, N, R)) / a.sum(axis=0, keepdims=True)
    inter = a * Y0[None, :, :]
    ratio = inter.sum(axis=1) / (0.7 * A0)  # (i, r)
    inter /= np.maximum(ratio, 1.0)[:, None, :]
    final_demand = A0 - inter.sum(axis=1)
    VA0 = Y0 - inter.sum(axis=0)

    # --- two mobile factors
    lab = np.clip(rng.beta(4.0, 4.0, (N, R)) + np.where(service[:, None], 0.1, -0.05), 0.05, 0.95)
    factor_income = np.stack([lab * VA0, (1.0 - lab) * VA0])

    assert (final_demand > 0).all(), "final demand must be positive"
    assert (VA0[Y0 > 0] > 0).all() and (factor_income >= 0).all()

    # --- elasticities: GTAP-like ranges
    esubd = np.where(service, rng.uniform(1.9, 2.0, N), rng.uniform(1.5, 4.5, N))
    esubm = 2.0 * esubd
    esubva = np.where(service, rng.uniform(1.2, 1.7, N), rng.uniform(0.2, 1.3, N))
    pop = 10.0 * size * rng.lognormal(0.0, 0.7, R)
    return _to_dataset(
        trade,
        tariff,
        inter,
        final_demand,
        factor_income,
        esubd,
        esubm,
        esubva,
        ["mobile", "mobile"],
        regions,
        sectors,
        ["labour", "capital"],
        pop,
        name=f"gtap_like_{R}x{N}_seed{seed}",
    )


def sparsity(ds: xr.Dataset) -> dict:
    """A few shape figures of a benchmark: share of zero routes, zero-output cells, zero tariffs."""
    trade = ds["trade"].values
    R = trade.shape[1]
    off = ~np.eye(R, dtype=bool)
    routes = trade[:, off]
    tar = ds["tariff"].values[:, off]
    Y0 = trade.sum(axis=2)
    goods = ~np.char.startswith(np.asarray(ds["sector"].values, dtype=str), "S")
    pos = (routes > 0) & goods[:, None]
    return {
        "zero_routes": float((routes == 0).mean()),
        "zero_output_cells": int((Y0 == 0).sum()),
        "zero_tariff_share_traded_goods": float((tar[pos] == 0).mean()) if pos.any() else float("nan"),
        "mean_tariff_traded_goods": float(tar[pos].mean()) if pos.any() else float("nan"),
        "max_tariff": float(tar.max()),
        "import_share_of_absorption": float(routes.sum() / (routes.sum() + np.einsum("irr->", trade))),
    }


if __name__ == "__main__":  # python bench/gtap_like.py [R N [seed]]: generate, check, time
    import resource
    import sys
    import time

    args = [int(a) for a in sys.argv[1:]]
    R, N, seed = (args + [141, 65, 0][len(args) :])[:3]
    t0 = time.perf_counter()
    ds = make_gtap_like(R, N, seed)
    t1 = time.perf_counter()
    import cge

    rep = cge.check_dataset(ds)
    t2 = time.perf_counter()
    print(
        f"{R}x{N} seed {seed}: generated in {t1 - t0:.2f} s, check_dataset {t2 - t1:.2f} s "
        f"({'ok' if rep.ok else 'FAILED'}), peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    for k, v in sparsity(ds).items():
        print(f"  {k}: {v:.4g}" if isinstance(v, float) else f"  {k}: {v}")
    if not rep.ok:
        print(rep.message(ds.attrs["name"]))
        sys.exit(1)
