"""Build a MODEL.md section-2 benchmark from the China interprovincial dataset (C-REM ``allprov``).

The raw data (``../shared/data/china_provinces``, see its README.md) is a GTAP-style benchmark for
2007 in billion USD: 30 Chinese provinces and 6 world regions (36 regions) x 16 sectors, with
output taxes, factor taxes, purchase taxes, export taxes, import tariffs, international transport
margins (a global pool ``vst``), domestic margins on interprovincial coal flows (``vdst``),
separate hydro/nuclear/wind electricity technologies (``*nhw``) and intra-aggregate trade on the
diagonal of the world regions.  MODEL.md's core has only import tariffs, no margins and a domestic
diagonal, so the other items are folded.  The rules (documented in
``calibration/china-provinces.md``):

* **Valuation of trade.**  ``trade[i,s,r]`` (s != r) is the fob value ``vxmd*(1-rtxs)`` (the
  exporter's market price net of its export tax); the diagonal is ``sum_g vdfm + sum_nhw vdfmnhw``.
* **Transport margins become purchases of TRP**, so every region's TRP output, factor income and
  trade balance stay as in the source.  International margins ``vtwr`` (the global pool ``vst``) are
  taken off the importer's users' purchases of the good (channel by channel, in proportion to
  ``vifm``) and added to their purchases of TRP, which every region delivers to the importer in
  proportion to its ``vst`` (its own share as domestic sales).  Interprovincial margins (COL only)
  are supplied by the importing province's own TRP (``vdst``): domestic TRP sales.  The tariff GTAP
  levies on the margin (``rtms*vtwr``) stays on the good's route: ``tariff = rtms*cif/fob``.
* **Export taxes** ``-rtxs*vxmd`` (revenue of the exporting region) are added to the exporting
  sector's factor income.
* **Intra-aggregate trade of the world regions** (``vxmd(i,s,s)``) becomes domestic sales at the
  value its buyers pay for the good (landed value minus the margin); its tariff and export tax go
  to the producing sector's factor income (all revenue of the same region).
* **Output taxes** ``rto*vom`` (and ``rtonhw*vomnhw``) and **factor taxes** ``rtf*vfm`` are
  folded into factor income: output is valued at market prices (GTAP's ``vom``), and factor
  income is the factor cost ``vfm*(1+rtf)``.
* **Purchase taxes** ``rtfd``/``rtfi`` (world regions only): demands are valued at market prices
  (before the purchase tax).  Taxes paid by industries go to the buying industry's factor income
  (its output price is unchanged); taxes paid by final users are **dropped** (final demand and
  regional income both fall by the same amount; nothing else changes).
* **Hydro/nuclear/wind** technologies are merged into ELE (output, domestic inputs, factor
  payments and their taxes).
* Each addition to or deduction from a cell's factor income is spread over the factors of that
  cell in proportion to their factor cost ``vfm*(1+rtf)`` (so factor shares are unchanged); a
  cell with no factor payments at all gets it as capital (GDT-HAI and WTR-QIH, whose output is pure
  output tax in the source, ``rto = 1``).
* **Negative and noise cells** (never zeroed silently, always reported): negative ``vdfm`` cells
  no more negative than ``NEG_TOL`` are set to 0 (domestic sales and the producer's factor income
  rise by the amount, an industry user's factor income falls by it); purchases of goods a region
  does not produce (noise) are removed; a cell whose value added the folds would make negative
  (output subsidy larger than factor payments: GDT-ZHJ) keeps its factor cost and the same value of
  its inputs is bought by the region's final demand instead.  Anything larger stops the build.

``read_china_provinces(raw_dir)`` returns the dataset; ``ds.attrs['reconciliation']`` is a JSON
text with the size of every fold (billion USD).  Run ``python -m cge.calib_china RAW_DIR --out
FILE.nc`` to build, print the report and write a file.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from cge.dataset.schema import from_arrays
from cge.errors import DataError

YEAR = 2007
UNITS = "billion USD (2007 prices and exchange rate; provincial data converted at 7.5215 RMB/USD)"
#: negative use cells no more negative than this (billion USD, i.e. 1 USD) are treated as rounding noise
NEG_TOL = 1e-9
#: both MODEL.md identities are asserted at this relative tolerance
TOL = 1e-10
FACTORS = {"lab": "labour", "cap": "capital", "res": "resource"}
MOBILITY = {"labour": "mobile", "capital": "mobile", "resource": "specific"}
FINAL_USERS = ("c", "g", "i")
NHW = ("hyd", "nuc", "wind")

SOURCE = (
    "China Regional Energy Model (C-REM) benchmark 'allprov', base year 2007: GitHub "
    "jinggangguo/model_v11, commit 3ecb584d45cdcecc2962dc53d158fc5490b8aeda (2013-02-26), file "
    "data/allprov.gdx (git blob fe6d6359b5c6fa202de8883ca2bbd39aa416cd65, sha256 "
    "a350a2b70127a825545e30a7210bd8485af9495a8846f8f26cb38df75a698f93), written to CSV in "
    "shared/data/china_provinces (README.md there). Built by the repository's setpar/data.gms and "
    "gtapaggr.gms from GTAP 8 world data (rawdata/chinamodel2.gdx, 2007) and 30 provincial SAMs "
    "(rawdata/sam52.gdx; origin undocumented, plausibly the 2007 provincial input-output tables) "
    "with estimated interprovincial trade (rawdata/dtrd.gdx). Code authors per the GAMS titles: "
    "Da Zhang and Sebastian Rausch (2011). Elasticities: GTAP 8 ESUBD/ESUBM/ESUBVA as aggregated "
    "in that file."
)
LICENCE_NOTE = (
    "The source repository has no licence. The world-region values are derived from GTAP 8, which "
    "is released under the GTAP licence, and that licence restricts redistribution. These are "
    "highly aggregated derived data, but check the terms before you publish them outside this "
    "project. (shared/data/china_provinces/README.md)"
)

# World-region population, 2007, million persons.  NOT in the raw data (population.csv covers the
# 30 provinces only): rounded approximations from UN/World Bank 2007 totals of the GTAP 8 member
# regions listed in regions.csv.  Membership of the residual GTAP regions (REU, ASI, SSA, MEN, FSU,
# LAM, ROW) is not documented in the source, so these are uncertain by up to about 10 %.
WORLD_POPULATION_2007 = {
    "EUR": 510.0,  # FRA, DEU, ITA, GBR + rest of Europe (taken as rest of EU27 + EFTA)
    "APD": 229.0,  # JPN 127.8, KOR 48.5, AUS+NZL 25.0, TWN 23.0, SGP 4.6
    "ASI": 2110.0,  # IDN ~230, IND ~1165, other Asia ~715
    "NAM": 334.0,  # USA 301.2, CAN 32.9
    "CAA": 1450.0,  # RUS, TUR, ZAF, Sub-Saharan Africa, Middle East and North Africa, rest of FSU
    "ROW": 620.0,  # MEX, ARG, BRA, rest of Latin America, Balkans and other rest of world
}


# ----------------------------------------------------------------------------- reading
def _read(raw: Path, name: str) -> pd.DataFrame:
    path = raw / f"{name}.csv"
    if not path.is_file():
        raise DataError(f"china_provinces: raw file missing: {path}")
    df = pd.read_csv(path, keep_default_na=False, dtype=str)
    if "value" in df:
        # Python's float() is correctly rounded, so the shortest round-trip decimals are exact
        df["value"] = [float(v) for v in df["value"]]
    return df


def _array(df: pd.DataFrame, cols: list[str], coords: list[list[str]], name: str) -> np.ndarray:
    """Dense array from a long table; missing combinations are 0, unknown codes are refused."""
    out = np.zeros([len(c) for c in coords])
    pos = []
    for col, codes in zip(cols, coords):
        lookup = {c: k for k, c in enumerate(codes)}
        bad = sorted(set(df[col]) - set(lookup))
        if bad:
            raise DataError(f"china_provinces: {name}.csv column {col!r} has unknown codes {bad}")
        pos.append(df[col].map(lookup).to_numpy())
    np.add.at(out, tuple(pos), df["value"].to_numpy())
    return out


def _spread(amount: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Spread amount (j, r) over factors in proportion to base (f, j, r); capital where base is 0."""
    tot = base.sum(axis=0)
    share = np.zeros_like(base)
    np.divide(base, tot[None], out=share, where=tot[None] > 0)
    share[1, tot <= 0] = 1.0  # factor order: labour, capital, resource
    return share * amount[None]


