"""The two building blocks every equation block uses: CES unit costs, and instruments.

Units, stated once for the whole model: every price and activity is an index equal to 1 in the
benchmark; quantities (``D``, ``M``, ``X``, ``A``, ``C``, ``FD``) are in benchmark-value units
(currency units at benchmark prices, so e.g. ``X0 = trade``); income enters as the index
``inc = INC / INC0``.  Each equation is divided by its benchmark value, so residuals are relative
(1e-8 means 1e-8 of the benchmark flow of that market or account).
"""

from __future__ import annotations

import numpy as np

#: lower bound of every price and activity index (keeps CES powers real)
LB = 1e-9


def instrument(*index, initialize, doc):
    """A scenario instrument or elasticity: a Pyomo variable held fixed, so that it is a mutable
    parameter of the system.

    A fixed variable rather than a mutable ``Param`` so that the model file the Newton solver
    evaluates (:mod:`cge.solve.newton`) can carry instruments as variables: it is written once per
    model and a counterfactual only changes their values.  Pyomo's IPOPT route writes fixed
    variables as constants, exactly like parameters.
    """
    import pyomo.core as pyo

    return pyo.Var(*index, initialize=initialize, doc=doc, dense=True)


def ces_price(terms, sigma):
    """CES unit cost ``(sum theta * p^(1-sigma))^(1/(1-sigma))`` for ``terms = [(theta, p), ...]``.

    ``p`` are prices relative to their benchmark, ``theta`` benchmark value shares summing to 1.
    An elasticity of exactly 1 is Cobb-Douglas ``prod p^theta``; 0 is Leontief ``sum theta * p``.
    ``sigma`` may be a number or an instrument variable (then always the generic CES form: the
    model passes numbers for the Cobb-Douglas and Leontief nests, see :meth:`Structure.sigma`).
    """
    terms = [(th, p) for th, p in terms if th > 0]
    if len(terms) == 1:  # a single input: the price itself, whatever sigma is
        return terms[0][1]
    if isinstance(sigma, (int, float, np.floating)) and sigma == 1.0:
        out = 1.0
        for th, p in terms:
            out = out * p**th
        return out
    if isinstance(sigma, (int, float, np.floating)) and sigma == 0.0:
        return sum(th * p for th, p in terms)
    return sum(th * p ** (1.0 - sigma) for th, p in terms) ** (1.0 / (1.0 - sigma))
