"""Who gains across provinces (cge/results/inequality.py): the indices on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cge.results.inequality import gini, specialisation, theil, zone_ratio, zones


def test_equal_incomes_have_no_spread():
    assert theil([3.0, 3.0, 3.0], [1, 5, 2]) == pytest.approx(0.0, abs=1e-15)
    assert gini([3.0, 3.0, 3.0], [1, 5, 2]) == 0.0


def test_two_groups_by_hand():
    # two groups of equal size with incomes 1 and 3: mean 2
    # Theil: 0.5 * (1/2) ln(1/2) + 0.5 * (3/2) ln(3/2); Gini: 2 * 0.25 * 2 / (2 * 2) = 0.25
    assert theil([1.0, 3.0], [1, 1]) == pytest.approx(0.25 * math.log(0.5) + 0.75 * math.log(1.5), rel=1e-14)
    assert gini([1.0, 3.0], [1, 1]) == pytest.approx(0.25, rel=1e-14)
    # population weights: 3 people at 1 and 1 at 5 are four people, Gini over persons by hand
    people = [1.0, 1.0, 1.0, 5.0]
    by_person = sum(abs(a - b) for a in people for b in people) / (2 * 16 * np.mean(people))
    assert gini([1.0, 5.0], [3, 1]) == pytest.approx(by_person, rel=1e-14)
    assert theil([1.0, 5.0], [3, 1]) == pytest.approx(theil(people, [1, 1, 1, 1]), rel=1e-14)


def test_one_rich_group_takes_all():
    # n equal groups, one has everything: Gini (n-1)/n, Theil ln n
    y = [0.0, 0.0, 0.0, 4.0]
    assert gini(y, [1, 1, 1, 1]) == pytest.approx(0.75)
    assert theil([1e-300, 1e-300, 1e-300, 4.0], [1, 1, 1, 1]) == pytest.approx(math.log(4), rel=1e-6)


def test_zone_ratio_and_specialisation():
    # zone a: 2 people at 1; zone b: 2 people at 3; mean 2
    assert np.allclose(zone_ratio([1, 1, 3, 3], [1, 1, 1, 1], ["a", "a", "b", "b"], ["a", "b"]), [0.5, 1.5])
    # region 0 makes only sector 0, the rest make only sector 1: the index is 2 (completely different)
    out = np.array([[5.0, 0.0, 0.0], [0.0, 2.0, 3.0]])
    assert specialisation(out)[0] == pytest.approx(2.0)
    # identical structures: 0
    assert np.allclose(specialisation(np.array([[1.0, 2.0], [3.0, 6.0]])), 0.0)


def test_every_province_has_a_zone():
    import cge

    ds = cge.load_dataset("china-provinces")
    z = zones()
    assert sorted(ds.attrs["regions_provinces"].split()) == sorted(z.index)
    assert set(z) == {"east", "central", "west", "northeast"}


@pytest.mark.slow
def test_china_results_and_report(tmp_path):
    """A China scenario's results carry the spread and structure, computed from its own variables, and
    the report shows the provinces table and the heat map."""
    import cge
    from cge.report import render

    sc = {
        "name": "jjj-eu",
        "data": "china-provinces",
        "union": {"name": "JJJ", "members": ["BEJ", "TAJ", "HEB"]},
        "stage": "economic_union",
        "stage_options": {"ntb_cut": 0.1},
    }
    res = cge.run(sc, steps=1)
    ds = res.dataset
    data = cge.load_dataset("china-provinces")
    prov = data.attrs["regions_provinces"].split()
    pop = data["population"].sel(region=prov).values
    y0 = ds["income0"].sel(region=prov).values / pop
    y1 = y0 * (1 + ds["ev_pct"].sel(region=prov).values / 100)
    assert float(ds["theil_provinces0"]) == pytest.approx(theil(y0, pop), rel=1e-10)
    assert float(ds["gini_provinces"]) == pytest.approx(gini(y1, pop), rel=1e-8)
    assert ds["province_output_share"].sel(region=prov).sum("region").values == pytest.approx(1.0)
    assert np.isnan(ds["province_output_share"].sel(region="EUR").values).all()
    assert list(ds["zone"].values) == ["east", "central", "west", "northeast"]
    res.write(tmp_path / "r")
    page = (render(tmp_path / "r") / "index.html").read_text()
    assert "Who gains across provinces" in page and "Which sectors move to which provinces" in page
