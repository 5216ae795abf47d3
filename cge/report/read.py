"""Reading the results a report is made from: ``results.nc``, ``comparison.nc`` or ``sensitivity.nc``."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from cge.errors import InputError, show
from cge.io import read_netcdf

#: variables every results file (results.nc, comparison.nc) has
RESULTS_VARS = ("ev", "ev_pct", "income0", "walras_residual")
#: variables every sensitivity.nc has
SENSITIVITY_VARS = ("status", "weight")


def read(path: Path, needed: tuple[str, ...] = RESULTS_VARS) -> xr.Dataset:
    """One results file, loaded into memory; a file that cannot be read, or is not a results file
    (a dataset, say), is an input error."""
    try:
        ds = read_netcdf(path)
    except Exception as exc:
        raise InputError(f"{path}: cannot be read as netCDF ({show(str(exc))})") from None
    missing = [v for v in needed if v not in ds]
    if missing:
        raise InputError(
            f"{path}: not a cge results file (no variable {', '.join(missing)}); "
            f"write results with `cge run`, `cge compare` or `cge sensitivity`"
        )
    return ds


def load(folder: str | Path) -> tuple[xr.Dataset, bool]:
    """The results in ``folder``: (dataset, is_comparison)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a results folder (run `cge run` or `cge compare` first)")
    for name, comp in (("comparison.nc", True), ("results.nc", False)):
        if (folder / name).is_file():
            return read(folder / name), comp
    raise InputError(f"{folder}: holds neither results.nc nor comparison.nc (nor sensitivity.nc)")


def load_sensitivity(folder: str | Path) -> xr.Dataset:
    """The sensitivity analysis in ``folder`` (``sensitivity.nc``)."""
    return read(Path(folder) / "sensitivity.nc", SENSITIVITY_VARS)
