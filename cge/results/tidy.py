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
    """The long table of one result."""
    member = dict(zip(map(str, ds["region"].values), membership(ds)))
    skip = _aliases(ds)
    parts = []
    for name, da in ds.data_vars.items():
        if name in skip or not set(da.dims) <= DIMS or da.dtype.kind not in "fiub":
            continue
        df = da.reset_coords(drop=True).to_series().rename("value").reset_index() if da.dims else None
        if df is None:
            df = pd.DataFrame({"value": [da.values.item()]})
        df = df.rename(columns={"instrument": "component"})
        df["variable"] = str(name)
        df["unit"] = str(da.attrs.get("units", ""))
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    for col in ("region", "sector", "component"):
        if col not in out:
            out[col] = None
    out["member"] = out["region"].map(member).astype("boolean")
    out["scenario"] = scenario
    out["stage"] = stage
    out["value"] = out["value"].astype(float)
    return out[out["value"].notna()].reset_index(drop=True)[list(COLUMNS)]


def write(df: pd.DataFrame, folder: str | Path, stem: str = "tidy") -> tuple[Path, Path]:
    """``folder/<stem>.csv`` (full precision) and ``folder/<stem>.parquet``, written atomically."""
    folder = Path(folder)
    csv = write_text(folder / f"{stem}.csv", df.to_csv(index=False, float_format="%.17g"))
    parquet = atomic_write(folder / f"{stem}.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    return csv, parquet
