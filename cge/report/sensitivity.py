"""The sensitivity report (``sensitivity.nc`` from ``cge sensitivity``): tables over the draws and error bars."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cge.io import write_text
from cge.results.groups import membership

from .charts import chart_error_bars
from .page import html_page, write_tables
from .read import load_sensitivity

#: the statistics the tables show
STATS_SHOWN = ("mean", "sd", "lower95", "upper95", "min", "max", "p2.5", "p97.5")


def _ssa_stats(x: np.ndarray, ds: xr.Dataset) -> dict:
    """The statistics shown, by column header, of ``x`` (draw, ...) over the draws that solved."""
    from cge.sensitivity.stats import STAT_LABELS, weighted_stats

    ok = ds["status"].values == "ok"
    w = np.where(ok, ds["weight"].values, 0.0)
    st = weighted_stats(
        np.where(ok.reshape((-1,) + (1,) * (x.ndim - 1)), x, np.nan), w, sample=ds.attrs.get("method") != "quadrature"
    )
    return {STAT_LABELS[k]: st[k] for k in STATS_SHOWN}


def ssa_ev_table(ds: xr.Dataset) -> pd.DataFrame:
    """EV% by region (and union, non-members, world): mean, sd, Chebyshev 95% interval, range, percentiles."""
    from cge.sensitivity.output import summary_table

    return summary_table(ds, STATS_SHOWN).rename_axis("Region")


def ssa_trade_table(ds: xr.Dataset) -> pd.DataFrame | None:
    """Trade creation and diversion (summed over sectors) by member and for the union."""
    member = membership(ds)
    if not member.any() or "trade_creation" not in ds:
        return None
    regions = np.asarray(list(map(str, ds["region"].values)))
    rows = {}
    for var, name in (("trade_creation", "Trade creation"), ("trade_diversion", "Trade diversion")):
        by_member = ds[var].sum("sector", skipna=False).values[:, member]  # (draw, member)
        vals = np.column_stack([by_member, by_member.sum(axis=1)])
        st = _ssa_stats(vals, ds)
        for k, r in enumerate(list(regions[member]) + ["union"]):
            rows[(name, r)] = {c: st[c][k] for c in ("Mean", "SD", "Lower 95%", "Upper 95%", "Min", "Max")}
    df = pd.DataFrame(rows).T
    df.index = [f"{a}: {b}" for a, b in df.index]
    return df.rename_axis("Effect")


def ssa_trade_by_sector(ds: xr.Dataset) -> pd.DataFrame | None:
    if not membership(ds).any() or "trade_creation_union" not in ds:
        return None
    cols = {}
    for var, name in (("trade_creation_union", "Creation"), ("trade_diversion_union", "Diversion")):
        st = _ssa_stats(ds[var].values, ds)
        for c in ("Mean", "SD", "Lower 95%", "Upper 95%"):
            cols[f"{name}: {c}"] = st[c]
    return pd.DataFrame(cols, index=list(map(str, ds["sector"].values))).rename_axis("Sector")


def ssa_parameter_table(ds: xr.Dataset) -> pd.DataFrame:
    vals = ds["param_value"].values
    return pd.DataFrame(
        {
            "Value": ds["param_base"].values,
            "Distribution": ds["param_distribution"].values.astype(str),
            "Spread down": ds["param_spread_down"].values,
            "Spread up": ds["param_spread_up"].values,
            "Mean": ds["param_mean"].values,
            "SD": ds["param_sd"].values,
            "Lowest draw": vals.min(axis=0),
            "Highest draw": vals.max(axis=0),
        },
        index=list(map(str, ds["param"].values)),
    ).rename_axis("Parameter")


def ssa_draws_table(ds: xr.Dataset) -> pd.DataFrame:
    df = pd.DataFrame(
        ds["param_value"].values, columns=list(map(str, ds["param"].values)), index=list(map(int, ds["draw"].values))
    )
    df.insert(0, "Weight", ds["weight"].values)
    df.insert(0, "Status", ds["status"].values.astype(str))
    if "ev_pct_group" in ds:
        for k, grp in enumerate(map(str, ds["group"].values)):
            df[f"EV% {grp}"] = ds["ev_pct_group"].values[:, k]
    df["Message"] = [m if s != "ok" else "" for s, m in zip(df["Status"], ds["message"].values.astype(str))]
    return df.rename_axis("Draw")


def sensitivity_parts(ds: xr.Dataset) -> tuple[list[tuple[str, str, pd.DataFrame]], list[tuple[str, str]]]:
    """Tables (file stem, caption, table) and charts (name, SVG) of a sensitivity analysis."""
    tables: list[tuple[str, str, pd.DataFrame]] = []
    charts: list[tuple[str, str]] = []
    ok = ds["status"].values == "ok"
    if ok.any():
        ev = ssa_ev_table(ds)
        tables.append(
            (
                "ssa_ev_pct",
                "EV (% of benchmark income) over the draws: mean, standard deviation, "
                "Chebyshev 95% interval (mean -+ 4.47 sd), range and percentiles",
                ev,
            )
        )
        nreg = ds.sizes["region"]
        charts.append(
            (
                "EV by region with 95% intervals",
                chart_error_bars(
                    list(ev.index),
                    ev["Mean"].values,
                    ev["Lower 95%"].values,
                    ev["Upper 95%"].values,
                    list(membership(ds)) + [False] * (len(ev) - nreg),
                    "EV % by region: mean and Chebyshev 95% interval (members in blue, groups dark)",
                    "EV, % of benchmark income",
                ),
            )
        )
        tt = ssa_trade_table(ds)
        if tt is not None:
            tables.append(("ssa_trade_effects", "Trade creation and diversion by member over the draws", tt))
            members = [i for i in tt.index if not i.endswith(": union")]
            charts.append(
                (
                    "Creation and diversion with 95% intervals",
                    chart_error_bars(
                        [i.replace("Trade creation", "TC").replace("Trade diversion", "TD") for i in members],
                        tt.loc[members, "Mean"].values.astype(float),
                        tt.loc[members, "Lower 95%"].values.astype(float),
                        tt.loc[members, "Upper 95%"].values.astype(float),
                        [True] * len(members),
                        "Trade creation (TC) and diversion (TD) by member",
                        "change in import volume",
                    ),
                )
            )
            tables.append(
                (
                    "ssa_trade_effects_by_sector",
                    "Union trade creation and diversion by sector over the draws",
                    ssa_trade_by_sector(ds),
                )
            )
    tables.append(("ssa_parameters", "Uncertain parameters", ssa_parameter_table(ds)))
    tables.append(("ssa_draws", "Draws: parameter values, status and group EV %", ssa_draws_table(ds)))
    return tables, charts


def render_sensitivity(folder: str | Path, page: str = "index.html", digits: int = 3, out: Path | None = None) -> Path:
    """The sensitivity report: EV% with error bars (mean, 95% Chebyshev interval), tables as CSV and
    LaTeX (``digits`` decimals), written into ``out`` (default ``folder/report``)."""
    folder = Path(folder)
    ds = load_sensitivity(folder)
    out = out or folder / "report"
    tables, charts = sensitivity_parts(ds)
    write_tables(out, tables, f"{ds.attrs.get('scenario', 'scenario')}-sensitivity", ds.attrs, digits)
    a = ds.attrs
    title = f"Sensitivity analysis: {html.escape(str(a.get('scenario', '')))}"
    meta = [
        ("dataset", a.get("dataset", "")),
        ("dataset sha256", a.get("dataset_sha256", "")),
        ("union", a.get("union", "")),
        ("stage", a.get("stage", "")),
        ("method", f"{a.get('method', '')} {a.get('quadrature_rule', '')}".strip()),
        ("draws", f"{a.get('n_draws', '')} ({a.get('n_failed', 0)} failed)"),
        ("seed", a.get("seed", "")),
        ("parameters", a.get("parameters", "")),
        ("cge", a.get("cge_version", "")),
    ]
    notes = [
        a.get("intervals", ""),
        "Standard deviation: " + a.get("sd", ""),
        "Percentiles: " + a.get("percentiles", ""),
        a.get("quadrature_exactness", ""),
        a.get("failed_draws", ""),
    ]
    tail = [
        '<p class="meta">'
        + "<br>".join(html.escape(n) for n in notes if n and not n.endswith(": "))
        + "</p></body></html>\n"
    ]
    shown_meta = [(k, v) for k, v in meta if v not in ("", None)]
    write_text(out / page, html_page(title, shown_meta, charts, tables, tail, digits=4, max_rows=60))
    return out
