"""Tests of the independent extensions reference (tests/reference_ext.py) itself.

The reference is the check on the Pyomo implementation of docs/extensions.md, so it is checked
here against the core reference (neutral options), the benchmark (replication), accounting
identities that it does not impose directly, primal (quantity) forms of its dual (price) nests,
and hand-derived cases.
"""
import numpy as np
import pytest
import xarray as xr

from tests.support.reference_ext import add_taxes, solve_reference_ext, tax_identities
from tests.support.reference_model import solve_reference
from tests.support.synthetic import dataset_variants as _core_variants, make_dataset

CORE_KEYS = ("PY", "Y", "W", "Wspec", "PA", "PM", "PVA", "PU", "INC", "U", "EV", "X", "PG", "C",
             "FD", "tariff_revenue", "INC0", "B")
PRICES = ("PY", "PD", "PE", "PA", "PM", "PVA", "PINT", "PC", "PU", "INC", "W", "Wspec", "PG",
          "tariff_revenue", "export_tax_revenue", "output_tax_revenue", "factor_income", "B_term")
QUANTITIES = ("Y", "X", "C", "A", "FD", "INTD", "DS", "ES", "U", "EV")
SPEC2 = (("labour", "mobile"), ("capital", "specific"))
# every extension on; sector 2 mixes in the Cobb-Douglas/Leontief special forms
EXT = dict(esubt=[0.4, 1.0, 1.5], esubc=[0.3, 0.0, 1.0], esubfd=[0.5, 1.0, 2.0],
           etrans=[2.0, 0.0, 5.0])
NUMERAIRES = [("world_factor_price",), ("utility_price", 1), ("factor_price", 2),
              ("factor_price", 0, 1)]


def _taxed(seed=4, balanced=False, export_rate=(-0.05, 0.1)):
    ds = make_dataset(3, 3, SPEC2, seed=seed, balanced_trade=balanced)
    return add_taxes(ds, output_rate=(-0.05, 0.15), export_rate=export_rate, seed=seed)


def _off(R):
    return ~np.eye(R, dtype=bool)[None]


def _tariff_shock(ds):
    t = ds.tariff.values.copy()
    t[:, 0, 1] = 0.0
    t[:, 1, 0] *= 0.5
    t[:, 2, 0] += 0.1
    return t


def _export_tax_shock(ds):
    te = ds.export_tax.values.copy() if "export_tax" in ds else np.zeros(ds.trade.shape)
    te[0, 1, :] += 0.15
    te[2, 0, :] = -0.05
    return te * _off(ds.sizes["region"])


def _output_tax_shock(ds):
    to = ds.output_tax.values.copy() if "output_tax" in ds else np.zeros(ds.final_demand.shape)
    to[1, 2] = 0.3
    to[0, 0] = -0.05
    return to


def _all_shocks(ds):
    rng = np.random.default_rng(0)
    return dict(tariff=_tariff_shock(ds), export_tax=_export_tax_shock(ds),
                output_tax=_output_tax_shock(ds), tau=rng.uniform(0.8, 1.2, ds.trade.shape),
                endowment=rng.uniform(0.9, 1.1, (ds.sizes["factor"], ds.sizes["region"])))



def _close(a, b, rtol, atol=0.0):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


# ---------------------------------------------------------------------------------------------
# neutral options = the core
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(_core_variants()))
def test_neutral_equals_core(name):
    ds = _core_variants()[name]
    t = _tariff_shock(ds)
    core = solve_reference(ds, tariff=t)
    N, R = ds.sizes["sector"], ds.sizes["region"]
    neutral_explicit = dict(esubt=np.zeros(N), esubc=np.zeros(N), esubfd=np.ones(R),
                            etrans=np.full(N, np.inf), output_tax=np.zeros((N, R)),
                            export_tax=np.zeros((N, R, R)))
    zero_taxes = add_taxes(ds, output_rate=0.0, export_rate=0.0)
    for ext in (solve_reference_ext(ds, tariff=t),
                solve_reference_ext(ds, tariff=t, **neutral_explicit),
                solve_reference_ext(zero_taxes, tariff=t)):
        assert ext["success"] and ext["max_residual"] < 1e-10
        for k in CORE_KEYS:
            assert _close(ext[k], core[k], rtol=1e-10, atol=1e-10), k
        assert abs(ext["walras_residual"] - core["walras_residual"]) < 1e-10 * core["INC"].sum()
        # no CET: one price per cell; no taxes: no revenue
        assert _close(ext["PD"], ext["PY"], 0) and _close(ext["PE"], ext["PY"], 0)
        assert np.all(ext["export_tax_revenue"] == 0) and np.all(ext["output_tax_revenue"] == 0)
    assert not np.allclose(core["U"], 1.0, atol=1e-5)


