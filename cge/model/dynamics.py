"""The calibration of docs/dynamics.md's options: which cells have scale economies (Krugman,
Melitz) and the steady-state capital closure's benchmark (capital stock, investment, consumption,
ownership of new capital).

Both are computed once from the benchmark and the resolved options; the equation blocks, the
results and the welfare decomposition read them from here (:attr:`Structure.scale`,
:attr:`Structure.capital`).  With the options off both are ``None``: the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from cge.model.benchmark import Benchmark
from cge.scenario.options import ModelOptions


@dataclass(frozen=True)
class Scale:
    """Scale economies by sector (docs/dynamics.md sections 1-3)."""

    kind: dict  # sector -> "krugman" | "melitz"
    sigma: dict  # sector -> firm_elasticity
    shape: dict  # sector -> Pareto shape (melitz)
    cells: list  # (i, r) with output, in a scale-economy sector
    routes: list  # (i, s, d) Melitz routes with benchmark trade, the domestic route (s == d) included

    @classmethod
    def of(cls, b: Benchmark, options: ModelOptions) -> Scale | None:
        if not options.scale:
            return None
        kind = {i: k for i, k, _, _ in options.scale}
        cells = [
            (i, r)
            for i in b.sectors
            if i in kind
            for r in b.regions
            if b.Y0[b.coords.index(("sector", "region"), (i, r))] > 0
        ]
        routes = [
            (i, s, d)
            for i, s in cells
            if kind[i] == "melitz"
            for d in b.regions
            if b.trade[b.coords.index(("sector", "source", "dest"), (i, s, d))] > 0
        ]
        return cls(
            kind=kind,
            sigma={i: v for i, _, v, _ in options.scale},
            shape={i: a for i, k, _, a in options.scale if k == "melitz"},
            cells=cells,
            routes=routes,
        )

    @cached_property
    def cell_set(self) -> frozenset:
        return frozenset(self.cells)

    @cached_property
    def route_set(self) -> frozenset:
        return frozenset(self.routes)

    def sigma_array(self, sectors) -> np.ndarray:
        """firm_elasticity by sector, NaN where there are no scale economies."""
        return np.array([self.sigma.get(i, np.nan) for i in sectors])


@dataclass(frozen=True)
class Capital:
    """The steady-state capital closure's benchmark (docs/dynamics.md sections 4.1 and 4.3).

    Arrays by (sector, region) or region, in the benchmark's order.  ``omega[o, h]``: the share of
    the capital added in host h owned by region o.
    """

    factor: str
    mobile: bool
    FK0: np.ndarray  # (j, r) benchmark capital income
    K0v: np.ndarray  # (r,) benchmark capital stock value
    I0: np.ndarray  # (j, r) benchmark investment by capital cell
    omega: np.ndarray  # (owner, host)
    cons0: np.ndarray  # (r,) benchmark consumption INC0 - I0

    @classmethod
    def of(cls, b: Benchmark, options: ModelOptions) -> Capital | None:
        c = options.capital
        if c is None:
            return None
        k = b.factors.index(c.factor)
        FK0 = b.F0[k]
        FKr = FK0.sum(axis=0)
        K0v = FKr / (c.rate_of_return + c.depreciation)
        share = np.divide(FK0, FKr[None], out=np.zeros_like(FK0), where=FKr[None] > 0)
        I0 = c.depreciation * K0v[None] * share
        R = len(b.regions)
        omega = np.eye(R)
        if c.international == "world":
            omega = np.broadcast_to((K0v / K0v.sum())[:, None], (R, R)).copy()
        elif c.international == "union":
            member = np.isin(np.asarray(b.regions), c.owners)
            w = K0v * member / (K0v * member).sum()
            omega[:, member] = w[:, None]
        return cls(
            factor=c.factor,
            mobile=b.mobility[k] == "mobile",
            FK0=FK0,
            K0v=K0v,
            I0=I0,
            omega=omega,
            cons0=b.INC0 - I0.sum(axis=0),
        )

    @cached_property
    def cell_mask(self) -> np.ndarray:
        """(j, r): the capital cells (benchmark capital income > 0)."""
        return self.FK0 > 0


# ------------------------------------------------------------------ numpy forms, for the results
def variety_logs(b: Benchmark, scale: Scale, N: np.ndarray, NR: np.ndarray):
    """``ln N_route`` and ``ln PHI`` (sector, source, dest) of docs/dynamics.md sections 2.1, 3.1 and
    5 from the firms ``N`` (sector, region) and ``NR`` (sector, source, dest); zero under constant
    returns and on routes without trade.  ``ln V = ln N_route / (1 - sigma) - ln PHI``."""
    lnN = np.zeros(b.trade.shape)
    lnPHI = np.zeros(b.trade.shape)
    has = b.trade > 0
    for a, i in enumerate(b.sectors):
        if i not in scale.kind:
            continue
        n = np.log(np.where(np.isnan(N[a]), 1.0, N[a]))[:, None]  # (s, 1)
        if scale.kind[i] == "krugman":
            lnN[a] = np.where(has[a], n, 0.0)
        else:
            nr = np.log(np.where(has[a] & ~np.isnan(NR[a]), NR[a], 1.0))
            lnN[a] = np.where(has[a], nr, 0.0)
            lnPHI[a] = np.where(has[a], (n - nr) / scale.shape[i], 0.0)
    return lnN, lnPHI


def variety_factor(b: Benchmark, scale: Scale, N: np.ndarray, NR: np.ndarray) -> np.ndarray:
    """``V`` (sector, source, dest): 1 under constant returns."""
    lnN, lnPHI = variety_logs(b, scale, N, NR)
    sigma = np.nan_to_num(scale.sigma_array(b.sectors), nan=2.0)[:, None, None]
    return np.exp(lnN / (1.0 - sigma) - lnPHI)


def bundle_excess(b: Benchmark, scale: Scale, PY, Y, N, NR, shipped: np.ndarray) -> np.ndarray:
    """The bundle market's excess supply valued at ``PY`` (sector, region), currency units
    (docs/dynamics.md 2.3, 3.3); NaN outside the scale-economy cells.  ``shipped``: ``tau x``."""
    out = np.full(b.Y0.shape, np.nan)
    for i, r in scale.cells:
        a, c = b.coords.index(("sector", "region"), (i, r))
        sigma, Y0 = scale.sigma[i], b.Y0[a, c]
        demand = (sigma - 1.0) / sigma * shipped[a, c].sum()
        if scale.kind[i] == "krugman":
            demand += N[a, c] * Y0 / sigma
        else:
            s = scale.shape[i]
            fixed = np.nansum(np.where(b.trade[a, c] > 0, NR[a, c] * b.trade[a, c], 0.0))
            demand += N[a, c] * Y0 * (sigma - 1.0) / (s * sigma) + fixed * (s + 1.0 - sigma) / (s * sigma)
        out[a, c] = PY[a, c] * (Y[a, c] * Y0 - demand)
    return out


def determinacy_hint(b: Benchmark, scale: Scale | None, share: float = 0.1) -> str:
    """Why a solve with scale economies may fail (docs/dynamics.md section 2.4): the cells whose
    home sales are below ``share`` of output while ``firm_elasticity <= esubm``; '' if none."""
    if scale is None:
        return ""
    weak = []
    for i, r in scale.cells:
        a, c = b.coords.index(("sector", "region"), (i, r))
        if b.D0[a, c] < share * b.Y0[a, c] and scale.sigma[i] <= b.esubm[a]:
            weak.append(f"{i} in {r}")
    if not weak:
        return ""
    return (
        f"With scale economies at firm_elasticity <= esubm, {len(weak)} cell(s) selling less than "
        f"{share:.0%} of their output at home ({', '.join(weak[:8])}{', ...' if len(weak) > 8 else ''}) leave "
        f"firm numbers nearly indeterminate (docs/dynamics.md section 2.4): give firm_elasticity above "
        f"esubm for those sectors, or leave them at constant returns."
    )
