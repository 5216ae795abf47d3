"""The unknowns of MODEL.md section 5 (indices, 1 in the benchmark, unless said otherwise)."""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.ces import LB
from cge.model.structure import Structure


def declare(m: pyo.ConcreteModel, st: Structure) -> dict:
    """Add the unknowns; returns the benchmark value of those that do not start at 1
    ({component name: value or {index: value}})."""
    sets, R = st.sets, list(st.bm.regions)
    m.PY = pyo.Var(sets.YR, initialize=1.0, bounds=(LB, None), doc="output price")
    m.Y = pyo.Var(sets.YR, initialize=1.0, bounds=(0.0, None), doc="activity level")
    m.PM = pyo.Var(sets.MR, initialize=1.0, bounds=(LB, None), doc="import price index")
    m.Wm = pyo.Var(sets.FM, initialize=1.0, bounds=(LB, None), doc="price of a mobile factor")
    m.Ws = pyo.Var(sets.FS, initialize=1.0, bounds=(LB, None), doc="price of a sector-specific factor")
    m.inc = pyo.Var(R, initialize=1.0, doc="income index INC/INC0")
    m.QA = pyo.Var(sets.AR, initialize=1.0, bounds=(0.0, None), doc="composite demand index A/A0")
    m.NF = pyo.Var(sets.FM, initialize=0.0, doc="net inflow of a pooled factor (benchmark value units)")
    m.WU = pyo.Var(sets.pooled_factors, initialize=1.0, bounds=(LB, None), doc="union-wide price of a pooled factor")
    if sets.CET:  # extension: CET between domestic sales and exports (docs/extensions.md section 3)
        m.PD = pyo.Var(sets.CET, initialize=1.0, bounds=(LB, None), doc="price of domestic sales (CET)")
        m.PE = pyo.Var(sets.CET, initialize=1.0, bounds=(LB, None), doc="price of exports (CET)")
    # tariff revenue is an unknown, TRS = revenue / INC0 (a share of benchmark income), with its
    # own equation (cge.model.income): union pooling then adds regional totals, not every route
    m.TRS = pyo.Var(R, initialize=st.trs0, doc="tariff revenue collected, as a share of benchmark income INC0")
    if st.scale is not None:  # docs/dynamics.md sections 2-3
        m.N = pyo.Var(st.scale.cells, initialize=1.0, bounds=(LB, None), doc="firms (Krugman) or entrants (Melitz)")
        m.NR = pyo.Var(st.scale.routes, initialize=1.0, bounds=(LB, None), doc="firms serving a route (Melitz)")
    if st.capital is not None:  # docs/dynamics.md section 4
        m.K = pyo.Var(st.capital_cells, initialize=1.0, bounds=(LB, None), doc="capital stock index (steady state)")
    return {"NF": 0.0, "TRS": st.trs0}
