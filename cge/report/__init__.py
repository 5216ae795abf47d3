"""Reports for people and papers from results already on disk.

``cge report DIR`` reads ``DIR/results.nc`` (one scenario) or ``DIR/comparison.nc`` (several
scenarios or the stages of a ladder) and writes into ``DIR/report/``:

* ``index.html`` -- one self-contained page (inline CSS and SVG charts, no network needed) with the
  tables rounded for reading;
* ``*.csv`` -- every table at full precision;
* ``*.tex`` -- the same tables for papers (booktabs; ``\\input`` them).

Nothing in these files depends on the time or the machine: two runs on the same results give
byte-identical CSV and LaTeX files (and HTML).

Modules: ``read`` (the results files), ``tables`` (one scenario's and a comparison's tables),
``formats`` (CSV, LaTeX, HTML tables), ``charts`` (inline SVG), ``page`` (the HTML page),
``scenarios`` (:func:`render`), ``sensitivity`` (:func:`render_sensitivity`).
"""

from __future__ import annotations

from .charts import chart_decomposition, chart_error_bars, chart_ev, chart_stages, chart_trade
from .formats import to_csv, to_html_table, to_latex
from .read import load, load_sensitivity
from .scenarios import render
from .sensitivity import (
    render_sensitivity,
    ssa_draws_table,
    ssa_ev_table,
    ssa_parameter_table,
    ssa_trade_by_sector,
    ssa_trade_table,
)
from .tables import PARTS, macro_table, stage_tables, structure_table, trade_by_sector, trade_table, welfare_table

__all__ = [
    "PARTS",
    "chart_decomposition",
    "chart_error_bars",
    "chart_ev",
    "chart_stages",
    "chart_trade",
    "load",
    "load_sensitivity",
    "macro_table",
    "render",
    "render_sensitivity",
    "ssa_draws_table",
    "ssa_ev_table",
    "ssa_parameter_table",
    "ssa_trade_by_sector",
    "ssa_trade_table",
    "stage_tables",
    "structure_table",
    "to_csv",
    "to_html_table",
    "to_latex",
    "trade_by_sector",
    "trade_table",
    "welfare_table",
]
