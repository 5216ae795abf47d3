"""The model's flows and accounts in numpy, evaluated from a solution's prices and activities.

Evaluating the nested Pyomo expressions cell by cell is slow (Python walks every tree); these
vectorised formulas give the same flows (MODEL.md section 5, same units as :mod:`cge.model.ces`) in
milliseconds, and their market balances are an accounting check on the solution: the results
report the dropped market's residual (Walras) computed here.

Arrays: (sector, region) for commodities and activities, (sector, source, dest) for routes,
(factor, sector, region) for factors.  Cells with no benchmark flow are zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cge.model.benchmark import Benchmark


def _pow(base: np.ndarray, expo, where: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast(base, where).shape)
    b = np.broadcast_to(base, out.shape)
    e = np.broadcast_to(np.asarray(expo, float), out.shape)
    np.power(b, e, out=out, where=where)
    return out


def _div(a, b, where):
    out = np.zeros(np.broadcast(a, b, where).shape)
    np.divide(np.broadcast_to(a, out.shape), np.broadcast_to(b, out.shape), out=out, where=where)
    return out


@dataclass
class Accounts:
    PG: np.ndarray  # (i, s, r) gross import price
    C: np.ndarray  # (i, r) final demand
    A: np.ndarray  # (i, r) composite demand
    D: np.ndarray  # (i, r) domestic sales
    M: np.ndarray  # (i, r) import composite
    X: np.ndarray  # (i, s, r) delivered imports
    FD: np.ndarray  # (f, j, r) factor demand
    INTD: np.ndarray  # (i, j, r) intermediate demand
    PU: np.ndarray  # (r,) utility price
    tariff_revenue: np.ndarray  # (r,) collected
    revenue_received: np.ndarray  # (r,) after union pooling
    factor_income: np.ndarray  # (r,) own endowments at W (before factor-pool settlements)
    export_tax_revenue: np.ndarray  # (r,) collected by the source (extension)
    output_tax_revenue: np.ndarray  # (r,) (extension)
    excess_value: np.ndarray  # (i, r) PY*Y*Y0 - PD*D - PE*sum_s tau X[i,r,s], currency units
    x: np.ndarray  # (i, s, r) what firms ship, V X (diagonal V D): = X and D under constant returns


def _ces(theta: np.ndarray, p: np.ndarray, sigma: np.ndarray, axis: int) -> np.ndarray:
    """CES price index over ``axis`` (Cobb-Douglas where sigma == 1); cells with theta == 0 ignored."""
    pos = theta > 0
    lp = np.log(np.where(pos, p, 1.0))
    cd = np.exp(np.where(pos, theta * lp, 0.0).sum(axis=axis))
    s = np.take(np.broadcast_to(sigma, theta.shape), 0, axis=axis)
    e = np.where(s == 1.0, 1.0, 1.0 - s)
    gen = np.where(pos, theta * np.exp(np.expand_dims(e, axis) * lp), 0.0).sum(axis=axis)
    gen = np.power(np.where(gen > 0, gen, 1.0), 1.0 / e)
    return np.where(s == 1.0, cd, gen)


def prices(b: Benchmark, PY, PM, W, PD=None):
    """The composite price PA (i, r) and value-added price PVA (j, r) from PY (or the CET's
    domestic price PD where given), PM and W (f, j, r)."""
    PY, PM, W = (np.nan_to_num(v, nan=1.0) for v in (PY, PM, W))
    PDd = PY if PD is None else np.nan_to_num(PD, nan=1.0)
    th = np.stack([b.thD, np.where(b.M0 > 0, 1.0 - b.thD, 0.0)])  # (2, i, r)
    PA = _ces(th, np.stack([PDd, PM]), b.esubd[None, :, None], axis=0)
    PVA = _ces(b.thF, W, b.esubva[None, :, None], axis=0)
    return np.where(b.A0 > 0, PA, np.nan), np.where(b.VA0 > 0, PVA, np.nan)


def evaluate(b: Benchmark, ins, PY, Y, PA, PM, PVA, W, inc, PD=None, PE=None, V=None) -> Accounts:
    """Flows given the unknowns: PY, Y, PA, PM, PVA (i, r); W (f, j, r); inc (r) = INC/INC0;
    PD, PE (i, r) the CET's domestic and export prices (``None``: PY); V (i, s, r) the variety
    factors of scale economies (docs/dynamics.md; ``None``: constant returns), with PD then the
    price of the domestic composite ``PY V[i,r,r]``."""
    off = b.offdiag
    PY, PA, PM, PVA, W = (np.nan_to_num(v, nan=1.0) for v in (PY, PA, PM, PVA, W))
    PDd = PY if PD is None else np.nan_to_num(PD, nan=1.0)
    PEx = PY if PE is None else np.nan_to_num(PE, nan=1.0)
    Y = np.nan_to_num(Y)
    te = np.where(off, ins.export_tax, 0.0)
    cif = np.where(off, PEx[:, :, None] * (1.0 + te) * ins.tau, 0.0)  # per delivered unit
    PG = cif * (1.0 + ins.tariff)
    INTD, f_va = _production(b, Y, PA, PVA)
    PU, C = _final_demand(b, PA, inc)
    A = INTD.sum(axis=1) + C
    D, M, X = _trade(b, A, PA, PDd, PM, PG, V)
    has_F = b.F0 > 0
    FD = np.where(
        has_F, b.F0 * Y[None] * f_va[None] * _pow(_div(PVA[None], W, has_F), b.esubva[None, :, None], has_F), 0.0
    )
    x = X if V is None else np.where(off, V * X, 0.0)
    rev = (np.where(off, ins.tariff, 0.0) * cif * x).sum(axis=(0, 1))
    received = (1 - ins.revenue_pool) * rev + ins.revenue_share * (ins.revenue_pool * rev).sum()
    factor_income = (W * b.F0 * ins.endowment).sum(axis=(0, 1))
    shipped = ins.tau * x  # quantity leaving s
    export_tax_revenue = (te * PEx[:, :, None] * shipped).sum(axis=(0, 2))
    to = ins.output_tax
    output_tax_revenue = (_div(to, 1.0 + to, b.Y0 > 0) * PY * Y * b.Y0).sum(axis=0)
    exports = np.where(off, shipped, 0.0).sum(axis=2)
    excess = PY * Y * b.Y0 - PDd * D - PEx * exports
    if V is not None:
        x = x.copy()
        x[:, np.arange(len(b.regions)), np.arange(len(b.regions))] = np.einsum("irr->ir", V) * D
    return Accounts(
        PG, C, A, D, M, X, FD, INTD, PU, rev, received, factor_income, export_tax_revenue, output_tax_revenue, excess, x
    )


def _production(b: Benchmark, Y, PA, PVA):
    """Intermediate demands INTD (i, j, r) and the value-added demand factor (j, r) (extension:
    nests esubt, esubc; with both 0 the core's Leontief demands)."""
    inter = b.intermediate
    INT0 = inter.sum(axis=0)
    nest = ((b.esubt_ != 0) | (b.esubc_ != 0))[:, None] & (b.Y0 > 0)  # (j, r)
    PINT = _ces(_div(inter, INT0[None], INT0[None] > 0), PA[:, None, :], b.esubc_[None, :, None], axis=0)
    thVA = _div(b.VA0, b.COST0, b.COST0 > 0)
    PC = _ces(
        np.stack([thVA, _div(INT0, b.COST0, b.COST0 > 0)]), np.stack([PVA, PINT]), b.esubt_[None, :, None], axis=0
    )
    et, ec = b.esubt_[:, None], b.esubc_[None, :, None]
    f_top = np.where(nest, _pow(_div(PC, PINT, nest), et, nest & (INT0 > 0)), 1.0)  # (j, r)
    f_int = np.where(
        nest[None], _pow(_div(PINT[None], PA[:, None, :], nest[None] & (inter > 0)), ec, nest[None] & (inter > 0)), 1.0
    )  # (i, j, r)
    INTD = inter * Y[None] * f_top[None] * f_int
    f_va = np.where(nest, _pow(_div(PC, PVA, nest & (b.VA0 > 0)), et, nest & (b.VA0 > 0)), 1.0)
    return INTD, f_va


def _final_demand(b: Benchmark, PA, inc):
    """The utility price PU (r) and final demand C (i, r) (extension esubfd; 1 = the core's Cobb-Douglas)."""
    has_A = b.A0 > 0
    sfd = b.esubfd_
    PU = _ces(b.beta, np.where(has_A, PA, 1.0), sfd[None, :], axis=0)
    C_cd = _div(b.final_demand * inc[None, :], PA, has_A)
    C_ces = _div(b.final_demand * inc[None, :], PU[None, :], has_A) * _pow(
        _div(PU[None, :], PA, has_A), sfd[None, :], has_A
    )
    return PU, np.where(sfd[None, :] == 1.0, C_cd, C_ces)


def _trade(b: Benchmark, A, PA, PDd, PM, PG, V):
    """Armington demands: domestic D and imports M (i, r) of the composite A, imports X (i, s, r) by source."""
    has_X, has_D, has_M, has_A = b.X0 > 0, b.D0 > 0, b.M0 > 0, b.A0 > 0
    sd, sm = b.esubd[:, None], b.esubm[:, None, None]
    D = np.where(has_D, b.D0 * _div(A, b.A0, has_A) * _pow(_div(PA, PDd, has_D), sd, has_D), 0.0)
    M = np.where(has_M, b.M0 * _div(A, b.A0, has_M) * _pow(_div(PA, PM, has_M), sd, has_M), 0.0)
    rel = _div(PG, b.PG0, has_X)
    if V is not None:
        rel = rel * V
    X = np.where(
        has_X, b.X0 * _div(M, b.M0, has_M)[:, None, :] * _pow(_div(PM[:, None, :], rel, has_X), sm, has_X), 0.0
    )
    return D, M, X
