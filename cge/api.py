"""The public API: what ``import cge`` offers (loaded lazily by :mod:`cge`, so that the command
line answers without importing Pyomo).

>>> import cge
>>> ds = cge.load_dataset("default")
>>> res = cge.run("scenarios/north-america-fta.yaml")
>>> res.dataset["ev_pct"]
"""

from cge.dataset.schema import check_dataset, load_dataset
from cge.errors import CGEError, DataError, InputError, ScenarioError, SolveError
from cge.results.results import Comparison, Results
from cge.runs import Model, compare, run
from cge.scenario.scenario import Instruments, Scenario

__all__ = [
    "CGEError",
    "Comparison",
    "DataError",
    "InputError",
    "Instruments",
    "Model",
    "Results",
    "Scenario",
    "ScenarioError",
    "SolveError",
    "check_dataset",
    "compare",
    "load_dataset",
    "run",
]
