"""The report's tables of one scenario or of a comparison, as pandas DataFrames (full precision)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from cge.results.groups import GROUPS, ev_base, group_ev_pct, group_mean, group_sum, masks, membership

PARTS = {
    "welfare_allocative_members": "Allocative: members",
    "welfare_allocative_nonmembers": "Allocative: non-members",
    "welfare_terms_of_trade": "Terms of trade",
    "welfare_endowment": "Endowment / factor movement",
    "welfare_revenue_transfer": "Revenue transfer",
    # extensions (docs/extensions.md), present only in results of models built with them
    "welfare_allocative_output_tax": "Allocative: output tax",
    "welfare_allocative_export_tax": "Allocative: export tax",
    "welfare_trade_balance": "Trade balance",
    # dynamic effects (docs/dynamics.md), present only in results of models built with them
    "welfare_variety": "Variety (scale economies)",
    "welfare_selection": "Selection (Melitz)",
    "welfare_capital_accumulation": "Capital accumulation",
    "welfare_capital_income": "Capital income across borders",
}


def _group_rows(values: dict[str, np.ndarray], member: np.ndarray, weight: np.ndarray | None):
    """Union, non-member and world rows: sums, or weighted means when ``weight`` is given."""
    return {
        label: {k: (group_sum(v, mask) if weight is None else group_mean(v, weight, mask)) for k, v in values.items()}
        for label, mask in masks(member)
    }


def welfare_table(ds: xr.Dataset) -> pd.DataFrame:
    """EV, EV% and the decomposition by region, with union, non-member and world rows."""
    member = membership(ds)
    regions = list(map(str, ds["region"].values))
    cols = {"EV": ds["ev"].values, "EV%": ds["ev_pct"].values}
    for k, label in PARTS.items():
        if k in ds:
            cols[label] = ds[k].values
    if "welfare_decomposition_residual" in ds:
        cols["Residual"] = ds["welfare_decomposition_residual"].values
    df = pd.DataFrame(cols, index=regions)
    df.insert(0, "Member", np.where(member, "yes", ""))
    inc0 = ev_base(ds)
    for label, row in _group_rows({k: v for k, v in cols.items() if k != "EV%"}, member, None).items():
        row["EV%"] = 100 * row["EV"] / inc0[dict(masks(member))[label]].sum()
        row["Member"] = ""
        df.loc[label] = pd.Series(row)
    return df.rename_axis("Region")


def first_order_table(ds: xr.Dataset) -> pd.DataFrame | None:
    """The first-order approximation beside the exact EV: one discrete step at benchmark weights,
    the figure much of the literature publishes; not EV."""
    parts = [
        str(k)
        for k in ds.data_vars
        if str(k).startswith("welfare_first_order_") and str(k) != "welfare_first_order_total"
    ]
    if not parts:
        return None
    member = membership(ds)
    cols = {"EV (exact)": ds["ev"].values}
    for k in parts:
        cols[k.removeprefix("welfare_first_order_").replace("_", " ").capitalize()] = ds[k].values
    cols["First-order total"] = ds["welfare_first_order_total"].values
    for k, label in (("terms_of_trade", "terms of trade"), ("volume_of_trade", "volume of trade")):
        if f"welfare_cp_{k}" in ds:
            cols[f"Caliendo-Parro {label}"] = ds[f"welfare_cp_{k}"].values
    df = pd.DataFrame(cols, index=list(map(str, ds["region"].values)))
    for label, row in _group_rows(cols, member, None).items():
        df.loc[label] = pd.Series(row)
    return df.rename_axis("Region")


def trade_table(ds: xr.Dataset) -> pd.DataFrame | None:
    member = membership(ds)
    if not member.any() or "trade_creation" not in ds:
        return None
    regions = np.asarray(list(map(str, ds["region"].values)))
    tc = ds["trade_creation"].sum("sector", skipna=False).values
    td = ds["trade_diversion"].sum("sector", skipna=False).values
    etc = ds["external_trade_creation"].sum("sector", skipna=False).values
    df = pd.DataFrame(
        {"Trade creation": tc[member], "Trade diversion": td[member], "External trade creation": etc[member]},
        index=regions[member],
    )
    df.loc["union"] = df.sum()
    df["Creation less diversion"] = df["Trade creation"] - df["Trade diversion"]
    return df.rename_axis("Member")


def trade_by_sector(ds: xr.Dataset) -> pd.DataFrame | None:
    if not membership(ds).any() or "trade_creation_union" not in ds:
        return None
    return pd.DataFrame(
        {
            "Trade creation": ds["trade_creation_union"].values,
            "Trade diversion": ds["trade_diversion_union"].values,
            "External trade creation": ds["external_trade_creation_union"].values,
        },
        index=list(map(str, ds["sector"].values)),
    ).rename_axis("Sector")


def allocative_by_sector(ds: xr.Dataset) -> pd.DataFrame | None:
    """The members' allocative efficiency by sector (every instrument's wedge, summed), with the
    union's total: where the gains from reallocation come from."""
    member = membership(ds)
    if not member.any() or "welfare_allocative_by_sector" not in ds:
        return None
    values = ds["welfare_allocative_by_sector"].sum("instrument").transpose("sector", "region").values
    regions = np.asarray(list(map(str, ds["region"].values)))
    df = pd.DataFrame(values[:, member], index=list(map(str, ds["sector"].values)), columns=list(regions[member]))
    df["union"] = df.sum(axis=1)
    return df.rename_axis("Sector")


