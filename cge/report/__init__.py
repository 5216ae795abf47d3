"""Reports for people and papers from results already on disk.

``cge report DIR`` reads ``DIR/results.nc`` (one scenario) or ``DIR/comparison.nc`` (several
scenarios or the stages of a ladder) and writes into ``DIR/report/``:

* ``index.html`` -- one self-contained page (inline CSS and SVG charts, no network needed) with the
  tables rounded for reading;
* ``*.csv`` -- every table at full precision;
* ``*.tex`` -- the same tables for papers (booktabs; ``\\input`` them).

Nothing in these files depends on the time or the machine: two runs on the same results give
byte-identical CSV and LaTeX files (and HTML).
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cge.errors import InputError
from cge.io import write_text
from cge.results.groups import GROUPS, group_ev_pct, group_mean, group_sum, masks, membership

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
}


# ------------------------------------------------------------------ reading
def load(folder: str | Path) -> tuple[xr.Dataset, bool]:
    """The results in ``folder``: (dataset, is_comparison)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a results folder (run `cge run` or `cge compare` first)")
    for name, comp in (("comparison.nc", True), ("results.nc", False)):
        path = folder / name
        if path.is_file():
            try:
                with xr.open_dataset(path) as handle:
                    return handle.load(), comp
            except Exception as exc:
                raise InputError(f"{path}: cannot be read ({exc})") from None
    raise InputError(f"{folder}: holds neither results.nc nor comparison.nc (nor sensitivity.nc)")


# ------------------------------------------------------------------ tables
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
    if "welfare_first_order_total" in ds:
        cols["First-order total (one step)"] = ds["welfare_first_order_total"].values
    df = pd.DataFrame(cols, index=regions)
    df.insert(0, "Member", np.where(member, "yes", ""))
    inc0 = ds["income0"].values
    for label, row in _group_rows({k: v for k, v in cols.items() if k != "EV%"}, member, None).items():
        row["EV%"] = 100 * row["EV"] / inc0[dict(masks(member))[label]].sum()
        row["Member"] = ""
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
    if not rows:
        return None
    return pd.DataFrame(rows, index=["Benchmark", "Scenario"]).T.rename_axis("Indicator")


def stage_tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """For a comparison: EV% by region and scenario; union effects by scenario."""
    labels = list(map(str, ds["scenario"].values))
    member = (
        ds["member_of_union"].values if "member_of_union" in ds else np.zeros((len(labels), ds.sizes["region"]), bool)
    )
    ev_pct = pd.DataFrame(ds["ev_pct"].values.T, index=list(map(str, ds["region"].values)), columns=labels)
    inc0 = ds["income0"].values[0]
    groups = [dict(masks(member[k])) for k in range(len(labels))]
    for label in GROUPS:
        ev_pct.loc[label] = [
            group_ev_pct(ds["ev"].values[k], inc0, g[label]) if label in g else np.nan for k, g in enumerate(groups)
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


# ------------------------------------------------------------------ writers
def to_csv(df: pd.DataFrame) -> str:
    return df.to_csv(float_format="%.17g", lineterminator="\n")


def _tex_escape(s: str) -> str:
    for a, b in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
    ):
        s = s.replace(a, b)
    return s


