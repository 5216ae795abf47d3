"""The closure (MODEL.md section 5; docs/extensions.md section 5): the trade balance term of
income and the numeraire.

MODEL.md's closure fixes each region's trade deficit ``B[r]`` in units of the numeraire ``PNUM``,
the benchmark-weighted world average factor price (GTAP's pfactwld).  The options may fix the
deficit as a share of world income instead, or choose another numeraire (a region's utility price
or a region's factor price).  The closure as a named object that travels with the results is
:class:`cge.scenario.options.Closure`.
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.structure import Structure


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    _trade_balance(m, st)
    _numeraire(m, st)


def _trade_balance(m: pyo.ConcreteModel, st: Structure) -> None:
    R, B, INC0 = list(st.bm.regions), st.B, st.INC0
    if st.options.trade_balance == "numeraire":
        m.trade_balance = pyo.Expression(
            R, rule=lambda m, r: B[r] * m.PNUM, doc="trade deficit fixed in numeraire units"
        )
    else:
        winc0 = float(sum(INC0.values()))
        m.trade_balance = pyo.Expression(
            R,
            rule=lambda m, r: B[r] / winc0 * sum(INC0[s] * m.inc[s] for s in R),
            doc="trade deficit fixed as a share of world income",
        )


def _numeraire(m: pyo.ConcreteModel, st: Structure) -> None:
    kind = st.options.numeraire[0]
    if kind == "utility_price":
        m.numeraire = pyo.Constraint(expr=m.PU[st.options.numeraire[1]] == m.PNUM)
        return
    fm, fs, E0, F0 = st.sets.FM, st.sets.FS, st.E0, st.F0
    if kind == "factor_price":
        region, factor = st.options.numeraire[1], st.options.numeraire[2]
        fm = [k for k in fm if k[1] == region and factor in (None, k[0])]
        fs = [k for k in fs if k[2] == region and factor in (None, k[0])]
    wsum = sum(E0[k] for k in fm) + sum(F0[k] for k in fs)
    m.numeraire = pyo.Constraint(
        expr=(sum(E0[k] * m.Wm[k] for k in fm) + sum(F0[k] * m.Ws[k] for k in fs)) / wsum == m.PNUM
    )
