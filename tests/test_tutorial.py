"""The tutorial (docs/tutorial.py) runs as it is: a ladder, its plots and its tidy table."""

import runpy
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_tutorial_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["tutorial.py", str(tmp_path)])
    runpy.run_path(str(ROOT / "docs" / "tutorial.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "EV in million USD (current, 2011)" in out
    for name in ("ladder.png", "fta-trade.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    df = pd.read_parquet(tmp_path / "ladder.parquet")
    assert set(df["stage"]) == {"pta", "fta", "customs_union", "common_market"}
