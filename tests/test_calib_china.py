"""The China interprovincial benchmark (cge.dataset.china) against MODEL.md section 2 and the raw data.

Needs ../shared/data/china_provinces (not in the repository); skipped when it is absent.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cge
from cge.dataset.china import read_china_provinces, reconciliation
from cge.dataset.schema import check_dataset, trade_balance
from cge.model.benchmark import benchmark
from cge.scenario.scenario import Instruments

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "china_provinces"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (RAW / "vom.csv").is_file(),
        reason=f"raw China provinces data not found at {RAW} (it is not in the repository)",
    ),
]

WORLD = ["EUR", "APD", "ASI", "NAM", "CAA", "ROW"]


def raw(name):
    df = pd.read_csv(RAW / f"{name}.csv", keep_default_na=False, dtype=str)
    if "value" in df:
        df["value"] = [float(v) for v in df["value"]]
    return df


@pytest.fixture(scope="module")
def ds():
    return read_china_provinces(RAW)


@pytest.fixture(scope="module")
def model(ds):
    return cge.Model(ds)


def test_passes_check_dataset(ds):
    rep = check_dataset(ds)
    assert rep.ok, rep.message("china-provinces")


def test_codes_and_sizes(ds):
    provinces = raw("regions").query("kind == 'province'")["code"].tolist()
    assert len(provinces) == 30 and "HUN" in provinces and "SIC" in provinces and "CHQ" in provinces
    regions = [str(r) for r in ds["region"].values]
    assert ds.sizes["region"] == 36 and regions == provinces + WORLD
    assert [str(s) for s in ds["sector"].values] == raw("sectors")["code"].tolist()
    assert ds.sizes["sector"] == 16
    assert [str(f) for f in ds["factor"].values] == ["labour", "capital", "resource"]
    assert [str(m) for m in ds["mobility"].values] == ["mobile", "mobile", "specific"]
    assert ds.attrs["year"] == 2007 and "billion USD" in ds.attrs["units"]
    for key in ("title", "source", "licence_note", "mapping_notes", "reconciliation"):
        assert ds.attrs[key]
    assert "GTAP" in ds.attrs["licence_note"] and "3ecb584d" in ds.attrs["source"]


def test_identities_tight(ds):
    from cge.dataset.schema import identity_gaps

    g1, t1, g2, t2 = identity_gaps(ds)
    assert np.max(np.abs(g1) / np.where(t1 > 0, t1, 1)) < 1e-10
    assert np.max(np.abs(g2) / np.where(t2 > 0, t2, 1)) < 1e-10
    for v in ("trade", "intermediate", "final_demand", "factor_income"):
        assert (ds[v].values >= 0).all(), v
    assert (ds["final_demand"].sum("sector").values > 0).all()
    assert abs(trade_balance(ds).sum()) < 1e-9


def test_totals_match_raw(ds):
    """Output per region = vom (+ vomnhw) plus export taxes and intra-aggregate tariffs, which are the
    only folds that change the value of a region's sales (documented in calibration/china-provinces.md)."""
    vom = raw("vom")
    vom = vom[~vom["activity"].isin(["c", "g", "i"])].groupby("region")["value"].sum()
    vom = vom.add(raw("vomnhw").groupby("region")["value"].sum(), fill_value=0.0)
    vxmd = raw("vxmd").merge(raw("rtxs"), on=["good", "src", "dst"], how="left", suffixes=("", "_tx")).fillna(0.0)
    export_tax = (-vxmd["value"] * vxmd["value_tx"]).groupby(vxmd["src"]).sum()
    Y0 = ds["trade"].sum(("sector", "dest")).to_series()
    for r, y in Y0.items():
        expected = vom[r] + export_tax.get(r, 0.0)
        if r in WORLD:  # plus tariffs on intra-aggregate trade, now domestic sales
            expected += _intra_tariff(r)
        assert y == pytest.approx(expected, rel=1e-10), r
    # China: output = vom + export taxes to the world
    china = Y0[[r for r in Y0.index if r not in WORLD]].sum()
    assert china == pytest.approx(9210.076 + 54.862, rel=1e-6)
    rec = reconciliation(ds)
    assert rec["folds_into_factor_income"]["export_tax"]["china"] == pytest.approx(54.862, abs=1e-3)
    assert rec["dropped_final_demand_purchase_taxes"]["world"] == pytest.approx(2246.214, abs=1e-3)
    # trade balances are the source's vb (check_identities.py): NAM 823.7, CAA -280.9, JSU -100.0
    B = dict(zip([str(r) for r in ds["region"].values], trade_balance(ds)))
    assert B["NAM"] == pytest.approx(823.72, abs=0.01)
    assert B["CAA"] == pytest.approx(-280.93, abs=0.01)
    assert B["JSU"] == pytest.approx(-99.99, abs=0.01)
    assert sum(B[r] for r in B if r not in WORLD) == pytest.approx(-294.637, abs=1e-3)
    # provincial income = source absorption c+g+i (no final-demand taxes there), except ZHJ (+ the
    # GDT subsidy repaired by moving inputs to final demand, 0.290 bn USD)
    inc = ds["final_demand"].sum("sector").to_series()
    absorb = raw("vom").query("activity in ['c', 'g', 'i']").groupby("region")["value"].sum()
    for r in inc.index:
        if r in WORLD:
            assert inc[r] < absorb[r]
        elif r == "ZHJ":
            assert inc[r] - absorb[r] == pytest.approx(0.290469, abs=1e-6)
        else:
            assert inc[r] == pytest.approx(absorb[r], rel=1e-10, abs=1e-12), r
    # interprovincial trade = vxmd (the README's 2,382) for every good except TRP, which also carries
    # the transport services the provinces supply to the international-margin pool
    prov = [r for r in ds["region"].values if r not in WORLD]
    vx = raw("vxmd").query("src in @prov and dst in @prov")
    for good in ("COL", "LID", "OTH"):
        t = ds["trade"].sel(sector=good, source=prov, dest=prov).values
        assert t.sum() - np.trace(t) == pytest.approx(vx.query("good == @good")["value"].sum(), rel=1e-12)
    assert vx["value"].sum() == pytest.approx(2382, abs=1)


