"""Structural gravity by Poisson pseudo-maximum likelihood (Santos Silva and Tenreyro 2006).

For sector k, flows X[k,s,r] (benchmark ``trade``, the diagonal being a province's sales to itself):

    X[k,s,r] = exp(a[k,s] + b[k,r] + delta * log dist[s,r] + beta_p * same_province[s,r]
                   + beta_w * china_world[s,r]) * error

with exporter-sector and importer-sector fixed effects, fitted by pyfixest's ``fepois``. Flows
between two provinces are the reference: ``beta_p`` is the home bias of a province (the provincial
border). A world region's sales to itself are left out (they fold in trade inside the aggregate), so
China's border with the world is identified only against the borders the world regions cross among
themselves: ``-beta_w`` is by how much more China's border with the world divides trade than the
borders among provinces and among world regions (with fixed effects on both sides, a separate term
for flows between two world regions would be collinear with them). A border that divides trade by
exp(b) is, with trade elasticity epsilon (value flows fall with cost^-epsilon), the tariff-equivalent

    te = exp(b / epsilon) - 1,    se(te) = exp(b / epsilon) / epsilon * se(b)   (delta method)

with epsilon = ESUBM - 1, the model's elasticity of a bilateral flow to its own cost when the source
is small in the importer's composite (MODEL.md: every source, province or foreign, competes in one CES).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from cge.errors import DataError, InputError, nearest
from cge.gravity.tables import distances

#: a sector's own coefficient of a border needs at least this many positive flows across it (each way)
MIN_FLOWS = 20
#: ... and a standard error below this (else the pooled coefficient stands in)
MAX_SE = 1.0
#: the published estimate the scenarios used before (Poncet 2003, Chinese provinces, 1997)
PUBLISHED = 0.46
TERMS = ["log_distance", "same_province", "china_world"]
COLUMNS = [
    "dataset",
    "scope",
    "border",
    "basis",
    "coefficient",
    "se",
    "elasticity",
    "tariff_equivalent",
    "tariff_equivalent_se",
    "n_obs",
]


def tariff_equivalent(coefficient, elasticity):
    """The ad-valorem cost that divides trade by exp(coefficient) at this trade elasticity."""
    return np.expm1(np.asarray(coefficient, float) / np.asarray(elasticity, float))


def coefficient_of(te, elasticity):
    """The gravity coefficient of a tariff-equivalent (the inverse of :func:`tariff_equivalent`)."""
    return np.asarray(elasticity, float) * np.log1p(np.asarray(te, float))


def tariff_equivalent_se(coefficient, se, elasticity):
    """Delta-method standard error of :func:`tariff_equivalent`."""
    e = np.asarray(elasticity, float)
    return np.exp(np.asarray(coefficient, float) / e) / e * np.asarray(se, float)


def provinces_of(ds: xr.Dataset) -> list[str]:
    """The dataset's provinces (attribute ``regions_provinces``); a gravity estimate needs them."""
    text = ds.attrs.get("regions_provinces")
    if not text:
        raise DataError(
            f"dataset {ds.attrs.get('name', '?')}: no 'regions_provinces' attribute: the border estimate "
            "needs to know which regions are provinces (the china-provinces benchmark has it)"
        )
    return str(text).split()


