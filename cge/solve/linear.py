"""The linear solves of Newton's method: ``J s = -F`` with the Jacobian ``J`` kept between steps.

Two routes, chosen by size (:func:`factorise`):

* **Dense inverse** (numpy, LAPACK) below ``KRYLOV_FROM`` unknowns, where it is the cheapest: a few
  milliseconds at the default size, and no SciPy to import (with Pyomo loaded, importing SciPy
  also imports ``scipy.stats`` and more, about half a second of a 1.5 s run).
* **GMRES preconditioned by the regions' blocks** from ``KRYLOV_FROM`` unknowns.  After elimination
  the Jacobian itself is sparse (every row holds the unknowns of one region and, through trade, the
  prices of the same good elsewhere), but its LU factors are nearly dense: a direct factorisation
  costs ``n^3`` (wiod2011: 5,880 unknowns, 1.9 s dense; GTAP size: 37,382 unknowns, 152 s and
  5.6 GB in single precision).  The preconditioner keeps only the entries between an equation and
  an unknown of the same region, plus every entry of the few equations and unknowns that belong to
  no region (the numeraire, the union-wide price of a pooled factor): its sparse LU is the LU of
  one small block per region, bordered by those few.  GMRES then accounts for trade between
  regions, which the preconditioner leaves out, in a few dozen products with ``J``.

The dense inverse is exact to round-off; GMRES is stopped at a relative residual of ``RTOL``
(1e-3: an inexact Newton step, which cuts the residual nearly as much as an exact one, in some 22
iterations instead of 48 for 1e-12 on china-yangtze-river-delta).  The root does not depend on
it: Newton's method stops on the residuals of the equations themselves.  Every decision depends
on the numbers only, and the BLAS runs on one thread during the iterations, so a solve is
reproducible bit for bit whatever the number of cores.
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

#: unknowns from which the Krylov route is used.  Measured (2 cores, wiod2011, 5,880 unknowns):
#: SuperLU 3.5 s, dense LU 1.9 s, block preconditioner 0.05 s plus 27 GMRES iterations in 0.1 s;
#: a dense inverse of 1,500 unknowns takes 0.2 s on one core
KRYLOV_FROM = 1500
#: GMRES stops when ``|J s - b| <= RTOL |b|``.  Measured on china-yangtze-river-delta (173 linear
#: solves, the same Newton iterations): 8,330 GMRES iterations at 1e-12, 4,786 at 1e-4, 3,761 at
#: 1e-3; at 1e-2 the steps get worse (190 linear solves, 49 Jacobians instead of 46)
RTOL = 1e-3
#: GMRES restarts after this many iterations (memory: RESTART vectors of n) ...
RESTART = 100
#: ... at most this many times
RESTARTS = 5


#: what the Krylov route did in this process (bench/bench.py prints it per solve): preconditioners
#: made and their seconds, GMRES solves, their iterations and seconds.  Read only, by
#: benchmarks: no decision depends on it
COUNTS = {"factorisations": 0, "factorise_seconds": 0.0, "solves": 0, "iterations": 0, "solve_seconds": 0.0}


class Jacobian(NamedTuple):
    """A sparse ``n x n`` Jacobian by its entries ``values[k]`` at ``(rows[k], cols[k])`` (each
    position once)."""

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    n: int

    def dense(self) -> np.ndarray:
        out = np.zeros((self.n, self.n))
        out[self.rows, self.cols] = self.values
        return out

    def sparse(self, keep: np.ndarray | None = None):
        """The CSC matrix (SciPy) of all the entries, or of those where ``keep`` is true."""
        import scipy.sparse as sp

        if keep is None:
            return sp.csc_matrix((self.values, (self.rows, self.cols)), shape=(self.n, self.n))
        return sp.csc_matrix((self.values[keep], (self.rows[keep], self.cols[keep])), shape=(self.n, self.n))


class LinearSolve:
    """``solve(b)`` returns ``s`` with ``J s = b``; ``kind`` says how (for messages)."""

    kind = ""

    def __call__(self, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class DenseInverse(LinearSolve):
    """The inverse of ``J`` (LAPACK, one thread); a solve is one product with it."""

    kind = "dense LU"

    def __init__(self, jac: Jacobian):
        with _one_blas_thread():
            self._inverse = np.linalg.inv(jac.dense())  # LinAlgError (a ValueError) if singular
        if not np.all(np.isfinite(self._inverse)):
            raise ValueError("the inverse has non-finite entries")

    def __call__(self, b: np.ndarray) -> np.ndarray:
        with _one_blas_thread():
            return self._inverse @ b


class SparseLU(LinearSolve):
    """SuperLU's factors of ``J`` (column order from COLAMD), for a large system without regions."""

    kind = "sparse LU"

    def __init__(self, jac: Jacobian):
        import scipy.sparse.linalg as spla

        self._lu = spla.splu(jac.sparse(), permc_spec="COLAMD")

    def __call__(self, b: np.ndarray) -> np.ndarray:
        return self._lu.solve(b)


