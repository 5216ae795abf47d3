"""Results as one long table for notebooks and other tools: a row per value, with the columns
:data:`COLUMNS` (scenario, stage, region, member, sector where it applies, variable, component, value,
unit), written as CSV and Parquet.

Variables over regions, sectors and welfare components (or allocative instruments, which go to the
``component`` column) are in it, and scalars; the bilateral and factor variables (``trade_quantity``,
``factor_use``, ...) stay in ``results.nc``. Cells with no value (NaN: a non-member's trade creation,
the price of a good a region does not make) have no row. The welfare parts appear once, as the components of
``welfare`` (their separate names are aliases in the Dataset).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cge.io import atomic_write, write_text
from cge.results.groups import membership

COLUMNS = ("scenario", "stage", "region", "member", "sector", "variable", "component", "value", "unit")
#: the dimensions a variable in the long table may have
DIMS = {"region", "sector", "component", "instrument"}


def _aliases(ds: xr.Dataset) -> set[str]:
    """The separate welfare parts, which ``welfare`` holds as components."""
    if "component" not in ds.coords:
        return set()
    return {f"welfare_{c}" for c in map(str, ds["component"].values)}


def frame(ds: xr.Dataset, scenario: str, stage: str | None) -> pd.DataFrame:
    """The long table of one result, built as whole columns (one DataFrame, not one per variable:
    a sixth of the time)."""
    member = dict(zip(map(str, ds["region"].values), membership(ds)))
    skip = _aliases(ds)
    labels: dict[str, list[np.ndarray]] = {"region": [], "sector": [], "component": []}
    found: set[str] = set()
    names, units, values = [], [], []
    for name, da in ds.data_vars.items():
        if name in skip or not set(da.dims) <= DIMS or da.dtype.kind not in "fiub":
            continue
        dims = ["component" if d == "instrument" else str(d) for d in da.dims]
        grid = np.meshgrid(*(np.asarray(ds[d].values, dtype=object) for d in da.dims), indexing="ij")
        size = da.size
        for col, parts in labels.items():
            parts.append(grid[dims.index(col)].ravel() if col in dims else np.full(size, np.nan, dtype=object))
        found.update(dims)
        values.append(np.asarray(da.values, dtype=float).ravel())
        names.append(np.full(size, str(name), dtype=object))
        units.append(np.full(size, str(da.attrs.get("units", "")), dtype=object))
    out = pd.DataFrame(
        {
            **{col: np.concatenate(parts) if col in found else None for col, parts in labels.items()},
            "variable": np.concatenate(names),
            "unit": np.concatenate(units),
            "value": np.concatenate(values),
        }
    )
    out["member"] = out["region"].map(member).astype("boolean")
    out["scenario"] = scenario
    out["stage"] = stage
    return out[out["value"].notna()].reset_index(drop=True)[list(COLUMNS)]


def write(df: pd.DataFrame, folder: str | Path, stem: str = "tidy") -> tuple[Path, Path]:
    """``folder/<stem>.csv`` (full precision) and ``folder/<stem>.parquet``, written atomically."""
    folder = Path(folder)
    csv = write_text(folder / f"{stem}.csv", df.to_csv(index=False, float_format="%.17g"))
    parquet = atomic_write(folder / f"{stem}.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    return csv, parquet
