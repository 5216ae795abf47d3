"""Newton's method on the square system, with the factorised Jacobian kept between solves.

The model is square (as many equations as unknowns), so its equilibrium is a root of the residuals
``F(x; p) = 0``, where ``p`` are the instruments (tariffs, trade costs, endowments, elasticities...).
This module solves it directly:

* **The system is evaluated without rebuilding anything.**  Where the model can be stated on
  arrays (:mod:`cge.model.arrays`: MODEL.md's model with the tax extension, every closure), the
  residuals and the exact sparse Jacobian are a few numpy operations per block of equations
  (:class:`ArraySystem`), and no Pyomo model is built at all.  For the other extensions, Pyomo
  writes an AMPL ``.nl`` file once per model, in which the instruments are variables too
  (:func:`cge.model.ces.instrument` makes them fixed variables; they are unfixed while the file is
  written), and the AMPL Solver Library (ASL) evaluates it through the small C reader in
  ``cge/_asl/cge_asl.c`` (:class:`FileSystem`).  Either way a counterfactual only changes the
  instruments' values: nothing is rewritten or rebuilt.
* **The factorisation is reused.**  Factorising the Jacobian is the cost that matters at scale:
  after elimination a multi-region, multi-sector system is nearly dense (README, Performance).
  Each solve first takes chord steps with the factorisation it already has (from an earlier
  iterate, an earlier step of the path or an earlier scenario), which converge linearly at a rate
  set by how much the Jacobian has moved.  Only when they are too slow to be worth keeping (see
  :func:`_refactorise`: no 10% cut, or more than ``CHORD_STEPS`` still needed at the observed
  rate) is the Jacobian evaluated and factorised afresh, and a Newton step with backtracking
  taken.  A warm re-solve therefore usually costs a few residual evaluations and triangular
  solves, and no factorisation at all.  The decisions depend on residuals only, never on
  timings, so a solve is reproducible bit for bit.
* **Convergence** is declared when the largest residual is below ``tol`` (equations are divided by
  their benchmark values, so this is relative) and every unknown is within its bounds.  Anything
  else raises :class:`NewtonFailed`; :func:`cge.solve.solve` then falls back to IPOPT.

The linear solves (sparse LU for small systems, GMRES preconditioned by the regions' blocks for
large ones) are in :mod:`cge.solve.linear`.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
import shutil
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cge.model import names
from cge.model.build import pyomo_core

from . import linear, singular

if TYPE_CHECKING:
    import pyomo.core as pyo

#: chord steps still needed (at the observed rate) beyond which a fresh factorisation is made
#: (:func:`_refactorise`)
CHORD_STEPS = 15
#: a chord step that cuts the residual by this factor or better never makes a fresh factorisation
#: (see :func:`_refactorise` for slower ones)
SLOW_RATE = 0.25
#: default largest residual for convergence (relative: equations are divided by benchmark values)
TOL = 1e-10
#: after convergence, at most this many more chord steps, while each cuts the residual by 10% ...
POLISH = 20
#: ... down to this
POLISH_TO = 1e-14

_SOURCE = Path(__file__).resolve().parent / "_asl" / "cge_asl.c"
_ASL_INCLUDE = "/usr/include/ampl-netlib-solvers"
_LIB = None
_LIB_ERROR = None


class NewtonFailed(RuntimeError):
    """Newton's method did not converge (the caller falls back to IPOPT).  ``singular_at_start``:
    the Jacobian is singular (or not finite) at the starting point itself, so that a nearer target
    from the same start fails the same way (continuation cannot help)."""

    singular_at_start = False


class SingularJacobian(NewtonFailed):
    """The Jacobian cannot be factorised (singular or not finite) at the current point."""


class StructurallySingular(NewtonFailed):
    """The system is singular whatever the values (:func:`cge.solve.singular.structural`): it is
    refused, with no fallback."""


# ---------------------------------------------------------------------------- the ASL reader
def _library_path() -> Path:
    """Where the compiled reader lives: next to its source (``scripts/setup.sh`` builds it there),
    else in the first of :func:`_cache_dirs` that holds it (the first one, if none does)."""
    local = _SOURCE.with_name("libcge_asl.so")
    if local.exists() and local.stat().st_mtime >= _SOURCE.stat().st_mtime:
        return local
    digest = hashlib.sha256(_SOURCE.read_bytes()).hexdigest()[:12]
    paths = [d / f"libcge_asl-{digest}.so" for d in _cache_dirs()]
    return next((p for p in paths if p.exists()), paths[0])


def _cache_dirs() -> list[Path]:
    """Where the reader may be compiled: the user's cache ($XDG_CACHE_HOME or ~/.cache), then a
    folder of this user's in the temporary directory (when the home directory is not writable)."""
    out = []
    try:
        out.append(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cge")
    except RuntimeError:  # no home directory
        pass
    out.append(Path(tempfile.gettempdir()) / f"cge-{os.getuid()}")
    return out


def build_library(target: Path | None = None) -> Path:
    """Compile ``cge/_asl/cge_asl.c`` against Debian's ``libamplsolver`` (atomic: a temporary file
    renamed into place), into ``target`` or else the first writable cache folder.  Raises
    ``RuntimeError`` saying what is missing."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no C compiler (gcc) to build cge's ASL reader: apt-get install gcc")
    if not Path(_ASL_INCLUDE, "asl.h").exists():
        raise RuntimeError(
            f"the AMPL Solver Library headers are missing ({_ASL_INCLUDE}/asl.h): apt-get install libamplsolver-dev"
        )
    targets = [target] if target else [d / _library_path().name for d in _cache_dirs()]
    for t in targets:
        try:
            return _compile(cc, t)
        except OSError:
            continue
    raise RuntimeError(
        f"cannot write cge's ASL reader to {' or '.join(str(t.parent) for t in targets)} (not writable): "
        f"set XDG_CACHE_HOME to a writable folder, or build it once with scripts/setup.sh"
    )


def _compile(cc: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        out = subprocess.run(
            [cc, "-O2", "-shared", "-fPIC", f"-I{_ASL_INCLUDE}", str(_SOURCE), "-lamplsolver", "-o", tmp],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(f"building cge's ASL reader failed:\n{out.stderr.strip()}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def library():
    """The ASL reader (ctypes), compiled on first use if needed; ``RuntimeError`` if it cannot be
    (remembered: a failed build is not retried in the same process)."""
    global _LIB, _LIB_ERROR
    if _LIB_ERROR is not None:
        raise RuntimeError(_LIB_ERROR)
    if _LIB is None:
        path = _library_path()
        try:
            if not path.exists():
                path = build_library()
            ctypes.CDLL(str(path))
        except (RuntimeError, OSError) as exc:
            _LIB_ERROR = str(exc)
            raise RuntimeError(_LIB_ERROR) from None
        lib = ctypes.CDLL(str(path))
        lib.cge_asl_open.restype = ctypes.c_void_p
        lib.cge_asl_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
        for f in ("cge_asl_structure", "cge_asl_residuals", "cge_asl_jacobian"):
            getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
            getattr(lib, f).restype = ctypes.c_int if f != "cge_asl_structure" else None
        lib.cge_asl_close.argtypes = [ctypes.c_void_p]
        lib.cge_asl_close.restype = None
        _LIB = lib
    return _LIB


def available() -> bool:
    try:
        library()
        return True
    except Exception:
        return False


# ---------------------------------------------------------------------------- the system
class System:
    """A square system ``F(x) = 0`` as Newton's method sees it: residuals, Jacobian, bounds, and
    the factorisation kept between solves.

    ``unknowns`` and ``equations`` label the columns and rows (for messages, :mod:`cge.model.names`);
    ``names`` are the equations' names.  Two kinds: :class:`FileSystem` (a Pyomo model through its
    model file and the ASL) and :class:`ArraySystem` (the model stated on arrays,
    :mod:`cge.model.arrays`).
    """

    n: int
    unknowns: list
    equations: list
    names: list[str]
    lower: np.ndarray
    upper: np.ndarray
    #: the region of every equation and unknown (the blocks of :class:`linear.BlockKrylov`)
    blocks: tuple[np.ndarray, np.ndarray] | None

    def _start(self, rows: np.ndarray, cols: np.ndarray, hint=None) -> None:
        """The solve state, once the layout is known; refuses a structurally singular pattern
        (``hint``: see :func:`singular.structural`)."""
        #: the factorisation kept between solves, and how many were made
        self.lu: linear.LinearSolve | None = None
        self.factorisations = 0
        self.factorise_seconds = 0.0
        #: where to announce long stages (a callable taking a message), or None
        self.note = None
        defect = singular.structural(rows, cols, self.unknowns, self.equations, hint)
        if defect is not None:
            raise StructurallySingular(defect)

    def load(self) -> np.ndarray:
        """The starting point (and, for a model file, the instruments)."""
        raise NotImplementedError

    def store(self, x: np.ndarray) -> None:
        """Keep the root ``x`` as the model's point."""
        raise NotImplementedError

    def residuals(self, x: np.ndarray) -> np.ndarray | None:
        """``F(x)``, or ``None`` if an equation cannot be evaluated there (e.g. a negative price)."""
        raise NotImplementedError

    def jacobian(self, x: np.ndarray) -> linear.Jacobian:
        raise NotImplementedError

    def unknown_name(self, k: int) -> str:
        return names.unknown(self.unknowns[k])

    def factorise(self, x: np.ndarray) -> linear.LinearSolve:
        """Evaluate the Jacobian at x and prepare its linear solve (kept in :attr:`lu`)."""
        t0 = time.perf_counter()
        self.lu = None  # free the old factors before making new ones
        if self.note is not None and self.n >= linear.KRYLOV_FROM:
            self.note(f"factorising the Jacobian ({self.n:,} unknowns, {linear.BlockKrylov.kind}) ...")
        jac = self.jacobian(x)
        if not np.all(np.isfinite(jac.values)):
            raise SingularJacobian("the Jacobian has non-finite entries at the current point")
        try:
            self.lu = linear.factorise(jac, self.blocks)
        except (RuntimeError, ValueError) as exc:
            where = singular.numerical(self.jacobian(x), self.unknowns, self.equations)
            raise SingularJacobian(f"the Jacobian is singular at the current point ({exc}; {where})") from None
        self.factorisations += 1
        self.factorise_seconds += time.perf_counter() - t0
        return self.lu


