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
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from pydantic import PrivateAttr

from cge import __version__
from cge.errors import InputError
from cge.results import groups as groups_
from cge.results.groups import masks, membership
from cge.scenario.scenario import Instruments, Scenario

ELASTICITIES = ("esubd", "esubm", "esubva")
KINDS = ELASTICITIES + ("shock",)
DISTRIBUTIONS = ("uniform", "triangular", "normal")
METHODS = ("quadrature", "montecarlo")
#: Chebyshev: P(|X - mean| >= k sd) <= 1/k^2, so mean +- sqrt(20) sd holds at least 95% of any
#: distribution (GTAP's SSA reports these intervals)
CHEBYSHEV_K = 1.0 / math.sqrt(0.05)
#: results summarised (when present)
SUMMARY_VARS = (
    "ev_pct",
    "ev",
    "trade_creation",
    "trade_diversion",
    "external_trade_creation",
    "trade_creation_union",
    "trade_diversion_union",
    "external_trade_creation_union",
)
PERCENTILES = (2.5, 5.0, 50.0, 95.0, 97.5)
STATS = ("mean", "sd", "lower95", "upper95", "min", "max") + tuple(f"p{p:g}" for p in PERCENTILES)


# ====================================================================== parameters
@dataclass(frozen=True)
class Uncertain:
    """One uncertain parameter (a spec that may expand to one random variable per sector).

    ``kind``: ``esubd``, ``esubm``, ``esubva`` or ``shock`` (the size of the scenario's change
    from the benchmark, 1 = as written).  ``sectors``: the sectors (``None``: all).  ``together``:
    one factor (mean 1) scales all those sectors' elasticities at once, instead of one independent
    variable per sector.  ``distribution``: ``uniform``, ``triangular`` or ``normal``.
    ``spread``: relative; uniform/triangular support ``value * (1 - spread, 1 + spread)`` (or a
    pair ``(down, up)`` for an asymmetric support around the value, the triangular's mode);
    normal: standard deviation ``spread * value``.
    """

    kind: str
    sectors: tuple[str, ...] | None = None
    together: bool = False
    distribution: str = "uniform"
    spread: float | tuple[float, float] = 0.5

    @classmethod
    def parse(cls, spec: str, distribution: str = "uniform", spread=0.5) -> Uncertain:
        """``esubd`` (each sector), ``esubd:AGR+MAN`` (those sectors), ``esubd*`` or
        ``esubd:AGR+MAN*`` (one factor scaling them together), ``shock``."""
        text = spec.strip()
        together = text.endswith("*")
        name, _, secs = text.rstrip("*").partition(":")
        name = name.strip()
        if name not in KINDS:
            from cge.errors import nearest

            raise InputError(
                f"parameters: unknown uncertain parameter {name!r}{nearest(name, KINDS)}; "
                f"one of {', '.join(KINDS)} (e.g. esubd, esubd:AGR+MAN, esubd* to scale together)"
            )
        sectors = tuple(s.strip() for s in secs.split("+") if s.strip()) or None
        if name == "shock" and (sectors or together):
            raise InputError(f"parameters: {spec!r}: 'shock' takes no sectors")
        return cls(name, sectors, together, distribution, spread)


@dataclass(frozen=True)
class Dimension:
    """One random variable: ``label``, its value at the benchmark (``base``) and its distribution."""

    label: str
    kind: str
    sectors: tuple[int, ...]  # sector positions it moves (empty for the shock)
    together: bool  # a scaling factor (base 1) rather than the elasticity itself
    base: float
    distribution: str
    spread: tuple[float, float]  # (down, up) relative; normal: (sd, sd)

    def support(self) -> tuple[float, float]:
        return self.base * (1.0 - self.spread[0]), self.base * (1.0 + self.spread[1])

    def moments(self) -> tuple[float, float]:
        """Mean and standard deviation."""
        if self.distribution == "normal":
            return self.base, self.spread[0] * abs(self.base)
        a, b = self.support()
        if self.distribution == "uniform":
            return 0.5 * (a + b), (b - a) / math.sqrt(12.0)
        c = self.base  # triangular, mode at the value
        return (a + b + c) / 3.0, math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18.0)

    @property
    def symmetric(self) -> bool:
        return self.distribution == "normal" or self.spread[0] == self.spread[1]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.distribution == "normal":
            return rng.normal(self.base, self.spread[0] * abs(self.base), n)
        a, b = self.support()
        if self.distribution == "uniform":
            return rng.uniform(a, b, n)
        return rng.triangular(a, self.base, b, n)


