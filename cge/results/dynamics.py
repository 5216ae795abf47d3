"""The results of docs/dynamics.md's options (section 7): firms, output per firm, the capital stock,
investment, consumption, GDP and GNP, net capital income from abroad.

Variables are added only where the options are on; keys starting with ``_`` are used by
:func:`cge.results.extract.extract` and not stored.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from cge.model.dynamics import bundle_excess, variety_logs

SR, SSD, R = ("sector", "region"), ("sector", "source", "dest"), ("region",)
CURRENCY = "currency units"


def dynamic_results(core, sol: dict, acc, INC: np.ndarray, ins) -> dict:
    """The dynamic variables of one solution (``sol``: :func:`cge.results.extract.solution`;
    ``acc``: its :class:`cge.model.accounts.Accounts`; ``INC``: income by region; ``ins``: the
    instruments)."""
    st, b = core.structure, core.bench
    out: dict = {}
    if st.scale is not None:
        out.update(_firms(b, st.scale, sol, np.where(b.offdiag, ins.tau * acc.x, acc.x)))
    W = np.nan_to_num(sol["W"])
    gross_added = np.zeros(len(b.regions))  # GR[h]: gross return on the capital added in h
    if st.capital is not None:
        cap, K = st.capital, np.nan_to_num(sol["K"], nan=1.0)
        Wk = W[b.factors.index(cap.factor)]
        gross = np.where(cap.cell_mask, Wk * cap.FK0, 0.0)
        net = np.where(cap.cell_mask, gross - acc.PU[None] * cap.I0, 0.0)  # n[c]
        gross_added = ((K - 1.0) * gross).sum(axis=0)
        G = ((K - 1.0) * net).sum(axis=0)
        nfi = cap.omega @ G - G
        investment = acc.PU * (K * cap.I0).sum(axis=0)
        share = np.divide(cap.FK0, cap.FK0.sum(axis=0)[None], out=np.zeros_like(cap.FK0), where=cap.FK0 > 0)
        regions = list(b.regions)
        out.update(
            {
                "capital_index": (SR, sol["K"], {"long_name": "capital stock index K by capital cell, 1 = benchmark"}),
                "capital_stock": (
                    R,
                    (K * share * cap.K0v[None]).sum(axis=0),
                    {"long_name": "capital stock at benchmark prices", "units": "benchmark currency units"},
                ),
                "capital_net_return": (
                    SR,
                    np.where(cap.cell_mask, net, np.nan),
                    {"long_name": "net return n = W FK0 - PI I0 of a capital cell", "units": CURRENCY},
                ),
                "capital_ownership": xr.DataArray(
                    cap.omega,
                    dims=("region", "host"),
                    coords={"region": regions, "host": regions},
                    attrs={"long_name": "share of the capital added in host owned by region"},
                ),
                "investment": (R, investment, {"long_name": "investment PI * I", "units": CURRENCY}),
                "consumption": (R, INC - investment, {"long_name": "consumption INC - PI * I", "units": CURRENCY}),
                "consumption0": (R, cap.cons0, {"long_name": "benchmark consumption", "units": CURRENCY}),
                "net_capital_income": (
                    R,
                    nfi,
                    {
                        "long_name": "net capital income from abroad (return on new capital owned abroad)",
                        "units": CURRENCY,
                    },
                ),
                "_capital_income_added": gross_added,
            }
        )
        omega = cap.omega
    else:
        omega = np.eye(len(b.regions))
    gdp = (W * acc.FD).sum(axis=(0, 1)) + acc.tariff_revenue
    out["gdp"] = (R, gdp, {"long_name": "GDP: factor income where it is earned + tariff revenue", "units": CURRENCY})
    out["gnp"] = (
        R,
        gdp + omega @ gross_added - gross_added,
        {"long_name": "GNP: GDP with the return on new capital moved to its owner", "units": CURRENCY},
    )
    return out


def _firms(b, scale, sol: dict, shipped: np.ndarray) -> dict:
    """Firms, output per firm and (Melitz) firms and productivity by route; ``shipped``: ``tau x``."""
    N, NR, Y, PY = sol["N"], sol["NR"], sol["Y"], sol["PY"]
    out = {
        "firms": (SR, N, {"long_name": "firms (Krugman) or entrants (Melitz), index, 1 = benchmark"}),
        "output_per_firm": (SR, Y / N, {"long_name": "input bundles per firm or entrant Y/N, 1 = benchmark"}),
        "firm_elasticity": (
            ("sector",),
            scale.sigma_array(b.sectors),
            {"long_name": "elasticity of substitution among one source's varieties (NaN: constant returns)"},
        ),
        "_bundle_excess": bundle_excess(b, scale, PY, Y, N, NR, shipped),
    }
    if scale.routes:
        _, lnPHI = variety_logs(b, scale, N, NR)
        has = ~np.isnan(NR)
        out["firms_route"] = (SSD, NR, {"long_name": "firms serving the route (Melitz), index"})
        out["productivity"] = (
            SSD,
            np.where(has, np.exp(lnPHI), np.nan),
            {"long_name": "average productivity of the firms serving the route (Melitz), index"},
        )
    return out
