"""The hand-entered tables of calibration/china/ (sources in calibration/china/README.md) and the
distances the gravity equation uses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cge.errors import DataError
from cge.io import read_csv

#: calibration/china/ in a clone of the repository
CHINA_TABLES = Path(__file__).resolve().parents[2] / "calibration" / "china"
EARTH_RADIUS_KM = 6371.0


def read_table(path: str | Path, columns: list[str]) -> pd.DataFrame:
    """A committed CSV table with at least ``columns``; a clear error if it is missing or short."""
    return read_csv(path, columns, DataError, dtype={"code": str})


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in km between points given in degrees (broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def internal_distance_km(area_km2) -> np.ndarray:
    """Average distance within a region of this area: 2/3 of the radius of a disc (Head and Mayer 2002)."""
    return (2.0 / 3.0) * np.sqrt(np.asarray(area_km2, float) / np.pi)


def distances(regions: list[str], provinces: list[str], path: str | Path | None = None) -> np.ndarray:
    """(source, dest) distance in km: great-circle between capitals, internal distance on a province's
    diagonal (NaN on a world region's diagonal, which the estimation leaves out)."""
    path = Path(path) if path else CHINA_TABLES / "capitals.csv"
    table = read_table(path, ["code", "lat", "lon", "area_km2"]).set_index("code")
    absent = [r for r in regions if r not in table.index]
    if absent:
        raise DataError(f"{path}: no capital for region(s) {', '.join(absent)}")
    t = table.loc[regions]
    lat, lon = t["lat"].to_numpy(float), t["lon"].to_numpy(float)
    d = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    for k, r in enumerate(regions):
        if r in provinces:
            area = t["area_km2"].iloc[k]
            if not np.isfinite(area) or area <= 0:
                raise DataError(f"{path}: province {r} needs a positive area_km2 (its internal distance)")
            d[k, k] = internal_distance_km(area)
        else:
            d[k, k] = np.nan
    return d