# ----------------------------------------------------------------------------- the source
#: the raw factor codes, in the benchmark's order (labour, capital, resource)
FACTORS_RAW = ["lab", "cap", "res"]
#: the raw arrays read: name -> (columns, the code list of each: Goods, Users, Regions, Factors,
#: Nhw technologies, import Channels)
ARRAYS = {
    "vom": (["activity", "region"], "UR"),
    "vfm": (["factor", "sector", "region"], "FGR"),
    "rtf": (["factor", "sector", "region"], "FGR"),
    "vdfm": (["good", "user", "region"], "GUR"),
    "vifm_ch": (["good", "user", "region", "channel"], "GURC"),
    "rtfd": (["good", "user", "region"], "GUR"),
    "rtfi": (["good", "user", "region"], "GUR"),
    "rto": (["sector", "region"], "GR"),
    "vxmd": (["good", "src", "dst"], "GRR"),
    "vtwr": (["good", "src", "dst"], "GRR"),
    "rtms": (["good", "src", "dst"], "GRR"),
    "rtxs": (["good", "src", "dst"], "GRR"),
    "vst": (["good", "region"], "GR"),
    "vdst": (["good", "region"], "GR"),
    "vomnhw": (["nhw", "region"], "NR"),
    "vfmnhw": (["factor", "nhw", "region"], "FNR"),
    "vdfmnhw": (["good", "nhw", "region"], "GNR"),
    "rtonhw": (["nhw", "region"], "NR"),
    "rtfnhw": (["factor", "nhw", "region"], "FNR"),
    "rtfdnhw": (["good", "nhw", "region"], "GNR"),
    "esubd": (["good"], "G"),
    "esubm": (["good"], "G"),
    "esubva": (["sector"], "G"),
}


