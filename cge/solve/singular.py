"""Which unknown and which equation make a Jacobian singular, by their MODEL.md names.

Two checks, each naming one unknown and one equation (:mod:`cge.model.names`):

* :func:`structural`: the sparsity pattern alone, once per model, before the first solve.  A
  maximum matching of equations to unknowns (Hopcroft-Karp, ``scipy.sparse.csgraph``) that leaves
  an equation unmatched means the Jacobian is singular whatever the values: an unknown that no
  equation determines, or an equation that reads no unknown left free.
* :func:`numerical`: a Jacobian whose factorisation failed at a point.  Column-pivoted QR of the
  Jacobian puts last the unknown most nearly a combination of the others; of its transpose, the
  equation.  Dense, so only up to :data:`NUMERICAL_UP_TO` unknowns (a few seconds); larger
  systems are described by size only.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_bipartite_matching

from cge.model import names
from cge.solve.linear import Jacobian

#: the largest system whose numerical singularity is diagnosed (two dense QR factorisations)
NUMERICAL_UP_TO = 6000


def structural(rows: np.ndarray, cols: np.ndarray, unknowns, equations) -> str | None:
    """``None`` if a perfect matching of equations to unknowns exists in the Jacobian's pattern
    (entries at ``rows``, ``cols``); else which ones are left out."""
    n = len(equations)
    pattern = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(unknowns)))
    column_of_row = maximum_bipartite_matching(pattern, perm_type="column")
    left = np.flatnonzero(column_of_row < 0)
    if not left.size:
        return None
    free = np.setdiff1d(np.arange(len(unknowns)), column_of_row[column_of_row >= 0])
    rows, cols = left, free
    return (
        f"the system is structurally singular: {rows.size} of its {n:,} equations cannot be "
        f"matched to distinct unknowns, whatever the values (for example equation "
        f"{names.equation(equations[rows[0]])} and unknown {names.unknown(unknowns[cols[0]])})"
    )


def numerical(jac: Jacobian, unknowns, equations) -> str:
    """The unknown and the equation most nearly dependent on the others at a singular point."""
    if jac.n > NUMERICAL_UP_TO:
        return f"{jac.n:,} unknowns: too many to name the dependent ones"
    dense = jac.dense()
    if not np.all(np.isfinite(dense)):
        return "the Jacobian has non-finite entries"
    col = sla.qr(dense, mode="r", pivoting=True)[1][-1]
    row = sla.qr(dense.T, mode="r", pivoting=True)[1][-1]
    return f"unknown {names.unknown(unknowns[col])}, equation {names.equation(equations[row])}"
