"""Prices (MODEL.md section 5): gross import prices ``PG``, the import price index ``PM`` (an
unknown with its CES equation ``pm_def``), the composite price ``PA``, the value-added price
``PVA`` and the utility price ``PU`` (expressions: closed-form CES unit costs of local prices,
which keeps the system small).

Extensions change the expressions here: export taxes ``te`` enter the gross import price, the CET
(docs/extensions.md section 3) gives domestic buyers the price ``PD`` and foreign buyers ``PE``
instead of ``PY``, CES final demand (``esubfd``) the utility price.  Scale economies
(docs/dynamics.md section 1) multiply the price of each source's composite by its variety factor
``V`` (:func:`source_price`).
"""

from __future__ import annotations

import pyomo.core as pyo

from cge.model.ces import ces_price
from cge.model.structure import Structure


def factor_price(m, st: Structure, f: str, j: str, r: str):
    """``W[f,r]`` for a mobile factor, ``W[f,j,r]`` for a specific one."""
    return m.Wm[f, r] if st.sets.mobile[f] else m.Ws[f, j, r]


def domestic_price(m, i: str, r: str):
    """What domestic buyers pay: ``PY``, or the CET's domestic price ``PD``."""
    return m.PD[i, r] if hasattr(m, "PD") and (i, r) in m.PD else m.PY[i, r]


def export_price(m, i: str, r: str):
    """What foreign buyers pay before export taxes: ``PY``, or the CET's export price ``PE``."""
    return m.PE[i, r] if hasattr(m, "PE") and (i, r) in m.PE else m.PY[i, r]


def variety(m, i: str, s: str, d: str):
    """The variety factor ``V[i,s,d]`` of source s's composite in d, or None under constant returns."""
    return m.V[i, s, d] if hasattr(m, "V") and (i, s, d) in m.V else None


def source_price(m, st: Structure, i: str, s: str, d: str):
    """The price index of source s's composite of i in d (docs/dynamics.md section 1): ``PG/PG0``
    for imports, ``PY`` (or the CET's ``PD``) for domestic sales, times ``V`` with scale economies."""
    p = domestic_price(m, i, d) if s == d else m.PG[i, s, d] / st.PG0[(i, s, d)]
    v = variety(m, i, s, d)
    return p if v is None else p * v


def _variety(m: pyo.ConcreteModel, st: Structure) -> None:
    """docs/dynamics.md 2.1 (Krugman: ``N^(1/(1-sigma))``) and 3.1 (Melitz:
    ``NR^(1/(1-sigma)) * (NR/N)^(1/a)``), on every route of a scale-economy cell with trade."""
    sc, trade = st.scale, st.trade
    if sc is None:
        return

    def factor(m, i, s, d):
        e = 1.0 / (1.0 - sc.sigma[i])
        if sc.kind[i] == "krugman":
            return m.N[i, s] ** e
        return m.NR[i, s, d] ** e * (m.NR[i, s, d] / m.N[i, s]) ** (1.0 / sc.shape[i])

    routes = [(i, s, d) for i, s in sc.cells for d in st.bm.regions if (i, s, d) in trade]
    m.V = pyo.Expression(routes, rule=factor, doc="variety (and productivity) factor of a source's composite")


def add(m: pyo.ConcreteModel, st: Structure) -> None:
    _variety(m, st)
    sets, R, I = st.sets, list(st.bm.regions), list(st.bm.sectors)
    esubd = {i: st.sigma(m, "esubd", i) for i in I}
    esubm = {i: st.sigma(m, "esubm", i) for i in I}
    esubva = {i: st.sigma(m, "esubva", i) for i in I}
    esubfd = st.extension_elasticities["esubfd"]
    taxes = st.options.taxes

    def gross_import_price(m, i, s, r):  # PG = PY[i,s] (* (1 + te)) * tau * (1 + t)
        price = export_price(m, i, s)
        if taxes:
            price = price * (1 + m.te[i, s, r])
        return price * m.tau[i, s, r] * (1 + m.t[i, s, r])

    m.PG = pyo.Expression(
        sets.ROUTES,
        rule=gross_import_price,
        doc="gross import price PG = PY[i,s] * tau * (1 + t) (export taxes: * (1 + te))",
    )
    routes_into, thM = sets.routes_into, st.thM
    m.pm_def = pyo.Constraint(
        sets.MR,
        rule=lambda m, i, r: (
            m.PM[i, r]
            == ces_price([(thM[(i, s, r)], source_price(m, st, i, s, r)) for s in routes_into[(i, r)]], esubm[i])
        ),
    )

    thD, D0, M0 = st.thD, st.D0, st.M0

    def composite_price(m, i, r):
        terms = []
        if (i, r) in D0:
            terms.append((thD[(i, r)], source_price(m, st, i, r, r)))
        if (i, r) in M0:
            terms.append((1.0 - thD.get((i, r), 0.0), m.PM[i, r]))
        return ces_price(terms, esubd[i])

    m.PA = pyo.Expression(sets.AR, rule=composite_price, doc="Armington composite price (CES of PY and PM)")
    factors_of, thF = sets.factors_of, st.thF
    m.PVA = pyo.Expression(
        sets.VR,
        rule=lambda m, j, r: ces_price(
            [(thF[(f, j, r)], factor_price(m, st, f, j, r)) for f in factors_of[(j, r)]], esubva[j]
        ),
        doc="value-added price (CES of factor prices)",
    )
    beta = st.beta
    m.PU = pyo.Expression(
        R,
        rule=lambda m, r: ces_price([(beta[(i, r)], m.PA[i, r]) for i in I if (i, r) in beta], esubfd[r]),
        doc="utility price (Cobb-Douglas over composites; CES with the esubfd extension)",
    )
