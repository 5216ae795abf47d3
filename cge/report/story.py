"""What a reader sees first and last: the headline (who gains, who loses, by how much, in money and
in percent), the codes spelled out, and the provenance (dataset hash, closure, solver) at the end."""

from __future__ import annotations

import html

import numpy as np
import xarray as xr

from cge.results import units
from cge.results.groups import group_ev_pct, group_sum, masks, membership
from cge.scenario.stages import plain_name


def _names(ds: xr.Dataset, dim: str) -> list[str]:
    """Full names where the results carry them (``region_name``), else the codes."""
    key = f"{dim}_name"
    return list(map(str, ds[key].values if key in ds.coords else ds[dim].values))


def money(v: float, unit: str) -> str:
    """An amount for a sentence: "18,839 million USD, 2011" (two decimals below 10)."""
    return f"{abs(v):,.{2 if abs(v) < 10 else 0}f} {unit}"


def percent(v: float) -> str:
    """A percentage for a sentence: three decimals, or two significant digits when smaller."""
    if abs(v) >= 0.01 or v == 0:
        return f"{v:+.3f}%"
    return f"{v:+.{1 - int(np.floor(np.log10(abs(v))))}f}%"


def _gains(v: float, plural: bool = False) -> str:
    if plural:
        return "gain" if v > 0 else "lose" if v < 0 else "neither gain nor lose"
    return "gains" if v > 0 else "loses" if v < 0 else "neither gains nor loses"


def _union_label(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("union", "the union")).split(":")[0] or "the union"


def group_sentence(ds: xr.Dataset) -> str:
    """The union's, the non-members' and the world's EV in money and percent, then the largest
    gain and loss (one result)."""
    member = membership(ds)
    ev, inc0, pct = ds["ev"].values, ds["income0"].values, ds["ev_pct"].values
    unit = units.short(ds.attrs.get("units", units.UNKNOWN), ds.attrs.get("dataset_year"))
    names = _names(ds, "region")
    parts = []
    for group, mask in masks(member):
        total, share = float(group_sum(ev, mask, skipna=False)), float(group_ev_pct(ev, inc0, mask))
        who = {"union": f"<b>{html.escape(_union_label(ds))}</b>", "non-members": "non-members"}.get(group, "the world")
        if group == "union":
            who += " (" + ", ".join(html.escape(n) for n, m in zip(names, member) if m) + ")"
        parts.append(f"{who} {_gains(total, group == 'non-members')} {money(total, unit)} ({percent(share)} of income)")
    best, worst = int(np.argmax(pct)), int(np.argmin(pct))
    extremes = (
        f"Largest gain: {html.escape(names[best])} ({percent(pct[best])}); "
        f"largest loss: {html.escape(names[worst])} ({percent(pct[worst])})."
    )
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + ". " + extremes


def headline(ds: xr.Dataset) -> str:
    """The headline of one result: the description, then the group sentence."""
    description = str(ds.attrs.get("description", "")).strip()
    lead = f"<p>{html.escape(description)}</p>" if description and "differs by scenario" not in description else ""
    return f'<div class="headline">{lead}<p>{group_sentence(ds)}</p></div>'


def comparison_headline(ds: xr.Dataset, ladder: bool) -> str:
    """One line per scenario (a ladder: per stage, with what the stage adds to the union's EV)."""
    description = str(ds.attrs.get("description", "")).strip()
    lead = f"<p>{html.escape(description)}</p>" if description and "differs by scenario" not in description else ""
    unit = units.short(ds.attrs.get("units", units.UNKNOWN), ds.attrs.get("dataset_year"))
    items, previous = [], 0.0
    for k, label in enumerate(map(str, ds["scenario"].values)):
        one = ds.isel(scenario=k)
        if "union" in ds.coords:  # each scenario's union ("name: members")
            one.attrs = {**ds.attrs, "union": str(ds["union"].values[k])}
        line = f"<b>{html.escape(plain_name(label))}</b>: {group_sentence(one)}"
        member = membership(one)
        if ladder and member.any():
            union = float(group_sum(one["ev"].values, member, skipna=False))
            sign = "+" if union >= previous else "&minus;"
            line += f" This stage adds {sign}{money(union - previous, unit)} to the union."
            previous = union
        items.append(f"<li>{line}</li>")
    return f'<div class="headline">{lead}<ul>{"".join(items)}</ul></div>'


def glossary(ds: xr.Dataset) -> str:
    """The region and sector codes spelled out (where the results carry names)."""
    rows = []
    for dim, what in (("region", "Regions"), ("sector", "Sectors")):
        codes, names = list(map(str, ds[dim].values)), _names(ds, dim)
        if codes == names:
            continue
        cells = "".join(f"<tr><th>{html.escape(c)}</th><td>{html.escape(n)}</td></tr>" for c, n in zip(codes, names))
        rows.append(f"<h3>{what}</h3><table>{cells}</table>")
    return "<h2>Codes</h2>" + "".join(rows) if rows else ""


def provenance(ds: xr.Dataset) -> str:
    """Where the numbers come from: dataset and its hash, closure, package and solver versions."""
    a = ds.attrs
    meta = [
        ("dataset", f"{a.get('dataset', '')} ({a.get('units', '')})"),
        ("dataset sha256", a.get("dataset_sha256", "")),
        ("source", a.get("dataset_source", "")),
        ("union", a.get("union", "")),
        ("closure", a.get("closure_numeraire", "")),
        ("model", a.get("model_options", "")),
        ("cge", a.get("cge_version", "")),
        ("solver", f"{a.get('solver', '')} {a.get('ipopt_version', '')}".strip()),
    ]
    lines = "<br>".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in meta if v)
    return f'<h2>Provenance</h2><p class="meta">{lines}</p>'
