"""Solutions as xarray Datasets (INTERFACE.md "Results"), written atomically to netCDF."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from cge.model import accounts
from cge.model.benchmark import Benchmark
from cge.model.dynamics import variety_factor
from cge.model.sets import SET_DIMS
from cge.results.dynamics import dynamic_results


@dataclass(frozen=True)
class Closure:
    """The macro closure, a named object that travels with the results (written to the attrs).

    Made by :meth:`from_options` from the model's options: MODEL.md's closure ("core") or one of
    docs/extensions.md's.
    """

    name: str
    trade_balance: str
    numeraire: str
    dropped_equation: str

    @classmethod
    def from_options(cls, options, dropped_equation: str) -> Closure:
        return cls(
            name=options.closure_name(),
            trade_balance=options.trade_balance_text(),
            numeraire=options.numeraire_text(),
            dropped_equation=dropped_equation,
        )

    def attrs(self) -> dict:
        return {
            "closure": self.name,
            "closure_trade_balance": self.trade_balance,
            "closure_numeraire": self.numeraire,
            "closure_dropped_equation": self.dropped_equation,
        }


def solution(core) -> dict[str, np.ndarray]:
    """The solved unknowns laid out along the benchmark's coordinates (NaN where a cell has no
    variable): ``PY``, ``Y``, ``PM`` (sector, region), ``inc`` (region), ``W`` (factor, sector,
    region: a mobile factor's price repeated over its using sectors), ``NF`` (factor, region, 0
    where not mobile), ``WU`` (factor), and the CET's ``PD``, ``PE`` where built (PY elsewhere)."""
    if core.arrays is not None:
        return _array_solution(core)
    b, m, sets = core.bench, core.instance, core.idx
    grid, dims = b.coords.grid, SET_DIMS

    def values(var):
        return ((k, v.value) for k, v in var.items())

    out = {
        "PY": grid(values(m.PY), dims["YR"]),
        "Y": grid(values(m.Y), dims["YR"]),
        "PM": grid(values(m.PM), dims["MR"]),
        "inc": grid(values(m.inc), ("region",)),
        "W": grid(((k, (m.Wm[k[0], k[2]] if sets.mobile[k[0]] else m.Ws[k]).value) for k in sets.FU), dims["FU"]),
        "NF": grid(values(m.NF), dims["FM"], fill=0.0),
        "WU": grid(values(m.WU), ("factor",)),
        "Wm": grid(values(m.Wm), dims["FM"]),
    }
    out["PD"] = out["PE"] = None
    st = core.structure
    if st.scale is not None:  # docs/dynamics.md: firms, and Melitz's firms by route
        out["N"] = grid(values(m.N), dims["YR"])
        out["NR"] = grid(values(m.NR), dims["ROUTES"])
    if st.capital is not None:  # the capital stock index, by capital cell (sector, region)
        key = ("region",) if st.capital.mobile else ("sector", "region")
        K = grid(((k[1:], v.value) for k, v in m.K.items()), key)
        out["K"] = np.where(st.capital.cell_mask, K[None] if st.capital.mobile else K, np.nan)
    if sets.CET:  # extension: the CET's domestic and export prices (PY elsewhere)
        out["PD"], out["PE"] = out["PY"].copy(), out["PY"].copy()
        for k in sets.CET:
            out["PD"][b.coords.index(dims["CET"], k)] = m.PD[k].value
            out["PE"][b.coords.index(dims["CET"], k)] = m.PE[k].value
    return out


def _array_solution(core) -> dict:
    """:func:`solution` from the point of the model on arrays (:mod:`cge.model.arrays`)."""
    am, x, b = core.arrays, core.x, core.bench

    def grid(name: str, cells, fill=np.nan) -> np.ndarray:
        s, n = am.offset[name]
        out = np.full(b.coords.shape(SET_DIMS[cells] if cells != "R" else ("region",)), fill)
        out[getattr(am, cells).idx if cells != "R" else slice(None)] = x[s : s + n]
        return out

    s, n = am.offset["WU"]
    WU = np.full(len(b.factors), np.nan)
    WU[[b.factors.index(f) for (f,) in am.P]] = x[s : s + n]
    Wm, Ws = grid("Wm", "FM"), grid("Ws", "FS")
    f, _, r = am.FU.idx
    mobile = np.array([core.idx.mobile[k] for k in b.factors])
    W = np.full(b.coords.shape(SET_DIMS["FU"]), np.nan)
    W[am.FU.idx] = np.where(mobile[f], Wm[f, r], Ws[am.FU.idx])
    return {
        "PY": grid("PY", "YR"),
        "Y": grid("Y", "YR"),
        "PM": grid("PM", "MR"),
        "inc": grid("inc", "R"),
        "W": W,
        "NF": grid("NF", "FM", fill=0.0),
        "WU": WU,
        "Wm": Wm,
        "PD": None,
        "PE": None,
    }


_SR, _SSD, _FR, _FSR = (
    ("sector", "region"),
    ("sector", "source", "dest"),
    ("factor", "region"),
    ("factor", "sector", "region"),
)


