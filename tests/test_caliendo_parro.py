"""Caliendo and Parro's (2015) first-order welfare decomposition (issue 16): terms of trade add up to
zero over the world, the parts add up by sector and partner, the volume of trade is the benchmark
tariff revenue times the log change of the volume, and the total approaches EV at first order."""

import numpy as np
import pytest

import cge
from tests.support.synthetic import make_dataset


@pytest.fixture(scope="module")
def model():
    return cge.Model(make_dataset(n_regions=3, n_sectors=2, seed=5))


def cut(model, scale):
    body = {"name": "cut", "shocks": [{"tariff": {"source": ["R2"], "dest": ["R1"], "scale": scale}}]}
    return model.solve(cge.Scenario.from_dict(body), steps=0).dataset


def test_parts_add_up_and_terms_of_trade_net_out(model):
    res = cut(model, 0.5)
    cp = res["welfare_cp"]
    assert cp.dims == ("cp_effect", "sector", "partner", "region")
    np.testing.assert_allclose(
        cp.sel(cp_effect="terms_of_trade").sum(["sector", "partner"]), res["welfare_cp_terms_of_trade"]
    )
    world = float(res["welfare_cp_terms_of_trade"].sum())
    assert abs(world) < 1e-12 * float(np.abs(res["welfare_cp_terms_of_trade"]).max())
    # volume of trade on the route R2 -> R1, sector S1, by hand
    bench = model.benchmark_solution()
    x0 = bench["trade_quantity"].sel(sector="S1", source="R2", dest="R1").item()
    x1 = res["trade_quantity"].sel(sector="S1", source="R2", dest="R1").item()
    t0 = bench["tariff_rate"].sel(sector="S1", source="R2", dest="R1").item()
    by_hand = t0 * x0 * np.log(x1 / x0)  # benchmark prices and trade costs are 1
    cell = cp.sel(cp_effect="volume_of_trade", sector="S1", partner="R2", region="R1").item()
    assert cell == pytest.approx(by_hand, rel=1e-12)


def test_total_approaches_ev_at_first_order(model):
    gaps = []
    for scale in (0.9, 0.95):
        res = cut(model, scale)
        total = res["welfare_cp_terms_of_trade"] + res["welfare_cp_volume_of_trade"]
        gaps.append(float(np.abs(total - res["ev"]).max()) / float(np.abs(res["ev"]).max()))
    assert gaps[1] < 0.6 * gaps[0] and gaps[1] < 0.05  # the gap shrinks with the shock (second order)
