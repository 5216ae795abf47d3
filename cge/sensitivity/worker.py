"""The worker side: one draw solved on this process's model (built once, re-solved), never raising."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from pydantic import PrivateAttr

from cge.scenario.scenario import Instruments, Scenario


class _Fixed(Scenario):
    """A scenario whose instruments are given (computed and checked once, on the client)."""

    _ins: Any = PrivateAttr(default=None)

    def instruments(self, bench):
        return self._ins.copy()


def fixed_scenario(sc: Scenario, ins: Instruments) -> _Fixed:
    fx = _Fixed.model_construct(**{k: getattr(sc, k) for k in Scenario.model_fields})
    fx._ins = ins
    return fx


@dataclass
class Task:
    index: int
    key: str
    data: Any  # dataset name/path, or an xarray Dataset
    solver: str | None
    scenario: Scenario  # a _Fixed scenario
    esub: dict
    steps: int
    options: dict | None = None
    model_options: Any = None  # cge.scenario.options.ModelOptions: the scenario's model section, resolved


@dataclass
class Outcome:
    index: int
    ok: bool
    message: str
    dataset: xr.Dataset | None
    seconds: float


#: the models built in this process, by dataset key (on a Dask worker: built once, re-solved)
MODELS: dict = {}


def model_for(key: str, data, solver, model_options=None):
    mdl = MODELS.get((key, solver, model_options))
    if mdl is None:
        from cge.runs import Model

        if len(MODELS) >= 4:
            MODELS.clear()
        mdl = MODELS[(key, solver, model_options)] = Model(data, solver=solver, options=model_options)
    return mdl


def solve_draw(task: Task, data=None) -> Outcome:
    """Solve one draw on this process's model (built on first use); never raises.

    ``data`` overrides ``task.data`` (on Dask: the benchmark scattered once to every worker)."""
    t0 = time.perf_counter()
    try:
        model = model_for(task.key, task.data if data is None else data, task.solver, task.model_options)
        model.core.set_elasticities(**task.esub)
        res = model.solve(task.scenario, warm_start=False, steps=task.steps, options=task.options)
        ds = res.dataset
        ds = ds.assign(
            solver_iterations=int(ds.attrs.get("solver_iterations", 0)),
            max_residual=float(ds.attrs.get("max_residual", np.nan)),
        )
        ds.attrs = {}
        return Outcome(task.index, True, "ok", ds, time.perf_counter() - t0)
    except Exception as exc:  # a failed draw is data, not a crash
        return Outcome(task.index, False, f"{type(exc).__name__}: {exc}".strip(), None, time.perf_counter() - t0)