class BlockKrylov(LinearSolve):
    """GMRES on ``J``, preconditioned by the sparse LU of its within-region blocks.

    ``row_block`` and ``col_block`` give the region (an integer) of every equation and unknown,
    ``-1`` for those of no region (their entries are all kept in the preconditioner), which is
    factorised in the regions' order (:class:`_Pattern`): region 0's equations and unknowns
    first, those of no region last.
    """

    kind = "GMRES, preconditioned by the regions' blocks"
    #: chord steps a fresh Jacobian and preconditioner are worth (they cost about one), and the
    #: rate from which a chord step is kept whatever remains (cge.solve.newton._refactorise).
    #: Measured on china-yangtze-river-delta (chord steps of some 47 GMRES iterations): with
    #: newton's rule for direct solves 326 linear solves and 17.3 s of CPU, with these 173 and 12.9 s
    CHORD_STEPS = 3
    SLOW_RATE = 0.01

    def __init__(self, jac: Jacobian, row_block: np.ndarray, col_block: np.ndarray):
        import scipy.sparse as sp
        import scipy.sparse.linalg as spla

        t0, n = time.perf_counter(), jac.n
        self._pattern = pattern = _pattern(jac, row_block, col_block)
        pre = sp.csc_matrix((jac.values[pattern.pre_take], pattern.pre_indices, pattern.pre_indptr), shape=(n, n))
        # no column ordering: in the regions' order the elimination stays inside each region's
        # block, whose factors are then no larger than with COLAMD's, and SuperLU's supernodes
        # span a block (GTAP size: 0.12 s, against 0.68 s in the model's order, where the regions
        # alternate from one row to the next)
        self._pre = spla.splu(pre, permc_spec="NATURAL")
        values = jac.values if pattern.jac_take is None else jac.values[pattern.jac_take]
        matrix = sp.csr_matrix if pattern.jac_by_row else sp.csc_matrix
        self._jac = matrix((values, pattern.jac_indices, pattern.jac_indptr), shape=(n, n))
        #: GMRES iterations of the last solve
        self.iterations = 0
        COUNTS["factorisations"] += 1
        COUNTS["factorise_seconds"] += time.perf_counter() - t0

    def precondition(self, b: np.ndarray) -> np.ndarray:
        """The solve with the preconditioner itself (the kept entries of ``J``), exact to round-off."""
        out = np.empty_like(b, dtype=np.float64)
        out[self._pattern.col_order] = self._pre.solve(b[self._pattern.row_order])
        return out

    def __call__(self, b: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        with _one_blas_thread():
            s, self.iterations = gmres(self._jac.dot, self.precondition, b, RTOL, RESTART, RESTARTS)
        COUNTS["solves"] += 1
        COUNTS["iterations"] += self.iterations
        COUNTS["solve_seconds"] += time.perf_counter() - t0
        # not converged within RESTARTS: the step is still the best GMRES found, and Newton's
        # method judges it by the residuals it gives (a slow step leads to a fresh Jacobian)
        return s


def gmres(matvec, precondition, b: np.ndarray, rtol: float, restart: int, restarts: int) -> tuple[np.ndarray, int]:
    """``x`` with ``|b - A x| <= rtol |b|`` (``A = matvec``) by GMRES from 0, preconditioned on the
    right, and the iterations it took; after ``restarts`` cycles of ``restart`` iterations, the
    last ``x``.

    Preconditioned on the right, GMRES minimises the residual of ``A`` itself, so it stops on the
    residual that is asked for with no product to check it, and each iteration is one product
    and one preconditioner solve (SciPy's, preconditioned on the left, takes one more of each
    per solve and one more solve per cycle: GTAP size, a re-solve's 45 iterations took 53
    products and 61 solves).  The new vector is orthogonalised twice by classical Gram-Schmidt
    (two matrix products, in a fixed order on one thread)."""
    x = np.zeros_like(b, dtype=np.float64)
    target = rtol * float(np.linalg.norm(b))
    r, iterations = np.asarray(b, dtype=np.float64), 0
    for _ in range(restarts):
        beta = float(np.linalg.norm(r))
        if not beta > target:
            break
        V, Z = np.empty((restart + 1, len(b))), np.empty((restart, len(b)))
        H, g = np.zeros((restart + 1, restart)), np.zeros(restart + 1)
        rotations: list[tuple[float, float]] = []
        V[0], g[0] = r / beta, beta
        for j in range(restart):
            Z[j] = precondition(V[j])
            w = matvec(Z[j])
            iterations += 1
            for _ in range(2):
                h = V[: j + 1] @ w
                w -= h @ V[: j + 1]
                H[: j + 1, j] += h
            H[j + 1, j] = float(np.linalg.norm(w))
            breakdown = not H[j + 1, j] > 0.0
            if not breakdown:
                V[j + 1] = w / H[j + 1, j]
            _rotate(H[:, j], g, rotations, j)
            if breakdown or not abs(g[j + 1]) > target:
                break
        y = _back_substitute(H[: j + 1, : j + 1], g[: j + 1])
        x += y @ Z[: j + 1]
        if breakdown or not abs(g[j + 1]) > target:
            break
        r = b - matvec(x)
    return x, iterations


def _rotate(h: np.ndarray, g: np.ndarray, rotations: list[tuple[float, float]], j: int) -> None:
    """Apply the earlier Givens rotations to the new column ``h`` of the Hessenberg matrix, and a
    new one that zeroes ``h[j + 1]`` (to ``g`` too, whose last entry is then the residual)."""
    for i, (c, s) in enumerate(rotations):
        h[i], h[i + 1] = c * h[i] + s * h[i + 1], c * h[i + 1] - s * h[i]
    rho = math.hypot(h[j], h[j + 1])
    c, s = (1.0, 0.0) if rho == 0.0 else (h[j] / rho, h[j + 1] / rho)
    rotations.append((c, s))
    h[j], h[j + 1] = rho, 0.0
    g[j], g[j + 1] = c * g[j], -s * g[j]


def _back_substitute(R: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``y`` with ``R y = g`` for an upper-triangular ``R`` (zero on the diagonal: left at 0)."""
    y = np.zeros(len(g))
    for k in range(len(g) - 1, -1, -1):
        if R[k, k] != 0.0:
            y[k] = (g[k] - R[k, k + 1 :] @ y[k + 1 :]) / R[k, k]
    return y


class _Pattern:
    """What :class:`BlockKrylov` needs of a sparsity pattern and its regions, made once per
    pattern (:func:`_pattern`; GTAP size: 0.3 s of masks, sorts and conversions, against 0.01 s
    to take the values of a new Jacobian with it).

    ``row_order[i]`` and ``col_order[j]`` are the equation and unknown at position ``i`` and ``j``
    in the regions' order (stable: the model's order within a region; those of no region last).
    The preconditioner's CSC matrix in that order is ``values[pre_take]`` with ``pre_indices`` and
    ``pre_indptr``; the Jacobian's matrix (in the model's order; CSR if ``jac_by_row``, else CSC)
    is ``values[jac_take]`` with ``jac_indices`` and ``jac_indptr`` (``jac_take`` is None when the
    entries come by row, as from SciPy's CSR, or by column, as from the ASL: the values are then
    used as they are, and a product with the matrix needs no order within a row or column).
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n: int, row_block: np.ndarray, col_block: np.ndarray):
        rb, cb = row_block[rows], col_block[cols]
        keep = np.flatnonzero((rb == cb) | (rb < 0) | (cb < 0))
        self.row_order, new_row = _region_order(row_block)
        self.col_order, new_col = _region_order(col_block)
        order = _by_column(new_row[rows[keep]], new_col[cols[keep]], n)
        self.pre_take = keep if order is None else keep[order]
        self.pre_indices = new_row[rows[self.pre_take]].astype(np.int32)
        self.pre_indptr = _indptr(new_col[cols[self.pre_take]], n)
        self.jac_by_row = not np.all(cols[1:] >= cols[:-1])
        major, minor = (rows, cols) if self.jac_by_row else (cols, rows)
        self.jac_take = None if np.all(major[1:] >= major[:-1]) else np.argsort(major, kind="stable")
        if self.jac_take is not None:
            major, minor = major[self.jac_take], minor[self.jac_take]
        self.jac_indices = np.asarray(minor, dtype=np.int32)  # no copy if it is already
        self.jac_indptr = _indptr(major, n)