def _intra_tariff(r):
    df = raw("vxmd").query("src == dst and src == @r")
    df = df.merge(raw("rtxs"), on=["good", "src", "dst"], how="left", suffixes=("", "_tx"))
    df = df.merge(raw("vtwr"), on=["good", "src", "dst"], how="left", suffixes=("", "_tw"))
    df = df.merge(raw("rtms"), on=["good", "src", "dst"], how="left", suffixes=("", "_tm")).fillna(0.0)
    return float((df["value_tm"] * (df["value"] * (1 - df["value_tx"]) + df["value_tw"])).sum())


def test_population(ds):
    pop = ds["population"].to_series()
    assert pop["BEJ"] == pytest.approx(16.33)
    assert ds["population"].attrs["units"] == "million persons"
    assert (pop > 0).all()


def test_replicates_benchmark(model):
    r = model.solve()
    assert r.dataset.attrs["max_residual"] < 1e-8


def test_sichuan_chongqing_border_cut(ds, model):
    """Full integration of Sichuan and Chongqing: tau between them = 1/1.46 (border cost 0.46)."""
    b = benchmark(ds)
    ins = Instruments.benchmark(b)
    i, j = b.regions.index("SIC"), b.regions.index("CHQ")
    ins.tau[:, i, j] = 1 / 1.46
    ins.tau[:, j, i] = 1 / 1.46
    res = model.solve(ins).dataset
    assert res.attrs["max_residual"] < 1e-8
    ev = res["ev"].to_series()
    assert np.isfinite(ev.values).all()
    assert ev["SIC"] > 0 and ev["CHQ"] > 0
