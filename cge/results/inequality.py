"""Who gains across provinces (issue 17): the spread of income per head among provinces (Theil's T
and the Gini coefficient, population-weighted), each zone's income per head against the provinces'
mean, the provinces' shares of China's output by sector, and each province's specialisation against
the rest of China; each before (the benchmark) and after (the scenario). Added to the results of a
benchmark that names its provinces (attribute ``regions_provinces``); zones (east, central, west,
northeast) from calibration/china/regions.csv. Definitions: docs/effects.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cge.gravity.tables import CHINA_TABLES, read_table

ZONES = ("east", "central", "west", "northeast")


def theil(y, weight) -> float:
    """Theil's T of incomes per head ``y`` of groups of ``weight`` people: sum_k w_k (y_k/m) ln(y_k/m),
    w the population shares and m the mean income per head."""
    w = np.asarray(weight, float) / np.sum(weight)
    r = np.asarray(y, float) / np.sum(w * np.asarray(y, float))
    return float(np.sum(w * r * np.log(r)))


def gini(y, weight) -> float:
    """The Gini coefficient of incomes per head ``y`` of groups of ``weight`` people:
    sum_jk w_j w_k |y_j - y_k| / (2 m), w the population shares and m the mean income per head."""
    w = np.asarray(weight, float) / np.sum(weight)
    y = np.asarray(y, float)
    return float(np.sum(w[:, None] * w[None, :] * np.abs(y[:, None] - y[None, :])) / (2 * np.sum(w * y)))


def specialisation(output) -> np.ndarray:
    """Krugman's index of each region against the rest of the group: sum_i |s_ir - s_i,rest|, with s the
    sectors' shares in the region's (or the rest's) output; ``output`` is (sector, region)."""
    output = np.asarray(output, float)
    rest = output.sum(axis=1, keepdims=True) - output
    return np.abs(output / output.sum(axis=0) - rest / rest.sum(axis=0)).sum(axis=0)


def zone_ratio(y, weight, zone, names) -> np.ndarray:
    """Each zone's income per head over the mean of all groups."""
    y, w, zone = np.asarray(y, float), np.asarray(weight, float), np.asarray(zone)
    mean = np.sum(w * y) / np.sum(w)
    return np.array([np.sum((w * y)[zone == z]) / np.sum(w[zone == z]) / mean for z in names])


def zones(path=None) -> pd.Series:
    """Each province's zone, by region code."""
    return read_table(path or CHINA_TABLES / "regions.csv", ["code", "zone"]).set_index("code")["zone"]


def add_inequality(ds: xr.Dataset, provinces: list[str], zone_of: pd.Series | None = None) -> xr.Dataset:
    """The results ``ds`` with the spread of income and the industrial structure over ``provinces``."""
    regions = [str(r) for r in ds["region"].values]
    p = np.isin(regions, provinces)
    out: dict = {}
    if "income_per_capita0" in ds:
        zone_of = zones() if zone_of is None else zone_of
        y0, y1 = ds["income_per_capita0"].values[p], ds["income_per_capita"].values[p]
        pop = ds["income0"].values[p] / y0
        zone = np.array([zone_of.get(r, "") for r in np.asarray(regions)[p]])
        names = [z for z in ZONES if (zone == z).any()]
        for suffix, y, when in (("0", y0, "benchmark"), ("", y1, "scenario")):
            out[f"theil_provinces{suffix}"] = (
                (),
                theil(y, pop),
                {"long_name": f"Theil's T of income per head among provinces, {when}"},
            )
            out[f"gini_provinces{suffix}"] = (
                (),
                gini(y, pop),
                {"long_name": f"Gini coefficient of income per head among provinces, {when}"},
            )
            out[f"zone_income_ratio{suffix}"] = (
                "zone",
                zone_ratio(y, pop, zone, names),
                {"long_name": f"zone's income per head over the provinces' mean, {when}"},
            )
        ds = ds.assign_coords(zone=("zone", names))
    volume0 = ds["trade"].sum("dest").rename(source="region").transpose("sector", "region").values
    volume1 = np.nan_to_num(ds["output"].transpose("sector", "region").values) * volume0
    for suffix, v, when in (("0", volume0, "benchmark"), ("", volume1, "scenario, output at benchmark prices")):
        share = np.full(v.shape, np.nan)
        total = v[:, p].sum(axis=1, keepdims=True)
        share[:, p] = v[:, p] / np.where(total > 0, total, 1.0)
        k = np.full(len(regions), np.nan)
        k[p] = specialisation(v[:, p])
        out[f"province_output_share{suffix}"] = (
            ("sector", "region"),
            share,
            {"long_name": f"province's share of China's output of the sector, {when}"},
        )
        out[f"krugman_index_china{suffix}"] = (
            "region",
            k,
            {"long_name": f"Krugman index of a province against the rest of China, {when}"},
        )
    return ds.assign(out)
