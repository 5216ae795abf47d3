"""Build once, solve many: the model for one benchmark and the scenarios solved on it."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from . import __version__, solver as solver_mod
from .calibrate import benchmark
from .data import load_dataset
from .errors import ScenarioError
from .model import CoreModel
from .results import Closure, clean_attrs, extract, write_atomic
from .scenario import Instruments, Scenario


def _say(verbose: bool, msg: str) -> None:
    if verbose:
        print(msg, file=sys.stderr, flush=True)


@dataclass
class Results:
    """One solved scenario. ``dataset`` is the xarray Dataset of INTERFACE.md."""

    dataset: xr.Dataset
    scenario: Scenario | None = None
    info: dict = field(default_factory=dict)

    def to_netcdf(self, path: str | Path) -> Path:
        return write_atomic(self.dataset, path)

    @property
    def ev_pct(self):
        return self.dataset["ev_pct"].to_pandas()

    def summary(self) -> str:
        return summary_table(self.dataset)


class Model:
    """The core model built once for a benchmark dataset.

    >>> model = Model("default")
    >>> res = model.solve(Scenario.from_yaml("scenarios/nafta-tariff-cut.yaml"))

    Every :meth:`solve` sets the mutable parameters and re-solves, warm-started from the previous
    solution: nothing is rebuilt.
    """

    def __init__(self, data: str | Path | xr.Dataset = "default", solver: str | None = None,
                 verbose: bool = False):
        t0 = time.perf_counter()
        self.dataset = data if isinstance(data, xr.Dataset) else load_dataset(data)
        self.bench = benchmark(self.dataset)
        self.solver = solver_mod.pick(solver)
        self.verbose = verbose
        b = self.bench
        _say(verbose, f"building the model: {len(b.regions)} regions x {len(b.sectors)} sectors x "
                      f"{len(b.factors)} factors ...")
        self.core = CoreModel(b)
        n_var = sum(1 for v in self.core.instance.component_data_objects(pyo.Var))
        self.build_seconds = time.perf_counter() - t0
        _say(verbose, f"built: {n_var} unknowns in {self.build_seconds:.2f} s; dropped market "
                      f"(Walras): output_clearing{list(self.core.dropped)}")
        self.closure = Closure(dropped_equation=f"output_clearing[{','.join(self.core.dropped)}]")

    # ------------------------------------------------------------------
    def solve(self, scenario: Scenario | Instruments | None = None, *, warm_start: bool = True,
              options: dict | None = None) -> Results:
        """Solve one scenario (or raw instruments; ``None`` = the benchmark)."""
        b = self.bench
        if isinstance(scenario, Scenario):
            ins = scenario.instruments(b)
            opts = {**(scenario.solver or {}), **(options or {})}
        else:
            ins = scenario if scenario is not None else Instruments.benchmark(b)
            opts = dict(options or {})
        name = opts.pop("name", None) or self.solver
        self.core.set_instruments(ins.tariff, ins.tau, ins.endowment, ins.pnum,
                                  ins.revenue_pool, ins.revenue_share, ins.factor_pool)
        if not warm_start:
            self.core.reset_start()
        label = scenario.name if isinstance(scenario, Scenario) else "instruments"
        _say(self.verbose, f"solving {label} with {name} ...")
        info = solver_mod.solve(self.core.instance, solver=name, options=opts, tee=False)
        _say(self.verbose, f"solved in {info.seconds:.2f} s ({info.status}); largest residual "
                           f"{info.max_residual:.2e}")
        member = None
        if isinstance(scenario, Scenario) and scenario.union is not None:
            member = np.isin(np.asarray(b.regions), scenario.union.members)
        ds = extract(self.core, ins, member)
        world_income = float(np.sum(ds["income"].values))
        attrs = {
            "title": f"cge results: {label}",
            "scenario": label,
            "scenario_yaml": scenario.source_text if isinstance(scenario, Scenario) else None,
            "union": (f"{scenario.union.name}: {' '.join(scenario.union.members)}"
                      if isinstance(scenario, Scenario) and scenario.union else None),
            "stage": scenario.stage if isinstance(scenario, Scenario) else None,
            "dataset": self.dataset.attrs.get("name", "?"),
            "dataset_sha256": self.dataset.attrs.get("sha256", ""),
            "dataset_source": self.dataset.attrs.get("source", ""),
            "units": self.dataset.attrs.get("units", "benchmark currency units"),
            "cge_version": __version__,
            **{f"{k}_version": v for k, v in solver_mod.versions().items()},
            "solver": info.solver,
            "solver_status": info.status,
            "solver_iterations": info.iterations,
            "solver_seconds": round(info.seconds, 6),
            "max_residual": info.max_residual,
            "walras_residual_relative": abs(float(ds["walras_residual"])) / world_income,
            **self.closure.attrs(),
        }
        ds.attrs = clean_attrs(attrs)
        return Results(ds, scenario if isinstance(scenario, Scenario) else None,
                       {"solve": info, "build_seconds": self.build_seconds})


# ---------------------------------------------------------------------- API
def _as_scenario(s) -> Scenario:
    if isinstance(s, Scenario):
        return s
    if isinstance(s, dict):
        return Scenario.from_dict(s)
    return Scenario.from_yaml(s)


def run(scenario, data=None, solver: str | None = None, verbose: bool = False) -> Results:
    """Solve one scenario (a :class:`Scenario`, a dict, or a YAML path).

    ``data`` overrides the scenario's ``data`` (a built-in name, a path, or a Dataset).
    """
    sc = _as_scenario(scenario)
    model = Model(data if data is not None else _data_path(sc), solver=solver, verbose=verbose)
    return model.solve(sc)


def compare(scenarios, data=None, solver: str | None = None, verbose: bool = False) -> list[Results]:
    """Solve several scenarios on one built model (they must share a dataset)."""
    scs = [_as_scenario(s) for s in scenarios]
    if not scs:
        raise ScenarioError("compare needs at least one scenario")
    if data is None:
        datas = {_data_path(s) for s in scs}
        if len(datas) > 1:
            raise ScenarioError(f"the scenarios use different datasets ({', '.join(sorted(map(str, datas)))}); "
                                f"give --data to compare them on one benchmark")
        data = datas.pop()
    model = Model(data, solver=solver, verbose=verbose)
    return [model.solve(s) for s in scs]


def _data_path(sc: Scenario):
    """A scenario's ``data``: a built-in name, or a path relative to the scenario file."""
    d = sc.data
    if d.endswith(".nc") and not Path(d).is_absolute():
        cand = sc.base_dir / d
        if cand.exists():
            return str(cand)
    return d


