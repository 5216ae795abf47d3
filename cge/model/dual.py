"""Values with their derivatives with respect to the unknowns (forward mode, sparse), for the
model stated on arrays (:mod:`cge.model.arrays`).

A :class:`Dual` is a vector of values ``v`` (one per cell of some index set) and, when the
Jacobian is wanted, the matrix ``J`` of their derivatives with respect to the ``N`` unknowns (one
row per cell): sparse (SciPy's CSR), or, for a small system, a dense numpy array (SciPy's sparse
matrices take 0.16 s to import, a tenth of a small run).  The operations are the few the model's
equations use: gathering cells, sums over groups of cells, products, quotients, constant powers,
logarithms and exponentials; each applies the chain rule to ``J`` row by row.  Without ``J``
(residuals only) they are plain numpy.  The derivatives are exact (analytic), like the AMPL
Solver Library's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _sparse():
    import scipy.sparse as sp

    return sp


class Dual:
    """Values ``v`` (n,) and their Jacobian ``J`` (n x N: CSR or dense) or ``None`` (values only)."""

    __slots__ = ("J", "v")

    def __init__(self, v: np.ndarray, J=None):
        self.v = v
        self.J = J

    # ------------------------------------------------------------ making
    @classmethod
    def unknowns(cls, x: np.ndarray, start: int, n: int, jacobian: str | None) -> Dual:
        """The ``n`` unknowns ``x[start:start + n]`` (their derivative: the identity's columns);
        ``jacobian``: ``"sparse"``, ``"dense"`` or ``None`` (values only)."""
        v = x[start : start + n]
        if jacobian is None:
            return cls(v)
        if jacobian == "dense":
            J = np.zeros((n, len(x)))
            J[np.arange(n), np.arange(start, start + n)] = 1.0
            return cls(v, J)
        J = _sparse().csr_matrix((np.ones(n), np.arange(start, start + n), np.arange(n + 1)), shape=(n, len(x)))
        return cls(v, J)

    @classmethod
    def concat(cls, parts: Sequence[Dual]) -> Dual:
        """The cells of ``parts`` one after the other."""
        v = np.concatenate([p.v for p in parts])
        if parts[0].J is None:
            return cls(v)
        if isinstance(parts[0].J, np.ndarray):
            return cls(v, np.concatenate([p.J for p in parts]))
        return cls(v, _sparse().vstack([p.J for p in parts], format="csr"))

    # ------------------------------------------------------------ indexing
    def take(self, idx: np.ndarray) -> Dual:
        """The cells at positions ``idx`` (repeats allowed)."""
        return Dual(self.v[idx], None if self.J is None else self.J[idx])

    def sum_by(self, group: np.ndarray, n: int) -> Dual:
        """``out[g] = sum of the cells k with group[k] == g``, for g < n."""
        v = np.bincount(group, weights=self.v, minlength=n)
        if self.J is None:
            return Dual(v)
        if isinstance(self.J, np.ndarray):
            out = np.zeros((n, self.J.shape[1]))
            np.add.at(out, group, self.J)
            return Dual(v, out)
        S = _sparse().csr_matrix((np.ones(len(group)), (group, np.arange(len(group)))), shape=(n, len(group)))
        return Dual(v, (S @ self.J).tocsr())

    # ------------------------------------------------------------ arithmetic
    def scaled(self, d) -> Dual:
        """Each cell times the constant ``d`` (a number or an array of the cells)."""
        d = np.broadcast_to(np.asarray(d, dtype=float), self.v.shape)
        return Dual(self.v * d, None if self.J is None else _scale_rows(self.J, d))

    def __add__(self, other) -> Dual:
        if isinstance(other, Dual):
            return Dual(self.v + other.v, None if self.J is None else self.J + other.J)
        return Dual(self.v + other, self.J)

    __radd__ = __add__

    def __neg__(self) -> Dual:
        return self.scaled(-1.0)

    def __sub__(self, other) -> Dual:
        return self + (-other)

    def __rsub__(self, other) -> Dual:
        return (-self) + other

    def __mul__(self, other) -> Dual:
        if not isinstance(other, Dual):
            return self.scaled(other)
        v = self.v * other.v
        if self.J is None:
            return Dual(v)
        return Dual(v, _scale_rows(self.J, other.v) + _scale_rows(other.J, self.v))

    __rmul__ = __mul__

    def __truediv__(self, other) -> Dual:
        if isinstance(other, Dual):
            return self * other.power(-1.0)
        return self.scaled(1.0 / np.asarray(other, dtype=float))

    def power(self, e) -> Dual:
        """``v ** e`` for a constant ``e`` (a number or an array of the cells)."""
        e = np.broadcast_to(np.asarray(e, dtype=float), self.v.shape)
        v = np.power(self.v, e)
        if self.J is None:
            return Dual(v)
        slope = np.where(e == 0.0, 0.0, e * np.power(self.v, e - 1.0))
        return Dual(v, _scale_rows(self.J, slope))

    def log(self) -> Dual:
        return Dual(np.log(self.v), None if self.J is None else _scale_rows(self.J, 1.0 / self.v))

    def exp(self) -> Dual:
        v = np.exp(self.v)
        return Dual(v, None if self.J is None else _scale_rows(self.J, v))


def _scale_rows(J, d: np.ndarray):
    """``diag(d) @ J`` for a CSR or dense matrix ``J``."""
    if isinstance(J, np.ndarray):
        return J * d[:, None]
    data = J.data * np.repeat(d, np.diff(J.indptr))
    return type(J)((data, J.indices, J.indptr), shape=J.shape)


def assemble(n: int, parts: Sequence[tuple[np.ndarray, Dual]]) -> Dual:
    """A Dual of ``n`` cells from ``parts`` ``(positions, dual)`` that together cover each cell once."""
    where = np.concatenate([p for p, _ in parts])
    order = np.empty(n, dtype=np.intp)
    order[where] = np.arange(len(where))
    return Dual.concat([d for _, d in parts]).take(order)


@dataclass(frozen=True)
class CesTerms:
    """How the terms of a block of CES prices fall into its ``n`` groups (made once per block):
    groups of a single term (the price is that term's), groups built in Cobb-Douglas form, and
    generic CES groups; for each kind its terms, its groups and each term's slot among them."""

    n: int
    single: np.ndarray  # terms alone in their group
    single_group: np.ndarray
    cd: tuple[np.ndarray, np.ndarray, np.ndarray]  # (terms, groups, slot of each term)
    generic: tuple[np.ndarray, np.ndarray, np.ndarray]
    order: np.ndarray  # assembles [single, cd, generic] results into group order

    @classmethod
    def of(cls, group: np.ndarray, n: int, cobb_douglas: np.ndarray) -> CesTerms:
        """``group`` of every term; ``cobb_douglas`` by group (a nest built in that form)."""
        count = np.bincount(group, minlength=n)
        single = count[group] == 1
        cd = cobb_douglas[group] & ~single
        kinds = []
        for mask in (cd, ~single & ~cd):
            terms, groups = np.flatnonzero(mask), np.unique(group[mask])
            kinds.append((terms, groups, np.searchsorted(groups, group[terms])))
        where = np.concatenate([group[single], kinds[0][1], kinds[1][1]])
        order = np.empty(n, dtype=np.intp)
        order[where] = np.arange(len(where))
        return cls(n, np.flatnonzero(single), group[single], kinds[0], kinds[1], order)


def ces_price(theta: np.ndarray, price: Dual, terms: CesTerms, sigma: np.ndarray) -> Dual:
    """CES unit costs ``(sum theta p^(1-sigma))^(1/(1-sigma))`` of the groups of terms (MODEL.md
    section 5; :func:`cge.model.ces.ces_price` term by term): ``theta``, ``price`` by term (terms
    with ``theta > 0`` only), ``sigma`` by group; Cobb-Douglas groups are ``prod p^theta``, and a
    group of a single term is that term's price (:class:`CesTerms`)."""
    parts = [price.take(terms.single)]
    k, g, slot = terms.cd
    if k.size:
        parts.append(price.take(k).log().scaled(theta[k]).sum_by(slot, len(g)).exp())
    k, g, slot = terms.generic
    if k.size:
        e = 1.0 - sigma[g]
        total = price.take(k).power(e[slot]).scaled(theta[k]).sum_by(slot, len(g))
        parts.append(total.power(1.0 / e))
    return Dual.concat(parts).take(terms.order)
