"""The built-in catalogue for ``cge datasets``, read from the files' headers without xarray.

Opening a dataset with xarray costs about a second (pandas, the coders); listing the catalogue needs
only each file's attributes and label variables, which netCDF4 reads directly.
"""

from __future__ import annotations

from pathlib import Path

DATASET_DIR = Path(__file__).parent / "builtin"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in DATASET_DIR.glob("*.nc"))


def describe_file(path: str | Path) -> dict:
    """The same description as :func:`cge.dataset.schema.describe`, from a benchmark file's header."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}
        labels = {v: [str(x) for x in nc[v][:]] for v in ("region", "sector", "factor", "mobility")}
    return {
        "name": attrs.get("name", "?"),
        "regions": labels["region"],
        "sectors": labels["sector"],
        "factors": [f"{f} ({m})" for f, m in zip(labels["factor"], labels["mobility"])],
        "year": attrs.get("year", "?"),
        "source": attrs.get("source", "?"),
        "units": attrs.get("units", "?"),
        "licence": attrs.get("licence_note", ""),
    }
