"""A scenario's border cost read from an estimates file (written by ``cge estimate-border``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cge.errors import ScenarioError
from cge.gravity.estimate import COLUMNS, tariff_equivalent
from cge.io import read_csv

#: what ``border_cost: estimated`` reads: the estimates on the china-provinces benchmark
ESTIMATED = Path(__file__).resolve().parents[2] / "calibration" / "china" / "border-costs.csv"


def read_estimates(path: str | Path, key: str) -> pd.DataFrame:
    """An estimates file, checked for its columns (``key``: the scenario key, for messages)."""
    return read_csv(path, COLUMNS, ScenarioError, key, "cge estimate-border writes them")


def border_rates(
    path, use: str, border: str, shift: float, sectors, key: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per sector: the tariff-equivalent with the coefficient moved by ``shift`` standard errors, and
    the coefficient, its standard error and the elasticity it was converted with."""
    table = read_estimates(path, key)
    rows = table[table["border"] == border].set_index("scope")
    if use == "pooled":
        if "pooled" not in rows.index:
            raise ScenarioError(f"{key}: {path} has no pooled estimate of the {border} border")
        picked = rows.loc[["pooled"] * len(sectors)]
    else:
        absent = [i for i in sectors if i not in rows.index]
        if absent:
            raise ScenarioError(f"{key}: {path} has no {border} estimate for sector(s) {', '.join(absent)}")
        picked = rows.loc[list(sectors)]
    b, se, eps = (picked[c].to_numpy(float) for c in ("coefficient", "se", "elasticity"))
    return tariff_equivalent(b + shift * se, eps), b, se, eps
