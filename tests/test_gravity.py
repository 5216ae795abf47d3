"""Border costs by structural gravity (cge/gravity): the conversion, recovery of known border costs
from synthetic flows, the command on the real benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from cge.cli import main
from cge.gravity.estimate import (
    coefficient_of,
    estimate_border,
    flows_frame,
    tariff_equivalent,
    tariff_equivalent_se,
)
from cge.gravity.tables import CHINA_TABLES, great_circle_km

ROOT = Path(__file__).resolve().parents[1]
CAPITALS = pd.read_csv(CHINA_TABLES / "capitals.csv")
#: the goods sectors of china-provinces (the city-cluster ladders' border cost is estimated on them)
GOODS = ["AGR", "COL", "CRU", "GAS", "OMN", "LID", "OIL", "EID", "OID", "TME"]
PROVINCES = [c for c, a in zip(CAPITALS["code"], CAPITALS["area_km2"]) if np.isfinite(a)]
REGIONS = list(CAPITALS["code"])


def test_tariff_equivalent_round_trip_is_exact():
    te = np.array([0.0, 0.1, 0.46, 0.895, 3.0])
    eps = np.array([0.8, 2.8, 4.0, 5.35, 33.4])
    assert np.allclose(tariff_equivalent(coefficient_of(te, eps), eps), te, rtol=1e-14, atol=1e-15)
    beta = np.array([0.5, 3.4, 9.7])
    assert np.allclose(coefficient_of(tariff_equivalent(beta, 4.6), 4.6), beta, rtol=1e-14)
    # the delta method against a central difference
    h = 1e-6
    numeric = (tariff_equivalent(3.4 + h, 5.0) - tariff_equivalent(3.4 - h, 5.0)) / (2 * h)
    assert tariff_equivalent_se(3.4, 1.0, 5.0) == pytest.approx(numeric, rel=1e-8)


def test_great_circle_distance():
    # Beijing to Shanghai is about 1,070 km; a quarter of the equator is pi/2 * 6371 km
    bej, shh = CAPITALS.set_index("code").loc[["BEJ", "SHH"], ["lat", "lon"]].to_numpy()
    assert great_circle_km(*bej, *shh) == pytest.approx(1067, abs=10)
    assert great_circle_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(np.pi / 2 * 6371.0, rel=1e-12)


def synthetic(te_province, te_world, eps, seed=0, noise=4.0) -> xr.Dataset:
    """Flows from the gravity equation with known border costs and multiplicative gamma noise (mean 1)."""
    rng = np.random.default_rng(seed)
    sectors = [f"S{k}" for k in range(len(eps))]
    ds = xr.Dataset(coords={"sector": sectors, "source": REGIONS, "dest": REGIONS})
    ds.attrs.update(name="synthetic", regions_provinces=" ".join(PROVINCES))
    ds["trade"] = xr.DataArray(np.ones((len(sectors), len(REGIONS), len(REGIONS))), dims=("sector", "source", "dest"))
    ds["esubm"] = xr.DataArray(np.asarray(eps) + 1.0, dims="sector")
    frame = flows_frame(ds, sectors)
    e = frame["sector"].map(dict(zip(sectors, eps)))
    exporter = dict(zip(frame["exporter"].unique(), rng.normal(0, 1, frame["exporter"].nunique())))
    importer = dict(zip(frame["importer"].unique(), rng.normal(0, 1, frame["importer"].nunique())))
    mean = np.exp(
        frame["exporter"].map(exporter)
        + frame["importer"].map(importer)
        - 1.1 * frame["log_distance"]
        + e * np.log1p(te_province) * frame["same_province"]
        - e * np.log1p(te_world) * frame["china_world"]
    )
    value = mean * (rng.gamma(noise, 1 / noise, len(frame)) if noise else 1.0)
    k = frame["sector"].map({s: n for n, s in enumerate(sectors)}).to_numpy()
    i = frame["source"].map({r: n for n, r in enumerate(REGIONS)}).to_numpy()
    j = frame["dest"].map({r: n for n, r in enumerate(REGIONS)}).to_numpy()
    trade = np.zeros(ds["trade"].shape)
    trade[k, i, j] = value
    ds["trade"].values[:] = trade
    return ds


def test_recovers_known_border_costs():
    eps = [4.0, 6.0]
    table = estimate_border(synthetic(0.6, 0.25, eps, noise=25.0)).set_index(["scope", "border"])
    for scope in ["S0", "S1"]:
        for border, true in [("province", 0.6), ("china_world", 0.25)]:
            row = table.loc[(scope, border)]
            assert row["basis"] == "own"
            # within 4 robust standard errors: over 20 seeds the estimates' spread is 1.3 to 2.5 times the
            # robust standard error (two-way fixed effects, docs/gravity.md), so 4 se is about 2 sd
            assert abs(row["tariff_equivalent"] - true) < 4 * row["tariff_equivalent_se"], (scope, border)
            assert row["tariff_equivalent_se"] < 0.1
    # pooled, the coefficient lies between the sectors' true coefficients (elasticities differ)
    for border, true in [("province", 0.6), ("china_world", 0.25)]:
        row = table.loc[("pooled", border)]
        lo, hi = coefficient_of(true, eps[0]), coefficient_of(true, eps[1])
        assert lo - 4 * row["se"] < row["coefficient"] < hi + 4 * row["se"], border
    # the pooled elasticity is the interprovincial-trade-weighted mean of the sectors'
    assert eps[0] <= table.loc[("pooled", "province"), "elasticity"] <= eps[1]


def test_command_on_real_benchmark(tmp_path, capsys):
    out = tmp_path / "b.csv"
    with pytest.raises(SystemExit) as exc:
        main(["estimate-border", "china-provinces", "--sectors", "EID,GAS", "--out", str(out)])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "0.46" in text and "Poncet" in text
    table = pd.read_csv(out).set_index(["scope", "border"])
    assert list(table.index.get_level_values(0).unique()) == ["pooled", "EID", "GAS"]
    pooled = table.loc[("pooled", "province")]
    assert 0 < pooled["tariff_equivalent"] < 5 and 0 < pooled["tariff_equivalent_se"] < pooled["tariff_equivalent"]
    # GAS is hardly traded with the world: its China-world border falls back to the pooled coefficient
    assert table.loc[("GAS", "china_world"), "basis"] == "pooled"
    assert table.loc[("GAS", "china_world"), "coefficient"] == table.loc[("pooled", "china_world"), "coefficient"]


def test_bad_input(tmp_path, capsys):
    for args, words in [
        (["estimate-border", "china-provinces", "--sectors", "AGR,XYZ"], ["XYZ", "sector"]),
        (["estimate-border", "default"], ["regions_provinces"]),
        (["estimate-border", "china-provinces", "--capitals", str(tmp_path / "none.csv")], ["none.csv", "not found"]),
    ]:
        with pytest.raises(SystemExit) as exc:
            main([*args, "--out", str(tmp_path / "x.csv")])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert all(w in err for w in words), err
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.slow
def test_committed_estimates_reproduce():
    """calibration/china/border-costs.csv is what the command gives on the built-in benchmark."""
    import cge

    committed = pd.read_csv(CHINA_TABLES / "border-costs.csv")
    fresh = estimate_border(cge.load_dataset("china-provinces"))
    pd.testing.assert_frame_equal(fresh, committed, check_exact=False, rtol=1e-6, check_dtype=False)


@pytest.mark.slow
def test_committed_goods_estimates_reproduce():
    """scenarios/china-clusters/border-costs-goods.csv (the city-cluster ladders' border cost) is what
    the command gives on the built-in benchmark's ten goods sectors."""
    import cge

    committed = pd.read_csv(ROOT / "scenarios" / "china-clusters" / "border-costs-goods.csv")
    fresh = estimate_border(cge.load_dataset("china-provinces"), sectors=GOODS)
    pd.testing.assert_frame_equal(fresh, committed, check_exact=False, rtol=1e-6, check_dtype=False)


# ---------------------------------------------------------------- border_cost in a scenario
def _full(tmp_path, border_cost, name="s.yaml"):
    import yaml

    from cge.scenario.scenario import Scenario

    path = tmp_path / name
    path.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "data": "china-provinces",
                "union": {"name": "U", "members": ["BEJ", "TAJ", "HEB"]},
                "stage": "full_integration",
                "stage_options": {"border_cost": border_cost},
            }
        )
    )
    return Scenario.from_yaml(path)


