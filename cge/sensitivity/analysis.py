"""The analysis of one scenario: draws generated up front, solved as a batch, assembled (:func:`sensitivity`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from cge.errors import InputError

from .batch import Progress, data_key, run_dask, run_serial
from .draws import apply_draw, border_shifted, draws_of, scaled_instruments
from .output import assemble, write
from .parameters import SSAConfig, dimensions, parse_parameters
from .worker import Task, fixed_scenario, model_for


def sensitivity(
    scenario,
    data=None,
    parameters="esubd,esubm,esubva",
    distribution: str = "uniform",
    spread=0.5,
    method: str = "quadrature",
    n: int | None = None,
    seed: int | None = 0,
    scheduler: str | None = None,
    workers: int | None = None,
    steps: int = 1,
    stage: str | None = None,
    solver: str | None = None,
    progress: bool = True,
    options: dict | None = None,
    config: SSAConfig | None = None,
    draws: np.ndarray | None = None,
    out: str | Path | None = None,
) -> xr.Dataset:
    """Systematic sensitivity analysis of one scenario; returns the draws and their summaries.

    ``scenario``: a :class:`Scenario`, dict or YAML path; of a ladder, the stage ``stage`` (default
    its last), solved from the benchmark as that stage's own scenario.  ``parameters``: specs
    (``"esubd,esubm,esubva"``; ``esubd:AGR+MAN``; ``esubd*`` scales a group together; ``shock``)
    or :class:`Uncertain` objects; ``distribution`` and ``spread`` apply to the specs given as
    strings.  ``method``: ``quadrature`` (Stroud degree 3, ``2n`` draws) or ``montecarlo`` (``n``
    draws, ``seed``).  ``scheduler``: ``None``/``"local"`` (a local Dask cluster of ``workers``
    processes, default this machine's cores), ``"serial"`` (in this process, no Dask) or a Dask
    scheduler address (``tcp://host:8786``).  ``steps``: solves from the benchmark per draw.
    ``draws``: explicit parameter values (draw, uncertain parameter), equal weights, instead of
    sampling.  ``out``: also write the Dataset there (netCDF, atomically).

    The Dataset has every result variable with a leading ``draw`` dimension (NaN for failed
    draws), ``param_value`` (draw, param), ``esubd``/``esubm``/``esubva`` (draw, sector), ``shock_scale``,
    ``weight``, ``status`` and ``message`` (draw), and ``<var>_summary`` (stat, ...) for the
    variables of :data:`SUMMARY_VARS` and ``ev_pct_group`` (union, non-members, world).
    """
    from cge.runs import _as_scenario, _data_path

    sc = one_stage(_as_scenario(scenario), stage)
    if config is None:
        config = SSAConfig(parse_parameters(parameters, distribution, spread), method, n, seed, steps)
    if scheduler not in (None, "local", "serial") and not isinstance(scheduler, str):
        raise InputError(f"scheduler: give 'local', 'serial' or a Dask scheduler address, got {scheduler!r}")
    if workers is not None and int(workers) < 1:
        raise InputError(f"workers: at least 1, got {workers}")
    data = data if data is not None else _data_path(sc)
    key = data_key(data)
    from cge.dataset.schema import load_dataset
    from cge.model.benchmark import benchmark

    loaded = data if isinstance(data, xr.Dataset) else load_dataset(data)  # read once, here
    model_options = sc.model_options(benchmark(loaded))
    model = model_for(key, loaded, solver, model_options)  # the client's model: checks and instruments
    bench, core = model.bench, model.core
    dims = dimensions(config.parameters, bench, core.structural)
    if any(d.kind == "border_cost" for d in dims):
        border_shifted(sc, 0.0)  # refuses a scenario whose border cost has no distribution
    final = sc.instruments(bench)
    values, weights, method_used = draws_of(dims, config, draws)
    esub0 = core.esub0
    tasks = []
    for k, row in enumerate(values):
        esub, lam, z = apply_draw(dims, row, esub0)
        ins = border_shifted(sc, z).instruments(bench) if z else final
        task_sc = fixed_scenario(sc, scaled_instruments(bench, ins, lam))
        tasks.append(Task(k, key, data, solver, task_sc, esub, int(config.steps), options, model_options))
    prog = Progress(len(tasks), progress)
    prog.say(
        f"sensitivity of {sc.name}: {len(dims)} uncertain parameters, {len(tasks)} draws "
        f"({method_used}), scheduler {scheduler or 'local'}"
    )
    if scheduler == "serial":
        outcomes = run_serial(tasks, prog)
    else:
        outcomes = run_dask(tasks, scheduler, workers, prog, data)
    core.set_elasticities(**esub0)  # leave the client's model as built
    ds = assemble(outcomes, tasks, dims, values, weights, sc, model, config, method_used)
    if out is not None:
        write(ds, out)
    return ds


def one_stage(sc, stage: str | None):
    """The scenario drawn over: ``sc`` itself, or the stage ``stage`` of a ladder (default its last)
    as that stage's own scenario (:meth:`Scenario.steps`: the options that stage reads)."""
    if not sc.is_ladder:
        if stage is not None:
            raise InputError(f"{sc.where}: --stage {stage}: the scenario is not a ladder (stages: is not given)")
        return sc
    rungs = {rung.stage: rung for rung in sc.steps()}
    if stage is None:
        return list(rungs.values())[-1]
    if stage not in rungs:
        raise InputError(f"{sc.where}: --stage {stage}: not a stage of the ladder ({', '.join(rungs)})")
    return rungs[stage]
