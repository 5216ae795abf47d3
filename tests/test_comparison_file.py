"""A comparison file (cge compare FILE with `compare:`): its scenarios solved side by side and ranked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr

from cge.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_ranking_from_a_comparison_file(tmp_path, capsys):
    for name in ("east-asia-fta.yaml", "north-america-fta.yaml"):
        shutil.copy(ROOT / "scenarios" / name, tmp_path / name)
    (tmp_path / "both.yaml").write_text(
        "name: both\ncompare: [north-america-fta.yaml, east-asia-fta.yaml]\nrank: fta\nsteps: 0\n"
    )
    code, out, err = _run(["compare", str(tmp_path / "both.yaml"), "--out", str(tmp_path / "out"), "-q"], capsys)
    assert code == 0 and "ranked by the union's EV% at fta" in out, err
    ranking = pd.read_csv(tmp_path / "out" / "ranking.csv", index_col="rank")
    assert list(ranking.index) == [1, 2]
    assert ranking["union EV%"].is_monotonic_decreasing
    # each union's EV% from its own results
    for _, row in ranking.iterrows():
        ds = xr.open_dataset(tmp_path / "out" / row["scenario"] / "results.nc")
        m = ds["member"].values
        assert row["union EV%"] == pytest.approx(100 * ds["ev"].values[m].sum() / ds["income0"].values[m].sum())
        assert row["members"] == " ".join(ds["region"].values[m])
        # EV per head of the union: its EV over its people, in the unit of ev_per_capita
        column = f"union EV per head ({ds['ev_per_capita'].attrs['units']})"
        people = ds["ev"].values[m] / ds["ev_per_capita"].values[m]
        assert row[column] == pytest.approx(ds["ev"].values[m].sum() / people.sum())


def test_bad_comparison_file(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("name: c\ncompare: [absent.yaml]\n")
    code, _, err = _run(["compare", str(tmp_path / "c.yaml")], capsys)
    assert code == 2 and "absent.yaml" in err and "not found" in err
    (tmp_path / "d.yaml").write_text("name: d\ncompare: [c.yaml]\nrank: fts\n")
    code, _, err = _run(["compare", str(tmp_path / "d.yaml")], capsys)
    assert code == 2 and "rank" in err
