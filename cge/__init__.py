"""cge: a multi-region Armington CGE model for trade-integration analysis.

The data flow is one way, and the sub-packages follow it: raw table -> :mod:`cge.dataset`
(recipes, checks, the built-in benchmarks) -> :mod:`cge.model` (the benchmark's shares and the
equation blocks, built once) <- :mod:`cge.scenario` (stages and shocks set the instruments) ->
:mod:`cge.solve` -> :mod:`cge.results` (solution, effects, group totals) -> :mod:`cge.report`.
The public names (:mod:`cge.api`) load on first use, so ``import cge`` is cheap.

>>> import cge
>>> res = cge.run("scenarios/north-america-fta.yaml")
>>> res.dataset["ev_pct"]
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = (
    "CGEError", "Comparison", "DataError", "InputError", "Instruments", "Model", "Results", "Scenario",
    "ScenarioError", "SolveError", "check_dataset", "compare", "load_dataset", "run",
)  # fmt: skip
__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module("cge.api"), name)
        globals()[name] = value
        return value
    if name in ("dataset", "model", "scenario", "solve", "results", "report", "sensitivity", "plot", "api", "cli"):
        return importlib.import_module(f"cge.{name}")
    raise AttributeError(f"module 'cge' has no attribute {name!r}")
