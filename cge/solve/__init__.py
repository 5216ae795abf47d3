"""Finding and driving the solver on the square system.

Three routes are supported, tried in this order:

``newton``   cge's own Newton method (:mod:`cge.solve.newton`): residuals and Jacobian come from the
             model stated on arrays (:mod:`cge.model.arrays`), or, for the extensions it does not
             cover, from Pyomo's model file through the AMPL Solver Library; the factorised Jacobian
             is kept between solves, so a warm re-solve usually needs no new factorisation.  If it
             does not converge, the solve falls back to IPOPT (the next route available) from the
             same starting point, and the status says so.
``cyipopt``  Ipopt 3.14 (MUMPS, OpenBLAS) from PyPI's ``cyipopt-wheels``, driven in-process by
             Pyomo's ``cyipopt`` interface; needs PyNumero's ASL library (``scripts/setup.sh`` builds
             it from Debian's ``libamplsolver-dev``).
``ipopt``    any ``ipopt`` executable on the PATH (AMPL interface), through ``SolverFactory('ipopt')``.

The model is a square system (as many equations as unknowns, a constant objective): Newton's
method finds its root, and IPOPT its feasible point, which is the equilibrium.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cge.errors import NewtonNoConvergence, SolveError, SolverNotAvailable
from cge.model.build import pyomo_core

from . import newton

if TYPE_CHECKING:
    import pyomo.core as pyo

INSTALL_HELP = (
    "No IPOPT solver is available to Pyomo. Install one with the project's set-up script:\n"
    "    bash scripts/setup.sh\n"
    "or by hand on Debian/Ubuntu:\n"
    "    apt-get install g++ cmake libamplsolver-dev\n"
    "    pip install cyipopt-wheels\n"
    "    python -m pyomo.contrib.pynumero.build -DASL_INCLUDE_DIR=/usr/include/ampl-netlib-solvers \\\n"
    "        -DASL_LIBRARY=/usr/lib/x86_64-linux-gnu/libamplsolver.so\n"
    "(any `ipopt` executable on the PATH also works: solver: ipopt)"
)

#: IPOPT options for a square system started near the solution. For a square system the
#: Hessian of the Lagrangian only steers the step (the multipliers vanish at the solution), so the
#: default is IPOPT's limited-memory approximation, which skips ASL's Hessian evaluations; a
#: failed solve is retried once with the exact Hessian.
DEFAULT_OPTIONS = {
    "hessian_approximation": "limited-memory",
    "sb": "yes",  # no banner
    "tol": 1e-10,
    "constr_viol_tol": 1e-10,
    "acceptable_tol": 1e-8,
    "max_iter": 500,
    "mu_strategy": "adaptive",
    "nlp_scaling_method": "none",  # equations are already divided by their benchmark values
    "bound_push": 1e-10,
    "bound_frac": 1e-10,
}
#: a solve is accepted only if every (relative) residual is below this
RESIDUAL_TOL = 1e-8


@dataclass
class SolveInfo:
    solver: str
    status: str
    iterations: int | None
    seconds: float
    max_residual: float
    worst_equation: str
    options: dict = field(default_factory=dict)
    #: why Newton's method failed, when IPOPT finished the solve ("" if it did not fall back)
    fallback: str = ""
    #: points of the path solved to reach this one (more than 1 where a step was halved, cge.runs)
    points: int = 1


def _cyipopt_ok() -> bool:
    try:
        import cyipopt  # noqa: F401
        from pyomo.contrib.pynumero.asl import AmplInterface

        return bool(AmplInterface.available())
    except Exception:
        return False


def _ipopt_exe_ok() -> bool:
    return shutil.which("ipopt") is not None


#: the solver routes, best first
ROUTES = ("newton", "cyipopt", "ipopt")


#: each route's test of availability
_CHECKS = {"newton": newton.available, "cyipopt": _cyipopt_ok, "ipopt": _ipopt_exe_ok}


def available() -> list[str]:
    """Solvers usable here, best first."""
    return [name for name in ROUTES if _CHECKS[name]()]


def pick(name: str | None = None) -> str:
    """The route to use: ``name``, or the best available for ``None``/``"auto"`` (the routes are
    tested in order and only until one is found: testing IPOPT's imports Pyomo's PyNumero)."""
    if name in (None, "auto"):
        found = next((route for route in ROUTES if _CHECKS[route]()), None)
        if found is None:
            raise SolverNotAvailable(INSTALL_HELP)
        return found
    if name not in ROUTES:
        raise SolverNotAvailable(f"unknown solver {name!r}: use one of {', '.join(ROUTES)} or 'auto'")
    if not _CHECKS[name]():
        raise SolverNotAvailable(f"solver {name!r} is not available here.\n" + INSTALL_HELP)
    return name


def max_residual(model: pyo.ConcreteModel):
    """Largest absolute residual over the active equality constraints, and its name."""
    worst, where, pyo = 0.0, "", pyomo_core()
    for con in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(con.body, exception=False)
        if body is None or not math.isfinite(body):
            return math.inf, con.name
        res = abs(body - pyo.value(con.upper))
        if res > worst:
            worst, where = res, con.name
    return worst, where


def _newton_target(model):
    """What Newton's method solves: a model's statement on arrays where it has one
    (:class:`cge.model.build.EquationSystem`), else its Pyomo model."""
    if getattr(model, "arrays", None) is not None:
        return model
    return getattr(model, "instance", model)


def solve(
    model,
    solver: str | None = None,
    options: dict | None = None,
    tee: bool = False,
    progress=None,
    note=None,
) -> SolveInfo:
    """Solve the square system of ``model`` in place (a :class:`cge.model.build.EquationSystem`,
    or a Pyomo model); raise :class:`SolveError` with a diagnosis on failure.

    ``progress(iteration, residual)`` is called at every iteration (newton and cyipopt routes);
    ``note(message)`` announces the long stages of the newton route (reading the model file,
    factorising); a fallback to IPOPT is said in the status and in ``SolveInfo.fallback`` (the
    caller says it once, :meth:`cge.runs.Model.solve`).
    The newton route reads ``tol``, ``max_iter`` and ``fallback`` from ``options`` (``fallback:
    false`` raises :class:`SolveError` where it would fall back to IPOPT); the other options are
    IPOPT's, used if it falls back.
    """
    name = pick(solver)
    options = dict(options or {})
    fallback = options.pop("fallback", True)
    if name == "newton":
        return _solve_newton(model, options, bool(fallback), tee, progress, note)
    if not hasattr(model, "arrays"):  # a Pyomo model
        return _solve_ipopt(model, name, options, tee, progress)
    try:
        info = _solve_ipopt(model.instance, name, options, tee, progress)
    except SolveError:
        model.x = model.x  # the point of record stays; the Pyomo model is shown it again on next use
        raise
    model.pull()
    return info


def _solve_ipopt(model: pyo.ConcreteModel, name: str, options: dict, tee: bool, progress) -> SolveInfo:
    """Solve the Pyomo model by IPOPT (route ``name``: cyipopt or ipopt) in place."""
    from pyomo.opt import TerminationCondition

    opts = {**DEFAULT_OPTIONS, **options}
    opts.setdefault("print_level", 5 if tee else 0)
    start = time.perf_counter()
    solver_factory = _solver_factory()
    counter = {"iter": 0, "inf_pr": math.nan}
    message = ""
    try:
        if name == "cyipopt":

            def callback(*args):
                # cyipopt passes (alg_mod, iter_count, obj, inf_pr, inf_du, mu, ...) after the problem
                vals = [a for a in args if isinstance(a, (int, float))]
                if len(vals) >= 4:
                    counter["iter"], counter["inf_pr"] = int(vals[1]), float(vals[3])
                    if progress is not None:
                        progress(counter["iter"], counter["inf_pr"])
                return True

            opt = solver_factory("cyipopt")
            res, nlp = opt.solve(model, tee=tee, options=opts, return_nlp=True, intermediate_callback=callback)
            if (
                res.solver.termination_condition not in (TerminationCondition.optimal,)
                and opts.get("hessian_approximation") != "exact"
                and "hessian_approximation" not in (options or {})
            ):
                opts = {**opts, "hessian_approximation": "exact"}  # the retry, with the exact Hessian
                res, nlp = opt.solve(model, tee=tee, options=opts, return_nlp=True, intermediate_callback=callback)
            g = nlp.evaluate_constraints() - nlp.constraints_lb()
            k = int(np.argmax(np.abs(g))) if len(g) else 0
            resid = float(np.abs(g[k])) if len(g) else 0.0
            resid = resid if math.isfinite(resid) else math.inf
            where = nlp.constraint_names()[k] if len(g) else ""
            iterations = counter["iter"]
        else:
            opt = solver_factory("ipopt")
            for k, v in opts.items():
                opt.options[k] = v
            res = opt.solve(model, tee=tee, load_solutions=False)
            if len(res.solution) > 0:
                model.solutions.load_from(res)
            resid, where = max_residual(model)
            iterations = _iterations(res)  # type: ignore[assignment]
        message = str(res.solver.message)
    except Exception as exc:  # evaluation errors inside the solver
        raise SolveError(f"{name} failed while solving: {exc}") from None
    seconds = time.perf_counter() - start
    tc = res.solver.termination_condition
    status = str(tc)
    ok_tc = tc in (TerminationCondition.optimal, TerminationCondition.locallyOptimal, TerminationCondition.feasible)
    info = SolveInfo(name, status, iterations, seconds, resid, where, opts)  # type: ignore[arg-type]
    if not ok_tc and resid > RESIDUAL_TOL:
        raise SolveError(
            f"{name} did not converge (termination: {status}; message: {message}) after {iterations} "
            f"iterations; the largest remaining residual is {resid:.3g} in {where}. Check the shock sizes, "
            f"or solve in more steps (steps: N) or with more iterations (solver: {{max_iter: N}})."
        )
    if resid > RESIDUAL_TOL:
        raise SolveError(
            f"{name} stopped ({status}) with a residual of {resid:.3g} in {where} (tolerance {RESIDUAL_TOL:g})"
        )
    return info


def _solver_factory():
    """Pyomo's solver factory with its solver plugins registered: ``pyomo.environ`` loads them all
    (0.2 s), so only the IPOPT routes import it; the model and the newton route need ``pyomo.core``."""
    import pyomo.environ

    return pyomo.environ.SolverFactory


def forget(model) -> None:
    """Forget what earlier solves left behind (the newton route's kept factorisation), so that the
    next solve's answer depends only on its starting point and instruments, bit for bit."""
    newton.forget(_newton_target(model))


def _solve_newton(model, options: dict, fallback: bool, tee: bool, progress, note) -> SolveInfo:
    start = time.perf_counter()
    tol = float(options.get("tol", newton.TOL))
    max_iter = int(options.get("max_iter", 100))
    try:
        out = newton.solve(_newton_target(model), tol=tol, max_iter=max_iter, progress=progress, note=note)
    except newton.StructurallySingular as exc:
        raise SolveError(f"the model cannot be solved: {exc}") from None
    except newton.NewtonFailed as exc:
        if not fallback:
            raise NewtonNoConvergence(
                f"newton did not converge ({exc}); the fallback to IPOPT is off (fallback: false)",
                str(exc),
                exc.singular_at_start,
            ) from None
        others = [s for s in available() if s != "newton"]
        if not others:
            raise SolveError(
                f"newton did not converge ({exc}) and no IPOPT is available to fall back on.\n" + INSTALL_HELP
            ) from None
        info = solve(model, others[0], options, tee, progress)
        info.status = f"{info.status} ({others[0]}, after newton: {exc})"
        info.fallback = str(exc)
        info.seconds = time.perf_counter() - start
        return info
    info = SolveInfo(
        "newton",
        "converged",
        out["iterations"],
        time.perf_counter() - start,
        out["residual"],
        out["worst"],
        {
            "tol": tol,
            "max_iter": max_iter,
            "factorisations": out["factorisations"],
            "factorise_seconds": round(out["factorise_seconds"], 4),
            "read_seconds": round(out["read_seconds"], 4),
        },
    )
    if info.max_residual > RESIDUAL_TOL:
        raise SolveError(
            f"newton stopped with a residual of {info.max_residual:.3g} in {info.worst_equation} "
            f"(tolerance {RESIDUAL_TOL:g})"
        )
    return info


def _iterations(res) -> int | None:
    for attr in ("iterations", "iteration_count"):
        val = getattr(res.solver, attr, None)
        if isinstance(val, int):
            return val
    return None


def versions(solver: str = "cyipopt") -> dict:
    """Versions of Pyomo and of the solver route that ran (``cyipopt`` or an ``ipopt`` executable)."""
    from importlib.metadata import PackageNotFoundError, version

    try:  # without importing Pyomo (the model on arrays needs none)
        out: dict = {"pyomo": version("pyomo")}
    except PackageNotFoundError:
        out = {"pyomo": None}
    if solver == "newton":
        import scipy

        out["scipy"] = scipy.__version__
        return out
    if solver == "ipopt":
        import subprocess

        try:
            first = subprocess.run(
                [shutil.which("ipopt") or "ipopt", "--version"], capture_output=True, text=True, timeout=10
            ).stdout.split("\n")[0]
            out["ipopt"] = first.split()[1] if first.startswith("Ipopt") else first
        except Exception:
            pass
        return out
    try:
        import cyipopt

        out["cyipopt"] = cyipopt.__version__
        out["ipopt"] = ".".join(str(x) for x in cyipopt.IPOPT_VERSION)
    except Exception:
        pass
    return out