def flows_frame(ds: xr.Dataset, sectors: list[str], capitals=None) -> pd.DataFrame:
    """One row per (sector, source, dest) flow in the estimation sample, with the gravity terms."""
    regions = [str(r) for r in ds["source"].values]
    provinces = provinces_of(ds)
    dist = distances(regions, provinces, capitals)
    prov = np.isin(regions, provinces)
    s_idx, r_idx = np.meshgrid(np.arange(len(regions)), np.arange(len(regions)), indexing="ij")
    keep = ~((s_idx == r_idx) & ~prov[s_idx])  # no world region's sales to itself
    frames = []
    for i in sectors:
        x = ds["trade"].sel(sector=i).values
        frames.append(
            pd.DataFrame(
                {
                    "sector": i,
                    "source": np.asarray(regions)[s_idx[keep]],
                    "dest": np.asarray(regions)[r_idx[keep]],
                    "value": x[keep],
                    "log_distance": np.log(dist[keep]),
                    "same_province": (s_idx == r_idx)[keep].astype(float),
                    "china_world": (prov[s_idx] != prov[r_idx])[keep].astype(float),
                    "world_pair": (~prov[s_idx] & ~prov[r_idx] & (s_idx != r_idx))[keep].astype(float),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["exporter"] = out["sector"] + ":" + out["source"]
    out["importer"] = out["sector"] + ":" + out["dest"]
    out["pair"] = out["source"] + ">" + out["dest"]
    return out


def fit(frame: pd.DataFrame, vcov) -> tuple[pd.Series, pd.Series, int]:
    """PPML with exporter-sector and importer-sector fixed effects: coefficients, standard errors, n."""
    import pyfixest as pf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pf.fepois(
            f"value ~ {' + '.join(TERMS)} | exporter + importer",
            data=frame,
            vcov=vcov,
            iwls_tol=1e-10,
            iwls_maxiter=100,
            fixef_tol=1e-10,
        )
    return model.coef(), model.se(), int(model._N)


def _border_rows(coef, se, eps, scope, basis, n) -> list[dict]:
    rows = []
    for border, b, s in (
        ("province", coef["same_province"], se["same_province"]),
        ("china_world", -coef["china_world"], se["china_world"]),
    ):
        rows.append(
            {
                "scope": scope,
                "border": border,
                "basis": basis,
                "coefficient": float(b),
                "se": float(s),
                "elasticity": float(eps),
                "tariff_equivalent": float(tariff_equivalent(b, eps)),
                "tariff_equivalent_se": float(tariff_equivalent_se(b, s, eps)),
                "n_obs": n,
            }
        )
    return rows


def _crossings(sub: pd.DataFrame) -> dict[str, int]:
    """Positive flows across each border in one sector: between two provinces; and the fewer of
    China's exports and imports (a border crossed one way only is not identified: separation)."""
    positive = sub["value"] > 0
    province = (sub["same_province"] == 0) & (sub["china_world"] == 0) & (sub["world_pair"] == 0)
    exports = (sub["china_world"] == 1) & sub["source"].isin(sub.loc[province, "source"].unique())
    imports = (sub["china_world"] == 1) & ~exports
    return {
        "province": int((positive & province).sum()),
        "china_world": int(min((positive & exports).sum(), (positive & imports).sum())),
    }


def elasticities(ds: xr.Dataset, sectors: list[str]) -> pd.Series:
    """The trade elasticity ESUBM - 1 of each sector; refuses a sector where it is not positive."""
    eps = pd.Series(ds["esubm"].sel(sector=sectors).values - 1.0, index=sectors)
    bad = eps[~(eps > 0)]
    if len(bad):
        raise DataError(f"sector {bad.index[0]}: ESUBM {bad.iloc[0] + 1:g} gives no positive trade elasticity")
    return eps


def check_sectors(ds: xr.Dataset, sectors) -> list[str]:
    known = [str(i) for i in ds["sector"].values]
    if sectors is None:
        return known
    for i in sectors:
        if i not in known:
            raise InputError(f"--sectors: unknown sector code {i!r}{nearest(i, known)}")
    return list(sectors)


def _sector_rows(sub: pd.DataFrame, eps: float, scope: str) -> list:
    """One sector's own rows, None for a border the data do not identify (too few flows across it,
    no convergence, a standard error of MAX_SE or more)."""
    crossings = _crossings(sub)
    if crossings["province"] < MIN_FLOWS:
        return [None, None]
    try:
        c, s, n = fit(sub, "hetero")
    except Exception:  # pyfixest refuses (separation, no convergence): the pooled fit stands in
        return [None, None]
    rows = _border_rows(c, s, eps, scope, "own", n)
    return [r if crossings[r["border"]] >= MIN_FLOWS and r["se"] < MAX_SE else None for r in rows]


def _at_elasticity(row: dict, eps: float, scope: str) -> dict:
    """A pooled row's coefficient converted at one sector's elasticity."""
    te = float(tariff_equivalent(row["coefficient"], eps))
    te_se = float(tariff_equivalent_se(row["coefficient"], row["se"], eps))
    return {**row, "scope": scope, "basis": "pooled", "elasticity": float(eps), "tariff_equivalent": te,
            "tariff_equivalent_se": te_se}  # fmt: skip


def estimate_border(ds: xr.Dataset, sectors=None, capitals=None) -> pd.DataFrame:
    """Border coefficients and tariff-equivalents, pooled over ``sectors``, and for each sector and
    border where the data allow (``basis`` own: MIN_FLOWS positive flows across the border each way, a
    standard error below MAX_SE), else the pooled coefficient at the sector's elasticity (``basis`` pooled)."""
    sectors = check_sectors(ds, sectors)
    frame = flows_frame(ds, sectors, capitals)
    eps = elasticities(ds, sectors)
    inter = frame[(frame[["same_province", "china_world", "world_pair"]] == 0).all(axis=1)]
    weight = inter.groupby("sector")["value"].sum().reindex(sectors)
    eps_pooled = float((eps * weight).sum() / weight.sum())
    coef, se, n = fit(frame, {"CRV1": "pair"})
    rows = _border_rows(coef, se, eps_pooled, "pooled", "own", n)
    pooled = rows[:]
    for i in sectors:
        own = _sector_rows(frame[frame["sector"] == i], eps[i], i)
        rows += [o if o is not None else _at_elasticity(p, eps[i], i) for o, p in zip(own, pooled)]
    out = pd.DataFrame(rows)
    out.insert(0, "dataset", ds.attrs.get("name", "?"))
    return out[COLUMNS]


def write_estimates(table: pd.DataFrame, path) -> None:
    """The estimates as CSV (full precision), written atomically."""
    from cge.io import write_text

    write_text(path, table.to_csv(index=False, float_format="%.10g"))


def format_estimates(table: pd.DataFrame) -> str:
    """The tariff-equivalents with their standard errors and 95% intervals, beside the published 0.46."""
    t = table.copy()
    t["low95"] = t["tariff_equivalent"] - 1.96 * t["tariff_equivalent_se"]
    t["high95"] = t["tariff_equivalent"] + 1.96 * t["tariff_equivalent_se"]
    cols = ["scope", "border", "basis", "coefficient", "se", "elasticity", "tariff_equivalent",
            "tariff_equivalent_se", "low95", "high95"]  # fmt: skip
    body = t[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
    return (
        f"{body}\n"
        f"published: {PUBLISHED} (Poncet 2003, Chinese provinces, 1997), the value the shipped scenarios assumed\n"
        "province: a province's border with the others; china_world: China's border with the world on top of it"
    )