@pytest.fixture(scope="module")
def china_bench():
    import cge
    from cge.model.benchmark import benchmark

    return benchmark(cge.load_dataset("china-provinces"))


def test_border_cost_forms(tmp_path, china_bench):
    import shutil

    est = pd.read_csv(CHINA_TABLES / "border-costs.csv").set_index(["scope", "border"])
    pooled = est.loc[("pooled", "province")]
    b = china_bench
    bej, taj, shh = (b.regions.index(r) for r in ("BEJ", "TAJ", "SHH"))
    tau = _full(tmp_path, "estimated").instruments(b).tau
    assert np.allclose(tau[:, bej, taj], 1 / (1 + pooled["tariff_equivalent"]), rtol=1e-12)
    assert np.all(tau[:, bej, shh] == 1.0) and np.all(tau[:, shh, bej] == 1.0)
    # a file relative to the scenario, each sector's estimate, moved by one standard error
    shutil.copy(CHINA_TABLES / "border-costs.csv", tmp_path / "mine.csv")
    tau = _full(tmp_path, {"file": "mine.csv", "use": "sector", "shift": 1}).instruments(b).tau
    for k, i in enumerate(b.sectors):
        row = est.loc[(i, "province")]
        te = tariff_equivalent(row["coefficient"] + row["se"], row["elasticity"])
        assert tau[k, taj, bej] == pytest.approx(1 / (1 + te), rel=1e-12)
    # a number is the same as before
    tau = _full(tmp_path, 0.46).instruments(b).tau
    assert np.allclose(tau[:, bej, taj], 1 / 1.46)


