"""Demand (MODEL.md section 5): final demand ``C``, composite demand ``A`` and factor demand ``FD``.

``A`` is kept as an unknown (the index ``QA = A / A0``, equation ``composite_demand``) so that the
sourcing demands depend on a few local unknowns: the Jacobian stays sparse (with ``A``
substituted, every trade flow would depend on every activity of its region).

Extensions change the expressions here: CES final demand (``esubfd``) and the production nest
(``esubt``: factor demand scales with ``(PC / PVA)^esubt``).
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.prices import factor_price
from cge.model.production import input_demand
from cge.model.structure import Structure


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    sets, ext = st.sets, st.extension_elasticities
    esubfd, esubt = ext["esubfd"], ext["esubt"]
    esubva = {i: st.sigma(m, "esubva", i) for i in st.bm.sectors}
    fd0, A0, F0, users_of = st.fd0, st.A0, st.F0, st.users_of

    def final_demand(m, i, r):
        if esubfd[r] == 1.0:
            return fd0.get((i, r), 0.0) * m.inc[r] / m.PA[i, r]
        return fd0.get((i, r), 0.0) * m.inc[r] / m.PU[r] * (m.PU[r] / m.PA[i, r]) ** esubfd[r]

    m.C = pyo.Expression(
        sets.AR, rule=final_demand, doc="final demand C = beta * INC / PA (CES: times (PU/PA)^(esubfd-1))"
    )
    m.A = pyo.Expression(sets.AR, rule=lambda m, i, r: A0[(i, r)] * m.QA[i, r], doc="composite demand A")
    m.composite_demand = pyo.Constraint(
        sets.AR,
        rule=lambda m, i, r: (
            m.QA[i, r] == (sum(input_demand(m, st, i, j, a, r) for j, a in users_of[(i, r)]) + m.C[i, r]) / A0[(i, r)]
        ),
    )

    def factor_demand(m, f, j, r):
        out = F0[(f, j, r)] * m.Y[j, r]
        if (j, r) in st.nested and esubt[j] != 0.0:
            out = out * (m.PC[j, r] / m.PVA[j, r]) ** esubt[j]
        return out * (m.PVA[j, r] / factor_price(m, st, f, j, r)) ** esubva[j]

    m.FD = pyo.Expression(sets.FU, rule=factor_demand, doc="factor demand")
