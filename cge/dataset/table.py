"""Source tables: a multi-regional input-output table at basic prices, read into arrays.

``Table`` holds, for ``nc`` regions (countries), ``ns`` sectors and ``nk`` final-demand categories:

* ``Z[e, s, i, u]``  intermediate sales of sector s made in e to industry u in i,
* ``F[e, s, i, k]``  final-demand sales of sector s made in e to category k in i,
* ``va[e, s]``       value added (only if the source has it, else None),
* ``output[e, s]``   the source's own output vector (only if it has one, else None).

Readers: the WIOD 2013 long CSV files, the plain-CSV layout (``calibration/README.md``), and a
``pymrio.IOSystem``.  Cells that are missing from a long file are zero (the files list nonzero cells);
a cell that is present but empty or not a number is refused, never zeroed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from .recipe import RecipeError

WIOD_FD = ["CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN"]


@dataclass
class Table:
    countries: list[str]
    sectors: list[str]
    categories: list[str]
    Z: np.ndarray
    F: np.ndarray
    va: Optional[np.ndarray] = None
    output: Optional[np.ndarray] = None
    inventory_category: Optional[str] = None
    files: dict[str, Path] = field(default_factory=dict)  # label -> path, for provenance
    year: Optional[int] = None
    units: Optional[str] = None
    description: str = ""

    def check(self, where: str) -> None:
        for name in ("Z", "F", "va", "output"):
            a = getattr(self, name)
            if a is None:
                continue
            bad = ~np.isfinite(a)
            if bad.any():
                idx = [tuple(int(x) for x in k) for k in np.argwhere(bad)[:5]]
                raise RecipeError(
                    f"{where}: missing or non-numeric cells in {name} at {self.label(name, idx)}; "
                    "fill them in the source (they are never set to zero silently)"
                )
        if self.Z.min() < 0:
            idx = [tuple(int(x) for x in k) for k in np.argwhere(self.Z < 0)[:5]]
            raise RecipeError(f"{where}: negative intermediate flows at {self.label('Z', idx)}")

    def label(self, name: str, idx: list[tuple]) -> str:
        out = []
        for k in idx:
            if name in ("Z", "F"):
                users = self.sectors if name == "Z" else self.categories
                out.append(f"{self.countries[k[0]]}.{self.sectors[k[1]]} -> {self.countries[k[2]]}.{users[k[3]]}")
            else:
                out.append(f"{self.countries[k[0]]}.{self.sectors[k[1]]}")
        return ", ".join(out)


def _need(files: dict[str, Path], where: str) -> None:
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise RecipeError(
            f"{where}: raw data missing (raw files are not part of the repository; point the "
            "recipe's 'dir' at a copy):\n  " + "\n  ".join(missing)
        )


def _read_csv(path: Path, where: str, cols: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, keep_default_na=False, dtype=str)
    except Exception as exc:
        raise RecipeError(f"{where}: cannot read {path} ({exc})") from None
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise RecipeError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(cols)}")
    return df


def _values(df: pd.DataFrame, path: Path, col: str = "value") -> np.ndarray:
    v = pd.to_numeric(df[col].str.strip(), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        rows = (np.flatnonzero(bad)[:5] + 2).tolist()
        raise RecipeError(
            f"{path}: missing or non-numeric '{col}' on line(s) {rows} "
            f"(values {df[col].iloc[np.flatnonzero(bad)[:5]].tolist()}); never zeroed silently"
        )
    return v


def from_long(
    flows: pd.DataFrame, path: Path, countries: list[str], sectors: list[str], categories: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Arrays Z, F from a long table with columns row_region,row_sector,col_region,col_code,value."""
    bad_c = sorted(set(flows.row_region).union(flows.col_region) - set(countries))
    bad_s = sorted(set(flows.row_sector) - set(sectors))
    bad_u = sorted(set(flows.col_code) - set(sectors) - set(categories))
    if bad_c or bad_s or bad_u:
        raise RecipeError(f"{path}: unknown codes: regions {bad_c}, sectors {bad_s}, column codes {bad_u}")
    dup = flows.duplicated(["row_region", "row_sector", "col_region", "col_code"])
    if dup.any():
        r = flows[dup].iloc[0]
        raise RecipeError(f"{path}: cell listed twice, e.g. {r.row_region},{r.row_sector},{r.col_region},{r.col_code}")
    v = _values(flows, path)
    ci = {c: k for k, c in enumerate(countries)}
    si = {s: k for k, s in enumerate(sectors)}
    ui = {**si, **{c: len(sectors) + k for k, c in enumerate(categories)}}
    nc, ns, nu = len(countries), len(sectors), len(sectors) + len(categories)
    X = np.zeros((nc, ns, nc, nu))
    np.add.at(
        X,
        (
            flows.row_region.map(ci).to_numpy(),
            flows.row_sector.map(si).to_numpy(),
            flows.col_region.map(ci).to_numpy(),
            flows.col_code.map(ui).to_numpy(),
        ),
        v,
    )
    return np.ascontiguousarray(X[..., :ns]), np.ascontiguousarray(X[..., ns:])