def extract(core, ins, member: np.ndarray | None = None) -> xr.Dataset:
    """Read the solved Pyomo instance into the results Dataset."""
    b: Benchmark = core.bench
    nr = len(b.regions)
    sol = solution(core)
    PY, PM, W = sol["PY"], sol["PM"], sol["W"]
    scale = core.structure.scale
    V = None if scale is None else variety_factor(b, scale, sol["N"], sol["NR"])
    PDdom = sol["PD"] if V is None else PY * np.einsum("irr->ir", V)  # the domestic composite's price
    PA, PVA = accounts.prices(b, PY, PM, W, PDdom)
    acc = accounts.evaluate(b, ins, PY, sol["Y"], PA, PM, PVA, W, sol["inc"], PDdom, sol["PE"], V)
    tq = acc.x.copy()
    tq[:, np.arange(nr), np.arange(nr)] = acc.D if V is None else acc.x[:, np.arange(nr), np.arange(nr)]
    INC = sol["inc"] * b.INC0
    dyn = dynamic_results(core, sol, acc, INC, ins) if not core.options.is_static else None
    ds = xr.Dataset(
        {
            **_welfare_vars(core, b, acc, INC, sol["inc"], dyn),
            **_production_vars(sol, PA, PVA),
            **_trade_vars(b, tq),
            **_factor_vars(b, sol, acc, ins),
            **_revenue_vars(acc, ins),
            **_closure_vars(core, b, acc, sol, INC, dyn),
        },
        coords={
            "sector": list(b.sectors),
            "region": list(b.regions),
            "factor": list(b.factors),
            "source": list(b.regions),
            "dest": list(b.regions),
        },
    )
    if sol["PD"] is not None:
        ds = ds.assign(_cet_vars(sol))
    if core.options.taxes:
        ds = ds.assign(_tax_vars(acc, ins))
    if dyn is not None:
        ds = ds.assign({k: v for k, v in dyn.items() if not k.startswith("_")})
    if member is not None:
        ds = ds.assign_coords(member=("region", member.astype(bool)))
    return ds


def _welfare_vars(core, b: Benchmark, acc, INC, inc, dyn) -> dict:
    """EV, income and the welfare index U (with capital accumulation, U counts consumption:
    docs/dynamics.md section 4.4)."""
    U = inc / acc.PU
    EV = b.INC0 * (U - 1.0)
    if dyn is not None and core.structure.capital is not None:
        cons0 = core.structure.capital.cons0
        U = dyn["consumption"][1] / (cons0 * acc.PU)
        EV = cons0 * (U - 1.0)
    return {
        "ev": (("region",), EV, {"long_name": "equivalent variation", "units": "benchmark currency units"}),
        "ev_pct": (("region",), 100.0 * (U - 1.0), {"long_name": "EV as % of benchmark income", "units": "%"}),
        "income": (("region",), INC, {"long_name": "regional income INC", "units": "currency units"}),
        "income0": (("region",), b.INC0, {"long_name": "benchmark income INC0", "units": "currency units"}),
        "utility": (("region",), U, {"long_name": "welfare index U = INC/(INC0*PU), 1 in the benchmark"}),
        "utility_price": (("region",), acc.PU, {"long_name": "utility price PU"}),
    }


def _production_vars(sol: dict, PA, PVA) -> dict:
    """Output, its price and the composite, import and value-added prices."""
    return {
        "price": (_SR, sol["PY"], {"long_name": "output price PY (NaN where the benchmark output is zero)"}),
        "output": (
            _SR,
            sol["Y"],
            {"long_name": "activity Y, 1 in the benchmark (NaN where the benchmark output is zero)"},
        ),
        "composite_price": (_SR, PA, {"long_name": "Armington composite price PA"}),
        "import_price": (_SR, sol["PM"], {"long_name": "import price index PM"}),
        "value_added_price": (_SR, PVA, {"long_name": "value-added price PVA"}),
    }


def _trade_vars(b: Benchmark, tq) -> dict:
    """Delivered volumes and benchmark trade."""
    return {
        "trade_quantity": (
            _SSD,
            tq,
            {
                "long_name": "delivered volume at benchmark prices (diagonal: domestic sales)",
                "units": "benchmark currency units",
            },
        ),
        "trade": (
            _SSD,
            b.trade,
            {"long_name": "benchmark trade (the benchmark of trade_quantity)", "units": "currency units"},
        ),
    }


def _factor_price_by_region(b: Benchmark, sol: dict) -> np.ndarray:
    """A mobile factor's W; a specific factor's benchmark-weighted average over sectors."""
    w_reg = sol["Wm"].copy()
    for k in range(len(b.factors)):
        if b.mobility[k] == "specific":
            wts = b.F0[k]
            num = np.nansum(np.where(wts > 0, sol["W"][k] * wts, 0.0), axis=0)
            den = wts.sum(axis=0)
            w_reg[k] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return w_reg


