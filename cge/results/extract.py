"""Solutions as xarray Datasets (INTERFACE.md "Results"), written atomically to netCDF."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from cge.model import accounts
from cge.io import write_netcdf
from cge.model.benchmark import Benchmark


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
    def from_options(cls, options, dropped_equation: str) -> "Closure":
        return cls(name=options.closure_name(), trade_balance=options.trade_balance_text(),
                   numeraire=options.numeraire_text(), dropped_equation=dropped_equation)

    def attrs(self) -> dict:
        return {"closure": self.name, "closure_trade_balance": self.trade_balance,
                "closure_numeraire": self.numeraire, "closure_dropped_equation": self.dropped_equation}


def extract(core, ins, member: np.ndarray | None = None) -> xr.Dataset:
    """Read the solved Pyomo instance into the results Dataset."""
    b: Benchmark = core.bench
    m = core.instance
    I, R, F = list(b.sectors), list(b.regions), list(b.factors)
    si = {x: k for k, x in enumerate(I)}
    ri = {x: k for k, x in enumerate(R)}
    fi = {x: k for k, x in enumerate(F)}
    ni, nr, nf = len(I), len(R), len(F)
    nan = np.nan

    def grid(var, shape, index_of):
        out = np.full(shape, nan)
        for key, v in var.items():
            out[index_of(key)] = v.value
        return out

    ir = lambda k: (si[k[0]], ri[k[1]])  # noqa: E731
    PY = grid(m.PY, (ni, nr), ir)
    Y = grid(m.Y, (ni, nr), ir)
    PM = grid(m.PM, (ni, nr), ir)
    inc = np.array([m.inc[r].value for r in R])
    W = np.full((nf, ni, nr), nan)
    for (f, j, r) in core.idx.FU:
        W[fi[f], si[j], ri[r]] = (m.Wm[f, r] if (f, r) in m.Wm else m.Ws[f, j, r]).value
    NF = np.zeros((nf, nr))
    for (f, r) in core.idx.FM:
        NF[fi[f], ri[r]] = m.NF[f, r].value
    PD = PE = None
    if core.idx.CET:   # extension: the CET's domestic and export prices (PY elsewhere)
        PD, PE = PY.copy(), PY.copy()
        for (i, r) in core.idx.CET:
            PD[si[i], ri[r]] = m.PD[i, r].value
            PE[si[i], ri[r]] = m.PE[i, r].value
    PA, PVA = accounts.prices(b, PY, PM, W, PD)
    WU = np.full(nf, nan)
    for f in m.WU:
        WU[fi[f]] = m.WU[f].value
    acc = accounts.evaluate(b, ins, PY, Y, PA, PM, PVA, W, inc, PD, PE)
    tq = acc.X.copy()
    tq[:, np.arange(nr), np.arange(nr)] = acc.D
    INC = inc * b.INC0
    U = inc / acc.PU
    EV = b.INC0 * (U - 1.0)
    PU, FD, rev, rev_recv = acc.PU, acc.FD, acc.tariff_revenue, acc.revenue_received
    # factor price by region: a mobile factor's W; a specific factor's benchmark-weighted average
    w_reg = np.full((nf, nr), nan)
    for (f, r) in core.idx.FM:
        w_reg[fi[f], ri[r]] = m.Wm[f, r].value
    for k, f in enumerate(F):
        if b.mobility[k] == "specific":
            wts = b.F0[k]
            num = np.nansum(np.where(wts > 0, W[k] * wts, 0.0), axis=0)
            den = wts.sum(axis=0)
            w_reg[k] = np.where(den > 0, num / np.where(den > 0, den, 1), nan)
    # the dropped market (Walras): excess supply valued at its price, currency units
    i0, r0 = si[core.dropped[0]], ri[core.dropped[1]]
    walras = float(acc.excess_value[i0, r0])
    deficit = INC - acc.factor_income - acc.revenue_received - acc.export_tax_revenue - acc.output_tax_revenue
    for (f, r) in core.idx.FM:   # settlements of pooled factors (zero outside a common market)
        deficit[ri[r]] -= (m.Wm[f, r].value - m.WU[f].value) * m.NF[f, r].value

    coords = {"sector": I, "region": R, "factor": F, "source": R, "dest": R}
    SR, SSD, FR = ("sector", "region"), ("sector", "source", "dest"), ("factor", "region")
    ds = xr.Dataset(
        {
            "ev": (("region",), EV, {"long_name": "equivalent variation", "units": "benchmark currency units"}),
            "ev_pct": (("region",), 100.0 * (U - 1.0), {"long_name": "EV as % of benchmark income", "units": "%"}),
            "income": (("region",), INC, {"long_name": "regional income INC", "units": "currency units"}),
            "income0": (("region",), b.INC0, {"long_name": "benchmark income INC0", "units": "currency units"}),
            "utility": (("region",), U, {"long_name": "welfare index U = INC/(INC0*PU), 1 in the benchmark"}),
            "utility_price": (("region",), PU, {"long_name": "utility price PU"}),
            "price": (SR, PY, {"long_name": "output price PY (NaN where the benchmark output is zero)"}),
            "output": (SR, Y, {"long_name": "activity Y, 1 in the benchmark (NaN where the benchmark output is zero)"}),
            "composite_price": (SR, PA, {"long_name": "Armington composite price PA"}),
            "import_price": (SR, PM, {"long_name": "import price index PM"}),
            "value_added_price": (SR, PVA, {"long_name": "value-added price PVA"}),
            "trade_quantity": (SSD, tq, {"long_name": "delivered volume at benchmark prices (diagonal: domestic sales)",
                                         "units": "benchmark currency units"}),
            "trade": (SSD, b.trade, {"long_name": "benchmark trade (the benchmark of trade_quantity)",
                                     "units": "currency units"}),
            "factor_price": (FR, w_reg, {"long_name": "factor price W (a specific factor: benchmark-weighted "
                                                      "average over sectors)"}),
            "factor_price_sector": (("factor", "sector", "region"), W,
                                    {"long_name": "factor price W by using sector"}),
            "factor_use": (("factor", "sector", "region"), FD,
                           {"long_name": "factor demand FD", "units": "benchmark currency units"}),
            "endowment": (("factor", "sector", "region"), b.F0 * ins.endowment,
                          {"long_name": "factor endowment (a mobile factor's endowment is the sum over sectors)",
                           "units": "benchmark currency units"}),
            "union_factor_price": (("factor",), WU, {"long_name": "union-wide price WU of a factor pooled in a "
                                                                  "common market (1 where not pooled; NaN: not mobile)"}),
            "factor_flow": (FR, NF, {"long_name": "net inflow of a factor pooled in a common market",
                                     "units": "benchmark currency units"}),
            "tariff_revenue": (("region",), rev, {"long_name": "tariff revenue collected", "units": "currency units"}),
            "tariff_revenue_received": (("region",), rev_recv,
                                        {"long_name": "tariff revenue received after union revenue sharing",
                                         "units": "currency units"}),
            "tariff_rate": (SSD, ins.tariff, {"long_name": "scenario tariff rate t"}),
            "trade_cost": (SSD, ins.tau, {"long_name": "scenario iceberg trade-cost factor tau"}),
            "walras_residual": ((), walras, {"long_name": "residual of the dropped market-clearing equation "
                                                          "(excess supply x price)", "units": "currency units"}),
            "trade_deficit": (("region",), deficit, {"long_name": "trade deficit term of income (imports less "
                                                                  "exports at fob prices, as the closure fixes it)",
                                                     "units": "currency units"}),
        },
        coords=coords,
    )
    if PD is not None:
        ds["domestic_price"] = (SR, PD, {"long_name": "price of domestic sales PD (CET extension; PY elsewhere)"})
        ds["export_price"] = (SR, PE, {"long_name": "price of exports PE before export taxes (CET extension; "
                                                    "PY elsewhere)"})
    if core.options.taxes:
        ds["output_tax_rate"] = (SR, ins.output_tax, {"long_name": "scenario output tax rate"})
        ds["export_tax_rate"] = (SSD, ins.export_tax, {"long_name": "scenario export tax rate, levied by the source"})
        ds["output_tax_revenue"] = (("region",), acc.output_tax_revenue,
                                    {"long_name": "output tax revenue", "units": "currency units"})
        ds["export_tax_revenue"] = (("region",), acc.export_tax_revenue,
                                    {"long_name": "export tax revenue, collected by the exporter",
                                     "units": "currency units"})
    if member is not None:
        ds = ds.assign_coords(member=("region", member.astype(bool)))
    return ds


def write_atomic(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    return write_netcdf(ds, path)


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
