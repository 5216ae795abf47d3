"""Scale economies and steady-state capital in the package (docs/dynamics.md, issue 14).

The package against the independent scipy reference (tests/support/reference_dynamics.py) on
random data with shocks, and the analytic checks of docs/dynamics.md section 6 run on the package:
neutral options = the core bit for bit, replication, homogeneity, Krugman = Armington with one
sector and one factor, the ACR formula, constant output per firm, the closed Krugman economy,
steady-state scaling, ownership accounts, the decomposition adding up, and refusals by name.
"""

from __future__ import annotations

import numpy as np
import pytest

import cge
from cge.cli import main
from cge.errors import ScenarioError
from cge.model.benchmark import benchmark
from cge.runs import Model
from cge.scenario.options import ModelOptions, resolve
from cge.scenario.scenario import Instruments
from tests.support.reference_dynamics import solve_dynamics
from tests.support.synthetic import make_acr_dataset, make_dataset
from tests.test_reference_dynamics import _one_region

#: solves many models: left out of the quick selection (-m 'not slow')
pytestmark = pytest.mark.slow

SPEC2 = (("labour", "mobile"), ("capital", "specific"))
KM = {"scale_economies": {"S1": "krugman", "S2": "melitz"}, "firm_elasticity": {"S2": 4.0}, "pareto_shape": {"S2": 4.6}}
STEADY = {"closure": "steady_state", "depreciation": 0.05, "rate_of_return": 0.05}
#: option sets: (the model section, the reference's extra keywords)
CASES = {
    "krugman": ({"scale_economies": "krugman"}, {}),
    "melitz": ({"scale_economies": "melitz", "firm_elasticity": 4.0, "pareto_shape": 4.6}, {}),
    "krugman_melitz": (KM, {}),
    "steady_none": ({"capital": STEADY}, {}),
    "steady_world": ({"capital": dict(STEADY, international="world")}, {}),
    "all": (
        dict(KM, capital=dict(STEADY, international="union"), closure={"trade_balance": "world_income"}),
        {"trade_balance": "world_income"},
    ),
}
UNION = ["R1", "R2"]


def _tariff_shock(ds):
    t = ds.tariff.values.copy()
    t[:, 0, 1] = 0.0
    t[:, 1, 0] *= 0.5
    t[:, 2, 0] += 0.1
    return t


def _instruments(model, tariff=None, tau=None, labour=None):
    ins = Instruments.benchmark(model.bench)
    if tariff is not None:
        ins.tariff = tariff
    if tau is not None:
        ins.tau = np.where(model.bench.offdiag, tau, 1.0)
    if labour is not None:
        ins.endowment[0] = np.asarray(labour, float)[None, :]
    return ins


def _reference_options(section: dict, extra: dict) -> dict:
    out = {k: section[k] for k in ("scale_economies", "firm_elasticity", "pareto_shape", "capital") if k in section}
    return {**out, **extra}


def _solve(ds, section, steps=2, **shock):
    model = Model(ds, options=section)
    return model, model.solve(_instruments(model, **shock), steps=steps).dataset


@pytest.fixture(scope="module")
def data():
    return make_dataset(3, 2, seed=4)


# ---------------------------------------------------------------------- neutral, replication
def test_neutral_options_are_the_core_bit_for_bit(data):
    """Every option at its neutral value resolves to the core's options and gives its numbers."""
    neutral = {
        "scale_economies": "none",
        "capital": {"closure": "fixed", "international": "world", "depreciation": 0.3},
    }
    core, explicit = Model(data), Model(data, options=neutral)
    assert explicit.options == ModelOptions() and explicit.options.is_static
    fta = cge.Scenario.from_dict({"name": "fta", "union": {"members": UNION}, "stage": "fta"})
    a, b = core.solve(fta).dataset, explicit.solve(fta).dataset
    assert {v.name: v.value for v in core.core.unknowns()} == {v.name: v.value for v in explicit.core.unknowns()}
    for k in a.data_vars:
        np.testing.assert_array_equal(a[k].values, b[k].values, err_msg=k)
    assert not any(k in a for k in ("firms", "capital_stock", "gdp", "welfare_variety"))


