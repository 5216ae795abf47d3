"""The output Dataset: the draws stacked, the parameters, status and summaries; writing it; the summary table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from cge import __version__
from cge.results.effects import TRADE_EFFECTS_ALL
from cge.results.groups import membership

from .parameters import ELASTICITIES
from .stats import CHEBYSHEV_K, STAT_LABELS, group_ev_pct, summary_array

#: results summarised (when present)
SUMMARY_VARS = (
    "ev_pct",
    "ev",
    *TRADE_EFFECTS_ALL,
)


def assemble(outcomes, tasks, dims, values, weights, sc, model, config, method) -> xr.Dataset:
    """Stack the draws (ordered by index) and add parameters, status and summaries."""
    nd = len(outcomes)
    good = [o for o in outcomes if o.ok]
    labels = [d.label for d in dims]
    base = xr.Dataset(coords={"draw": np.arange(nd), "param": labels})
    if good:
        template = good[0].dataset
        blank = template.copy(deep=True)
        for v in blank.data_vars:
            blank[v] = blank[v].astype(float) * np.nan
        parts = [(o.dataset if o.ok else blank).expand_dims(draw=[o.index]) for o in outcomes]
        stacked = xr.concat(
            parts, dim="draw", data_vars="all", coords="minimal", compat="override", combine_attrs="drop"
        )
        base = xr.merge([base, stacked], combine_attrs="drop")
    b = model.bench
    base["param_value"] = (("draw", "param"), values)
    base["param_base"] = ("param", [d.base for d in dims])
    base["param_mean"] = ("param", [d.moments()[0] for d in dims])
    base["param_sd"] = ("param", [d.moments()[1] for d in dims])
    base["param_distribution"] = ("param", [d.distribution for d in dims])
    base["param_spread_down"] = ("param", [d.spread[0] for d in dims])
    base["param_spread_up"] = ("param", [d.spread[1] for d in dims])
    if "sector" not in base.coords:
        base = base.assign_coords(sector=list(b.sectors))
    for name in ELASTICITIES:
        base[name] = (("draw", "sector"), np.array([t.esub[name] for t in tasks]))
        base[name].attrs["long_name"] = f"{name} used in the draw"
    lam = np.ones(nd)
    if "shock" in labels:
        lam = values[:, labels.index("shock")]
    base["shock_scale"] = ("draw", lam)
    base["shock_scale"].attrs["long_name"] = "the scenario's change from the benchmark, scaled (1 = as written)"
    base["weight"] = ("draw", np.asarray(weights, dtype=float))
    base["status"] = ("draw", np.array(["ok" if o.ok else "failed" for o in outcomes], dtype=object))
    base["message"] = ("draw", np.array([o.message for o in outcomes], dtype=object))
    ok = np.array([o.ok for o in outcomes])
    w = np.where(ok, weights, 0.0)
    sample = method != "quadrature"
    if good:
        for v in SUMMARY_VARS:
            if v in base:
                base[f"{v}_summary"] = summary_array(base[v], w, sample)
        base["ev_pct_group"] = group_ev_pct(base)
        base["ev_pct_group_summary"] = summary_array(base["ev_pct_group"], w, sample)
    exact = (
        "exact for polynomials of degree <= 3 in the uncertain parameters (independent, symmetric distributions)"
        if all(d.symmetric for d in dims)
        else "skewed distributions: exact for polynomials of degree <= 2 and for degree-3 terms other than "
        "pure cubes x_i^3 (the nodes match means, covariances and zero odd moments, not the skewness)"
    )
    attrs = {
        "title": f"cge sensitivity analysis: {sc.name}",
        "scenario": sc.name,
        "scenario_yaml": sc.source_text,
        "union": f"{sc.union.name}: {' '.join(sc.union.members)}" if sc.union else None,
        "stage": sc.stage,
        "dataset": model.dataset.attrs.get("name", "?"),
        "dataset_sha256": model.dataset.attrs.get("sha256", ""),
        "cge_version": __version__,
        "method": method,
        "quadrature_rule": "Stroud degree 3, 2n points, equal weights" if method == "quadrature" else "",
        "quadrature_exactness": exact if method == "quadrature" else "",
        "seed": "" if config.seed is None or method != "montecarlo" else int(config.seed),
        "n_draws": nd,
        "n_failed": int((~ok).sum()),
        "steps": int(config.steps),
        "parameters": " ".join(labels),
        "chebyshev_k": CHEBYSHEV_K,
        "intervals": "lower95/upper95: mean -+ k sd with k = 1/sqrt(0.05) = 4.47 (Chebyshev: at least 95% of any "
        "distribution with that mean and sd)",
        "sd": "weighted by the quadrature weights (population form)" if not sample else "sample sd (n - 1)",
        "percentiles": (
            "from the weighted quadrature nodes (a discrete distribution of 2n points): indicative "
            "only; the rule is exact for moments, not for percentiles"
        )
        if method == "quadrature"
        else "of the draws (weighted inverse CDF, midpoint rule)",
        "failed_draws": (
            "failed draws are NaN and left out of the summaries (weights renormalised; a quadrature "
            "rule with a missing node is no longer exact)"
        )
        if (~ok).any()
        else "",
        "closure": model.closure.name,
    }
    base.attrs = {k: v for k, v in attrs.items() if v is not None}
    return base


def write(ds: xr.Dataset, path: str | Path) -> Path:
    from cge.io import write_netcdf

    return write_netcdf(ds, path)


def summary_table(ds: xr.Dataset, stats: tuple[str, ...] = ("mean", "sd", "lower95", "upper95", "min", "max")):
    """EV% over the draws by region, with union, non-member and world rows and a Member column: the
    ``stats`` (default: mean, sd, 95% Chebyshev interval, range) from the stored summaries."""
    import pandas as pd

    cols = {k: STAT_LABELS[k] for k in stats}
    if "ev_pct_summary" not in ds:
        return pd.DataFrame(columns=list(cols.values()))
    s = ds["ev_pct_summary"]
    regions = list(map(str, ds["region"].values))
    df = pd.DataFrame({lab: s.sel(stat=k).values for k, lab in cols.items()}, index=regions)
    if "ev_pct_group_summary" in ds:
        g = ds["ev_pct_group_summary"]
        for grp in map(str, g["group"].values):
            df.loc[grp] = [float(g.sel(stat=k, group=grp)) for k in cols]
    member = membership(ds)
    df.insert(0, "Member", list(np.where(member, "yes", "")) + [""] * (len(df) - len(regions)))
    return df.rename_axis("EV%")