@pytest.mark.parametrize(
    ("border_cost", "words"),
    [
        ("guess", ["border_cost", "give a number, 'estimated'"]),
        ({"file": "absent.csv"}, ["border_cost", "absent.csv", "cannot read"]),
        ({"file": "x.csv", "use": "all"}, ["border_cost.use"]),
        (-0.1, ["border_cost", ">= 0"]),
    ],
)
def test_border_cost_refused(tmp_path, china_bench, border_cost, words):
    from cge.errors import ScenarioError

    with pytest.raises(ScenarioError) as exc:
        _full(tmp_path, border_cost).instruments(china_bench)
    assert all(w in str(exc.value) for w in words), str(exc.value)


def test_sensitivity_draws_border_cost_from_its_estimate(tmp_path):
    """Quadrature over the border coefficient: the draws' internal trade costs are 1/(1 + te) at the
    coefficient -+ one standard error; a number has no distribution."""
    from cge.errors import InputError
    from cge.scenario.scenario import Scenario
    from cge.sensitivity import sensitivity
    from tests.support.synthetic import make_dataset

    ds = make_dataset(n_regions=3, n_sectors=2, seed=1)
    rows = [("pooled", "province", 0.8, 0.1, 4.0)]
    table = pd.DataFrame(
        [
            dict(zip(["scope", "border", "coefficient", "se", "elasticity"], r), dataset="syn", basis="own", n_obs=9)
            for r in rows
        ]
    )
    table["tariff_equivalent"] = tariff_equivalent(table["coefficient"], table["elasticity"])
    table["tariff_equivalent_se"] = tariff_equivalent_se(table["coefficient"], table["se"], table["elasticity"])
    table.to_csv(tmp_path / "est.csv", index=False)

    def scenario(border_cost):
        return Scenario.from_dict(
            {
                "name": "b",
                "union": {"name": "U", "members": ["R1", "R2"]},
                "stage": "full_integration",
                "stage_options": {"border_cost": border_cost},
            },
            where=str(tmp_path / "b.yaml"),
        )

    out = sensitivity(
        scenario({"file": "est.csv"}), data=ds, parameters="border_cost", scheduler="serial", progress=False
    )
    assert list(out["status"].values) == ["ok", "ok"]
    z = out["param_value"].values[:, 0]
    assert sorted(z) == pytest.approx([-1.0, 1.0])
    tau = out["trade_cost"].sel(source="R1", dest="R2").values  # (draw, sector)
    expect = 1.0 / (1.0 + tariff_equivalent(0.8 + 0.1 * z, 4.0))
    assert np.allclose(tau, expect[:, None], rtol=1e-12)
    ev = out["ev_pct"].sel(region="R1").values
    assert ev[np.argmax(z)] > ev[np.argmin(z)]  # a larger border removed, a larger gain
    with pytest.raises(InputError, match="a number has no distribution"):
        sensitivity(scenario(0.3), data=ds, parameters="border_cost", scheduler="serial", progress=False)

    # a ladder: its last stage (or the one named), solved as that stage's own scenario
    ladder = Scenario.from_dict(
        {
            "name": "b",
            "union": {"name": "U", "members": ["R1", "R2"]},
            "stages": ["fta", "economic_union", "full_integration"],
            "stage_options": {"ntb_cut": 0.1, "border_cost": {"file": "est.csv"}},
        },
        where=str(tmp_path / "b.yaml"),
    )
    kw = dict(data=ds, parameters="border_cost", scheduler="serial", progress=False)
    on_ladder = sensitivity(ladder, **kw)
    assert on_ladder["ev_pct"].values.tolist() == out["ev_pct"].values.tolist()
    named = sensitivity(ladder, stage="full_integration", **kw)
    assert named["ev_pct"].values.tolist() == out["ev_pct"].values.tolist()
    with pytest.raises(InputError, match="not a stage of the ladder \\(fta, economic_union, full_integration\\)"):
        sensitivity(ladder, stage="customs_union", **kw)
    with pytest.raises(InputError, match="not a ladder"):
        sensitivity(scenario({"file": "est.csv"}), stage="fta", **kw)
