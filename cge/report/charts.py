"""Charts as inline SVG (matplotlib, loaded on first use; deterministic ids, no metadata)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import xarray as xr

from cge.plot import COMPONENT_COLOURS, MEMBER, NON_MEMBER, TRADE, house_axes, legend_below, stacked_bars
from cge.results.groups import GROUPS, membership

from .tables import PARTS


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
    return fig, house_axes(ax)


def svg_of(draw, *args, width: float = 7.0, height: float = 3.4, **kwargs) -> str:
    """The SVG of a chart drawn by ``draw(*args, ax=ax, **kwargs)`` (a :mod:`cge.plot` function)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "cge"  # deterministic ids in the SVG
    fig, ax = plt.subplots(figsize=(width, height))
    draw(*args, ax=ax, **kwargs)
    return _svg(fig)


def chart_ev(ds: xr.Dataset) -> str:
    member = membership(ds)
    fig, ax = _fig()
    regions = list(map(str, ds["region"].values))
    ax.bar(regions, ds["ev_pct"].values, color=[MEMBER if m else NON_MEMBER for m in member])
    ax.set_ylabel("EV, % of benchmark income")
    ax.set_title("Welfare by region (members in blue)")
    return _svg(fig)


def chart_trade(df: pd.DataFrame) -> str:
    fig, ax = _fig()
    x = np.arange(len(df.index))
    w = 0.27
    for k, (_, col, colour) in enumerate(TRADE):
        ax.bar(x + (k - 1) * w, df[col].values, w, label=col, color=colour)
    ax.set_xticks(x, list(df.index))
    ax.set_ylabel("change in import volume")
    ax.set_title("Trade creation and diversion by member")
    legend_below(ax)
    return _svg(fig)


def chart_decomposition(ds: xr.Dataset) -> str:
    fig, ax = _fig()
    regions = list(map(str, ds["region"].values))
    x = np.arange(len(regions))
    shown = [(ds[k].values, label, colour) for (k, label), colour in zip(PARTS.items(), COMPONENT_COLOURS) if k in ds]
    stacked_bars(ax, x, [v for v, _, _ in shown], [lab for _, lab, _ in shown], [c for _, _, c in shown])
    ax.plot(x, ds["ev"].values, "k_", markersize=14, label="EV")
    ax.set_xticks(x, regions)
    ax.set_ylabel("EV units")
    ax.set_title("Welfare decomposition")
    legend_below(ax)
    return _svg(fig)


def chart_stages(table: pd.DataFrame, title: str, ylabel: str) -> str:
    fig, ax = _fig()
    x = np.arange(len(table.columns))
    for row in table.index:
        ax.plot(x, table.loc[row].values, marker="o", label=str(row))
    ax.set_xticks(x, list(table.columns))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    legend_below(ax)
    return _svg(fig)


def chart_error_bars(labels, mean, lower, upper, member, title, ylabel) -> str:
    fig, ax = _fig()
    x = np.arange(len(labels))
    ax.bar(
        x,
        mean,
        color=["#44505c" if str(lab) in GROUPS else MEMBER if m else NON_MEMBER for lab, m in zip(labels, member)],
    )
    err = np.vstack([np.maximum(mean - lower, 0), np.maximum(upper - mean, 0)])
    ax.errorbar(x, mean, yerr=err, fmt="none", ecolor="#222", elinewidth=1.0, capsize=3)
    long = max((len(str(lab)) for lab in labels), default=0) > 4
    ax.set_xticks(x, labels, rotation=35 if long else 0, ha="right" if long else "center", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _svg(fig)


def chart_output_shares(ds: xr.Dataset) -> str:
    """Heat map: the change in each province's share of China's output of each sector (points)."""
    p = np.isfinite(ds["krugman_index_china0"].values)
    change = 100 * (ds["province_output_share"].values - ds["province_output_share0"].values)[:, p]
    fig, ax = _fig(width=9.0, height=4.2)
    lim = float(np.nanmax(np.abs(change))) or 1.0
    img = ax.imshow(change, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(int(p.sum())), list(map(str, ds["region"].values[p])), rotation=90, fontsize=7)
    ax.set_yticks(range(ds.sizes["sector"]), list(map(str, ds["sector"].values)), fontsize=7)
    fig.colorbar(img, ax=ax, label="change in share of China's output, points")
    ax.set_title("Which sectors move to which provinces")
    return _svg(fig)
