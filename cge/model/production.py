"""Production (MODEL.md section 5): zero profit, Leontief between value added and each
intermediate, and the intermediate demand it implies.

Extensions change the unit cost and the input demands here: CES nests (``esubt`` between value
added and the intermediate bundle ``PINT``, ``esubc`` among intermediates; unit cost ``PC``), and
an output tax ``to`` (the producer receives ``PY / (1 + to)``).
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.ces import ces_price
from cge.model.structure import Structure


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    sets, ext = st.sets, st.extension_elasticities
    esubt, esubc = ext["esubt"], ext["esubc"]
    inputs_of, INT0, VA0, COST0, Y0 = st.inputs_of, st.intermediate_total, st.VA0, st.COST0, st.Y0
    m.PINT = pyo.Expression(
        [k for k in sets.NEST if INT0[k] > 0],
        rule=lambda m, j, r: ces_price([(a / INT0[(j, r)], m.PA[i, r]) for i, a in inputs_of[(j, r)]], esubc[j]),
        doc="intermediate bundle price (extension esubc)",
    )
    m.PC = pyo.Expression(
        sets.NEST,
        rule=lambda m, j, r: ces_price(
            [
                (VA0.get((j, r), 0.0) / COST0[(j, r)], m.PVA[j, r] if (j, r) in VA0 else 1.0),
                (INT0[(j, r)] / COST0[(j, r)], m.PINT[j, r] if INT0[(j, r)] > 0 else 1.0),
            ],
            esubt[j],
        ),
        doc="unit cost index (extension esubt)",
    )
    nested = st.nested

    def unit_cost(j, r):  # cost per unit of activity, as a share of Y0
        if (j, r) in nested:
            return COST0[(j, r)] / Y0[(j, r)] * m.PC[j, r]
        return sum(a / Y0[(j, r)] * m.PA[i, r] for i, a in inputs_of[(j, r)]) + (
            VA0[(j, r)] / Y0[(j, r)] * m.PVA[j, r] if (j, r) in VA0 else 0.0
        )

    def producer_price(m, j, r):
        return m.PY[j, r] / (1 + m.to[j, r]) if st.options.taxes else m.PY[j, r]

    m.zero_profit = pyo.Constraint(sets.YR, rule=lambda m, j, r: producer_price(m, j, r) == unit_cost(j, r))


def input_demand(m, st: Structure, i: str, j: str, a: float, r: str):
    """Intermediate ``i`` used by ``j`` in ``r`` (INTD), ``a`` its benchmark value."""
    if (j, r) not in st.nested:
        return a * m.Y[j, r]
    esubt, esubc = st.extension_elasticities["esubt"][j], st.extension_elasticities["esubc"][j]
    out = a * m.Y[j, r]
    if esubt != 0.0:
        out = out * (m.PC[j, r] / m.PINT[j, r]) ** esubt
    if esubc != 0.0:
        out = out * (m.PINT[j, r] / m.PA[i, r]) ** esubc
    return out
