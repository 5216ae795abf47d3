"""The unknowns and equations of the system by their MODEL.md names, for messages.

Pyomo's component names are the code's (``Wm[res,SHH]``, ``QA[MAN,CHN]``); a message about the
system (a singular Jacobian, a fallback to IPOPT) names them as MODEL.md section 5 does, with
their labels: ``W['res', 'SHH'] (factor price)``, ``market clearing for output
output_clearing['GDT', 'QIH']``.
"""

from __future__ import annotations

#: Pyomo variable -> (MODEL.md symbol, what it is)
UNKNOWNS = {
    "PY": ("PY", "output price"),
    "Y": ("Y", "activity"),
    "PM": ("PM", "import price index"),
    "Wm": ("W", "price of a mobile factor"),
    "Ws": ("W", "price of a specific factor"),
    "inc": ("INC", "income, as the index INC/INC0"),
    "QA": ("A", "composite demand, as the index A/A0"),
    "NF": ("NF", "net inflow of a pooled factor, section 7.4"),
    "WU": ("WU", "union-wide price of a pooled factor, section 7.4"),
    "TRS": ("TRS", "tariff revenue, as a share of INC0"),
    "PD": ("PD", "price of domestic sales, CET extension"),
    "PE": ("PE", "price of exports, CET extension"),
}
#: Pyomo constraint -> the MODEL.md equation it states
EQUATIONS = {
    "pm_def": "import price index PM",
    "zero_profit": "zero profit",
    "composite_demand": "composite demand A",
    "output_clearing": "market clearing for output",
    "factor_clearing_mobile": "factor market clearing (mobile factor)",
    "factor_clearing_specific": "factor market clearing (specific factor)",
    "factor_pool_link": "common market: one union-wide factor price, section 7.4",
    "factor_pool_clearing": "common market: union-wide factor clearing, section 7.4",
    "tariff_def": "tariff revenue in income",
    "income": "income INC",
    "numeraire": "numeraire",
    "cet_price": "CET price, extension",
    "cet_split": "CET supply split, extension",
    "isolated_price": "price of an isolated cell (cge.model.isolated)",
    "isolated_activity": "activity of an isolated cell (cge.model.isolated)",
}


def labels(index) -> str:
    """``('res', 'SHH')`` -> ``['res', 'SHH']``; no index -> ``''``."""
    if index is None:
        return ""
    index = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(repr(str(k)) for k in index) + "]"


def _parts(item) -> tuple:
    """(component name, index) of a Pyomo variable or constraint, or of a ``(name, index)`` label
    (the model on arrays, :mod:`cge.model.arrays`)."""
    if isinstance(item, tuple):
        return item
    return item.parent_component().local_name, item.index()


def unknown(var) -> str:
    """An unknown by its MODEL.md symbol and labels, e.g. ``W['res', 'SHH'] (price of a mobile factor)``."""
    name, index = _parts(var)
    symbol, what = UNKNOWNS.get(name, (name, "unknown"))
    return f"{symbol}{labels(index)} ({what})"


def equation(con) -> str:
    """An equation by its name and labels, and the MODEL.md equation it states, e.g.
    ``output_clearing['GDT', 'QIH'] (market clearing for output)``."""
    name, index = _parts(con)
    return f"{name}{labels(index)} ({EQUATIONS.get(name, 'equation')})"


def label(component: str, index) -> str:
    """A component and index as Pyomo names them: ``('PY', ('MAN', 'CHN'))`` -> ``PY[MAN,CHN]``."""
    return component if index is None else f"{component}[{','.join(map(str, index))}]"
