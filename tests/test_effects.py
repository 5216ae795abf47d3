"""Effects of MODEL.md section 8 on cases whose answers are known by hand, and accounting checks."""

import numpy as np
import pytest

import cge
from cge.model.benchmark import benchmark
from cge.results.effects import coefficient_of_variation, krugman_index, trade_effects
from cge.scenario.scenario import Instruments
from tests.support.synthetic import make_dataset

MEMBER = np.array([True, True, False])  # R1, R2 members; R3 outside


def route(dX, s, r, v, sector=0):
    dX[sector, s, r] = v
    return dX


def test_pure_trade_diversion():
    """R2 switches 10 of imports from the outsider R3 to its partner R1; total imports unchanged."""
    dX = np.zeros((1, 3, 3))
    route(dX, 0, 1, 10.0)
    route(dX, 2, 1, -10.0)
    TC, TD, ETC = trade_effects(dX, MEMBER)
    assert TD[0, 1] == 10 and TC[0, 1] == 0 and ETC[0, 1] == 0
    assert np.isnan(TD[0, 2])  # defined for members only


def test_pure_trade_creation():
    """R1 buys 7 more from its partner R2, nothing changes with the outsider."""
    dX = route(np.zeros((1, 3, 3)), 1, 0, 7.0)
    TC, TD, ETC = trade_effects(dX, MEMBER)
    assert TC[0, 0] == 7 and TD[0, 0] == 0 and ETC[0, 0] == 0


@pytest.mark.parametrize(
    "din,dout,tc,td,etc",
    [
        (5.0, -3.0, 2.0, 3.0, 0.0),  # partly creation, partly diversion
        (2.0, -5.0, 0.0, 2.0, 0.0),  # diversion capped by the partner gain
        (4.0, 6.0, 4.0, 0.0, 6.0),  # external trade creation
        (-3.0, -1.0, 0.0, 0.0, 0.0),  # trade destruction is neither
    ],
)
def test_mixed_cases(din, dout, tc, td, etc):
    dX = np.zeros((2, 3, 3))
    route(dX, 1, 0, din, sector=1)
    route(dX, 2, 0, dout, sector=1)
    TC, TD, ETC = trade_effects(dX, MEMBER)
    assert (TC[1, 0], TD[1, 0], ETC[1, 0]) == (tc, td, etc)
    assert TC[0, 0] == TD[0, 0] == ETC[0, 0] == 0


def test_krugman_index_and_cv_by_hand():
    out = np.array([[2.0, 1.0], [2.0, 3.0]])  # (sector, region): shares (0.5, 0.5) and (0.25, 0.75)
    K = krugman_index(out)
    assert K[0, 1] == pytest.approx(0.5) and K[1, 0] == pytest.approx(0.5) and K[0, 0] == 0
    assert coefficient_of_variation(np.array([1.0, 3.0])) == pytest.approx(0.5)


@pytest.fixture(scope="module")
def model():
    ds = make_dataset(n_regions=4, n_sectors=3, seed=8)
    return ds, cge.Model(ds)


def sc(ds, stage, **opts):
    body = {
        "name": "x",
        "union": {"members": ["R1", "R2"]},
        "stage": stage,
        "stage_options": opts,
        "shocks": [{"endowment": {"factor": "capital", "region": ["R1"], "scale": 1.2}}],
    }
    s = cge.Scenario.from_dict(body)
    return s


PARTS = [
    "welfare_allocative_members",
    "welfare_allocative_nonmembers",
    "welfare_terms_of_trade",
    "welfare_endowment",
    "welfare_revenue_transfer",
]


@pytest.mark.parametrize(
    "stage,opts",
    [
        ("fta", {}),
        ("customs_union", {"revenue_sharing": "gdp"}),
        ("common_market", {"mobile_factors": ["capital"]}),
        ("full_integration", {"border_cost": 0.3}),
    ],
)
def test_decomposition_adds_up_to_ev(model, stage, opts):
    ds, m = model
    res = m.solve(sc(ds, stage, **opts)).dataset
    total = sum(res[p] for p in PARTS)
    ev = res["ev"].values
    tol = np.maximum(0.01 * np.abs(ev), 1e-4 * res["income0"].values)
    assert (np.abs(total.values - ev) <= tol).all(), (total.values, ev)
    np.testing.assert_allclose(res["welfare_decomposition_residual"], ev - total.values)
    # tariff revenue transfers net out within the union (in money; the EV parts are deflated by PU)
    transfer = res["tariff_revenue_received"] - res["tariff_revenue"]
    assert abs(float(transfer.sum())) < 1e-9 * float(res["income"].sum())
    assert (res["welfare_revenue_transfer"].sel(region=["R3", "R4"]) == 0).all()


def test_decomposition_converges_with_steps(model):
    ds, m = model
    s = sc(ds, "common_market", mobile_factors=["capital"])
    r2 = m.solve(s, steps=2).dataset["welfare_decomposition_residual"].values
    r8 = m.solve(s, steps=8).dataset["welfare_decomposition_residual"].values
    assert np.abs(r8).max() < np.abs(r2).max() / 10


def test_no_tariffs_no_allocative_effect_and_world_terms_of_trade_net_out():
    ds = make_dataset(n_regions=3, n_sectors=2, seed=4, tariffs=False)
    m = cge.Model(ds)
    ins = Instruments.benchmark(benchmark(ds))
    ins.endowment[0, :, 0] = 1.3  # more labour in R1
    res = m.solve(ins).dataset
    assert np.abs(res["welfare_allocative_members"] + res["welfare_allocative_nonmembers"]).max() < 1e-9
    # with trade costs unchanged, export gains of one are import losses of another (in money terms)
    tot_money = res["welfare_terms_of_trade"] * res["utility_price"]  # roughly undeflated
    assert abs(float(res["welfare_terms_of_trade"].sum())) < 0.05 * float(np.abs(res["welfare_terms_of_trade"]).sum())
    assert np.isfinite(tot_money).all()


def test_first_order_agrees_with_the_path_for_a_small_shock(model):
    ds, m = model
    ins = Instruments.benchmark(benchmark(ds))
    ins.tariff = ins.tariff * 0.99
    res = m.solve(ins).dataset
    for part in ("allocative_nonmembers", "terms_of_trade"):
        path, one = res[f"welfare_{part}"].values, res[f"welfare_first_order_{part}"].values
        np.testing.assert_allclose(one, path, rtol=0.05, atol=1e-3 * np.abs(res["ev"]).max())


def test_effect_variables_are_in_the_results(model):
    ds, m = model
    res = m.solve(sc(ds, "fta")).dataset
    for v in [
        "trade_creation",
        "trade_diversion",
        "external_trade_creation",
        "terms_of_trade",
        "real_gdp",
        "factor_use",
        "factor_price",
        "tariff_revenue",
        "krugman_index",
        "krugman_index0",
        "income_per_capita_cv_members",
        "income_per_capita_cv_members0",
    ] + PARTS:
        assert v in res, v
    assert res["trade_creation"].dims == ("sector", "region")
    assert np.isnan(res["trade_creation"].sel(region="R3")).all()
    # creation and diversion are computed from the change in delivered volumes
    dX = res["trade_quantity"] - ds["trade"]
    r1_in = float(dX.sel(source="R2", dest="R1").sum())
    tc = float(res["trade_creation"].sel(region="R1").sum()) + float(res["trade_diversion"].sel(region="R1").sum())
    assert tc <= max(r1_in, 0) + 1e-9
    # an FTA cuts tariffs between members: imports from the partner rise in every sector
    assert (dX.sel(source="R2", dest="R1") > 0).all()
