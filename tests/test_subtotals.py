"""Subtotals (issue 16): each named group of a scenario's changes gets its contribution to every
result; the contributions add up to the total change, are exact for the instruments (linear along
the path), in proportion for proportional changes, and converge as the path's steps shrink."""

import numpy as np
import pytest

import cge
from cge.errors import ScenarioError
from tests.support.synthetic import make_dataset

BODY = {
    "name": "s",
    "union": {"members": ["R1", "R2"]},
    "stage": "fta",
    "shocks": [
        {"trade_cost": {"source": ["R3"], "dest": ["R1"], "scale": 0.9}},  # change 0.1
        {"trade_cost": {"source": ["R3"], "dest": ["R1"], "scale": 0.9}},  # change 0.09, the same direction
        {"endowment": {"factor": "capital", "region": ["R2"], "scale": 1.1}},  # in no group: "other"
    ],
    "subtotals": {"fta": ["stage"], "cost_a": [0], "cost_b": [1]},
}


@pytest.fixture(scope="module")
def model():
    return cge.Model(make_dataset(n_regions=3, n_sectors=2, seed=3))


@pytest.fixture(scope="module")
def solved(model):
    return {n: model.solve(cge.Scenario.from_dict(BODY), steps=n) for n in (2, 4, 8)}


def test_groups_add_up_to_every_change(model, solved):
    res = solved[4]
    sub, bench = res.subtotals, model.benchmark_solution()
    assert list(sub["subtotal"].values) == ["fta", "cost_a", "cost_b", "other"]
    for v in sub.data_vars:
        change = res.dataset[v].values - bench[v].values
        scale = max(float(np.nanmax(np.abs(change))), 1e-300)
        np.testing.assert_allclose(sub[v].sum("subtotal").values, change, atol=1e-12 * scale, err_msg=v)
    # the instruments move linearly: each group's share of a tariff or cost change is its own change
    tariff_change = res.dataset["tariff_rate"] - bench["tariff_rate"]
    np.testing.assert_allclose(sub["tariff_rate"].sel(subtotal="fta"), tariff_change)
    assert float(np.abs(sub["tariff_rate"].sel(subtotal=["cost_a", "cost_b", "other"])).max()) == 0
    cost = sub["trade_cost"].sel(source="R3", dest="R1")
    np.testing.assert_allclose(cost.sel(subtotal=["cost_a", "cost_b"]).values, -np.array([[0.1, 0.1], [0.09, 0.09]]))
    assert sub["ev"].attrs["units"] == res.dataset["ev"].attrs["units"]


def test_proportional_changes_contribute_in_proportion(solved):
    sub = solved[4].subtotals
    for v in ("ev", "price", "trade_quantity"):
        a, b = sub[v].sel(subtotal="cost_a").values, sub[v].sel(subtotal="cost_b").values
        big = np.abs(b) > 1e-6 * np.nanmax(np.abs(b))
        np.testing.assert_allclose(a[big] / b[big], 0.1 / 0.09, rtol=1e-5, err_msg=v)


def test_contributions_converge_at_second_order(solved):
    ev = {n: solved[n].subtotals["ev"].values for n in solved}
    coarse, fine = np.abs(ev[4] - ev[2]).max(), np.abs(ev[8] - ev[4]).max()
    assert 0 < fine < 0.35 * coarse


@pytest.mark.parametrize(
    "subtotals,message",
    [
        ({"a": [3]}, "subtotals.a: 3 is not a shock position"),
        ({"a": ["stage", 0], "b": [0]}, "subtotals.b: 0 is already in group 'a'"),
        ({"a": []}, "subtotals.a: list 'stage'"),
    ],
)
def test_bad_groups_are_named(subtotals, message):
    with pytest.raises(ScenarioError, match=message):
        cge.Scenario.from_dict({**BODY, "shocks": BODY["shocks"][:1], "subtotals": subtotals})
