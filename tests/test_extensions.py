"""Model extensions I (docs/extensions.md): nests, CET, taxes, closures, numeraire, the model section.

For each option: benchmark replication, homogeneity, its neutral value reproduces the core, and a
case whose answer is derived by hand (each test's docstring gives the derivation).
"""

import numpy as np
import pyomo.environ as pyo
import pytest
import yaml

import cge
from cge.dataset.schema import check_dataset
from cge.errors import InputError, ScenarioError
from cge.model.benchmark import benchmark
from cge.runs import Model
from cge.scenario.scenario import Instruments
from cge.solve import max_residual
from tests.support.reference_ext import add_taxes, solve_reference_ext
from tests.support.synthetic import make_acr_dataset, make_dataset

#: solves many models or builds datasets: left out of the quick selection (-m 'not slow')
pytestmark = pytest.mark.slow

FACTORS = (("labour", "mobile"), ("capital", "specific"))
#: one option of each kind at a non-neutral value
EACH = {
    "esubt": {"esubt": 0.6},
    "esubc": {"esubc": 0.4},
    "esubfd": {"esubfd": 0.7},
    "etrans": {"etrans": 2.0},
    "etrans0": {"etrans": 0.0},
    "world_income": {"closure": {"trade_balance": "world_income"}},
    "utility_numeraire": {"closure": {"numeraire": {"utility_price": "R2"}}},
    "factor_numeraire": {"closure": {"numeraire": {"factor_price": "R3", "factor": "labour"}}},
    "all": {
        "esubt": 0.6,
        "esubc": 0.4,
        "esubfd": 0.7,
        "etrans": 2.0,
        "closure": {"trade_balance": "world_income", "numeraire": {"utility_price": "R2"}},
    },
}
FTA = {"name": "fta12", "union": {"members": ["R1", "R2"]}, "stage": "fta"}


@pytest.fixture(scope="module")
def data():
    return make_dataset(3, 3, FACTORS, seed=4)


@pytest.fixture(scope="module")
def taxed(data):
    return add_taxes(data, seed=1)


def fta(**extra):
    return cge.Scenario.from_dict({**FTA, **extra})


def solved_values(model):
    """Every unknown of the solved instance, by name and index."""
    return {v.name: v.value for v in model.core.unknowns()}


# ---------------------------------------------------------------------- data
def test_tax_identities_are_checked(data, taxed):
    assert check_dataset(taxed).ok
    bad = taxed.copy(deep=True)
    bad["output_tax"][0, 0] += 0.05  # breaks zero profit in (S1, R1)
    problems = check_dataset(bad).problems
    assert any("identity 2" in p and "output tax" in p and "S1" in p for p in problems)
    bad = taxed.copy(deep=True)
    bad["export_tax"][1, 2, 2] = 0.1  # on the diagonal
    assert any("export_tax: must be zero on the diagonal" in p for p in check_dataset(bad).problems)
    bad = data.copy(deep=True)
    bad["etrans"] = (("sector",), np.array([np.inf, -1.0, 2.0]))
    assert any("etrans" in p and "S2" in p for p in check_dataset(bad).problems)
    ok = data.copy(deep=True)
    ok["etrans"] = (("sector",), np.array([np.inf, 0.5, 2.0]))
    assert check_dataset(ok).ok


# ---------------------------------------------------------------------- neutral values = the core
@pytest.fixture(scope="module")
def core_fta(data):
    m = Model(data)
    return m.solve(fta()).dataset, solved_values(m)


def test_neutral_options_build_the_core_exactly(data, core_fta):
    """Every option at its neutral value (given in the scenario, or as dataset variables) builds the
    core's expressions: the solution is the core's to the last bit."""
    neutral = {
        "esubt": 0.0,
        "esubc": 0.0,
        "esubfd": 1.0,
        "etrans": float("inf"),
        "closure": {"trade_balance": "numeraire", "numeraire": "world_factor_price"},
    }
    ds_core, vals_core = core_fta
    m = Model(data, options=neutral)
    ds = m.solve(fta()).dataset
    assert solved_values(m) == vals_core
    np.testing.assert_array_equal(ds["ev"].values, ds_core["ev"].values)
    with_vars = data.copy(deep=True)
    for name, dim, v in (
        ("esubt", "sector", 0.0),
        ("esubc", "sector", 0.0),
        ("esubfd", "region", 1.0),
        ("etrans", "sector", np.inf),
    ):
        with_vars[name] = ((dim,), np.full(with_vars.sizes[dim], v))
    m = Model(with_vars)
    m.solve(fta())
    assert solved_values(m) == vals_core


