"""Income (MODEL.md section 5): factor income, tariff revenue and its sharing in a customs union
(MODEL.md section 7.3), the trade balance term (defined by the closure, :mod:`cge.model.closure`), and the
income index ``inc = INC / INC0``.

Tariff revenue is an unknown, ``TRS = revenue / INC0`` (a share of benchmark income), with its
own equation ``tariff_def``, so that revenue pooling adds regional totals, not every route of
the world.  The tax extension (docs/extensions.md section 4) changes the tariff base (the cif
value includes the export tax) and adds output and export tax revenue to income.  With scale
economies tariffs are levied on what firms ship (``x = V X``, docs/dynamics.md section 1); under the
steady-state capital closure capital earns ``W K FK0`` and the owners of the new capital receive
its net return (``net_capital_income``, section 4.3).
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.markets import capital_endowment
from cge.model.prices import export_price
from cge.model.structure import Structure
from cge.model.trade import shipped


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    _tariff_revenue(m, st)
    _factor_income(m, st)
    _revenue_sharing(m)
    if st.options.taxes:
        _tax_revenue(m, st)
    if st.capital is not None:
        _net_capital_income(m, st)
    INC0 = st.INC0
    m.income = pyo.Constraint(list(st.bm.regions), rule=lambda m, r: m.inc[r] == income_sources(m, st, r) / INC0[r])


def cif_price(m, st: Structure, i: str, s: str, r: str):
    """Value per delivered unit before the tariff: ``PY[i,s] (* (1 + te)) * tau``."""
    price = export_price(m, i, s)
    if st.options.taxes:
        price = price * (1 + m.te[i, s, r])
    return price * m.tau[i, s, r]


def _tariff_revenue(m: pyo.ConcreteModel, st: Structure) -> None:
    R, INC0, imports_of = list(st.bm.regions), st.INC0, st.sets.imports_of

    def collected(r):
        return sum(m.t[i, s, r] * cif_price(m, st, i, s, r) * shipped(m, i, s, r) for i, s in imports_of.get(r, []))

    m.tariff_def = pyo.Constraint(R, rule=lambda m, r: m.TRS[r] == collected(r) / INC0[r])
    m.tariff_revenue = pyo.Expression(R, rule=lambda m, r: INC0[r] * m.TRS[r], doc="tariff revenue collected")


def _factor_income(m: pyo.ConcreteModel, st: Structure) -> None:
    """Each region is paid for its own endowment; a net inflow NF of a pooled factor earns the
    host's price W and is bought from the pool at the union price WU (zero at both ends of the
    path: NF = 0 outside a common market, W = WU inside one), so the world budget closes."""
    sets, R = st.sets, list(st.bm.regions)
    fm_of = {r: [f for (f, rr) in sets.FM if rr == r] for r in R}
    fs_of = {r: [(f, j) for (f, j, rr) in sets.FS if rr == r] for r in R}
    m.factor_income = pyo.Expression(
        R,
        rule=lambda m, r: (
            sum(m.Wm[f, r] * capital_endowment(m, st, (f, r)) + (m.Wm[f, r] - m.WU[f]) * m.NF[f, r] for f in fm_of[r])
            + sum(m.Ws[f, j, r] * capital_endowment(m, st, (f, j, r)) for f, j in fs_of[r])
        ),
    )


def _revenue_sharing(m: pyo.ConcreteModel) -> None:
    """Customs union revenue sharing: pooled regions hand in their revenue and get a share back."""
    R = list(m.pool_in)
    m.pooled_revenue = pyo.Expression(expr=sum(m.pool_in[r] * m.tariff_revenue[r] for r in R))
    m.revenue_received = pyo.Expression(
        R, rule=lambda m, r: (1 - m.pool_in[r]) * m.tariff_revenue[r] + m.pool_share[r] * m.pooled_revenue
    )


def _tax_revenue(m: pyo.ConcreteModel, st: Structure) -> None:
    """Extension: export taxes (collected by the source) and output taxes."""
    sets, R, Y0 = st.sets, list(st.bm.regions), st.Y0
    exports_of = sets.exports_of
    m.export_tax_revenue = pyo.Expression(
        R,
        rule=lambda m, s: sum(
            m.te[i, s, r] * export_price(m, i, s) * m.tau[i, s, r] * shipped(m, i, s, r)
            for i, r in exports_of.get(s, [])
        ),
    )
    m.output_tax_revenue = pyo.Expression(
        R,
        rule=lambda m, r: sum(
            m.to[j, r] / (1 + m.to[j, r]) * m.PY[j, r] * m.Y[j, r] * Y0[(j, r)] for (j, rr) in sets.YR if rr == r
        ),
    )


def _net_capital_income(m: pyo.ConcreteModel, st: Structure) -> None:
    """docs/dynamics.md 4.3: the net return on the capital added in host h,
    ``G[h] = sum_c (K[c] - 1) (W[c] FK0[c] - PI[h] I0[c])``, goes to its owners by ``omega``;
    ``NFI[r] = sum_h omega[r,h] G[h] - G[r]``."""
    cap, R, cells = st.capital, list(st.bm.regions), st.capital_cells
    at = st.bm.coords.index

    def net_return(k):  # (K - 1) n[c] for one capital cell; mobile capital: all of its region's sectors
        if len(k) == 2:
            FK0, I0 = cap.FK0[:, at(("region",), k[1])[0]].sum(), cap.I0[:, at(("region",), k[1])[0]].sum()
        else:
            FK0, I0 = cap.FK0[at(("sector", "region"), k[1:])], cap.I0[at(("sector", "region"), k[1:])]
        W = m.Wm[k] if len(k) == 2 else m.Ws[k]
        return (m.K[k] - 1.0) * (W * float(FK0) - m.PU[k[-1]] * float(I0))

    m.capital_net_return_added = pyo.Expression(
        R, rule=lambda m, h: sum(net_return(k) for k in cells if k[-1] == h), doc="G[h]: net return on added capital"
    )

    def nfi(m, r):
        a = R.index(r)
        owned = sum(float(cap.omega[a, b]) * m.capital_net_return_added[h] for b, h in enumerate(R) if cap.omega[a, b])
        return owned - m.capital_net_return_added[r]

    m.net_capital_income = pyo.Expression(R, rule=nfi, doc="net capital income from abroad NFI")


def income_sources(m, st: Structure, r: str):
    """Everything region ``r`` receives: factor income, tariff revenue after sharing, the trade
    balance term, and (extension) tax revenue."""
    out = m.factor_income[r] + m.revenue_received[r]
    if st.options.taxes:
        out = out + m.export_tax_revenue[r] + m.output_tax_revenue[r]
    if st.capital is not None:
        out = out + m.net_capital_income[r]
    return out + m.trade_balance[r]
