"""Charts of results for notebooks and papers: each function takes a :class:`~cge.results.Results`,
a :class:`~cge.results.Comparison` or their Dataset, draws on ``ax`` (a new figure without one) and
returns the matplotlib Axes. Money axes name the dataset's unit.

>>> import cge, cge.plot
>>> comp = cge.compare(["scenarios/east-asia-ladder.yaml"])
>>> cge.plot.ev(comp)                      # EV% by region, one bar per stage
>>> cge.plot.decomposition(comp)           # the union's welfare decomposition by stage
>>> cge.plot.trade_effects(comp.results[1])  # trade creation and diversion by sector
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from cge.results import units
from cge.results.groups import group_sum, membership

MEMBER, NON_MEMBER = "#1f6fb2", "#9aa5b1"
#: group totals (union, non-members, world), and a gain and a loss in a ladder's steps
GROUP, GAIN, LOSS = "#2d3640", "#2a9d8f", "#e76f51"
#: one colour per welfare component, in the order of the decomposition
COMPONENT_COLOURS = (
    *("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#8d99ae", "#6d597a", "#b5838d"),
    *("#90be6d", "#43aa8b", "#577590", "#f9844a"),  # the dynamic parts (docs/dynamics.md)
)
TRADE = (
    ("trade_creation", "Trade creation", "#2a9d8f"),
    ("trade_diversion", "Trade diversion", "#e76f51"),
    ("external_trade_creation", "External trade creation", "#8d99ae"),
)


def dataset_of(obj: Any) -> xr.Dataset:
    return obj if isinstance(obj, xr.Dataset) else obj.dataset


def money_label(ds: xr.Dataset, what: str) -> str:
    """``what`` with the dataset's unit: "EV (million USD, 2011)"."""
    return f"{what} ({units.short(ds.attrs.get('units', units.UNKNOWN), ds.attrs.get('dataset_year'))})"


