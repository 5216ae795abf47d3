"""Which unknown and which equation make a Jacobian singular, by their MODEL.md names.

Two checks, each naming one unknown and one equation (:mod:`cge.model.names`):

* :func:`structural`: the sparsity pattern alone, once per model, before the first solve.  A
  maximum matching of equations to unknowns that leaves an equation unmatched means the Jacobian
  is singular whatever the values: an unknown that no equation determines, or an equation that
  reads no unknown left free.  Below :data:`cge.solve.linear.KRYLOV_FROM` unknowns the matching is
  found here by augmenting paths (:func:`matching`; milliseconds, and no SciPy to import: 0.3 s of
  a default run), from there by SciPy's Hopcroft-Karp (SciPy is imported for GMRES anyway).
* :func:`numerical`: a Jacobian whose factorisation failed at a point.  Column-pivoted QR of the
  Jacobian puts last the unknown most nearly a combination of the others; of its transpose, the
  equation.  Dense, so only up to :data:`NUMERICAL_UP_TO` unknowns (a few seconds); larger
  systems are described by size only.
"""

from __future__ import annotations

import numpy as np

from cge.model import names
from cge.solve.linear import KRYLOV_FROM, Jacobian

#: the largest system whose numerical singularity is diagnosed (two dense QR factorisations)
NUMERICAL_UP_TO = 6000


def structural(rows: np.ndarray, cols: np.ndarray, unknowns, equations, hint=None) -> str | None:
    """``None`` if a perfect matching of equations to unknowns exists in the Jacobian's pattern
    (entries at ``rows``, ``cols``); else which ones are left out.  ``hint``: a likely unknown
    (column) of every equation, -1 for none (the unknown each equation is named after,
    :meth:`cge.model.arrays.ArrayModel.natural_columns`): the matching starts from it and
    only the rest is searched (GTAP size: milliseconds instead of 13 s of Hopcroft-Karp)."""
    n = len(equations)
    if n < KRYLOV_FROM or hint is not None:
        column_of_row = matching(rows, cols, n, len(unknowns), hint)
    else:
        import scipy.sparse as sp
        from scipy.sparse.csgraph import maximum_bipartite_matching

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


def matching(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int, hint=None) -> np.ndarray:
    """A maximum matching of rows to columns through the entries at ``rows``, ``cols``: the column
    of every row (-1 if unmatched).  Each row in turn takes its ``hint`` column (if that is an
    entry and still free), or a free column of its own, or else one freed along an augmenting path
    (depth first, Kuhn's method: ``O(rows x entries)`` at worst)."""
    order = np.lexsort((cols, rows))
    adj = cols[order].tolist()
    starts = np.searchsorted(rows[order], np.arange(n_rows + 1)).tolist()
    col_of_row, row_of_col = [-1] * n_rows, [-1] * n_cols
    if hint is not None:
        entries = rows[order].astype(np.int64) * n_cols + cols[order]  # sorted: by row, then column
        _take_hint(entries, np.asarray(hint), col_of_row, row_of_col)
    for r in range(n_rows):  # the cheap part first: a free column of its own
        if col_of_row[r] >= 0:
            continue
        c = next((c for c in adj[starts[r] : starts[r + 1]] if row_of_col[c] < 0), -1)
        if c >= 0:
            col_of_row[r], row_of_col[c] = c, r
    for root in range(n_rows):
        if col_of_row[root] < 0:
            _augment(root, adj, starts, col_of_row, row_of_col)
    return np.array(col_of_row, dtype=np.int64)


def _take_hint(entries: np.ndarray, hint: np.ndarray, col_of_row: list, row_of_col: list) -> None:
    """Match each row to its hint column where that is an entry of the row (``entries``: sorted
    ``row * n_cols + col``), first come first served."""
    n_cols = len(row_of_col)
    r = np.flatnonzero(hint >= 0)
    key = r.astype(np.int64) * n_cols + hint[r]
    pos = np.minimum(np.searchsorted(entries, key), len(entries) - 1)
    for row, col in zip(r[entries[pos] == key].tolist(), hint[r[entries[pos] == key]].tolist()):
        if row_of_col[col] < 0:
            col_of_row[row], row_of_col[col] = col, row


def _augment(root: int, adj: list, starts: list, col_of_row: list, row_of_col: list) -> None:
    """Match ``root`` along an augmenting path if there is one: ``path_rows[i + 1]`` holds
    ``path_cols[i]``; a free column at the end shifts every column of the path to its row."""
    visited = bytearray(len(row_of_col))
    path_rows, next_entry, path_cols = [root], [starts[root]], list[int]()
    while path_rows:
        r, k = path_rows[-1], next_entry[-1]
        if k == starts[r + 1]:  # a dead end: back up
            path_rows.pop()
            next_entry.pop()
            if path_cols:
                path_cols.pop()
            continue
        next_entry[-1] = k + 1
        c = adj[k]
        if visited[c]:
            continue
        visited[c] = 1
        path_cols.append(c)
        if row_of_col[c] < 0:
            for rr, cc in zip(path_rows, path_cols):
                col_of_row[rr], row_of_col[cc] = cc, rr
            return
        path_rows.append(row_of_col[c])
        next_entry.append(starts[row_of_col[c]])


def numerical(jac: Jacobian, unknowns, equations) -> str:
    """The unknown and the equation most nearly dependent on the others at a singular point."""
    if jac.n > NUMERICAL_UP_TO:
        return f"{jac.n:,} unknowns: too many to name the dependent ones"
    dense = jac.dense()
    if not np.all(np.isfinite(dense)):
        return "the Jacobian has non-finite entries"
    import scipy.linalg as sla

    col = sla.qr(dense, mode="r", pivoting=True)[1][-1]
    row = sla.qr(dense.T, mode="r", pivoting=True)[1][-1]
    return f"unknown {names.unknown(unknowns[col])}, equation {names.equation(equations[row])}"
