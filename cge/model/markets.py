"""Markets (MODEL.md section 5): output clearing, factor clearing (mobile and specific), and the
common market's pooled factors (MODEL.md section 7.4).  One output market is dropped (Walras):
:attr:`cge.model.structure.Structure.dropped`.

The CET extension (docs/extensions.md section 3) changes output clearing into the CET's value
balance and adds its price (``cet_price``) and supply split (``cet_split``).  Scale economies
(docs/dynamics.md sections 2.3, 3.3) change output clearing into the market for the input bundle
(fixed, entry and variable costs) and add free entry (``free_entry``) and, for Melitz, the
zero-cut-off-profit condition on every route (``zero_cutoff_profit``).  The steady-state capital
closure (section 4.2) makes the capital stock ``K`` clear the capital market and adds the rental
rule (``rental_rule``).
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.ces import ces_price
from cge.model.structure import Structure
from cge.model.trade import shipped


def exports(m, st: Structure, i: str, r: str):
    """Quantity of ``i`` leaving ``r`` for all destinations (``sum_s tau * X``)."""
    return sum(m.tau[i, r, s] * m.X[i, r, s] for s in st.routes_from[(i, r)])


def firm_output(m, st: Structure, i: str, r: str):
    """Output of r's firms in firm-output (bundle) units, ``sum_s tau x[i,r,s]`` (docs/dynamics.md)."""
    dom = shipped(m, i, r, r) if (i, r) in st.D0 else 0.0
    return dom + sum(m.tau[i, r, s] * shipped(m, i, r, s) for s in st.routes_from[(i, r)])


def bundle_demand(m, st: Structure, i: str, r: str):
    """Bundles used by the firms of a scale-economy cell, as a share of ``Y0`` (docs/dynamics.md
    2.3: fixed plus variable costs; 3.3: entry, route fixed and variable costs)."""
    sc, Y0 = st.scale, st.Y0[(i, r)]
    assert sc is not None
    sigma = sc.sigma[i]
    variable = (sigma - 1.0) / sigma * firm_output(m, st, i, r) / Y0
    if sc.kind[i] == "krugman":
        return m.N[i, r] / sigma + variable
    a, trade = sc.shape[i], st.trade
    fixed = sum(m.NR[i, r, s] * trade[(i, r, s)] for s in st.bm.regions if (i, r, s) in sc.route_set) / Y0
    return m.N[i, r] * (sigma - 1.0) / (a * sigma) + fixed * (a + 1.0 - sigma) / (a * sigma) + variable


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    _output(m, st)
    _cet(m, st)
    _entry(m, st)
    _factors(m, st)
    _capital(m, st)


def _output(m: pyo.ConcreteModel, st: Structure) -> None:
    Y0, D0, cet = st.Y0, st.D0, st.cet
    scale = st.scale.cell_set if st.scale is not None else frozenset()

    def clearing(m, i, r):
        if (i, r) in scale:  # the bundle market (docs/dynamics.md sections 2.3, 3.3)
            return m.Y[i, r] == bundle_demand(m, st, i, r)
        if (i, r) in cet:  # value balance of the CET (docs/extensions.md section 3)
            return (
                m.Y[i, r]
                == (m.PD[i, r] / m.PY[i, r] * m.D[i, r] + m.PE[i, r] / m.PY[i, r] * exports(m, st, i, r)) / Y0[(i, r)]
            )
        return m.Y[i, r] == ((m.D[i, r] if (i, r) in D0 else 0.0) + exports(m, st, i, r)) / Y0[(i, r)]

    m.output_clearing = pyo.Constraint(st.sets.YR, rule=clearing)