def house_axes(ax, width: float = 7.0, height: float = 3.4):
    """``ax`` (a new figure's without one) in the house style: a zero line, no top or right spine."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(width, height))
    ax.axhline(0, color="#444", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def legend_below(ax, below: float = 0.12) -> None:
    """The legend in one block under the axes (``below``: how far, as a share of their height)."""
    ax.legend(frameon=False, fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -below))


def _scenarios(ds: xr.Dataset) -> list[str]:
    """The scenarios' labels; a ladder's stages by their plain names ("Customs union")."""
    from cge.scenario.stages import plain_name

    return [plain_name(s) for s in map(str, ds["scenario"].values)] if "scenario" in ds.dims else []


def shown_regions(ds: xr.Dataset, at_most: int = 15) -> list[int]:
    """The regions a chart shows: all of them up to ``at_most``; beyond, the union's members and the
    non-members with the largest losses (two thirds of the rest) and gains, in the data's order."""
    n = ds.sizes["region"]
    if n <= at_most:
        return list(range(n))
    member = membership(ds)
    pct = ds["ev_pct"].values if "scenario" not in ds.dims else ds["ev_pct"].transpose("scenario", "region").values[-1]
    others = [k for k in np.argsort(pct, kind="stable") if not member[k]]
    room = max(at_most - int(member.sum()), 2)
    losers = [k for k in others if pct[k] < 0][: max(room * 2 // 3, 1)]
    gainers = [k for k in reversed(others) if pct[k] > 0 and k not in losers][: room - len(losers)]
    return sorted({*np.flatnonzero(member), *losers, *gainers})


def _wrapped(labels: list[str], width: int = 14) -> list[str]:
    """Tick labels on lines of at most ``width`` characters."""
    import textwrap

    return ["\n".join(textwrap.wrap(label, width)) or label for label in labels]


def ev(obj: Any, ax=None, pct: bool = True, groups: bool = False, at_most: int | None = None):
    """EV by region (% of benchmark income, or money with ``pct=False``): bars coloured by union
    membership, with ``groups`` the union, non-member and world totals in dark grey after them; for
    several scenarios, one bar per scenario in each region's group. With ``at_most``, only the
    regions :func:`shown_regions` picks (members, largest losers and gainers)."""
    ds = dataset_of(obj)
    total = ds.sizes["region"]
    if at_most is not None:
        ds = ds.isel(region=shown_regions(ds, at_most))
    ax = house_axes(ax)
    name = "ev_pct" if pct else "ev"
    regions = list(map(str, ds["region"].values))
    x = np.arange(len(regions))
    scenarios = _scenarios(ds)
    if not scenarios:
        colours = [MEMBER if m else NON_MEMBER for m in membership(ds)]
        ax.bar(x, ds[name].values, color=colours)
        ax.set_title("Welfare by region (union members in blue, non-members in grey)")
        if groups:
            x, regions = _group_bars(ax, dataset_of(obj), name, x, regions)
    else:
        width = 0.8 / len(scenarios)
        for k, label in enumerate(scenarios):
            ax.bar(
                x + (k - (len(scenarios) - 1) / 2) * width,
                ds[name].transpose("scenario", "region").values[k],
                width,
                label=label,
            )
        ax.set_title("Welfare by region and scenario")
        legend_below(ax, 0.25 if len(regions) > 12 else 0.12)
    if len(x) < total:
        ax.set_title(ax.get_title() + f"\n{len(x)} of {total} regions: members, largest losses and gains", fontsize=9)
    ax.set_xticks(x, regions, rotation=90 if len(regions) > 12 else 0)
    ax.set_ylabel("EV, % of benchmark income" if pct else money_label(ds, "EV"))
    return ax


def _group_bars(ax, ds: xr.Dataset, name: str, x, regions: list[str]):
    """The union, non-member and world bars after the regions' (a gap between)."""
    from cge.results.groups import group_ev_pct, masks

    member = membership(ds)
    ev, inc0 = ds["ev"].values, ds["income0"].values
    shown = masks(member)
    values = [group_ev_pct(ev, inc0, m) if name == "ev_pct" else group_sum(ev, m, skipna=False) for _, m in shown]
    gx = len(x) + 0.6 + np.arange(len(shown))
    ax.bar(gx, values, color=GROUP, hatch="//", edgecolor="white")
    return np.concatenate([x, gx]), [*regions, *(g for g, _ in shown)]


def ladder_steps(obj: Any, ax=None):
    """A ladder's stages as steps (a waterfall): the union's EV (the world's without a union) at
    each stage, each bar the increment the stage adds, labelled with it."""
    ds = dataset_of(obj)
    ax = house_axes(ax)
    member = np.asarray(ds["member"].values, bool) if "member" in ds.coords else np.zeros((ds.sizes["scenario"], 1))
    ev = ds["ev"].transpose("scenario", "region").values
    levels = np.array([np.sum(ev[k][m]) if m.any() else np.sum(ev[k]) for k, m in enumerate(member)])
    before = np.concatenate([[0.0], levels[:-1]])
    step = levels - before
    x = np.arange(len(levels))
    ax.bar(x, step, bottom=before, color=[GAIN if v >= 0 else LOSS for v in step], width=0.6)
    for k in range(len(x) - 1):
        ax.plot([x[k] + 0.3, x[k + 1] - 0.3], [levels[k]] * 2, color="#444", lw=0.8)
    for k, v in enumerate(step):
        ax.annotate(
            f"{v:+,.0f}" if abs(v) >= 10 else f"{v:+,.2f}",
            (x[k], max(levels[k], before[k])),
            ha="center",
            va="bottom",
            fontsize=7,
            xytext=(0, 2),
            textcoords="offset points",
        )
    who = "union" if member.any() else "world"
    ax.margins(y=0.15)
    ax.set_xticks(x, _wrapped(_scenarios(ds)))
    ax.set_ylabel(money_label(ds, f"EV of the {who}"))
    ax.set_title(f"What each stage adds to the {who}'s EV (green: a gain, red: a loss)")
    return ax


def trade_by_scenario(obj: Any, ax=None):
    """The union's trade creation, diversion and external trade creation in each scenario, as grouped bars."""
    ds = dataset_of(obj)
    ax = house_axes(ax)
    x = np.arange(ds.sizes["scenario"])
    for k, (name, label, colour) in enumerate(TRADE):
        v = ds[name].transpose("scenario", ...).values.reshape(len(x), -1)
        ax.bar(x + (k - 1) * 0.27, np.nansum(v, axis=1), 0.27, label=label, color=colour)
    ax.set_xticks(x, _wrapped(_scenarios(ds)))
    ax.set_ylabel(money_label(ds, "change in imports"))
    ax.set_title("Union trade creation and diversion by scenario")
    legend_below(ax)
    return ax


def trade_effects(obj: Any, ax=None, by: str = "sector"):
    """Trade creation, diversion and external trade creation of the union's members, summed by
    ``sector`` or by member (``by="region"``), as grouped bars (one result)."""
    ds = dataset_of(obj)
    if _scenarios(ds):
        raise ValueError("trade_effects draws one result: pass comparison.results[k]")
    ax = house_axes(ax)
    member = membership(ds)
    keep = ds["sector"].values if by == "sector" else ds["region"].values[member]
    x = np.arange(len(keep))
    for k, (name, label, colour) in enumerate(TRADE):
        values = ds[name].values  # (sector, region), NaN for non-members
        v = group_sum(values, member) if by == "sector" else np.nansum(values[:, member], axis=0)
        ax.bar(x + (k - 1) * 0.27, v, 0.27, label=label, color=colour)
    ax.set_xticks(x, list(map(str, keep)))
    ax.set_ylabel(money_label(ds, "change in imports"))
    ax.set_title(f"Trade creation and diversion by {'sector' if by == 'sector' else 'member'}")
    legend_below(ax)
    return ax


def stacked_bars(ax, x, parts, labels: list[str], colours=COMPONENT_COLOURS) -> None:
    """Stacked bars of ``parts`` (component, x): positive parts above zero, negative below."""
    pos, neg = np.zeros(len(x)), np.zeros(len(x))
    for v, label, colour in zip(parts, labels, colours):
        ax.bar(x, v, bottom=np.where(v >= 0, pos, neg), label=label, color=colour)
        pos, neg = pos + np.maximum(v, 0), neg + np.minimum(v, 0)


def decomposition(obj: Any, ax=None):
    """The welfare decomposition as stacked bars with EV marked: by region for one result, the
    union's total (all regions' without a union) by scenario for several."""
    ds = dataset_of(obj)
    if "welfare" not in ds:
        raise ValueError("these results have no welfare decomposition (solved with steps=0)")
    ax = house_axes(ax)
    labels = [str(c).replace("_", " ").capitalize() for c in ds["component"].values]
    scenarios = _scenarios(ds)
    if not scenarios:
        ticks = list(map(str, ds["region"].values))
        parts, total = ds["welfare"].values, ds["ev"].values
        ax.set_title("Welfare decomposition by region")
    else:
        ticks = _wrapped(scenarios)
        masks = [m if m.any() else np.ones_like(m) for m in np.asarray(ds["member"].values, bool)]
        w = ds["welfare"].transpose("scenario", "component", "region").values
        parts = np.array([[np.nansum(w[s, c, m]) for s, m in enumerate(masks)] for c in range(len(labels))])
        total = np.array([np.sum(ds["ev"].values[s, m]) for s, m in enumerate(masks)])
        ax.set_title("Welfare decomposition of the union by scenario")
    x = np.arange(len(ticks))
    stacked_bars(ax, x, np.nan_to_num(parts), labels)
    ax.plot(x, total, "k_", markersize=14, label="EV")
    ax.set_xticks(x, ticks, rotation=90 if len(ticks) > 12 else 0)
    ax.set_ylabel(money_label(ds, "EV"))
    legend_below(ax)
    return ax