@dataclass
class SSAConfig:
    """What to vary and how to sample (the settings written to the output's attributes)."""

    parameters: list[Uncertain] = field(default_factory=lambda: [Uncertain(k) for k in ELASTICITIES])
    method: str = "quadrature"
    n: int | None = None  # Monte Carlo draws (quadrature: 2 x number of random variables)
    seed: int | None = 0
    steps: int = 1  # steps from the benchmark per draw (1: one solve per draw)

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"method: {self.method!r} is not one of {', '.join(METHODS)}")
        if self.method == "quadrature" and self.n is not None:
            raise InputError(
                "n: the number of draws is set by quadrature (2 x the number of uncertain "
                "parameters); give n with method montecarlo only"
            )
        if self.method == "montecarlo":
            if self.n is None:
                self.n = 100
            if int(self.n) < 2:
                raise InputError(f"n: Monte Carlo needs at least 2 draws, got {self.n}")
        if int(self.steps) < 1:
            raise InputError(f"steps: at least 1 step from the benchmark per draw, got {self.steps}")
        for p in self.parameters:
            if p.distribution not in DISTRIBUTIONS:
                raise InputError(f"distribution: {p.distribution!r} is not one of {', '.join(DISTRIBUTIONS)}")
            down, up = _pair(p.spread)
            if p.distribution == "normal":
                if down != up or not down > 0:
                    raise InputError(
                        f"spread: a normal distribution takes one relative standard deviation > 0, got {p.spread!r}"
                    )
            elif not (0 < down <= 1 and up > 0) or not np.isfinite(up):
                raise InputError(
                    f"spread: a relative spread must be in (0, 1] below the value and > 0 above, "
                    f"got {p.spread!r} for {p.kind}"
                )


def _pair(spread) -> tuple[float, float]:
    if isinstance(spread, (tuple, list)):
        if len(spread) != 2:
            raise InputError(f"spread: give one number or a pair (down, up), got {spread!r}")
        return float(spread[0]), float(spread[1])
    return float(spread), float(spread)


def parse_parameters(specs, distribution: str = "uniform", spread=0.5) -> list[Uncertain]:
    """Specs (a comma-separated string, or a list of strings / :class:`Uncertain`) to Uncertain."""
    if isinstance(specs, str):
        specs = [s for s in specs.split(",") if s.strip()]
    out = [s if isinstance(s, Uncertain) else Uncertain.parse(s, distribution, spread) for s in specs]
    if not out:
        raise InputError("parameters: give at least one uncertain parameter (esubd, esubm, esubva, shock)")
    return out


def dimensions(params: Sequence[Uncertain], bench, structural: dict) -> list[Dimension]:
    """Expand the specs against the data: one :class:`Dimension` per random variable.

    Refuses sectors whose nest is Cobb-Douglas or Leontief in the dataset (elasticity exactly 1
    or 0): their form is structural (MODEL.md section 5), the elasticity cannot be varied.
    """
    dims, seen = [], {}
    sectors = list(bench.sectors)
    for p in params:
        spread = _pair(p.spread)
        if p.kind == "shock":
            if "shock" in seen:
                raise InputError("parameters: 'shock' is listed twice")
            seen["shock"] = "shock"
            dims.append(Dimension("shock", "shock", (), True, 1.0, p.distribution, spread))
            continue
        chosen = sectors if p.sectors is None else list(p.sectors)
        for s in chosen:
            if s not in sectors:
                from cge.errors import nearest

                raise InputError(f"parameters: {p.kind}: unknown sector code {s!r}{nearest(s, sectors)}")
            if (p.kind, s) in structural:
                v = structural[(p.kind, s)]
                form = "Cobb-Douglas" if v == 1.0 else "Leontief"
                raise InputError(
                    f"parameters: {p.kind}[{s}] is exactly {v:g} in the dataset: sector {s}'s nest is built in "
                    f"{form} form (MODEL.md section 5), so its elasticity is structural and cannot be varied; "
                    f"choose the other sectors, e.g. "
                    f"{p.kind}:{'+'.join(x for x in sectors if (p.kind, x) not in structural)}"
                )
            if (p.kind, s) in seen:
                raise InputError(
                    f"parameters: {p.kind}[{s}] is varied twice ({seen[(p.kind, s)]} and {p.kind}"  # type: ignore[index]
                    f"{'*' if p.together else ''})"
                )
            seen[(p.kind, s)] = p.kind + ("*" if p.together else "")  # type: ignore[index]
        pos = tuple(sectors.index(s) for s in chosen)
        base = getattr(bench, p.kind)
        if p.together:
            label = f"{p.kind}*" if p.sectors is None else f"{p.kind}*[{'+'.join(chosen)}]"
            dims.append(Dimension(label, p.kind, pos, True, 1.0, p.distribution, spread))
        else:
            for k in pos:
                dims.append(
                    Dimension(f"{p.kind}[{sectors[k]}]", p.kind, (k,), False, float(base[k]), p.distribution, spread)
                )
    return dims