@pytest.mark.parametrize("case", list(CASES))
def test_replication(data, case):
    """No shock: every residual < 1e-10, every index 1, EV 0, GNP = GDP."""
    section = dict(CASES[case][0])
    if case == "all":
        section["capital"] = dict(section["capital"], international="world")
    model = Model(data, options=section)
    ds = model.solve(None, steps=0).dataset
    assert ds.attrs["max_residual"] < 1e-10
    for k in ("price", "output", "firms", "firms_route", "productivity", "capital_index", "utility"):
        if k in ds:
            v = ds[k].values[~np.isnan(ds[k].values)]
            assert np.allclose(v, 1.0, atol=1e-10), k
    assert np.allclose(ds["ev"].values, 0.0, atol=1e-8)
    assert np.allclose(ds["trade_quantity"].values, data.trade.values, rtol=1e-10)
    assert np.allclose(ds["gnp"].values, ds["gdp"].values, rtol=1e-12)


# ---------------------------------------------------------------------- against the reference
@pytest.mark.parametrize("case", list(CASES))
def test_agrees_with_the_reference(data, case):
    """Random tariff, trade-cost and labour shocks: the package equals the reference to 1e-9."""
    section, extra = CASES[case]
    rng = np.random.default_rng(7)
    tau = rng.uniform(0.9, 1.05, data.trade.shape)
    labour = np.array([1.05, 0.97, 1.0])
    shock = {"tariff": _tariff_shock(data), "tau": tau}
    model = Model(data, options=resolve(section, benchmark(data), members=tuple(UNION)))
    ds = model.solve(_instruments(model, labour=labour, **shock), steps=0).dataset
    ref = solve_dynamics(
        data,
        **_reference_options(section, extra),
        members=[r in UNION for r in data.region.values],
        endowment=np.array([labour, [1.0] * 3]),
        **shock,
    )
    assert ref["success"]
    pairs = {"ev": "EV", "price": "PY", "output": "Y", "income": "INC", "trade_quantity": "x"}
    pairs |= {"firms": "firms", "firms_route": "firms_route", "productivity": "productivity"}
    pairs |= {"capital_stock": "capital_stock", "investment": "investment", "gdp": "gdp", "gnp": "gnp"}
    pairs |= {"net_capital_income": "net_capital_income", "consumption": "consumption"}
    compared = 0
    for ours, theirs in pairs.items():
        if ours in ds:
            scale = np.nanmax(np.abs(ref[theirs]))
            assert np.nanmax(np.abs(ds[ours].values - ref[theirs])) < 1e-9 * max(scale, 1.0), ours
            compared += 1
    assert compared >= 6 and np.max(np.abs(ref["EV"])) > 1e-2


def test_union_ownership_from_the_scenario(data):
    """international: union takes the owners from the scenario's union; without a union it is refused."""
    section = {"capital": dict(STEADY, international="union")}
    with pytest.raises(ScenarioError, match="capital.international: union needs"):
        Model(data, options=section)
    sc = cge.Scenario.from_dict({"name": "fta", "union": {"members": UNION}, "stage": "fta", "model": section})
    ds = cge.run(sc, data=data, steps=2).dataset
    ref = solve_dynamics(data, capital=section["capital"], members=[True, True, False], tariff=ds["tariff_rate"].values)
    assert np.allclose(ds["ev"].values, ref["EV"], rtol=1e-9)
    assert abs(ds["gnp"].values[2] - ds["gdp"].values[2]) < 1e-9 * ds["gdp"].values[2]


def test_homogeneity(data):
    section = CASES["all"][0] | {"capital": dict(STEADY, international="world")}
    model = Model(data, options=section)
    one = model.solve(_instruments(model, tariff=_tariff_shock(data)), steps=0, warm_start=False).dataset
    ins = _instruments(model, tariff=_tariff_shock(data))
    ins.pnum = 2.0
    two = model.solve(ins, steps=0, warm_start=False).dataset
    for k in ("price", "income", "gdp", "gnp", "investment"):
        assert np.allclose(two[k].values, 2 * one[k].values, rtol=1e-9, equal_nan=True), k
    for k in ("output", "firms", "firms_route", "capital_index", "trade_quantity", "ev"):
        assert np.allclose(two[k].values, one[k].values, rtol=1e-9, atol=1e-9, equal_nan=True), k


