"""The Pyomo model against MODEL.md section 6 and against the independent scipy reference."""

import numpy as np
import pyomo.environ as pyo
import pytest

import cge
from cge.model.benchmark import benchmark
from cge.scenario.scenario import Instruments
from cge.solve import max_residual
from tests.support.reference_model import solve_reference
from tests.support.synthetic import make_acr_dataset, make_dataset


def instruments(ds, tariff=None, tau=None, endowment=None, pnum=1.0):
    b = benchmark(ds)
    ins = Instruments.benchmark(b)
    if tariff is not None:
        ins.tariff = tariff
    if tau is not None:
        ins.tau = tau
    if endowment is not None:  # (factor, region) scale, like the reference
        ins.endowment = np.broadcast_to(endowment[:, None, :], b.F0.shape).copy()
    ins.pnum = pnum
    return ins


def close(a, b, rtol=1e-7, atol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    both = ~(np.isnan(a) | np.isnan(b))
    assert (np.isnan(a) == np.isnan(b)).all() or both.any()
    np.testing.assert_allclose(a[both], b[both], rtol=rtol, atol=atol)


def compare_with_reference(model, ds, **shock):
    res = model.solve(instruments(ds, **shock)).dataset
    ref = solve_reference(ds, **shock)
    assert ref["success"]
    close(res["price"], ref["PY"])
    close(res["output"], ref["Y"])
    close(res["income"], ref["INC"], rtol=1e-7)
    close(res["utility"], ref["U"])
    close(res["ev"], ref["EV"], rtol=1e-6, atol=1e-6 * float(np.abs(ref["INC"]).max()))
    close(res["trade_quantity"], ref["X"], rtol=1e-7, atol=1e-8 * float(ds["trade"].max()))
    close(res["tariff_revenue"], ref["tariff_revenue"], rtol=1e-7, atol=1e-8 * float(ref["INC"].max()))
    close(res["composite_price"], ref["PA"])
    return res, ref


@pytest.fixture(scope="module")
def syn():
    ds = make_dataset(n_regions=4, n_sectors=3, seed=3)
    return ds, cge.Model(ds)


def test_benchmark_replication(syn):
    ds, model = syn
    res = model.solve().dataset
    assert res.attrs["max_residual"] < 1e-8
    np.testing.assert_allclose(res["price"], 1.0, atol=1e-9)
    np.testing.assert_allclose(res["output"], 1.0, atol=1e-9)
    np.testing.assert_allclose(res["utility"], 1.0, atol=1e-9)
    np.testing.assert_allclose(res["trade_quantity"], ds["trade"], rtol=1e-9)
    np.testing.assert_allclose(res["ev"], 0.0, atol=1e-6)


def test_every_equation_holds_at_the_benchmark_point():
    """Calibration: with all variables at their benchmark values every residual is < 1e-8."""
    ds = make_dataset(n_regions=3, n_sectors=3, seed=7, factors=(("labour", "mobile"), ("land", "specific")))
    model = cge.Model(ds)
    model.core.reset_start()
    resid, where = max_residual(model.core.instance)
    assert resid < 1e-8, where


@pytest.mark.parametrize("shock", ["tariff", "tau", "endowment", "all"])
def test_shocks_match_the_independent_reference(syn, shock):
    ds, model = syn
    rng = np.random.default_rng(11)
    t = ds["tariff"].values.copy()
    kw = {}
    if shock in ("tariff", "all"):
        t[:, 0, 1] = 0.0
        t[:, 1, 0] *= 0.5
        t[:, 2, 0] += 0.15
        kw["tariff"] = t
    if shock in ("tau", "all"):
        tau = rng.uniform(0.8, 1.2, t.shape)
        kw["tau"] = tau
    if shock in ("endowment", "all"):
        kw["endowment"] = np.array([[1.0, 1.1, 0.95, 1.0], [1.2, 1.0, 1.0, 0.9]])
    res, ref = compare_with_reference(model, ds, **kw)
    assert abs(float(res["walras_residual"])) < 1e-7 * float(res["income"].sum())
    assert np.abs(res["ev"]).max() > 1e-3  # the shock does something


def test_specific_factors_and_unit_elasticities_match_reference():
    ds = make_dataset(
        n_regions=3, n_sectors=3, seed=5, factors=(("labour", "mobile"), ("land", "specific"), ("capital", "mobile"))
    )
    ds["esubva"][:] = [1.0, 0.0, 0.7]  # Cobb-Douglas, Leontief, CES
    ds["esubm"][:] = [1.0, 3.0, 2.0]
    ds["esubd"][:] = [1.0, 1.5, 0.5]
    model = cge.Model(ds)
    t = ds["tariff"].values * 0.3
    compare_with_reference(model, ds, tariff=t)
    compare_with_reference(model, ds, endowment=np.array([[1.1, 1, 1], [1, 0.8, 1], [1, 1, 1.3]]))


def test_zero_cells_match_reference():
    """A region that imports nothing of a good, and a sector one region does not produce."""
    ds = make_dataset(n_regions=3, n_sectors=3, seed=2)
    tr = ds["trade"].values
    tr[1, :, 2] = np.where(np.arange(3) == 2, tr[1, 2, 2], 0.0)  # R3 imports no S2
    tr[2, 0, :] = 0.0  # R1 makes no S3
    ds["trade"][:] = tr
    ds["intermediate"][:, 2, 0] = 0.0  # so it buys no inputs
    ds["factor_income"][:, 2, 0] = 0.0
    # restore the identities: final demand absorbs composite changes; VA = output - inputs
    b_off = ~np.eye(3, dtype=bool)[None]
    supply = np.einsum("irr->ir", tr) + (tr * b_off * (1 + ds["tariff"].values)).sum(axis=1)
    ds["final_demand"][:] = supply - ds["intermediate"].values.sum(axis=1)
    va = tr.sum(axis=2) - ds["intermediate"].values.sum(axis=0)
    fi = ds["factor_income"].values
    tot = fi.sum(axis=0)
    ds["factor_income"][:] = fi * np.divide(va, tot, out=np.zeros_like(va), where=tot > 0)[None]
    assert cge.check_dataset(ds).ok, cge.check_dataset(ds).problems
    model = cge.Model(ds)
    res, _ = compare_with_reference(model, ds, tariff=ds["tariff"].values * 0.5)
    assert np.isnan(res["price"].sel(sector="S3", region="R1"))


def test_homogeneity_in_the_numeraire(syn):
    ds, model = syn
    t = ds["tariff"].values * 0.5
    one = model.solve(instruments(ds, tariff=t)).dataset
    two = model.solve(instruments(ds, tariff=t, pnum=2.0)).dataset
    for v in ("price", "composite_price", "factor_price", "income", "tariff_revenue"):
        np.testing.assert_allclose(two[v], 2 * one[v], rtol=1e-8)
    for v in ("output", "trade_quantity", "utility", "ev", "ev_pct"):
        np.testing.assert_allclose(two[v], one[v], rtol=1e-8, atol=1e-8)


def test_walras_residual_small_after_a_large_shock(syn):
    ds, model = syn
    res = model.solve(instruments(ds, tariff=ds["tariff"].values * 3, tau=np.full(ds["tariff"].shape, 1.3))).dataset
    assert abs(float(res["walras_residual"])) < 1e-7 * float(res["income"].sum())
    assert res.attrs["walras_residual_relative"] < 1e-7


@pytest.mark.parametrize("sigma", [0.5, 2.0, 4.0, 8.0])
def test_arkolakis_costinot_rodriguez_clare(sigma):
    """One sector, no intermediates, one factor, no tariffs, balanced trade: U = (lambda1/lambda0)^(1/(1-sigma))."""
    ds = make_acr_dataset(n_regions=3, sigma=sigma, seed=1)
    model = cge.Model(ds)
    tau = np.random.default_rng(4).uniform(0.7, 1.3, ds["trade"].shape)
    res = model.solve(instruments(ds, tau=tau)).dataset
    tr0 = ds["trade"].values[0]
    lam0 = np.diag(tr0) / tr0.sum(axis=0)
    PY = res["price"].values[0]
    q = res["trade_quantity"].values[0]  # delivered volumes, diagonal = D
    spend = PY[:, None] * np.where(np.eye(3, dtype=bool), 1.0, tau[0]) * q
    lam1 = np.diag(spend) / spend.sum(axis=0)
    np.testing.assert_allclose(res["utility"].values, (lam1 / lam0) ** (1 / (1 - sigma)), rtol=1e-8)
    assert np.abs(res["utility"].values - 1).max() > 1e-3


def test_order_of_regions_and_sectors_does_not_matter(syn):
    ds, model = syn
    t = ds["tariff"].values * 0.4
    base = model.solve(instruments(ds, tariff=t)).dataset
    rp, sp = [2, 0, 3, 1], [1, 2, 0]
    R, S = ds["region"].values[rp], ds["sector"].values[sp]
    ds2 = ds.sel(region=R, source=R, dest=R, sector=S, user=S)
    model2 = cge.Model(ds2)
    assert model2.core.dropped == model.core.dropped
    t2 = ds["tariff"].copy(data=t).sel(sector=S, source=R, dest=R).values
    res2 = model2.solve(instruments(ds2, tariff=t2)).dataset
    for v in ("ev", "price", "output", "trade_quantity", "factor_price", "tariff_revenue"):
        a = base[v].sel({d: res2[d] for d in res2[v].dims})
        np.testing.assert_allclose(res2[v].values, a.values, rtol=1e-9, atol=1e-9)


def test_set_and_resolve_changes_parameters_only(syn):
    """Re-solving after a shock does not rebuild: the same Pyomo instance, mutable parameters."""
    ds, model = syn
    inst = model.core.instance
    model.solve(instruments(ds, tariff=ds["tariff"].values * 0))
    assert model.core.instance is inst
    assert all(pyo.value(v) == 0 for v in inst.t.values())
    res = model.solve().dataset
    np.testing.assert_allclose(res["utility"], 1.0, atol=1e-9)