# ---------------------------------------------------------------------- tables
def summary_table(ds: xr.Dataset) -> str:
    """EV% by region, with union, non-member and world totals."""
    regions = [str(r) for r in ds["region"].values]
    ev = ds["ev"].values
    pct = ds["ev_pct"].values
    inc0 = ds["income0"].values
    member = ds["member"].values if "member" in ds.coords else np.zeros(len(regions), dtype=bool)
    lines = [f"{'region':<10}{'member':>7}{'EV%':>10}{'EV':>16}"]
    for k, r in enumerate(regions):
        lines.append(f"{r:<10}{'yes' if member[k] else '':>7}{pct[k]:>10.4f}{ev[k]:>16.2f}")
    lines.append("-" * 43)
    groups = []
    if member.any():
        groups += [(ds.attrs.get("union", "union").split(":")[0], member), ("non-members", ~member)]
    groups.append(("world", np.ones(len(regions), dtype=bool)))
    for label, mask in groups:
        if mask.any():
            tot = ev[mask].sum()
            lines.append(f"{label:<17}{100 * tot / inc0[mask].sum():>10.4f}{tot:>16.2f}")
    lines.append(f"walras residual {float(ds['walras_residual']):.3g} "
                 f"({ds.attrs.get('walras_residual_relative', float('nan')):.2g} of world income)")
    return "\n".join(lines)
