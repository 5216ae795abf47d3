"""Effects of MODEL.md section 8, computed from solutions (never from the model's internals).

Units: currency units of the benchmark (EV units) unless a name says otherwise.

Trade creation and diversion, per member r and sector i, from the change in delivered import
volumes at benchmark prices (``trade_quantity``)::

    dIN  = sum over partners (other members) s of dX[i,s,r]
    dOUT = sum over non-members s of dX[i,s,r]
    TD   = min(max(-dOUT, 0), max(dIN, 0))      trade diversion
    TC   = max(dIN, 0) - TD                      trade creation
    ETC  = max(dOUT, 0)                          external trade creation

Welfare decomposition (Huff and Hertel style), exact along the path.  With ``dW = sum_i PA dC``
the money-metric change of region r's consumption, the model's accounting gives, at every point::

    dW = sum_{i,s} t PY_s tau dX[i,s,r]                          allocative efficiency (tariff wedge)
       + sum_{i,s} tau X[i,r,s] dPY_r - sum_{i,s} X[i,s,r] d(PY_s tau)   terms of trade
       + sum_{f,j} W dE[f,j,r] + sum_f (W - WU) dNF - NF dWU    endowment and factor movement
       + d(revenue received - revenue collected)                  union revenue transfer
       + B dPNUM                                                   (zero: the numeraire is fixed)

and ``dEV = INC0 dU = dW / PU``.  Integrating from the benchmark to the scenario in ``n`` steps
(trapezoid rule on every product) gives parts whose sum approaches EV as ``1/n^2``.

With scale economies (docs/dynamics.md section 5) the flows are what firms ship (``x``) and two
parts are added: variety, ``sum_s S dln N_route / (sigma - 1)``, and selection (Melitz),
``sum_s S dln PHI``, with ``S`` the spending on each source's composite; under the steady-state
capital closure, capital accumulation ``sum_h omega[r,h] sum_c n[c] dK[c]`` and capital income
``sum_h omega[r,h] sum_c (K[c] - 1) dn[c] - sum_c in r (K[c] - 1) dn[c]``.

The first-order version most of the literature publishes is one discrete step at benchmark
weights: benchmark tariffs times the change in flows, benchmark trade times the change in prices.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np
import xarray as xr

from cge.scenario.stages import gdp0

#: MODEL.md section 8's trade effects by sector and member, each also summed over the union (``<name>_union``)
TRADE_EFFECTS = ("trade_creation", "trade_diversion", "external_trade_creation")
TRADE_EFFECTS_ALL = TRADE_EFFECTS + tuple(f"{v}_union" for v in TRADE_EFFECTS)

DECOMPOSITION = (
    "welfare_allocative_members",
    "welfare_allocative_nonmembers",
    "welfare_terms_of_trade",
    "welfare_endowment",
    "welfare_revenue_transfer",
)
#: the allocative parts by instrument, sector and region (sum over sectors: the parts by region)
BY_SECTOR = "welfare_allocative_by_sector"
#: parts added by the extensions (docs/extensions.md section 6), only where a model has them
EXTENSION_PARTS = ("welfare_allocative_output_tax", "welfare_allocative_export_tax", "welfare_trade_balance")
#: parts added by docs/dynamics.md's options (section 5)
DYNAMIC_PARTS = ("welfare_variety", "welfare_selection", "welfare_capital_accumulation", "welfare_capital_income")


# ----------------------------------------------------------------- trade creation and diversion
def trade_effects(dX: np.ndarray, member: np.ndarray):
    """TC, TD, ETC (sector, region) from dX (sector, source, dest); NaN for non-members."""
    member = np.asarray(member, bool)
    n = dX.shape[1]
    off = ~np.eye(n, dtype=bool)
    partners = member[:, None] & member[None, :] & off  # (s, r): s a partner of member r
    outsiders = (~member)[:, None] & member[None, :]  # (s, r): s a non-member, r a member
    dIN = (dX * partners[None]).sum(axis=1)
    dOUT = (dX * outsiders[None]).sum(axis=1)
    TD = np.minimum(np.maximum(-dOUT, 0.0), np.maximum(dIN, 0.0))
    TC = np.maximum(dIN, 0.0) - TD
    ETC = np.maximum(dOUT, 0.0)
    mask = np.where(member[None, :], 1.0, np.nan)
    return TC * mask, TD * mask, ETC * mask


# ----------------------------------------------------------------- welfare decomposition
#: id(dataset) -> (weak reference to it, its _state): each part of the decomposition reads the
#: same two or more states, made once
_STATES: dict[int, tuple] = {}


def _state(ds: xr.Dataset) -> dict:
    """:func:`_make_state`, made once per dataset (while it lives)."""
    hit = _STATES.get(id(ds))
    if hit is not None and hit[0]() is ds:
        return hit[1]
    out = _make_state(ds)
    key = id(ds)

    def forget(_ref) -> None:
        _STATES.pop(key, None)

    _STATES[key] = (weakref.ref(ds, forget), out)
    return out


def _make_state(ds: xr.Dataset) -> dict:
    """The arrays the decomposition needs, NaN-free (cells with no flow are zero).

    ``cif``: price per delivered unit of imports, ``PE_s (1 + te) tau``; ``fob``: price per unit
    shipped, ``PE (1 + te)`` (with neither CET nor export taxes both are the core's ``PY``-based prices).
    """
    n = ds.sizes["region"]
    off = ~np.eye(n, dtype=bool)[None]
    PY = np.nan_to_num(ds["price"].values)
    PE = np.nan_to_num(ds["export_price"].values) if "export_price" in ds else PY
    X = np.where(off, ds["trade_quantity"].values, 0.0)
    tau = np.where(off, ds["trade_cost"].values, 0.0)
    t = np.where(off, ds["tariff_rate"].values, 0.0)
    te = np.where(off, ds["export_tax_rate"].values, 0.0) if "export_tax_rate" in ds else np.zeros_like(t)
    to = ds["output_tax_rate"].values if "output_tax_rate" in ds else np.zeros_like(PY)
    fob = np.where(off, PE[:, :, None] * (1.0 + te), 0.0)
    Y0 = ds["trade"].values.sum(axis=2)
    return _dynamic_state(ds, PY, fob * tau, t) | {
        "PY": PY,
        "PE": PE,
        "X": X,
        "tau": tau,
        "t": t,
        "te": te,
        "fob": fob,
        "cif": fob * tau,
        "Q": np.nan_to_num(ds["output"].values) * Y0,
        "to_wedge": np.where(Y0 > 0, to / (1.0 + to), 0.0) * PY,
        "W": np.nan_to_num(ds["factor_price_sector"].values),
        "E": ds["endowment"].values,
        "Wr": np.nan_to_num(ds["factor_price"].values),
        "NF": ds["factor_flow"].values,
        "WU": np.nan_to_num(ds["union_factor_price"].values),
        "PU": ds["utility_price"].values,
        "transfer": ds["tariff_revenue_received"].values - ds["tariff_revenue"].values,
        "deficit": ds["trade_deficit"].values if "trade_deficit" in ds else np.zeros(n),
    }


def _dynamic_state(ds: xr.Dataset, PY: np.ndarray, cif: np.ndarray, t: np.ndarray) -> dict:
    """docs/dynamics.md section 5's arrays: spending ``S`` on each source's composite (tariff
    included), ``ln N_route`` and ``ln PHI`` (sector, source, dest), the capital index ``K`` and the
    net return ``n`` by capital cell (sector, region) and the ownership ``omega``; {} without them."""
    out: dict = {}
    if "firms" in ds:
        n = ds.sizes["region"]
        diag = np.eye(n, dtype=bool)[None]
        x = ds["trade_quantity"].values
        has = ds["trade"].values > 0
        out["S"] = np.where(diag, PY[:, :, None] * x, (1.0 + t) * cif * x)
        lnN = np.where(has, np.log(np.nan_to_num(ds["firms"].values, nan=1.0))[:, :, None], 0.0)
        lnPHI = np.zeros_like(lnN)
        if "firms_route" in ds:
            NR = ds["firms_route"].values
            lnN = np.where(np.isnan(NR), lnN, np.log(np.nan_to_num(NR, nan=1.0)))
            lnPHI = np.log(np.nan_to_num(ds["productivity"].values, nan=1.0))
        out["lnN"], out["lnPHI"] = lnN, lnPHI
        out["sigma"] = np.nan_to_num(ds["firm_elasticity"].values, nan=2.0)[:, None, None]
    if "capital_index" in ds:
        out["K"] = np.nan_to_num(ds["capital_index"].values, nan=1.0)
        out["n"] = np.nan_to_num(ds["capital_net_return"].values)
        out["omega"] = ds["capital_ownership"].values
    return out


def _dynamic_parts(a: dict, b: dict, parts: tuple) -> dict:
    """docs/dynamics.md section 5's parts of one step a -> b (before the 1/PU weight)."""
    mid = lambda k: 0.5 * (a[k] + b[k])
    out = {}
    if "welfare_variety" in parts:
        out["welfare_variety"] = (mid("S") * (b["lnN"] - a["lnN"]) / (a["sigma"] - 1.0)).sum(axis=(0, 1))
    if "welfare_selection" in parts:
        out["welfare_selection"] = (mid("S") * (b["lnPHI"] - a["lnPHI"])).sum(axis=(0, 1))
    if "welfare_capital_accumulation" in parts:
        accumulation = (mid("n") * (b["K"] - a["K"])).sum(axis=0)  # by host
        income = ((mid("K") - 1.0) * (b["n"] - a["n"])).sum(axis=0)
        out["welfare_capital_accumulation"] = a["omega"] @ accumulation
        out["welfare_capital_income"] = a["omega"] @ income - income
    return out


def _parts(a: dict, b: dict, wa: float, wb: float, member: np.ndarray, parts: tuple) -> dict:
    """Money-metric parts of one step a -> b, each weighted by (wa, wb) at its ends (trapezoid)."""
    mid = lambda k: 0.5 * (a[k] + b[k])
    wedge = 0.5 * (a["t"] * a["cif"] + b["t"] * b["cif"])  # tariff per delivered unit
    dX = b["X"] - a["X"]
    from_member = np.asarray(member, bool)[None, :, None]
    q_out = mid_prod(a["tau"], a["X"], b["tau"], b["X"])  # quantity leaving s, (i, s, d)
    exports = (q_out * (b["fob"] - a["fob"])).sum(axis=(0, 2))  # sum_i,d tau X d(fob), by s
    imports = (mid("X") * (b["cif"] - a["cif"])).sum(axis=(0, 1))  # sum_i,s X d(cif), by r
    gap = mid("Wr") - mid("WU")[:, None]  # host price less union price of a pooled factor
    endow = (
        (mid("W") * (b["E"] - a["E"])).sum(axis=(0, 1))
        + (gap * (b["NF"] - a["NF"])).sum(axis=0)
        - (mid("NF") * (b["WU"] - a["WU"])[:, None]).sum(axis=0)
    )
    w = 0.5 * (wa + wb)
    by_sector = {"tariff": (wedge * dX).sum(axis=1)}  # (sector, region), the allocative parts' split
    out = {
        "welfare_allocative_members": (wedge * dX * from_member).sum(axis=(0, 1)),
        "welfare_allocative_nonmembers": (wedge * dX * ~from_member).sum(axis=(0, 1)),
        "welfare_terms_of_trade": exports - imports,
        "welfare_endowment": endow,
        "welfare_revenue_transfer": b["transfer"] - a["transfer"],
    }
    if "welfare_allocative_output_tax" in parts:
        by_sector["output_tax"] = mid("to_wedge") * (b["Q"] - a["Q"])
        out["welfare_allocative_output_tax"] = by_sector["output_tax"].sum(axis=0)
    if "welfare_allocative_export_tax" in parts:
        te_wedge = 0.5 * (a["te"] * a["PE"][:, :, None] + b["te"] * b["PE"][:, :, None])
        by_sector["export_tax"] = (te_wedge * (b["tau"] * b["X"] - a["tau"] * a["X"])).sum(axis=2)
        out["welfare_allocative_export_tax"] = by_sector["export_tax"].sum(axis=0)
    if "welfare_trade_balance" in parts:
        out["welfare_trade_balance"] = b["deficit"] - a["deficit"]
    out.update(_dynamic_parts(a, b, parts))
    out[BY_SECTOR] = np.stack(list(by_sector.values()))
    return {k: w * out[k] for k in (*parts, BY_SECTOR)}


def mid_prod(p_a, q_a, p_b, q_b):
    return 0.5 * (p_a * q_a + p_b * q_b)


def _trapezoid(states: list[dict], member: np.ndarray, parts: tuple) -> dict:
    total: dict[str, Any] = {}
    for a, b in itertools.pairwise(states):
        step = _parts(a, b, 1.0 / a["PU"], 1.0 / b["PU"], member, parts)
        for k, v in step.items():
            total[k] = total.get(k, 0.0) + v
    return total


def decomposition_parts(ds: xr.Dataset, trade_balance: str = "numeraire") -> tuple:
    """The parts a result has: the core's, plus the extensions' where the model was built with them
    (tax instruments; the world-income trade-balance closure)."""
    parts: tuple[str, ...] = DECOMPOSITION
    if "output_tax_rate" in ds:
        parts += ("welfare_allocative_output_tax", "welfare_allocative_export_tax")
    if trade_balance == "world_income":
        parts += ("welfare_trade_balance",)
    if "firms" in ds:
        parts += ("welfare_variety",) + (("welfare_selection",) if "firms_route" in ds else ())
    if "capital_index" in ds:
        parts += ("welfare_capital_accumulation", "welfare_capital_income")
    return parts


def decompose(path: list[xr.Dataset], member: np.ndarray, parts: tuple = DECOMPOSITION) -> dict:
    """Welfare decomposition in EV units along ``path`` (benchmark first, scenario last): the
    ``parts`` by region, and :data:`BY_SECTOR`, the allocative parts by (instrument, sector, region)
    (instruments: :func:`allocative_instruments`), which add up to them.

    The trapezoid sums on the path (n steps) and on every other point (n/2 steps) are combined by
    Richardson extrapolation, ``(4 T_n - T_n/2) / 3``, when n is even: the error falls from
    O(1/n^2) to O(1/n^4).
    """
    states = [_state(ds) for ds in path]
    fine = _trapezoid(states, member, parts)
    n = len(states) - 1
    if n < 2 or n % 2:
        return fine
    coarse = _trapezoid(states[::2], member, parts)
    return {k: (4.0 * fine[k] - coarse[k]) / 3.0 for k in fine}


def allocative_instruments(parts: tuple) -> list[str]:
    """The instruments whose wedges :data:`BY_SECTOR` splits: tariffs, and the extension's taxes."""
    taxes = [k for k in ("output_tax", "export_tax") if f"welfare_allocative_{k}" in parts]
    return ["tariff", *taxes]


def first_order(bench: xr.Dataset, final: xr.Dataset, member: np.ndarray) -> dict:
    """The one-step version: benchmark tariffs x change in flows, benchmark trade x change in prices."""
    a, b = _state(bench), _state(final)
    dX = b["X"] - a["X"]
    from_member = np.asarray(member, bool)[None, :, None]
    w0 = a["t"] * a["cif"]
    q0 = a["tau"] * a["X"]
    tot = (q0 * (b["fob"] - a["fob"])).sum(axis=(0, 2)) - (a["X"] * (b["cif"] - a["cif"])).sum(axis=(0, 1))
    return {
        "welfare_first_order_allocative_members": (w0 * dX * from_member).sum(axis=(0, 1)),
        "welfare_first_order_allocative_nonmembers": (w0 * dX * ~from_member).sum(axis=(0, 1)),
        "welfare_first_order_terms_of_trade": tot,
        "welfare_first_order_endowment": (a["W"] * (b["E"] - a["E"])).sum(axis=(0, 1))
        + ((a["Wr"] - a["WU"][:, None]) * (b["NF"] - a["NF"])).sum(axis=0)
        - (a["NF"] * (b["WU"] - a["WU"])[:, None]).sum(axis=0),
        "welfare_first_order_revenue_transfer": b["transfer"] - a["transfer"],
    }


def caliendo_parro(bench: xr.Dataset, final: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Caliendo and Parro's (2015, Review of Economic Studies 82(1), section 4.2) first-order welfare
    decomposition, in money (their ``d ln W_n`` times income ``I_n``), by sector, partner and region,
    both arrays (sector, partner, region):

    * terms of trade: ``sum E[i,n,p] d ln c[i,n] - M[i,p,n] d ln c[i,p]``, exports and imports valued
      at benchmark fob prices, ``c`` the exporter's fob price (``PE (1 + te)``; ``PY`` in the core);
    * volume of trade: ``sum t[i,p,n] M[i,p,n] (d ln M[i,p,n] - d ln c[i,p])``, the benchmark tariff
      revenue times the log change of the delivered volume ``X`` (at benchmark prices).

    Log changes from the benchmark to the scenario in one step: a first-order figure, not EV.
    The terms of trade add up to zero over the world (each flow is one region's export and
    another's import at the same value)."""
    a, b = _state(bench), _state(final)
    flow = a["fob"] * a["tau"] * a["X"]  # (i, s, d) at benchmark fob prices
    with np.errstate(divide="ignore", invalid="ignore"):
        dln_c = np.where(flow > 0, np.log(b["fob"] / a["fob"]), 0.0)
        dln_x = np.where(a["X"] > 0, np.log(b["X"] / a["X"]), 0.0)
    valued = flow * dln_c  # (i, s, d): the flow from s to d, revalued
    terms = np.swapaxes(valued, 1, 2) - valued  # (i, partner, region): exports to p less imports from p
    volume = a["t"] * a["cif"] * a["X"] * dln_x  # (i, partner = source, region = dest)
    return terms, volume


# ----------------------------------------------------------------- prices, GDP, structure
def terms_of_trade(bench: xr.Dataset, final: xr.Dataset) -> np.ndarray:
    """Export price index over import price index (Laspeyres, benchmark flows as weights), 1 = benchmark.

    Export price of r: PY_r per unit shipped (weights tau0 X0 leaving r); import price: the cif
    price PY_s tau per unit delivered (weights X0 arriving in r).
    """
    a, b = _state(bench), _state(final)
    q0 = a["tau"] * a["X"]
    px = (q0.sum(axis=2) * b["PY"]).sum(axis=0) / np.maximum((q0.sum(axis=2) * a["PY"]).sum(axis=0), 1e-300)
    cif_a, cif_b = a["PY"][:, :, None] * a["tau"], b["PY"][:, :, None] * b["tau"]
    pm = (a["X"] * cif_b).sum(axis=(0, 1)) / np.maximum((a["X"] * cif_a).sum(axis=(0, 1)), 1e-300)
    with np.errstate(invalid="ignore"):  # a closed economy: no trade, NaN
        return px / pm


def krugman_index(output_value: np.ndarray) -> np.ndarray:
    """Krugman specialisation index K[r, s] = sum_i |share_ir - share_is| of sectoral output shares."""
    sh = output_value / np.where(output_value.sum(axis=0) > 0, output_value.sum(axis=0), 1.0)
    return np.abs(sh[:, :, None] - sh[:, None, :]).sum(axis=0)


def member_mean_offdiag(K: np.ndarray, member: np.ndarray) -> float:
    m = np.flatnonzero(member)
    if len(m) < 2:
        return float("nan")
    vals = [K[a, b] for x, a in enumerate(m) for b in m[x + 1 :]]
    return float(np.mean(vals))


def coefficient_of_variation(x: np.ndarray) -> float:
    x = np.asarray(x, float)
    return float(np.std(x) / np.mean(x)) if len(x) > 1 and np.mean(x) != 0 else float("nan")


# ----------------------------------------------------------------- all effects into the results
_R, _S = ("region",), ("sector", "region")
#: the welfare decomposition's parts, as the results name them
WELFARE_LONG_NAMES = {
    "welfare_allocative_members": "allocative efficiency on imports from union members",
    "welfare_allocative_nonmembers": "allocative efficiency on imports from non-members",
    "welfare_terms_of_trade": "terms of trade (export price x exports - import price x imports)",
    "welfare_endowment": "endowment changes and factor movement (common market)",
    "welfare_revenue_transfer": "tariff revenue received less collected (customs-union pooling)",
    "welfare_allocative_output_tax": "allocative efficiency, output tax wedge x change in output",
    "welfare_allocative_export_tax": "allocative efficiency, export tax wedge x change in exports",
    "welfare_trade_balance": "change in the trade deficit (world-income closure)",
    "welfare_variety": "variety: more (or fewer) firms selling to the region (scale economies)",
    "welfare_selection": "selection: average productivity of the firms serving the region (Melitz)",
    "welfare_capital_accumulation": "capital accumulation: net return on the owner's new capital",
    "welfare_capital_income": "capital income: price effect on the net return of capital owned across borders",
}


def add_effects(
    ds: xr.Dataset,
    bench_ds: xr.Dataset,
    path: list[xr.Dataset] | None,
    member: np.ndarray,
    bench,
    trade_balance: str = "numeraire",
) -> xr.Dataset:
    """The results Dataset with every effect of MODEL.md section 8 added under INTERFACE.md's names."""
    member = np.asarray(member, bool)
    out: dict[str, Any] = _trade_effects_vars(ds, bench_ds, member)  # added in one go at the end (one merge)
    coords: dict[str, Any] = {}
    if path is not None:
        parts, coords = _decomposition_vars(ds, path, member, trade_balance)
        out.update(parts)
    out.update(_first_order_vars(bench_ds, ds, member))
    out.update(_caliendo_parro_vars(bench_ds, ds))
    out["terms_of_trade"] = (
        _R,
        terms_of_trade(bench_ds, ds),
        {"long_name": "terms of trade: export over import price index (Laspeyres), 1 = benchmark"},
    )
    out.update(_gdp_vars(ds, bench))
    out.update(_specialisation_vars(ds, bench, member))
    if bench.population is not None:
        out.update(_per_capita_vars(ds, bench, member))
    ds = ds.assign_coords(partner=("partner", ds["region"].values), cp_effect=["terms_of_trade", "volume_of_trade"])
    if coords:
        ds = ds.assign_coords(coords)
    return ds.assign(out)


def _trade_effects_vars(ds: xr.Dataset, bench_ds: xr.Dataset, member: np.ndarray) -> dict[str, Any]:
    """Trade creation, diversion and external trade creation by sector and member, and their union sums."""
    out: dict[str, Any] = {}
    dX = ds["trade_quantity"].values - bench_ds["trade_quantity"].values
    TC, TD, ETC = trade_effects(dX, member)
    note = "(NaN for non-members)"
    out["trade_creation"] = (_S, TC, {"long_name": f"trade creation TC {note}", "units": "benchmark currency units"})
    out["trade_diversion"] = (_S, TD, {"long_name": f"trade diversion TD {note}", "units": "benchmark currency units"})
    out["external_trade_creation"] = (
        _S,
        ETC,
        {"long_name": f"external trade creation ETC {note}", "units": "benchmark currency units"},
    )
    for v in TRADE_EFFECTS:
        out[f"{v}_union"] = (
            ("sector",),
            np.nansum(out[v][1], axis=1) if member.any() else np.full(ds.sizes["sector"], np.nan),
            {"long_name": f"{v.replace('_', ' ')}, sum over union members"},
        )
    return out


def _decomposition_vars(ds: xr.Dataset, path: list[xr.Dataset], member: np.ndarray, trade_balance: str):
    """The welfare decomposition integrated along ``path``: its variables and its coordinates
    (component, instrument)."""
    out: dict[str, Any] = {}
    parts = decompose(path, member, decomposition_parts(ds, trade_balance))
    along = f", integrated along the path in {len(path) - 1} step(s)"
    by_sector = parts.pop(BY_SECTOR)
    for k, v in parts.items():
        out[k] = (_R, v, {"long_name": WELFARE_LONG_NAMES[k] + along})
    out["welfare"] = (
        ("component", "region"),
        np.stack(list(parts.values())),
        {"long_name": "welfare decomposition of EV by component (the welfare_* parts)" + along},
    )
    out[BY_SECTOR] = (
        ("instrument", "sector", "region"),
        by_sector,
        {"long_name": "allocative efficiency by instrument and sector (sums to the allocative parts)" + along},
    )
    resid = ds["ev"].values - sum(parts.values())
    out["welfare_decomposition_residual"] = (_R, resid, {"long_name": "EV minus the sum of the decomposition"})
    coords = {
        "component": ("component", [k.removeprefix("welfare_") for k in parts]),
        "instrument": ("instrument", allocative_instruments(tuple(parts))),
    }
    return out, coords


def _first_order_vars(bench_ds: xr.Dataset, ds: xr.Dataset, member: np.ndarray) -> dict[str, Any]:
    """The first-order, one-step welfare parts at benchmark weights, and their sum."""
    out: dict[str, Any] = {}
    for k, v in first_order(bench_ds, ds, member).items():
        out[k] = (
            _R,
            v,
            {
                "long_name": "FIRST-ORDER, ONE DISCRETE STEP at benchmark weights (the figure much "
                "of the literature publishes): " + k.replace("welfare_first_order_", ""),
                "units": "benchmark currency units",
            },
        )
    out["welfare_first_order_total"] = (
        _R,
        sum(v[1] for v in out.values()),
        {"long_name": "sum of the first-order one-step parts"},
    )
    return out


def _caliendo_parro_vars(bench_ds: xr.Dataset, ds: xr.Dataset) -> dict[str, Any]:
    """Caliendo and Parro's terms- and volume-of-trade effects, by sector and partner and in total."""
    cp_terms, cp_volume = caliendo_parro(bench_ds, ds)
    cp = "Caliendo and Parro (2015) first-order decomposition, one step from the benchmark (not EV): "
    return {
        "welfare_cp": (
            ("cp_effect", "sector", "partner", "region"),
            np.stack([cp_terms, cp_volume]),
            {"long_name": cp + "terms-of-trade and volume-of-trade effects by sector and partner"},
        ),
        "welfare_cp_terms_of_trade": (_R, cp_terms.sum(axis=(0, 1)), {"long_name": cp + "terms of trade"}),
        "welfare_cp_volume_of_trade": (_R, cp_volume.sum(axis=(0, 1)), {"long_name": cp + "volume of trade"}),
    }


def _gdp_vars(ds: xr.Dataset, bench) -> dict[str, Any]:
    """Real GDP at benchmark prices: value added volume plus taxes at benchmark rates on their bases
    (tariffs on import volumes; with the tax extension, output and export taxes too); benchmark GDP."""
    n = ds.sizes["region"]
    off = ~np.eye(n, dtype=bool)[None]
    X1 = np.where(off, ds["trade_quantity"].values, 0.0)
    t0 = np.where(off, bench.tariff0, 0.0)
    Y = np.nan_to_num(ds["output"].values)
    taxes = (t0 * (1.0 + bench.te0) * X1).sum(axis=(0, 1))
    if bench.has_taxes or "output_tax_rate" in ds:
        taxes = taxes + (bench.to0 * bench.COST0 * Y).sum(axis=0) + (bench.te0 * X1).sum(axis=(0, 2))
    return {
        "real_gdp": (
            _R,
            (bench.VA0 * Y).sum(axis=0) + taxes,
            {
                "long_name": "real GDP at benchmark prices (value added volume + taxes at benchmark rates)",
                "units": "benchmark currency units",
            },
        ),
        "gdp0": (_R, gdp0(bench), {"long_name": "benchmark GDP"}),
    }


def _specialisation_vars(ds: xr.Dataset, bench, member: np.ndarray) -> dict[str, Any]:
    """Output value and the Krugman specialisation index, benchmark and scenario (over region pairs
    and the members' mean)."""
    Y = np.nan_to_num(ds["output"].values)
    K0 = krugman_index(bench.Y0)
    K1 = krugman_index(bench.Y0 * Y)  # output volumes at benchmark prices
    dims = ("region", "partner")
    return {
        "output_value": (
            _S,
            np.nan_to_num(ds["price"].values) * Y * bench.Y0,
            {"long_name": "output value PY * Y * Y0", "units": "currency units"},
        ),
        "krugman_index0": (dims, K0, {"long_name": "Krugman specialisation index, benchmark"}),
        "krugman_index": (
            dims,
            K1,
            {"long_name": "Krugman specialisation index, scenario (output at benchmark prices)"},
        ),
        "krugman_index_members0": (
            (),
            member_mean_offdiag(K0, member),
            {"long_name": "mean Krugman index over pairs of union members, benchmark"},
        ),
        "krugman_index_members": (
            (),
            member_mean_offdiag(K1, member),
            {"long_name": "mean Krugman index over pairs of union members, scenario"},
        ),
    }


def _per_capita_vars(ds: xr.Dataset, bench, member: np.ndarray) -> dict[str, Any]:
    """Income per capita (real, money metric at benchmark prices) and its dispersion among members."""
    pop = bench.population
    pc0 = bench.INC0 / pop
    pc1 = bench.INC0 * ds["utility"].values / pop
    return {
        "income_per_capita0": (_R, pc0, {"long_name": "benchmark income per capita"}),
        "income_per_capita": (_R, pc1, {"long_name": "real income per capita, INC0 * U / population"}),
        "income_per_capita_cv_members0": (
            (),
            coefficient_of_variation(pc0[member]),
            {"long_name": "coefficient of variation of per-capita income among members, benchmark"},
        ),
        "income_per_capita_cv_members": (
            (),
            coefficient_of_variation(pc1[member]),
            {"long_name": "coefficient of variation of per-capita income among members, scenario"},
        ),
    }
