"""Weighted summary statistics over the draws: mean, sd, Chebyshev 95% interval, range, percentiles."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from cge.results import groups as groups_
from cge.results.groups import masks, membership

#: Chebyshev: P(|X - mean| >= k sd) <= 1/k^2, so mean +- sqrt(20) sd holds at least 95% of any
#: distribution (GTAP's SSA reports these intervals)
CHEBYSHEV_K = 1.0 / math.sqrt(0.05)


PERCENTILES = (2.5, 5.0, 50.0, 95.0, 97.5)


STATS = ("mean", "sd", "lower95", "upper95", "min", "max") + tuple(f"p{p:g}" for p in PERCENTILES)

#: column headers of the summary tables, by statistic
STAT_LABELS = {
    "mean": "Mean",
    "sd": "SD",
    "lower95": "Lower 95%",
    "upper95": "Upper 95%",
    "min": "Min",
    "max": "Max",
    **{f"p{p:g}": f"P{p:g}" for p in PERCENTILES},
}


def weighted_stats(x: np.ndarray, w: np.ndarray, sample: bool = False) -> dict:
    """Summary statistics over axis 0 of ``x`` (draw, ...) with weights ``w`` (draw,).

    NaN draws are left out (weights renormalised).  ``sample``: the unbiased variance
    (Monte Carlo, equal weights), else the weighted population form (quadrature).
    Percentiles are of the weighted discrete distribution of the draws (inverse CDF, midpoint rule).
    """
    x = np.asarray(x, dtype=float)
    w = np.broadcast_to(np.asarray(w, dtype=float).reshape((-1,) + (1,) * (x.ndim - 1)), x.shape)
    ok = np.isfinite(x)
    ww = np.where(ok, w, 0.0)
    tot = ww.sum(axis=0)
    have = tot > 0
    safe = np.where(have, tot, 1.0)
    xz = np.where(ok, x, 0.0)
    mean = (ww * xz).sum(axis=0) / safe
    var = (ww * (xz - mean) ** 2).sum(axis=0) / safe
    if sample:
        cnt = ok.sum(axis=0)
        var = np.where(cnt > 1, var * cnt / np.maximum(cnt - 1, 1), np.nan)
    sd = np.sqrt(np.maximum(var, 0.0))
    out = {
        "mean": mean,
        "sd": sd,
        "lower95": mean - CHEBYSHEV_K * sd,
        "upper95": mean + CHEBYSHEV_K * sd,
        "min": np.where(have, np.nanmin(np.where(ok, x, np.inf), axis=0), np.nan),
        "max": np.where(have, np.nanmax(np.where(ok, x, -np.inf), axis=0), np.nan),
    }
    flat_x = x.reshape(x.shape[0], -1)
    flat_w = w.reshape(w.shape[0], -1)
    for p in PERCENTILES:
        vals = np.full(flat_x.shape[1], np.nan)
        for c in range(flat_x.shape[1]):
            good = np.isfinite(flat_x[:, c])
            if good.any():
                xs, ws = flat_x[good, c], flat_w[good, c]
                order = np.argsort(xs, kind="stable")
                xs, ws = xs[order], ws[order]
                cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
                vals[c] = np.interp(p / 100.0, cdf, xs)
        out[f"p{p:g}"] = vals.reshape(x.shape[1:])
    for k in out:
        out[k] = np.where(have, out[k], np.nan)
    return out


def summary_array(da: xr.DataArray, weights: np.ndarray, sample: bool) -> xr.DataArray:
    st = weighted_stats(da.values, weights, sample)
    vals = np.stack([np.asarray(st[s], dtype=float) for s in STATS])
    return xr.DataArray(
        vals,
        dims=("stat",) + da.dims[1:],
        coords={"stat": list(STATS), **{d: da.coords[d] for d in da.dims[1:] if d in da.coords}},
        attrs={"long_name": f"summary of {da.name} over the draws"},
    )


def group_ev_pct(ds: xr.Dataset) -> xr.DataArray:
    """EV% of the union, the non-members and the world, by draw."""
    groups = masks(membership(ds))
    cols = [groups_.group_ev_pct(ds["ev"].values, ds["income0"].values, mask) for _, mask in groups]
    return xr.DataArray(
        np.column_stack(cols),
        dims=("draw", "group"),
        coords={"group": [g for g, _ in groups]},
        attrs={"long_name": "EV % of the group's benchmark income"},
    )
