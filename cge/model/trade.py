"""Trade (MODEL.md section 5): sourcing of the composite, domestic sales ``D``, the import
composite ``M`` and delivered imports ``X`` by source (CES demands).

The CET extension (docs/extensions.md section 3) changes the domestic price that ``D`` responds to
(``PD`` instead of ``PY``), scale economies (docs/dynamics.md section 1) the price of each
source's composite (:func:`cge.model.prices.source_price`).  With scale economies ``D`` and ``X``
are composite quantities; firms ship ``x = V X`` (:func:`shipped`).
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.prices import source_price, variety
from cge.model.structure import Structure


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    sets, I = st.sets, st.bm.sectors
    esubd = {i: st.sigma(m, "esubd", i) for i in I}
    esubm = {i: st.sigma(m, "esubm", i) for i in I}
    D0, M0, X0 = st.D0, st.M0, st.X0
    m.D = pyo.Expression(
        sets.DR,
        rule=lambda m, i, r: D0[(i, r)] * m.QA[i, r] * (m.PA[i, r] / source_price(m, st, i, r, r)) ** esubd[i],
        doc="domestic sales",
    )
    m.M = pyo.Expression(
        sets.MR,
        rule=lambda m, i, r: M0[(i, r)] * m.QA[i, r] * (m.PA[i, r] / m.PM[i, r]) ** esubd[i],
        doc="import composite",
    )
    m.X = pyo.Expression(
        sets.ROUTES,
        rule=lambda m, i, s, r: (
            X0[(i, s, r)] * (m.M[i, r] / M0[(i, r)]) * (m.PM[i, r] / source_price(m, st, i, s, r)) ** esubm[i]
        ),
        doc="delivered imports from s",
    )


def shipped(m, i: str, s: str, d: str):
    """What source s's firms deliver to d, in firm-output units: ``x = V X`` (``V D`` domestic);
    ``X`` (``D``) under constant returns (docs/dynamics.md section 1)."""
    q = m.D[i, d] if s == d else m.X[i, s, d]
    v = variety(m, i, s, d)
    return q if v is None else v * q
