"""Values with their derivatives with respect to the unknowns (forward mode, sparse), for the
model stated on arrays (:mod:`cge.model.arrays`).

A :class:`Dual` is a vector of values ``v`` (one per cell of some index set) and, when the
Jacobian is wanted, the sparse matrix ``J`` of their derivatives with respect to the ``N``
unknowns (one row per cell, :class:`Rows`: numpy only, no SciPy to import).  The operations are the few the model's
equations use: gathering cells, sums over groups of cells, products, quotients, constant powers,
logarithms and exponentials; each applies the chain rule to ``J`` row by row.  Without ``J``
(residuals only) they are plain numpy.  The derivatives are exact (analytic), like the AMPL
Solver Library's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class Pattern:
    """Where a sparse Jacobian's entries are: row pointers ``indptr`` and column ``indices``
    (CSR, repeated columns summed, zeros kept, so that it depends on the model only)."""

    __slots__ = ("_rows", "indices", "indptr", "n_cols")

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, n_cols: int):
        # positions in 32 bits: the patterns of a GTAP-size evaluation take half a gigabyte so
        self.indptr, self.indices, self.n_cols = indptr, indices.astype(np.int32), n_cols
        self._rows: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    @property
    def rows(self) -> np.ndarray:
        """The row of every entry."""
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.indptr))
        return self._rows


class Tape:
    """The patterns of every sparse operation of an evaluation of the system, made on its first
    evaluation and replayed on the next (the operations and their patterns are the same every time:
    only the values change), so that a Jacobian costs arithmetic on its entries, no sorting."""

    def __init__(self):
        self.steps: list = []
        self.at = 0

    def step(self, make, *inputs: Pattern):
        """The next operation's (output pattern, recipe): made by ``make()`` the first time."""
        if self.at == len(self.steps):
            self.steps.append((tuple(p.indices.size for p in inputs), make()))
        sizes, out = self.steps[self.at]
        if sizes != tuple(p.indices.size for p in inputs):
            raise RuntimeError("the system's operations changed between evaluations (cge.model.dual.Tape)")
        self.at += 1
        return out


class Rows:
    """A sparse Jacobian: its :class:`Pattern`, the values of its entries, and the tape of the
    evaluation it belongs to.  A row scaling is kept pending (``scale``, one number a row) until
    the entries are read, so that a chain of scalings and gathers passes over the entries once."""

    __slots__ = ("_data", "pattern", "scale", "tape")

    def __init__(self, pattern: Pattern, data: np.ndarray, tape: Tape, scale: np.ndarray | None = None):
        self.pattern, self._data, self.tape, self.scale = pattern, data, tape, scale

    @property
    def data(self) -> np.ndarray:
        """The entries' values (the pending row scaling applied, once)."""
        if self.scale is not None:
            self._data, self.scale = self._data * self.scale[self.pattern.rows], None
        return self._data

    def scipy(self):
        """As SciPy's CSR matrix."""
        import scipy.sparse as sp

        p = self.pattern
        return sp.csr_matrix((self.data, p.indices, p.indptr), shape=(p.n, p.n_cols))