# ====================================================================== sampling
def stroud3(n: int) -> np.ndarray:
    """Stroud's degree-3 rule: ``2n`` standardised nodes (rows) in ``n`` dimensions, equal weights.

    Node ``k = 1..2n`` has components ``sqrt(2) cos((2r-1) k pi / n)`` and
    ``sqrt(2) sin((2r-1) k pi / n)`` for ``r = 1..floor(n/2)``, and ``(-1)^k`` last when ``n`` is
    odd.  With weights ``1/(2n)`` the nodes have mean 0, identity covariance and zero third
    moments: ``mean + sd * node`` integrates every polynomial of degree <= 3 exactly for
    independent symmetric distributions with that mean and sd.
    """
    if n < 1:
        raise InputError("quadrature needs at least one uncertain parameter")
    k = np.arange(1, 2 * n + 1)[:, None]
    z = np.empty((2 * n, n))
    for r in range(1, n // 2 + 1):
        ang = (2 * r - 1) * k[:, 0] * np.pi / n
        z[:, 2 * r - 2] = math.sqrt(2.0) * np.cos(ang)
        z[:, 2 * r - 1] = math.sqrt(2.0) * np.sin(ang)
    if n % 2:
        z[:, n - 1] = (-1.0) ** k[:, 0]
    z[np.abs(z) < 1e-15] = 0.0
    return z


def draw_values(dims: Sequence[Dimension], method: str, n: int | None = None, seed: int | None = 0):
    """The draws: (values (draw, dimension), weights (draw,)); generated up front."""
    d = len(dims)
    if method == "quadrature":
        z = stroud3(d)
        mean = np.array([x.moments()[0] for x in dims])
        sd = np.array([x.moments()[1] for x in dims])
        return mean + z * sd, np.full(2 * d, 1.0 / (2 * d))
    rng = np.random.default_rng(seed)
    vals = np.column_stack([x.sample(rng, int(n)) for x in dims]) if d else np.empty((int(n), 0))  # type: ignore[arg-type]
    return vals, np.full(int(n), 1.0 / int(n))  # type: ignore[arg-type]


def apply_draw(dims: Sequence[Dimension], values: np.ndarray, esub0: dict) -> tuple[dict, float]:
    """Elasticity arrays ({name: (sector,)}) and the shock scale for one draw."""
    esub = {k: np.array(v, dtype=float) for k, v in esub0.items()}
    lam = 1.0
    for dim, v in zip(dims, values):
        if dim.kind == "shock":
            lam = float(v)
        elif dim.together:
            idx = list(dim.sectors)
            esub[dim.kind][idx] = esub0[dim.kind][idx] * v
        else:
            esub[dim.kind][dim.sectors[0]] = v
    return esub, lam


def scaled_instruments(bench, final: Instruments, lam: float) -> Instruments:
    """The scenario's change from the benchmark scaled by ``lam`` (tariffs, trade costs, endowments);
    the union's revenue pooling and factor pooling are rules, kept as the scenario sets them."""
    if lam == 1.0:
        return final.copy()
    ins = Instruments.benchmark(bench).towards(final, lam)
    ins.revenue_pool = final.revenue_pool.copy()
    ins.revenue_share = final.revenue_share.copy()
    ins.factor_pool = final.factor_pool.copy()
    ins.pnum = final.pnum
    return ins


# ====================================================================== the worker side
class _Fixed(Scenario):
    """A scenario whose instruments are given (computed and checked once, on the client)."""

    _ins: Any = PrivateAttr(default=None)

    def instruments(self, bench):
        return self._ins.copy()


def _fixed(sc: Scenario, ins: Instruments) -> _Fixed:
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
_MODELS: dict = {}


def _model(key: str, data, solver, model_options=None):
    mdl = _MODELS.get((key, solver, model_options))
    if mdl is None:
        from cge.runs import Model

        if len(_MODELS) >= 4:
            _MODELS.clear()
        mdl = _MODELS[(key, solver, model_options)] = Model(data, solver=solver, options=model_options)
    return mdl


def solve_draw(task: Task, data=None) -> Outcome:
    """Solve one draw on this process's model (built on first use); never raises.

    ``data`` overrides ``task.data`` (on Dask: the benchmark scattered once to every worker)."""
    t0 = time.perf_counter()
    try:
        model = _model(task.key, task.data if data is None else data, task.solver, task.model_options)
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


# ====================================================================== running a batch
class _Progress:
    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.failed = total, 0, 0
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self._last = -1

    def update(self, ok: bool):
        self.done += 1
        self.failed += 0 if ok else 1
        if not self.enabled:
            return
        pct = int(100 * self.done / self.total)
        bar = "#" * (pct // 5) + "." * (20 - pct // 5)
        line = (
            f"draws [{bar}] {self.done}/{self.total}"
            + (f", {self.failed} failed" if self.failed else "")
            + f", {time.perf_counter() - self.t0:.1f} s"
        )
        if self.tty:
            print("\r" + line, end="" if self.done < self.total else "\n", file=sys.stderr, flush=True)
        elif pct // 10 != self._last or self.done == self.total:
            self._last = pct // 10
            print(line, file=sys.stderr, flush=True)


def _run_serial(tasks: list[Task], progress: _Progress) -> list[Outcome]:
    out = []
    for t in tasks:
        o = solve_draw(t)
        progress.update(o.ok)
        out.append(o)
    return out


def _run_dask(
    tasks: list[Task], scheduler: str | None, workers: int | None, progress: _Progress, data
) -> list[Outcome]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover
        raise InputError(
            "dask.distributed is not installed: pip install 'dask[distributed]', or use scheduler='serial'"
        ) from None
    import logging

    cluster = None
    if scheduler in (None, "local"):
        n = int(workers or os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except Exception as exc:
            raise InputError(f"scheduler: cannot connect to the Dask scheduler at {scheduler!r} ({exc})") from None
    try:
        shared = None
        if isinstance(data, xr.Dataset):  # ship the benchmark once to every worker
            shared = client.scatter(data, broadcast=True)
            tasks = [Task(**{**t.__dict__, "data": None}) for t in tasks]
        import uuid

        batch = uuid.uuid4().hex[:12]  # task keys unique to this batch on a shared cluster
        futures = {
            client.submit(solve_draw, t, shared, key=f"cge-ssa-{batch}-draw-{t.index}", pure=False): t for t in tasks
        }
        out = {}
        for fut in as_completed(futures):
            t = futures[fut]
            try:
                o = fut.result()
            except Exception as exc:  # a worker died: the draw failed, the batch goes on
                o = Outcome(t.index, False, f"worker failure: {type(exc).__name__}: {exc}", None, 0.0)
            out[o.index] = o
            progress.update(o.ok)
        return [out[t.index] for t in tasks]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _data_key(data) -> str:
    from dask.base import tokenize

    if isinstance(data, xr.Dataset):
        return tokenize(data)
    p = Path(str(data))
    if p.is_file():
        st = p.stat()
        return tokenize(str(p.resolve()), st.st_size, st.st_mtime_ns)
    return tokenize(str(data))


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
    solver: str | None = None,
    progress: bool = True,
    options: dict | None = None,
    config: SSAConfig | None = None,
    draws: np.ndarray | None = None,
    out: str | Path | None = None,
) -> xr.Dataset:
    """Systematic sensitivity analysis of one scenario; returns the draws and their summaries.

    ``scenario``: a :class:`Scenario`, dict or YAML path (not a ladder).  ``parameters``: specs
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

    sc = _as_scenario(scenario)
    if sc.is_ladder:
        raise InputError(
            f"{sc.where}: a ladder of stages gives one result per stage; run the sensitivity "
            f"analysis on one stage (stage: {sc.stages[-1]})"  # type: ignore[index]
        )
    if config is None:
        config = SSAConfig(parse_parameters(parameters, distribution, spread), method, n, seed, steps)
    if scheduler not in (None, "local", "serial") and not isinstance(scheduler, str):
        raise InputError(f"scheduler: give 'local', 'serial' or a Dask scheduler address, got {scheduler!r}")
    if workers is not None and int(workers) < 1:
        raise InputError(f"workers: at least 1, got {workers}")
    data = data if data is not None else _data_path(sc)
    key = _data_key(data)
    from cge.dataset.schema import load_dataset
    from cge.model.benchmark import benchmark

    loaded = data if isinstance(data, xr.Dataset) else load_dataset(data)  # read once, here
    model_options = sc.model_options(benchmark(loaded))
    model = _model(key, loaded, solver, model_options)  # the client's model: checks and instruments
    bench, core = model.bench, model.core
    dims = dimensions(config.parameters, bench, core.structural)
    final = sc.instruments(bench)
    if draws is not None:
        values = np.atleast_2d(np.asarray(draws, dtype=float))
        if values.shape[1] != len(dims):
            raise InputError(
                f"draws: expected {len(dims)} columns ({', '.join(d.label for d in dims)}), got {values.shape[1]}"
            )
        weights = np.full(len(values), 1.0 / len(values))
        method_used = "given"
    else:
        values, weights = draw_values(dims, config.method, config.n, config.seed)
        method_used = config.method
    esub0 = core.esub0
    tasks = []
    for k, row in enumerate(values):
        esub, lam = apply_draw(dims, row, esub0)
        tasks.append(
            Task(
                k,
                key,
                data,
                solver,
                _fixed(sc, scaled_instruments(bench, final, lam)),
                esub,
                int(config.steps),
                options,
                model_options,
            )
        )
    prog = _Progress(len(tasks), progress)
    if progress:
        print(
            f"sensitivity of {sc.name}: {len(dims)} uncertain parameters, {len(tasks)} draws "
            f"({method_used}), scheduler {scheduler or 'local'}",
            file=sys.stderr,
            flush=True,
        )
    if scheduler == "serial":
        outcomes = _run_serial(tasks, prog)
    else:
        outcomes = _run_dask(tasks, scheduler, workers, prog, data)
    core.set_elasticities(**esub0)  # leave the client's model as built
    ds = assemble(outcomes, tasks, dims, values, weights, sc, model, config, method_used)
    if out is not None:
        from cge.io import write_netcdf

        write_netcdf(ds, out)
    return ds


# ====================================================================== statistics
def weighted_stats(x: np.ndarray, w: np.ndarray, sample: bool = False) -> dict:
    """Summary statistics over axis 0 of ``x`` (draw, ...) with weights ``w`` (draw,).

    NaN draws are left out (weights renormalised).  ``sample``: the unbiased variance
    (Monte Carlo, equal weights), else the weighted population form (quadrature).
    Percentiles are of the weighted discrete distribution of the draws (inverse CDF, midpoint rule).
    """
    x = np.asarray(x, dtype=float)
    w = np.broadcast_to(np.asarray(w, dtype=float).reshape((-1,) + (1,) * (x.ndim - 1)), x.shape)
    ok = np.isfinite(x)
    ww = np.where(ok, w, 0.0)
    tot = ww.sum(axis=0)
    have = tot > 0
    safe = np.where(have, tot, 1.0)
    xz = np.where(ok, x, 0.0)
    mean = (ww * xz).sum(axis=0) / safe
    var = (ww * (xz - mean) ** 2).sum(axis=0) / safe
    if sample:
        cnt = ok.sum(axis=0)
        var = np.where(cnt > 1, var * cnt / np.maximum(cnt - 1, 1), np.nan)
    sd = np.sqrt(np.maximum(var, 0.0))
    out = {
        "mean": mean,
        "sd": sd,
        "lower95": mean - CHEBYSHEV_K * sd,
        "upper95": mean + CHEBYSHEV_K * sd,
        "min": np.where(have, np.nanmin(np.where(ok, x, np.inf), axis=0), np.nan),
        "max": np.where(have, np.nanmax(np.where(ok, x, -np.inf), axis=0), np.nan),
    }
    flat_x = x.reshape(x.shape[0], -1)
    flat_w = w.reshape(w.shape[0], -1)
    for p in PERCENTILES:
        vals = np.full(flat_x.shape[1], np.nan)
        for c in range(flat_x.shape[1]):
            good = np.isfinite(flat_x[:, c])
            if good.any():
                xs, ws = flat_x[good, c], flat_w[good, c]
                order = np.argsort(xs, kind="stable")
                xs, ws = xs[order], ws[order]
                cdf = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
                vals[c] = np.interp(p / 100.0, cdf, xs)
        out[f"p{p:g}"] = vals.reshape(x.shape[1:])
    for k in out:
        out[k] = np.where(have, out[k], np.nan)
    return out


def summary_array(da: xr.DataArray, weights: np.ndarray, sample: bool) -> xr.DataArray:
    st = weighted_stats(da.values, weights, sample)
    vals = np.stack([np.asarray(st[s], dtype=float) for s in STATS])
    return xr.DataArray(
        vals,
        dims=("stat",) + da.dims[1:],
        coords={"stat": list(STATS), **{d: da.coords[d] for d in da.dims[1:] if d in da.coords}},
        attrs={"long_name": f"summary of {da.name} over the draws"},
    )


def group_ev_pct(ds: xr.Dataset) -> xr.DataArray:
    """EV% of the union, the non-members and the world, by draw."""
    groups = masks(membership(ds))
    cols = [groups_.group_ev_pct(ds["ev"].values, ds["income0"].values, mask) for _, mask in groups]
    return xr.DataArray(
        np.column_stack(cols),
        dims=("draw", "group"),
        coords={"group": [g for g, _ in groups]},
        attrs={"long_name": "EV % of the group's benchmark income"},
    )


def assemble(outcomes, tasks, dims, values, weights, sc, model, config, method) -> xr.Dataset:
    """Stack the draws (ordered by index) and add parameters, status and summaries."""
    nd = len(outcomes)
    good = [o for o in outcomes if o.ok]
    labels = [d.label for d in dims]
    base = xr.Dataset(coords={"draw": np.arange(nd), "param": labels})
    if good:
        template = good[0].dataset
        blank = template.copy(deep=True)
        for v in blank.data_vars:
            blank[v] = blank[v].astype(float) * np.nan
        parts = [(o.dataset if o.ok else blank).expand_dims(draw=[o.index]) for o in outcomes]
        stacked = xr.concat(
            parts, dim="draw", data_vars="all", coords="minimal", compat="override", combine_attrs="drop"
        )
        base = xr.merge([base, stacked], combine_attrs="drop")
    b = model.bench
    base["param_value"] = (("draw", "param"), values)
    base["param_base"] = ("param", [d.base for d in dims])
    base["param_mean"] = ("param", [d.moments()[0] for d in dims])
    base["param_sd"] = ("param", [d.moments()[1] for d in dims])
    base["param_distribution"] = ("param", [d.distribution for d in dims])
    base["param_spread_down"] = ("param", [d.spread[0] for d in dims])
    base["param_spread_up"] = ("param", [d.spread[1] for d in dims])
    if "sector" not in base.coords:
        base = base.assign_coords(sector=list(b.sectors))
    for name in ELASTICITIES:
        base[name] = (("draw", "sector"), np.array([t.esub[name] for t in tasks]))
        base[name].attrs["long_name"] = f"{name} used in the draw"
    lam = np.ones(nd)
    if "shock" in labels:
        lam = values[:, labels.index("shock")]
    base["shock_scale"] = ("draw", lam)
    base["shock_scale"].attrs["long_name"] = "the scenario's change from the benchmark, scaled (1 = as written)"
    base["weight"] = ("draw", np.asarray(weights, dtype=float))
    base["status"] = ("draw", np.array(["ok" if o.ok else "failed" for o in outcomes], dtype=object))
    base["message"] = ("draw", np.array([o.message for o in outcomes], dtype=object))
    ok = np.array([o.ok for o in outcomes])
    w = np.where(ok, weights, 0.0)
    sample = method != "quadrature"
    if good:
        for v in SUMMARY_VARS:
            if v in base:
                base[f"{v}_summary"] = summary_array(base[v], w, sample)
        base["ev_pct_group"] = group_ev_pct(base)
        base["ev_pct_group_summary"] = summary_array(base["ev_pct_group"], w, sample)
    exact = (
        "exact for polynomials of degree <= 3 in the uncertain parameters (independent, symmetric distributions)"
        if all(d.symmetric for d in dims)
        else "skewed distributions: exact for polynomials of degree <= 2 and for degree-3 terms other than "
        "pure cubes x_i^3 (the nodes match means, covariances and zero odd moments, not the skewness)"
    )
    attrs = {
        "title": f"cge sensitivity analysis: {sc.name}",
        "scenario": sc.name,
        "scenario_yaml": sc.source_text,
        "union": f"{sc.union.name}: {' '.join(sc.union.members)}" if sc.union else None,
        "stage": sc.stage,
        "dataset": model.dataset.attrs.get("name", "?"),
        "dataset_sha256": model.dataset.attrs.get("sha256", ""),
        "cge_version": __version__,
        "method": method,
        "quadrature_rule": "Stroud degree 3, 2n points, equal weights" if method == "quadrature" else "",
        "quadrature_exactness": exact if method == "quadrature" else "",
        "seed": "" if config.seed is None or method != "montecarlo" else int(config.seed),
        "n_draws": nd,
        "n_failed": int((~ok).sum()),
        "steps": int(config.steps),
        "parameters": " ".join(labels),
        "chebyshev_k": CHEBYSHEV_K,
        "intervals": "lower95/upper95: mean -+ k sd with k = 1/sqrt(0.05) = 4.47 (Chebyshev: at least 95% of any "
        "distribution with that mean and sd)",
        "sd": "weighted by the quadrature weights (population form)" if not sample else "sample sd (n - 1)",
        "percentiles": (
            "from the weighted quadrature nodes (a discrete distribution of 2n points): indicative "
            "only; the rule is exact for moments, not for percentiles"
        )
        if method == "quadrature"
        else "of the draws (weighted inverse CDF, midpoint rule)",
        "failed_draws": (
            "failed draws are NaN and left out of the summaries (weights renormalised; a quadrature "
            "rule with a missing node is no longer exact)"
        )
        if (~ok).any()
        else "",
        "closure": model.closure.name,
    }
    base.attrs = {k: v for k, v in attrs.items() if v is not None}
    return base


def write(ds: xr.Dataset, path: str | Path) -> Path:
    from cge.io import write_netcdf

    return write_netcdf(ds, path)


def summary_table(ds: xr.Dataset):
    """EV% mean, sd and 95% Chebyshev interval by region, with union, non-member and world rows."""
    import pandas as pd

    cols = {"mean": "Mean", "sd": "SD", "lower95": "Lower 95%", "upper95": "Upper 95%", "min": "Min", "max": "Max"}
    if "ev_pct_summary" not in ds:
        return pd.DataFrame(columns=list(cols.values()))
    s = ds["ev_pct_summary"]
    regions = list(map(str, ds["region"].values))
    df = pd.DataFrame({lab: s.sel(stat=k).values for k, lab in cols.items()}, index=regions)
    if "ev_pct_group_summary" in ds:
        g = ds["ev_pct_group_summary"]
        for grp in map(str, g["group"].values):
            df.loc[grp] = [float(g.sel(stat=k, group=grp)) for k in cols]
    member = ds["member"].values if "member" in ds.coords else np.zeros(len(regions), bool)
    df.insert(0, "Member", list(np.where(member, "yes", "")) + [""] * (len(df) - len(regions)))
    return df.rename_axis("EV%")
