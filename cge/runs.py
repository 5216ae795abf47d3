"""Build once, solve many: the model for one benchmark and the scenarios solved on it."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from cge import __version__
from cge import solve as solver_mod
from cge.dataset.schema import load_dataset
from cge.errors import NewtonNoConvergence, ScenarioError, SolveError
from cge.model.benchmark import benchmark
from cge.model.build import EquationSystem
from cge.model.dynamics import determinacy_hint
from cge.progress import bar, say
from cge.results.extract import Closure, clean_attrs, extract, with_names
from cge.results.results import Comparison, Results
from cge.scenario.options import ModelOptions, ModelSection
from cge.scenario.options import resolve as resolve_options
from cge.scenario.scenario import Instruments, Scenario
from cge.schema import confined


def _say(verbose: bool, msg: str) -> None:
    if verbose:
        say(msg)


@dataclass
class _Job:
    """One solve's input: the scenario (None for raw instruments), the instruments at both ends of
    the path, the solver and its options, the union members."""

    scenario: Scenario | None
    label: str
    start: Instruments
    ins: Instruments
    solver: str
    options: dict
    member: np.ndarray

    def at(self, lam: float) -> Instruments:
        """The instruments at the point ``lam`` of the path (0 the start, 1 the scenario's own)."""
        return self.start.towards(self.ins, lam) if lam < 1.0 else self.ins


@dataclass
class _Solves:
    """The solves along one path: the last one's report, their time, iterations and number."""

    info: Any = None
    seconds: float = 0.0
    iterations: int = 0
    count: int = 0
    #: the points of the path solved: ``count``, and more where a step was halved (Model._step)
    points: int = 0
    #: (step, Newton's failure) of the steps that IPOPT solved
    fallbacks: list = field(default_factory=list)

    def add(self, info) -> None:
        self.info = info
        self.seconds += info.seconds
        self.iterations += info.iterations or 0
        self.count += 1
        self.points += info.points
        if info.fallback:
            self.fallbacks.append((self.count, info.fallback))

    @property
    def status(self) -> str:
        """The last solve's status, and where IPOPT took over from Newton's method, with the first
        reason (said once, however many steps fell back)."""
        status = self.info.status
        if not self.fallbacks:
            return status
        if not self.info.fallback:
            status += f"; newton did not converge at step {self.fallbacks[0][0]} ({self.fallbacks[0][1]})"
        if self.count > 1:
            status += f"; IPOPT solved steps {', '.join(str(k) for k, _ in self.fallbacks)} of {self.count}"
        return status

    def summary(self) -> str:
        """The status in a few words, for the progress messages."""
        if not self.fallbacks:
            return self.info.status
        return f"IPOPT after newton at {len(self.fallbacks)} of {self.count} steps"


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
        n_var = self.core.n_unknowns
        self.build_seconds = time.perf_counter() - t0
        _say(
            verbose,
            f"built: {n_var} unknowns in {self.build_seconds:.2f} s; dropped market "
            f"(Walras): output_clearing{list(self.core.dropped)}",
        )
        self.closure = Closure.from_options(self.options, f"output_clearing[{','.join(self.core.dropped)}]")
        self._benchmark: tuple | None = None  # (key, the benchmark as a solution): benchmark_solution

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
        job = self._job(scenario, options)
        steps = self.DEFAULT_STEPS if steps is None else int(steps)
        bench_ds = self.benchmark_solution(job.member)
        if not warm_start:  # a cold start: the benchmark, and nothing kept from earlier solves
            self.core.reset_start()
            solver_mod.forget(self.core)
        lambdas = [k / steps for k in range(1, steps + 1)] if steps > 0 else [1.0]
        path, solves = self._walk(job, lambdas, bench_ds)
        sub = None
        if job.scenario is not None and job.scenario.subtotals:
            sub = self._subtotals(job, path, lambdas)
        ds = self._effects(path, steps, job.member)
        ds.attrs = self._attrs(job, ds, solves, steps)
        if sub is not None:
            sub = self._stamp_subtotals(sub, ds.attrs, job.label)
        return Results(
            ds,
            job.scenario,
            {"solve": solves.info, "build_seconds": self.build_seconds, "solve_seconds": solves.seconds},
            subtotals=sub,
        )

    def _job(self, scenario: Scenario | Instruments | None, options: dict | None) -> _Job:
        """What one solve needs: the instruments, the solver and its options, the union members."""
        b = self.bench
        if isinstance(scenario, Scenario):
            self.check_options(scenario)
            ins = scenario.instruments(b)
            opts = {**(scenario.solver or {}), **(options or {})}
        else:
            ins = scenario if scenario is not None else Instruments.benchmark(b)
            opts = dict(options or {})
        sc = scenario if isinstance(scenario, Scenario) else None
        member = np.zeros(len(b.regions), dtype=bool)
        if sc is not None and sc.union is not None:
            member = np.isin(np.asarray(b.regions), sc.union.members)
        return _Job(
            scenario=sc,
            label=sc.name if sc is not None else "instruments",
            start=Instruments.benchmark(b),
            ins=ins,
            solver=opts.pop("name", None) or self.solver,
            options=opts,
            member=member,
        )

    def _walk(self, job: _Job, lambdas: list[float], bench_ds: xr.Dataset) -> tuple[list[xr.Dataset], _Solves]:
        """Solve at each point ``lambdas`` of the path from the benchmark to the scenario, each
        warm-started from the last; the solutions along the path, the benchmark's first."""
        path, solves = [bench_ds], _Solves()
        many = len(lambdas) > 1
        _say(
            self.verbose,
            f"solving {job.label} with {job.solver}"
            + (f" in {len(lambdas)} steps from the benchmark" if many else "")
            + " ...",
        )
        for k, lam in enumerate(lambdas, start=1):
            try:
                info = self._step(job, lambdas[k - 2] if k > 1 else 0.0, lam)
            except SolveError as exc:  # scale economies: say which cells make firm numbers indeterminate
                hint = determinacy_hint(self.bench, self.core.structure.scale)
                if not hint:
                    raise
                raise SolveError(f"{exc}\n{hint}") from None
            if info.fallback and not solves.fallbacks:  # said once per solve
                _say(self.verbose, f"    newton did not converge ({info.fallback}); {info.solver} solved the step")
            solves.add(info)
            if many:
                _say(
                    self.verbose,
                    f"  step {k}/{len(lambdas)}: {info.solver + ' after newton' if info.fallback else info.status}, "
                    f"{info.seconds:.2f} s, largest residual {info.max_residual:.1e}",
                )
            path.append(extract(self.core, job.at(lam), job.member))
        _say(
            self.verbose,
            f"solved in {solves.seconds:.2f} s ({solves.summary()}); largest residual {info.max_residual:.2e}",
        )
        return path, solves

    #: how many times a step of the path that Newton's method cannot take is halved before the
    #: fallback (IPOPT) takes it: up to 2**HALVINGS points in place of one step
    HALVINGS = 4
    #: the iterations Newton's method is given on a step that can still be halved (a converging
    #: step of the shipped scenarios takes fewer): a stalled step is halved early
    TRIAL_ITER = 30

    def _step(self, job: _Job, lo: float, hi: float, depth: int = 0) -> solver_mod.SolveInfo:
        """Solve at the point ``hi`` of the path, warm-started from the solution at ``lo``.

        Continuation: on the newton route, where Newton's method does not converge from the
        solution at ``lo`` (a large step: trade flows respond to a trade cost with the power
        ESUBM - 1, up to 33 here), the step is halved: the midpoint is solved first and is the
        starting point, up to :attr:`HALVINGS` times; only then does the fallback apply (at once
        where the Jacobian is singular at the starting point, which halving cannot change).  The extra
        points only serve as starting points: the answer at ``hi`` is the same root.
        """
        self.core.set_instruments(job.at(hi))
        last = job.solver != "newton" or depth == self.HALVINGS
        started = time.perf_counter()
        try:
            return solver_mod.solve(
                self.core,
                solver=job.solver,
                options=job.options if last else {**job.options, **self._trial(job.options)},
                tee=False,
                progress=self._progress() if self.verbose else None,
                note=(lambda msg: _say(True, "    " + msg)) if self.verbose else None,
            )
        except NewtonNoConvergence as exc:
            if last:
                raise
            if exc.singular_at_start:  # the same start, the same singular Jacobian: no halving
                return self._step(job, lo, hi, self.HALVINGS)
            _say(self.verbose, f"    newton: {exc.reason}; the step from {lo:.4g} to {hi:.4g} of the path is halved")
        failed = time.perf_counter() - started
        first = self._step(job, lo, (lo + hi) / 2, depth + 1)
        info = self._step(job, (lo + hi) / 2, hi, depth + 1)
        info.seconds += failed + first.seconds
        info.iterations = (info.iterations or 0) + (first.iterations or 0)
        info.points += first.points
        return info

    def _trial(self, options: dict) -> dict:
        """The options of a step that can still be halved: no fallback, at most TRIAL_ITER iterations."""
        return {"fallback": False, "max_iter": min(int(options.get("max_iter", self.TRIAL_ITER)), self.TRIAL_ITER)}

    def _effects(self, path: list[xr.Dataset], steps: int, member: np.ndarray) -> xr.Dataset:
        """The solution with its effects (welfare decomposition along ``path``), units and names."""
        from cge.results import effects, units

        along = path if steps > 0 else None
        ds = effects.add_effects(path[-1], path[0], along, member, self.bench, self.options.trade_balance)
        ds = units.stamp(ds, units.dataset_unit(self.dataset.attrs), self.dataset.get("population"))
        provinces = self.dataset.attrs.get("regions_provinces")
        if provinces:  # who gains across provinces (cge/results/inequality.py)
            from cge.results.inequality import add_inequality

            ds = add_inequality(ds, str(provinces).split())
        return with_names(ds, str(self.dataset.attrs.get("name", "")))

    def _attrs(self, job: _Job, ds: xr.Dataset, solves: _Solves, steps: int) -> dict:
        """The results' attributes: the scenario, the dataset, the solver and the closure."""
        from cge.results import units

        sc, info = job.scenario, solves.info
        attrs = {
            "title": f"cge results: {job.label}",
            "scenario": job.label,
            "description": sc.description if sc is not None else None,
            "scenario_yaml": sc.source_text if sc is not None else None,
            "union": f"{sc.union.name}: {' '.join(sc.union.members)}" if sc is not None and sc.union else None,
            "stage": sc.stage if sc is not None else None,
            "dataset": self.dataset.attrs.get("name", "?"),
            "dataset_sha256": self.dataset.attrs.get("sha256", ""),
            "dataset_source": self.dataset.attrs.get("source", ""),
            "units": units.dataset_unit(self.dataset.attrs),
            "dataset_year": self.dataset.attrs.get("year"),
            "cge_version": __version__,
            **{f"{k}_version": v for k, v in solver_mod.versions(info.solver).items()},
            "solver": info.solver,
            "solver_status": solves.status,
            "solver_iterations": int(solves.iterations),
            "solver_seconds": round(solves.seconds, 6),
            "solver_solves": solves.count,
            "solver_points": solves.points,
            "decomposition_steps": steps,
            "max_residual": info.max_residual,
            "walras_residual_relative": abs(float(ds["walras_residual"])) / float(np.sum(ds["income"].values)),
            **self.closure.attrs(),
            "model_options": self.options.describe(),
        }
        return clean_attrs(attrs)

    def _stamp_subtotals(self, sub: xr.Dataset, attrs: dict, label: str) -> xr.Dataset:
        """The subtotals with the results' units and attributes."""
        from cge.results import units

        sub = units.stamp(sub, units.dataset_unit(self.dataset.attrs))
        sub.attrs = clean_attrs({**attrs, "title": f"cge subtotals: {label}", "description": sub.attrs["description"]})
        return sub

    def _solve_at(self, ins: Instruments, name: str, opts: dict, member: np.ndarray) -> xr.Dataset:
        """The solution at ``ins`` (warm-started, quietly), as :func:`extract` lays it out."""
        self.core.set_instruments(ins)
        solver_mod.solve(self.core, solver=name, options=opts, tee=False)
        return extract(self.core, ins, member)

    def _subtotals(self, job: _Job, path: list[xr.Dataset], lambdas: list[float]) -> xr.Dataset:
        """Each group of the scenario's changes' contribution along the path (cge/results/subtotals.py)."""
        from cge.results import subtotals

        assert job.scenario is not None
        changes = subtotals.group_changes(job.scenario, self.bench)
        _say(self.verbose, f"subtotals: {len(changes)} groups ({', '.join(changes)}), {2 * len(changes)} solves a step")
        solve_at = lambda x: self._solve_at(x, job.solver, job.options, job.member)
        return subtotals.subtotals(path, lambdas, job.start, job.ins, changes, solve_at)

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
        """The benchmark as a solution (every index 1), without solving; the point is kept.  Made
        once for the union members and elasticities in use (a shallow copy each time)."""
        key = (
            None if member is None else np.asarray(member, dtype=bool).tobytes(),
            *(v.tobytes() for v in self.core.elasticities().values()),
        )
        if self._benchmark is None or self._benchmark[0] != key:
            ins = Instruments.benchmark(self.bench)
            self.core.set_instruments(ins)
            saved = self.core.point()
            self.core.reset_start()
            self._benchmark = (key, extract(self.core, ins, member))
            self.core.restore(saved)  # keep the warm start
        return self._benchmark[1].copy(deep=False)


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


def _data_path(sc: Scenario) -> str:
    """A scenario's ``data``: a built-in name, or a benchmark file in the scenario's folder or below it
    (cge.schema.confined); a dataset elsewhere is given explicitly (``--data``, or ``data=``)."""
    d = sc.data
    if not (d.endswith(".nc") or "/" in d or "\\" in d or (sc.base_dir / d).exists()):
        return d  # a built-in name (or an unknown one, refused by name when loaded)
    return str(confined(sc.base_dir, d, f"{sc.where}: data", _DATA_ELSEWHERE, ScenarioError))


_DATA_ELSEWHERE = "give a dataset that lies elsewhere on the command line (--data PATH) or as data= in Python"