@dataclass
class _Source:
    """The raw tables: codes (R regions, I sectors, G = I + final users) and arrays by name
    (:data:`ARRAYS`; ``vifm`` summed over the channels). ``vdfm`` and ``vdfmnhw`` are cleaned in place."""

    reg: pd.DataFrame
    sec: pd.DataFrame
    R: list[str]
    I: list[str]
    prov: list[str]
    world: list[str]
    a: dict[str, np.ndarray]
    pop: pd.Series

    @property
    def G(self) -> list[str]:
        return self.I + list(FINAL_USERS)

    @property
    def nI(self) -> int:
        return len(self.I)

    @property
    def nR(self) -> int:
        return len(self.R)

    @property
    def isprov(self) -> np.ndarray:
        return np.array([r in self.prov for r in self.R])

    @property
    def ele(self) -> int:
        return self.I.index("ELE")

    @property
    def trp(self) -> int:
        return self.I.index("TRP")

    @property
    def pp3(self) -> np.ndarray:
        """(1, s, r): province -> province routes."""
        return (self.isprov[:, None] & self.isprov[None, :])[None]

    def ele_row(self, by_region: np.ndarray) -> np.ndarray:
        """(j, r): ``by_region`` (r) in the ELE row, 0 elsewhere (the nhw technologies merged into ELE)."""
        return np.eye(self.nI)[self.ele][:, None] * by_region[None]


@dataclass
class _Log:
    """Every adjustment of the build, for the reconciliation report."""

    ghost_moves: list = field(default_factory=list)
    neg_moves: list = field(default_factory=list)
    subsidy_moves: list = field(default_factory=list)
    margins: dict = field(default_factory=dict)
    rounding: dict = field(default_factory=dict)


def _read_source(raw: Path) -> _Source:
    """The raw CSV files, their codes checked."""
    if not raw.is_dir():
        raise DataError(f"china_provinces: raw data folder not found: {raw}")
    reg = _read(raw, "regions")
    sec = _read(raw, "sectors")
    R = reg["code"].tolist()
    I = sec["code"].tolist()
    prov = reg.loc[reg["kind"] == "province", "code"].tolist()
    world = reg.loc[reg["kind"] == "world_region", "code"].tolist()
    if sorted(R) != sorted(_read(raw, "set_rs")["element"]) or sorted(I) != sorted(_read(raw, "set_i")["element"]):
        raise DataError("china_provinces: regions.csv/sectors.csv do not match set_rs.csv/set_i.csv")
    if len(prov) != 30 or len(world) != 6:
        raise DataError(
            f"china_provinces: expected 30 provinces and 6 world regions, found {len(prov)} and {len(world)}"
        )
    codes = {"G": I, "U": I + list(FINAL_USERS), "R": R, "F": FACTORS_RAW, "N": list(NHW), "C": ["CNTRD", "OTHTRD"]}
    a = {}
    for name, (cols, kinds) in ARRAYS.items():
        file = name.removesuffix("_ch")
        a[name] = _array(_read(raw, file), cols, [codes[k] for k in kinds], file)
    a["vifm"] = a["vifm_ch"].sum(axis=3)
    pop = _read(raw, "population")
    pop = pop[pop["yr"] == "107"].set_index("region")["value"]
    return _Source(reg, sec, R, I, prov, world, a, pop)


# ----------------------------------------------------------------------------- builder
def read_china_provinces(raw_dir: Path | str, verbose: bool = False) -> xr.Dataset:
    """The MODEL.md benchmark built from the C-REM ``allprov`` CSV files in ``raw_dir`` (the rules:
    the module docstring, in the order they are applied)."""
    src = _read_source(Path(raw_dir))
    log = _Log()
    neg_adj = np.zeros((src.nI, src.nR))  # (j, r) change of factor income
    _remove_unproduced(src, neg_adj, log)
    _move_negative_cells(src, neg_adj, log)
    _check_rates(src)
    trade, tariff, cif, landed = _trade_at_fob(src)
    vifm_net, trp_add = _margins_off_goods(src)
    _margins_to_trp(src, trade, tariff, log)
    intermediate, final_demand = _uses(src, vifm_net, trp_add)
    base = _factor_cost(src)
    folds = _folds(src, cif, neg_adj)
    addition = sum(folds.values())
    _repair_negative_value_added(src, base, addition, intermediate, final_demand, log)
    factor_income = base + _spread(addition, base)  # type: ignore[arg-type]
    _close_rounding(trade, intermediate, factor_income, log)
    _refuse_negative(trade=trade, intermediate=intermediate, final_demand=final_demand, factor_income=factor_income)
    gaps = _check_identities(src, trade, tariff, intermediate, final_demand, factor_income)
    rec = _reconciliation(src, trade, tariff, final_demand, factor_income, landed, folds, log, gaps)
    ds = _dataset(src, trade, tariff, intermediate, final_demand, factor_income, rec)
    if verbose:
        print(format_report(rec), file=sys.stderr)
    return ds


