"""Every scenario shipped in scenarios/ runs as it is (the README promises it) and its accounts close."""
from pathlib import Path

import numpy as np
import pytest

import cge

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_there_are_shipped_scenarios():
    names = {p.stem for p in SHIPPED}
    assert {"east-asia-fta", "east-asia-ladder", "north-america-fta", "china-chengdu-chongqing",
            "china-yangtze-river-delta", "china-jing-jin-ji"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_runs(path):
    sc = cge.Scenario.from_yaml(path)
    results = cge.compare([sc]).results
    assert len(results) == (len(sc.stages) if sc.is_ladder else 1)
    for res in results:
        ds = res.dataset
        assert ds.attrs["max_residual"] < 1e-8
        assert ds.attrs["walras_residual_relative"] < 1e-7
        ev = ds["ev"].values
        tol = np.maximum(0.01 * np.abs(ev), 1e-4 * ds["income0"].values)
        assert (np.abs(ds["welfare_decomposition_residual"].values) <= tol).all(), ds.attrs["scenario"]
        if "member" in ds.coords and ds["member"].values.any():
            assert np.isfinite(ds["trade_creation"].sel(region=ds["region"][ds["member"]]).values).all()
