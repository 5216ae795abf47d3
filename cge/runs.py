"""Build once, solve many: the model for one benchmark and the scenarios solved on it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

from cge import __version__
from cge import solve as solver_mod
from cge.dataset.schema import load_dataset
from cge.errors import ScenarioError
from cge.model.benchmark import benchmark
from cge.model.build import EquationSystem
from cge.progress import bar, say
from cge.results.extract import Closure, clean_attrs, extract, with_names
from cge.results.results import Comparison, Results
from cge.scenario.options import ModelOptions, ModelSection
from cge.scenario.options import resolve as resolve_options
from cge.scenario.scenario import Instruments, Scenario


def _say(verbose: bool, msg: str) -> None:
    if verbose:
        say(msg)


class Model:
    """The core model built once for a benchmark dataset.

    >>> model = Model("default")
    >>> res = model.solve(Scenario.from_yaml("scenarios/north-america-fta.yaml"))

    Every :meth:`solve` sets the mutable parameters and re-solves, warm-started from the previous
    solution: nothing is rebuilt.
    """

    def __init__(
        self,
        data: str | Path | xr.Dataset = "default",
        solver: str | None = None,
        verbose: bool = False,
        options: ModelOptions | ModelSection | dict | None = None,
    ):
        t0 = time.perf_counter()
        self.dataset = data if isinstance(data, xr.Dataset) else load_dataset(data)
        data_bench = benchmark(self.dataset)
        #: the model options (docs/extensions.md); MODEL.md's core when none are given
        self.options = (
            options if isinstance(options, ModelOptions) else resolve_options(options, data_bench, "model options")
        )
        self.solver = solver_mod.pick(solver)
        self.verbose = verbose
        b = data_bench
        _say(
            verbose,
            f"building the model: {len(b.regions)} regions x {len(b.sectors)} sectors x "
            f"{len(b.factors)} factors"
            + ("" if self.options == ModelOptions() else f" ({self.options.describe()})")
            + " ...",
        )
        self.core = EquationSystem(b, self.options)
        #: the benchmark the model is built on (the dataset with the options' elasticities)
        self.bench = self.core.bench
        n_var = sum(1 for v in self.core.unknowns())
        self.build_seconds = time.perf_counter() - t0
        _say(
            verbose,
            f"built: {n_var} unknowns in {self.build_seconds:.2f} s; dropped market "
            f"(Walras): output_clearing{list(self.core.dropped)}",
        )
        self.closure = Closure.from_options(self.options, f"output_clearing[{','.join(self.core.dropped)}]")

    # ------------------------------------------------------------------
    #: steps along the path from the benchmark used for the welfare decomposition
    DEFAULT_STEPS = 6

    def solve(
        self,
        scenario: Scenario | Instruments | None = None,
        *,
        warm_start: bool = True,
        options: dict | None = None,
        steps: int | None = None,
    ) -> Results:
        """Solve one scenario (or raw instruments; ``None`` = the benchmark) and compute its effects.

        The instruments move from the benchmark to the scenario in ``steps`` equal steps (default
        6), each solve warm-started from the previous one; the welfare decomposition integrates
        along that path. ``steps=1`` solves the scenario directly (decomposition in one step);
        ``steps=0`` skips the decomposition.  ``warm_start=True`` starts from the last solution and
        lets the solver reuse what it kept (the newton route's factorised Jacobian);
        ``warm_start=False`` starts from the benchmark with nothing kept, so the answer does not
        depend on what was solved before, bit for bit.
        """
        from cge.results import effects, units

        b = self.bench
        if isinstance(scenario, Scenario):
            self.check_options(scenario)
            ins = scenario.instruments(b)
            opts = {**(scenario.solver or {}), **(options or {})}
        else:
            ins = scenario if scenario is not None else Instruments.benchmark(b)
            opts = dict(options or {})
        steps = self.DEFAULT_STEPS if steps is None else int(steps)
        name = opts.pop("name", None) or self.solver
        label = scenario.name if isinstance(scenario, Scenario) else "instruments"
        member = np.zeros(len(b.regions), dtype=bool)
        if isinstance(scenario, Scenario) and scenario.union is not None:
            member = np.isin(np.asarray(b.regions), scenario.union.members)
        start = Instruments.benchmark(b)
        bench_ds = self.benchmark_solution(member)
        if not warm_start:  # a cold start: the benchmark, and nothing kept from earlier solves
            self.core.reset_start()
            solver_mod.forget(self.core.instance)
        lambdas = [k / steps for k in range(1, steps + 1)] if steps > 0 else [1.0]
        path, seconds, iterations = [bench_ds], 0.0, 0
        _say(
            self.verbose,
            f"solving {label} with {name}"
            + (f" in {len(lambdas)} steps from the benchmark" if len(lambdas) > 1 else "")
            + " ...",
        )
        for k, lam in enumerate(lambdas, start=1):
            here = start.towards(ins, lam) if lam < 1.0 else ins
            self.core.set_instruments(here)
            info = solver_mod.solve(
                self.core.instance,
                solver=name,
                options=opts,
                tee=False,
                progress=self._progress() if self.verbose else None,
                note=(lambda msg: _say(True, "    " + msg)) if self.verbose else None,
            )
            seconds += info.seconds
            iterations += info.iterations or 0
            if len(lambdas) > 1:
                _say(
                    self.verbose,
                    f"  step {k}/{len(lambdas)}: {info.status}, {info.seconds:.2f} s, "
                    f"largest residual {info.max_residual:.1e}",
                )
            path.append(extract(self.core, here, member))
        _say(self.verbose, f"solved in {seconds:.2f} s ({info.status}); largest residual {info.max_residual:.2e}")
        sub = None
        if isinstance(scenario, Scenario) and scenario.subtotals:
            sub = self._subtotals(scenario, path, lambdas, start, ins, lambda x: self._solve_at(x, name, opts, member))
        ds = effects.add_effects(path[-1], bench_ds, path if steps > 0 else None, member, b, self.options.trade_balance)
        unit = units.dataset_unit(self.dataset.attrs)
        ds = units.stamp(ds, unit, self.dataset.get("population"))
        ds = with_names(ds, str(self.dataset.attrs.get("name", "")))
        world_income = float(np.sum(ds["income"].values))
        attrs = {
            "title": f"cge results: {label}",
            "scenario": label,
            "scenario_yaml": scenario.source_text if isinstance(scenario, Scenario) else None,
            "union": (
                f"{scenario.union.name}: {' '.join(scenario.union.members)}"
                if isinstance(scenario, Scenario) and scenario.union
                else None
            ),
            "stage": scenario.stage if isinstance(scenario, Scenario) else None,
            "dataset": self.dataset.attrs.get("name", "?"),
            "dataset_sha256": self.dataset.attrs.get("sha256", ""),
            "dataset_source": self.dataset.attrs.get("source", ""),
            "units": unit,
            "dataset_year": self.dataset.attrs.get("year"),
            "cge_version": __version__,
            **{f"{k}_version": v for k, v in solver_mod.versions(info.solver).items()},
            "solver": info.solver,
            "solver_status": info.status,
            "solver_iterations": int(iterations),
            "solver_seconds": round(seconds, 6),
            "solver_solves": len(lambdas),
            "decomposition_steps": steps,
            "max_residual": info.max_residual,
            "walras_residual_relative": abs(float(ds["walras_residual"])) / world_income,
            **self.closure.attrs(),
            "model_options": self.options.describe(),
        }
        ds.attrs = clean_attrs(attrs)
        if sub is not None:
            sub = units.stamp(sub, unit)
            sub.attrs = clean_attrs(
                {**attrs, "title": f"cge subtotals: {label}", "description": sub.attrs["description"]}
            )
        return Results(
            ds,
            scenario if isinstance(scenario, Scenario) else None,
            {"solve": info, "build_seconds": self.build_seconds, "solve_seconds": seconds},
            subtotals=sub,
        )

    def _solve_at(self, ins: Instruments, name: str, opts: dict, member: np.ndarray) -> xr.Dataset:
        """The solution at ``ins`` (warm-started, quietly), as :func:`extract` lays it out."""
        self.core.set_instruments(ins)
        solver_mod.solve(self.core.instance, solver=name, options=opts, tee=False)
        return extract(self.core, ins, member)

    def _subtotals(self, scenario, path, lambdas, start, final, solve_at) -> xr.Dataset:
        from cge.results import subtotals

        changes = subtotals.group_changes(scenario, self.bench)
        _say(self.verbose, f"subtotals: {len(changes)} groups ({', '.join(changes)}), {2 * len(changes)} solves a step")
        return subtotals.subtotals(path, lambdas, start, final, changes, solve_at)

    def check_options(self, scenario: Scenario) -> None:
        """Refuse a scenario whose ``model:`` section asks for a different model than this one."""
        if scenario.model is None and not scenario.uses_taxes:
            return  # the scenario takes the model as built
        if scenario.model is None:  # tax shocks: the tax instruments must be there
            if not self.options.taxes:
                raise ScenarioError(
                    f"{scenario.where}: the shocks change output or export taxes, but this model "
                    f"was built without the tax instruments: build it with options "
                    f"{{'taxes': True}} (or run the scenario with cge.run)"
                )
            return
        wanted = scenario.model_options(self.bench)
        if wanted != self.options:
            raise ScenarioError(
                f"{scenario.where}: model: the scenario asks for a model with options "
                f"({wanted.describe()}), but this one was built with ({self.options.describe()}); "
                f"build a Model with the scenario's options, or use cge.run / cge.compare, "
                f"which build one model per distinct model section"
            )

    @staticmethod
    def _progress():
        """IPOPT iterations and the largest residual, on standard error, once a solve takes over 2 s."""
        import os

        start = time.perf_counter()
        try:  # a copy of the terminal's stderr: Pyomo captures file descriptors 1 and 2 while IPOPT runs
            out = os.fdopen(os.dup(sys.stderr.fileno()), "w")
        except (OSError, ValueError, AttributeError):
            out = sys.stderr

        def report(iteration: int, residual: float) -> None:
            if time.perf_counter() - start > 2.0:
                print(
                    f"    iteration {iteration}: largest residual {residual:.2e} ({time.perf_counter() - start:.0f} s)",
                    file=out,
                    flush=True,
                )

        return report

    def benchmark_solution(self, member=None) -> xr.Dataset:
        """The benchmark as a solution (every index 1), without solving; variables are reset."""
        ins = Instruments.benchmark(self.bench)
        self.core.set_instruments(ins)
        saved = {id(v): v.value for v in self.core.unknowns()}
        self.core.reset_start()
        ds = extract(self.core, ins, member)
        for v in self.core.unknowns():  # keep the warm start
            v.set_value(saved[id(v)], skip_validation=True)
        return ds


# ---------------------------------------------------------------------- API
def _as_scenario(s) -> Scenario:
    if isinstance(s, Scenario):
        return s
    if isinstance(s, dict):
        return Scenario.from_dict(s)
    return Scenario.from_yaml(s)


def run(scenario, data=None, solver: str | None = None, verbose: bool = False, steps: int | None = None) -> Results:
    """Solve one scenario (a :class:`Scenario`, a dict, or a YAML path).

    ``data`` overrides the scenario's ``data`` (a built-in name, a path, or a Dataset).
    A ladder (``stages: [...]``) is solved with :func:`compare`.
    """
    sc = _as_scenario(scenario)
    if sc.is_ladder:
        raise ScenarioError(
            f"{sc.where}: a ladder of stages ({', '.join(sc.stages)}) gives one result per "  # type: ignore[arg-type]
            f"stage: use cge.compare([...]) (or `cge compare` / `cge run` on the command line)"
        )
    ds = _load(data if data is not None else _data_path(sc))
    model = Model(ds, solver=solver, verbose=verbose, options=sc.model_options(benchmark(ds)))
    return model.solve(sc, steps=steps)


def compare(
    scenarios, data=None, solver: str | None = None, verbose: bool = False, steps: int | None = None
) -> Comparison:
    """Solve several scenarios, and every stage of a ladder, on one built model, in order.

    Each solve is warm-started from the previous one; the model is built once (the scenarios must
    share a dataset, or ``data`` is given).
    """
    scs = [_as_scenario(s) for s in scenarios]
    if not scs:
        raise ScenarioError("compare needs at least one scenario")
    if data is None:
        datas = {_data_path(s) for s in scs}
        if len(datas) > 1:
            raise ScenarioError(
                f"the scenarios use different datasets ({', '.join(sorted(map(str, datas)))}); "
                f"give --data to compare them on one benchmark"
            )
        data = datas.pop()
    ladder = [step for s in scs for step in s.steps()]
    names = [s.name for s in ladder]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ScenarioError(f"scenario names must differ to be compared: {', '.join(dup)}")
    ds = _load(data)
    bench = benchmark(ds)
    options = []
    for step in ladder:  # refuse bad input before the first solve
        step.check(bench)
        options.append(step.model_options(bench))
    models: dict[ModelOptions, Model] = {}  # one built model per distinct model section
    out = []
    with bar(len(ladder), "scenarios solved", enabled=verbose) as progress:
        for step, opt in zip(ladder, options):
            if opt not in models:
                models[opt] = Model(ds, solver=solver, verbose=verbose, options=opt)
            out.append(models[opt].solve(step, steps=steps))
            progress.set_postfix_str(step.name, refresh=False)
            progress.update()
    return Comparison(out)


def check(scenario, data=None) -> str:
    """Check a scenario (and every stage of a ladder) against its dataset without solving: codes,
    stage options, shocks, tariff files and model options; the instruments are set up as for a
    solve. Returns a short description; bad input raises a :class:`~cge.errors.ScenarioError`."""
    from cge.results.units import dataset_unit

    sc = _as_scenario(scenario)
    ds = _load(data if data is not None else _data_path(sc))
    bench = benchmark(ds)
    steps = sc.steps()
    for step in steps:
        step.check(bench)
        step.model_options(bench)
        step.instruments(bench)
    union = f"union {sc.union.name or ''} ({' '.join(sc.union.members)})" if sc.union else "no union"
    stages = ", ".join(s.stage for s in steps)
    return (
        f"{sc.where}: ok (nothing solved): scenario {sc.name} on dataset {ds.attrs.get('name', '?')} "
        f"({len(bench.regions)} regions x {len(bench.sectors)} sectors, {dataset_unit(ds.attrs)}); {union}; "
        f"stage{'s' if len(steps) > 1 else ''}: {stages}; {len(sc.shocks)} shock(s); "
        f"model: {sc.model_options(bench).describe()}"
    )


def _load(data) -> xr.Dataset:
    return data if isinstance(data, xr.Dataset) else load_dataset(data)


def _data_path(sc: Scenario):
    """A scenario's ``data``: a built-in name, or a path relative to the scenario file."""
    d = sc.data
    if d.endswith(".nc") and not Path(d).is_absolute():
        cand = sc.base_dir / d
        if cand.exists():
            return str(cand)
    return d