class FileSystem(System):
    """The square system of one Pyomo model, read once through the ASL.

    ``unknowns``: the Pyomo variables solved for (the model's free variables), in column order;
    ``equations``: its constraints, in row order.  Residuals are ``body - rhs`` of each equation.
    """

    def __init__(self, model: pyo.ConcreteModel):
        path_info = self._write(model)
        info, n_var, n_con, nnz, fixed = path_info
        self.variables = list(info.variables)
        self.equations = list(info.constraints)
        if (n_var, n_con) != (len(self.variables), len(self.equations)) or getattr(info, "eliminated_vars", None):
            raise NewtonFailed("the model file and Pyomo disagree on its size")
        fixed_ids = {id(v) for v in fixed}
        self.is_unknown = np.array([id(v) not in fixed_ids for v in self.variables])
        self.unknowns = [v for v, u in zip(self.variables, self.is_unknown) if u]
        if any(c.lb is None or c.ub is None or c.lb != c.ub for c in self.equations):
            raise NewtonFailed("the model has inequalities; Newton's method needs a square system of equations")
        if len(self.unknowns) != n_con:
            raise NewtonFailed(f"the system is not square: {len(self.unknowns)} unknowns, {n_con} equations")
        self.names = [c.name for c in self.equations]
        self.rhs = np.array([c.lb for c in self.equations], dtype=float)
        self.lower = np.array([-np.inf if v.lb is None else v.lb for v in self.unknowns])
        self.upper = np.array([np.inf if v.ub is None else v.ub for v in self.unknowns])
        rows, cols = np.zeros(nnz, np.int32), np.zeros(nnz, np.int32)
        self._lib.cge_asl_structure(self._handle, rows.ctypes.data, cols.ctypes.data)
        keep = self.is_unknown[cols]
        column = np.cumsum(self.is_unknown) - 1  # full column -> unknown column
        self._keep = np.flatnonzero(keep)
        self._rows, self._cols = rows[keep], column[cols[keep]]
        self._x = np.zeros(n_var)
        self._g = np.zeros(n_con)
        self._jac = np.zeros(nnz)
        self.n = n_con
        self.blocks = _blocks(model, self.equations, self.unknowns)
        self.signature = signature(model)
        self._start(self._rows, self._cols)

    def _write(self, model: pyo.ConcreteModel):
        """Write the model file (instruments unfixed, so that they are variables in it) and open
        it through the ASL: Pyomo's file information, its size and the fixed variables."""
        from pyomo.repn.plugins.nl_writer import NLWriter

        fixed = [v for v in model.component_data_objects(pyomo_core().Var) if v.fixed]
        for v in fixed:
            v.unfix()
        tmpdir = tempfile.mkdtemp(prefix="cge-newton-")
        try:
            path = os.path.join(tmpdir, "model.nl")
            with open(path, "w") as fh:
                # no presolve (it would eliminate unknowns from the file) and no scaling: the columns
                # and rows of the file are then exactly the model's variables and equations
                info = NLWriter().write(
                    model,
                    fh,
                    symbolic_solver_labels=False,
                    linear_presolve=False,
                    scale_model=False,
                    skip_trivial_constraints=False,
                )
            n = (ctypes.c_int * 3)()
            self._lib = library()
            self._handle = self._lib.cge_asl_open(path.encode(), n)
        finally:
            for v in fixed:
                v.fix()
            shutil.rmtree(tmpdir, ignore_errors=True)
        if not self._handle:
            raise NewtonFailed("the AMPL Solver Library could not read the model file")
        return (info, *list(n), fixed)

    def __del__(self):
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.cge_asl_close(handle)

    def unknown_name(self, k: int) -> str:
        return self.unknowns[k].name

    def load(self) -> np.ndarray:
        """Read the instruments and the starting point from the Pyomo variables; returns x."""
        self._x[:] = [v.value for v in self.variables]
        return self._x[self.is_unknown].copy()

    def store(self, x: np.ndarray) -> None:
        """Write the unknowns back into the Pyomo variables."""
        for v, val in zip(self.unknowns, x.tolist()):
            v.set_value(val, skip_validation=True)

    def residuals(self, x: np.ndarray) -> np.ndarray | None:
        self._x[self.is_unknown] = x
        with np.errstate(all="ignore"):
            if self._lib.cge_asl_residuals(self._handle, self._x.ctypes.data, self._g.ctypes.data) != 0:
                return None
        g = self._g - self.rhs
        return g if np.all(np.isfinite(g)) else None

    def jacobian(self, x: np.ndarray) -> linear.Jacobian:
        self._x[self.is_unknown] = x
        if self._lib.cge_asl_jacobian(self._handle, self._x.ctypes.data, self._jac.ctypes.data) != 0:
            raise NewtonFailed("the Jacobian cannot be evaluated at the current point")
        return linear.Jacobian(self._rows, self._cols, self._jac[self._keep], self.n)


