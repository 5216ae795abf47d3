"""Tests of the independent reference model (tests/reference_model.py) itself."""
import numpy as np
import pytest

from tests.support.reference_model import solve_reference
from tests.support.synthetic import dataset_variants as _dataset_variants, make_acr_dataset, make_dataset

PRICES = ("PY", "PA", "PM", "PVA", "PU", "INC", "W", "Wspec")
QUANTITIES = ("Y", "X", "C", "FD", "U", "EV")


def _identities(ds):
    tr, t = ds.trade.values, ds.tariff.values
    R = tr.shape[1]
    off = ~np.eye(R, dtype=bool)
    supply = np.einsum("irr->ir", tr) + np.einsum("isr,isr->ir", tr * off, 1 + t)
    use = ds.intermediate.values.sum(axis=1) + ds.final_demand.values
    cost = ds.intermediate.values.sum(axis=0) + ds.factor_income.values.sum(axis=0)
    return supply, use, tr.sum(axis=2), cost


def _rebalance(ds):
    """Restore both identities after editing trade: final demand absorbs composite changes,
    factor income is scaled to the new value added."""
    ds = ds.copy(deep=True)
    supply, _, Y0, _ = _identities(ds)
    ds["final_demand"][:] = supply - ds.intermediate.values.sum(axis=1)
    va = Y0 - ds.intermediate.values.sum(axis=0)
    old = ds.factor_income.values.sum(axis=0)
    ds["factor_income"][:] = ds.factor_income.values * np.divide(va, old, out=np.zeros_like(va),
                                                                 where=old > 0)[None]
    assert (ds.final_demand.values >= 0).all() and (ds.factor_income.values >= 0).all()
    return ds


def _tariff_shock(ds):
    t = ds.tariff.values.copy()
    t[:, 0, 1] = 0.0            # R2 frees imports from R1
    t[:, 1, 0] *= 0.5           # R1 halves tariffs on R2
    t[:, 2, 0] += 0.1           # and raises them on R3
    return t


def _balance_of_payments(r, t, pnum):
    """Per region: imports at fob prices - exports at fob prices = B * pnum (needs all markets,
    including the dropped one, to clear). t: the tariffs in force."""
    X, PG = r["X"], r["PG"]
    fob = np.where(np.isnan(PG), 0.0, PG / (1 + t)) * X  # PY_s * tau * X; PG is NaN on the diagonal
    return fob.sum(axis=(0, 1)) - fob.sum(axis=(0, 2)) - r["B"] * pnum



@pytest.mark.parametrize("name", list(_dataset_variants()))
def test_synthetic_identities(name):
    ds = _dataset_variants()[name]
    supply, use, output, cost = _identities(ds)
    assert np.allclose(supply, use, rtol=1e-12, atol=0)
    assert np.allclose(output, cost, rtol=1e-12, atol=0)
    for v in ("trade", "intermediate", "final_demand", "factor_income"):
        if name != "no_intermediates_no_tariffs" or v != "intermediate":
            assert (ds[v].values > 0).all(), v


def test_balanced_trade_datasets():
    r = solve_reference(make_dataset(4, 3, seed=5, balanced_trade=True))
    assert np.max(np.abs(r["B"])) < 1e-10
    r = solve_reference(make_acr_dataset(4))
    assert np.max(np.abs(r["B"])) < 1e-10
    assert np.max(np.abs(solve_reference(make_dataset(seed=5))["B"])) > 1e-3  # default: unbalanced


@pytest.mark.parametrize("name", list(_dataset_variants()))
def test_replication(name):
    ds = _dataset_variants()[name]
    r = solve_reference(ds)
    assert r["max_residual"] < 1e-10
    assert abs(r["walras_residual"]) < 1e-10 * r["INC0"].sum()
    for k in ("PY", "PA", "PVA", "PU", "W", "Wspec", "Y", "U"):
        v = r[k][~np.isnan(r[k])]
        assert np.allclose(v, 1.0, atol=1e-10), k
    assert np.allclose(r["INC"], r["INC0"], rtol=1e-10)
    assert np.allclose(r["EV"], 0.0, atol=1e-8)
    assert np.allclose(r["X"], ds.trade.values, rtol=1e-10)  # benchmark-value units
    # PM = 1 only with zero tariffs; in general the calibrated PM is 1 by construction (PG/PG0 = 1)
    assert np.allclose(r["PM"], 1.0, atol=1e-10)