def _remove_unproduced(src: _Source, neg_adj: np.ndarray, log: _Log) -> None:
    """Domestic purchases of goods that the region does not produce (vom = 0): rounding noise in
    the source (|v| <= NEG_TOL), removed; an industry user's factor income takes up the difference."""
    I, G, R, nI, a = src.I, src.G, src.R, src.nI, src.a
    vdfm, vdfmnhw = a["vdfm"], a["vdfmnhw"]
    produced = (a["vom"][:nI] + src.ele_row(a["vomnhw"].sum(axis=0))) > 0
    for i, g, r in np.argwhere((vdfm != 0) & ~produced[:, None, :]):
        v = float(vdfm[i, g, r])
        if abs(v) > NEG_TOL:
            raise DataError(f"china_provinces: vdfm({I[i]},{G[g]},{R[r]}) = {v:.6g} but {R[r]} does not produce {I[i]}")
        vdfm[i, g, r] = 0.0
        if g < nI:
            neg_adj[g, r] += v
        log.ghost_moves.append((I[i], G[g], R[r], v))
    for i, n, r in np.argwhere((vdfmnhw != 0) & ~produced[:, None, :]):
        v = float(vdfmnhw[i, n, r])
        if abs(v) > NEG_TOL:
            raise DataError(
                f"china_provinces: vdfmnhw({I[i]},{NHW[n]},{R[r]}) = {v:.6g} but {R[r]} does not produce {I[i]}"
            )
        vdfmnhw[i, n, r] = 0.0
        neg_adj[src.ele, r] += v
        log.ghost_moves.append((I[i], NHW[n], R[r], v))


def _move_negative_cells(src: _Source, neg_adj: np.ndarray, log: _Log) -> None:
    """Negative vdfm cells (rounding noise in the source): set to 0 by the documented rule, or refuse."""
    vdfm = src.a["vdfm"]
    if not (vdfm < 0).any():
        return
    worst = float(vdfm.min())
    if worst < -NEG_TOL:
        k = np.unravel_index(np.argmin(vdfm), vdfm.shape)
        raise DataError(
            f"china_provinces: vdfm{tuple(c[x] for c, x in zip((src.I, src.G, src.R), k))} = {worst:.6g} "
            f"(< -{NEG_TOL:g}) is not rounding noise; refusing to zero it"
        )
    for i, g, r in np.argwhere(vdfm < 0):
        e = -float(vdfm[i, g, r])
        vdfm[i, g, r] = 0.0  # the user buys e more: domestic sales of (i, r) rise by e ...
        neg_adj[i, r] += e  # ... and so does the producer's factor income;
        if g < src.nI:
            neg_adj[g, r] -= e  # an industry user's cost rises by e: its factor income falls by e
        log.neg_moves.append((src.I[i], src.G[g], src.R[r], e))


def _check_rates(src: _Source) -> None:
    rtms, rtxs = src.a["rtms"], src.a["rtxs"]
    if (rtms <= -1).any():
        raise DataError("china_provinces: rtms <= -1 found")
    if (src.pp3[0] & ((rtms != 0) | (rtxs != 0))[:]).any():
        raise DataError("china_provinces: taxes on province -> province flows (the README says there are none)")


def _trade_at_fob(src: _Source):
    """Trade at fob (the exporter's market price net of export tax) and tariffs on it; the diagonal:
    domestic sales. Also the cif and landed values of every route."""
    a, nR = src.a, src.nR
    vxmd, vtwr, rtms = a["vxmd"], a["vtwr"], a["rtms"]
    off = ~np.eye(nR, dtype=bool)[None]
    fob = vxmd * (1 - a["rtxs"])
    if (fob < 0).any() or ((vtwr > 0) & (fob <= 0)).any():
        raise DataError("china_provinces: negative fob value, or a margin on a route without trade")
    cif = fob + vtwr
    landed = np.where(src.pp3, cif, cif * (1 + rtms))
    # the tariff on the margin (rtms*vtwr, revenue of the importer) stays on the good's route
    tariff = np.zeros_like(rtms)
    np.divide(rtms * cif, fob, out=tariff, where=fob > 0)
    tariff = np.where(off, tariff, 0.0)
    trade = np.where(off, fob, 0.0)
    # domestic sales: own-region purchases, plus (world regions) intra-aggregate trade at the value its
    # buyers pay for the good itself (landed minus the margin, which becomes a TRP purchase)
    intra = np.einsum("irr->ir", landed - vtwr)
    trade[:, np.arange(nR), np.arange(nR)] = a["vdfm"].sum(axis=1) + a["vdfmnhw"].sum(axis=1) + intra
    return trade, tariff, cif, landed


def _margins_off_goods(src: _Source):
    """The users who paid the margins in vifm buy TRP instead, channel by channel: their imports
    net of the margins (i, g, r) and the TRP they buy (g, r)."""
    a = src.a
    vtwr, vifm_ch = a["vtwr"], a["vifm_ch"]
    src_prov = src.isprov[None, :, None]
    cntrd = np.where(src_prov, vtwr, 0.0).sum(axis=1)  # from provinces
    othtrd = np.where(~src_prov, vtwr, 0.0).sum(axis=1)  # from world regions (incl. diagonal)
    margin_ch = np.stack([cntrd, othtrd], axis=2)  # (i, r, channel)
    chan_tot = vifm_ch.sum(axis=1)  # (i, r, channel)
    if ((margin_ch > 0) & (chan_tot <= 0)).any():
        raise DataError("china_provinces: a margin on an import channel nobody buys")
    share = np.zeros_like(vifm_ch)
    np.divide(vifm_ch, chan_tot[:, None], out=share, where=chan_tot[:, None] > 0)
    moved = (share * margin_ch[:, None]).sum(axis=3)  # (i, g, r) taken off good i
    return a["vifm"] - moved, moved.sum(axis=0)


