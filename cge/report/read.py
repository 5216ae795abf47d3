"""Reading the results a report is made from: ``results.nc``, ``comparison.nc`` or ``sensitivity.nc``."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from cge.errors import InputError


def read(path: Path) -> xr.Dataset:
    """One results file, loaded into memory; a file that cannot be read is an input error."""
    try:
        with xr.open_dataset(path) as handle:
            return handle.load()
    except Exception as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None


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
    return read(Path(folder) / "sensitivity.nc")
