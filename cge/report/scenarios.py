"""The report of one scenario (``results.nc``) or of a comparison or ladder (``comparison.nc``)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cge.io import write_text
from cge.results.groups import GROUPS
from cge.scenario.stages import plain_name

from .charts import chart_decomposition, chart_ev, chart_stages, chart_trade
from .page import html_page, write_tables
from .read import load
from .sensitivity import render_sensitivity
from .tables import macro_table, stage_tables, structure_table, trade_by_sector, trade_table, welfare_table

Tables = list[tuple[str, str, pd.DataFrame]]  # (file stem, caption, table)
Charts = list[tuple[str, str]]  # (name, SVG)


def labels_of(ds: xr.Dataset) -> list[str]:
    return list(map(str, ds["scenario"].values))


def scenario_parts(ds: xr.Dataset) -> tuple[str, Tables, Charts]:
    """Title, tables and charts of one scenario."""
    tables: Tables = [("welfare", "Welfare (EV) and its decomposition by region", welfare_table(ds))]
    tt = trade_table(ds)
    if tt is not None:
        tables.append(
            ("trade_effects", "Trade creation and diversion by member (import volumes at benchmark prices)", tt)
        )
        tables.append(("trade_effects_by_sector", "Union trade creation and diversion by sector", trade_by_sector(ds)))
    tables.append(("macro", "Terms of trade, real GDP, tariff revenue and factor prices", macro_table(ds)))
    stt = structure_table(ds)
    if stt is not None:
        tables.append(("structure", "Structure among members: specialisation and income spread", stt))
    charts: Charts = [("EV by region", chart_ev(ds))]
    if tt is not None:
        charts.append(("Creation and diversion", chart_trade(tt.drop(index="union"))))
    if "welfare_terms_of_trade" in ds:
        charts.append(("Decomposition", chart_decomposition(ds)))
    return f"Scenario: {html.escape(str(ds.attrs.get('scenario', '')))}", tables, charts


def comparison_charts(ds: xr.Dataset, st: dict[str, pd.DataFrame]) -> Charts:
    """EV, union trade effects and union decomposition by scenario (lines across the stages)."""
    ev_table, ev_title = st["ev_pct_by_scenario"], "EV % by region and scenario"
    if len(ev_table.index) > 15:  # many regions: the members and the group rows, for legibility
        members = (
            ds["member_of_union"].values.any(axis=0) if "member_of_union" in ds else np.zeros(ds.sizes["region"], bool)
        )
        keep = [r for r, m in zip(map(str, ds["region"].values), members) if m]  # type: ignore[arg-type]
        keep += [g for g in GROUPS if g in ev_table.index]
        ev_table, ev_title = ev_table.loc[keep], "EV % of members and groups by scenario (all regions: table)"
    charts: Charts = [("EV by stage", chart_stages(ev_table, ev_title, "EV %"))]
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
    return charts


def comparison_parts(ds: xr.Dataset) -> tuple[str, Tables, Charts]:
    """Title, tables and charts of a comparison or ladder: by scenario, then each scenario's welfare."""
    st = stage_tables(ds)
    tables: Tables = [
        ("ev_pct_by_scenario", "EV (% of benchmark income) by region and scenario", st["ev_pct_by_scenario"]),
        ("union_effects_by_scenario", "Union effects by scenario", st["union_effects_by_scenario"]),
    ]
    charts = comparison_charts(ds, st)
    for k, label in enumerate(labels_of(ds)):
        one = ds.isel(scenario=k)
        one = one.assign_coords(member=("region", one["member_of_union"].values)) if "member_of_union" in one else one
        tables.append((f"welfare_{label}", f"Welfare and its decomposition: {plain_name(label)}", welfare_table(one)))
    names = ds.attrs.get("scenarios", "").split()
    ladders = {n.rsplit(".", 1)[0] for n in names}
    title = (
        f"Ladder: {html.escape(ladders.pop())} ({' &rarr; '.join(map(html.escape, labels_of(ds)))})"
        if len(ladders) == 1 and all("." in n for n in names)
        else f"Comparison: {html.escape(', '.join(names))}"
    )
    return title, tables, charts


def results_name(ds: xr.Dataset, is_comparison: bool) -> str:
    """What the tables' labels name: the scenario, the ladder, or the scenarios compared."""
    if not is_comparison:
        return str(ds.attrs.get("scenario", "scenario"))
    names = ds.attrs.get("scenarios", "").split()
    ladders = {n.rsplit(".", 1)[0] for n in names}
    return ladders.pop() if len(ladders) == 1 else "compare-" + "-".join(names)


def render(folder: str | Path, digits: int = 3) -> Path:
    """Write the report for the results in ``folder`` (LaTeX tables to ``digits`` decimals);
    returns the report folder.

    A folder with ``sensitivity.nc`` (``cge sensitivity``) gets the sensitivity page: as
    ``index.html`` when it holds no other results, else as ``sensitivity.html`` linked from it.
    """
    folder = Path(folder)
    ssa_file = folder / "sensitivity.nc"
    if ssa_file.is_file() and not (folder / "results.nc").is_file() and not (folder / "comparison.nc").is_file():
        return render_sensitivity(folder, "index.html", digits)
    ds, is_comp = load(folder)
    out = folder / "report"
    title, tables, charts = comparison_parts(ds) if is_comp else scenario_parts(ds)
    write_tables(out, tables, results_name(ds, is_comp), ds.attrs, digits)
    meta = [
        ("dataset", ds.attrs.get("dataset", "")),
        ("dataset sha256", ds.attrs.get("dataset_sha256", "")),
        ("union", ds.attrs.get("union", "")),
        ("stage", ds.attrs.get("stage", "")),
        ("closure", ds.attrs.get("closure_numeraire", "")),
        ("cge", ds.attrs.get("cge_version", "")),
        ("solver", f"{ds.attrs.get('solver', '')} {ds.attrs.get('ipopt_version', '')}".strip()),
    ]
    tail = []
    if ssa_file.is_file():
        render_sensitivity(folder, "sensitivity.html", digits)
        tail.append('<p><a href="sensitivity.html">Sensitivity analysis (sensitivity.nc)</a></p>')
    tail.append(
        '<p class="meta">EV: equivalent variation in benchmark currency units. The decomposition is '
        "integrated along the path from the benchmark; the first-order total is one discrete step at "
        "benchmark weights, as much of the literature reports it.</p></body></html>\n"
    )
    write_text(out / "index.html", html_page(title, [(k, v) for k, v in meta if v], charts, tables, tail))
    return out
