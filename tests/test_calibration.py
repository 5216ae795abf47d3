"""The default benchmark's recipe rebuilds the committed file from the raw data in ../shared/data."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cge
from tests.support.rebuild import rebuild

#: solves many models or builds datasets: left out of the quick selection (-m 'not slow')
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "data"
need_raw = pytest.mark.skipif(
    not (RAW / "wiod2013" / "wiot_2011_flows.csv.gz").exists() or not (RAW / "cp1993" / "tariffs2005.txt").exists(),
    reason=f"raw WIOD 2013 / Caliendo-Parro data not found under {RAW}",
)


@need_raw
def test_recipe_rebuilds_the_committed_default(tmp_path):
    out = tmp_path / "default.nc"
    run = rebuild([str(ROOT / "calibration" / "build_default.py"), "--out", str(out)])
    assert run.returncode == 0, run.stdout + run.stderr
    new = cge.load_dataset(out)
    old = cge.load_dataset("default")
    for v in cge.dataset.schema.SCHEMA:
        if v == "mobility":
            assert list(new[v].values) == list(old[v].values)
        else:
            np.testing.assert_array_equal(new[v].values, old[v].values, err_msg=v)


@need_raw
def test_default_matches_the_raw_wiod_totals():
    """Aggregation keeps the table's totals: output = row sums of WIOD flows, final use, trade."""
    import pandas as pd

    f = pd.read_csv(RAW / "wiod2013" / "wiot_2011_flows.csv.gz", keep_default_na=False)
    ds = cge.load_dataset("default")
    world_sales = float(f["value"].sum())
    assert float(ds["trade"].sum()) == pytest.approx(world_sales, rel=1e-9)
    usa_out = float(f.loc[f.row_country == "USA", "value"].sum())
    assert float(ds["trade"].sel(source="USA").sum()) == pytest.approx(usa_out, rel=1e-9)
    # imports of the USA from China at basic prices
    chn_usa = float(f.loc[(f.row_country == "CHN") & (f.col_country == "USA"), "value"].sum())
    assert float(ds["trade"].sel(source="CHN", dest="USA").sum()) == pytest.approx(chn_usa, rel=1e-9)


def test_missing_raw_data_is_a_clear_refusal(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "calibration" / "build_default.py"),
            "--wiod",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "x.nc"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode != 0
    assert "nope" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "x.nc").exists()
