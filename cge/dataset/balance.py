"""Balancing a matrix to row and column targets: GRAS (RAS for matrices with negative cells) and
weighted least squares.

The matrix ``M`` holds basic-price values; some rows and some columns are constrained:

* row k (constrained where ``row_mask``):  ``sum_j M'[k, j] = u[k]``
* column j (constrained where ``col_mask``): ``sum_k M'[k, j] * W[k, j] = v[j]``
  (``W`` weights the column sums, e.g. 1 + tariff to constrain buyer-price column totals).

Zero cells stay zero under both methods, so the table's structure is kept.

* ``ras``: generalised RAS (Junius and Oosterhaven 2003; Temurshoev, Miller and Bouwmeester 2013):
  ``M' = r_k s_j P - N / (r_k s_j)`` with P, N the positive and negative parts of M; for a matrix with
  no negative cells this is the classic RAS (Stone; Bacharach 1970).  Signs are preserved.
* ``least_squares``: minimises ``sum (M' - M)^2 / |M|`` over the nonzero cells subject to the
  constraints (the weighted least-squares method of Stone, Champernowne and Meade 1942, as in
  Lahr and de Mesnard 2004); one sparse linear solve.  A cell whose sign would flip is refused.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .recipe import RecipeError


def _residuals(M, W, u, v, row_mask, col_mask):
    rs = M.sum(axis=1)
    cs = (M * W).sum(axis=0)
    rr = np.where(row_mask, np.abs(rs - u) / np.maximum(np.abs(u), 1.0), 0.0)
    cr = np.where(col_mask, np.abs(cs - v) / np.maximum(np.abs(v), 1.0), 0.0)
    return rr, cr


def _solve_mult(target, p, n):
    """Solve m*p - n/m = target for m > 0 (GRAS step); p, n >= 0."""
    m = np.ones_like(target)
    pos = p > 0
    m[pos] = (target[pos] + np.sqrt(target[pos] ** 2 + 4 * p[pos] * n[pos])) / (2 * p[pos])
    onlyneg = (~pos) & (n > 0)
    with np.errstate(divide="ignore"):
        m[onlyneg] = -n[onlyneg] / target[onlyneg]
    return m


def gras(M, u, v, row_mask, col_mask, W=None, tol=1e-12, max_iter=10000):
    """Return (M', iterations).  Raises RecipeError when the targets cannot be met."""
    W = np.ones_like(M) if W is None else W
    P = np.maximum(M, 0.0)
    N = np.maximum(-M, 0.0)
    nr, nc = M.shape
    # infeasible rows/columns: a nonzero target with no cell to scale, or a sign that cannot be reached
    rp, rn = P.sum(1), N.sum(1)
    bad_r = row_mask & (((rp == 0) & (rn == 0) & (u != 0)) | ((rn == 0) & (u < 0)) | ((rp == 0) & (u > 0)))
    cp, cn = (P * W).sum(0), (N * W).sum(0)
    bad_c = col_mask & (((cp == 0) & (cn == 0) & (v != 0)) | ((cn == 0) & (v < 0)) | ((cp == 0) & (v > 0)))
    r = np.ones(nr)
    s = np.ones(nc)
    if bad_r.any() or bad_c.any():
        return None, (np.flatnonzero(bad_r), np.flatnonzero(bad_c))
    # rows/cols with nothing to scale and a zero target are trivially met: leave them
    row_mask = row_mask & ((rp > 0) | (rn > 0))
    col_mask = col_mask & ((cp > 0) | (cn > 0))
    PW, NW = P * W, N * W
    it = 0
    for it in range(1, max_iter + 1):
        pr = P @ s
        nr_ = N @ (1.0 / s)
        r = np.where(row_mask, _solve_mult(u, pr, nr_), 1.0)
        pc = r @ PW
        nc_ = (1.0 / r) @ NW
        s = np.where(col_mask, _solve_mult(v, pc, nc_), 1.0)
        Mn = r[:, None] * P * s[None, :] - N / (r[:, None] * s[None, :])
        rr, cr = _residuals(Mn, W, u, v, row_mask, col_mask)
        if max(rr.max(initial=0), cr.max(initial=0)) < tol:
            return Mn, it
    rr, cr = _residuals(Mn, W, u, v, row_mask, col_mask)
    raise RecipeError(
        f"RAS did not converge in {max_iter} iterations (largest relative residual "
        f"{max(rr.max(initial=0), cr.max(initial=0)):.2e}); try balance.method: least_squares "
        "or raise balance.max_iter"
    )


def least_squares(M, u, v, row_mask, col_mask, W=None):
    """Return (M', 1) or (None, (bad rows, bad cols)) when a constraint has no cell to move."""
    W = np.ones_like(M) if W is None else W
    nz = M != 0
    rows_with = nz.any(axis=1)
    cols_with = nz.any(axis=0)
    bad_r = row_mask & ~rows_with & (u != 0)
    bad_c = col_mask & ~cols_with & (v != 0)
    if bad_r.any() or bad_c.any():
        return None, (np.flatnonzero(bad_r), np.flatnonzero(bad_c))
    rows = np.flatnonzero(row_mask & rows_with)
    cols = np.flatnonzero(col_mask & cols_with)
    k, j = np.nonzero(nz)
    m = M[k, j]
    d = np.abs(m)
    w = W[k, j]
    ncell = len(m)
    rpos = -np.ones(M.shape[0], dtype=int)
    rpos[rows] = np.arange(len(rows))
    cpos = -np.ones(M.shape[1], dtype=int)
    cpos[cols] = len(rows) + np.arange(len(cols))
    ir = rpos[k] >= 0
    ic = cpos[j] >= 0
    A = sp.csr_matrix(
        (
            np.concatenate([np.ones(ir.sum()), w[ic]]),
            (np.concatenate([rpos[k[ir]], cpos[j[ic]]]), np.concatenate([np.flatnonzero(ir), np.flatnonzero(ic)])),
        ),
        shape=(len(rows) + len(cols), ncell),
    )
    b = np.concatenate([u[rows], v[cols]])
    gap = b - A @ m
    K = (A @ sp.diags(d) @ A.T).tocsc()
    lam = spla.spsolve(K, gap)
    if not np.all(np.isfinite(lam)):
        # a redundant constraint (all rows and all columns fixed): least-norm solution
        lam = spla.lsqr(K, gap, atol=1e-15, btol=1e-15, iter_lim=100000)[0]
    mn = m + d * (A.T @ lam)
    out = M.copy()
    out[k, j] = mn
    return out, 1


def balance(method, M, u, v, row_mask, col_mask, W=None, max_iter=10000):
    if method == "ras":
        return gras(M, u, v, row_mask, col_mask, W, max_iter=max_iter)
    if method == "least_squares":
        return least_squares(M, u, v, row_mask, col_mask, W)
    raise ValueError(method)
