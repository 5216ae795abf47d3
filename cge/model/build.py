"""The model of MODEL.md sections 3-5 in Pyomo, assembled from its blocks, built once and
re-solved for every scenario.

:class:`EquationSystem` adds, in MODEL.md's order, the mutable parameters
(:mod:`~cge.model.parameters`), the unknowns (:mod:`~cge.model.unknowns`) and the blocks:
:mod:`~cge.model.prices`, :mod:`~cge.model.production`, :mod:`~cge.model.demand`,
:mod:`~cge.model.trade`, :mod:`~cge.model.markets`, :mod:`~cge.model.closure`,
:mod:`~cge.model.income`, and :mod:`~cge.model.isolated` (cells that trade with nothing else,
pinned to their benchmark).  Each block is a function of the model and its
:class:`~cge.model.structure.Structure` (the labelled benchmark, the sets, the options); an
extension (docs/extensions.md) changes expressions inside its block.  Units: see
:mod:`cge.model.ces`.

Scenario instruments and the elasticities ``esubd``, ``esubm``, ``esubva`` are fixed variables
(mutable parameters), except where the dataset's elasticity is exactly 1 or 0: those nests are
built in Cobb-Douglas or Leontief form and their elasticity is structural.  A counterfactual is
set-and-resolve, never a rebuild.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pyomo.core as pyo

from cge.model import closure, demand, income, isolated, markets, parameters, prices, production, trade, unknowns
from cge.model.benchmark import Benchmark
from cge.model.structure import ELASTICITIES, Structure
from cge.scenario.options import ModelOptions

#: the equation blocks, in the order they are added (MODEL.md section 5)
BLOCKS = (prices, production, demand, trade, markets, closure, income, isolated)


class EquationSystem:
    """MODEL.md's model for one benchmark; ``instance`` is the Pyomo ``ConcreteModel``."""

    ELASTICITIES = ELASTICITIES

    def __init__(self, bench: Benchmark, options: ModelOptions | None = None):
        self.structure = Structure.of(bench, options)
        st = self.structure
        #: the options (docs/extensions.md); their elasticity overrides are applied to the benchmark
        self.options = st.options
        #: the benchmark the model is built on
        self.bench = st.bm
        #: the index sets (label tuples)
        self.idx = st.sets
        m = pyo.ConcreteModel(name="cge_core")
        # the regions, by which the solver splits the system into blocks (cge.solve.linear)
        m.regions = pyo.Set(initialize=list(st.bm.regions), ordered=True, doc="regions")
        parameters.declare(m, st)
        #: the benchmark value of the unknowns that do not start at 1
        self.start = unknowns.declare(m, st)
        for block in BLOCKS:
            block.add(m, st)
        m.obj = pyo.Objective(expr=0.0)  # a square system: feasibility only
        parameters.fix_all(m)
        #: the output market dropped (Walras)
        self.dropped = st.dropped
        m.output_clearing[self.dropped].deactivate()
        self.instance = m

    @property
    def esub0(self) -> dict:
        """The dataset's elasticities (the calibrated values, kept when draws change them)."""
        return self.structure.esub0

    @property
    def structural(self) -> dict:
        return self.structure.structural

    def instruments(self) -> list:
        """The instrument components (fixed variables acting as mutable parameters)."""
        return parameters.components(self.instance)

    def unknowns(self):
        """The unknowns of the system: every variable that is not an instrument."""
        return iter(self._unknowns)

    @cached_property
    def _unknowns(self) -> tuple:
        """The unknowns, listed once (the model is complete when built)."""
        skip = {id(c) for c in self.instruments()}
        return tuple(v for v in self.instance.component_data_objects(pyo.Var) if id(v.parent_component()) not in skip)

    @cached_property
    def _start_values(self) -> list:
        """Every unknown with its benchmark value (:meth:`benchmark_value`)."""
        return [(var, self.benchmark_value(var)) for var in self._unknowns]

    def set_instruments(self, ins) -> None:
        """Set the scenario instruments (:func:`cge.model.parameters.set_instruments`)."""
        parameters.set_instruments(self.instance, self.structure, ins)

    def set_elasticities(self, esubd=None, esubm=None, esubva=None) -> None:
        """Set the elasticities by sector (:func:`cge.model.parameters.set_elasticities`)."""
        parameters.set_elasticities(self.instance, self.structure, esubd=esubd, esubm=esubm, esubva=esubva)

    def elasticities(self) -> dict:
        """The elasticities in use: {name: array by sector}."""
        return {k: np.array(getattr(self.bench, k), dtype=float) for k in ELASTICITIES}

    def reset_start(self) -> None:
        """Start the next solve from the benchmark (indices 1, net factor flows 0, benchmark revenue)."""
        for var, value in self._start_values:
            var.set_value(value)

    def benchmark_value(self, var) -> float:
        """The benchmark value of an unknown (1 for every price and activity index)."""
        v = self.start.get(var.parent_component().name, 1.0)
        return v[var.index()] if isinstance(v, dict) else v