# ------------------------------------------------------------------------------------ WIOD 2013
def read_wiod(dir_: Path, year: int, where: str) -> Table:
    files = {
        f"wiod2013/wiot_{year}_flows.csv.gz": dir_ / f"wiot_{year}_flows.csv.gz",
        f"wiod2013/wiot_{year}_output.csv.gz": dir_ / f"wiot_{year}_output.csv.gz",
        "wiod2013/countries.csv": dir_ / "countries.csv",
        "wiod2013/sectors.csv": dir_ / "sectors.csv",
    }
    _need(files, where)
    countries = pd.read_csv(files["wiod2013/countries.csv"], keep_default_na=False)["code"].tolist()
    sectors = pd.read_csv(files["wiod2013/sectors.csv"], keep_default_na=False)["code"].tolist()
    fp = files[f"wiod2013/wiot_{year}_flows.csv.gz"]
    f = _read_csv(fp, where, ["row_country", "row_sector", "col_country", "col_code", "value"])
    f = f.rename(columns={"row_country": "row_region", "col_country": "col_region"})
    Z, F = from_long(f, fp, countries, sectors, WIOD_FD)
    op = files[f"wiod2013/wiot_{year}_output.csv.gz"]
    o = _read_csv(op, where, ["country", "sector", "output"])
    o["output"] = _values(o, op, "output")
    o = o.set_index(["country", "sector"])["output"]
    try:
        out = np.array([[float(o.loc[(c, s)]) for s in sectors] for c in countries])
    except KeyError as exc:
        raise RecipeError(f"{op}: no output for {exc}") from None
    return Table(
        countries,
        sectors,
        list(WIOD_FD),
        Z,
        F,
        None,
        out,
        "INVEN",
        files,
        year,
        f"million USD (current, {year})",
        f"WIOD 2013 release, world input-output table {year}, basic prices",
    )


