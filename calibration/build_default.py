#!/usr/bin/env python3
"""Build the package's embedded default benchmark dataset, cge/datasets/default.nc.

Recipe (see calibration/README.md for the full description and the measured figures):

* WIOD 2013 release, world input-output table 2011 (41 countries x 35 industries, million USD,
  basic prices), aggregated to 10 regions and 9 sectors with the maps in calibration/default/.
* Caliendo & Parro (2015) applied bilateral tariffs for 2005 (31 regions x 20 tradable sectors),
  mapped to the 41 x 41 x 35 WIOD grid with documented rules, then aggregated with WIOD 2011 import
  flows as weights.
* Buyer-price intermediate and final demand = basic-price flows grossed up by the tariff of their
  route; output = row sum of sales; value added = output - intermediate inputs at buyer prices,
  split into labour and capital with fixed labour shares per sector.
* GTAP elasticities (calibration/default/elasticities.csv) and WDI population.

Run from anywhere:  python calibration/build_default.py [--wiod DIR] [--cp DIR] [--out PATH]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "calibration" / "default"
RECIPE = "calibration/build_default.py"
BUILD_COMMAND = "python calibration/build_default.py"  # run from the repository root

YEAR = 2011
FD_CATS = ["CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN"]
CP_REGIONS = ("ARG AUS AUT BRA CAN CHL CHN DNK FIN FRA DEU GRC HUN IND IDN IRL ITA JPN KOR MEX "
              "NLD NZL NOR PRT ZAF ESP SWE TUR GBR USA ROW").split()
CP_NSEC = 20
EU27 = ("AUT BEL BGR CYP CZE DEU DNK ESP EST FIN FRA GBR GRC HUN IRL ITA LTU LUX LVA MLT NLD POL "
        "PRT ROM SVK SVN SWE").split()
TOL = 1e-10


class RecipeError(SystemExit):
    """Refusal with a clear message (exit status 1)."""

    def __init__(self, msg: str):
        super().__init__(f"build_default: ERROR: {msg}")


# ----------------------------------------------------------------------------- helpers
def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_conf(name: str) -> list[dict]:
    path = CONF / name
    if not path.is_file():
        raise RecipeError(f"recipe file missing: {path}")
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def unique_map(rows: list[dict], key: str, val: str, universe: list[str], what: str) -> dict:
    """Map key -> val; refuse unmapped, doubly mapped or unknown codes, naming them."""
    seen: dict[str, str] = {}
    dup = []
    for r in rows:
        k = r[key].strip()
        if k in seen:
            dup.append(k)
        seen[k] = r[val].strip()
    if dup:
        raise RecipeError(f"{what}: code(s) mapped more than once: {', '.join(sorted(set(dup)))}")
    missing = [c for c in universe if c not in seen]
    if missing:
        raise RecipeError(f"{what}: WIOD code(s) not mapped: {', '.join(missing)}")
    extra = [c for c in seen if c not in universe]
    if extra:
        raise RecipeError(f"{what}: code(s) not in WIOD: {', '.join(extra)}")
    return seen


def indicator(fine: list[str], agg: list[str], mapping: dict) -> np.ndarray:
    """Matrix (len(fine), len(agg)) with 1 where fine code maps to aggregate code."""
    m = np.zeros((len(fine), len(agg)))
    for a, code in enumerate(fine):
        if mapping[code] not in agg:
            raise RecipeError(f"{code} maps to unknown aggregate {mapping[code]!r}")
        m[a, agg.index(mapping[code])] = 1.0
    return m


def worst(arr: np.ndarray, labels: list[list[str]], n: int = 3) -> str:
    flat = np.argsort(-np.abs(arr), axis=None)[:n]
    out = []
    for k in flat:
        idx = np.unravel_index(k, arr.shape)
        out.append("(" + ",".join(lab[i] for lab, i in zip(labels, idx)) + f")={arr[idx]:.3g}")
    return "; ".join(out)


# ----------------------------------------------------------------------------- inputs
def check_inputs(wiod: Path, cp: Path) -> dict[str, Path]:
    files = {
        "wiod2013/wiot_2011_flows.csv.gz": wiod / "wiot_2011_flows.csv.gz",
        "wiod2013/wiot_2011_output.csv.gz": wiod / "wiot_2011_output.csv.gz",
        "wiod2013/countries.csv": wiod / "countries.csv",
        "wiod2013/sectors.csv": wiod / "sectors.csv",
        "cp1993/tariffs2005.txt": cp / "tariffs2005.txt",
        "cp1993/xbilat1993.txt": cp / "xbilat1993.txt",
    }
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise RecipeError(
            "raw data missing (the raw files are not part of the repository; pass --wiod DIR and "
            "--cp DIR pointing at the WIOD 2013 and Caliendo-Parro folders):\n  " + "\n  ".join(missing))
    return files


def load_wiod(files: dict[str, Path]):
    countries = pd.read_csv(files["wiod2013/countries.csv"], keep_default_na=False)["code"].tolist()
    sectors = pd.read_csv(files["wiod2013/sectors.csv"], keep_default_na=False)["code"].tolist()
    f = pd.read_csv(files["wiod2013/wiot_2011_flows.csv.gz"], keep_default_na=False)
    bad_c = sorted(set(f.row_country).union(f.col_country) - set(countries))
    bad_s = sorted(set(f.row_sector) - set(sectors))
    bad_u = sorted(set(f.col_code) - set(sectors) - set(FD_CATS))
    if bad_c or bad_s or bad_u:
        raise RecipeError(f"unexpected codes in WIOD flows: {bad_c + bad_s + bad_u}")
    ci = {c: k for k, c in enumerate(countries)}
    si = {s: k for k, s in enumerate(sectors)}
    ui = {**si, **{c: len(sectors) + k for k, c in enumerate(FD_CATS)}}
    nc, ns, nu = len(countries), len(sectors), len(sectors) + len(FD_CATS)
    # X[exporter country, sector, importer country, user]; users = 35 industries then 5 FD cats
    X = np.zeros((nc, ns, nc, nu))
    np.add.at(X, (f.row_country.map(ci).to_numpy(), f.row_sector.map(si).to_numpy(),
                  f.col_country.map(ci).to_numpy(), f.col_code.map(ui).to_numpy()),
              f.value.to_numpy(dtype=float))
    o = pd.read_csv(files["wiod2013/wiot_2011_output.csv.gz"], keep_default_na=False)
    o = o.set_index(["country", "sector"])["output"]
    out = np.array([[float(o.loc[(c, s)]) for s in sectors] for c in countries])
    return countries, sectors, X, out


def build_fine_tariffs(files, countries, sectors):
    """Tariff rate (fraction) t[sector, exporter, importer] on the 35 x 41 x 41 WIOD grid."""
    T = np.loadtxt(files["cp1993/tariffs2005.txt"])
    B = np.loadtxt(files["cp1993/xbilat1993.txt"])
    n = len(CP_REGIONS)
    if T.shape != (CP_NSEC * n, n) or B.shape != (CP_NSEC * n, n):
        raise RecipeError(f"unexpected Caliendo-Parro layout: tariffs {T.shape}, xbilat {B.shape}")
    if not np.isfinite(T).all() or T.min() < 0:
        raise RecipeError("Caliendo-Parro tariffs contain non-finite or negative values")
    # rows are sector-major (sector j, importer n); columns exporter i
    T = T.reshape(CP_NSEC, n, n) / 100.0
    B = B.reshape(CP_NSEC, n, n)

    # CP sector -> WIOD sector(s)
    cps = read_conf("cp_sector_map.csv")
    if sorted(int(r["cp_index"]) for r in cps) != list(range(1, CP_NSEC + 1)):
        raise RecipeError("cp_sector_map.csv must list each of the 20 CP tradable sectors exactly once")
    to_wiod: dict[str, list[int]] = {}
    for r in cps:
        for w in r["wiod_sector"].split():
            if w not in sectors:
                raise RecipeError(f"cp_sector_map.csv: unknown WIOD sector {w}")
            to_wiod.setdefault(w, []).append(int(r["cp_index"]) - 1)

    # WIOD country -> CP importer row / exporter column
    cc = read_conf("cp_country_map.csv")
    imp = unique_map(cc, "wiod_country", "cp_importer", countries, "cp_country_map.csv")
    exp = {r["wiod_country"].strip(): r["cp_exporter"].strip() for r in cc}
    for m in (imp, exp):
        bad = sorted(v for v in m.values() if v not in CP_REGIONS)
        if bad:
            raise RecipeError(f"cp_country_map.csv: unknown CP region(s) {bad}")
    ri = np.array([CP_REGIONS.index(imp[c]) for c in countries])
    ei = np.array([CP_REGIONS.index(exp[c]) for c in countries])

    nc = len(countries)
    t = np.zeros((len(sectors), nc, nc))
    fallback = np.zeros((len(sectors), nc, nc), dtype=bool)   # (sector, exporter, importer)
    for k, s in enumerate(sectors):
        js = to_wiod.get(s)
        if not js:   # services (c17-c35): no tariff
            continue
        Tj = T[js][:, ri][:, :, ei]          # (len(js), importer, exporter)
        Bj = B[js][:, ri][:, :, ei]
        w = Bj.sum(axis=0)
        simple = Tj.mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = (Tj * Bj).sum(axis=0) / w
        rate = np.where(w > 0, weighted, simple)     # (importer, exporter)
        if len(js) > 1:
            fallback[k] = (w <= 0).T
        t[k] = rate.T                                # -> (exporter, importer)
    # rules that override the concordance
    eu = np.array([c in EU27 for c in countries])
    t[:, eu[:, None] & eu[None, :]] = 0.0            # EU single market
    same_cp = (ri[None, :] == ei[:, None])           # exporter and importer map to one CP region
    t[:, same_cp] = 0.0                              # (RUS/TWN/RoW among themselves; CP diagonal is 0)
    t[:, np.arange(nc), np.arange(nc)] = 0.0
    return t, fallback


# ----------------------------------------------------------------------------- build
def build(wiod: Path, cp: Path) -> tuple[xr.Dataset, list[str]]:
    files = check_inputs(wiod, cp)
    report: list[str] = []
    countries, sectors, X, wiod_output = load_wiod(files)
    nc, ns = len(countries), len(sectors)

    regions = [r["region"] for r in read_conf("regions.csv")]
    aggsec = [r["sector"] for r in read_conf("sectors.csv")]
    for lst, what in ((regions, "regions.csv"), (aggsec, "sectors.csv")):
        if len(set(lst)) != len(lst):
            raise RecipeError(f"{what}: duplicate codes")
    rmap = unique_map(read_conf("region_map.csv"), "wiod_country", "region", countries, "region_map.csv")
    smap = unique_map(read_conf("sector_map.csv"), "wiod_sector", "sector", sectors, "sector_map.csv")
    for agg, m, what in ((regions, rmap, "region"), (aggsec, smap, "sector")):
        empty = [a for a in agg if a not in m.values()]
        if empty:
            raise RecipeError(f"aggregate {what}(s) with no WIOD member: {empty}")
    R = indicator(countries, regions, rmap)          # (41, 10)
    S = indicator(sectors, aggsec, smap)             # (35, 9)
    nr, na = len(regions), len(aggsec)

    # fine tariffs; within an aggregate region the flow is domestic sales: no tariff
    t, fallback = build_fine_tariffs(files, countries, sectors)
    same_region = (R @ R.T) > 0                      # (exporter, importer)
    t_before = t.transpose(1, 0, 2).copy()           # (exporter, sector, importer)
    t[:, same_region] = 0.0
    tt = t.transpose(1, 0, 2)                        # (exporter, sector, importer)

    # Documented adjustment: a negative cross-border final-demand cell (an inventory draw-down of an
    # imported good, only INVEN/GFCF can be negative) is moved to the same category of the exporter's
    # own final demand for its own good. Every row sum (output) is unchanged and no import flow is < 0.
    Fx = X[..., ns:]                                 # view (exp, sec, imp, cat)
    border = ~np.eye(nc, dtype=bool)[:, None, :, None] & np.ones(Fx.shape, dtype=bool)
    negb = border & (Fx < 0)
    moved = np.argwhere(negb)
    report.append(f"adjustment: {len(moved)} negative cross-border final-demand cells "
                  f"(total {Fx[negb].sum():,.0f}) moved to the exporter's own final demand: " + "; ".join(
                      f"{countries[e]}.{sectors[s]}->{countries[i]} {FD_CATS[c]} {Fx[e, s, i, c]:,.0f}"
                      for e, s, i, c in moved))
    for e, s, i, c in moved:
        Fx[e, s, e, c] += Fx[e, s, i, c]
        Fx[e, s, i, c] = 0.0
    if X[..., :ns].min() < 0:
        raise RecipeError("negative intermediate flow in WIOD")

    # aggregate: flows over users (industries) and final demand categories
    Z = X[..., :ns]                                  # (exp, sec, imp, user)
    F = X[..., ns:].sum(axis=3)                      # (exp, sec, imp)
    W = Z.sum(axis=3) + F                            # all users, basic prices
    Zb = Z * (1.0 + tt[..., None])                   # buyer prices
    Fb = F * (1.0 + tt)

    def agg3(a):  # (exp, sec, imp) -> (sector, source, dest)
        return np.einsum("esi,eS,sA,iD->ASD", a, R, S, R, optimize=True)

    trade = agg3(W)
    revenue = agg3(W * tt)
    intermediate = np.einsum("esiu,sA,uJ,iD->AJD", Zb, S, S, R, optimize=True)
    final_demand = np.einsum("esi,sA,iD->AD", Fb, S, R, optimize=True)
    diag = np.eye(nr, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        tariff = np.where(trade > 0, revenue / trade, 0.0)
    tariff[:, diag] = 0.0
    if np.any((trade <= 0) & (revenue != 0)):
        raise RecipeError("tariff revenue on an aggregate route with no positive trade")

    # ---- refusals
    if trade.min() < 0:
        raise RecipeError("negative aggregate trade: " + worst(np.minimum(trade, 0), [aggsec, regions, regions]))
    if intermediate.min() < 0:
        raise RecipeError("negative intermediate use: " + worst(np.minimum(intermediate, 0), [aggsec, aggsec, regions]))
    # Documented adjustment: where a region's final demand for an aggregate good is negative (an
    # inventory draw-down larger than all other final purchases), its inventory change (INVEN, buyer
    # prices, < 0) is removed from final demand and netted against the region's intermediate use of
    # that good, pro rata over the using industries (read: the industries drew the inputs from stock).
    # Trade and output are unchanged; the users' value added rises by the amount netted.
    inven = np.einsum("esi,sA,iD->AD", X[..., ns + FD_CATS.index("INVEN")] * (1.0 + tt), S, R, optimize=True)
    for i, r in np.argwhere(final_demand < 0):
        x = -inven[i, r]
        tot = intermediate[i, :, r].sum()
        if x <= 0 or x >= tot or final_demand[i, r] - inven[i, r] < 0:
            raise RecipeError(f"negative final demand ({aggsec[i]},{regions[r]})={final_demand[i, r]:.1f} "
                              "that the inventory adjustment cannot fix")
        report.append(f"adjustment: final demand ({aggsec[i]},{regions[r]}) = {final_demand[i, r]:,.0f} < 0; its "
                      f"inventory change {inven[i, r]:,.0f} netted against intermediate use of {aggsec[i]} in "
                      f"{regions[r]} ({tot:,.0f}, scaled by {1 - x / tot:.4f}); final demand becomes "
                      f"{final_demand[i, r] + x:,.0f}")
        intermediate[i, :, r] *= 1.0 - x / tot
        final_demand[i, r] += x
    if final_demand.min() < 0:
        neg = np.argwhere(final_demand < 0)
        cells = ", ".join(f"({aggsec[i]},{regions[r]})={final_demand[i, r]:.1f}" for i, r in neg)
        raise RecipeError("negative aggregate final demand (inventory draw-down) in " + cells)
    output = trade.sum(axis=2)                       # (sector, region) = sum over dest
    va = output - intermediate.sum(axis=0)
    if va.min() <= 0:
        neg = np.argwhere(va <= 0)
        raise RecipeError("non-positive value added in " + ", ".join(f"({aggsec[j]},{regions[r]})" for j, r in neg))

    shares = {r["sector"]: float(r["labour_share"]) for r in read_conf("labour_shares.csv")}
    if sorted(shares) != sorted(aggsec) or not all(0 < v < 1 for v in shares.values()):
        raise RecipeError("labour_shares.csv must give one share in (0,1) for every sector")
    ls = np.array([shares[a] for a in aggsec])[:, None]
    factor_income = np.stack([va * ls, va * (1.0 - ls)])

    el = {r["sector"]: r for r in read_conf("elasticities.csv")}
    if sorted(el) != sorted(aggsec):
        raise RecipeError("elasticities.csv must list every sector exactly once")
    esubd = np.array([float(el[a]["esubd"]) for a in aggsec])
    esubva = np.array([float(el[a]["esubva"]) for a in aggsec])
    esubm = 2.0 * esubd                              # GTAP rule ESUBM = 2 x ESUBD
    if min(esubd.min(), esubva.min()) <= 0:
        raise RecipeError("elasticities must be > 0")

    pop = {r["region"]: float(r["population_millions"]) for r in read_conf("population.csv")}
    if "WORLD" not in pop:
        raise RecipeError("population.csv needs a WORLD row")
    known = [r for r in regions if r != "ROW"]
    if [r for r in known if r not in pop]:
        raise RecipeError(f"population.csv lacks {[r for r in known if r not in pop]}")
    pop["ROW"] = pop["WORLD"] - sum(pop[r] for r in known)
    population = np.array([pop[r] for r in regions])

    # ---- identities (MODEL.md section 2), relative to the row total
    lhs1 = intermediate.sum(axis=1) + final_demand
    rhs1 = np.einsum("isr,isr->ir", trade, np.where(diag[None], 1.0, 1.0 + tariff))
    rel1 = (lhs1 - rhs1) / rhs1
    lhs2 = output
    rhs2 = intermediate.sum(axis=0) + factor_income.sum(axis=0)
    rel2 = (lhs2 - rhs2) / lhs2
    report.append(f"identity 1 (composite balance): max rel. error {np.abs(rel1).max():.2e}; worst "
                  + worst(rel1, [aggsec, regions]))
    report.append(f"identity 2 (zero profit):       max rel. error {np.abs(rel2).max():.2e}; worst "
                  + worst(rel2, [aggsec, regions]))
    if np.abs(rel1).max() > TOL or np.abs(rel2).max() > TOL:
        raise RecipeError("benchmark identities fail:\n  " + "\n  ".join(report[-2:]))

    # ---- figures for the report
    fb_used = fallback & ~same_region[None] & (W.transpose(1, 0, 2) > 0)
    world_out = output.sum()
    wiod_out_agg = S.T @ wiod_output.T @ R          # (sector, region)
    resid = output - wiod_out_agg
    imports = trade.sum() - np.trace(trade, axis1=1, axis2=2).sum()
    rev_total = revenue.sum()
    rev_int = (Z * tt[..., None]).sum()
    rev_fd = (F * tt).sum()
    report += [
        f"regions ({nr}): {' '.join(regions)}",
        f"sectors ({na}): {' '.join(aggsec)}",
        f"world gross output {world_out:,.0f}; WIOD output vector {wiod_output.sum():,.0f}",
        f"rounding residual absorbed (output := row sum of sales - WIOD output): total {resid.sum():,.0f} "
        f"({resid.sum() / wiod_output.sum():.3%}); worst aggregate cells {worst(resid, [aggsec, regions])}; "
        f"largest relative {worst(resid / wiod_out_agg, [aggsec, regions], 2)}",
        f"international trade between the 10 regions {imports:,.0f} "
        f"({imports / world_out:.1%} of output); within-region cross-border flows moved to the diagonal "
        f"{(W * same_region[:, None, :]).sum() - np.trace(W, axis1=0, axis2=2).sum():,.0f}",
        f"tariff revenue {rev_total:,.1f} (on intermediates {rev_int:,.1f}, absorbed by value added; "
        f"on final demand {rev_fd:,.1f}); average tariff on imports {rev_total / imports:.2%}",
        f"not carried: tariffs the fine rates imply on cross-border flows inside an aggregate region "
        f"(domestic sales of the aggregate) {(W * t_before * same_region[:, None, :]).sum():,.1f}",
        f"value added {va.sum():,.0f}, of which labour {factor_income[0].sum():,.0f}; "
        f"final demand {final_demand.sum():,.0f}",
        f"routes between regions where the CP sector average fell back to the simple mean (no CP 1993 "
        f"trade on the mapped CP route): {int(fb_used.sum())} of {int(((W > 0) & ~same_region[:, None, :]).sum())} "
        f"(exporter, sector, importer) routes with trade, carrying {(W * fb_used.transpose(1, 0, 2)).sum():,.0f} of imports",
    ]
    imp_r = trade.sum(axis=(0, 1)) - np.einsum("iss->s", trade)
    report.append("average tariff by importing region: " + ", ".join(
        f"{regions[r]} {revenue[:, :, r].sum() / imp_r[r]:.2%}" for r in range(nr)))
    exp_r = trade.sum(axis=(0, 2)) - np.einsum("iss->s", trade)
    report.append("average tariff faced by exporting region: " + ", ".join(
        f"{regions[s]} {revenue[:, s, :].sum() / exp_r[s]:.2%}" for s in range(nr)))
    report.append("average tariff by sector: " + ", ".join(
        f"{aggsec[i]} {revenue[i].sum() / (trade[i].sum() - np.trace(trade[i])):.2%}" for i in range(na)))
    bal = imp_r - exp_r
    report.append("trade balance B = imports - exports (fob): " + ", ".join(
        f"{regions[r]} {bal[r]:,.0f}" for r in range(nr)) + f"; sum {bal.sum():.2e}")
    report.append("population (millions): " + ", ".join(f"{r} {p:.1f}" for r, p in zip(regions, population)))

    # ---- dataset
    units = "million USD (current, 2011)"
    ds = xr.Dataset(
        data_vars=dict(
            trade=(("sector", "source", "dest"), trade, {"units": units, "long_name": "bilateral sales at basic prices; diagonal = domestic sales"}),
            tariff=(("sector", "source", "dest"), tariff, {"units": "1 (ad valorem rate)", "long_name": "applied import tariff, Caliendo-Parro 2005, import-weighted"}),
            intermediate=(("sector", "user", "region"), intermediate, {"units": units, "long_name": "intermediate use at buyer prices (tariff-inclusive)"}),
            final_demand=(("sector", "region"), final_demand, {"units": units, "long_name": "final demand (households, NPISH, government, GFCF, inventories) at buyer prices"}),
            factor_income=(("factor", "sector", "region"), factor_income, {"units": units, "long_name": "value added split by fixed labour shares"}),
            esubd=(("sector",), esubd, {"units": "1", "source": "GTAP ESUBD, calibration/default/elasticities.csv"}),
            esubm=(("sector",), esubm, {"units": "1", "source": "2 x ESUBD (GTAP rule)"}),
            esubva=(("sector",), esubva, {"units": "1", "source": "GTAP ESUBVA, calibration/default/elasticities.csv"}),
            mobility=(("factor",), np.array(["mobile", "mobile"], dtype=object)),
            population=(("region",), population, {"units": "million persons", "source":
                "World Bank, World Development Indicators, SP.POP.TOTL, 2011 (see calibration/default/population.csv); ROW = world minus the other regions"}),
        ),
        coords=dict(region=regions, sector=aggsec, factor=["labour", "capital"],
                    source=regions, dest=regions, user=aggsec),
    )
    for v in ds.data_vars:
        if v != "mobility":
            ds[v] = ds[v].astype("float64")
    ds.attrs = {
        "title": "Default benchmark: 10 regions x 9 sectors, WIOD 2013 release, year 2011, with Caliendo-Parro 2005 tariffs",
        "year": np.int32(YEAR),
        "units": units,
        "source": (
            "Input-output flows: World Input-Output Database (WIOD), 2013 release, world input-output table 2011 "
            "(www.wiod.org), via the R package 'wiod' (Quast and Reiter, v0.4.0); cite Timmer, M. P., Dietzenbacher, E., "
            "Los, B., Stehrer, R. and de Vries, G. J. (2015), 'An Illustrated User Guide to the World Input-Output Database: "
            "the Case of Global Automotive Production', Review of International Economics 23: 575-605, doi:10.1111/roie.12178. "
            "Tariffs: applied bilateral tariffs 2005 and bilateral trade 1993 from the replication files of Caliendo, L. and "
            "Parro, F. (2015), 'Estimates of the Trade and Welfare Effects of NAFTA', Review of Economic Studies 82(1): 1-44. "
            "Elasticities: GTAP behavioural parameters (ESUBD, ESUBVA; ESUBM = 2 x ESUBD), Hertel, T. W., McDougall, R. A., "
            "Narayanan, B. G. and Aguiar, A. H., 'Behavioral Parameters', chapter 14 of Narayanan, Aguiar and McDougall (eds.), "
            "Global Trade, Assistance, and Production: The GTAP 8 Data Base, Center for Global Trade Analysis, Purdue University "
            "(2012); cross-checked against GTAP 8 values in the C-REM 'allprov' dataset. "
            "Population: World Bank, World Development Indicators, SP.POP.TOTL, 2011. "
            "Labour shares: assumptions (calibration/default/labour_shares.csv)."),
        "recipe": RECIPE,
        "build_command": BUILD_COMMAND,
        "licence_note": (
            "Derived, aggregated data. WIOD data are distributed free of charge for research with citation of Timmer et al. "
            "(2015); the R package 'wiod' is GPL-3 and its author reports permission to redistribute. Caliendo-Parro data are "
            "from the authors' public replication archive. GTAP elasticities are published parameter values. Check these terms "
            "before redistributing outside this project."),
        "source_sha256": "; ".join(f"{k}: {sha256(p)}" for k, p in files.items()),
        "recipe_files_sha256": "; ".join(
            f"calibration/default/{p.name}: {sha256(p)}" for p in sorted(CONF.glob("*.csv"))),
        "reconciliation": (
            "trade = sum of WIOD basic-price flows over all users; intermediate and final demand = flows x (1 + tariff of "
            "their route); output = row sum of sales (absorbs the integer rounding residual of the table); value added = "
            "output - intermediate at buyer prices (absorbs tariffs on intermediates and the items missing from this copy "
            "of WIOD: net product taxes, cif/fob, direct purchases abroad); see calibration/README.md"),
    }
    return ds, report


def write_atomic(ds: xr.Dataset, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        enc = {v: {"zlib": False} for v in ds.data_vars if v != "mobility"}
        ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=enc)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wiod", type=Path, default=REPO / ".." / "shared" / "data" / "wiod2013",
                    help="folder with the WIOD 2013 CSV files (default: ../shared/data/wiod2013 from the repo root)")
    ap.add_argument("--cp", type=Path, default=REPO / ".." / "shared" / "data" / "cp1993",
                    help="folder with the Caliendo-Parro files (default: ../shared/data/cp1993 from the repo root)")
    ap.add_argument("--out", type=Path, default=REPO / "cge" / "datasets" / "default.nc",
                    help="output file (default: cge/datasets/default.nc in the repo)")
    a = ap.parse_args(argv)
    ds, report = build(a.wiod.resolve(), a.cp.resolve())
    write_atomic(ds, a.out)
    print("\n".join(report))
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
