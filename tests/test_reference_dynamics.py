"""Tests of the independent reference of docs/dynamics.md (tests/support/reference_dynamics.py) itself.

These are issue 14's analytic tests, run on the reference; the same cases, run on the package,
check its implementation. Each one can fail: they compare against the core reference, closed-form
results (Armington, Arkolakis-Costinot-Rodriguez-Clare, the closed Krugman economy, the steady
state of a homogeneous economy) and accounting identities the reference does not impose directly.
"""

import numpy as np
import pytest

from tests.support.reference_dynamics import PARTS, decompose_path, solve_dynamics
from tests.support.reference_model import solve_reference
from tests.support.synthetic import _to_dataset, dataset_variants, make_acr_dataset, make_dataset

CORE_KEYS = ("PY", "Y", "W", "Wspec", "PA", "PM", "PVA", "PU", "INC", "U", "EV", "C", "FD", "tariff_revenue")
SPEC2 = (("labour", "mobile"), ("capital", "specific"))
KRUGMAN_MELITZ = {
    "scale_economies": {"S1": "krugman", "S2": "melitz"},
    "firm_elasticity": {"S2": 4.0},
    "pareto_shape": {"S2": 4.6},
}
STEADY = {"capital": {"closure": "steady_state", "depreciation": 0.05, "rate_of_return": 0.05}}
OPTION_SETS = {
    "krugman": {"scale_economies": "krugman"},
    "melitz": {"scale_economies": "melitz", "firm_elasticity": 4.0, "pareto_shape": 4.6},
    "krugman_melitz": KRUGMAN_MELITZ,
    "steady_none": STEADY,
    "steady_world": {"capital": dict(STEADY["capital"], international="world")},
    "steady_union": {"capital": dict(STEADY["capital"], international="union"), "members": [True, True, False]},
    "steady_world_specific": {
        "capital": dict(STEADY["capital"], international="world"),
        "scale_economies": {"S1": "melitz"},
        "pareto_shape": {"S1": 9.0},
    },
    "all": dict(
        KRUGMAN_MELITZ,
        capital=dict(STEADY["capital"], international="union"),
        members=[True, True, False],
        trade_balance="world_income",
    ),
}


def _tariff_shock(ds):
    t = ds.tariff.values.copy()
    t[:, 0, 1] = 0.0
    t[:, 1, 0] *= 0.5
    t[:, 2, 0] += 0.1
    return t


def _close(a, b, rtol, atol=0.0):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def _one_region(L=1.0, sigma=4.0, capital_share=None):
    """A closed economy: one region, one sector, no intermediates, labour (and capital) only."""
    fi = (
        np.array([[[100.0 * L]]])
        if capital_share is None
        else np.array([[[100.0 * (1 - capital_share)]], [[100.0 * capital_share]]])
    )
    factors = ["labour"] if capital_share is None else ["labour", "capital"]
    Y0 = fi.sum()
    return _to_dataset(
        np.array([[[Y0]]]),
        np.zeros((1, 1, 1)),
        np.zeros((1, 1, 1)),
        np.array([[Y0]]),
        fi,
        [sigma],
        [sigma],
        [1.0],
        ["mobile"] * len(factors),
        ["R1"],
        ["S1"],
        factors,
    )


# ---------------------------------------------------------------------------------------------
# neutral options = the core; replication; homogeneity
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(dataset_variants()))
def test_neutral_options_equal_core(name):
    ds = dataset_variants()[name]
    rng = np.random.default_rng(1)
    kw = {
        "tariff": _tariff_shock(ds),
        "tau": rng.uniform(0.85, 1.15, ds.trade.shape),
        "endowment": rng.uniform(0.9, 1.1, (ds.sizes["factor"], ds.sizes["region"])),
    }
    core = solve_reference(ds, **kw)
    explicit = {"scale_economies": "none", "capital": {"closure": "fixed", "international": "world"}}
    for dyn in (solve_dynamics(ds, **kw), solve_dynamics(ds, **explicit, **kw)):
        assert dyn["success"] and dyn["max_residual"] < 1e-10
        for k in CORE_KEYS:
            ref = dyn["F"] if k == "C" else dyn[k]
            assert _close(ref, core[k], rtol=1e-11, atol=1e-11), k
        assert _close(dyn["x"], core["X"], rtol=1e-11, atol=1e-11)
        assert np.all(np.isnan(dyn["firms"])) and np.all(np.isnan(dyn["capital_index"]))
    assert not np.allclose(core["U"], 1.0, atol=1e-4)


