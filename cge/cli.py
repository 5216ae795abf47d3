"""The ``cge`` command line (INTERFACE.md).

Exit status: 0 ok, 2 bad input (one message naming the file, key or line), 1 failure to solve or
to write, 130 and 143 after SIGINT and SIGTERM.  Any other exception is a bug: a short message
asks to report it (the traceback only with ``--debug``).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import warnings
from pathlib import Path

import click

from cge.errors import CGEError, Terminated, show

#: the solver routes (cge.solve.ROUTES, not imported here: it loads Pyomo) and 'auto'
SOLVERS = ("auto", "newton", "cyipopt", "ipopt")


def _fail(exc: CGEError):
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _interrupted(exc: KeyboardInterrupt):
    import logging

    from cge import io

    logging.disable(logging.CRITICAL)  # the process only exits now: no library's shutdown noise (Dask's)

    name = "SIGTERM" if isinstance(exc, Terminated) else "SIGINT"
    done = f"after writing {', '.join(map(str, io.WRITTEN))}" if io.WRITTEN else "nothing was written"
    click.echo(f"interrupted ({name}); {done}", err=True)
    sys.exit(143 if isinstance(exc, Terminated) else 130)


def _unexpected(exc: BaseException, debug: bool):
    """The last resort: a bug, not bad input.  A short message (the traceback with --debug)."""
    if debug:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    if isinstance(exc, MemoryError):
        click.echo("error: out of memory (try a smaller dataset, fewer scenarios or fewer workers)", err=True)
    else:
        click.echo(
            f"error: internal error ({type(exc).__name__}: {show(str(exc))}); this is a bug in cge: please "
            f"report it with the command and its input files"
            + ("" if debug else " (run again with --debug for the traceback)"),
            err=True,
        )
    sys.exit(1)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CGEError as exc:
            _fail(exc)
        except KeyboardInterrupt as exc:
            _interrupted(exc)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            _unexpected(exc, bool(ctx.params.get("debug")) or bool(os.environ.get("CGE_DEBUG")))


def _solve_options(command):
    """The options every solving command takes: solver, quiet, steps, report."""
    for option in reversed([
        click.option("--solver", type=click.Choice(SOLVERS), default="auto", show_default=True,
                     help="the solver route"),
        click.option("--quiet", "-q", is_flag=True, help="no progress messages"),
        click.option("--steps", type=click.IntRange(0, 1000), default=None,
                     help="steps from the benchmark for the welfare decomposition (default 6; 0 skips it)"),
        click.option("--report", "make_report", is_flag=True, help="also write the report (HTML, CSV, LaTeX)"),
    ]):  # fmt: skip
        command = option(command)
    return command


#: True when :func:`main` runs the command line as its own process (the ``cge`` command), not when
#: a command is run in-process (CliRunner in a test, a notebook)
_OWN_PROCESS = False


def _without_dask() -> None:
    """Mark Dask absent for a command that makes no Dask arrays (``sys.modules[name] = None``: an
    import of it then fails, as if it were not installed).  xarray imports Dask, and Dask's arrays
    import SciPy, at its first operation on any array, only to ask whether the array is Dask's:
    0.4 s of the default run's 2.5.  ``cge sensitivity`` keeps it (its local cluster is Dask's).
    Only in the command line's own process and before xarray is loaded: xarray remembers whether
    Dask is installed, so a mark set or taken away in a process that goes on (a notebook, a test
    that runs commands in-process) would leave it wrong for what follows."""
    if _OWN_PROCESS and "dask" not in sys.modules and "xarray" not in sys.modules:
        sys.modules["dask"] = None  # type: ignore[assignment]


def _positive(value: float, param) -> float:
    """An option's number: finite and above 0 (click.FloatRange lets nan through)."""
    if not (0.0 < value < float("inf")):
        raise click.BadParameter(f"must be a finite number above 0, got {value}", param=param)
    return value


def _output(out: str | None, default: Path) -> Path:
    """The output folder (--out, or the default), refused before any work if it holds other files."""
    from cge.io import check_output_folder

    folder = Path(out) if out else default
    check_output_folder(folder, "--out" if out else "output folder")
    return folder


def _write(folder: Path, write, make_report: bool) -> None:
    """Write the outputs (and the report) into a temporary folder swapped into place at the end."""
    from cge.io import output_folder

    with output_folder(folder) as tmp:
        write(tmp)
        if make_report:
            from cge.report import render

            render(tmp)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cge-integration")
