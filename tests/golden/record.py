"""Record the reference results of every shipped scenario (issue 13: the redesign must not move a number).

Run from the repository root:  .venv/bin/python tests/golden/record.py [scenario stems ...]
Writes tests/golden/<stem>.nc with one netCDF group per stage (``stage=<label>``) holding every
numeric variable of that stage's results.nc. Recorded once from the code before the redesign
(commit fffa0c5, default solver and path); tests/test_golden.py compares every shipped scenario to them.
The three China ladders were re-recorded for issue 15 (the same variables, values from Newton's
method, which no longer falls back to IPOPT): the isolated cell GDT in Qinghai, whose price and
activity IPOPT had left wherever it stopped, is pinned (cge/model/isolated.py), and the other values
moved by IPOPT's tolerance (largest residual 1e-11 against Newton's 1e-14).
china-yangtze-river-delta-scale was added for issue 14 (recorded at commit fe00d51, Newton on every step).
The city-cluster ladders of scenarios/china-clusters/ (issue 17) are recorded compactly: only the key
variables of tests/support/shipped.py (EV, incomes, prices, the spread among provinces), about 100 KB
each instead of 1.4 MB; test_golden compares what a record holds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # run as a script: tests.support is importable
from tests.support.shipped import KEY_VARIABLES, compact, scenario_files  # noqa: E402


def numeric(ds: xr.Dataset) -> xr.Dataset:
    keep = [v for v in ds.data_vars if np.issubdtype(ds[v].dtype, np.number) or ds[v].dtype == bool]
    out = ds[keep].reset_coords(drop=True)
    out.attrs = {}
    for v in out.data_vars:
        out[v].attrs = {}
        if out[v].dtype == bool:
            out[v] = out[v].astype("i1")
    return out


def record(stem: str) -> Path:
    import cge

    comparison = cge.compare([scenario_files()[stem]])
    path = HERE / f"{stem}.nc"
    tmp = path.with_suffix(".part")
    tmp.unlink(missing_ok=True)
    for label, res in zip(comparison.labels, comparison.results):
        ds = numeric(res.dataset)
        if compact(stem):
            ds = ds[[v for v in KEY_VARIABLES if v in ds]]
        # zlib is lossless: every digit is kept, and the 36-region China ladders stay under 2 MiB
        encoding = {v: {"zlib": True, "complevel": 9, "shuffle": True} for v in ds.data_vars}
        ds.to_netcdf(tmp, mode="a" if tmp.exists() else "w", group=f"stage={label}", encoding=encoding)
    tmp.replace(path)
    return path


if __name__ == "__main__":
    stems = sys.argv[1:] or sorted(scenario_files())
    for stem in stems:
        print("recorded", record(stem), flush=True)