class ArraySystem(System):
    """The square system of the model stated on arrays (:class:`cge.model.arrays.ArrayModel`):
    no model file.  The point is the model's own (``point.x``, e.g. an
    :class:`~cge.model.build.EquationSystem`), so that a solve starts from the last root."""

    def __init__(self, model, point):
        self.model, self.point = model, point
        self.unknowns, self.equations = model.unknowns, model.equations
        self.names = [names.label(*e) for e in model.equations]
        self.lower, self.upper, self.n = model.lower, model.upper, model.n
        regions = list(model.st.bm.regions)
        self.blocks = (
            linear.region_blocks([k or () for _, k in model.equations], regions),
            linear.region_blocks([k for _, k in model.unknowns], regions),
        )
        self._start(*model.pattern(), model.natural_columns())

    def load(self) -> np.ndarray:
        return self.point.x.copy()

    def store(self, x: np.ndarray) -> None:
        self.point.x = x

    def residuals(self, x: np.ndarray) -> np.ndarray | None:
        with np.errstate(all="ignore"):
            F = self.model.residuals(x)
        return F if np.all(np.isfinite(F)) else None

    def jacobian(self, x: np.ndarray) -> linear.Jacobian:
        from cge.model.arrays import nonzeros

        with np.errstate(all="ignore"):
            _, J = self.model.jacobian(x)
        return linear.Jacobian(*nonzeros(J), self.n)


