"""The plain-CSV source layout (calibration/README.md): a long flows file plus optional code lists."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from .recipe import RecipeError
from .table import Table, from_long, need_files, numeric, read_csv


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
    need_files(files, where)
    f = read_csv(fp, where, ["row_region", "row_sector", "col_region", "col_code", "value"])
    for c in ("row_region", "row_sector", "col_region", "col_code"):
        f[c] = f[c].str.strip()

    def codes(name, default):
        p = dir_ / name
        if p.is_file():
            files[f"{dir_.name}/{name}"] = p
            return read_csv(p, where, ["code"])["code"].str.strip().tolist()
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
        d = read_csv(p, where, ["region", "sector", "value"])
        v = numeric(d, p)
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