def test_zero_taxes_reproduce_the_core(data, core_fta):
    """The tax instruments built with zero rates change nothing."""
    ds_core, _ = core_fta
    ds = Model(data, options={"taxes": True}).solve(fta()).dataset
    np.testing.assert_allclose(ds["ev"].values, ds_core["ev"].values, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ds["price"].values, ds_core["price"].values, rtol=1e-12)
    assert (ds["output_tax_revenue"].values == 0).all() and (ds["export_tax_revenue"].values == 0).all()


def test_large_cet_elasticity_approaches_perfect_transformation(data, core_fta):
    """As eta grows the CET's EV tends to the core's (perfect transformation), monotonically."""
    ev_core = core_fta[0]["ev_pct"].values
    gaps = [
        np.abs(Model(data, options={"etrans": eta}).solve(fta()).dataset["ev_pct"].values - ev_core).max()
        for eta in (1.0, 10.0, 100.0)
    ]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.05 * gaps[0]


# ---------------------------------------------------------------------- replication, homogeneity
def _perturb(core) -> None:
    """Move the starting point off the benchmark: every price and activity index + 0.01."""
    if core.arrays is not None:  # the point of record is the model on arrays' x
        core.x = core.x + [0.0 if name in ("NF", "TRS") else 0.01 for name, _ in core.arrays.unknowns]
        return
    for v in core.unknowns():
        v.set_value(v.value + (0.01 if v.parent_component().name not in ("NF", "TRS") else 0.0))


@pytest.mark.parametrize("name", list(EACH))
def test_replication(data, name):
    """The benchmark instruments solve to the benchmark: every unknown 1 (net factor flows 0)."""
    m = Model(data, options=EACH[name])
    m.solve(None, steps=1, warm_start=False)
    m.core.reset_start()
    _perturb(m.core)
    res = m.solve(None, steps=1)
    assert max(abs(v.value - m.core.benchmark_value(v)) for v in m.core.unknowns()) < 1e-8
    assert np.abs(res.dataset["utility"].values - 1).max() < 1e-10
    assert max_residual(m.core.instance)[0] < 1e-8


def test_replication_with_taxes(taxed):
    m = Model(taxed, options=EACH["all"])
    res = m.solve(None, steps=1).dataset
    assert max(abs(v.value - m.core.benchmark_value(v)) for v in m.core.unknowns()) < 1e-8
    b = benchmark(taxed)
    np.testing.assert_allclose(res["output_tax_revenue"].values, b.output_tax_revenue0, rtol=1e-9)
    np.testing.assert_allclose(res["export_tax_revenue"].values, b.export_tax_revenue0, rtol=1e-9)
    np.testing.assert_allclose(res["trade_deficit"].values, b.B, atol=1e-8)


@pytest.mark.parametrize(
    "name", ["esubt", "esubfd", "etrans", "world_income", "utility_numeraire", "factor_numeraire", "all"]
)
def test_homogeneity(taxed, name):
    """Doubling the numeraire doubles every price and income; quantities and EV do not move."""
    m = Model(taxed, options=EACH[name])
    sc = fta(shocks=[{"export_tax": {"source": "R3", "set": 0.2}}, {"output_tax": {"region": "R1", "scale": 0.5}}])
    ins = sc.instruments(m.bench)
    one = m.solve(ins, steps=1).dataset
    ins.pnum = 2.0
    two = m.solve(ins, steps=1).dataset
    for v in ("price", "income", "factor_price", "utility_price", "composite_price"):
        np.testing.assert_allclose(two[v].values, 2 * one[v].values, rtol=1e-8)
    for v in ("output", "trade_quantity", "utility", "factor_use"):
        np.testing.assert_allclose(two[v].values, one[v].values, rtol=1e-8, atol=1e-10)
    if "export_price" in one:
        np.testing.assert_allclose(two["export_price"].values, 2 * one["export_price"].values, rtol=1e-8)