def _margins_to_trp(src: _Source, trade: np.ndarray, tariff: np.ndarray, log: _Log) -> None:
    """Who supplies the margins (TRP trade, in place): the province itself (vdst) for interprovincial
    flows; the global pool (vst shares) for all other flows, from each supplier to the importer."""
    a, trp, pp3 = src.a, src.trp, src.pp3
    vtwr, vst, vdst, rtms = a["vtwr"], a["vst"], a["vdst"], a["rtms"]
    off = ~np.eye(src.nR, dtype=bool)[None]
    pool_need = np.where(pp3, 0.0, vtwr).sum(axis=(0, 1))  # (r,)
    dom_need = np.where(pp3, vtwr, 0.0).sum(axis=(0, 1))
    if not np.allclose(dom_need, vdst.sum(axis=0), rtol=1e-12, atol=1e-12) or not np.isclose(
        pool_need.sum(), vst.sum(), rtol=1e-12
    ):
        raise DataError("china_provinces: margins do not match vst/vdst (the README's margin identities)")
    pool_share = vst[trp] / vst[trp].sum()
    trp_flow = pool_share[:, None] * pool_need[None, :]  # (supplier, importer)
    old_trp = trade[trp].copy()
    trade[trp] += trp_flow + np.diag(vdst[trp])
    # existing TRP routes with a tariff keep their revenue (rate averaged over the larger flow)
    tariff_trp_old = tariff[trp].copy()
    tariff[trp] = np.where(
        off[0] & (trade[trp] > 0), tariff_trp_old * old_trp / np.where(trade[trp] > 0, trade[trp], 1.0), 0.0
    )
    log.margins = {
        "international margins vtwr = pool vst (moved from goods to TRP purchases)": float(pool_need.sum()),
        "of which on intra-aggregate (diagonal) flows": float(np.einsum("irr->", vtwr)),
        "interprovincial margins vdst (COL only; to the importer's own TRP)": float(dom_need.sum()),
        "pool TRP supplied from another region (trade)": float(np.where(off[0], trp_flow, 0.0).sum()),
        "pool TRP supplied by the importer itself (domestic sales)": float(np.trace(trp_flow)),
        "tariff on margins kept on the good's route (rtms*vtwr, off-diagonal)": float(
            np.where(off, rtms * vtwr, 0.0).sum()
        ),
        "max tariff rate raised by that (percentage points)": float(np.max(np.where(off, tariff - rtms, 0.0)) * 100),
        "TRP routes whose tariff was averaged": int(((tariff_trp_old != 0) & (trp_flow > 0) & off[0]).sum()),
    }


def _uses(src: _Source, vifm_net: np.ndarray, trp_add: np.ndarray):
    """Intermediate use (i, j, r) and final demand (i, r) at market prices (before purchase taxes),
    margins moved to TRP."""
    nI, ele, trp = src.nI, src.ele, src.trp
    vdfm = src.a["vdfm"]
    intermediate = vdfm[:, :nI] + vifm_net[:, :nI]
    intermediate[:, ele, :] += src.a["vdfmnhw"].sum(axis=1)
    intermediate[trp] += trp_add[:nI]
    final_demand = (vdfm[:, nI:] + vifm_net[:, nI:]).sum(axis=1)
    final_demand[trp] += trp_add[nI:].sum(axis=0)
    return intermediate, final_demand


def _factor_cost(src: _Source) -> np.ndarray:
    """Factor payments at factor cost vfm*(1+rtf) (f, j, r), the nhw technologies merged into ELE."""
    a = src.a
    base = a["vfm"] * (1 + a["rtf"])
    base[:, src.ele, :] += (a["vfmnhw"] * (1 + a["rtfnhw"])).sum(axis=1)
    return base


def _folds(src: _Source, cif: np.ndarray, neg_adj: np.ndarray) -> dict[str, np.ndarray]:
    """What is folded into each cell's factor income (j, r), by kind."""
    a, nI = src.a, src.nI
    vdfm_s, vifm_s = a["vdfm"][:, :nI], a["vifm"][:, :nI]
    return {
        "output_tax": a["rto"] * a["vom"][:nI] + src.ele_row((a["rtonhw"] * a["vomnhw"]).sum(axis=0)),
        "purchase_tax_industries": (vdfm_s * a["rtfd"][:, :nI] + vifm_s * a["rtfi"][:, :nI]).sum(axis=0)
        + src.ele_row((a["vdfmnhw"] * a["rtfdnhw"]).sum(axis=(0, 1))),
        "export_tax": (-a["rtxs"] * a["vxmd"]).sum(axis=2),
        "intra_aggregate_tariff": np.einsum("irr->ir", a["rtms"] * cif),
        "negative_vdfm_cells_moved": neg_adj,
    }


