"""The WIOD 2013 release: a world input-output table of one year from its long CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .recipe import RecipeError
from .table import Table, from_long, need_files, numeric, read_csv

WIOD_FD = ["CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN"]


def read_wiod(dir_: Path, year: int, where: str) -> Table:
    files = {
        f"wiod2013/wiot_{year}_flows.csv.gz": dir_ / f"wiot_{year}_flows.csv.gz",
        f"wiod2013/wiot_{year}_output.csv.gz": dir_ / f"wiot_{year}_output.csv.gz",
        "wiod2013/countries.csv": dir_ / "countries.csv",
        "wiod2013/sectors.csv": dir_ / "sectors.csv",
    }
    need_files(files, where)
    countries = pd.read_csv(files["wiod2013/countries.csv"], keep_default_na=False)["code"].tolist()
    sectors = pd.read_csv(files["wiod2013/sectors.csv"], keep_default_na=False)["code"].tolist()
    fp = files[f"wiod2013/wiot_{year}_flows.csv.gz"]
    f = read_csv(fp, where, ["row_country", "row_sector", "col_country", "col_code", "value"])
    f = f.rename(columns={"row_country": "row_region", "col_country": "col_region"})
    Z, F = from_long(f, fp, countries, sectors, WIOD_FD)
    op = files[f"wiod2013/wiot_{year}_output.csv.gz"]
    o = read_csv(op, where, ["country", "sector", "output"])
    o["output"] = numeric(o, op, "output")
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