def _factor_vars(b: Benchmark, sol: dict, acc, ins) -> dict:
    """Factor prices, use, endowments and the common market's union prices and flows."""
    return {
        "factor_price": (
            _FR,
            _factor_price_by_region(b, sol),
            {"long_name": "factor price W (a specific factor: benchmark-weighted average over sectors)"},
        ),
        "factor_price_sector": (_FSR, sol["W"], {"long_name": "factor price W by using sector"}),
        "factor_use": (_FSR, acc.FD, {"long_name": "factor demand FD", "units": "benchmark currency units"}),
        "endowment": (
            _FSR,
            b.F0 * ins.endowment,
            {
                "long_name": "factor endowment (a mobile factor's endowment is the sum over sectors)",
                "units": "benchmark currency units",
            },
        ),
        "union_factor_price": (
            ("factor",),
            sol["WU"],
            {
                "long_name": "union-wide price WU of a factor pooled in a "
                "common market (1 where not pooled; NaN: not mobile)"
            },
        ),
        "factor_flow": (
            _FR,
            sol["NF"],
            {"long_name": "net inflow of a factor pooled in a common market", "units": "benchmark currency units"},
        ),
    }


def _revenue_vars(acc, ins) -> dict:
    """Tariff revenue collected and received, and the scenario's tariffs and trade costs."""
    return {
        "tariff_revenue": (
            ("region",),
            acc.tariff_revenue,
            {"long_name": "tariff revenue collected", "units": "currency units"},
        ),
        "tariff_revenue_received": (
            ("region",),
            acc.revenue_received,
            {"long_name": "tariff revenue received after union revenue sharing", "units": "currency units"},
        ),
        "tariff_rate": (_SSD, ins.tariff, {"long_name": "scenario tariff rate t"}),
        "trade_cost": (_SSD, ins.tau, {"long_name": "scenario iceberg trade-cost factor tau"}),
    }


def _closure_vars(core, b: Benchmark, acc, sol: dict, INC, dyn) -> dict:
    """The dropped market's residual (Walras) and the trade deficit term of income."""
    excess = acc.excess_value  # excess supply valued at its price, currency units
    if dyn is not None and "_bundle_excess" in dyn:  # scale economies: the bundle market
        excess = np.where(np.isnan(dyn["_bundle_excess"]), excess, dyn["_bundle_excess"])
    walras = b.coords.at(excess, ("sector", "region"), core.dropped)
    # settlements of pooled factors (zero outside a common market)
    settlement = np.nansum((sol["Wm"] - sol["WU"][:, None]) * sol["NF"], axis=0)
    deficit = INC - acc.factor_income - acc.revenue_received - acc.export_tax_revenue - acc.output_tax_revenue
    deficit = deficit - settlement
    if dyn is not None and "_capital_income_added" in dyn:
        deficit = deficit - dyn["_capital_income_added"] - dyn["net_capital_income"][1]
    return {
        "walras_residual": (
            (),
            walras,
            {
                "long_name": "residual of the dropped market-clearing equation (excess supply x price)",
                "units": "currency units",
            },
        ),
        "trade_deficit": (
            ("region",),
            deficit,
            {
                "long_name": "trade deficit term of income (imports less "
                "exports at fob prices, as the closure fixes it)",
                "units": "currency units",
            },
        ),
    }


def _cet_vars(sol: dict) -> dict:
    """The CET extension's domestic and export prices."""
    return {
        "domestic_price": (_SR, sol["PD"], {"long_name": "price of domestic sales PD (CET extension; PY elsewhere)"}),
        "export_price": (
            _SR,
            sol["PE"],
            {"long_name": "price of exports PE before export taxes (CET extension; PY elsewhere)"},
        ),
    }


def _tax_vars(acc, ins) -> dict:
    """The tax extension's rates and revenues."""
    return {
        "output_tax_rate": (_SR, ins.output_tax, {"long_name": "scenario output tax rate"}),
        "export_tax_rate": (_SSD, ins.export_tax, {"long_name": "scenario export tax rate, levied by the source"}),
        "output_tax_revenue": (
            ("region",),
            acc.output_tax_revenue,
            {"long_name": "output tax revenue", "units": "currency units"},
        ),
        "export_tax_revenue": (
            ("region",),
            acc.export_tax_revenue,
            {"long_name": "export tax revenue, collected by the exporter", "units": "currency units"},
        ),
    }


def with_names(ds: xr.Dataset, dataset: str) -> xr.Dataset:
    """``ds`` with the full names of its regions and sectors as coordinates (``region_name``,
    ``sector_name``; the codes where the dataset is not a built-in one)."""
    from cge.dataset.catalogue import full_names

    return ds.assign_coords(
        region_name=("region", full_names(dataset, "region", ds["region"].values)),
        sector_name=("sector", full_names(dataset, "sector", ds["sector"].values)),
    )


def clean_attrs(attrs: dict) -> dict:
    """netCDF attributes must be strings or numbers."""
    out = {}
    for k, v in attrs.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = int(v)
        elif isinstance(v, (np.floating, np.integer)):
            v = v.item()
        elif not isinstance(v, (str, int, float)):
            v = str(v)
        out[k] = v
    return out