def _repair_negative_value_added(src: _Source, base, addition, intermediate, final_demand, log: _Log) -> None:
    """Cells whose value added would turn negative (output subsidies larger than factor payments):
    the cell's net fold is undone (value added = factor cost) and the same value of its inputs,
    scaled proportionally, is bought by the region's final demand instead (the subsidising
    government buys the subsidised inputs); income rises by the subsidy, both identities keep
    holding. In place."""
    negva = (base.sum(axis=0) + addition) < 0
    for j, r in np.argwhere(negva):
        # (a cell without factor payments ends with value added 0: GDT-ZHJ, and GAS-GUD whose -3e-16
        # is rounding noise from the negative-vdfm move)
        x = -float(addition[j, r])
        inputs = intermediate[:, j, r].sum()
        if x <= 0 or x > inputs:
            raise DataError(
                f"china_provinces: value added of {src.I[j]}-{src.R[r]} is negative after the folds "
                f"({base[:, j, r].sum() + addition[j, r]:.6g}) and cannot be repaired"
            )
        removed = intermediate[:, j, r] * (x / inputs)
        intermediate[:, j, r] -= removed
        final_demand[:, r] += removed
        addition[j, r] = 0.0
        log.subsidy_moves.append((src.I[j], src.R[r], x, x / inputs))


def _close_rounding(trade, intermediate, factor_income, log: _Log) -> None:
    """The source's own rounding residual in zero profit (<= 3.2e-11 bn USD) goes to factor income
    of cells that have factor income (in place), so that zero profit holds to machine precision."""
    gap = trade.sum(axis=2) - intermediate.sum(axis=0) - factor_income.sum(axis=0)
    fix = (factor_income.sum(axis=0) > 0) & (np.abs(gap) <= NEG_TOL)
    factor_income += _spread(np.where(fix, gap, 0.0), factor_income)
    log.rounding = {
        "cells": int((fix & (gap != 0)).sum()),
        "max_abs": float(np.abs(np.where(fix, gap, 0.0)).max()),
        "sum": float(np.where(fix, gap, 0.0).sum()),
    }


def _refuse_negative(**flows: np.ndarray) -> None:
    """Negative flows anywhere after the folds stop the build."""
    for name, arr in flows.items():
        if (arr < 0).any():
            k = np.unravel_index(np.argmin(arr), arr.shape)
            raise DataError(f"china_provinces: {name} has negative cells after the folds, worst {k}: {arr[k]:.6g}")


def _check_identities(src: _Source, trade, tariff, intermediate, final_demand, factor_income) -> dict:
    """MODEL.md's identities to TOL relative and positive income; the largest relative gaps."""
    I, R = src.I, src.R
    eye = np.eye(src.nR, dtype=bool)
    lhs1 = intermediate.sum(axis=1) + final_demand
    rhs1 = np.where(eye[None], trade, trade * (1 + tariff)).sum(axis=1)
    lhs2 = trade.sum(axis=2)
    rhs2 = intermediate.sum(axis=0) + factor_income.sum(axis=0)
    g1 = np.abs(lhs1 - rhs1) / np.maximum(np.maximum(lhs1, rhs1), 1e-300)
    g2 = np.abs(lhs2 - rhs2) / np.maximum(np.maximum(lhs2, rhs2), 1e-300)
    if g1.max() > TOL or g2.max() > TOL:
        w1, w2 = np.unravel_index(np.argmax(g1), g1.shape), np.unravel_index(np.argmax(g2), g2.shape)
        raise DataError(
            f"china_provinces: identities fail after folding (composite {g1.max():.3g} at "
            f"{I[w1[0]]}-{R[w1[1]]}, zero profit {g2.max():.3g} at {I[w2[0]]}-{R[w2[1]]} "
            f"[{lhs2[w2]:.6g} vs {rhs2[w2]:.6g}], tolerance {TOL:g})"
        )
    inc0 = final_demand.sum(axis=0)
    if (inc0 <= 0).any():
        raise DataError(f"china_provinces: nonpositive income in {[R[k] for k in np.where(inc0 <= 0)[0]]}")
    return {"composite": float(g1.max()), "zero_profit": float(g2.max())}