def test_neutral_equals_core_other_shocks():
    ds = make_dataset(4, 3, SPEC2, seed=7)
    rng = np.random.default_rng(0)
    kw = dict(tau=rng.uniform(0.8, 1.2, ds.trade.shape),
              endowment=rng.uniform(0.9, 1.1, (2, 4)), pnum=1.7)
    core, ext = solve_reference(ds, **kw), solve_reference_ext(ds, **kw)
    for k in CORE_KEYS:
        assert _close(ext[k], core[k], rtol=1e-10, atol=1e-10), k


def test_dataset_elasticities_are_read():
    """Elasticities in the dataset are used when the argument is None; arguments override them."""
    ds = _taxed()
    d = ds.copy()
    d["esubt"] = ("sector", np.array(EXT["esubt"]))
    d["esubc"] = ("sector", np.array(EXT["esubc"]))
    d["esubfd"] = ("region", np.array(EXT["esubfd"]))
    d["etrans"] = ("sector", np.array(EXT["etrans"]))
    t = _tariff_shock(ds)
    r1, r2 = solve_reference_ext(d, tariff=t), solve_reference_ext(ds, tariff=t, **EXT)
    for k in PRICES + QUANTITIES:
        assert _close(r1[k], r2[k], rtol=1e-12, atol=1e-12), k
    r3 = solve_reference_ext(d, tariff=t, esubt=0, esubc=0, esubfd=1, etrans=np.inf)
    r4 = solve_reference_ext(ds, tariff=t)
    assert _close(r3["U"], r4["U"], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# add_taxes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 4])
def test_add_taxes_identities(seed):
    base = make_dataset(3, 3, SPEC2, seed=seed)
    ds = add_taxes(base, output_rate=(-0.05, 0.15), export_rate=(-0.05, 0.1), seed=seed)
    supply, use, output, cost = tax_identities(ds)
    assert np.allclose(supply, use, rtol=1e-12, atol=0)
    assert np.allclose(output, cost, rtol=1e-12, atol=0)
    te, to = ds.export_tax.values, ds.output_tax.values
    assert np.all(np.diagonal(te, axis1=1, axis2=2) == 0)
    assert te.min() < 0 < te.max() and to.min() < 0 < to.max()
    assert np.all(ds.final_demand.values > 0) and np.all(ds.factor_income.values > 0)
    for v in ("trade", "tariff", "intermediate"):
        assert np.array_equal(ds[v].values, base[v].values)
    # the core identities no longer hold (the taxes matter)
    s0, u0, o0, c0 = tax_identities(ds.drop_vars(["export_tax", "output_tax"]))
    assert not np.allclose(s0, u0, rtol=1e-6) and not np.allclose(o0, c0, rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# replication
# ---------------------------------------------------------------------------------------------
REPLICATION_CASES = {
    "none": {},
    "esubt": dict(esubt=0.5), "esubt_cd": dict(esubt=1.0),
    "esubc": dict(esubc=0.7), "esubc_cd": dict(esubc=1.0),
    "esubfd": dict(esubfd=0.6), "esubfd_leontief": dict(esubfd=0.0), "esubfd_high": dict(esubfd=3.0),
    "etrans": dict(etrans=2.0), "etrans_0": dict(etrans=0.0), "etrans_1": dict(etrans=1.0),
    "all": EXT,
    "all_world_income": dict(EXT, trade_balance="world_income"),
    "all_utility_numeraire": dict(EXT, numeraire=("utility_price", 2), pnum=1.0),
    "all_factor_numeraire": dict(EXT, numeraire=("factor_price", 1, 0)),
}


@pytest.mark.parametrize("case", list(REPLICATION_CASES))
def test_replication(case):
    ds = _taxed()
    r = solve_reference_ext(ds, **REPLICATION_CASES[case])
    assert r["success"] and r["max_residual"] < 1e-10
    assert abs(r["walras_residual"]) < 1e-10 * r["INC0"].sum()
    for k in ("PY", "PD", "PE", "PA", "PM", "PVA", "PINT", "PC", "PU", "W", "Wspec", "Y", "U"):
        v = np.asarray(r[k])[~np.isnan(r[k])]
        assert np.allclose(v, 1.0, atol=1e-10), k
    assert np.allclose(r["INC"], r["INC0"], rtol=1e-10) and np.allclose(r["EV"], 0, atol=1e-8)
    assert np.allclose(r["X"], ds.trade.values, rtol=1e-10)
    assert np.allclose(r["INTD"], ds.intermediate.values, rtol=1e-10)
    assert np.allclose(r["C"], ds.final_demand.values, rtol=1e-10)
    assert np.allclose(r["FD"], ds.factor_income.values, rtol=1e-10)
    # benchmark revenues
    X0, te0, t0 = ds.trade.values * _off(3), ds.export_tax.values, ds.tariff.values
    to0, Y0 = ds.output_tax.values, ds.trade.values.sum(axis=2)
    assert np.allclose(r["export_tax_revenue"], (te0 * X0).sum(axis=(0, 2)), rtol=1e-10)
    assert np.allclose(r["tariff_revenue"], (t0 * (1 + te0) * X0).sum(axis=(0, 1)), rtol=1e-10)
    assert np.allclose(r["output_tax_revenue"], (to0 / (1 + to0) * Y0).sum(axis=0), rtol=1e-10)
    assert np.allclose(r["B"], ((1 + te0) * X0).sum(axis=(0, 1)) - ((1 + te0) * X0).sum(axis=(0, 2)))
    if "etrans" in REPLICATION_CASES[case] or case.startswith("all"):
        assert r["cet"].all()


# ---------------------------------------------------------------------------------------------
# homogeneity and numeraire
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("closure", ["numeraire", "world_income"])
@pytest.mark.parametrize("numeraire", NUMERAIRES, ids=lambda n: "_".join(map(str, n)))
def test_homogeneity(numeraire, closure):
    ds = _taxed()
    kw = dict(EXT, **_all_shocks(ds), numeraire=numeraire, trade_balance=closure)
    r1 = solve_reference_ext(ds, pnum=1.0, **kw)
    r2 = solve_reference_ext(ds, pnum=2.0, **kw)
    assert r1["success"] and r2["success"]
    for k in PRICES:
        assert _close(r2[k], 2 * np.asarray(r1[k]), rtol=1e-9, atol=1e-9), k
    for k in QUANTITIES:
        assert _close(r2[k], r1[k], rtol=1e-9, atol=1e-9), k
    assert not np.allclose(r1["U"], 1.0, atol=1e-4)
    # the numeraire index is fixed at pnum
    W = np.where(np.isnan(r1["Wspec"]), np.nan_to_num(r1["W"])[:, None, :], r1["Wspec"])
    F0 = ds.factor_income.values
    if numeraire[0] == "utility_price":
        assert abs(r1["PU"][numeraire[1]] - 1) < 1e-12
    else:
        w = F0.copy()
        if numeraire[0] == "factor_price":
            mask = np.zeros_like(F0, bool)
            mask[numeraire[2] if len(numeraire) > 2 else slice(None), :, numeraire[1]] = True
            w = np.where(mask, F0, 0.0)
        assert abs(np.nansum(w * W) / w.sum() - 1) < 1e-12


def test_numeraire_independence():
    """docs/extensions.md section 5: real results do not depend on the numeraire when B = 0 or under
    the world_income closure, and do depend on it under the core closure with B != 0."""
    def Us(ds, closure):
        return [solve_reference_ext(ds, **EXT, **_all_shocks(ds), numeraire=n,
                                    trade_balance=closure)["U"] for n in NUMERAIRES]
    unbalanced = _taxed()
    balanced = _taxed(seed=3, balanced=True, export_rate=0.0)
    assert np.max(np.abs(solve_reference_ext(balanced)["B"])) < 1e-10
    assert np.max(np.abs(solve_reference_ext(unbalanced)["B"])) > 1.0
    for ds, closure in ((unbalanced, "world_income"), (balanced, "numeraire"),
                        (balanced, "world_income")):
        u = Us(ds, closure)
        for v in u[1:]:
            assert np.allclose(v, u[0], rtol=1e-10), closure
    u = Us(unbalanced, "numeraire")
    for v in u[1:]:
        assert not np.allclose(v, u[0], rtol=1e-6)


def test_bad_options():
    ds = _taxed()
    for kw in (dict(numeraire=("utility_price", 7)), dict(numeraire=("factor_price", 0, 5)),
               dict(numeraire=("gdp",)), dict(trade_balance="fixed"), dict(esubt=-1.0)):
        with pytest.raises(ValueError):
            solve_reference_ext(ds, **kw)
    # labels work as well as indices
    a = solve_reference_ext(ds, numeraire=("factor_price", "R3", "capital"), tariff=_tariff_shock(ds))
    b = solve_reference_ext(ds, numeraire=("factor_price", 2, 1), tariff=_tariff_shock(ds))
    assert np.allclose(a["INC"], b["INC"], rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Walras and accounting identities after shocks
# ---------------------------------------------------------------------------------------------
SHOCKS = {
    "tariff": lambda ds: dict(tariff=_tariff_shock(ds)),
    "export_tax": lambda ds: dict(export_tax=_export_tax_shock(ds)),
    "output_tax": lambda ds: dict(output_tax=_output_tax_shock(ds)),
    "tau": lambda ds: dict(tau=np.random.default_rng(1).uniform(0.7, 1.3, ds.trade.shape)),
    "all": _all_shocks,
}


def _check_identities(ds, r, inst):
    """Identities the reference does not impose equation by equation."""
    R = ds.sizes["region"]
    off = _off(R)
    t, te, to, tau = (inst[k] for k in ("tariff", "export_tax", "output_tax", "tau"))
    X = np.where(off, r["X"], 0.0)
    D = np.einsum("irr->ir", r["X"])
    PE, PD, PY = (np.nan_to_num(r[k]) for k in ("PE", "PD", "PY"))   # NaN where Y0 = 0
    fob = PE[:, :, None] * (1 + te) * tau * X                     # (i, s, r), export tax included
    Y0 = ds.trade.values.sum(axis=2)
    world = r["INC"].sum()
    # revenues recomputed from their definitions (extensions.md section 4)
    assert np.allclose(r["tariff_revenue"], (t * fob).sum(axis=(0, 1)), rtol=1e-12)
    assert np.allclose(r["export_tax_revenue"], (te * PE[:, :, None] * tau * X).sum(axis=(0, 2)),
                       rtol=1e-12, atol=1e-12 * world)
    assert np.allclose(r["output_tax_revenue"], np.nansum(to / (1 + to) * PY * r["Y"] * Y0, axis=0),
                       rtol=1e-12)
    # income = factor income + revenues + B term; factor income from factor demand
    W = np.where(np.isnan(r["Wspec"]), np.nan_to_num(r["W"])[:, None, :], r["Wspec"])
    assert np.allclose(np.nansum(W * r["FD"], axis=(0, 1)), r["factor_income"], rtol=1e-9)
    parts = (r["factor_income"] + r["tariff_revenue"] + r["export_tax_revenue"]
             + r["output_tax_revenue"] + r["B_term"])
    assert np.allclose(r["INC"], parts, rtol=1e-10)
    # income = expenditure
    assert np.allclose((r["PA"] * r["C"]).sum(axis=0), r["INC"], rtol=1e-12)
    # balance of payments: fob imports - fob exports = B term (needs every market, incl. the dropped)
    bop = fob.sum(axis=(0, 1)) - fob.sum(axis=(0, 2)) - r["B_term"]
    assert np.max(np.abs(bop)) < 1e-9 * world
    assert abs(r["B_term"].sum()) < 1e-10 * world
    # nest value identities (Euler: each CES/CET index times its quantity = sum of input values)
    yv = Y0 > 0
    A = r["A"]
    PA = np.nan_to_num(r["PA"], nan=1.0)
    assert np.allclose(PA * A, np.nan_to_num(PD) * D + np.nansum(r["PG"] * X, axis=1), rtol=1e-10)
    COST = (r["INTD"] * PA[:, None, :]).sum(axis=0) + np.nansum(W * r["FD"], axis=0)
    assert np.allclose((PY * r["Y"] * Y0 / (1 + to))[yv], COST[yv], rtol=1e-10)
    assert np.allclose(COST[~yv], 0.0)
    assert np.allclose(A, r["INTD"].sum(axis=1) + r["C"], rtol=1e-12)
    # every market clears, the dropped one too: CET supplies = demands
    EX = (tau * X).sum(axis=2)
    assert np.allclose(r["DS"][yv], D[yv], rtol=1e-9) and np.allclose(r["ES"][yv], EX[yv], rtol=1e-9)
    assert np.allclose((PY * r["Y"] * Y0)[yv], (PD * D + PE * EX)[yv], rtol=1e-10)
    assert np.allclose(D[~yv], 0.0) and np.allclose(EX[~yv], 0.0)


def _primal_checks(ds, r, st, sfd, eta):
    """Quantities against the primal (quantity) forms of the nests, with benchmark-value shares:
    utility U = (sum beta q^rho)^(1/rho), rho = (s-1)/s, q = C / final_demand (CD: prod q^beta);
    output Y = (thVA v^rho + (1-thVA) b^rho)^(1/rho) with v = VA quantity, b = bundle quantity;
    CET: Y = (thDS d^k + (1-thDS) e^k)^(1/k), k = (1+eta)/eta, d = DS/D0, e = ES/E0."""
    final = ds.final_demand.values
    beta = final / final.sum(axis=0)
    q = r["C"] / final
    for rr in range(ds.sizes["region"]):
        s = sfd[rr]
        if s == 1.0:
            U = np.prod(q[:, rr] ** beta[:, rr])
        elif s == 0.0:
            U = np.min(q[:, rr])
        else:
            rho = (s - 1) / s
            U = np.sum(beta[:, rr] * q[:, rr] ** rho) ** (1 / rho)
        assert abs(U - r["U"][rr]) < 1e-9, rr
    # production: value added quantity from the VA nest's primal is not needed; the bundle and VA
    # quantities are their demands deflated to benchmark (CES nests below are homothetic)
    F0, I0 = ds.factor_income.values, ds.intermediate.values
    VA0, INT0 = F0.sum(axis=0), I0.sum(axis=0)
    PVA, PINT, PC = r["PVA"], r["PINT"], r["PC"]
    W = np.where(np.isnan(r["Wspec"]), np.nan_to_num(r["W"])[:, None, :], r["Wspec"])
    v = np.nansum(W * r["FD"], axis=0) / PVA / VA0
    b = (r["INTD"] * r["PA"][:, None, :]).sum(axis=0) / PINT / INT0
    th = VA0 / (VA0 + INT0)
    for j in range(ds.sizes["sector"]):
        s = st[j]
        if s == 1.0:
            Y = v[j] ** th[j] * b[j] ** (1 - th[j])
        elif s == 0.0:
            Y = np.minimum(v[j], b[j])
        else:
            rho = (s - 1) / s
            Y = (th[j] * v[j] ** rho + (1 - th[j]) * b[j] ** rho) ** (1 / rho)
        assert np.allclose(Y, r["Y"][j], rtol=1e-9), j
    del PC
    Y0 = ds.trade.values.sum(axis=2)
    D0 = np.einsum("irr->ir", ds.trade.values)
    d, e, thDS = r["DS"] / D0, r["ES"] / (Y0 - D0), D0 / Y0
    for i in range(ds.sizes["sector"]):
        if np.isinf(eta[i]):
            continue
        if eta[i] == 0:
            assert np.allclose(d[i], r["Y"][i], rtol=1e-9) and np.allclose(e[i], r["Y"][i], rtol=1e-9)
        else:
            k = (1 + eta[i]) / eta[i]
            Yc = (thDS[i] * d[i] ** k + (1 - thDS[i]) * e[i] ** k) ** (1 / k)
            assert np.allclose(Yc, r["Y"][i], rtol=1e-9), i


@pytest.mark.parametrize("closure", ["numeraire", "world_income"])
@pytest.mark.parametrize("shock", list(SHOCKS))
def test_walras_and_identities(shock, closure):
    ds = _taxed()
    kw = SHOCKS[shock](ds)
    r = solve_reference_ext(ds, **EXT, **kw, trade_balance=closure)
    assert r["success"] and r["max_residual"] < 1e-10
    assert abs(r["walras_residual"]) < 1e-9 * r["INC"].sum()
    assert not np.allclose(r["U"], 1.0, atol=1e-5)
    _check_identities(ds, r, r["instruments"])
    _primal_checks(ds, r, np.array(EXT["esubt"]), np.array(EXT["esubfd"]), np.array(EXT["etrans"]))


def test_cet_splits_prices():
    """With a finite etrans, export and domestic prices part; higher export tax on a source lowers
    its export price relative to its domestic price; etrans = inf keeps one price."""
    ds = _taxed()
    te = ds.export_tax.values.copy()
    te[:, 0, 1:] += 0.2
    r = solve_reference_ext(ds, **EXT, export_tax=te)
    assert np.all(r["PE"][:, 0] < r["PD"][:, 0])
    r = solve_reference_ext(ds, export_tax=te)
    assert np.allclose(r["PE"], r["PD"], rtol=0) and np.allclose(r["PE"], r["PY"], rtol=0)


def test_zero_cells_with_extensions():
    """No imports of S1 into R1, no production of S2 in R3, a sector with no exports from R2
    (one outlet: no CET there)."""
    ds = make_dataset(3, 3, SPEC2, seed=4)
    tr = ds["trade"].values
    tr[0, 1:, 0] = 0.0
    tr[1, 2, :] = 0.0
    tr[2, 1, [0, 2]] = 0.0
    ds["intermediate"][:, 1, 2] = 0.0
    ds["intermediate"][1, :, 2] *= 0.1
    ds["factor_income"][1, 2, 1] = 0.0
    from tests.test_reference_model import _rebalance
    ds = add_taxes(_rebalance(ds), output_rate=0.1, export_rate=0.1, seed=2)
    r0 = solve_reference_ext(ds, **EXT)
    assert r0["max_residual"] < 1e-10
    assert not r0["cet"][2, 1] and not r0["cet"][1, 2] and r0["cet"][0, 0]
    assert np.isnan(r0["PY"][1, 2]) and np.isnan(r0["PM"][0, 0])
    r = solve_reference_ext(ds, **EXT, **_all_shocks(ds))
    assert r["success"] and r["max_residual"] < 1e-10
    assert abs(r["walras_residual"]) < 1e-9 * r["INC"].sum()
    assert r["PD"][2, 1] == r["PE"][2, 1] == r["PY"][2, 1]
    _check_identities(ds, r, r["instruments"])


# ---------------------------------------------------------------------------------------------
# limits
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["esubt", "esubc", "esubfd"])
def test_cobb_douglas_limit(which):
    """Exactly 1 uses the Cobb-Douglas form; 1 +- 1e-6 the general one: they agree to 1e-5."""
    ds = _taxed()
    base = dict(EXT, **_all_shocks(ds))
    res = {}
    for s in (1.0 - 1e-6, 1.0, 1.0 + 1e-6):
        v = np.array(base[which], float)
        v[:] = s
        res[s] = solve_reference_ext(ds, **dict(base, **{which: v}))
        assert res[s]["success"] and res[s]["max_residual"] < 1e-9
    ev = {s: 100 * (res[s]["U"] - 1) for s in res}
    assert not np.allclose(ev[1.0], 0, atol=1e-3)
    for s in (1.0 - 1e-6, 1.0 + 1e-6):
        assert np.allclose(ev[s], ev[1.0], rtol=0, atol=1e-5)
        for k in ("PY", "PD", "PE", "PA", "PU", "W", "Wspec", "INC", "Y"):
            assert _close(res[s][k], res[1.0][k], rtol=1e-5), k
    assert not np.allclose(res[1 - 1e-6]["PA"], res[1 + 1e-6]["PA"], rtol=1e-13, atol=0)


def test_etrans_limits():
    """etrans -> inf approaches perfect transformation at rate 1/etrans; etrans = 0 keeps the
    output mix fixed (DS/D0 = ES/E0 = Y)."""
    ds = _taxed()
    kw = dict(tariff=_tariff_shock(ds), export_tax=_export_tax_shock(ds))
    ref = solve_reference_ext(ds, **kw)
    gap = {}
    for e in (1e2, 1e3, 1e4):
        r = solve_reference_ext(ds, etrans=e, **kw)
        assert r["success"]
        gap[e] = np.max(np.abs(r["U"] - ref["U"]))
    assert gap[1e2] > 1e-6
    assert 5 < gap[1e2] / gap[1e3] < 20 and 5 < gap[1e3] / gap[1e4] < 20
    r = solve_reference_ext(ds, etrans=0.0, **kw)
    D0 = np.einsum("irr->ir", ds.trade.values)
    E0 = ds.trade.values.sum(axis=2) - D0
    assert np.allclose(np.einsum("irr->ir", r["X"]) / D0, r["Y"], rtol=1e-10)
    assert np.allclose((r["instruments"]["tau"] * r["X"] * _off(3)).sum(axis=2) / E0, r["Y"],
                       rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# hand-derived cases
# ---------------------------------------------------------------------------------------------
def _hand_dataset(trade, final, factor_income, sectors, factors, mobility, sigma, intermediate=None,
                  tariff=None, esubva=1.0):
    N, R, _ = trade.shape
    reg = [f"R{k + 1}" for k in range(R)]
    inter = np.zeros((N, N, R)) if intermediate is None else intermediate
    tariff = np.zeros((N, R, R)) if tariff is None else tariff
    return xr.Dataset(
        dict(trade=(("sector", "source", "dest"), trade), tariff=(("sector", "source", "dest"), tariff),
             intermediate=(("sector", "user", "region"), inter),
             final_demand=(("sector", "region"), final),
             factor_income=(("factor", "sector", "region"), factor_income),
             esubd=("sector", np.full(N, sigma)), esubm=("sector", np.full(N, sigma)),
             esubva=("sector", np.full(N, esubva)),
             mobility=("factor", np.array(mobility, dtype=object))),
        coords=dict(sector=sectors, source=reg, dest=reg, user=sectors, region=reg, factor=factors))


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0])
def test_analytic_ces_final_demand(sigma):
    """One closed region, two sectors, no intermediates, each sector with its own specific factor
    (k1 in S1, k2 in S2), CES final demand with esubfd = sigma; the S1 factor is scaled by k.

    Derivation: with one specific factor and no intermediates FD = F0 * Y, so Y1 = k and Y2 = 1.
    Closed: C_i = Y_i * Y0_i, so the consumption indices are q1 = C1/final1 = k, q2 = 1. The demand
    C_i = final_i * U * (PU/PA_i)^sigma gives q1/q2 = (PA_2/PA_1)^sigma: PA_1/PA_2 = k^(-1/sigma).
    Utility (primal of PU = CES(beta; PA), value shares beta): U = (beta1 k^rho + beta2)^(1/rho),
    rho = (sigma-1)/sigma; at sigma = 1, U = k^beta1. With the numeraire PU = 1, INC = U * INC0
    and each factor price equals its sector's price (W_i = PY_i = PA_i)."""
    Y0 = np.array([[60.0], [40.0]])
    trade = Y0[:, :, None]                                   # (2, 1, 1)
    F = np.zeros((2, 2, 1))
    F[0, 0, 0], F[1, 1, 0] = 60.0, 40.0
    ds = _hand_dataset(trade, Y0, F, ["S1", "S2"], ["k1", "k2"], ["specific", "specific"], 2.0)
    k = 1.3
    r = solve_reference_ext(ds, esubfd=sigma, esubt=0.7, etrans=2.0, endowment=[[k], [1.0]],
                            numeraire=("utility_price", 0))
    assert r["success"] and r["max_residual"] < 1e-12
    beta1, beta2 = 0.6, 0.4
    rho = (sigma - 1) / sigma
    U = k ** beta1 if sigma == 1 else (beta1 * k ** rho + beta2) ** (1 / rho)
    assert abs(r["U"][0] - U) < 1e-12
    assert np.allclose(r["Y"][:, 0], [k, 1.0], rtol=1e-12)
    assert abs(r["PA"][0, 0] / r["PA"][1, 0] - k ** (-1 / sigma)) < 1e-12
    assert abs(r["PU"][0] - 1) < 1e-13 and abs(r["INC"][0] - U * 100.0) < 1e-10
    assert np.allclose(r["Wspec"][0, 0, 0], r["PA"][0, 0]) and np.allclose(r["Wspec"][1, 1, 0], r["PA"][1, 0])


@pytest.mark.parametrize("sigma", [0.6, 2.0, 5.0])
def test_analytic_leontief_cet(sigma):
    """Two symmetric regions, one sector, one mobile factor, no intermediates or tariffs, D0 = d,
    E0 = e in each, esubd = esubm = sigma, etrans = 0 (fixed output mix); iceberg cost tau on both
    routes. Numeraire world factor price.

    Derivation: by symmetry W = 1 in both regions, so PY = PC = PVA = W = 1 and Y = 1 (fixed
    endowment, FD = F0 * Y). etrans = 0 fixes D = d and ES = tau X = e (X = e/tau). INC = W * F0
    = INC0 = d + e, so A/A0 = C/INC0 = 1/PA. Domestic demand d = d (1/PA)(PA/PD)^sigma gives
    PA^(sigma-1) = PD^sigma; import demand e/tau = e (1/PA)(PA/(PE tau))^sigma gives
    PA^(sigma-1) = (PE tau)^sigma tau^-1; so PE = PD tau^((1-sigma)/sigma). The linear CET index
    PY = th PD + (1-th) PE = 1 with th = d/(d+e) gives
        PD = 1 / (th + (1-th) tau^((1-sigma)/sigma)),
    and U = INC/(INC0 PU) = 1/PA = PD^(sigma/(1-sigma))."""
    d, e = 80.0, 20.0
    trade = np.array([[[d, e], [e, d]]])
    ds = _hand_dataset(trade, np.array([[d + e, d + e]]), np.array([[[d + e, d + e]]]), ["S1"],
                       ["labour"], ["mobile"], sigma)
    tau_ = 1.25
    tau = np.full((1, 2, 2), tau_)
    r = solve_reference_ext(ds, etrans=0.0, esubfd=0.5, tau=tau)
    assert r["success"] and r["max_residual"] < 1e-12
    th = d / (d + e)
    PD = 1 / (th + (1 - th) * tau_ ** ((1 - sigma) / sigma))
    PE = PD * tau_ ** ((1 - sigma) / sigma)
    assert np.allclose(r["PD"], PD, rtol=1e-12) and np.allclose(r["PE"], PE, rtol=1e-12)
    assert np.allclose(r["PY"], 1.0, rtol=1e-12) and np.allclose(r["W"], 1.0, rtol=1e-12)
    assert np.allclose(r["U"], PD ** (sigma / (1 - sigma)), rtol=1e-12)
    assert np.allclose(r["X"][0], [[d, e / tau_], [e / tau_, d]], rtol=1e-12)
    assert np.all(r["U"] < 1)


def test_analytic_uniform_output_tax():
    """A uniform output tax (same rate on every sector and region), no intermediates, no benchmark
    taxes, unbalanced trade, CET and CES final demand on.

    Derivation: with no intermediates PC = PVA, and zero profit gives PY = (1+to) PVA everywhere.
    Try the benchmark allocation with every goods price scaled by k and every factor price by
    k/(1+to). Output-tax revenue is to/(1+to) * k * Y0 = to * (k/(1+to)) * VA0, so factor income
    plus output tax is k * VA0; tariff revenue scales by k, so INC = k (INC0 - B) + Bterm. The
    allocation is unchanged (U = 1) iff Bterm = k B: true under the world_income closure (for any
    numeraire), and under the core closure when the numeraire is a utility price (k = 1). With
    the core closure and the world factor price as numeraire, k = 1+to and B*pnum = B != k B:
    regions with deficits lose real transfers, so U != 1 where B != 0."""
    ds = make_dataset(3, 2, seed=2, intermediates=False)
    to = 0.1
    kw = dict(output_tax=np.full((2, 3), to), etrans=[1.5, 0.0], esubfd=[0.5, 1.0, 2.0])
    r = solve_reference_ext(ds, numeraire=("utility_price", 1), **kw)
    assert r["success"] and np.max(np.abs(r["B"])) > 1.0
    for key in ("PY", "PD", "PE", "PA", "PU", "Y", "U"):
        assert np.allclose(r[key], 1.0, atol=1e-12), key
    assert np.allclose(r["W"], 1 / (1 + to), rtol=1e-12) and np.allclose(r["INC"], r["INC0"], rtol=1e-12)
    Y0 = ds.trade.values.sum(axis=2)
    assert np.allclose(r["output_tax_revenue"], to / (1 + to) * Y0.sum(axis=0), rtol=1e-12)
    r = solve_reference_ext(ds, trade_balance="world_income", **kw)
    assert np.allclose(r["U"], 1.0, atol=1e-12) and np.allclose(r["W"], 1.0, rtol=1e-12)
    assert np.allclose(r["PY"], 1 + to, rtol=1e-12) and np.allclose(r["INC"], (1 + to) * r["INC0"])
    r = solve_reference_ext(ds, **kw)
    assert np.all(np.abs(r["U"] - 1) > 1e-4)


@pytest.mark.parametrize("closure", ["numeraire", "world_income"])
def test_lerner_symmetry(closure):
    """Lerner symmetry: with balanced trade (B = 0), a tariff x on all of region 0's imports (on top
    of its benchmark tariffs: 1+t = (1+t0)(1+x)) and an export tax x on all of region 0's exports
    give the same real equilibrium; region 0's prices (and income) in the export-tax case are the
    tariff case's divided by 1+x; other regions' prices are the same (numeraire: region 1's
    utility price).

    Derivation: dividing region 0's prices by 1+x leaves every relative price region 0 faces
    unchanged (imports: PE_s vs PE_s (1+x) / (1+x)) and foreigners pay PE_0/(1+x) * (1+x) = PE_0
    for its exports, as before. Region 0's income: (1+x) INC_B = factor income + output tax +
    (1+x) t0 fob_imp + x fob_exp, and INC_A = ... + (1+x) t0 fob_imp + x fob_imp: equal because
    fob_imp = fob_exp when B = 0 (balance of payments). All extensions are on."""
    ds = _taxed(seed=3, balanced=True, export_rate=0.0)
    x = 0.2
    t0 = ds.tariff.values
    tA = t0.copy()
    tA[:, 1:, 0] = (1 + t0[:, 1:, 0]) * (1 + x) - 1
    teB = np.zeros_like(t0)
    teB[:, 0, 1:] = x
    kw = dict(EXT, numeraire=("utility_price", 1), trade_balance=closure)
    rA = solve_reference_ext(ds, tariff=tA, **kw)
    rB = solve_reference_ext(ds, export_tax=teB, **kw)
    assert rA["success"] and rB["success"] and np.max(np.abs(rA["B"])) < 1e-10
    for k in ("Y", "X", "C", "INTD", "FD", "U", "EV"):
        assert np.allclose(rA[k], rB[k], rtol=1e-9, atol=1e-9), k
    assert not np.allclose(rA["U"], 1.0, atol=1e-4)
    for k in ("PY", "PD", "PE", "PA", "W", "Wspec", "INC", "PU"):
        a, b = np.asarray(rA[k]), np.asarray(rB[k])
        assert _close(b[..., 0], a[..., 0] / (1 + x), rtol=1e-9), k
        assert _close(b[..., 1:], a[..., 1:], rtol=1e-9), k