def to_latex(df: pd.DataFrame, caption: str, label: str, digits: int = 3) -> str:
    """A booktabs table; numbers with ``digits`` decimals, NaN as an empty cell."""
    cols = [df.index.name or ""] + list(df.columns)
    align = "l" + "".join("l" if df[c].dtype == object else "r" for c in df.columns)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        f"\\caption{{{_tex_escape(caption)}}}",
        f"\\label{{{label}}}",
        f"\\begin{{tabular}}{{{align}}}",
        r"\toprule",
        " & ".join(_tex_escape(str(c)) for c in cols) + r" \\",
        r"\midrule",
    ]
    for idx, row in df.iterrows():
        cells = [_tex_escape(str(idx))]
        for v in row.values:
            if isinstance(v, (float, np.floating)):
                cells.append("" if not np.isfinite(v) else f"{v:,.{digits}f}".replace(",", "{,}"))
            else:
                cells.append(_tex_escape(str(v)))
        if str(idx) in ("union", "non-members", "world") and lines[-1] != r"\midrule":
            if not any(str(i) in ("union", "non-members", "world") for i in [lines[-1].split(" & ")[0]]):
                lines.append(r"\midrule")
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def to_html_table(df: pd.DataFrame, digits: int = 2) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or ""] + list(df.columns))
    body = []
    for idx, row in df.iterrows():
        cls = ' class="total"' if str(idx) in ("union", "non-members", "world") else ""
        cells = [f"<th>{html.escape(str(idx))}</th>"]
        for v in row.values:
            if isinstance(v, (float, np.floating)):
                txt = "" if not np.isfinite(v) else f"{v:,.{digits}f}"
                cells.append(f'<td class="num">{txt}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ------------------------------------------------------------------ charts (inline SVG)
def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    if "<metadata>" in text:  # RDF boilerplate, not needed in a page
        text = text[: text.index("<metadata>")] + text[text.index("</metadata>") + len("</metadata>") :]
    return text


def _fig(width=7.0, height=3.4):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "cge"  # deterministic ids in the SVG
    fig, ax = plt.subplots(figsize=(width, height))
    ax.axhline(0, color="#444", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _legend(ax):
    ax.legend(frameon=False, fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.12))


def chart_ev(ds: xr.Dataset) -> str:
    member = membership(ds)
    fig, ax = _fig()
    regions = list(map(str, ds["region"].values))
    ax.bar(regions, ds["ev_pct"].values, color=["#1f6fb2" if m else "#9aa5b1" for m in member])
    ax.set_ylabel("EV, % of benchmark income")
    ax.set_title("Welfare by region (members in blue)")
    return _svg(fig)


def chart_trade(df: pd.DataFrame) -> str:
    fig, ax = _fig()
    x = np.arange(len(df.index))
    w = 0.27
    for k, (col, colour) in enumerate(
        (("Trade creation", "#2a9d8f"), ("Trade diversion", "#e76f51"), ("External trade creation", "#8d99ae"))
    ):
        ax.bar(x + (k - 1) * w, df[col].values, w, label=col, color=colour)
    ax.set_xticks(x, list(df.index))
    ax.set_ylabel("change in import volume")
    ax.set_title("Trade creation and diversion by member")
    _legend(ax)
    return _svg(fig)


def chart_decomposition(ds: xr.Dataset) -> str:
    fig, ax = _fig()
    regions = list(map(str, ds["region"].values))
    x = np.arange(len(regions))
    pos, neg = np.zeros(len(x)), np.zeros(len(x))
    colours = ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#8d99ae", "#6d597a", "#b5838d"]
    for (k, label), colour in zip(PARTS.items(), colours):
        if k not in ds:
            continue
        v = ds[k].values
        base = np.where(v >= 0, pos, neg)
        ax.bar(x, v, bottom=base, label=label, color=colour)
        pos, neg = pos + np.maximum(v, 0), neg + np.minimum(v, 0)
    ax.plot(x, ds["ev"].values, "k_", markersize=14, label="EV")
    ax.set_xticks(x, regions)
    ax.set_ylabel("EV units")
    ax.set_title("Welfare decomposition")
    _legend(ax)
    return _svg(fig)


def chart_stages(table: pd.DataFrame, title: str, ylabel: str) -> str:
    fig, ax = _fig()
    x = np.arange(len(table.columns))
    for row in table.index:
        ax.plot(x, table.loc[row].values, marker="o", label=str(row))
    ax.set_xticks(x, list(table.columns))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _legend(ax)
    return _svg(fig)


def labels_of(ds):
    return list(map(str, ds["scenario"].values))


# ------------------------------------------------------------------ the report
CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{padding:.2em .6em;border-bottom:1px solid #eee}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.total{font-weight:600;background:#f6f8fa}
.meta{color:#555;font-size:.85em}.chart svg{max-width:100%;height:auto}"""

SCRIPT = """<script>
window.cgeErrors=[];window.addEventListener('error',function(e){window.cgeErrors.push(String(e.message))});
document.addEventListener('DOMContentLoaded',function(){var n=document.querySelectorAll('.chart svg').length;
document.body.setAttribute('data-charts',String(n));
document.body.setAttribute('data-errors',String(window.cgeErrors.length));});
</script>"""


def render(folder: str | Path) -> Path:
    """Write the report for the results in ``folder``; returns the report folder.

    A folder with ``sensitivity.nc`` (``cge sensitivity``) gets the sensitivity page: as
    ``index.html`` when it holds no other results, else as ``sensitivity.html`` linked from it.
    """
    folder = Path(folder)
    ssa_file = folder / "sensitivity.nc"
    if ssa_file.is_file() and not (folder / "results.nc").is_file() and not (folder / "comparison.nc").is_file():
        return render_sensitivity(folder, "index.html")
    ds, is_comp = load(folder)
    out = Path(folder) / "report"
    tables: list[tuple[str, str, pd.DataFrame]] = []  # (file stem, caption, table)
    charts: list[tuple[str, str]] = []
    if is_comp:
        st = stage_tables(ds)
        tables.append(
            ("ev_pct_by_scenario", "EV (% of benchmark income) by region and scenario", st["ev_pct_by_scenario"])
        )
        tables.append(("union_effects_by_scenario", "Union effects by scenario", st["union_effects_by_scenario"]))
        ev_table, ev_title = st["ev_pct_by_scenario"], "EV % by region and scenario"
        if len(ev_table.index) > 15:  # many regions: the members and the group rows, for legibility
            members = (
                ds["member_of_union"].values.any(axis=0)
                if "member_of_union" in ds
                else np.zeros(ds.sizes["region"], bool)
            )
            keep = [r for r, m in zip(map(str, ds["region"].values), members) if m]  # type: ignore[arg-type]
            keep += [g for g in ("union", "non-members", "world") if g in ev_table.index]
            ev_table, ev_title = ev_table.loc[keep], "EV % of members and groups by scenario (all regions: table)"
        charts.append(("EV by stage", chart_stages(ev_table, ev_title, "EV %")))
        eff = st["union_effects_by_scenario"]
        rows = [r for r in eff.index if r.startswith(("Trade", "External"))]
        if eff.loc[rows].notna().any().any():
            charts.append(
                (
                    "Trade effects by stage",
                    chart_stages(eff.loc[rows], "Union trade effects by scenario", "change in import volume"),
                )
            )
        parts = [r for r in eff.index if r.endswith("(union)") and not r.startswith("EV")]
        if parts and eff.loc[parts].notna().any().any():
            charts.append(
                (
                    "Decomposition by stage",
                    chart_stages(eff.loc[parts], "Union welfare decomposition by scenario", "EV units"),
                )
            )
        for k, label in enumerate(map(str, ds["scenario"].values)):
            one = ds.isel(scenario=k)
            one = (
                one.assign_coords(member=("region", one["member_of_union"].values)) if "member_of_union" in one else one
            )
            tables.append((f"welfare_{label}", f"Welfare and its decomposition: {label}", welfare_table(one)))
        names = ds.attrs.get("scenarios", "").split()
        ladders = {n.rsplit(".", 1)[0] for n in names}
        title = (
            f"Ladder: {html.escape(ladders.pop())} ({' &rarr; '.join(map(html.escape, labels_of(ds)))})"
            if len(ladders) == 1 and all("." in n for n in names)
            else f"Comparison: {html.escape(', '.join(names))}"
        )
    else:
        tables.append(("welfare", "Welfare (EV) and its decomposition by region", welfare_table(ds)))
        tt = trade_table(ds)
        if tt is not None:
            tables.append(
                ("trade_effects", "Trade creation and diversion by member (import volumes at benchmark prices)", tt)
            )
            tables.append(
                ("trade_effects_by_sector", "Union trade creation and diversion by sector", trade_by_sector(ds))
            )
        tables.append(("macro", "Terms of trade, real GDP, tariff revenue and factor prices", macro_table(ds)))
        stt = structure_table(ds)
        if stt is not None:
            tables.append(("structure", "Structure among members: specialisation and income spread", stt))
        charts.append(("EV by region", chart_ev(ds)))
        if tt is not None:
            charts.append(("Creation and diversion", chart_trade(tt.drop(index="union"))))
        if "welfare_terms_of_trade" in ds:
            charts.append(("Decomposition", chart_decomposition(ds)))
        title = f"Scenario: {html.escape(str(ds.attrs.get('scenario', '')))}"
    for stem, caption, df in tables:
        write_text(out / f"{stem}.csv", to_csv(df))
        write_text(out / f"{stem}.tex", to_latex(df, caption, f"tab:{stem}"))
    meta = [
        ("dataset", ds.attrs.get("dataset", "")),
        ("dataset sha256", ds.attrs.get("dataset_sha256", "")),
        ("union", ds.attrs.get("union", "")),
        ("stage", ds.attrs.get("stage", "")),
        ("closure", ds.attrs.get("closure_numeraire", "")),
        ("cge", ds.attrs.get("cge_version", "")),
        ("solver", f"{ds.attrs.get('solver', '')} {ds.attrs.get('ipopt_version', '')}".strip()),
    ]
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>',
        f"<style>{CSS}</style>{SCRIPT}</head><body>",
        f"<h1>{title}</h1>",
        '<p class="meta">' + "<br>".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in meta if v) + "</p>",
    ]
    for name, svg in charts:
        parts.append(f'<h2>{html.escape(name)}</h2><div class="chart">{svg}</div>')
    for stem, caption, df in tables:
        parts.append(
            f"<h2>{html.escape(caption)}</h2>{to_html_table(df)}"
            f'<p class="meta">Full precision: {stem}.csv; LaTeX: {stem}.tex</p>'
        )
    if ssa_file.is_file():
        render_sensitivity(folder, "sensitivity.html")
        parts.append('<p><a href="sensitivity.html">Sensitivity analysis (sensitivity.nc)</a></p>')
    parts.append(
        '<p class="meta">EV: equivalent variation in benchmark currency units. The decomposition is '
        "integrated along the path from the benchmark; the first-order total is one discrete step at "
        "benchmark weights, as much of the literature reports it.</p></body></html>\n"
    )
    write_text(out / "index.html", "\n".join(parts))
    return out


# ------------------------------------------------------------------ sensitivity analysis (cge.sensitivity)
def load_sensitivity(folder: str | Path) -> xr.Dataset:
    path = Path(folder) / "sensitivity.nc"
    try:
        with xr.open_dataset(path) as handle:
            return handle.load()
    except Exception as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from None


_SSA_COLS = {
    "mean": "Mean",
    "sd": "SD",
    "lower95": "Lower 95%",
    "upper95": "Upper 95%",
    "min": "Min",
    "max": "Max",
    "p2.5": "P2.5",
    "p97.5": "P97.5",
}


def _ssa_stats(x: np.ndarray, ds: xr.Dataset) -> dict:
    from cge.sensitivity import weighted_stats

    ok = ds["status"].values == "ok"
    w = np.where(ok, ds["weight"].values, 0.0)
    st = weighted_stats(
        np.where(ok.reshape((-1,) + (1,) * (x.ndim - 1)), x, np.nan), w, sample=ds.attrs.get("method") != "quadrature"
    )
    return {lab: st[k] for k, lab in _SSA_COLS.items()}


def ssa_ev_table(ds: xr.Dataset) -> pd.DataFrame:
    """EV% by region (and union, non-members, world): mean, sd, Chebyshev 95% interval, range, percentiles."""
    regions = list(map(str, ds["region"].values))
    df = pd.DataFrame(_ssa_stats(ds["ev_pct"].values, ds), index=regions)
    if "ev_pct_group" in ds:
        g = _ssa_stats(ds["ev_pct_group"].values, ds)
        for k, grp in enumerate(map(str, ds["group"].values)):
            df.loc[grp] = [g[c][k] for c in df.columns]
    member = membership(ds)
    df.insert(0, "Member", list(np.where(member, "yes", "")) + [""] * (len(df) - len(regions)))
    return df.rename_axis("Region")


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


def chart_error_bars(labels, mean, lower, upper, member, title, ylabel) -> str:
    fig, ax = _fig()
    x = np.arange(len(labels))
    groups = ("union", "non-members", "world")
    ax.bar(
        x,
        mean,
        color=["#44505c" if str(lab) in groups else "#1f6fb2" if m else "#9aa5b1" for lab, m in zip(labels, member)],
    )
    err = np.vstack([np.maximum(mean - lower, 0), np.maximum(upper - mean, 0)])
    ax.errorbar(x, mean, yerr=err, fmt="none", ecolor="#222", elinewidth=1.0, capsize=3)
    long = max((len(str(lab)) for lab in labels), default=0) > 4
    ax.set_xticks(x, labels, rotation=35 if long else 0, ha="right" if long else "center", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _svg(fig)


def render_sensitivity(folder: str | Path, page: str = "index.html") -> Path:
    """The sensitivity report: EV% with error bars (mean, 95% Chebyshev interval), tables as CSV and LaTeX."""
    folder = Path(folder)
    ds = load_sensitivity(folder)
    out = folder / "report"
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
    for stem, caption, df in tables:
        write_text(out / f"{stem}.csv", to_csv(df))
        write_text(out / f"{stem}.tex", to_latex(df, caption, f"tab:{stem}"))
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
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>',
        f"<style>{CSS}</style>{SCRIPT}</head><body>",
        f"<h1>{title}</h1>",
        '<p class="meta">'
        + "<br>".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in meta if v not in ("", None))
        + "</p>",
    ]
    for name, svg in charts:
        parts.append(f'<h2>{html.escape(name)}</h2><div class="chart">{svg}</div>')
    for stem, caption, df in tables:
        shown = df if len(df) <= 60 else df.head(60)
        more = "" if shown is df else f" (first 60 of {len(df)} rows shown)"
        parts.append(
            f"<h2>{html.escape(caption)}</h2>{to_html_table(shown, digits=4)}"
            f'<p class="meta">Full precision: {stem}.csv; LaTeX: {stem}.tex{more}</p>'
        )
    notes = [
        a.get("intervals", ""),
        "Standard deviation: " + a.get("sd", ""),
        "Percentiles: " + a.get("percentiles", ""),
        a.get("quadrature_exactness", ""),
        a.get("failed_draws", ""),
    ]
    parts.append(
        '<p class="meta">'
        + "<br>".join(html.escape(n) for n in notes if n and not n.endswith(": "))
        + "</p></body></html>\n"
    )
    write_text(out / page, "\n".join(parts))
    return out