def signature(model: pyo.ConcreteModel) -> tuple:
    """What the model file depends on: the active equations and the variables (a cheap check, made
    at every solve; cge never changes which variables are fixed)."""
    pyo = pyomo_core()
    return (
        sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True)),
        sum(len(c) for c in model.component_objects(pyo.Var)),
    )


def _blocks(model: pyo.ConcreteModel, equations: list, unknowns: list) -> tuple[np.ndarray, np.ndarray] | None:
    """The region of every equation and unknown, from the model's set ``regions`` (None without)."""
    regions = model.component("regions")
    if regions is None:
        return None
    labels = list(regions)

    def index(c) -> tuple:
        i = c.index()
        return i if isinstance(i, tuple) else (i,)

    return (
        linear.region_blocks([index(c) for c in equations], labels),
        linear.region_blocks([index(v) for v in unknowns], labels),
    )


#: model -> its System (weak keys: the file is freed with the model; clones and pickles of the
#: Pyomo model do not carry it)
_SYSTEMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def system_of(model, note=None) -> System:
    """The model's :class:`System`, made on first use and kept for the model's lifetime: a Pyomo
    model's :class:`FileSystem` (its file written and read, announced through ``note``), or, for a
    model with an ``arrays`` statement (:class:`cge.model.build.EquationSystem`), its
    :class:`ArraySystem`."""
    sys_ = _SYSTEMS.get(model)
    if getattr(model, "arrays", None) is None:  # a Pyomo model
        if sys_ is None or sys_.signature != signature(model):
            _SYSTEMS.pop(model, None)
            if note is not None:
                note("writing and reading the model file for Newton's method (once per model) ...")
            sys_ = _SYSTEMS[model] = FileSystem(model)
    elif sys_ is None:
        sys_ = _SYSTEMS[model] = ArraySystem(model.arrays, model)
    return sys_


