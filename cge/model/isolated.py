"""Isolated cells (an implementation note to MODEL.md section 5, not a change to the model).

A cell of :attr:`cge.model.sets.Sets.ISOLATED` buys from and sells to nothing but the isolated
cells of its region: no value added, no trade, no final demand (china-provinces: sector GDT in
Qinghai, whose whole output is its own intermediate input).  Its zero profit condition then reads
``PY = PY`` and its market clearing ``Y = Y`` (through the composite demand): they hold at any
price and any activity level, so the Jacobian is singular, and no other equation reads the
cell's price or activity.  The cell's zero profit and output clearing equations are therefore
replaced by ``PY = PNUM`` and ``Y = 1``: its benchmark, in units of the numeraire.  That point
satisfies the replaced equations exactly (every relative price of the group is 1, so it breaks
even, and every activity is 1, so its market clears), so every result of every other cell is the
one MODEL.md's equations give, and the system has a unique solution.
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.structure import Structure


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    cells = st.sets.ISOLATED
    m.isolated_price = pyo.Constraint(cells, rule=lambda m, j, r: m.PY[j, r] == m.PNUM)
    m.isolated_activity = pyo.Constraint(cells, rule=lambda m, j, r: m.Y[j, r] == 1.0)
    for k in cells:
        m.zero_profit[k].deactivate()
        m.output_clearing[k].deactivate()
