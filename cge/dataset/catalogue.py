"""The built-in catalogue for ``cge datasets``, read from the files' headers without xarray.

Opening a dataset with xarray costs about a second (pandas, the coders); listing the catalogue needs
only each file's attributes and label variables, which netCDF4 reads directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

DATASET_DIR = Path(__file__).parent / "builtin"

#: the label variables a description reads
LABELS = ("region", "sector", "factor", "mobility")


def builtin_names() -> list[str]:
    return sorted(p.stem for p in DATASET_DIR.glob("*.nc"))


def builtin_path(name: str) -> Path:
    return DATASET_DIR / f"{name}.nc"


def description(attrs: Mapping[str, Any], labels: Mapping[str, Iterable[Any]]) -> dict:
    """What ``cge datasets`` prints of one dataset, from its attributes and label variables."""
    return {
        "name": attrs.get("name", "?"),
        "regions": [str(r) for r in labels["region"]],
        "sectors": [str(s) for s in labels["sector"]],
        "factors": [f"{f} ({m})" for f, m in zip(labels["factor"], labels["mobility"])],
        "year": attrs.get("year", "?"),
        "source": attrs.get("source", "?"),
        "units": attrs.get("units", "?"),
        "licence": attrs.get("licence_note", ""),
    }


def describe_file(path: str | Path) -> dict:
    """The :func:`description` of a benchmark file, read from its header with netCDF4."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        attrs = {k: nc.getncattr(k) for k in nc.ncattrs()}
        labels = {v: [str(x) for x in nc[v][:]] for v in LABELS}
    return description(attrs, labels)


#: full names of the built-ins' region and sector codes, with their sources (dataset, dim, code, name, source)
NAMES_FILE = DATASET_DIR / "names.csv"


def full_names(dataset: str, dim: str, codes: Iterable[Any]) -> list[str]:
    """The full names of ``codes`` of a built-in dataset's ``dim`` (region or sector) from
    :data:`NAMES_FILE`; a code it does not name (another dataset's) stands for itself."""
    import csv

    with open(NAMES_FILE, newline="", encoding="utf-8") as f:
        table = {r["code"]: r["name"] for r in csv.DictReader(f) if r["dataset"] == dataset and r["dim"] == dim}
    return [table.get(str(c), str(c)) for c in codes]


#: the countries (ISO 3166 alpha-3) each region of a built-in dataset covers; "*" for the rest of the world
COUNTRIES_FILE = DATASET_DIR / "countries.csv"


def region_countries(dataset: str) -> dict[str, list[str]]:
    """Region -> its countries for a built-in dataset (from :data:`COUNTRIES_FILE`); empty for others."""
    import csv

    with open(COUNTRIES_FILE, newline="", encoding="utf-8") as f:
        return {r["region"]: r["countries"].split() for r in csv.DictReader(f) if r["dataset"] == dataset}