# ---------------------------------------------------------------------- Cobb-Douglas limits
@pytest.mark.parametrize("name", ["esubt", "esubc", "esubfd"])
def test_cobb_douglas_limit(data, name):
    """At exactly 1 the nest is built in Cobb-Douglas form; at 1 +/- 1e-6 in the general CES form.
    The two agree to 1e-5 (the CES form's error near 1 is about 1e-10, docs/extensions.md)."""
    res = {}
    for s in (1.0 - 1e-6, 1.0, 1.0 + 1e-6):
        res[s] = Model(data, options={name: s}).solve(fta(), steps=1).dataset
    for s in (1.0 - 1e-6, 1.0 + 1e-6):
        for v in ("ev_pct", "price", "output", "composite_price", "utility"):
            np.testing.assert_allclose(res[s][v].values, res[1.0][v].values, rtol=1e-5, atol=1e-7)
    # at 1 the production nests differ from the core's Leontief; final demand at 1 is the core
    core = Model(data).solve(fta(), steps=1).dataset
    gap = np.abs(res[1.0]["ev_pct"].values - core["ev_pct"].values).max()
    assert gap > 1e-4 if name != "esubfd" else gap == 0.0


# ---------------------------------------------------------------------- hand-checked cases
def _c(model, i, r):
    return pyo.value(model.core.instance.C[i, r])


def test_final_demand_relative_demands(data):
    """CES final demand: C_i / C_k = (fd0_i / fd0_k) (PA_k / PA_i)^s, and at s = 0 (Leontief) every
    C_i / fd0_i equals U (the same basket, scaled)."""
    for s in (0.0, 0.7, 2.5):
        m = Model(data, options={"esubfd": s})
        ds = m.solve(fta(), steps=1).dataset
        fd0, PA = data["final_demand"], ds["composite_price"]
        for r in ("R1", "R3"):
            c = np.array([_c(m, i, r) for i in ("S1", "S2", "S3")])
            f0 = fd0.sel(region=r).values
            pa = PA.sel(region=r).values
            np.testing.assert_allclose(c / c[0], f0 / f0[0] * (pa[0] / pa) ** s, rtol=1e-9)
            if s == 0.0:
                np.testing.assert_allclose(c / f0, ds["utility"].sel(region=r).item(), rtol=1e-9)


def test_cobb_douglas_production_keeps_cost_shares(data):
    """With esubt = esubc = 1 every input's share of cost stays at its benchmark value:
    PA_i INTD_ij / (PC COST0 Y) = intermediate_ij / COST0 and W FD / (PC COST0 Y) = F0 / COST0."""
    m = Model(data, options={"esubt": 1.0, "esubc": 1.0})
    ds = m.solve(fta(), steps=1).dataset
    inst, b = m.core.instance, m.bench
    for j, r in [("S1", "R1"), ("S3", "R2")]:
        jj, rr = b.sectors.index(j), b.regions.index(r)
        cost = pyo.value(inst.PY[j, r]) * inst.Y[j, r].value * b.Y0[jj, rr]  # no output tax
        for ii, i in enumerate(b.sectors):
            intd = (
                b.intermediate[ii, jj, rr]
                * inst.Y[j, r].value
                * (pyo.value(inst.PC[j, r]) / pyo.value(inst.PINT[j, r]))
                * (pyo.value(inst.PINT[j, r]) / pyo.value(inst.PA[i, r]))
            )
            assert pyo.value(inst.PA[i, r]) * intd / cost == pytest.approx(
                b.intermediate[ii, jj, rr] / b.COST0[jj, rr], rel=1e-9
            )
        va = sum(
            ds["factor_price_sector"].sel(factor=f, sector=j, region=r).item()
            * ds["factor_use"].sel(factor=f, sector=j, region=r).item()
            for f in b.factors
        )
        assert va / cost == pytest.approx(b.VA0[jj, rr] / b.COST0[jj, rr], rel=1e-9)


