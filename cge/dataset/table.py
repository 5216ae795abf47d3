"""Source tables: a multi-regional input-output table at basic prices, read into arrays.

``Table`` holds, for ``nc`` regions (countries), ``ns`` sectors and ``nk`` final-demand categories:

* ``Z[e, s, i, u]``  intermediate sales of sector s made in e to industry u in i,
* ``F[e, s, i, k]``  final-demand sales of sector s made in e to category k in i,
* ``va[e, s]``       value added (only if the source has it, else None),
* ``output[e, s]``   the source's own output vector (only if it has one, else None).

One reader per source: ``wiod.py`` (the WIOD 2013 long CSV files), ``csv_table.py`` (the plain-CSV
layout, ``calibration/README.md``), ``pymrio_table.py`` (a ``pymrio.IOSystem``); ``china.py`` and
``gtap.py`` build a finished benchmark instead.  The helpers here are shared by the long-file readers: cells
missing from a long file are zero (the files list nonzero cells); a cell that is present but empty or
not a number is refused, never zeroed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from cge import io

from .recipe import RecipeError


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


def need_files(files: dict[str, Path], where: str) -> None:
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise RecipeError(
            f"{where}: raw data missing (raw files are not part of the repository; point the "
            "recipe's 'dir' at a copy):\n  " + "\n  ".join(missing)
        )


def read_csv(path: Path, where: str, cols: list[str]) -> pd.DataFrame:
    """A source file as text (no cell read as NaN: the readers check codes and numbers)."""
    return io.read_csv(path, cols, RecipeError, where, keep_default_na=False, dtype=str)


def numeric(df: pd.DataFrame, path: Path, col: str = "value") -> np.ndarray:
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
    v = numeric(flows, path)
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
