"""Markets (MODEL.md section 5): output clearing, factor clearing (mobile and specific), and the
common market's pooled factors (MODEL.md section 7.4).  One output market is dropped (Walras):
:attr:`cge.model.structure.Structure.dropped`.

The CET extension (docs/extensions.md section 3) changes output clearing into the CET's value
balance and adds its price (``cet_price``) and supply split (``cet_split``).
"""

from __future__ import annotations

import pyomo.environ as pyo

from cge.model.ces import ces_price
from cge.model.structure import Structure


def exports(m, st: Structure, i: str, r: str):
    """Quantity of ``i`` leaving ``r`` for all destinations (``sum_s tau * X``)."""
    return sum(m.tau[i, r, s] * m.X[i, r, s] for s in st.routes_from[(i, r)])


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    _output(m, st)
    _cet(m, st)
    _factors(m, st)


def _output(m: pyo.ConcreteModel, st: Structure) -> None:
    Y0, D0, cet = st.Y0, st.D0, st.cet

    def clearing(m, i, r):
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


def _factors(m: pyo.ConcreteModel, st: Structure) -> None:
    sets, E0, F0, users = st.sets, st.E0, st.F0, st.sets.mobile_users
    m.factor_clearing_mobile = pyo.Constraint(
        sets.FM,
        rule=lambda m, f, r: (
            sum(m.FD[f, j, r] for j in users[(f, r)]) / E0[(f, r)] == (m.endow_m[f, r] + m.NF[f, r]) / E0[(f, r)]
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
        sets.FS, rule=lambda m, f, j, r: m.FD[f, j, r] / F0[(f, j, r)] == m.endow_s[f, j, r] / F0[(f, j, r)]
    )