# ---------------------------------------------------------------------- scale economies
def test_krugman_one_sector_one_factor_is_armington():
    """One sector, one factor: N stays at 1 and Krugman is the Armington core (any sigma)."""
    ds = make_dataset(3, 1, (("labour", "mobile"),), seed=3)
    tau = np.random.default_rng(3).uniform(0.7, 1.2, ds.trade.shape)
    _, core = _solve(ds, None, tariff=_tariff_shock(ds), tau=tau)
    for sigma in (3.0, 9.0):
        _, k = _solve(ds, {"scale_economies": "krugman", "firm_elasticity": sigma}, tariff=_tariff_shock(ds), tau=tau)
        assert np.allclose(k["firms"].values, 1.0, atol=1e-11)
        for key in ("ev", "price", "income", "utility"):
            assert np.allclose(k[key].values, core[key].values, rtol=1e-10), key
    assert not np.allclose(core["utility"].values, 1.0, atol=1e-3)


@pytest.mark.parametrize("kind", ["krugman", "melitz"])
def test_acr_formula(kind):
    """U = lambda_hat^(-1/epsilon): epsilon = sigma - 1 (Krugman) or the Pareto shape (Melitz)."""
    sigma, shape = 4.0, 5.0
    ds = make_acr_dataset(4, sigma=sigma, seed=1)
    tau = np.random.default_rng(1).uniform(0.7, 1.3, ds.trade.shape)
    section = {"scale_economies": kind} | ({"pareto_shape": shape} if kind == "melitz" else {})
    _, r = _solve(ds, section, steps=1, tau=tau)
    x = r["trade_quantity"].values[0]
    lam = np.diagonal(x) * np.nan_to_num(r["price"].values[0]) / r["income"].values  # domestic share
    lam0 = np.diagonal(ds.trade.values[0]) / ds.trade.values[0].sum(axis=0)
    eps = sigma - 1.0 if kind == "krugman" else shape
    assert np.allclose(r["utility"].values, (lam / lam0) ** (-1.0 / eps), rtol=1e-9)
    assert not np.allclose(r["utility"].values, 1.0, atol=1e-3)


