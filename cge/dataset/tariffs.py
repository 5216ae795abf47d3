"""Tariff rates on the source table's fine grid t[sector, exporter, importer] (fractions).

Caliendo and Parro (2015) rates come with a concordance to the source's sectors and countries
(default: the package's WIOD 2013 concordance, ``cge/dataset/concordance/``):

* sectors: each CP tradable sector maps to one source sector; a source sector with several CP sectors
  takes their average weighted by CP's 1993 bilateral imports on the mapped CP route (the simple mean
  where that route had no 1993 trade); source sectors with no CP sector (services) get 0;
* countries: each source country takes a CP importer row and a CP exporter column; countries with the
  same non-empty ``single_market`` label trade at zero tariff among themselves; so do two countries that
  map to the same CP region (CP's own diagonal is zero), and the diagonal;
* years: 1993 and 2005 are CP's files; a year in between is the linear interpolation of the two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cge.io import read_csv

from .recipe import SHARED_DATA, CPTariffs, CsvTariffs, Recipe, RecipeError
from .table import Table

CP_REGIONS = [
    "ARG",
    "AUS",
    "AUT",
    "BRA",
    "CAN",
    "CHL",
    "CHN",
    "DNK",
    "FIN",
    "FRA",
    "DEU",
    "GRC",
    "HUN",
    "IND",
    "IDN",
    "IRL",
    "ITA",
    "JPN",
    "KOR",
    "MEX",
    "NLD",
    "NZL",
    "NOR",
    "PRT",
    "ZAF",
    "ESP",
    "SWE",
    "TUR",
    "GBR",
    "USA",
    "ROW",
]
CP_NSEC = 20
CONCORDANCE = Path(__file__).parent / "concordance"


@dataclass
class FineTariffs:
    t: np.ndarray  # (sector, exporter, importer) on the source grid
    fallback: np.ndarray | None = None  # where the CP weighted mean fell back to the simple mean
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    description: str = "none"
    aggregate_rates: np.ndarray | None = None  # csv at aggregate level: (A, R, R)


def _csv(path: Path, cols: list[str]) -> pd.DataFrame:
    df = read_csv(path, cols, RecipeError, "tariffs", keep_default_na=False, dtype=str)
    for c in df.columns:
        df[c] = df[c].str.strip()
    return df


def caliendo_parro(spec: CPTariffs, rec: Recipe, table: Table) -> FineTariffs:
    """Caliendo and Parro's applied tariffs (interpolated between 1993 and 2005 for another year),
    weighted by their 1993 trade onto the source table's sectors and countries."""
    cp = rec.resolve(spec.dir, SHARED_DATA / "cp1993")
    years = [1993, 2005] if spec.year not in (1993, 2005) else [spec.year]
    files = {f"cp1993/tariffs{y}.txt": cp / f"tariffs{y}.txt" for y in years}
    files["cp1993/xbilat1993.txt"] = cp / "xbilat1993.txt"
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise RecipeError(
            f"{rec.where}: Caliendo-Parro files missing (point tariffs.dir at a copy):\n  " + "\n  ".join(missing)
        )
    T, B = _cp_rates(spec.year, years, files)
    smap_path = rec.resolve(spec.sector_map, CONCORDANCE / "cp_wiod_sectors.csv")
    cmap_path = rec.resolve(spec.country_map, CONCORDANCE / "cp_wiod_countries.csv")
    to_src = _cp_sector_map(smap_path, table)
    cm = _cp_country_map(cmap_path, table)
    ri = np.array([CP_REGIONS.index(x) for x in cm.cp_importer])
    ei = np.array([CP_REGIONS.index(x) for x in cm.cp_exporter])
    t, fallback = _cp_on_source_grid(T, B, to_src, ri, ei, table.sectors)
    nc = len(table.countries)
    sm_label = cm["single_market"].to_numpy() if "single_market" in cm.columns else np.array([""] * nc)
    same_market = (sm_label[:, None] == sm_label[None, :]) & (sm_label[:, None] != "")
    t[:, same_market] = 0.0
    t[:, ri[None, :] == ei[:, None]] = 0.0  # exporter and importer in one CP region
    t[:, np.arange(nc), np.arange(nc)] = 0.0
    files["concordance/" + smap_path.name] = smap_path
    files["concordance/" + cmap_path.name] = cmap_path
    yr = f"{spec.year}" if len(years) == 1 else f"{spec.year} (linear interpolation of 1993 and 2005)"
    return FineTariffs(t, fallback, files, [], f"Caliendo-Parro applied tariffs {yr}")


def _cp_rates(year: int, years: list[int], files: dict[str, Path]) -> tuple[np.ndarray, np.ndarray]:
    """The CP tariff rates of ``year`` and the 1993 trade weights, both (sector, importer, exporter)."""
    n = len(CP_REGIONS)
    Ts = {}
    for y in years:
        T = np.loadtxt(files[f"cp1993/tariffs{y}.txt"])
        if T.shape != (CP_NSEC * n, n):
            raise RecipeError(f"unexpected Caliendo-Parro layout: tariffs{y} {T.shape}")
        if not np.isfinite(T).all() or T.min() < 0:
            raise RecipeError(f"Caliendo-Parro tariffs{y} contain non-finite or negative values")
        Ts[y] = T.reshape(CP_NSEC, n, n) / 100.0  # (sector j, importer n, exporter i)
    if len(years) == 1:
        T = Ts[year]
    else:
        w = (year - 1993) / 12.0
        T = Ts[1993] + w * (Ts[2005] - Ts[1993])
    B = np.loadtxt(files["cp1993/xbilat1993.txt"])
    if B.shape != (CP_NSEC * n, n):
        raise RecipeError(f"unexpected Caliendo-Parro layout: xbilat1993 {B.shape}")
    return T, B.reshape(CP_NSEC, n, n)