def macro_table(ds: xr.Dataset) -> pd.DataFrame:
    regions = list(map(str, ds["region"].values))
    cols = {}
    if "terms_of_trade" in ds:
        cols["Terms of trade %"] = 100 * (ds["terms_of_trade"].values - 1)
    if "real_gdp" in ds:
        cols["Real GDP %"] = 100 * (ds["real_gdp"].values / ds["gdp0"].values - 1)
    cols["Tariff revenue"] = ds["tariff_revenue"].values
    cols["Tariff revenue received"] = ds["tariff_revenue_received"].values
    for f in map(str, ds["factor"].values):
        cols[f"Price of {f} %"] = 100 * (ds["factor_price"].sel(factor=f).values - 1)
    return pd.DataFrame(cols, index=regions).rename_axis("Region")


def structure_table(ds: xr.Dataset) -> pd.DataFrame | None:
    rows = {}
    if "krugman_index_members0" in ds and np.isfinite(float(ds["krugman_index_members0"])):
        rows["Krugman specialisation index, mean over member pairs"] = (
            float(ds["krugman_index_members0"]),
            float(ds["krugman_index_members"]),
        )
    if "income_per_capita_cv_members0" in ds and np.isfinite(float(ds["income_per_capita_cv_members0"])):
        rows["Coefficient of variation of per-capita income among members"] = (
            float(ds["income_per_capita_cv_members0"]),
            float(ds["income_per_capita_cv_members"]),
        )
    if "theil_provinces0" in ds:
        rows["Theil's T of income per head among provinces"] = (
            float(ds["theil_provinces0"]),
            float(ds["theil_provinces"]),
        )
        rows["Gini coefficient of income per head among provinces"] = (
            float(ds["gini_provinces0"]),
            float(ds["gini_provinces"]),
        )
        for z in map(str, ds["zone"].values):
            rows[f"Income per head, {z} over the provinces' mean"] = (
                float(ds["zone_income_ratio0"].sel(zone=z)),
                float(ds["zone_income_ratio"].sel(zone=z)),
            )
    if not rows:
        return None
    return pd.DataFrame(rows, index=["Benchmark", "Scenario"]).T.rename_axis("Indicator")


def provinces_table(ds: xr.Dataset) -> pd.DataFrame | None:
    """Who gains across provinces: income per head before and after, its change, and each province's
    specialisation against the rest of China (cge/results/inequality.py)."""
    if "krugman_index_china0" not in ds:
        return None
    p = np.isfinite(ds["krugman_index_china0"].values)
    cols = {}
    if "income_per_capita0" in ds:
        cols["Income per head, benchmark"] = ds["income_per_capita0"].values[p]
        cols["Income per head, scenario"] = ds["income_per_capita"].values[p]
        cols["Change %"] = ds["ev_pct"].values[p]
    cols["Krugman index against China, benchmark"] = ds["krugman_index_china0"].values[p]
    cols["Krugman index against China, scenario"] = ds["krugman_index_china"].values[p]
    return pd.DataFrame(cols, index=list(map(str, ds["region"].values[p]))).rename_axis("Province")


def stage_tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """For a comparison: EV% by region and scenario; union effects by scenario."""
    labels = list(map(str, ds["scenario"].values))
    member = (
        ds["member_of_union"].values if "member_of_union" in ds else np.zeros((len(labels), ds.sizes["region"]), bool)
    )
    ev_pct = pd.DataFrame(ds["ev_pct"].values.T, index=list(map(str, ds["region"].values)), columns=labels)
    base = ev_base(ds)  # per scenario: benchmark consumption under the steady state, else income
    base = np.where(np.isnan(base), ds["income0"].values, base)
    groups = [dict(masks(member[k])) for k in range(len(labels))]
    for label in GROUPS:
        ev_pct.loc[label] = [
            group_ev_pct(ds["ev"].values[k], base[k], g[label]) if label in g else np.nan for k, g in enumerate(groups)
        ]
    out = {"ev_pct_by_scenario": ev_pct.rename_axis("Region")}
    rows = {}
    for k, label in enumerate(labels):
        m = member[k]
        row = {
            "EV (union)": ds["ev"].values[k][m].sum() if m.any() else np.nan,
            "EV (non-members)": ds["ev"].values[k][~m].sum(),
        }
        for v, name in (
            ("trade_creation", "Trade creation"),
            ("trade_diversion", "Trade diversion"),
            ("external_trade_creation", "External trade creation"),
        ):
            row[name] = np.nansum(ds[v].values[k]) if v in ds and m.any() else np.nan
        for p, name in PARTS.items():
            if p in ds:
                row[f"{name} (union)"] = ds[p].values[k][m].sum() if m.any() else np.nan
        rows[label] = row
    out["union_effects_by_scenario"] = pd.DataFrame(rows).rename_axis("Effect")
    return out