def test_cet_fixed_proportions(data):
    """eta = 0: domestic sales and exports move together, D / D0 = exports / E0 = Y, for every cell."""
    ds = Model(data, options={"etrans": 0.0}).solve(fta(), steps=1).dataset
    tq, tr, Y = ds["trade_quantity"].values, data["trade"].values, ds["output"].values
    n = tr.shape[1]
    d_ratio = np.einsum("irr->ir", tq) / np.einsum("irr->ir", tr)
    off = ~np.eye(n, dtype=bool)[None]
    e_ratio = np.where(off, tq, 0).sum(axis=2) / np.where(off, tr, 0).sum(axis=2)  # tau = 1
    np.testing.assert_allclose(d_ratio, Y, rtol=1e-9)
    np.testing.assert_allclose(e_ratio, Y, rtol=1e-9)
    assert np.abs(ds["export_price"].values - ds["domestic_price"].values).max() > 1e-3


def test_cet_supply_ratio(data):
    """Finite eta: (exports/E0) / (D/D0) = (PE/PD)^eta in every cell with both outlets."""
    eta = 2.0
    ds = Model(data, options={"etrans": eta}).solve(fta(), steps=1).dataset
    tq, tr = ds["trade_quantity"].values, data["trade"].values
    off = ~np.eye(tr.shape[1], dtype=bool)[None]
    ratio = (np.where(off, tq, 0).sum(2) / np.where(off, tr, 0).sum(2)) / (
        np.einsum("irr->ir", tq) / np.einsum("irr->ir", tr)
    )
    np.testing.assert_allclose(ratio, (ds["export_price"].values / ds["domestic_price"].values) ** eta, rtol=1e-8)


def test_output_tax_on_a_fixed_base_is_neutral():
    """One sector, one fixed factor, no intermediates: an output tax falls entirely on the factor.
    Output cannot move, so market clearing keeps every PY and every quantity; the factor price of the
    taxing region falls to 1/(1 + to) of the untaxed solution, and the revenue returns the difference
    to the same household: EV = 0 everywhere."""
    ds = make_acr_dataset(3, sigma=3.0, seed=2)
    m = Model(ds, options={"taxes": True})
    base = m.solve(None, steps=1).dataset
    sc = cge.Scenario.from_dict({"name": "ot", "shocks": [{"output_tax": {"region": "R1", "set": 0.25}}]})
    res = m.solve(sc, steps=1).dataset
    assert np.abs(res["ev"].values).max() < 1e-8 * res["income0"].values.sum()
    ratio = res["factor_price"].values / base["factor_price"].values  # relative to the numeraire's move
    w = ratio[0, 0] / ratio[0, 1]
    assert w == pytest.approx(1 / 1.25, rel=1e-9)
    np.testing.assert_allclose(res["output"].values, 1.0, rtol=1e-9)
    np.testing.assert_allclose(
        res["output_tax_revenue"].values[0],
        0.25 / 1.25 * res["price"].values[0, 0] * ds["trade"].values.sum(axis=2)[0, 0],
        rtol=1e-9,
    )


def test_lerner_symmetry():
    """Lerner symmetry, derived for this model in docs/extensions.md's notation: with balanced trade
    (B = 0 for every region), an export tax te on all of r's exports has the same real effects as
    raising every tariff on r's imports to (1 + t0)(1 + te) - 1.  (Scale r's prices by 1/(1 + te):
    foreigners pay the same, r's internal relative prices are the same, and tariff plus export-tax
    revenue equals the larger tariff revenue over 1 + te because r's imports equal its exports.)"""
    ds = make_dataset(3, 2, FACTORS, seed=7, balanced_trade=True)
    b = benchmark(ds)
    assert np.abs(b.B).max() < 1e-9
    m = Model(ds, options={"taxes": True, "esubfd": 0.8, "etrans": 3.0})
    te = 0.15
    exp = Instruments.benchmark(b)
    exp.export_tax[:, 0, :] = np.where(np.arange(3) != 0, te, 0.0)
    tar = Instruments.benchmark(b)
    tar.tariff[:, :, 0] = np.where(np.arange(3)[None, :] != 0, (1 + b.tariff0[:, :, 0]) * (1 + te) - 1, 0.0)
    r_exp = m.solve(exp, steps=1).dataset
    r_tar = m.solve(tar, steps=1).dataset
    np.testing.assert_allclose(r_exp["utility"].values, r_tar["utility"].values, rtol=1e-9)
    np.testing.assert_allclose(r_exp["trade_quantity"].values, r_tar["trade_quantity"].values, rtol=1e-8)
    assert np.abs(r_exp["utility"].values - 1).max() > 1e-4  # the shock matters