def _reconciliation(src: _Source, trade, tariff, final_demand, factor_income, landed, folds, log: _Log, gaps) -> dict:
    """The reconciliation report (billion USD): the size of every fold and adjustment."""
    a, nI, isprov, R = src.a, src.nI, src.isprov, src.R
    vom, vfm, vfmnhw = a["vom"], a["vfm"], a["vfmnhw"]
    off = ~np.eye(src.nR, dtype=bool)[None]
    inc0 = final_demand.sum(axis=0)
    X = np.where(off, trade, 0.0)
    B = X.sum(axis=(0, 1)) - X.sum(axis=(0, 2))
    factor_tax = (vfm * a["rtf"]).sum(axis=0) + src.ele_row((vfmnhw * a["rtfnhw"]).sum(axis=(0, 1)))
    fd_tax = (a["vdfm"][:, nI:] * a["rtfd"][:, nI:] + a["vifm"][:, nI:] * a["rtfi"][:, nI:]).sum(axis=(0, 1))
    src_vomtot = vom[:nI].copy()
    src_vomtot[src.ele] += a["vomnhw"].sum(axis=0)
    tb_src = _source_trade_balance(a["vxmd"], a["vtwr"], a["rtxs"], a["vst"], isprov)
    Y0 = trade.sum(axis=2)

    def tot(x):
        return round(float(np.sum(x)), 6)

    def by_region(x):
        x = np.asarray(x)
        if x.ndim == 2:
            x = x.sum(axis=0)
        return {R[k]: round(float(x[k]), 6) for k in range(src.nR)}

    def moves(m):
        return {"count": len(m), "total": sum(c[3] for c in m), "cells": [list(c) for c in m[:10]]}

    return {
        "units": "billion USD",
        "folds_into_factor_income": {
            "factor_tax (rtf*vfm, incl. nhw)": {"world": tot(factor_tax), "china": tot(factor_tax[:, isprov])},
            **{
                k: {
                    "world": tot(v),
                    "china": tot(v[:, isprov]),
                    "min_cell": round(float(v.min()), 6),
                    "max_cell": round(float(v.max()), 6),
                }
                for k, v in folds.items()
            },
        },
        "dropped_final_demand_purchase_taxes": {"world": tot(fd_tax), "by_region": by_region(fd_tax)},
        "intra_aggregate_trade_to_domestic_sales (landed value)": {
            "world": tot(np.einsum("irr->ir", landed)),
            "by_region": by_region(np.einsum("irr->ir", landed)),
        },
        "negative_value_added_repaired (sector, region, inputs moved to final demand, share of inputs)": [
            [j, r, x, sh] for j, r, x, sh in log.subsidy_moves
        ],
        "margins": {k: round(v, 6) for k, v in log.margins.items()},
        "unproduced_goods_noise_removed": moves(log.ghost_moves),
        "negative_cells_moved": moves(log.neg_moves),
        "output_vs_source": {
            "definition": "Y0 = sum_s trade[j,r,s] minus source output vom (+vomnhw for ELE)",
            "world": tot(Y0 - src_vomtot),
            "china": tot((Y0 - src_vomtot)[:, isprov]),
            "max_rel_cell": round(float(np.max(np.abs(Y0 - src_vomtot) / np.maximum(src_vomtot, 1e-12))), 6),
            "source_output_world": tot(src_vomtot),
            "source_output_china": tot(src_vomtot[:, isprov]),
        },
        "income": {
            "source_absorption_c+g+i": by_region(vom[nI:]),
            "INC0 = sum final_demand": by_region(inc0),
            "difference (= dropped final purchase taxes)": by_region(vom[nI:].sum(axis=0) - inc0),
        },
        "trade_deficit_B": {"model (cif)": by_region(B), "source vb": by_region(tb_src), "sum_model": float(B.sum())},
        "factor_income_vs_source_vfm": {
            "model": by_region(factor_income.sum(axis=0)),
            "source vfm+vfmnhw": by_region(vfm.sum(axis=(0, 1)) + vfmnhw.sum(axis=(0, 1))),
        },
        "tariff_revenue": {"world": tot((X * tariff).sum()), "china": tot((X * tariff)[:, :, isprov])},
        "source_rounding_residual_to_factor_income": log.rounding,
        "identity_max_rel_gap": gaps,
    }


def _population(src: _Source) -> np.ndarray:
    """Million persons: provinces from the raw data (10^4 persons), world regions assumed."""
    population = np.array(
        [src.pop.get(r, np.nan) / 100.0 if r in src.prov else WORLD_POPULATION_2007[r] for r in src.R]
    )
    if np.isnan(population).any():
        raise DataError("china_provinces: population.csv lacks 2007 values for some provinces")
    return population


def _dataset(src: _Source, trade, tariff, intermediate, final_demand, factor_income, rec: dict) -> xr.Dataset:
    """The benchmark dataset with its documentation."""
    Fout = [FACTORS[f] for f in FACTORS_RAW]
    ds = from_arrays(
        regions=src.R,
        sectors=src.I,
        factors=Fout,
        trade=trade,
        tariff=tariff,
        intermediate=intermediate,
        final_demand=final_demand,
        factor_income=factor_income,
        esubd=src.a["esubd"],
        esubm=src.a["esubm"],
        esubva=src.a["esubva"],
        mobility=[MOBILITY[f] for f in Fout],
        population=_population(src),
    )
    for v in ("trade", "intermediate", "final_demand", "factor_income"):
        ds[v].attrs["units"] = "billion USD"
    ds["trade"].attrs["valuation"] = (
        "cif (exporter market price net of export tax plus transport margin); diagonal = domestic sales"
    )
    ds["tariff"].attrs["units"] = "ad valorem rate on trade (GTAP rtms, on the cif value)"
    ds["intermediate"].attrs["valuation"] = "market prices incl. tariffs, before purchase taxes (folded)"
    ds["population"].attrs["units"] = "million persons"
    ds["population"].attrs["note"] = (
        "provinces: population.csv, yr 107 = 2007, converted from 10^4 persons; world regions: NOT in "
        "the raw data, rounded approximations (+-10 %) of 2007 UN/World Bank totals of the member "
        "regions, see cge/dataset/china.py WORLD_POPULATION_2007"
    )
    ds["mobility"].attrs["note"] = (
        "labour and capital mobile across sectors within a region; resource "
        "(land/natural resource in AGR, COL, CRU, GAS, OMN and the hydro/nuclear/"
        "wind resource in ELE) sector-specific, as in C-REM"
    )
    ds.attrs.update(
        {
            "name": "china-provinces",
            "title": "China interprovincial benchmark: 30 provinces + 6 world regions x 16 sectors, 2007 "
            "(C-REM allprov, folded into the MODEL.md core)",
            "year": YEAR,
            "units": UNITS,
            "source": SOURCE,
            "licence_note": LICENCE_NOTE,
            "recipe": "cge/dataset/china.py (read_china_provinces); calibration/china-provinces.md",
            "regions_provinces": " ".join(src.prov),
            "regions_world": " ".join(src.world),
            "region_names": "; ".join(f"{c} {n}" for c, n in zip(src.reg["code"], src.reg["name"])),
            "sector_names": "; ".join(f"{c} {d}" for c, d in zip(src.sec["code"], src.sec["description"])),
            "mapping_notes": MAPPING_NOTES,
            "reconciliation": json.dumps(rec, sort_keys=False),
        }
    )
    return ds