@pytest.mark.parametrize("name", list(_dataset_variants()))
def test_homogeneity(name):
    ds = _dataset_variants()[name]
    t = _tariff_shock(ds)
    r1 = solve_reference(ds, tariff=t, pnum=1.0)
    r2 = solve_reference(ds, tariff=t, pnum=2.0)
    for k in PRICES + ("tariff_revenue",):
        assert np.allclose(r2[k], 2 * r1[k], rtol=1e-9, equal_nan=True), k
    for k in QUANTITIES:
        assert np.allclose(r2[k], r1[k], rtol=1e-9, atol=1e-9, equal_nan=True), k
    assert not np.allclose(r1["U"], 1.0, atol=1e-6)  # the shock does something


@pytest.mark.parametrize("name", list(_dataset_variants()))
def test_walras_after_tariff_shock(name):
    ds = _dataset_variants()[name]
    r = solve_reference(ds, tariff=_tariff_shock(ds))
    assert r["success"] and r["max_residual"] < 1e-10
    assert abs(r["walras_residual"]) < 1e-7 * r["INC"].sum()
    assert np.max(np.abs(_balance_of_payments(r, _tariff_shock(ds), 1.0))) < 1e-8 * r["INC"].sum()
    # income = expenditure, and the tariff revenue is the wedge on delivered imports
    assert np.allclose((r["PA"] * r["C"]).sum(axis=0), r["INC"], rtol=1e-12)
    off = ~np.eye(ds.sizes["region"], dtype=bool)[None]
    t = np.where(off, _tariff_shock(ds), 0)
    rev = np.nansum(np.where(off, r["PG"] * t / (1 + t) * r["X"], 0), axis=(0, 1))
    assert np.allclose(rev, r["tariff_revenue"], rtol=1e-12)


def test_walras_iceberg_and_endowment_shocks():
    ds = make_dataset(4, 3, (("labour", "mobile"), ("capital", "specific")), seed=7)
    rng = np.random.default_rng(0)
    tau = rng.uniform(0.8, 1.2, ds.trade.shape)
    endow = rng.uniform(0.9, 1.1, ds.factor_income.shape[::2])
    r = solve_reference(ds, tau=tau, endowment=endow)
    assert r["max_residual"] < 1e-10 and abs(r["walras_residual"]) < 1e-7 * r["INC"].sum()
    assert np.max(np.abs(_balance_of_payments(r, ds.tariff.values, 1.0))) < 1e-8 * r["INC"].sum()
    # factor markets: mobile demand = scaled endowment, specific demand = scaled F0
    F0 = ds.factor_income.values
    assert np.allclose(r["FD"][0].sum(axis=0), endow[0] * F0[0].sum(axis=0), rtol=1e-9)
    assert np.allclose(r["FD"][1], endow[1][None] * F0[1], rtol=1e-9)


@pytest.mark.parametrize("sigma", [2.0, 4.0, 8.0, 0.5])
def test_acr_formula(sigma):
    ds = make_acr_dataset(4, sigma=sigma, seed=3)
    rng = np.random.default_rng(1)
    tau = rng.uniform(0.7, 1.3, ds.trade.shape)
    r = solve_reference(ds, tau=tau)
    assert r["max_residual"] < 1e-10

    def domestic_share(X, PG, PY):
        dom = np.einsum("irr->ir", X) * PY
        imp = np.nansum(np.where(np.isnan(PG), 0, PG * X), axis=1)
        return (dom / (dom + imp))[0]

    lam0 = domestic_share(ds.trade.values, np.where(np.eye(4, dtype=bool), np.nan, 1.0)[None],
                          np.ones((1, 4)))
    lam1 = domestic_share(r["X"], r["PG"], r["PY"])
    assert np.allclose(r["U"], (lam1 / lam0) ** (1 / (1 - sigma)), rtol=1e-9)
    assert not np.allclose(r["U"], 1.0, atol=1e-4)


def test_zero_cells():
    """No imports of S1 into R1 (thD = 1, no PM), no production of S2 in R3 (no PY, Y),
    a specific factor absent from one sector."""
    ds = make_dataset(3, 3, (("labour", "mobile"), ("capital", "specific")), seed=4)
    tr = ds["trade"].values
    tr[0, 1:, 0] = 0.0
    tr[1, 2, :] = 0.0
    ds["intermediate"][:, 1, 2] = 0.0
    ds["intermediate"][1, :, 2] *= 0.1
    ds["factor_income"][1, 2, 1] = 0.0
    ds = _rebalance(ds)
    r0 = solve_reference(ds)
    assert r0["max_residual"] < 1e-10
    assert np.isnan(r0["PM"][0, 0]) and np.isnan(r0["PY"][1, 2]) and np.isnan(r0["Y"][1, 2])
    assert np.isnan(r0["Wspec"][1, 2, 1]) and np.all(np.isnan(r0["W"][1]))
    assert np.allclose(np.nan_to_num(r0["PY"], nan=1.0), 1.0, atol=1e-10)
    r = solve_reference(ds, tariff=_tariff_shock(ds), endowment=np.array([[1.1, 1, 1], [1, 0.9, 1]]))
    assert r["success"] and r["max_residual"] < 1e-10
    assert abs(r["walras_residual"]) < 1e-7 * r["INC"].sum()
    assert np.all(np.isfinite(r["U"]))
    assert np.allclose(r["X"][0, 1:, 0], 0.0) and np.allclose(r["X"][1, 2, :], 0.0)


