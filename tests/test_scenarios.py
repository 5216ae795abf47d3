"""The scenarios the README promises are shipped; tests/test_golden.py runs each of them, checks its
accounts and compares it to the stored reference.  The city-cluster ladders match
calibration/china/clusters.csv, and one comparison file ranks them all."""

from pathlib import Path

import pandas as pd
import pytest

import cge
from cge.gravity.border import border_rates
from cge.scenario.comparison import read_comparison
from cge.scenario.stages import BorderEstimate
from tests.support.shipped import scenario_files

ROOT = Path(__file__).resolve().parents[1]
CLUSTERS = ROOT / "scenarios" / "china-clusters"
TABLE = pd.read_csv(ROOT / "calibration" / "china" / "clusters.csv", keep_default_na=False)


def test_there_are_shipped_scenarios():
    names = set(scenario_files())
    assert {
        "east-asia-fta",
        "east-asia-fta-dynamic",
        "east-asia-ladder",
        "north-america-fta",
        "china-chengdu-chongqing",
        "china-yangtze-river-delta",
        "china-yangtze-river-delta-scale",
        "china-jing-jin-ji",
    } <= names
    assert {f"china-clusters-{c}" for c in TABLE["cluster"][TABLE["scenario"] != ""]} <= names


def test_every_union_of_provinces_in_clusters_csv_has_its_ladder():
    for row in TABLE.itertuples():
        members = row.members.split()
        if len(members) < 2:  # inside one province: no ladder, the table says where it is represented
            assert row.scenario == "" and "represented by" in row.source, row.cluster
            assert any(members[0] in m.split() for m in TABLE["members"] if len(m.split()) > 1), row.cluster
            continue
        sc = cge.Scenario.from_yaml(ROOT / row.scenario)  # the column names a real file
        assert sc.name == f"china-clusters-{row.cluster}"
        assert sc.union is not None and sc.union.members == members
        assert sc.stages == ["common_market", "economic_union", "full_integration"]


def test_the_cluster_ladders_use_the_estimated_goods_border_cost():
    goods = pd.read_csv(CLUSTERS / "border-costs-goods.csv")
    pooled = goods[(goods["scope"] == "pooled") & (goods["border"] == "province")]["tariff_equivalent"].item()
    for row in TABLE[TABLE["scenario"] != ""].itertuples():
        full = cge.Scenario.from_yaml(ROOT / row.scenario).steps()[-1].integration()
        estimate = full.border_cost  # type: ignore[attr-defined]
        assert isinstance(estimate, BorderEstimate) and estimate.use == "pooled" and estimate.shift == 0
        rates = border_rates(estimate.file, estimate.use, estimate.border, estimate.shift, ["AGR", "OTH"], "b")[0]
        assert list(rates) == pytest.approx([pooled, pooled], rel=1e-9) and 0.5 < pooled < 0.8


def test_one_comparison_file_ranks_every_cluster_ladder():
    spec, scenarios = read_comparison(CLUSTERS / "china-clusters.yaml")
    assert sorted(str(CLUSTERS / p) for p in spec.compare) == sorted(str(ROOT / p) for p in TABLE["scenario"] if p)
    assert spec.rank == "full_integration" and len({s.name for s in scenarios}) == len(scenarios)
