"""Systematic sensitivity analysis (SSA): how robust are the results to the elasticities and shocks?

The uncertain parameters -- the elasticities ``esubd``, ``esubm``, ``esubva`` by sector or scaled
together, and optionally the size of the scenario's shock -- get distributions around their values
(uniform, triangular or normal, by a relative spread).  The model is solved at a set of draws:

* ``quadrature``: Stroud's degree-3 rule with ``2n`` points for ``n`` uncertain parameters, as in
  GTAP's SSA (DeVuyst and Preckel 1997; Arndt 1996).  With independent parameters whose
  distributions are symmetric, the weighted nodes reproduce the expectation of every polynomial of
  degree <= 3 in the parameters exactly, so the mean and variance of a result are those of its
  third-order approximation;
* ``montecarlo``: ``n`` pseudo-random draws from a seeded :class:`numpy.random.Generator`.

Draws are generated up front and solved as a batch on Dask (a local cluster of processes by
default, or an existing cluster by address); each worker builds the model once and re-solves,
every draw starting from the benchmark, so the results do not depend on how the draws are spread
over workers.  A draw that fails is recorded (``status``, ``message``) with its parameters and the
batch goes on.  See ``docs/sensitivity.md``.

Modules: ``parameters`` (what is uncertain), ``draws`` (quadrature and Monte Carlo), ``worker``
(one draw solved), ``batch`` (serial or on Dask), ``stats`` (weighted summaries), ``output`` (the
Dataset and the summary table), ``analysis`` (:func:`sensitivity`).
"""

from __future__ import annotations

from .analysis import sensitivity
from .draws import apply_draw, draw_values, scaled_instruments, stroud3
from .output import SUMMARY_VARS, assemble, summary_table, write
from .parameters import (
    DISTRIBUTIONS,
    ELASTICITIES,
    KINDS,
    METHODS,
    Dimension,
    SSAConfig,
    Uncertain,
    dimensions,
    parse_parameters,
)
from .stats import CHEBYSHEV_K, PERCENTILES, STATS, group_ev_pct, summary_array, weighted_stats
from .worker import Outcome, Task, solve_draw

__all__ = [
    "CHEBYSHEV_K",
    "DISTRIBUTIONS",
    "ELASTICITIES",
    "KINDS",
    "METHODS",
    "PERCENTILES",
    "STATS",
    "SUMMARY_VARS",
    "Dimension",
    "Outcome",
    "SSAConfig",
    "Task",
    "Uncertain",
    "apply_draw",
    "assemble",
    "dimensions",
    "draw_values",
    "group_ev_pct",
    "parse_parameters",
    "scaled_instruments",
    "sensitivity",
    "solve_draw",
    "stroud3",
    "summary_array",
    "summary_table",
    "weighted_stats",
    "write",
]