def _cp_sector_map(path: Path, table: Table) -> dict[str, list[int]]:
    """Source sector -> the CP sectors (0-based) mapped to it."""
    sm = _csv(path, ["cp_index", "code"])
    if sorted(int(x) for x in sm.cp_index) != list(range(1, CP_NSEC + 1)):
        raise RecipeError(f"{path}: must list each of the 20 CP tradable sectors (cp_index 1-20) exactly once")
    to_src: dict[str, list[int]] = {}
    for _, r in sm.iterrows():
        for code in r["code"].split():
            if code not in table.sectors:
                raise RecipeError(f"{path}: unknown source sector {code!r}")
            to_src.setdefault(code, []).append(int(r["cp_index"]) - 1)
    return to_src


def _cp_country_map(path: Path, table: Table):
    """The country map (cp_importer, cp_exporter, optional single_market) in the source's country order."""
    cm = _csv(path, ["code", "cp_importer", "cp_exporter"])
    dup = sorted(set(cm.code[cm.code.duplicated()]))
    if dup:
        raise RecipeError(f"{path}: code(s) mapped more than once: {', '.join(dup)}")
    miss = [c for c in table.countries if c not in set(cm.code)]
    if miss:
        raise RecipeError(f"{path}: source region(s) not mapped to a CP region: {', '.join(miss)}")
    cm = cm.set_index("code").loc[table.countries]
    bad = sorted(set(cm.cp_importer).union(cm.cp_exporter) - set(CP_REGIONS))
    if bad:
        raise RecipeError(f"{path}: unknown CP region(s) {bad}; CP regions: {' '.join(CP_REGIONS)}")
    return cm


def _cp_on_source_grid(T, B, to_src: dict[str, list[int]], ri, ei, sectors: list[str]):
    """Rates (sector, exporter, importer) on the source grid: trade-weighted over the CP sectors of
    a source sector (a simple mean where they have no trade, flagged as a fallback)."""
    nc, ns = len(ri), len(sectors)
    t = np.zeros((ns, nc, nc))
    fallback = np.zeros((ns, nc, nc), dtype=bool)
    for k, s in enumerate(sectors):
        js = to_src.get(s)
        if not js:
            continue
        Tj = T[js][:, ri][:, :, ei]  # (len(js), importer, exporter)
        Bj = B[js][:, ri][:, :, ei]
        w = Bj.sum(axis=0)
        simple = Tj.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = (Tj * Bj).sum(axis=0) / w
        rate = np.where(w > 0, weighted, simple)
        if len(js) > 1:
            fallback[k] = (w <= 0).T
        t[k] = rate.T  # -> (exporter, importer)
    return t, fallback


def csv_tariffs(spec: CsvTariffs, rec: Recipe, table: Table, regions: list[str], sectors: list[str]) -> FineTariffs:
    path = rec.resolve(spec.file)
    df = _csv(path, ["sector", "source", "dest", "rate"])
    rate = pd.to_numeric(df["rate"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(rate).all():
        lines = (np.flatnonzero(~np.isfinite(rate))[:5] + 2).tolist()
        raise RecipeError(f"{path}: missing or non-numeric rate on line(s) {lines}")
    if (rate <= -1).any():
        raise RecipeError(
            f"{path}: rates must be > -1 (fractions, not percent); line(s) "
            f"{(np.flatnonzero(rate <= -1)[:5] + 2).tolist()}"
        )
    R = regions if spec.level == "aggregate" else table.countries
    S = sectors if spec.level == "aggregate" else table.sectors
    for col, codes in (("sector", S), ("source", R), ("dest", R)):
        bad = sorted(set(df[col]) - set(codes))
        if bad:
            raise RecipeError(
                f"{path}: unknown {col} code(s) {bad} (level {spec.level}: codes of the "
                f"{'aggregate' if spec.level == 'aggregate' else 'source table'})"
            )
    if df.duplicated(["sector", "source", "dest"]).any():
        r = df[df.duplicated(["sector", "source", "dest"])].iloc[0]
        raise RecipeError(f"{path}: route listed twice: {r.sector},{r.source},{r.dest}")
    diag = (df.source == df.dest).to_numpy() & (rate != 0)
    if diag.any():
        raise RecipeError(
            f"{path}: tariffs on domestic sales (source == dest) must be 0, line(s) "
            f"{(np.flatnonzero(diag)[:5] + 2).tolist()}"
        )
    a = np.zeros((len(S), len(R), len(R)))
    a[
        df.sector.map({c: k for k, c in enumerate(S)}).to_numpy(),
        df.source.map({c: k for k, c in enumerate(R)}).to_numpy(),
        df.dest.map({c: k for k, c in enumerate(R)}).to_numpy(),
    ] = rate
    out = FineTariffs(
        a if spec.level == "source" else None,  # type: ignore[arg-type]
        None,
        {f"tariffs/{path.name}": path},
        [],
        f"user tariff file {path.name} ({spec.level} codes; routes not listed: 0)",
    )
    if spec.level == "aggregate":
        out.aggregate_rates = a
    return out