MAPPING_NOTES = (
    "trade[i,s,r] (s!=r) = cif = vxmd*(1-rtxs)+vtwr, tariff = rtms (0 between provinces); "
    "trade[i,r,r] = sum_g vdfm + sum_nhw vdfmnhw "
    "(+ landed intra-aggregate trade vxmd(i,s,s)*(1-rtxs)(1+rtms)+vtwr(1+rtms) "
    "for world regions); intermediate = vdfm+vifm (+vdfmnhw into ELE), final_demand = sum over c,g,i of vdfm+vifm, "
    "both before purchase taxes; factor_income = vfm*(1+rtf) (+nhw into ELE) plus output taxes, purchase taxes "
    "paid by industries, export taxes, margins on own exports, intra-aggregate tariffs, minus transport services "
    "supplied to margins (vst, vdst, TRP), spread over factors in proportion to vfm*(1+rtf); final-demand purchase "
    "taxes dropped. Armington: MODEL.md nests domestic vs one import composite (esubd) over all sources, provinces "
    "and world regions alike (esubm); C-REM instead nests, for provinces, the foreign composite against "
    "(own output + other provinces) and, for world regions, domestic vs (China composite over provinces at 4*esubd "
    "+ other world regions). Capital in C-REM is mobile across provinces; here it is mobile within a region only."
)


def _source_trade_balance(vxmd, vtwr, rtxs, vst, isprov) -> np.ndarray:
    """C-REM's vb(r) from flows (as check_identities.py): imports cif - exports fob - vst;
    interprovincial flows at market prices (their margin is the importer's own TRP), diagonals included."""
    pp = (isprov[:, None] & isprov[None, :])[None]
    exp_val = np.where(pp, vxmd, vxmd * (1 - rtxs)).sum(axis=2).sum(axis=0) + vst.sum(axis=0)
    imp_val = np.where(pp, vxmd, vxmd * (1 - rtxs) + vtwr).sum(axis=1).sum(axis=0)
    return imp_val - exp_val


def reconciliation(ds: xr.Dataset) -> dict:
    """The fold report stored in ``ds.attrs['reconciliation']``."""
    return json.loads(ds.attrs["reconciliation"])


def format_report(rec: dict) -> str:
    lines = [f"china-provinces reconciliation ({rec['units']}):"]
    lines.append("  folded into factor income (world / china; min and max cell):")
    for k, v in rec["folds_into_factor_income"].items():
        extra = f"  [{v['min_cell']:+.4g}, {v['max_cell']:+.4g}]" if "min_cell" in v else ""
        lines.append(f"    {k:38s} {v['world']:12.3f} {v['china']:12.3f}{extra}")
    lines.append(f"  dropped final-demand purchase taxes: {rec['dropped_final_demand_purchase_taxes']['world']:.3f}")
    lines.append(
        f"  intra-aggregate trade moved to domestic sales: "
        f"{rec['intra_aggregate_trade_to_domestic_sales (landed value)']['world']:.3f}"
    )
    n = rec["negative_cells_moved"]
    lines.append(
        f"  negative vdfm cells moved (set to 0, producer +, industry user -): {n['count']} totalling {n['total']:.3g}"
    )
    n = rec["unproduced_goods_noise_removed"]
    lines.append(f"  purchases of goods the region does not produce removed: {n['count']} totalling {n['total']:.3g}")
    key = [k for k in rec if k.startswith("negative_value_added_repaired")][0]
    for j, r, x, sh in rec[key]:
        lines.append(
            f"  negative value added repaired: {j}-{r}: {x:.6g} of inputs ({100 * sh:.1f} %) moved to final demand"
        )
    lines.append("  margins:")
    for k, v in rec["margins"].items():
        lines.append(f"    {k}: {v:.6g}")
    rr = rec["source_rounding_residual_to_factor_income"]
    lines.append(f"  source rounding residual put in factor income: {rr['cells']} cells, max {rr['max_abs']:.3g}")
    o = rec["output_vs_source"]
    lines.append(
        f"  output minus source vom: world {o['world']:.3f} of {o['source_output_world']:.1f}, china "
        f"{o['china']:.3f} of {o['source_output_china']:.1f}, max rel cell {o['max_rel_cell']:.4g}"
    )
    lines.append(
        f"  tariff revenue: world {rec['tariff_revenue']['world']:.3f}, china {rec['tariff_revenue']['china']:.3f}"
    )
    lines.append(f"  identities max rel gap: {rec['identity_max_rel_gap']}")
    lines.append(f"  sum of trade deficits: {rec['trade_deficit_B']['sum_model']:.3g}")
    return "\n".join(lines)
