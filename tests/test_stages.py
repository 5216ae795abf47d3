"""Integration stages (MODEL.md section 7): each sets the instruments it should, ladders, bad options."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import cge
from cge.model.benchmark import benchmark
from tests.support.synthetic import make_dataset

#: solves every stage on the default data, many through the command line: not in the quick selection
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = ["R1", "R2", "R3"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    ds = make_dataset(n_regions=5, n_sectors=3, seed=21)
    path = tmp_path_factory.mktemp("stages") / "syn.nc"
    ds.to_netcdf(path)
    return cge.load_dataset(path), path


@pytest.fixture(scope="module")
def model(data):
    return cge.Model(data[0])


def scenario(data, stage, **opts):
    body = {"name": f"t-{stage}", "data": str(data[1]), "union": {"name": "U", "members": MEMBERS}, "stage": stage}
    if opts:
        body["stage_options"] = opts
    return cge.Scenario.from_dict(body)


def idx(ds, codes):
    return [list(map(str, ds["region"].values)).index(c) for c in codes]


def test_pta_cuts_internal_tariffs_by_the_margin_on_listed_sectors(data):
    ds, _ = data
    ins = scenario(data, "pta", margin=0.4, sectors=["S2"]).instruments(benchmark(ds))
    t0 = ds["tariff"].values
    m, n = idx(ds, MEMBERS), idx(ds, ["R4", "R5"])
    for s in m:
        for r in m:
            if s != r:
                assert ins.tariff[1, s, r] == pytest.approx(0.6 * t0[1, s, r])
                assert ins.tariff[0, s, r] == t0[0, s, r] and ins.tariff[2, s, r] == t0[2, s, r]
    assert np.array_equal(ins.tariff[:, n, :], t0[:, n, :]) and np.array_equal(ins.tariff[:, :, n], t0[:, :, n])


def test_fta_zero_internal_keeps_external(data):
    ds, _ = data
    ins = scenario(data, "fta").instruments(benchmark(ds))
    m, n = idx(ds, MEMBERS), idx(ds, ["R4", "R5"])
    assert (ins.tariff[:, m][:, :, m] == 0).all()
    t0 = ds["tariff"].values
    assert np.array_equal(ins.tariff[:, n][:, :, m], t0[:, n][:, :, m])
    assert np.array_equal(ins.tau, np.ones_like(ins.tau))


def test_customs_union_common_external_tariff_is_the_import_weighted_average(data, model):
    ds, _ = data
    sc = scenario(data, "customs_union")
    res = model.solve(sc).dataset
    m, n = idx(ds, MEMBERS), idx(ds, ["R4", "R5"])
    t = res["tariff_rate"].values
    t0, x0 = ds["tariff"].values, ds["trade"].values
    for i in range(ds.sizes["sector"]):
        ext = t[i][np.ix_(n, m)]
        assert np.allclose(ext, ext.flat[0])  # every member charges the same
        w = x0[i][np.ix_(n, m)]
        assert ext.flat[0] == pytest.approx((w * t0[i][np.ix_(n, m)]).sum() / w.sum())
    assert (t[:, m][:, :, m] == 0).all()
    # revenue kept by default: received == collected
    np.testing.assert_allclose(res["tariff_revenue_received"], res["tariff_revenue"])


def test_customs_union_given_rates_and_revenue_pool(data, model):
    ds, _ = data
    shares = {"R1": 0.5, "R2": 0.3, "R3": 0.2}
    sc = scenario(
        data, "customs_union", common_external_tariff={"S1": 0.1, "S2": 0.0, "S3": 0.05}, revenue_sharing=shares
    )
    res = model.solve(sc).dataset
    m, n = idx(ds, MEMBERS), idx(ds, ["R4", "R5"])
    t = res["tariff_rate"].values
    assert np.allclose(t[0][np.ix_(n, m)], 0.1) and np.allclose(t[2][np.ix_(n, m)], 0.05)
    coll, recv = res["tariff_revenue"].values, res["tariff_revenue_received"].values
    pool = coll[m].sum()
    np.testing.assert_allclose(recv[m], [0.5 * pool, 0.3 * pool, 0.2 * pool], rtol=1e-10)
    np.testing.assert_allclose(recv[n], coll[n], rtol=1e-12)
    # income accounting: income = factor income + revenue received + B * PNUM
    from cge.model.benchmark import benchmark as bm

    b = bm(ds)
    fac = (res["factor_price"] * xr_endow(b, ds)).sum("factor").values
    np.testing.assert_allclose(res["income"].values, fac + recv + b.B, rtol=1e-9)


def xr_endow(b, ds):
    import xarray as xr

    return xr.DataArray(
        b.endowment0, dims=("factor", "region"), coords={"factor": ds["factor"].values, "region": ds["region"].values}
    )


def test_gdp_revenue_sharing_uses_benchmark_gdp(data, model):
    ds, _ = data
    res = model.solve(scenario(data, "customs_union", revenue_sharing="gdp")).dataset
    b = benchmark(ds)
    m = idx(ds, MEMBERS)
    gdp = b.VA0.sum(axis=0) + b.tariff_revenue0
    pool = res["tariff_revenue"].values[m].sum()
    np.testing.assert_allclose(res["tariff_revenue_received"].values[m], pool * gdp[m] / gdp[m].sum(), rtol=1e-10)


def test_common_market_one_factor_price_and_union_wide_clearing(data, model):
    ds, _ = data
    res = model.solve(scenario(data, "common_market", mobile_factors=["capital"])).dataset
    m, n = idx(ds, MEMBERS), idx(ds, ["R4", "R5"])
    wk = res["factor_price"].sel(factor="capital").values
    assert np.ptp(wk[m]) < 1e-9  # one union-wide price
    flow = res["factor_flow"].sel(factor="capital").values
    assert abs(flow[m].sum()) < 1e-8 * np.abs(flow).max() and np.abs(flow[m]).max() > 1e-6  # it moves
    assert np.all(flow[n] == pytest.approx(0, abs=1e-9))
    assert np.abs(res["factor_flow"].sel(factor="labour").values).max() < 1e-9
    # union-wide clearing: demand for capital in members = members' endowments
    b = benchmark(ds)
    k = list(map(str, ds["factor"].values)).index("capital")
    y, pva, w = res["output"].values, res["value_added_price"].values, res["factor_price_sector"].values[k]
    fd = b.F0[k] * y * (pva / w) ** b.esubva[:, None]
    assert fd[:, m].sum() == pytest.approx(b.endowment0[k, m].sum(), rel=1e-9)
    # each region is paid for its own endowment at the union price
    lab = list(map(str, ds["factor"].values)).index("labour")
    fac = wk * b.endowment0[k] + res["factor_price"].values[lab] * b.endowment0[lab]
    np.testing.assert_allclose(res["income"].values, fac + res["tariff_revenue_received"].values + b.B, rtol=1e-9)


def test_economic_union_and_full_integration_set_internal_trade_costs(data):
    ds, _ = data
    b = benchmark(ds)
    m, n = idx(ds, MEMBERS), idx(ds, ["R4", "R5"])
    eu = scenario(data, "economic_union", ntb_cut=0.1).instruments(b)
    full = scenario(data, "full_integration", border_cost=0.46).instruments(b)
    for s in m:
        for r in m:
            if s != r:
                assert np.allclose(eu.tau[:, s, r], 0.9) and np.allclose(full.tau[:, s, r], 1 / 1.46)
            else:
                assert np.allclose(eu.tau[:, s, r], 1.0)
    assert np.allclose(eu.tau[:, n, :], 1.0) and np.allclose(full.tau[:, :, n], 1.0)
    assert (full.factor_pool[:, m] == 1).all() and (full.factor_pool[:, n] == 0).all()


def test_shocks_apply_on_top_of_the_stage(data):
    ds, _ = data
    body = {
        "name": "x",
        "data": str(data[1]),
        "union": {"members": MEMBERS},
        "stage": "fta",
        "shocks": [{"tariff": {"source": ["R1"], "dest": ["R2"], "set": 0.07}}],
    }
    ins = cge.Scenario.from_dict(body).instruments(benchmark(ds))
    assert np.allclose(ins.tariff[:, 0, 1], 0.07) and np.allclose(ins.tariff[:, 1, 0], 0)


def test_ladder_last_stage_equals_the_stage_solved_alone(data, tmp_path):
    ds, path = data
    opts = {"margin": 0.5, "revenue_sharing": "gdp", "mobile_factors": ["capital"], "ntb_cut": 0.2}
    ladder = cge.Scenario.from_dict(
        {
            "name": "lad",
            "data": str(path),
            "union": {"members": MEMBERS},
            "stages": ["pta", "fta", "customs_union", "common_market", "economic_union"],
            "stage_options": opts,
        }
    )
    comp = cge.compare([ladder], data=path)
    assert comp.labels == ["pta", "fta", "customs_union", "common_market", "economic_union"]
    alone = (
        cge.Model(ds)
        .solve(scenario(data, "economic_union", revenue_sharing="gdp", mobile_factors=["capital"], ntb_cut=0.2))
        .dataset
    )
    last = comp.results[-1].dataset
    for v in ("ev", "price", "trade_quantity", "factor_price", "tariff_revenue_received"):
        np.testing.assert_allclose(last[v], alone[v], rtol=1e-8, atol=1e-8)
    table = comp.table()
    assert list(table.columns) == comp.labels and {"union members", "non-members", "world"} <= set(table.index)
    stacked = comp.dataset
    assert stacked.sizes["scenario"] == 5 and "ev_pct" in stacked


def test_compare_cli_prints_one_table(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "cge.cli",
            "compare",
            "scenarios/east-asia-fta.yaml",
            "scenarios/us-china-tariffs.yaml",
            "--out",
            str(tmp_path / "c"),
            "-q",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "east-asia-fta" in out.stdout and "us-china-tariffs" in out.stdout and "world" in out.stdout
    for f in ("comparison.nc", "ev_pct.csv", "east-asia-fta/results.nc", "us-china-tariffs/results.nc"):
        assert (tmp_path / "c" / f).exists(), f


BAD = [
    ({"stage": "pta", "stage_options": {"margin": 1.5}}, "stage_options.margin: must be <= 1"),
    ({"stage": "pta", "stage_options": {"margin": -0.1}}, "stage_options.margin: must be >= 0"),
    ({"stage": "pta"}, "stage_options.margin: required by stage 'pta'"),
    ({"stage": "fta", "stage_options": {"margin": 0.5}}, "stage 'fta' does not use this option"),
    ({"stage": "fta", "stage_options": {"ntb_cutt": 0.5}}, "ntb_cutt: unknown option (did you mean 'ntb_cut'?)"),
    ({"stage": "full_integration", "stage_options": {"border_cost": 0.46, "ntb_cut": 0.1}}, "does not use this option"),
    ({"stage": "customs_union", "stage_options": {"common_external_tariff": {"AGR": -0.1}}}, "must be >= 0"),
    (
        {"stage": "customs_union", "stage_options": {"common_external_tariff": {"AGX": 0.1}}},
        "unknown sector code 'AGX' (did you mean 'AGR'?)",
    ),
    (
        {"stage": "customs_union", "stage_options": {"revenue_sharing": {"CHN": 0.5, "JPN": 0.3, "KOR": 0.1}}},
        "shares must sum to 1",
    ),
    (
        {"stage": "customs_union", "stage_options": {"revenue_sharing": {"CHN": 0.5, "JPN": 0.5}}},
        "no share given for member(s) KOR",
    ),
    (
        {"stage": "customs_union", "stage_options": {"revenue_sharing": {"CHN": 0.5, "JPN": 0.3, "USA": 0.2}}},
        "'USA' is not a member",
    ),
    ({"stage": "common_market", "stage_options": {"mobile_factors": ["land"]}}, "unknown factor 'land'"),
    ({"stage": "economic_union", "stage_options": {"ntb_cut": 1.0}}, "ntb_cut: must be < 1"),
    ({"stage": "fta", "union": {"members": ["CHN"]}}, "a union needs at least two members"),
    ({"stage": "fta", "union": {"members": ["CHN", "XYZ"]}}, "unknown region code 'XYZ'"),
    ({"stage": "fta", "union": None}, "needs a 'union'"),
    (
        {"stages": ["pta", "fta"], "stage_options": {"ntb_cut": 0.1, "margin": 0.2}},
        "no stage of the ladder (pta, fta) uses this option",
    ),
    ({"stage": "fta", "stages": ["pta", "fta"]}, "either 'stage' or 'stages'"),
    ({"stage": "none", "stage_options": {"margin": 0.2}}, "stage 'none' uses no options"),
]


@pytest.mark.parametrize("patch,expect", BAD, ids=[b[1][:40] for b in BAD])
def test_bad_stage_input_exit_2(tmp_path, patch, expect):
    body = {"name": "bad", "data": "default", "union": {"name": "CJK", "members": ["CHN", "JPN", "KOR"]}}
    body.update(patch)
    body = {k: v for k, v in body.items() if v is not None}
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(body))
    out = subprocess.run(
        [sys.executable, "-m", "cge.cli", "run", str(p), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert expect in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "o").exists()


def test_sector_specific_factor_cannot_be_mobile(tmp_path):
    ds = make_dataset(n_regions=3, n_sectors=2, seed=1, factors=(("labour", "mobile"), ("land", "specific")))
    p = tmp_path / "d.nc"
    ds.to_netcdf(p)
    sc = cge.Scenario.from_dict(
        {
            "name": "x",
            "data": str(p),
            "union": {"members": ["R1", "R2"]},
            "stage": "common_market",
            "stage_options": {"mobile_factors": ["land"]},
        }
    )
    with pytest.raises(cge.ScenarioError, match="'land' is sector-specific"):
        sc.instruments(benchmark(ds))