def test_tax_revenue_enters_income(taxed):
    """INC = factor income + tariff + export-tax + output-tax revenue + the trade deficit, and the
    decomposition (with the tax parts) adds up to EV."""
    m = Model(taxed, options={"esubt": 0.5, "etrans": 2.0})
    sc = fta(
        shocks=[
            {"export_tax": {"sector": "S2", "source": "R1", "set": 0.0}},
            {"output_tax": {"sector": ["S1", "S3"], "region": "all", "scale": 1.5}},
        ]
    )
    ds = m.solve(sc).dataset
    fi = (ds["factor_price_sector"].fillna(0) * ds["endowment"]).sum(("factor", "sector")).values
    parts = fi + ds["tariff_revenue"].values + ds["export_tax_revenue"].values + ds["output_tax_revenue"].values
    np.testing.assert_allclose(ds["income"].values, parts + ds["trade_deficit"].values, rtol=1e-9)
    np.testing.assert_allclose(ds["trade_deficit"].values, benchmark(taxed).B, atol=1e-7)
    assert ds["output_tax_rate"].sel(sector="S1", region="R2").item() == pytest.approx(
        1.5 * taxed["output_tax"].sel(sector="S1", region="R2").item()
    )
    parts = list(ds["welfare"].coords["component"].values)
    assert "allocative_output_tax" in parts and "allocative_export_tax" in parts
    ev = ds["ev"].values
    total = ds["welfare"].sum("component").values
    assert (np.abs(total - ev) <= np.maximum(0.01 * np.abs(ev), 1e-4 * ds["income0"].values)).all()
    assert np.abs(ds["welfare_allocative_output_tax"].values).max() > 1e-3 * np.abs(ev).max()


# ---------------------------------------------------------------------- closures and the numeraire
NUMERAIRES = [
    "world_factor_price",
    {"utility_price": "R2"},
    {"factor_price": "R3"},
    {"factor_price": "R1", "factor": "labour"},
]


def _ev_by_numeraire(ds, trade_balance):
    out = []
    for num in NUMERAIRES:
        m = Model(ds, options={"closure": {"trade_balance": trade_balance, "numeraire": num}})
        res = m.solve(fta(), steps=1).dataset
        out.append(res)
    return out


