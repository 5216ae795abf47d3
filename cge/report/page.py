"""The HTML page shared by the reports: style, the check script, and the page around charts and tables."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from cge.io import write_text
from cge.results import units

from .formats import to_csv, to_html_table, to_latex

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{padding:.2em .6em;border-bottom:1px solid #eee}
td.num{text-align:right;font-variant-numeric:tabular-nums}tr.total{font-weight:600;background:#f6f8fa}
.meta{color:#555;font-size:.85em}.chart svg{max-width:100%;height:auto}
.headline{background:#f3f7fb;border-left:4px solid #1f6fb2;padding:.4em 1em;margin:1em 0;font-size:1.02em}
.headline ul{padding-left:1.2em}h3{font-size:1em}"""


SCRIPT = """<script>
window.cgeErrors=[];window.addEventListener('error',function(e){window.cgeErrors.push(String(e.message))});
document.addEventListener('DOMContentLoaded',function(){var n=document.querySelectorAll('.chart svg').length;
document.body.setAttribute('data-charts',String(n));
var drawn=Array.prototype.filter.call(document.querySelectorAll('.chart svg'),function(s){
return s.getBoundingClientRect().height>50&&s.querySelectorAll('path,use,rect').length>3}).length;
document.body.setAttribute('data-drawn',String(drawn));
document.body.setAttribute('data-chart-slots',String(document.querySelectorAll('.chart').length));
document.body.setAttribute('data-chart-boxes',Array.prototype.map.call(document.querySelectorAll('.chart'),
function(c){var r=c.getBoundingClientRect();
return [r.left,r.top+window.scrollY,r.width,r.height].map(Math.round).join(',')}).join(';'));
document.body.setAttribute('data-height',String(Math.ceil(document.documentElement.scrollHeight)));
document.body.setAttribute('data-errors',String(window.cgeErrors.length));});
</script>"""


def latex_notes(attrs: dict) -> tuple[str, ...]:
    """The notes under every LaTeX table: the unit of money and the data's source."""
    unit = str(attrs.get("units", units.UNKNOWN))
    source = str(attrs.get("dataset_source", "")).split(";")[0].split(". ")[0].strip()
    notes = [f"Money in {unit}."]
    if attrs.get("dataset"):
        notes.append(f"Data: benchmark {attrs['dataset']}" + (f" ({source})." if source else "."))
    notes.append(f"Computed with cge {attrs.get('cge_version', '')}.".replace(" .", "."))
    return tuple(notes)


def label(*parts: str) -> str:
    """A LaTeX label unique to a report and table: ``tab:<results>:<table>``."""
    return "tab:" + ":".join(re.sub(r"[^A-Za-z0-9._\-]+", "-", p) for p in parts)


def display(df: pd.DataFrame) -> pd.DataFrame:
    """A table for readers: a ladder's stages by their plain names in the column headings (the CSV
    files keep the identifiers)."""
    from cge.scenario.stages import plain_name

    return df.rename(columns=lambda c: plain_name(c) if isinstance(c, str) else c)


def write_tables(
    out: Path, tables: list[tuple[str, str, pd.DataFrame]], prefix: str, attrs: dict, digits: int = 3
) -> None:
    """Every (file stem, caption, table) as ``stem.csv`` (full precision) and ``stem.tex`` (labelled
    ``tab:<prefix>:<stem>``, with the unit and source notes, numbers to ``digits`` decimals)."""
    notes = latex_notes(attrs)
    for stem, caption, df in tables:
        write_text(out / f"{stem}.csv", to_csv(df))
        write_text(out / f"{stem}.tex", to_latex(display(df), caption, label(prefix, stem), digits=digits, notes=notes))


def html_page(
    title: str,
    meta: list[tuple[str, object]],
    charts: list[tuple[str, str]],
    tables: list[tuple[str, str, pd.DataFrame]],
    tail: list[str],
    digits: int = 2,
    max_rows: int | None = None,
    lead: str = "",
) -> str:
    """One self-contained page: title (HTML), the ``meta`` lines, the charts (name, SVG), the tables
    rounded to ``digits`` (at most ``max_rows`` rows shown), then the ``tail`` parts (closing the page);
    ``lead`` (HTML, e.g. the headline) right under the title."""
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>',
        f"<style>{CSS}</style>{SCRIPT}</head><body>",
        f"<h1>{title}</h1>",
        lead,
    ]
    if meta:
        parts.append(
            '<p class="meta">' + "<br>".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in meta) + "</p>"
        )
    for name, svg in charts:
        parts.append(f'<h2>{html.escape(name)}</h2><div class="chart">{svg}</div>')
    for stem, caption, df in tables:
        shown = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
        more = "" if shown is df else f" (first {max_rows} of {len(df)} rows shown)"
        parts.append(
            f"<h2>{html.escape(caption)}</h2>{to_html_table(display(shown), digits=digits)}"
            f'<p class="meta">Full precision: {stem}.csv; LaTeX: {stem}.tex{more}</p>'
        )
    return "\n".join(parts + tail)