# ------------------------------------------------------------------------------------ plain CSV
def read_csv_table(dir_: Path, inventory_category: Optional[str], where: str, year=None, units=None) -> Table:
    """The plain-CSV layout (calibration/README.md).

    * ``flows.csv`` (required): row_region,row_sector,col_region,col_code,value; col_code is a sector
      (intermediate use by that industry of col_region) or a final-demand category of col_region.
    * ``regions.csv``, ``sectors.csv`` (optional): a ``code`` column giving the codes and their order
      (else: order of first appearance in flows.csv; sectors are the row_sector codes).
    * ``value_added.csv`` (optional): region,sector,value; several rows per cell (factors) are summed.
    * ``output.csv`` (optional): region,sector,value.
    """
    fp = dir_ / "flows.csv"
    files = {f"{dir_.name}/flows.csv": fp}
    _need(files, where)
    f = _read_csv(fp, where, ["row_region", "row_sector", "col_region", "col_code", "value"])
    for c in ("row_region", "row_sector", "col_region", "col_code"):
        f[c] = f[c].str.strip()

    def codes(name, default):
        p = dir_ / name
        if p.is_file():
            files[f"{dir_.name}/{name}"] = p
            return _read_csv(p, where, ["code"])["code"].str.strip().tolist()
        return default

    regions = codes("regions.csv", list(dict.fromkeys(list(f.row_region) + list(f.col_region))))
    sectors = codes("sectors.csv", list(dict.fromkeys(f.row_sector)))
    cats = [c for c in dict.fromkeys(f.col_code) if c not in set(sectors)]
    if inventory_category and inventory_category not in cats:
        cats.append(inventory_category)
    Z, F = from_long(f, fp, regions, sectors, cats)

    def cell_file(name):
        p = dir_ / name
        if not p.is_file():
            return None
        files[f"{dir_.name}/{name}"] = p
        d = _read_csv(p, where, ["region", "sector", "value"])
        v = _values(d, p)
        bad = sorted(set(d.region.str.strip()) - set(regions)) + sorted(set(d.sector.str.strip()) - set(sectors))
        if bad:
            raise RecipeError(f"{p}: unknown codes {bad}")
        a = np.zeros((len(regions), len(sectors)))
        np.add.at(
            a,
            (
                d.region.str.strip().map({c: k for k, c in enumerate(regions)}).to_numpy(),
                d.sector.str.strip().map({c: k for k, c in enumerate(sectors)}).to_numpy(),
            ),
            v,
        )
        return a

    return Table(
        regions,
        sectors,
        cats,
        Z,
        F,
        cell_file("value_added.csv"),
        cell_file("output.csv"),
        inventory_category,
        files,
        year,
        units or "currency units",
        f"plain-CSV input-output table in {dir_}",
    )


# ------------------------------------------------------------------------------------ pymrio
def read_iosystem(
    io,
    where: str,
    value_added_extension: Optional[str] = "factor_inputs",
    inventory_category: Optional[str] = None,
    files: Optional[dict] = None,
    year=None,
) -> Table:
    """A Table from a ``pymrio.IOSystem`` (Z and Y at basic prices; value added from an extension)."""
    if getattr(io, "Z", None) is None:
        try:
            io.calc_system()
        except Exception as exc:
            raise RecipeError(f"{where}: the IOSystem has no Z and pymrio cannot compute it ({exc})") from None
    Zdf, Ydf = io.Z, io.Y
    if Zdf is None or Ydf is None:
        raise RecipeError(f"{where}: the IOSystem needs Z and Y")
    regions = list(dict.fromkeys(str(r) for r in Zdf.index.get_level_values(0)))
    sectors = list(dict.fromkeys(str(s) for s in Zdf.index.get_level_values(1)))
    cats = list(dict.fromkeys(str(c) for c in Ydf.columns.get_level_values(1)))
    nc, ns, nk = len(regions), len(sectors), len(cats)
    idx = pd.MultiIndex.from_product([regions, sectors])
    try:
        Zv = Zdf.reindex(index=idx, columns=idx).to_numpy(dtype=float)
        Yv = Ydf.reindex(index=idx, columns=pd.MultiIndex.from_product([regions, cats])).to_numpy(dtype=float)
    except Exception as exc:
        raise RecipeError(f"{where}: unexpected IOSystem layout ({exc})") from None
    Z = Zv.reshape(nc, ns, nc, ns)
    F = Yv.reshape(nc, ns, nc, nk)
    va = None
    ext = getattr(io, value_added_extension, None) if value_added_extension else None
    if value_added_extension and ext is None:
        raise RecipeError(
            f"{where}: the IOSystem has no extension {value_added_extension!r} "
            f"(has: {', '.join(str(e) for e in io.get_extensions())})"
        )
    if ext is not None:
        va = ext.F.reindex(columns=idx).to_numpy(dtype=float).sum(axis=0).reshape(nc, ns)
    out = None
    if getattr(io, "x", None) is not None:
        out = io.x.reindex(idx).to_numpy(dtype=float).reshape(nc, ns)
    if inventory_category is not None and inventory_category not in cats:
        inventory_category = None
    unit = None
    try:
        unit = str(io.unit.iloc[0, 0])
    except Exception:
        pass
    name = getattr(getattr(io, "meta", None), "name", None) or getattr(io, "name", "IOSystem")
    return Table(
        regions, sectors, cats, Z, F, va, out, inventory_category, files or {}, year, unit, f"pymrio IOSystem {name}"
    )
