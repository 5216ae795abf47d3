"""Results people read (issue 16): units on every currency figure, EV per person, welfare parts as
one DataArray, allocative efficiency by sector, one member coordinate, full names, and the long
table (CSV and Parquet) with the HTML summaries. One small model, solved twice."""

import numpy as np
import pandas as pd
import pytest

import cge
from cge.dataset.catalogue import full_names
from cge.results import units
from cge.scenario.stages import plain_name
from tests.support.synthetic import make_dataset

UNIT = "billion EUR (2015 prices)"


@pytest.fixture(scope="module")
def solved():
    ds = make_dataset(n_regions=4, n_sectors=3, seed=8)
    ds.attrs.update(name="synthetic", units=UNIT, year=2015)
    ds["population"].attrs["units"] = "million persons"
    body = {"union": {"members": ["R1", "R2"]}, "stage": "fta"}
    scs = [
        cge.Scenario.from_dict({"name": "a", **body}),
        cge.Scenario.from_dict({"name": "b", **body, "stage": "pta", "stage_options": {"margin": 0.5}}),
    ]
    return ds, cge.compare(scs, data=ds)


def test_unit_strings():
    assert units.short("million USD (current, 2011)") == "million USD, 2011"
    assert units.short(UNIT, 2015) == "billion EUR, 2015"
    assert units.per_person("million USD (current, 2011)", "million persons") == (1.0, "USD")
    assert units.per_person(UNIT, "million persons") == (1e3, "EUR")
    assert units.per_person("RMB of 2007 at home", "million persons") is None
    assert units.per_person_text(1e3, "USD") == "thousand USD per person"


def test_every_currency_variable_carries_the_dataset_unit(solved):
    data, comp = solved
    res = comp.results[0].dataset
    stamped = [v for v in res.data_vars if res[v].attrs.get("units") == UNIT]
    assert {"ev", "income", "trade_creation", "welfare", "welfare_allocative_by_sector", "real_gdp"} <= set(stamped)
    assert not [v for v in res.data_vars if "currency" in str(res[v].attrs.get("units", ""))]
    # EV per person: billion EUR / million persons = thousand EUR per person, converted to EUR
    np.testing.assert_allclose(res["ev_per_capita"], 1e3 * res["ev"] / data["population"].values, rtol=1e-14)
    assert res["ev_per_capita"].attrs["units"] == "EUR per person"
    assert res["income_per_capita"].attrs["units"] == "thousand EUR per person"
    assert "billion EUR, 2015" in comp.results[0].summary()


def test_welfare_components_and_allocative_by_sector_add_up(solved):
    res = solved[1].results[0].dataset
    w = res["welfare"]
    assert list(w["component"].values)[:2] == ["allocative_members", "allocative_nonmembers"]
    for c in w["component"].values:  # the separate names are the same numbers
        np.testing.assert_array_equal(w.sel(component=c), res[f"welfare_{c}"])
    np.testing.assert_allclose(w.sum("component") + res["welfare_decomposition_residual"], res["ev"], rtol=1e-12)
    by_sector = res["welfare_allocative_by_sector"].sel(instrument="tariff")
    allocative = res["welfare_allocative_members"] + res["welfare_allocative_nonmembers"]
    scale = float(np.abs(allocative).max())
    np.testing.assert_allclose(by_sector.sum("sector"), allocative, atol=1e-12 * scale)
    assert np.ptp(by_sector.values, axis=0).max() > 0  # it does split by sector


def test_one_member_coordinate_and_names(solved):
    comp = solved[1]
    one, both = comp.results[0].dataset, comp.dataset
    assert one["member"].dims == ("region",) and both["member"].dims == ("scenario", "region")
    np.testing.assert_array_equal(both["member"].sel(scenario="a"), one["member"])
    np.testing.assert_array_equal(both["member_of_union"], both["member"])  # the older name, an alias
    assert list(both["stage"].values) == ["fta", "pta"]
    assert list(one["region_name"].values) == ["R1", "R2", "R3", "R4"]  # not a built-in: the codes
    assert full_names("default", "region", ["CHN", "EUR", "XYZ"]) == [
        "China",
        "European Union (27 members of 2007)",
        "XYZ",
    ]
    assert full_names("china-provinces", "region", ["HEB"]) == ["Hebei"]
    assert plain_name("customs_union") == "Customs union" and plain_name("my step") == "my step"


def test_long_table_matches_the_dataset_and_round_trips(solved, tmp_path):
    comp = solved[1]
    df = comp.to_frame()
    assert tuple(df.columns) == cge.results.tidy.COLUMNS
    assert list(df["scenario"].unique()) == ["a", "b"]
    for label, r in zip(comp.labels, comp.results):
        ev = df[(df.scenario == label) & (df.variable == "ev")].set_index("region")["value"]
        np.testing.assert_array_equal(ev.values, r.dataset["ev"].values)
        alloc = df[(df.scenario == label) & (df.variable == "welfare") & (df.component == "allocative_members")]
        np.testing.assert_array_equal(alloc["value"].values, r.dataset["welfare_allocative_members"].values)
    assert not df["variable"].isin(["welfare_terms_of_trade", "trade_quantity"]).any()  # aliases, bilateral
    assert df["value"].notna().all()
    r1 = df[(df.region == "R1") & (df.variable == "ev")]
    assert r1["member"].tolist() == [True, True] and r1["unit"].tolist() == [UNIT, UNIT]
    comp.write(tmp_path)
    back = pd.read_parquet(tmp_path / "tidy.parquet")
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    csv = pd.read_csv(tmp_path / "tidy.csv")
    np.testing.assert_array_equal(csv["value"].values, df["value"].values)  # full precision
    html = comp.results[0]._repr_html_() + comp._repr_html_()
    assert "billion EUR, 2015" in html and "<table" in html


def test_plots_draw_the_numbers_with_units(solved):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import cge.plot

    comp = solved[1]
    one = comp.results[0].dataset
    ax = cge.plot.ev(comp.results[0])
    np.testing.assert_allclose([p.get_height() for p in ax.patches], one["ev_pct"].values)
    colours = {p.get_facecolor()[:3] for p, m in zip(ax.patches, one["member"].values) if m}
    assert len(colours) == 1 and colours != {p.get_facecolor()[:3] for p in ax.patches[2:]}  # members apart
    ax = cge.plot.ev(comp, pct=False)
    assert len(ax.patches) == 2 * 4 and ax.get_ylabel() == "EV (billion EUR, 2015)"
    ax = cge.plot.decomposition(comp)
    union = comp.dataset["welfare"].sel(region=["R1", "R2"]).sum("region")  # stacked parts, both stages
    drawn = sum(p.get_height() for p in ax.patches)
    assert drawn == pytest.approx(float(union.sum()), rel=1e-12)
    ax = cge.plot.trade_effects(comp.results[0])
    tc = one["trade_creation"].sel(region=["R1", "R2"]).sum("region").values
    np.testing.assert_allclose([p.get_height() for p in ax.patches[: len(tc)]], tc)
    assert "billion EUR, 2015" in ax.get_ylabel()
    plt.close("all")