def _region_order(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices in the regions' order (those of no region, ``-1``, last), and its inverse."""
    order = np.argsort(np.where(block < 0, np.iinfo(np.int64).max, block), kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return order, inverse


def _by_column(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray | None:
    """The order of the entries by column, then row; None if they come in that order."""
    key = cols.astype(np.int64) * n + rows
    if np.all(key[1:] > key[:-1]):
        return None
    return np.argsort(key, kind="stable")


def _indptr(sorted_major: np.ndarray, n: int) -> np.ndarray:
    """The CSR/CSC pointers of entries sorted by their row (or column) ``sorted_major``."""
    out = np.zeros(n + 1, dtype=np.int32 if len(sorted_major) < 2**31 else np.int64)
    np.cumsum(np.bincount(sorted_major, minlength=n), out=out[1:])
    return out


#: the last pattern made, and copies of the arrays it was made from
_LAST: tuple[tuple[np.ndarray, ...], _Pattern] | None = None


def _pattern(jac: Jacobian, row_block: np.ndarray, col_block: np.ndarray) -> _Pattern:
    """The :class:`_Pattern` of ``jac`` and its regions, made afresh unless the entries' positions
    and the regions are those of the last one (compared by value: the arrays are new at each
    Jacobian, and an entry that happens to be zero may be left out; GTAP size: 10 ms)."""
    global _LAST
    arrays = (jac.rows, jac.cols, row_block, col_block)
    if _LAST is not None and all(np.array_equal(kept, a) for kept, a in zip(_LAST[0], arrays)):
        return _LAST[1]
    _LAST = None  # free the old one first
    made = _Pattern(jac.rows, jac.cols, jac.n, row_block, col_block)
    _LAST = (tuple(a.copy() for a in arrays), made)
    return made


def factorise(jac: Jacobian, blocks: tuple[np.ndarray, np.ndarray] | None = None) -> LinearSolve:
    """The linear solve with ``jac``: a dense inverse below ``KRYLOV_FROM`` unknowns, else
    :class:`BlockKrylov` with ``blocks`` (the region of each equation and unknown), or a sparse LU
    without them.

    Raises ``RuntimeError`` or ``ValueError`` if ``jac`` (or its blocks) is singular."""
    if jac.n < KRYLOV_FROM:
        return DenseInverse(jac)
    if blocks is None:
        return SparseLU(jac)
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