def test_numeraire_choice_with_balanced_trade():
    """With B = 0 the numeraire only scales prices: EV identical, and the chosen index is 1."""
    ds = make_dataset(3, 3, FACTORS, seed=5, balanced_trade=True)
    res = _ev_by_numeraire(ds, "numeraire")
    for r in res[1:]:
        np.testing.assert_allclose(r["ev"].values, res[0]["ev"].values, rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(r["trade_quantity"].values, res[0]["trade_quantity"].values, rtol=1e-8)
    assert res[1]["utility_price"].sel(region="R2").item() == pytest.approx(1.0, abs=1e-12)
    assert res[3]["factor_price"].sel(factor="labour", region="R1").item() == pytest.approx(1.0, abs=1e-12)
    assert res[1].attrs["closure_numeraire"].startswith("utility price of R2")
    assert res[0].attrs["closure"] == "core"


def test_numeraire_choice_with_deficits(data):
    """Unbalanced trade: under the world-income closure EV does not depend on the numeraire; under
    the core closure (deficits fixed in numeraire units) it does."""
    assert np.abs(benchmark(data).B).max() > 1.0
    shares = _ev_by_numeraire(data, "world_income")
    for r in shares[1:]:
        np.testing.assert_allclose(r["ev"].values, shares[0]["ev"].values, rtol=1e-8, atol=1e-8)
    fixed = _ev_by_numeraire(data, "numeraire")
    assert max(np.abs(r["ev_pct"].values - fixed[0]["ev_pct"].values).max() for r in fixed[1:]) > 1e-4


def test_world_income_closure_keeps_deficit_shares(data):
    ds = Model(data, options={"closure": {"trade_balance": "world_income"}}).solve(fta()).dataset
    b = benchmark(data)
    np.testing.assert_allclose(
        ds["trade_deficit"].values / ds["income"].values.sum(), b.B / b.INC0.sum(), rtol=1e-9, atol=1e-12
    )
    assert "welfare_trade_balance" in ds
    assert ds.attrs["closure_trade_balance"].startswith("fixed share of world income")
    assert abs(float(ds["walras_residual"])) < 1e-7 * ds["income"].values.sum()


# ---------------------------------------------------------------------- the model section
def test_dataset_elasticities_and_scenario_overrides(data):
    """Elasticities come from the dataset; the scenario's model section overrides them by code."""
    ds = data.copy(deep=True)
    ds["esubt"] = (("sector",), np.array([0.5, 0.5, 0.5]))
    from_data = Model(ds).solve(fta(), steps=1).dataset
    from_options = Model(data, options={"esubt": 0.5}).solve(fta(), steps=1).dataset
    np.testing.assert_array_equal(from_data["ev"].values, from_options["ev"].values)
    sc = fta(model={"esubt": {"S2": 0.0}, "esubd": {"S1": 5.0}})
    res = cge.run(sc, data=ds, steps=1)
    assert "esubt[S2]=0" in res.dataset.attrs["model_options"]
    m = Model(ds, options={"esubt": {"S2": 0.0}, "esubd": {"S1": 5.0}})
    assert list(m.bench.esubt) == [0.5, 0.0, 0.5] and m.bench.esubd[0] == 5.0
    np.testing.assert_array_equal(m.solve(sc, steps=1).dataset["ev"].values, res.dataset["ev"].values)


@pytest.mark.parametrize(
    "section, message",
    [
        ({"esubx": 1.0}, "model.esubx: unknown key"),
        ({"esubt": {"S9": 1.0}}, "model.esubt: unknown sector code 'S9'"),
        ({"esubfd": {"R1": -0.5}}, "model.esubfd[R1]: an elasticity must lie in [0, 100]"),
        ({"esubt": float("inf")}, "model.esubt[S1]: an elasticity must lie in [0, 100]"),
        ({"closure": {"trade_balance": "floating"}}, "model.closure.trade_balance"),
        (
            {"closure": {"numeraire": {"utility_price": "R7"}}},
            "model.closure.numeraire.utility_price: unknown region code 'R7'",
        ),
        ({"closure": {"numeraire": {"factor_price": "R1", "factor": "land"}}}, "unknown factor code 'land'"),
        ({"taxes": False, "esubt": 0.5}, None),
    ],
)
def test_model_section_is_validated(data, section, message):
    if message is None:
        fta(model=section).check(benchmark(data))
        return
    with pytest.raises(ScenarioError) as err:  # the shape at reading, the codes against the data
        fta(model=section).check(benchmark(data))
    assert message in str(err.value)


def test_validation_from_a_file(tmp_path, data):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**FTA, "model": {"esubc": {"S1": "fast"}}}))
    with pytest.raises(ScenarioError) as err:
        cge.Scenario.from_yaml(path)
    assert str(path) in str(err.value) and "model.esubc" in str(err.value)
    path.write_text(
        yaml.safe_dump({**FTA, "model": {"taxes": False}, "shocks": [{"output_tax": {"region": "R1", "set": 0.1}}]})
    )
    with pytest.raises(ScenarioError, match="model.taxes: false, but the shocks change a tax"):
        cge.Scenario.from_yaml(path).check(benchmark(data))


def test_model_built_for_other_options_refuses(data):
    m = Model(data)
    with pytest.raises(ScenarioError, match="build a Model with the scenario's options"):
        m.solve(fta(model={"esubt": 0.5}))
    with pytest.raises(ScenarioError, match="without the tax instruments"):
        m.solve(fta(shocks=[{"output_tax": {"region": "R1", "set": 0.1}}]))
    ins = Instruments.benchmark(m.bench)
    ins.output_tax[0, 0] = 0.1
    with pytest.raises(InputError, match="without the tax instruments"):
        m.solve(ins)


def test_compare_builds_one_model_per_model_section(data):
    """Two closures side by side: compare builds a model for each and labels the results."""
    a = fta()
    b = cge.Scenario.from_dict({**FTA, "name": "fta12-wi", "model": {"closure": {"trade_balance": "world_income"}}})
    comp = cge.compare([a, b], data=data, steps=1)
    closures = [r.dataset.attrs["closure"] for r in comp.results]
    assert closures == ["core", "world_income/world_factor_price"]
    assert comp.dataset.attrs["closure"] == "differs by scenario (see each results.nc)"
    alone = cge.run(b, data=data, steps=1).dataset
    np.testing.assert_array_equal(comp.results[1].dataset["ev"].values, alone["ev"].values)