def forget(model) -> None:
    """Drop the kept factorisation: the next solve depends only on its start and instruments."""
    sys_ = _SYSTEMS.get(model)
    if sys_ is not None:
        sys_.lu = None


# ---------------------------------------------------------------------------- the method
def solve(model, tol: float = TOL, max_iter: int = 100, progress=None, note=None) -> dict:
    """Solve the square system of ``model`` (see :func:`system_of`) in place, starting from its
    current point (a Pyomo model's variables' values).

    Returns ``{"iterations", "factorisations", "residual", "worst", "read_seconds",
    "factorise_seconds"}`` (reading the model file, on a model's first solve only); raises
    :class:`NewtonFailed` (with the reason) if it does not converge within ``max_iter`` steps.
    """
    t_read = time.perf_counter()
    cached = _SYSTEMS.get(model)
    system = system_of(model, note)
    system.note = note
    read = 0.0 if system is cached else time.perf_counter() - t_read
    made0, fact0 = system.factorisations, system.factorise_seconds
    x = system.load()
    F = system.residuals(x)
    if F is None:
        raise NewtonFailed("the equations cannot be evaluated at the starting point")
    norm = float(np.max(np.abs(F))) if F.size else 0.0
    x, F, norm, iterations = _iterate(system, x, F, norm, tol, max_iter, progress)
    # polish: more chord steps while they still cut the residual by 10%, so that the answer is
    # as exact as rounding allows (two runs of equivalent models then agree far below ``tol``)
    for _ in range(POLISH):
        if norm <= POLISH_TO or not F.size or system.lu is None:
            break
        x_new, F_new, norm_new = _try(system, x, system.lu(-F), 1.0)
        if not (norm_new <= 0.9 * norm):
            break
        x, F, norm = x_new, F_new, norm_new
    low = x < system.lower - 1e-9
    high = x > system.upper + 1e-9
    if np.any(low | high):
        k = int(np.flatnonzero(low | high)[0])
        raise NewtonFailed(
            f"the root has {system.unknown_name(k)} = {x[k]:.6g}, outside its bounds "
            f"[{system.lower[k]:g}, {system.upper[k]:g}]"
        )
    system.store(x)
    worst = int(np.argmax(np.abs(F))) if F.size else 0
    return {
        "iterations": iterations,
        "factorisations": system.factorisations - made0,
        "residual": norm,
        "worst": system.names[worst] if F.size else "",
        "read_seconds": read,
        "factorise_seconds": system.factorise_seconds - fact0,
    }