def test_output_per_firm_constant(data):
    """Constant markups: bundles per firm or entrant stay at 1 while the number of firms moves."""
    tau = np.random.default_rng(5).uniform(0.8, 1.1, data.trade.shape)
    _, r = _solve(data, KM, tariff=_tariff_shock(data), tau=tau)
    assert np.nanmax(np.abs(r["firms"].values - 1.0)) > 1e-3
    assert np.allclose(r["output_per_firm"].values[~np.isnan(r["firms"].values)], 1.0, atol=1e-10)
    NR, N = r["firms_route"].values[1], r["firms"].values[1][:, None]
    assert np.allclose(r["productivity"].values[1], (NR / N) ** (-1.0 / 4.6), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("kind", ["krugman", "melitz"])
def test_closed_economy_scale(kind):
    """One region, one Krugman (Melitz) sector, labour x (1+x): U/(1+x) = (1+x)^(1/(sigma-1)), N = 1+x."""
    sigma = 4.0
    section = {"scale_economies": kind} | ({"pareto_shape": 5.0} if kind == "melitz" else {})
    model = Model(_one_region(sigma=sigma), options=section)
    for x in (0.1, 0.5, -0.3):
        r = model.solve(_instruments(model, labour=[1.0 + x]), steps=0).dataset
        assert np.allclose(r["utility"].values / (1 + x), (1 + x) ** (1 / (sigma - 1)), rtol=1e-10)
        assert np.allclose(r["firms"].values, 1 + x, rtol=1e-10)


# ---------------------------------------------------------------------- steady-state capital
@pytest.mark.parametrize("factors", [(("labour", "mobile"), ("capital", "mobile")), SPEC2], ids=["mobile", "specific"])
def test_steady_state_scaling(factors):
    """World-income trade balances, labour x (1+x) everywhere: EV% = 100 x and K x (1+x) in the
    steady state; with capital fixed the gain is smaller."""
    ds = make_dataset(3, 3, factors, seed=8)
    x, wi = 0.1, {"closure": {"trade_balance": "world_income"}}
    cap = {"closure": "steady_state", "depreciation": 0.07, "rate_of_return": 0.04, "international": "world"}
    model, r = _solve(ds, wi | {"capital": cap}, steps=1, labour=[1 + x] * 3)
    assert np.allclose(r["ev_pct"].values, 100 * x, rtol=1e-9)
    assert np.allclose(r["capital_index"].values[~np.isnan(r["capital_index"].values)], 1 + x, rtol=1e-10)
    bench = model.benchmark_solution()
    assert np.allclose(r["investment"].values, (1 + x) * bench["investment"].values, rtol=1e-9)
    _, fixed = _solve(ds, wi, steps=1, labour=[1 + x] * 3)
    assert np.all(fixed["ev_pct"].values < 100 * x - 1.0) and np.all(fixed["ev_pct"].values > 0)


def test_steady_state_one_sector_output():
    """Cobb-Douglas value added, capital share alpha[r]: labour x (1+x) raises output by (1+x) in
    the steady state and by (1+x)^(1-alpha) with capital fixed."""
    ds = make_dataset(3, 1, seed=9)
    ds["esubva"][:] = 1.0
    x, wi = 0.2, {"closure": {"trade_balance": "world_income"}}
    F0 = ds.factor_income.values[:, 0, :]
    alpha = F0[1] / F0.sum(axis=0)
    _, fixed = _solve(ds, wi, steps=1, labour=[1 + x] * 3)
    _, steady = _solve(ds, wi | {"capital": {"closure": "steady_state"}}, steps=1, labour=[1 + x] * 3)
    assert np.allclose(fixed["output"].values[0], (1 + x) ** (1 - alpha), rtol=1e-10)
    assert np.allclose(steady["output"].values[0], 1 + x, rtol=1e-10)


def test_accounts_close_with_foreign_capital(data):
    """Walras, world GNP = world GDP, net capital income sums to zero, INC = consumption + investment,
    and imports less exports = trade-balance term + net capital income in every region."""
    section = {"scale_economies": {"S1": "krugman"}, "capital": dict(STEADY, international="world")}
    _, r = _solve(data, section, tariff=_tariff_shock(data))
    world = r["income"].values.sum()
    assert r.attrs["walras_residual_relative"] < 1e-9
    assert abs(r["gnp"].values.sum() - r["gdp"].values.sum()) < 1e-10 * world
    assert abs(r["net_capital_income"].values.sum()) < 1e-10 * world
    assert np.max(np.abs(r["gnp"].values - r["gdp"].values)) > 1e-3
    assert np.allclose(r["income"].values, r["consumption"].values + r["investment"].values, rtol=1e-12)
    off = ~np.eye(3, dtype=bool)[None]
    value = np.where(off, np.nan_to_num(r["price"].values)[:, :, None] * r["trade_cost"].values, 0.0)
    rev = value * r["trade_quantity"].values
    deficit = rev.sum(axis=(0, 1)) - rev.sum(axis=(0, 2))
    assert np.allclose(deficit, r["trade_deficit"].values + r["net_capital_income"].values, atol=1e-9 * world)


# ---------------------------------------------------------------------- decomposition
@pytest.mark.parametrize("case", ["krugman", "krugman_melitz", "steady_world"])
def test_decomposition_adds_up(data, case):
    """The parts (variety, selection, capital accumulation and income among them) add up to EV."""
    section = CASES[case][0]
    tau = np.random.default_rng(12).uniform(0.9, 1.05, data.trade.shape)
    _, r = _solve(data, section, steps=6, tariff=_tariff_shock(data), tau=tau, labour=[1.05, 0.97, 1.0])
    ev, resid = r["ev"].values, r["welfare_decomposition_residual"].values
    assert np.all(np.abs(resid) < np.maximum(1e-4 * np.abs(ev), 1e-6 * r["income0"].values))
    assert ("welfare_variety" in r) == ("scale_economies" in section)
    assert ("welfare_selection" in r) == (case == "krugman_melitz")
    assert ("welfare_capital_accumulation" in r) == ("capital" in section)
    for k in ("welfare_variety", "welfare_selection", "welfare_capital_accumulation"):
        if k in r:
            assert np.max(np.abs(r[k].values)) > 1e-3, k


# ---------------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "section, msg",
    [
        ({"scale_economies": "melitz", "firm_elasticity": 4.0, "pareto_shape": 2.9}, r"pareto_shape\[S1\]"),
        ({"scale_economies": "melitz"}, r"pareto_shape\[S1\]: melitz needs"),
        ({"scale_economies": "krugman", "firm_elasticity": 1.0}, r"firm_elasticity\[S1\]: must exceed 1"),
        ({"scale_economies": {"XX": "krugman"}}, "unknown sector code 'XX'"),
        ({"scale_economies": "ricardo"}, "scale_economies"),
        ({"scale_economies": {"S1": "krugman"}, "firm_elasticity": {"S2": 3.0}}, "sector S2 has no scale economies"),
        ({"scale_economies": {"S1": "krugman"}, "etrans": {"S1": 2.0}}, "S1 has a CET"),
        ({"capital": {"closure": "steady_state", "depreciation": 1.2}}, "depreciation: must lie"),
        ({"capital": {"closure": "steady_state", "international": "mars"}}, "international"),
        ({"capital": {"closure": "steady_state", "factor": "land"}}, "capital.factor: 'land'"),
    ],
)
def test_bad_options_refused(data, section, msg):
    with pytest.raises(ScenarioError, match=msg):
        Model(data, options=section)