@pytest.mark.parametrize("which", ["esubva", "esubd", "esubm"])
def test_cobb_douglas_limit(which):
    """sigma exactly 1 uses the Cobb-Douglas form; it must agree with sigma = 1 +- 1e-6 (the general
    CES form is ill-conditioned that close to 1: exponent 1/(1-sigma) = 1e6)."""
    ds = make_dataset(3, 2, seed=6)
    t = _tariff_shock(ds)
    res = {}
    for s in (1.0 - 1e-6, 1.0, 1.0 + 1e-6):
        d = ds.copy(deep=True)
        d[which][0] = s
        res[s] = solve_reference(d, tariff=t)
        assert res[s]["max_residual"] < (1e-10 if s == 1.0 else 1e-7)
    assert not np.allclose(res[1.0]["U"], 1.0, atol=1e-4)
    for k in ("PY", "W", "U", "Y"):
        assert np.allclose(res[1.0][k], res[1.0 - 1e-6][k], rtol=1e-5)
        assert np.allclose(res[1.0][k], res[1.0 + 1e-6][k], rtol=1e-5)
        assert not np.allclose(res[1.0 - 1e-6][k], res[1.0 + 1e-6][k], rtol=1e-13, atol=0)


def test_leontief_limit():
    ds = make_dataset(3, 2, seed=8)
    ds["esubva"][0] = 0.0
    ds["esubd"][1] = 0.0
    r0 = solve_reference(ds)
    assert r0["max_residual"] < 1e-10 and np.allclose(r0["PY"], 1.0)
    r = solve_reference(ds, tariff=_tariff_shock(ds))
    assert r["max_residual"] < 1e-10 and abs(r["walras_residual"]) < 1e-7 * r["INC"].sum()
    # Leontief value added: factor ratios unchanged in sector 1
    ratio = r["FD"][:, 0] / ds.factor_income.values[:, 0]
    assert np.allclose(ratio, ratio[0:1], rtol=1e-9)


def test_order_invariance():
    ds = make_dataset(4, 3, (("labour", "mobile"), ("capital", "specific")), seed=9)
    t = _tariff_shock(ds)
    r = solve_reference(ds, tariff=t)
    pr, ps = np.array([2, 0, 3, 1]), np.array([1, 2, 0])
    dp = ds.isel(region=pr, source=pr, dest=pr, sector=ps, user=ps)
    rp = solve_reference(dp, tariff=t[np.ix_(ps, pr, pr)])
    assert np.allclose(rp["PY"], r["PY"][np.ix_(ps, pr)], rtol=1e-9)
    assert np.allclose(rp["EV"], r["EV"][pr], rtol=1e-8)
    assert np.allclose(rp["X"], r["X"][np.ix_(ps, pr, pr)], rtol=1e-9)
    assert np.allclose(rp["Wspec"], r["Wspec"][np.ix_([0, 1], ps, pr)], rtol=1e-9, equal_nan=True)


def test_zero_value_added():
    """A sector with no value added (PVA undefined): zero profit covers intermediates only."""
    ds = make_dataset(3, 3, seed=11)
    Y0 = ds.trade.values.sum(axis=2)
    I = ds.intermediate.values
    ds["factor_income"][:, 0, 1] = 0.0
    ds["intermediate"][:, 0, 1] = I[:, 0, 1] * Y0[0, 1] / I[:, 0, 1].sum()
    ds = _rebalance(ds)
    r0 = solve_reference(ds)
    assert r0["max_residual"] < 1e-10 and np.isnan(r0["PVA"][0, 1])
    r = solve_reference(ds, tariff=_tariff_shock(ds))
    assert r["max_residual"] < 1e-10 and abs(r["walras_residual"]) < 1e-7 * r["INC"].sum()
    assert np.allclose(r["FD"][:, 0, 1], 0.0)
