"""cge: a multi-region Armington CGE model for trade-integration analysis.

The data flow is one way: benchmark dataset -> model (built once) <- scenario instruments ->
solution -> effects -> report.

>>> import cge
>>> ds = cge.load_dataset("default")
>>> res = cge.run("scenarios/nafta-tariff-cut.yaml")
>>> res.dataset["ev_pct"]
"""
__version__ = "0.1.0"

from cge.dataset.schema import load_dataset, check_dataset  # noqa: E402
from cge.errors import CGEError, DataError, InputError, ScenarioError, SolveError  # noqa: E402
from cge.scenario.scenario import Instruments, Scenario  # noqa: E402
from cge.runs import Model, Results, compare, run  # noqa: E402

__all__ = ["__version__", "load_dataset", "check_dataset", "Scenario", "Instruments", "Model", "Results",
           "run", "compare", "CGEError", "DataError", "InputError", "ScenarioError", "SolveError"]