def _iterate(system: System, x, F, norm: float, tol: float, max_iter: int, progress):
    """Newton's steps from ``x`` (residuals ``F``, largest ``norm``) until ``norm <= tol``: the
    root's ``x, F, norm`` and the number of steps.  A Jacobian that cannot be factorised at ``x``
    itself is marked :attr:`NewtonFailed.singular_at_start`."""
    iterations, x0 = 0, x
    try:
        while norm > tol:
            if iterations >= max_iter:
                raise NewtonFailed(f"no convergence in {max_iter} iterations (largest residual {norm:.3g})")
            iterations += 1
            fresh = system.lu is None
            if fresh:
                system.factorise(x)
            step = system.lu(-F)  # type: ignore[misc]
            x_new, F_new, norm_new = _try(system, x, step, 1.0)
            if not fresh:
                # a chord step that overshoots (the kept factorisation is from another point): shorter
                # ones first, which cost a residual evaluation each, not a factorisation
                alpha = 1.0
                while not (norm_new < 0.9 * norm) and alpha > 0.1:
                    alpha *= 0.5
                    x_new, F_new, norm_new = _try(system, x, step, alpha)
            if not fresh and _refactorise(norm, norm_new, tol, *_worth(system)):
                # the kept factorisation contracts too slowly to be worth keeping: a Newton step with
                # a fresh Jacobian from x (quadratic convergence from there)
                system.factorise(x)
                fresh = True
                step = system.lu(-F)  # type: ignore[misc]
                x_new, F_new, norm_new = _try(system, x, step, 1.0)
            if fresh and not (norm_new < norm):
                alpha = 1.0
                while not (norm_new < (1.0 - 1e-4 * alpha) * norm) and alpha > 1e-6:
                    alpha *= 0.5
                    x_new, F_new, norm_new = _try(system, x, step, alpha)
                if not (norm_new < norm):
                    raise NewtonFailed(
                        f"no descent from a largest residual of {norm:.3g} (the Newton step fails even when shortened)"
                    )
            x, F, norm = x_new, F_new, norm_new
            if progress is not None:
                progress(iterations, norm)
    except SingularJacobian as exc:
        exc.singular_at_start = x is x0
        raise
    return x, F, norm, iterations


def _worth(system: System) -> tuple[float, float]:
    """How many chord steps a fresh factorisation is worth, and the rate at which a chord step is
    always kept: ``CHORD_STEPS + n / 400`` and ``SLOW_RATE`` for the direct solves,
    :attr:`linear.BlockKrylov.CHORD_STEPS` and ``SLOW_RATE`` for the Krylov route, whose
    "factorisation" (the Jacobian and the blocks' LU) costs about one chord step."""
    if isinstance(system.lu, linear.BlockKrylov):
        return linear.BlockKrylov.CHORD_STEPS, linear.BlockKrylov.SLOW_RATE
    return CHORD_STEPS + system.n / 400, SLOW_RATE


def _refactorise(norm: float, norm_new: float, tol: float, worth: float, slow_rate: float) -> bool:
    """Is a fresh factorisation better than going on with chord steps at the observed rate?

    A step that does not cut the residual by at least 10% always refactorises; one that cuts it
    by a factor ``slow_rate`` or better never does.  In between, it refactorises if more chord
    steps would still be needed to reach ``tol`` at that rate than a factorisation is ``worth``
    (:func:`_worth`; for the direct solves ``CHORD_STEPS + n / 400`` for ``n`` unknowns: a chord
    step costs a residual evaluation and two triangular solves; measured, a dense factorisation
    costs some 15 of them at 400 unknowns and some 100 at 37,000).  The rule depends on the
    residuals and the size only, never on timings, so a solve is reproducible bit for bit.
    """
    rate = norm_new / norm
    if not rate < 0.9:
        return True
    if rate <= slow_rate:
        return False
    return math.log(tol / max(norm_new, tol)) / math.log(rate) > worth


def _try(system: System, x, step, alpha):
    x_new = x + alpha * step
    F_new = system.residuals(x_new)
    if F_new is None:
        return x_new, None, math.inf
    return x_new, F_new, float(np.max(np.abs(F_new)))
