"""The linear solves of Newton's method: ``J s = -F`` with the Jacobian ``J`` kept between steps.

Two routes, chosen by size (:func:`factorise`):

* **Sparse LU** (SuperLU) below ``KRYLOV_FROM`` unknowns, where it is the cheapest.
* **GMRES preconditioned by the regions' blocks** from ``KRYLOV_FROM`` unknowns.  After elimination
  the Jacobian itself is sparse (every row holds the unknowns of one region and, through trade, the
  prices of the same good elsewhere), but its LU factors are nearly dense: a direct factorisation
  costs ``n^3`` (wiod2011: 5,880 unknowns, 1.9 s dense; GTAP size: 37,382 unknowns, 152 s and
  5.6 GB in single precision).  The preconditioner keeps only the entries between an equation and
  an unknown of the same region, plus every entry of the few equations and unknowns that belong to
  no region (the numeraire, the union-wide price of a pooled factor): its sparse LU is the LU of
  one small block per region, bordered by those few.  GMRES then accounts for trade between
  regions, which the preconditioner leaves out, in a few dozen products with ``J``.

Both are exact to round-off (GMRES is run to a relative residual of ``RTOL``), so Newton's steps
and its root are the same as with a dense LU.  Every decision depends on the numbers only, and the
BLAS runs on one thread during the iterations, so a solve is reproducible bit for bit whatever
the number of cores.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

#: unknowns from which the Krylov route is used.  Measured (2 cores, wiod2011, 5,880 unknowns):
#: SuperLU 3.5 s, dense LU 1.9 s, block preconditioner 0.05 s plus 27 GMRES iterations in 0.1 s
KRYLOV_FROM = 1500
#: GMRES stops when ``|J s - b| <= RTOL |b|``
RTOL = 1e-12
#: GMRES restarts after this many iterations (memory: RESTART vectors of n) ...
RESTART = 100
#: ... at most this many times
RESTARTS = 5


class LinearSolve:
    """``solve(b)`` returns ``s`` with ``J s = b``; ``kind`` says how (for messages)."""

    kind = ""

    def __call__(self, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class SparseLU(LinearSolve):
    """SuperLU's factors of ``J`` (column order from COLAMD)."""

    kind = "sparse LU"

    def __init__(self, jac: sp.csc_matrix):
        self._lu = spla.splu(jac, permc_spec="COLAMD")

    def __call__(self, b: np.ndarray) -> np.ndarray:
        return self._lu.solve(b)


class BlockKrylov(LinearSolve):
    """GMRES on ``J``, preconditioned by the sparse LU of its within-region blocks.

    ``row_block`` and ``col_block`` give the region (an integer) of every equation and unknown,
    ``-1`` for those of no region (their entries are all kept in the preconditioner).
    """

    kind = "GMRES, preconditioned by the regions' blocks"

    def __init__(self, jac: sp.spmatrix, row_block: np.ndarray, col_block: np.ndarray):
        coo = jac.tocoo()
        rb, cb = row_block[coo.row], col_block[coo.col]
        keep = (rb == cb) | (rb < 0) | (cb < 0)
        blocks = sp.csc_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=jac.shape)
        self._pre = spla.splu(blocks, permc_spec="COLAMD")
        self._jac = jac.tocsr()
        n = jac.shape[0]
        self._op = spla.LinearOperator((n, n), matvec=self._jac.dot, dtype=np.float64)
        self._m = spla.LinearOperator((n, n), matvec=self._pre.solve, dtype=np.float64)
        #: GMRES iterations of the last solve
        self.iterations = 0

    def __call__(self, b: np.ndarray) -> np.ndarray:
        count = [0]

        def counter(_):
            count[0] += 1

        with _one_blas_thread():
            s, _ = spla.gmres(
                self._op,
                b,
                M=self._m,
                rtol=RTOL,
                atol=0.0,
                restart=RESTART,
                maxiter=RESTARTS,
                callback=counter,
                callback_type="pr_norm",
            )
        # not converged within RESTARTS: the step is still the best GMRES found, and Newton's
        # method judges it by the residuals it gives (a slow step leads to a fresh Jacobian)
        self.iterations = count[0]
        return s


def factorise(jac: sp.spmatrix, blocks: tuple[np.ndarray, np.ndarray] | None = None) -> LinearSolve:
    """The linear solve with ``jac``: sparse LU below ``KRYLOV_FROM`` unknowns or without
    ``blocks`` (the region of each equation and unknown), else :class:`BlockKrylov`.

    Raises ``RuntimeError`` if ``jac`` (or its blocks) is singular."""
    if blocks is None or jac.shape[0] < KRYLOV_FROM:
        return SparseLU(sp.csc_matrix(jac))
    return BlockKrylov(jac, *blocks)


_CONTROLLER = None


def _one_blas_thread():
    """A context in which the BLAS uses one thread (its sums are then in a fixed order)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def region_blocks(labels: list[tuple], regions: list) -> np.ndarray:
    """The region of every index in ``labels`` (the position in ``regions`` of its last label
    that is a region), ``-1`` for an index with none."""
    code = {r: k for k, r in enumerate(regions)}
    out = np.full(len(labels), -1, dtype=np.int64)
    for k, idx in enumerate(labels):
        for label in reversed(idx):
            if label in code:
                out[k] = code[label]
                break
    return out