class Dual:
    """Values ``v`` (n,) and their Jacobian ``J`` (n x N, :class:`Rows`) or ``None`` (values only)."""

    __slots__ = ("J", "v")

    def __init__(self, v: np.ndarray, J=None):
        self.v = v
        self.J = J

    # ------------------------------------------------------------ making
    @classmethod
    def unknowns(cls, x: np.ndarray, start: int, n: int, jacobian: Tape | None) -> Dual:
        """The ``n`` unknowns ``x[start:start + n]`` (their derivative: the identity's columns);
        ``jacobian``: the :class:`Tape` of the evaluation, or ``None`` (values only)."""
        v = x[start : start + n]
        if jacobian is None:
            return cls(v)
        pattern = jacobian.step(lambda: Pattern(np.arange(n + 1), np.arange(start, start + n), len(x)))
        return cls(v, Rows(pattern, np.ones(n), jacobian))

    @classmethod
    def concat(cls, parts: Sequence[Dual]) -> Dual:
        """The cells of ``parts`` one after the other."""
        v = np.concatenate([p.v for p in parts])
        if parts[0].J is None:
            return cls(v)
        Js = [p.J for p in parts]
        pattern = Js[0].tape.step(lambda: _stacked([J.pattern for J in Js]), *[J.pattern for J in Js])
        scale = None
        if any(J.scale is not None for J in Js):
            scale = np.concatenate([np.ones(J.pattern.n) if J.scale is None else J.scale for J in Js])
        return cls(v, Rows(pattern, np.concatenate([J._data for J in Js]), Js[0].tape, scale))

    # ------------------------------------------------------------ indexing
    def take(self, idx: np.ndarray) -> Dual:
        """The cells at positions ``idx`` (repeats allowed)."""
        return Dual(self.v[idx], None if self.J is None else _take(self.J, idx))

    def sum_by(self, group: np.ndarray, n: int) -> Dual:
        """``out[g] = sum of the cells k with group[k] == g``, for g < n."""
        v = np.bincount(group, weights=self.v, minlength=n)
        if self.J is None:
            return Dual(v)
        J = self.J
        p = J.pattern
        pattern, target = J.tape.step(lambda: _merge(p.indices, group[p.rows], n, p.n_cols), p)
        return Dual(v, Rows(pattern, np.bincount(target, weights=J.data, minlength=pattern.indices.size), J.tape))

    # ------------------------------------------------------------ arithmetic
    def scaled(self, d) -> Dual:
        """Each cell times the constant ``d`` (a number or an array of the cells)."""
        d = np.broadcast_to(np.asarray(d, dtype=float), self.v.shape)
        return Dual(self.v * d, None if self.J is None else _scale_rows(self.J, d))

    def __add__(self, other) -> Dual:
        if isinstance(other, Dual):
            return Dual(self.v + other.v, None if self.J is None else _add(self.J, other.J))
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
        return Dual(v, _add(_scale_rows(self.J, other.v), _scale_rows(other.J, self.v)))

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


def _take(J, idx: np.ndarray):
    """The rows ``idx`` of ``J``."""

    def make():
        p = J.pattern
        lengths = np.diff(p.indptr)[idx]
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        pos = (np.repeat(p.indptr[idx] - indptr[:-1], lengths) + np.arange(indptr[-1])).astype(np.int32)
        return Pattern(indptr, p.indices[pos], p.n_cols), pos

    pattern, pos = J.tape.step(make, J.pattern)
    return Rows(pattern, J._data[pos], J.tape, None if J.scale is None else J.scale[idx])


def _add(A, B):
    """``A + B`` (same rows), keeping every entry of either, even where the sum is zero."""

    a, b = A.pattern, B.pattern
    pattern, target = A.tape.step(
        lambda: _merge(np.concatenate([a.indices, b.indices]), np.concatenate([a.rows, b.rows]), a.n, a.n_cols), a, b
    )
    data = np.bincount(target, weights=np.concatenate([A.data, B.data]), minlength=pattern.indices.size)
    return Rows(pattern, data, A.tape)


def _merge(indices: np.ndarray, row: np.ndarray, n: int, n_cols: int) -> tuple[Pattern, np.ndarray]:
    """The pattern of entries in columns ``indices`` and rows ``row`` (of ``n``), repeated
    columns of a row merged; and the entry of that pattern each of them adds to."""
    key = row.astype(np.int64) * n_cols + indices
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    first = np.ones(key.size, dtype=bool)  # the first entry of each (row, column)
    first[1:] = ordered[1:] != ordered[:-1]
    target = np.empty(key.size, dtype=np.int32)
    target[order] = np.cumsum(first) - 1
    kept = ordered[first]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(kept // n_cols, minlength=n))])
    return Pattern(indptr, kept % n_cols, n_cols), target


def _stacked(patterns: list[Pattern]) -> Pattern:
    """The rows of ``patterns`` one after the other."""
    offsets = np.cumsum([0] + [p.indices.size for p in patterns[:-1]])
    indptr = np.concatenate([[0]] + [p.indptr[1:] + o for p, o in zip(patterns, offsets)])
    return Pattern(indptr, np.concatenate([p.indices for p in patterns]), patterns[0].n_cols)


def _scale_rows(J, d: np.ndarray):
    """``diag(d) @ J`` (pending: :class:`Rows`)."""
    return Rows(J.pattern, J._data, J.tape, d if J.scale is None else J.scale * d)


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