def _cet(m: pyo.ConcreteModel, st: Structure) -> None:
    D0, Y0, E0x, etrans = st.D0, st.Y0, st.exports0, st.extension_elasticities["etrans"]
    m.cet_price = pyo.Constraint(
        st.sets.CET,
        rule=lambda m, i, r: (
            m.PY[i, r]
            == ces_price(  # CET = CES at -eta
                [(D0[(i, r)] / Y0[(i, r)], m.PD[i, r]), (1.0 - D0[(i, r)] / Y0[(i, r)], m.PE[i, r])], -etrans[i]
            )
        ),
    )
    m.cet_split = pyo.Constraint(
        st.sets.CET,
        rule=lambda m, i, r: (  # supply ratio ES/E0 : DS/D0 = (PE/PD)^eta
            exports(m, st, i, r) / E0x[(i, r)] == m.D[i, r] / D0[(i, r)] * (m.PE[i, r] / m.PD[i, r]) ** etrans[i]
        ),
    )


def _entry(m: pyo.ConcreteModel, st: Structure) -> None:
    """Free entry (docs/dynamics.md 2.2; 3.2 with the zero-cut-off-profit condition substituted):
    sales per firm or entrant in bundle units are constant, ``sum_s tau x = N Y0``; Melitz's
    cut-off condition on every route: ``tau x[i,r,s] / trade[i,r,s] = NR[i,r,s]``."""
    sc = st.scale
    if sc is None:
        return
    Y0, trade = st.Y0, st.trade
    m.free_entry = pyo.Constraint(sc.cells, rule=lambda m, i, r: firm_output(m, st, i, r) / Y0[(i, r)] == m.N[i, r])

    def cutoff(m, i, r, s):
        ship = shipped(m, i, r, s) if r == s else m.tau[i, r, s] * shipped(m, i, r, s)
        return ship / trade[(i, r, s)] == m.NR[i, r, s]

    m.zero_cutoff_profit = pyo.Constraint(sc.routes, rule=cutoff)


def capital_endowment(m, st: Structure, key: tuple):
    """The endowment of a factor cell: the instrument, or ``K`` times the benchmark for steady-state
    capital (docs/dynamics.md section 4.2)."""
    if hasattr(m, "K") and key in m.K:
        return m.K[key] * (st.E0[key] if len(key) == 2 else st.F0[key])
    return m.endow_m[key] if len(key) == 2 else m.endow_s[key]


def _capital(m: pyo.ConcreteModel, st: Structure) -> None:
    """The rental rule: each capital cell's rental rate equals the price of investment ``PI = PU``."""
    if st.capital is None:
        return
    m.rental_rule = pyo.Constraint(
        st.capital_cells,
        rule=lambda m, *k: (m.Wm[k] if len(k) == 2 else m.Ws[k]) == m.PU[k[-1]],
    )


def _factors(m: pyo.ConcreteModel, st: Structure) -> None:
    sets, E0, F0, users = st.sets, st.E0, st.F0, st.sets.mobile_users
    m.factor_clearing_mobile = pyo.Constraint(
        sets.FM,
        rule=lambda m, f, r: (
            sum(m.FD[f, j, r] for j in users[(f, r)]) / E0[(f, r)]
            == (capital_endowment(m, st, (f, r)) + m.NF[f, r]) / E0[(f, r)]
        ),
    )
    # common market (MODEL.md section 7.4): a pooled factor has one union-wide price WU and
    # clears union-wide (net inflows sum to zero); elsewhere the net inflow is zero.
    # (a pooling share fpool between 0 and 1, used on the path of the welfare decomposition, is
    # partial mobility: the net inflow NF is proportional to the gap W - WU)
    m.factor_pool_link = pyo.Constraint(
        sets.FM,
        rule=lambda m, f, r: (1 - m.fpool[f, r]) * m.NF[f, r] / E0[(f, r)] == m.fpool[f, r] * (m.Wm[f, r] - m.WU[f]),
    )
    e_tot = st.pooled_endowment0
    m.factor_pool_clearing = pyo.Constraint(
        sets.pooled_factors,
        rule=lambda m, f: (
            sum(m.fpool[k] * m.NF[k] for k in sets.FM if k[0] == f) / e_tot[f] + (1 - m.any_fpool[f]) * (m.WU[f] - 1)
            == 0
        ),
    )
    m.factor_clearing_specific = pyo.Constraint(
        sets.FS,
        rule=lambda m, f, j, r: m.FD[f, j, r] / F0[(f, j, r)] == capital_endowment(m, st, (f, j, r)) / F0[(f, j, r)],
    )
