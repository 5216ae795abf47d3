"""What every equation block reads: the benchmark's labelled cells, the index sets, the options.

A :class:`Structure` is made once per model.  Blocks read benchmark values by label
(``st.Y0[("MAN", "USA")]``), never by array position.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from cge.model.benchmark import Benchmark
from cge.model.dynamics import Capital, Scale
from cge.model.sets import Sets
from cge.scenario.options import ModelOptions

#: the elasticities a model carries as instruments (by sector), so that they can be drawn
ELASTICITIES = ("esubd", "esubm", "esubva")


@dataclass(frozen=True)
class Structure:
    """The benchmark (with the options' elasticity overrides applied), its sets and the options."""

    bm: Benchmark
    sets: Sets
    options: ModelOptions

    @classmethod
    def of(cls, bench: Benchmark, options: ModelOptions | None = None) -> Structure:
        options = options or ModelOptions()
        bm = options.apply(bench)
        return cls(bm, Sets.of(bm), options)

    def __getattr__(self, name: str):
        """A benchmark array's cells by label (``Y0``, ``X0``, ``thM``, ...), computed once."""
        if name.startswith("_") or name not in _CELLS:
            raise AttributeError(name)
        value = self.bm.cells(_CELLS[name])
        object.__setattr__(self, name, value)
        return value

    # ----- per-region and per-sector values
    @cached_property
    def INC0(self) -> dict:
        return dict(zip(self.bm.regions, self.bm.INC0))

    @cached_property
    def B(self) -> dict:
        """Benchmark trade deficit by region (imports less exports at fob prices)."""
        return dict(zip(self.bm.regions, self.bm.B))

    @cached_property
    def trs0(self) -> dict:
        """Benchmark tariff revenue as a share of benchmark income, by region."""
        return dict(zip(self.bm.regions, np.asarray(self.bm.tariff_revenue0) / np.asarray(self.bm.INC0)))

    @cached_property
    def extension_elasticities(self) -> dict:
        """esubt, esubc, etrans by sector and esubfd by region: numbers fixed when the model is built."""
        b = self.bm
        by_sector = {k: dict(zip(b.sectors, map(float, getattr(b, k + "_")))) for k in ("esubt", "esubc", "etrans")}
        return {**by_sector, "esubfd": dict(zip(b.regions, map(float, b.esubfd_)))}

    @cached_property
    def esub0(self) -> dict:
        """The dataset's elasticities (the calibrated values, kept when draws change them)."""
        return {k: np.array(getattr(self.bm, k), dtype=float) for k in ELASTICITIES}

    @cached_property
    def structural(self) -> dict:
        """(parameter, sector) -> value for the nests built in Cobb-Douglas (1) or Leontief (0) form."""
        return {
            (k, i): float(v) for k in ELASTICITIES for i, v in zip(self.bm.sectors, self.esub0[k]) if v in (0.0, 1.0)
        }

    def sigma(self, m, name: str, sector: str):
        """The elasticity used in the expressions: a number for a structural (0 or 1) nest, else
        the instrument variable."""
        key = (name, sector)
        return self.structural[key] if key in self.structural else getattr(m, name)[sector]

    @cached_property
    def scale(self) -> Scale | None:
        """Scale economies (docs/dynamics.md sections 1-3); None: constant returns everywhere."""
        return Scale.of(self.bm, self.options)

    @cached_property
    def capital(self) -> Capital | None:
        """The steady-state capital closure (docs/dynamics.md section 4); None: fixed capital."""
        return Capital.of(self.bm, self.options)

    @cached_property
    def capital_cells(self) -> list:
        """The index of the capital stock ``K``: (factor, region) for mobile capital, (factor,
        sector, region) for sector-specific capital; empty under the fixed closure."""
        c = self.capital
        if c is None:
            return []
        return [k for k in (self.sets.FM if c.mobile else self.sets.FS) if k[0] == c.factor]

    @cached_property
    def cet(self) -> frozenset:
        """The (i, r) with a CET between domestic sales and exports (extension)."""
        return frozenset(self.sets.CET)

    @property
    def routes_from(self) -> dict:
        return self.sets.routes_from

    @cached_property
    def nested(self) -> frozenset:
        """The (j, r) with a production nest (extension esubt, esubc)."""
        return frozenset(self.sets.NEST)

    @cached_property
    def intermediate_total(self) -> dict:
        """(j, r) -> benchmark intermediate inputs of j in r, for the production nests."""
        return {k: sum(a for _, a in self.inputs_of[k]) for k in self.sets.NEST}

    @cached_property
    def inputs_of(self) -> dict:
        """(j, r) -> [(i, benchmark intermediate i used by j in r)]."""
        out: dict = {k: [] for k in self.sets.YR}
        for (i, j, r), v in self.intermediate.items():
            out[(j, r)].append((i, v))
        return out

    @cached_property
    def users_of(self) -> dict:
        """(i, r) -> [(j, benchmark intermediate i used by j in r)]."""
        out: dict = {k: [] for k in self.sets.AR}
        for (i, j, r), v in self.intermediate.items():
            out[(i, r)].append((j, v))
        return out

    @cached_property
    def exports0(self) -> dict:
        """(i, r) -> benchmark exports, for the CET (extension)."""
        routes_from = self.sets.routes_from
        return {k: sum(self.X0[(k[0], k[1], s)] for s in routes_from[k]) for k in self.sets.CET}

    @cached_property
    def pooled_endowment0(self) -> dict:
        """factor -> the world's benchmark endowment of a mobile factor (scales its pool equation)."""
        return {f: sum(self.E0[k] for k in self.sets.FM if k[0] == f) for f in self.sets.pooled_factors}

    @cached_property
    def dropped(self) -> tuple:
        """The output market left out (Walras): the largest, ties broken by codes.

        The choice depends only on the data, not on the order of regions or sectors; an isolated
        cell (:mod:`cge.model.isolated`) is never chosen.
        """
        isolated = set(self.sets.ISOLATED)
        return max((k for k in self.sets.YR if k not in isolated), key=lambda k: (self.Y0[k], k))


#: attribute -> benchmark array read as labelled cells
_CELLS = {
    "Y0": "Y0",
    "D0": "D0",
    "M0": "M0",
    "A0": "A0",
    "VA0": "VA0",
    "X0": "X0",
    "PG0": "PG0",
    "thM": "thM",
    "F0": "F0",
    "thF": "thF",
    "thD": "thD",
    "beta": "beta",
    "fd0": "final_demand",
    "intermediate": "intermediate",
    "E0": "endowment0",
    "t0": "tariff0",
    "to0": "to0",
    "te0": "te0",
    "COST0": "COST0",
    "trade": "trade",
}