@pytest.mark.parametrize("case", list(OPTION_SETS))
def test_replication(case):
    ds = make_dataset(3, 2, SPEC2, seed=4) if case.endswith("specific") else make_dataset(3, 2, seed=4)
    r = solve_dynamics(ds, **OPTION_SETS[case])
    assert r["success"] and r["max_residual"] < 1e-10
    assert abs(r["walras_residual"]) < 1e-10 * r["INC0"].sum()
    for k in ("PY", "Y", "firms", "firms_route", "productivity", "capital_index", "W", "Wspec", "PA", "PU", "U"):
        v = np.asarray(r[k])[~np.isnan(r[k])]
        assert np.allclose(v, 1.0, atol=1e-10), k
    assert np.allclose(r["x"], ds.trade.values, rtol=1e-10) and np.allclose(r["EV"], 0.0, atol=1e-8)
    assert np.allclose(r["gdp"], r["gnp"], rtol=1e-12)


@pytest.mark.parametrize("case", ["krugman_melitz", "steady_world", "all"])
def test_homogeneity(case):
    ds = make_dataset(3, 2, seed=4)
    kw = dict(OPTION_SETS[case], tariff=_tariff_shock(ds))
    r1, r2 = solve_dynamics(ds, pnum=1.0, **kw), solve_dynamics(ds, pnum=2.0, **kw)
    for k in ("PY", "W", "PA", "PU", "INC", "gdp", "gnp", "investment"):
        assert _close(r2[k], 2 * np.asarray(r1[k]), rtol=1e-9), k
    for k in ("Y", "firms", "firms_route", "capital_index", "x", "U", "EV"):
        assert _close(r2[k], r1[k], rtol=1e-9, atol=1e-9), k
    assert not np.allclose(r1["U"], 1.0, atol=1e-4)


# ---------------------------------------------------------------------------------------------
# scale economies: Armington, ACR, firms, the closed economy
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 3])
def test_krugman_one_sector_one_factor_is_armington(seed):
    """One sector, one factor: the number of firms is fixed by the labour force, so Krugman is
    Armington with the same elasticities, for any trade-cost and tariff shock (here with tariffs,
    intermediates and esubd != esubm)."""
    ds = make_dataset(3, 1, (("labour", "mobile"),), seed=seed)
    rng = np.random.default_rng(seed)
    kw = {"tau": rng.uniform(0.7, 1.2, ds.trade.shape), "tariff": _tariff_shock(ds)}
    core = solve_reference(ds, **kw)
    for sigma in (None, 3.0, 9.0):
        k = solve_dynamics(ds, scale_economies="krugman", firm_elasticity=sigma, **kw)
        assert k["success"]
        assert np.allclose(k["firms"], 1.0, atol=1e-11)
        for key in ("U", "EV", "PY", "W", "INC"):
            assert _close(k[key], core[key], rtol=1e-10, atol=1e-10), key
    assert not np.allclose(core["U"], 1.0, atol=1e-3)


@pytest.mark.parametrize("kind", ["krugman", "melitz"])
@pytest.mark.parametrize("seed", [0, 1])
def test_acr_formula(kind, seed):
    """U = lambda_hat^(-1/epsilon), epsilon = sigma - 1 (Krugman) or the Pareto shape (Melitz)."""
    sigma, shape = 4.0, 5.0
    ds = make_acr_dataset(4, sigma=sigma, seed=seed)
    rng = np.random.default_rng(seed)
    tau = rng.uniform(0.7, 1.3, ds.trade.shape)
    r = solve_dynamics(ds, scale_economies=kind, pareto_shape=shape if kind == "melitz" else None, tau=tau)
    assert r["success"]
    lam0 = np.diagonal(ds.trade.values[0]) / ds.trade.values[0].sum(axis=0)
    eps = sigma - 1.0 if kind == "krugman" else shape
    assert np.allclose(r["U"], (r["domestic_share"][0] / lam0) ** (-1.0 / eps), rtol=1e-9)
    assert not np.allclose(r["U"], 1.0, atol=1e-3)
    if kind == "melitz":  # the Armington formula with sigma would give something else
        assert not np.allclose(r["U"], (r["domestic_share"][0] / lam0) ** (-1.0 / (sigma - 1.0)), rtol=1e-3)


@pytest.mark.parametrize("case", ["krugman", "melitz", "krugman_melitz"])
def test_output_per_firm_constant(case):
    """Constant markups: output per firm (bundle use per firm or entrant) stays at its benchmark,
    while the number of firms moves; in Krugman also the physical output per firm."""
    ds = make_dataset(3, 2, seed=5)
    rng = np.random.default_rng(5)
    r = solve_dynamics(ds, **OPTION_SETS[case], tariff=_tariff_shock(ds), tau=rng.uniform(0.8, 1.1, ds.trade.shape))
    assert r["success"]
    assert np.nanmax(np.abs(r["firms"] - 1.0)) > 1e-3
    assert np.allclose(r["output_per_firm"][~np.isnan(r["firms"])], 1.0, atol=1e-10)
    kr = np.array(["S1" in case or case == "krugman"] + [case == "krugman"])
    assert np.allclose(r["firm_output_per_firm"][kr], 1.0, atol=1e-10)


