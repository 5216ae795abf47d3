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
from typing import TYPE_CHECKING

import numpy as np

from cge.model import arrays as arrays_mod
from cge.model import parameters
from cge.model.arrays import ArrayModel
from cge.model.benchmark import Benchmark
from cge.model.structure import ELASTICITIES, Structure
from cge.scenario.options import ModelOptions

if TYPE_CHECKING:
    import pyomo.core as pyo


def pyomo_core():
    """``pyomo.core``, imported on first use (the model on arrays needs no Pyomo: 0.1 s of a run),
    with Pyomo's hook on the import of SciPy dropped: whoever imports SciPy after Pyomo would also
    import ``scipy.stats``, ``scipy.integrate`` and ``scipy.spatial``, which cge never uses (0.3 to
    0.5 s); Pyomo's own deferred ``scipy`` still imports them when Pyomo uses it (the IPOPT route)."""
    import pyomo.core
    from pyomo.common import dependencies

    callbacks = getattr(getattr(dependencies, "DeferredImportCallbackFinder", None), "_callbacks", None)
    if isinstance(callbacks, dict):
        callbacks.pop("scipy", None)
    return pyomo.core


def blocks() -> tuple:
    """The equation blocks, in the order they are added (MODEL.md section 5)."""
    pyomo_core()
    from cge.model import closure, demand, income, isolated, markets, prices, production, trade

    return (prices, production, demand, trade, markets, closure, income, isolated)


class EquationSystem:
    """MODEL.md's model for one benchmark; ``instance`` is the Pyomo ``ConcreteModel``.

    Where the model can also be stated on arrays (:mod:`cge.model.arrays`: MODEL.md's model with
    the tax extension), ``arrays`` is that statement and the point of record is the array ``x``
    (the unknowns in its column order): the Newton route solves it without building the Pyomo
    model at all.  The Pyomo model is then built on first use (another solver, a fallback, a
    question about an expression), and it always shows the current instruments and point.
    """

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
        #: the output market dropped (Walras)
        self.dropped = st.dropped
        #: the model on arrays, or None where an extension needs the Pyomo model
        self.arrays = ArrayModel(st) if arrays_mod.unsupported(st) is None else None
        self._x = self.arrays.start() if self.arrays is not None else None
        self._instance: pyo.ConcreteModel | None = None
        self._ins = None  # the instruments last set (None: the benchmark's)
        self._synced = False  # does the Pyomo model show the instruments and x?
        if self.arrays is None:
            self._instance = self._build()

    def _build(self) -> pyo.ConcreteModel:
        """The Pyomo model, in MODEL.md's order (see the module's doc)."""
        from cge.model import unknowns

        st, pyo = self.structure, pyomo_core()
        m = pyo.ConcreteModel(name="cge_core")
        # the regions, by which the solver splits the system into blocks (cge.solve.linear)
        m.regions = pyo.Set(initialize=list(st.bm.regions), ordered=True, doc="regions")
        parameters.declare(m, st)
        #: the benchmark value of the unknowns that do not start at 1
        self.start = unknowns.declare(m, st)
        for block in blocks():
            block.add(m, st)
        m.obj = pyo.Objective(expr=0.0)  # a square system: feasibility only
        parameters.fix_all(m)
        m.output_clearing[self.dropped].deactivate()
        return m

    @property
    def instance(self) -> pyo.ConcreteModel:
        """The Pyomo model (built on first use where there is a model on arrays), showing the
        current instruments and point."""
        if self._instance is None:
            self._instance = self._build()
        if self.arrays is not None and not self._synced:
            if self._ins is not None:
                parameters.set_instruments(self._instance, self.structure, self._ins)
            for var, value in zip(self._array_vars, self.x.tolist()):
                var.set_value(value, skip_validation=True)
            self._synced = True
        return self._instance

    @cached_property
    def _array_vars(self) -> list:
        """The Pyomo variable of every unknown of the model on arrays, in its column order."""
        m = self._instance
        assert m is not None and self.arrays is not None
        return [getattr(m, name)[key] for name, key in self.arrays.unknowns]

    @property
    def x(self) -> np.ndarray:
        """The point of the model on arrays (its unknowns, in column order)."""
        assert self._x is not None
        return self._x

    @x.setter
    def x(self, value: np.ndarray) -> None:
        self._x = np.asarray(value, dtype=float)
        self._synced = False

    def pull(self) -> None:
        """After a solve of the Pyomo model: its point becomes the point of record."""
        if self.arrays is not None and self._instance is not None:
            self._x = np.array([v.value for v in self._array_vars], dtype=float)
            self._synced = True

    @property
    def n_unknowns(self) -> int:
        return self.arrays.n if self.arrays is not None else len(self._unknowns)

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
        variables = self.instance.component_data_objects(pyomo_core().Var)
        return tuple(v for v in variables if id(v.parent_component()) not in skip)

    @cached_property
    def _start_values(self) -> list:
        """Every unknown with its benchmark value (:meth:`benchmark_value`)."""
        return [(var, self.benchmark_value(var)) for var in self._unknowns]

    def set_instruments(self, ins) -> None:
        """Set the scenario instruments (:func:`cge.model.parameters.set_instruments`)."""
        parameters.check_instruments(self.structure, ins)
        if self.arrays is None:
            parameters.set_instruments(self.instance, self.structure, ins)
            return
        self.arrays.set_instruments(ins)
        self._ins, self._synced = ins, False

    def set_elasticities(self, esubd=None, esubm=None, esubva=None) -> None:
        """Set the elasticities by sector (:func:`cge.model.parameters.set_elasticities`)."""
        parameters.set_elasticities(self._instance, self.structure, esubd=esubd, esubm=esubm, esubva=esubva)

    def elasticities(self) -> dict:
        """The elasticities in use: {name: array by sector}."""
        return {k: np.array(getattr(self.bench, k), dtype=float) for k in ELASTICITIES}

    def reset_start(self) -> None:
        """Start the next solve from the benchmark (indices 1, net factor flows 0, benchmark revenue)."""
        if self.arrays is not None:
            self.x = self.arrays.start()
            return
        for var, value in self._start_values:
            var.set_value(value)

    def point(self):
        """The current point (to put back with :meth:`restore`)."""
        if self.arrays is not None:
            return self.x.copy()
        return [v.value for v in self._unknowns]

    def restore(self, point) -> None:
        if self.arrays is not None:
            self.x = point
            return
        for v, value in zip(self._unknowns, point):
            v.set_value(value, skip_validation=True)

    def benchmark_value(self, var) -> float:
        """The benchmark value of an unknown (1 for every price and activity index)."""
        self.instance  # noqa: B018  (built, so that ``start`` is known)
        v = self.start.get(var.parent_component().name, 1.0)
        return v[var.index()] if isinstance(v, dict) else v
