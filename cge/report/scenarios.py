"""The report of one scenario (``results.nc``) or of a comparison or ladder (``comparison.nc``)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cge import plot
from cge.io import output_folder, write_text
from cge.results import units
from cge.scenario.stages import plain_name

from . import maps, story
from .charts import chart_output_shares, svg_of
from .page import html_page, write_tables
from .read import load
from .sensitivity import render_sensitivity
from .tables import (
    allocative_by_sector,
    first_order_table,
    macro_table,
    provinces_table,
    stage_tables,
    structure_table,
    trade_by_sector,
    trade_table,
    welfare_table,
)

Tables = list[tuple[str, str, pd.DataFrame]]  # (file stem, caption, table)
Charts = list[tuple[str, str]]  # (name, SVG)
#: charts of regions show at most this many (members, the largest losses and gains; tables: all)
AT_MOST = 15
FIRST_ORDER = "First-order approximation: one discrete step at benchmark weights, as often published (not EV)"


def labels_of(ds: xr.Dataset) -> list[str]:
    return list(map(str, ds["scenario"].values))


def scenario_parts(ds: xr.Dataset) -> tuple[str, Tables, Charts]:
    """Title, tables and charts of one scenario."""
    unit = units.short(ds.attrs.get("units", units.UNKNOWN), ds.attrs.get("dataset_year"))
    tables: Tables = [("welfare", f"Welfare (EV, {unit}) and its decomposition by region", welfare_table(ds))]
    tt = trade_table(ds)
    if tt is not None:
        tables.append(
            (
                "trade_effects",
                f"Trade creation and diversion by member (import volumes at benchmark prices, {unit})",
                tt,
            )
        )
        tables.append(
            ("trade_effects_by_sector", f"Union trade creation and diversion by sector ({unit})", trade_by_sector(ds))
        )
    ab = allocative_by_sector(ds)
    if ab is not None:
        tables.append(("allocative_by_sector", f"Allocative efficiency of the members by sector ({unit})", ab))
    tables.append(("macro", f"Terms of trade, real GDP, tariff revenue ({unit}) and factor prices", macro_table(ds)))
    stt = structure_table(ds)
    if stt is not None:
        tables.append(("structure", "Structure among members: specialisation and income spread", stt))
    pt = provinces_table(ds)
    if pt is not None:
        tables.append(("provinces", "Who gains across provinces: income per head and specialisation", pt))
    fo = first_order_table(ds)
    if fo is not None:
        tables.append(("first_order", FIRST_ORDER + f" ({unit})", fo))
    return f"{html.escape(str(ds.attrs.get('scenario', '')))}", tables, scenario_charts(ds, tt is not None)


def scenario_charts(ds: xr.Dataset, union: bool) -> Charts:
    """EV by region with the group totals, the map, trade creation and diversion by member and by
    sector, and the decomposition (regions as the EV chart shows them)."""
    charts: Charts = [("EV by region", svg_of(plot.ev, ds, groups=True, at_most=AT_MOST))]
    charts.append(("Map", svg_of(maps.ev_map, ds, height=5.0 if ds.attrs.get("dataset") == "china-provinces" else 3.6)))
    if union:
        charts.append(("Creation and diversion by member", svg_of(plot.trade_effects, ds, by="region")))
        charts.append(("Creation and diversion by sector", svg_of(plot.trade_effects, ds, by="sector")))
    if "province_output_share0" in ds:
        charts.append(("Output shares by sector and province", chart_output_shares(ds)))
    if "welfare" in ds:
        shown = ds.isel(region=plot.shown_regions(ds, AT_MOST))
        charts.append(("Decomposition", svg_of(plot.decomposition, shown)))
    return charts


def comparison_charts(ds: xr.Dataset, ladder: bool) -> Charts:
    """A ladder's steps (what each stage adds) or independent scenarios' grouped bars, trade effects
    and the union's decomposition by scenario, and the map of the last one."""
    charts: Charts = []
    if ladder:
        charts.append(("What each stage adds", svg_of(plot.ladder_steps, ds)))
    charts.append(("EV by region and scenario", svg_of(plot.ev, ds, at_most=AT_MOST, width=8.0)))
    member = np.asarray(ds["member"].values, bool) if "member" in ds.coords else np.zeros((1, 1), bool)
    if member.any() and "trade_creation" in ds:
        charts.append(("Trade effects by scenario", svg_of(plot.trade_by_scenario, ds)))
    if "welfare" in ds:
        charts.append(("Decomposition by scenario", svg_of(plot.decomposition, ds)))
    last = ds.isel(scenario=-1)
    charts.append(
        (
            f"Map: {plain_name(labels_of(ds)[-1])}",
            svg_of(maps.ev_map, last, height=5.0 if ds.attrs.get("dataset") == "china-provinces" else 3.6),
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
    charts = comparison_charts(ds, is_ladder(ds))
    for k, label in enumerate(labels_of(ds)):
        one = ds.isel(scenario=k)
        one = one.assign_coords(member=("region", one["member_of_union"].values)) if "member_of_union" in one else one
        tables.append((f"welfare_{label}", f"Welfare and its decomposition: {plain_name(label)}", welfare_table(one)))
    names = ds.attrs.get("scenarios", "").split()
    stages = [plain_name(s) for s in labels_of(ds)]
    title = (
        f"Ladder: {html.escape(results_name(ds, True))} ({' &rarr; '.join(map(html.escape, stages))})"
        if is_ladder(ds)
        else f"Comparison: {html.escape(', '.join(names))}"
    )
    return title, tables, charts


def is_ladder(ds: xr.Dataset) -> bool:
    """Whether a comparison is the stages of one ladder (not independent scenarios)."""
    names = ds.attrs.get("scenarios", "").split()
    return len({n.rsplit(".", 1)[0] for n in names}) == 1 and all("." in n for n in names)


def results_name(ds: xr.Dataset, is_comparison: bool) -> str:
    """What the tables' labels name: the scenario, the ladder, or the scenarios compared."""
    if not is_comparison:
        return str(ds.attrs.get("scenario", "scenario"))
    names = ds.attrs.get("scenarios", "").split()
    ladders = {n.rsplit(".", 1)[0] for n in names}
    return ladders.pop() if len(ladders) == 1 else "compare-" + "-".join(names)


def render(folder: str | Path, digits: int = 3) -> Path:
    """Write the report for the results in ``folder`` (LaTeX tables to ``digits`` decimals);
    returns the report folder, ``folder/report``, built in a temporary folder that replaces it as a
    whole at the end (cge.io.output_folder).

    A folder with ``sensitivity.nc`` (``cge sensitivity``) gets the sensitivity page: as
    ``index.html`` when it holds no other results, else as ``sensitivity.html`` linked from it.
    """
    folder = Path(folder)
    ssa_file = folder / "sensitivity.nc"
    only_ssa = ssa_file.is_file() and not (folder / "results.nc").is_file() and not (folder / "comparison.nc").is_file()
    loaded = None if only_ssa else load(folder)  # bad input refused before anything is written
    with output_folder(folder / "report") as out:
        if loaded is None:
            render_sensitivity(folder, "index.html", digits, out)
        else:
            _render(folder, *loaded, out, digits)
    return folder / "report"


def _render(folder: Path, ds: xr.Dataset, is_comp: bool, out: Path, digits: int) -> None:
    """The report of a scenario's or a comparison's results into ``out``."""
    ssa_file = folder / "sensitivity.nc"
    title, tables, charts = comparison_parts(ds) if is_comp else scenario_parts(ds)
    write_tables(out, tables, results_name(ds, is_comp), ds.attrs, digits)
    lead = story.comparison_headline(ds, is_ladder(ds)) if is_comp else story.headline(ds)
    tail = []
    if ssa_file.is_file():
        render_sensitivity(folder, "sensitivity.html", digits, out)
        tail.append('<p><a href="sensitivity.html">Sensitivity analysis (sensitivity.nc)</a></p>')
    unit = html.escape(str(ds.attrs.get("units", units.UNKNOWN)))
    tail.append(
        f'<p class="meta">EV: equivalent variation, in {unit}: the exact money-metric welfare change, the '
        "figure to quote. Its decomposition is integrated along the path from the benchmark and adds up to "
        "it (the residual is shown). The first-order table is a different, approximate figure: one discrete "
        "step at benchmark weights, as much of the literature reports it.</p>"
    )
    tail += [story.glossary(ds), story.provenance(ds), "</body></html>\n"]
    write_text(out / "index.html", html_page(title, [], charts, tables, tail, lead=lead))