def test_melitz_selection_identities():
    """Section 3: the mass serving a route is entrants x cut-off^(-a); average productivity moves
    with the cut-off; sales per entrant in bundle units stay constant."""
    ds = make_dataset(3, 2, seed=6)
    a = 4.6
    r = solve_dynamics(ds, scale_economies="melitz", firm_elasticity=4.0, pareto_shape=a, tariff=_tariff_shock(ds))
    assert r["success"]
    ratio = r["firms_route"] / r["firms"][:, :, None]
    assert np.allclose(r["productivity"], ratio ** (-1.0 / a), rtol=1e-12)
    rev = r["revenue"].sum(axis=2) / (r["PY"] * r["firms"] * ds.trade.values.sum(axis=2))
    assert np.allclose(rev, 1.0, atol=1e-10)
    assert np.nanmax(np.abs(r["productivity"] - 1)) > 1e-3


@pytest.mark.parametrize("kind", ["krugman", "melitz"])
def test_closed_economy_scale(kind):
    """A closed economy with one scale-economy sector: utility per worker ~ L^(1/(sigma-1))."""
    sigma = 4.0
    ds = _one_region(sigma=sigma)
    for x in (0.1, 0.5, -0.3):
        r = solve_dynamics(
            ds, scale_economies=kind, pareto_shape=5.0 if kind == "melitz" else None, endowment=[[1.0 + x]]
        )
        assert r["success"]
        assert np.allclose(r["U"] / (1.0 + x), (1.0 + x) ** (1.0 / (sigma - 1.0)), rtol=1e-10)
        assert np.allclose(r["firms"], 1.0 + x, rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# steady-state capital
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("factors", [(("labour", "mobile"), ("capital", "mobile")), SPEC2], ids=["mobile", "specific"])
@pytest.mark.parametrize("intl", ["none", "world"])
def test_steady_state_scaling(factors, intl):
    """World-income trade balances, labour x (1+x) everywhere: EV% = 100 x exactly, K x (1+x);
    with capital fixed the gain is smaller."""
    ds = make_dataset(3, 3, factors, seed=8)
    x = 0.1
    E = np.ones((2, 3))
    E[0] = 1.0 + x
    cap = {"closure": "steady_state", "depreciation": 0.07, "rate_of_return": 0.04, "international": intl}
    r = solve_dynamics(ds, capital=cap, endowment=E, trade_balance="world_income")
    assert r["success"]
    assert np.allclose(r["EV_pct"], 100 * x, rtol=1e-9)
    assert np.allclose(r["capital_index"][~np.isnan(r["capital_index"])], 1.0 + x, rtol=1e-10)
    bench = solve_dynamics(ds, capital=cap, trade_balance="world_income")
    assert np.allclose(r["investment"], (1 + x) * bench["investment"], rtol=1e-9)
    assert np.allclose(r["consumption"], (1 + x) * bench["consumption"], rtol=1e-9)
    fixed = solve_dynamics(ds, endowment=E, trade_balance="world_income")
    assert np.all(fixed["EV_pct"] < 100 * x - 1.0) and np.all(fixed["EV_pct"] > 0)


def test_steady_state_one_sector_output():
    """One sector, Cobb-Douglas value added with capital share alpha[r]: labour x (1+x) raises
    output by (1+x) in the steady state and by (1+x)^(1-alpha) with capital fixed."""
    ds = make_dataset(3, 1, seed=9)
    ds["esubva"][:] = 1.0
    x = 0.2
    E = np.array([[1.0 + x] * 3, [1.0] * 3])
    F0 = ds.factor_income.values[:, 0, :]
    alpha = F0[1] / F0.sum(axis=0)
    fixed = solve_dynamics(ds, endowment=E, trade_balance="world_income")
    steady = solve_dynamics(ds, endowment=E, trade_balance="world_income", capital={"closure": "steady_state"})
    assert np.allclose(fixed["Y"][0], (1 + x) ** (1 - alpha), rtol=1e-10)
    assert np.allclose(steady["Y"][0], 1 + x, rtol=1e-10)
    closed = _one_region(capital_share=0.3)  # a closed economy: no balanced-growth assumption needed
    c = solve_dynamics(closed, endowment=[[1 + x], [1.0]], capital={"closure": "steady_state"})
    assert np.allclose(c["Y"], 1 + x, rtol=1e-10) and np.allclose(c["EV_pct"], 100 * x, rtol=1e-9)


def test_steady_state_capital_mobility_irrelevant():
    """Section 4.2: the rental rule equalises every cell's rental rate to PI, so mobile and
    sector-specific capital give the same steady state."""
    kw = {"capital": {"closure": "steady_state", "international": "world"}}
    a = make_dataset(3, 3, seed=10)
    b = a.copy(deep=True)
    b["mobility"][:] = np.array(["mobile", "specific"], dtype=object)
    ra, rb = solve_dynamics(a, tariff=_tariff_shock(a), **kw), solve_dynamics(b, tariff=_tariff_shock(b), **kw)
    for k in ("U", "Y", "PY", "capital_stock", "gnp", "gdp"):
        assert _close(ra[k], rb[k], rtol=1e-9), k


@pytest.mark.parametrize("intl", ["none", "union", "world"])
def test_ownership_accounts(intl):
    """Walras and the balance of payments close with foreign-owned capital; world GNP = world GDP;
    GNP differs from GDP exactly by the gross capital income across borders."""
    ds = make_dataset(3, 3, seed=11)
    cap = {"closure": "steady_state", "international": intl}
    r = solve_dynamics(
        ds,
        capital=cap,
        members=[True, True, False],
        tariff=_tariff_shock(ds),
        **dict(KRUGMAN_MELITZ, scale_economies={"S1": "krugman"}),
    )
    assert r["success"] and abs(r["walras_residual"]) < 1e-8 * r["INC"].sum()
    assert abs(r["gnp"].sum() - r["gdp"].sum()) < 1e-10 * r["gdp"].sum()
    assert abs(r["net_capital_income"].sum()) < 1e-10 * r["gdp"].sum()
    off = ~np.eye(3, dtype=bool)[None]
    rev = r["revenue"] * off
    deficit = rev.sum(axis=(0, 1)) - rev.sum(axis=(0, 2))  # imports - exports, pre-tariff
    assert np.allclose(deficit, r["B_term"] + r["net_capital_income"], atol=1e-8 * r["INC"].sum())
    # income = consumption + investment, and consumption is what welfare counts
    assert np.allclose(r["INC"], r["consumption"] + r["investment"], rtol=1e-12)
    if intl == "none":
        assert np.allclose(r["gnp"], r["gdp"], rtol=1e-12)
    else:
        assert np.max(np.abs(r["gnp"] - r["gdp"])) > 1e-4
        if intl == "union":  # the non-member neither owns nor hosts union capital
            assert abs(r["gnp"][2] - r["gdp"][2]) < 1e-10 * r["gdp"][2]


# ---------------------------------------------------------------------------------------------
# welfare decomposition (section 5)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["krugman_melitz", "steady_none", "steady_world", "all"])
def test_decomposition_adds_up(case):
    ds = make_dataset(3, 2, seed=12)
    rng = np.random.default_rng(12)
    opts = dict(OPTION_SETS[case])
    opts.setdefault("members", [True, True, False])
    parts, r = decompose_path(
        ds,
        n=8,
        tariff=_tariff_shock(ds),
        tau=rng.uniform(0.9, 1.05, ds.trade.shape),
        endowment=np.array([[1.05, 0.97, 1.0], [1.0, 1.0, 1.0]]),
        **opts,
    )
    total = sum(parts[k] for k in PARTS)
    assert np.all(np.abs(total - r["EV"]) < np.maximum(1e-4 * np.abs(r["EV"]), 1e-6 * r["INC0"]))
    scale = "scale_economies" in opts
    steady = "capital" in opts
    assert (np.max(np.abs(parts["welfare_variety"])) > 1e-3) == scale
    assert (np.max(np.abs(parts["welfare_selection"])) > 1e-3) == scale
    assert (np.max(np.abs(parts["welfare_capital_accumulation"])) > 1e-3) == steady
    if steady:  # the accumulation part is the net return rho * PI * dK on the owner's new capital
        assert np.all(np.abs(parts["welfare_capital_income"]) < np.abs(parts["welfare_capital_accumulation"]) + 1)


# ---------------------------------------------------------------------------------------------
# bad options
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"scale_economies": "melitz", "firm_elasticity": 4.0, "pareto_shape": 2.9}, "pareto_shape"),
        ({"scale_economies": "krugman", "firm_elasticity": 1.0}, "firm_elasticity"),
        ({"scale_economies": {"XX": "krugman"}}, "unknown sector"),
        ({"scale_economies": "ricardo"}, "unknown kind"),
        ({"capital": {"closure": "steady_state", "depreciation": 1.2}}, "depreciation"),
        ({"capital": {"closure": "steady_state", "international": "mars"}}, "international"),
        ({"capital": {"closure": "steady_state", "factor": "land"}}, "capital.factor"),
        ({"capital": {"closure": "steady_state"}, "endowment": [[1.0] * 3, [1.1] * 3]}, "endowment shock to capital"),
    ],
)
def test_bad_options_refused(kw, msg):
    with pytest.raises(ValueError, match=msg):
        solve_dynamics(make_dataset(3, 2, seed=0), **kw)