# ---------------------------------------------------------------------- the independent reference
REF_CASES = {
    "nests": ({"esubt": 0.6, "esubc": 0.4}, {}),
    "cd_nests": ({"esubt": 1.0, "esubc": 1.0, "esubfd": 0.5}, {}),
    "cet": ({"etrans": 2.0}, {}),
    "cet0": ({"etrans": 0.0, "esubfd": 1.6}, {}),
    "world_income_utility": (
        {"closure": {"trade_balance": "world_income", "numeraire": {"utility_price": "R2"}}},
        {"trade_balance": "world_income", "numeraire": ("utility_price", 1)},
    ),
    "factor_numeraire": (
        {"esubt": 0.3, "closure": {"numeraire": {"factor_price": "R3", "factor": "capital"}}},
        {"numeraire": ("factor_price", 2, 1)},
    ),
    "everything": (
        {
            "esubt": 0.6,
            "esubc": 0.4,
            "esubfd": 0.7,
            "etrans": 2.0,
            "closure": {"trade_balance": "world_income", "numeraire": {"factor_price": "R1"}},
        },
        {"trade_balance": "world_income", "numeraire": ("factor_price", 0)},
    ),
}


@pytest.mark.parametrize("case", list(REF_CASES))
def test_against_independent_reference(taxed, case):
    """cge against tests/reference_ext.py (scipy, written from docs/extensions.md without reading cge/),
    under an FTA plus output-tax, export-tax and trade-cost shocks."""
    opts, ref_kw = REF_CASES[case]
    m = Model(taxed, options=opts)
    sc = fta(
        shocks=[
            {"export_tax": {"source": "R3", "dest": "R1", "set": 0.25}},
            {"output_tax": {"sector": "S2", "region": "all", "scale": 0.0}},
            {"trade_cost": {"source": "R2", "scale": 0.9}},
        ]
    )
    ins = sc.instruments(m.bench)
    res = m.solve(ins, steps=1).dataset
    el = {k: v for k, v in opts.items() if k != "closure"}
    ref = solve_reference_ext(
        taxed, tariff=ins.tariff, tau=ins.tau, export_tax=ins.export_tax, output_tax=ins.output_tax, **el, **ref_kw
    )
    assert ref["success"]
    np.testing.assert_allclose(res["ev"].values, ref["EV"], rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(res["price"].values, ref["PY"], rtol=1e-7)
    np.testing.assert_allclose(res["output"].values, ref["Y"], rtol=1e-7)
    np.testing.assert_allclose(res["trade_quantity"].values, ref["X"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res["output_tax_revenue"].values, ref["output_tax_revenue"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res["export_tax_revenue"].values, ref["export_tax_revenue"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(res["tariff_revenue"].values, ref["tariff_revenue"], rtol=1e-7)
    if "export_price" in res:
        np.testing.assert_allclose(res["export_price"].values, ref["PE"], rtol=1e-7)
        np.testing.assert_allclose(res["domestic_price"].values, ref["PD"], rtol=1e-7)
    assert abs(float(res["walras_residual"]) - ref["walras_residual"]) < 1e-7 * ref["INC"].sum()


def test_sensitivity_uses_the_model_section(data):
    """A sensitivity analysis of a scenario with a model section solves on a model built with it."""
    from cge.sensitivity import sensitivity

    sc = fta(model={"esubt": 0.5, "closure": {"trade_balance": "world_income"}})
    out = sensitivity(sc, data=data, parameters="shock", draws=np.array([[1.0]]), scheduler="serial", progress=False)
    direct = cge.run(sc, data=data, steps=1).dataset
    np.testing.assert_allclose(out["ev_pct"].values[0], direct["ev_pct"].values, rtol=1e-9, atol=1e-12)


def test_cli_refuses_a_bad_model_section_with_exit_2(tmp_path, data):
    import subprocess
    import sys

    data.to_netcdf(tmp_path / "syn.nc")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**FTA, "data": "syn.nc", "model": {"etrans": {"S4": 2.0}}}))
    out = subprocess.run(
        [sys.executable, "-m", "cge.cli", "run", str(path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "model.etrans: unknown sector code 'S4'" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "o").exists()