def test_capital_shock_refused_under_the_steady_state(tmp_path, data, capsys):
    """An endowment shock to capital under the steady state, and a sector with no output, exit 2 by name."""
    path = tmp_path / "bad.yaml"
    data.to_netcdf(tmp_path / "d.nc")
    path.write_text(
        "name: bad\ndata: d.nc\nmodel: {capital: {closure: steady_state}}\n"
        "shocks:\n  - endowment: {factor: capital, scale: 1.1}\n"
    )
    with pytest.raises(SystemExit) as exc:
        main(["run", str(path), "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    assert "capital" in capsys.readouterr().err
    empty = data.copy(deep=True)
    for v in ("trade",):
        empty[v][0] = 0.0
    with pytest.raises(ScenarioError):
        resolve({"scale_economies": {"S1": "krugman"}}, benchmark(empty))


# ---------------------------------------------------------------------- static against dynamic
def test_compare_static_and_dynamic_side_by_side(data):
    """One scenario under a static and a dynamic model section: the comparison table and the
    report's tables show both, with the dynamic parts beside the static ones; group EV% of the
    steady state is a percentage of benchmark consumption."""
    from cge.report.tables import stage_tables, welfare_table

    fta = {"name": "static", "union": {"members": UNION}, "stage": "fta"}
    dynamic = dict(fta, name="dynamic", model={"scale_economies": "krugman", "capital": STEADY})
    comp = cge.compare([fta, dynamic], data=data, steps=2)
    table = comp.table()
    assert list(table.columns) == ["static", "dynamic"]
    ds = comp.results[1].dataset
    union = 100 * ds["ev"].values[:2].sum() / ds["consumption0"].values[:2].sum()
    assert np.isclose(table.loc["union members", "dynamic"], union, rtol=1e-12)
    tables = stage_tables(comp.dataset)
    effects = tables["union_effects_by_scenario"]
    assert np.isnan(effects.loc["Variety (scale economies) (union)", "static"])
    assert np.isfinite(effects.loc["Capital accumulation (union)", "dynamic"])
    assert np.isclose(tables["ev_pct_by_scenario"].loc["union", "dynamic"], union, rtol=1e-12)
    welfare = welfare_table(ds)
    parts = [c for c in welfare.columns if c not in ("Member", "EV", "EV%", "First-order total (one step)")]
    assert np.allclose(welfare[parts].sum(axis=1).values, welfare["EV"].values.astype(float), rtol=1e-12)


def test_determinacy_hint():
    """docs/dynamics.md 2.4: cells with little home sales at firm_elasticity = esubm are named (in
    wiod2011, not in the default dataset); at 1.5 x esubm none are."""
    from cge.model.dynamics import Scale, determinacy_hint

    man = {"default": ["FOOD", "TEX", "LMF", "CHM", "MACH", "ELE"], "wiod2011": [f"c{k}" for k in range(3, 17)]}
    hints = {}
    for name, sectors in man.items():
        b = benchmark(cge.load_dataset(name))
        for factor in (1.0, 1.5):
            section = {
                "scale_economies": dict.fromkeys(sectors, "krugman"),
                "firm_elasticity": {i: factor * float(b.esubm[b.sectors.index(i)]) for i in sectors},
            }
            hints[name, factor] = determinacy_hint(b, Scale.of(b, resolve(section, b)))
    assert hints["default", 1.0] == "" and hints["wiod2011", 1.5] == ""
    assert "57 cell(s)" in hints["wiod2011", 1.0] and "c5 in" in hints["wiod2011", 1.0]