@click.option("--debug", is_flag=True, help="show the traceback of an internal error")
def cli(debug):
    """Trade-integration scenarios on a multi-region CGE model."""


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--data", help="built-in dataset name or benchmark .nc file (overrides the scenario's data)")
@click.option("--out", type=click.Path(file_okay=False), help="output folder (default results/<scenario name>)")
@_solve_options
def run(scenario, data, out, solver, quiet, steps, make_report):
    """Solve one scenario and write OUT/results.nc (a ladder of stages: one folder per stage)."""
    _without_dask()
    from cge.runs import compare as compare_
    from cge.runs import run as run_
    from cge.scenario.scenario import Scenario

    sc = Scenario.from_yaml(scenario)
    folder = _output(out, Path("results") / sc.name)
    if sc.is_ladder:
        comp = compare_([sc], data=data, solver=solver, verbose=not quiet, steps=steps)
        _write(folder, comp.write_into, make_report)
        _print_comparison(comp, folder)
    else:
        res = run_(sc, data=data, solver=solver, verbose=not quiet, steps=steps)
        _write(folder, res.write_into, make_report)
        click.echo(f"scenario {sc.name} on dataset {res.dataset.attrs.get('dataset')}")
        click.echo(res.summary())
        click.echo(f"results written to {folder / 'results.nc'}")
    if make_report:
        click.echo(f"report written to {folder / 'report'}")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--data", help="built-in dataset name or benchmark .nc file (overrides the scenarios' data)")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="output folder (default results/compare, or results/<name> for one ladder)",
)
@_solve_options
def compare(scenarios, data, out, solver, quiet, steps, make_report):
    """Solve several scenarios (or every stage of a ladder) on one built model; print EV% side by side.
    A comparison file (a YAML file with `compare:`, a list of scenario files) also ranks them."""
    _without_dask()
    from cge.runs import compare as compare_
    from cge.scenario.comparison import is_comparison_file, read_comparison
    from cge.scenario.scenario import Scenario

    spec = None
    if len(scenarios) == 1 and is_comparison_file(scenarios[0]):
        spec, scs = read_comparison(scenarios[0])
        steps = spec.steps if steps is None else steps
    else:
        scs = [Scenario.from_yaml(p) for p in scenarios]
    name = spec.name if spec else scs[0].name if len(scs) == 1 else "compare"
    folder = _output(out, Path("results") / name)
    comp = compare_(scs, data=data, solver=solver, verbose=not quiet, steps=steps)
    table = comp.ranking(spec.rank) if spec is not None else None

    def write(tmp: Path) -> None:
        comp.write_into(tmp)
        if table is not None:
            from cge.io import write_text

            write_text(tmp / "ranking.csv", table.to_csv(float_format="%.10g"))

    _write(folder, write, make_report)
    _print_comparison(comp, folder)
    if spec is not None and table is not None:
        click.echo(f"ranked by the union's EV% at {spec.rank or 'the last stage'}:")
        click.echo(table.to_string(float_format=lambda v: f"{v:.4f}"))
    if make_report:
        click.echo(f"report written to {folder / 'report'}")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--data", help="built-in dataset name or benchmark .nc file (overrides the scenario's data)")
@click.option(
    "--out", type=click.Path(file_okay=False), help="output folder (default results/<scenario name>-sensitivity)"
)
@click.option(
    "--method",
    type=click.Choice(["quadrature", "montecarlo"]),
    default="quadrature",
    show_default=True,
    help="Stroud degree-3 quadrature (2 x parameters draws) or Monte Carlo",
)
@click.option("--n", "n_draws", type=click.IntRange(2, 1_000_000), default=None, help="Monte Carlo draws (default 100)")
@click.option("--seed", type=int, default=0, show_default=True, help="Monte Carlo seed")
@click.option(
    "--spread",
    type=float,
    callback=lambda ctx, param, v: _positive(v, param),
    default=0.5,
    show_default=True,
    help="relative spread: uniform/triangular half-width, normal sd, as a share of the value",
)
@click.option(
    "--distribution",
    type=click.Choice(["uniform", "triangular", "normal"]),
    default="uniform",
    show_default=True,
    help="distribution of each uncertain parameter around its value",
)
@click.option(
    "--parameters",
    default="esubd,esubm,esubva",
    show_default=True,
    help="comma-separated: esubd, esubm, esubva (each sector), esubd:AGR+MAN (those sectors), "
    "esubd* (one factor scaling all sectors together), shock (the scenario's change, scaled), "
    "border_cost (the estimated border coefficient, normal with its standard error)",
)
@click.option(
    "--scheduler",
    default="local",
    show_default=True,
    help="local (a Dask cluster on this machine), serial (no Dask), or a Dask scheduler ADDRESS",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="local cluster processes (default: this machine's cores)",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="solves from the benchmark per draw (the decomposition path)",
)
@click.option(
    "--stage",
    default=None,
    help="on a ladder: the stage whose result is drawn over (default: the ladder's last stage)",
)
@click.option("--solver", type=click.Choice(SOLVERS), default="auto", show_default=True, help="the solver route")
@click.option("--quiet", "-q", is_flag=True, help="no progress bar or messages")
@click.option("--report", "make_report", is_flag=True, help="also write the report (HTML, CSV, LaTeX)")
def sensitivity(
    scenario,
    data,
    out,
    method,
    n_draws,
    seed,
    spread,
    distribution,
    parameters,
    scheduler,
    workers,
    steps,
    stage,
    solver,
    quiet,
    make_report,
):
    """Systematic sensitivity analysis: solve SCENARIO (on a ladder, one stage: --stage) at draws of
    uncertain elasticities (and shock size, border cost); write OUT/sensitivity.nc; print EV% mean,
    sd and the 95% Chebyshev interval by region."""
    from cge.io import write_netcdf
    from cge.scenario.scenario import Scenario
    from cge.sensitivity import sensitivity as ssa
    from cge.sensitivity import summary_table

    sc = Scenario.from_yaml(scenario)
    folder = _output(out, Path("results") / f"{sc.name}-sensitivity")
    ds = ssa(
        sc,
        data=data,
        parameters=parameters,
        distribution=distribution,
        spread=spread,
        method=method,
        n=n_draws,
        seed=seed,
        scheduler=scheduler,
        workers=workers,
        steps=steps,
        stage=stage,
        solver=solver,
        progress=not quiet,
    )
    _write(folder, lambda tmp: write_netcdf(ds, tmp / "sensitivity.nc"), make_report)
    click.echo(
        f"sensitivity of {sc.name} on dataset {ds.attrs.get('dataset')}: {ds.attrs['n_draws']} draws "
        f"({ds.attrs['method']}), {ds.attrs['n_failed']} failed; parameters: {ds.attrs['parameters']}"
    )
    table = summary_table(ds).drop(columns=["Min", "Max"], errors="ignore")
    click.echo(table.to_string(float_format=lambda v: f"{v:.4f}"))
    click.echo("95% interval: mean -+ 4.47 sd (Chebyshev)")
    if ds.attrs["n_failed"]:
        import numpy as np

        for k in np.flatnonzero(ds["status"].values != "ok")[:5]:
            click.echo(f"draw {k} failed: {ds['message'].values[k]}", err=True)
    click.echo(f"results written to {folder / 'sensitivity.nc'}")
    if make_report:
        click.echo(f"report written to {folder / 'report'}")
    if ds.attrs["n_failed"] == ds.attrs["n_draws"]:
        from cge.errors import SolveError

        raise SolveError(f"every draw failed to solve (first: {ds['message'].values[0]})")


@cli.command("estimate-border")
@click.argument("dataset")
@click.option("--sectors", help="comma-separated sector codes (default: every sector)")
@click.option(
    "--capitals", type=click.Path(dir_okay=False), help="capitals table (default calibration/china/capitals.csv)"
)
@click.option("--out", type=click.Path(dir_okay=False), help="estimates CSV (default results/DATASET-border-costs.csv)")
def estimate_border(dataset, sectors, capitals, out):
    """Estimate the border costs between provinces and between China and the world by structural gravity
    (PPML, exporter-sector and importer-sector fixed effects); print the tariff-equivalents beside 0.46."""
    from cge.dataset.schema import load_dataset
    from cge.gravity.estimate import estimate_border as estimate
    from cge.gravity.estimate import format_estimates, write_estimates

    ds = load_dataset(dataset)
    table = estimate(ds, sectors.split(",") if sectors else None, capitals)
    path = Path(out) if out else Path("results") / f"{ds.attrs.get('name', 'dataset')}-border-costs.csv"
    write_estimates(table, path)
    click.echo(f"border costs on dataset {ds.attrs.get('name')} (tariff-equivalents, delta-method standard errors)")
    click.echo(format_estimates(table))
    click.echo(f"estimates written to {path}")


@cli.command()
@click.argument("folder", type=click.Path())
@click.option("--digits", type=click.IntRange(0, 12), default=3, show_default=True, help="decimals in the LaTeX tables")
def report(folder, digits):
    """Render tables and charts for results on disk: FOLDER/report/ (HTML, CSV, LaTeX)."""
    _without_dask()
    from cge.report import render

    click.echo(f"report written to {render(folder, digits=digits)}")


def _print_comparison(comp, folder: Path) -> None:
    click.echo(f"EV% by region on dataset {comp.results[0].dataset.attrs.get('dataset')}")
    click.echo(comp.table().to_string(float_format=lambda v: f"{v:.4f}"))
    worst = max(abs(float(r.dataset["walras_residual"])) for r in comp.results)
    click.echo(f"largest walras residual {worst:.3g}")
    click.echo(f"results written to {folder}")


@cli.command()
def datasets():
    """List the built-in benchmark datasets."""
    from cge.dataset.catalogue import builtin_names, builtin_path, describe_file

    names = builtin_names()
    if not names:
        click.echo("no built-in datasets are installed")
        return
    for name in names:
        d = describe_file(builtin_path(name))
        click.echo(f"{name}")
        click.echo(f"  year     {d['year']}  ({d['units']})")
        click.echo(f"  regions  {len(d['regions'])}: {' '.join(d['regions'])}")
        click.echo(f"  sectors  {len(d['sectors'])}: {' '.join(d['sectors'])}")
        click.echo(f"  factors  {', '.join(d['factors'])}")
        click.echo(f"  source   {d['source']}")
        if d.get("licence"):
            click.echo(f"  licence  {d['licence']}")


@cli.command("build-dataset")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="output .nc file")
@click.option("--report", type=click.Path(dir_okay=False), help="CSV of balancing adjustments (cell, before, after)")
@click.option("--quiet", "-q", is_flag=True, help="no progress messages")
def build_dataset(recipe, out, report, quiet):
    """Build a benchmark dataset from a calibration recipe (see calibration/README.md)."""
    from cge.dataset import cli_build

    cli_build(recipe, out, report=report, quiet=quiet)


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--data", help="built-in dataset name or benchmark .nc file (overrides the scenario's data)")
def check(scenario, data):
    """Check a scenario against its dataset without solving (codes, stage options, shocks, model)."""
    _without_dask()
    from cge.runs import check as check_

    click.echo(check_(scenario, data=data))


@cli.command()
@click.argument("name_or_path")
def validate(name_or_path):
    """Check a dataset against MODEL.md's identities; exit 2 and name the cells if it fails."""
    import numpy as np

    from cge.dataset.schema import Arrays, check_dataset, identity_gaps, resolve
    from cge.errors import DataError, InputError

    if str(name_or_path).endswith((".yaml", ".yml")):
        raise InputError(
            f"{name_or_path}: a scenario file, not a dataset: `cge check {name_or_path}` checks a scenario "
            f"against its dataset (`cge validate` checks datasets)"
        )

    arrays = Arrays.read(resolve(name_or_path))  # netCDF4 alone: xarray and pandas take seconds to import
    rep = check_dataset(arrays)
    if not rep.ok:
        raise DataError(rep.message(str(name_or_path)))
    g1, t1, g2, t2 = identity_gaps(arrays)
    r1 = np.max(np.abs(g1) / np.where(t1 > 0, t1, 1))
    r2 = np.max(np.abs(g2) / np.where(t2 > 0, t2, 1))
    click.echo(
        f"{name_or_path}: ok: {arrays.size('region')} regions, {arrays.size('sector')} sectors, "
        f"{arrays.size('factor')} factors; largest relative gap: composite balance {r1:.2e}, "
        f"zero profit {r2:.2e}"
    )


def _terminate(signum, frame):
    raise Terminated()


def _show_warning(message, category, filename, lineno, file=None, line=None):
    click.echo(f"warning: {message}", err=True)


def main(argv=None):
    """The entry point: SIGTERM ends the command like SIGINT (clean-up runs; exit 143); warnings are
    one line each."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    warnings.showwarning = _show_warning
    # the cyclic garbage collector after every 10,000 new objects, not 700: building the Pyomo
    # model and its model file makes millions of objects that live as long as the model, and the
    # default thresholds spent 8 to 12% of a run rescanning them (china-yangtze-river-delta 1.1 s
    # of 14, the default run 0.23 s of 2.1); 0.3 s and 0.1 s with these
    gc.set_threshold(10_000, 10, 10)
    try:
        cli.main(args=argv, standalone_mode=True)
    except KeyboardInterrupt as exc:  # outside a command (while the options are read)
        _interrupted(exc)


if __name__ == "__main__":
    main()
