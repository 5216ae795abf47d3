"""The sparse index sets of the model and the relations between them.

Only cells with a positive benchmark get variables and equations.  Every set is a list of label
tuples (``("MAN", "CHN")``, ``("MAN", "CHN", "USA")``), and :data:`SET_DIMS` names the dimensions
of each, so that a variable indexed by a set can be laid out along the benchmark's coordinates
(:meth:`cge.model.benchmark.Coords.grid`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cge.model.benchmark import Benchmark

#: the dimensions of each index set
SET_DIMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("YR", "AR", "DR", "MR", "VR", "NEST", "CET", "ISOLATED"), ("sector", "region")),
    "ROUTES": ("sector", "source", "dest"),
    "FM": ("factor", "region"),
    **dict.fromkeys(("FS", "FU"), ("factor", "sector", "region")),
}


@dataclass(frozen=True)
class Sets:
    """Index sets (label tuples) and their relations, built once from the benchmark."""

    YR: list  # (j, r) with output Y0 > 0
    AR: list  # (i, r) with composite A0 > 0
    DR: list  # (i, r) with domestic sales D0 > 0
    MR: list  # (i, r) with imports M0 > 0
    VR: list  # (j, r) with value added VA0 > 0
    ROUTES: list  # (i, s, r), s != r, with imports X0 > 0
    FM: list  # (f, r) mobile factor with endowment > 0
    FS: list  # (f, j, r) specific factor with F0 > 0
    FU: list  # (f, j, r) factor use F0 > 0 (mobile and specific)
    NEST: list  # (j, r) in YR with a production nest (esubt or esubc not 0; extension)
    CET: list  # (i, r) in YR with a finite CET elasticity, domestic sales and exports (extension)
    ISOLATED: list  # (j, r) in YR that trade only among themselves (isolated_cells; cge.model.isolated)
    mobile: dict = field(default_factory=dict)  # factor -> True if mobile

    @classmethod
    def of(cls, b: Benchmark) -> Sets:
        cells = {k: set(b.cells(k)) for k in ("Y0", "A0", "D0", "M0", "VA0", "endowment0")}
        ir = [(i, r) for i in b.sectors for r in b.regions]
        mobile = {f: mob == "mobile" for f, mob in zip(b.factors, b.mobility)}
        fu = sorted(b.cells("F0"), key=lambda k: b.coords.index(("factor", "sector", "region"), k))
        x0 = sorted(b.cells("X0"), key=lambda k: b.coords.index(("sector", "source", "dest"), k))
        exports0 = b.X0.sum(axis=2)  # not Y0 - D0, which rounding can leave at 1e-14
        sector_at = b.coords.index

        def has(name, k):
            return k in cells[name]

        def nest(k):
            a = sector_at(("sector",), k[0])[0]
            return b.esubt_[a] != 0 or b.esubc_[a] != 0

        def cet(k):
            a, c = sector_at(("sector", "region"), k)
            return np.isfinite(b.etrans_[a]) and has("D0", k) and exports0[a, c] > 0

        return cls(
            YR=[k for k in ir if has("Y0", k)],
            AR=[k for k in ir if has("A0", k)],
            DR=[k for k in ir if has("D0", k)],
            MR=[k for k in ir if has("M0", k)],
            VR=[k for k in ir if has("VA0", k)],
            ROUTES=x0,
            FM=[(f, r) for f in b.factors if mobile[f] for r in b.regions if has("endowment0", (f, r))],
            FS=[k for k in fu if not mobile[k[0]]],
            FU=fu,
            NEST=[k for k in ir if has("Y0", k) and nest(k)],
            CET=[k for k in ir if cet(k)],
            ISOLATED=isolated_cells(b),
            mobile=mobile,
        )

    # ----- relations, each a dict of lists in the order of the sets above
    @cached_property
    def routes_into(self) -> dict:
        """(i, r) -> the sources s of r's imports of i."""
        return _group(self.ROUTES, lambda i, s, r: ((i, r), s), self.MR)

    @cached_property
    def routes_from(self) -> dict:
        """(i, s) -> the destinations r of s's exports of i."""
        return _group(self.ROUTES, lambda i, s, r: ((i, s), r), self.YR)

    @cached_property
    def imports_of(self) -> dict:
        """r -> the (i, s) r imports (the routes whose tariff r collects)."""
        return _group(self.ROUTES, lambda i, s, r: (r, (i, s)))

    @cached_property
    def exports_of(self) -> dict:
        """s -> the (i, r) s exports (the routes whose export tax s collects)."""
        return _group(self.ROUTES, lambda i, s, r: (s, (i, r)))

    @cached_property
    def factors_of(self) -> dict:
        """(j, r) -> the factors j uses in r."""
        return _group(self.FU, lambda f, j, r: ((j, r), f), self.VR)

    @cached_property
    def mobile_users(self) -> dict:
        """(f, r) -> the sectors using mobile factor f in r."""
        return _group([k for k in self.FU if self.mobile[k[0]]], lambda f, j, r: ((f, r), j), self.FM)

    @cached_property
    def pooled_factors(self) -> list:
        """The mobile factors (those a common market may pool), in the dataset's order."""
        return list(dict.fromkeys(f for f, _ in self.FM))


def isolated_cells(b: Benchmark) -> list:
    """The output cells (j, r) that buy from and sell to nothing but each other.

    Such a cell has no value added, no exports, no imports of its good and no final demand of its
    good, and every input it uses and every user of its good is such a cell of the same region
    (the largest such set: cells are removed until the rule holds).  For example sector GDT in
    Qinghai in china-provinces, whose whole output is its own intermediate input.  Their zero
    profit and market clearing equations hold at any price and any activity level (their rows
    of the Jacobian are dependent), and no other equation reads them: :mod:`cge.model.isolated`
    pins them instead.
    """
    S, R = b.sectors, b.regions
    exports, fd, va, uses = b.X0.sum(axis=2), b.final_demand, b.VA0, b.intermediate != 0
    cells = {
        (a, c)
        for a in range(len(S))
        for c in range(len(R))
        if b.Y0[a, c] != 0 and va[a, c] == 0 and exports[a, c] == 0 and b.M0[a, c] == 0 and fd[a, c] == 0
    }
    changed = True
    while changed:
        inputs = {(a, c) for a, c in cells if not all((i, c) in cells for i in np.flatnonzero(uses[:, a, c]))}
        users = {(a, c) for a, c in cells if not all((j, c) in cells for j in np.flatnonzero(uses[a, :, c]))}
        changed = bool(inputs | users)
        cells -= inputs | users
    return [(S[a], R[c]) for a in range(len(S)) for c in range(len(R)) if (a, c) in cells]


def _group(cells, split, keys=()) -> dict:
    out: dict = defaultdict(list)
    for k in keys:
        out[k] = []
    for cell in cells:
        key, item = split(*cell)
        out[key].append(item)
    return dict(out)
