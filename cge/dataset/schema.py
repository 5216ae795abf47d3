"""The benchmark dataset of MODEL.md section 2: loading, the built-in catalogue, validation.

A benchmark is an ``xarray.Dataset`` with dimensions ``region``, ``sector``, ``factor`` and the
aliases ``source``/``dest`` (= region) and ``user`` (= sector).  All values are in one currency
unit (the built-in datasets: million USD) for one year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from cge.dataset.catalogue import LABELS, builtin_names, builtin_path, description
from cge.errors import DataError, nearest, show
from cge.io import read_netcdf, sha256

if TYPE_CHECKING:  # xarray (with pandas) is imported where a Dataset is made: `cge validate` needs neither
    import xarray as xr

#: variable -> dimensions, as MODEL.md section 2 names them
SCHEMA: dict[str, tuple[str, ...]] = {
    "trade": ("sector", "source", "dest"),
    "tariff": ("sector", "source", "dest"),
    "intermediate": ("sector", "user", "region"),
    "final_demand": ("sector", "region"),
    "factor_income": ("factor", "sector", "region"),
    "esubd": ("sector",),
    "esubm": ("sector",),
    "esubva": ("sector",),
    "mobility": ("factor",),
}
OPTIONAL: dict[str, tuple[str, ...]] = {
    "population": ("region",),
    # extensions (docs/extensions.md), each neutral when absent
    "output_tax": ("sector", "region"),
    "export_tax": ("sector", "source", "dest"),
    "esubt": ("sector",),
    "esubc": ("sector",),
    "esubfd": ("region",),
    "etrans": ("sector",),
}
#: the extension elasticities; ``etrans`` may also be +inf (perfect transformation, the core)
EXT_ELASTICITIES = ("esubt", "esubc", "esubfd", "etrans")
FLOWS = ("trade", "intermediate", "final_demand", "factor_income")
MOBILITIES = ("mobile", "specific")
#: elasticities outside this closed range are refused
ELASTICITY_RANGE = (0.0, 100.0)
#: flows above this (in currency units) are an absurd scale and refused
MAX_VALUE = 1e15
#: a benchmark whose largest flow is below this is an absurd scale too (residuals are solved to 1e-8)
MIN_LARGEST = 1e-3
#: MODEL.md: identities must hold to this relative tolerance of the row total
IDENTITY_RTOL = 1e-6


# --------------------------------------------------------------------------- construction
def from_arrays(
    *,
    regions,
    sectors,
    factors,
    trade,
    tariff,
    intermediate,
    final_demand,
    factor_income,
    esubd,
    esubm,
    esubva,
    mobility,
    population=None,
    attrs: dict | None = None,
    **extensions,
) -> xr.Dataset:
    """A benchmark Dataset in MODEL.md section 2's layout from plain arrays (float64 throughout).

    Arrays are ordered like :data:`SCHEMA`'s dimensions; ``source``/``dest`` take the region
    codes and ``user`` the sector codes.  ``extensions`` are the optional variables of
    docs/extensions.md (``output_tax``, ``export_tax``, ``esubt``, ``esubc``, ``esubfd``, ``etrans``).
    """
    import xarray as xr

    unknown = sorted(set(extensions) - set(OPTIONAL))
    if unknown:
        raise TypeError(f"from_arrays: unknown variable(s) {', '.join(unknown)}")
    values = dict(
        trade=trade,
        tariff=tariff,
        intermediate=intermediate,
        final_demand=final_demand,
        factor_income=factor_income,
        esubd=esubd,
        esubm=esubm,
        esubva=esubva,
    )
    data = {k: (SCHEMA[k], np.asarray(v, dtype=float)) for k, v in values.items()}
    data["mobility"] = (SCHEMA["mobility"], np.asarray([str(m) for m in mobility], dtype=object))
    if population is not None:
        data["population"] = (OPTIONAL["population"], np.asarray(population, dtype=float))
    for k, v in extensions.items():
        if v is not None:
            data[k] = (OPTIONAL[k], np.asarray(v, dtype=float))
    regions, sectors = [str(r) for r in regions], [str(s) for s in sectors]
    ds = xr.Dataset(
        data,
        coords={
            "region": regions,
            "sector": sectors,
            "factor": [str(f) for f in factors],
            "source": regions,
            "dest": regions,
            "user": sectors,
        },
    )
    ds.attrs.update(attrs or {})
    return ds


# --------------------------------------------------------------------------- catalogue
def resolve(name_or_path: str | Path) -> Path:
    """The file behind a built-in name or a path; a clear error if there is none."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.suffix == ".nc" or path.exists() or "/" in text or "\\" in text:
        if not path.is_file():
            raise DataError(f"dataset file not found: {text}")
        return path
    if text in builtin_names():
        return builtin_path(text)
    raise DataError(
        f"unknown dataset {text!r}{nearest(text, builtin_names())}; built-in datasets: "
        f"{', '.join(builtin_names()) or '(none)'}; or give the path of a benchmark .nc file"
    )


def load_dataset(name_or_path: str | Path = "default", validate: bool = True) -> xr.Dataset:
    """Load a built-in benchmark by name, or a benchmark ``.nc`` file by path.

    The dataset is read fully into memory and, unless ``validate=False``, checked against MODEL.md
    section 2 (a :class:`~cge.errors.DataError` names every problem found).
    """

    path = resolve(name_or_path)
    try:
        ds = read_netcdf(path)
    except Exception as exc:  # a corrupt or non-netCDF file
        raise DataError(f"{path}: cannot be read as a netCDF benchmark dataset ({show(str(exc))})") from None
    ds.attrs.setdefault("name", path.stem)
    ds.attrs["file"] = str(path)
    ds.attrs["sha256"] = sha256(path)
    if "mobility" in ds:
        ds["mobility"] = ds["mobility"].astype(str)
    if validate:
        report = check_dataset(ds)
        if not report.ok:
            raise DataError(report.message(str(path)))
    return ds


# --------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class Arrays:
    """A benchmark's variables as numpy arrays, their dimensions and every dimension's codes: what
    the checks read, from an ``xarray.Dataset`` (:meth:`of`) or straight from a file with netCDF4
    (:meth:`read`, for ``cge validate``: no xarray, no pandas)."""

    values: dict[str, np.ndarray]
    dims: dict[str, tuple[str, ...]]
    labels: dict[str, list[str]]

    @classmethod
    def of(cls, ds: xr.Dataset) -> Arrays:
        names = [v for v in ds.data_vars if v in SCHEMA or v in OPTIONAL]
        return cls(
            {v: ds[v].values for v in names},
            {v: tuple(map(str, ds[v].dims)) for v in names},
            {str(d): [str(c) for c in ds[d].values] for d in ds.dims if d in ds.coords},
        )

    @classmethod
    def read(cls, path: str | Path) -> Arrays:
        """The variables of a benchmark file, read with netCDF4; :class:`DataError` if it cannot be."""
        import netCDF4

        try:
            with netCDF4.Dataset(path) as nc:
                nc.set_auto_mask(False)
                names = [v for v in nc.variables if v in SCHEMA or v in OPTIONAL]
                dims = {v: tuple(nc[v].dimensions) for v in names}
                labels = {d: [str(c) for c in nc[d][:]] for d in nc.dimensions if d in nc.variables}
                values = {v: np.asarray(nc[v][:]) for v in names}
        except Exception as exc:  # a corrupt or non-netCDF file
            raise DataError(f"{path}: cannot be read as a netCDF benchmark dataset ({exc})") from None
        return cls(values, dims, labels)

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def size(self, dim: str) -> int:
        return len(self.labels.get(dim, []))

    def floats(self, name: str) -> np.ndarray:
        return np.asarray(self.values[name], dtype=float)


DatasetLike = Union["xr.Dataset", Arrays]


def _arrays(ds: DatasetLike) -> Arrays:
    return ds if isinstance(ds, Arrays) else Arrays.of(ds)


@dataclass
class Report:
    """What :func:`check_dataset` found: a list of problems, each naming its cells."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def message(self, where: str) -> str:
        head = f"{where}: {len(self.problems)} problem(s) with the benchmark dataset"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


def _cells(a: Arrays, dims: tuple[str, ...], mask: np.ndarray, values: np.ndarray, n: int = 5) -> str:
    """The n cells with the largest |values| where mask holds, as 'dim=code' lists."""
    idx = np.argwhere(mask)
    order = np.argsort(-np.abs(values[mask]), kind="stable")[:n]
    out = []
    for k in order:
        pos = idx[k]
        label = ", ".join(f"{d}={a.labels[d][p]}" for d, p in zip(dims, pos))
        out.append(f"[{label}] {values[tuple(pos)]:.6g}")
    more = f" (and {mask.sum() - len(out)} more)" if mask.sum() > len(out) else ""
    return "; ".join(out) + more


def check_dataset(ds: DatasetLike) -> Report:
    """Check a benchmark (a Dataset, or :class:`Arrays`) against MODEL.md section 2; never raises
    for bad content."""
    a, rep = _arrays(ds), Report()
    for check in (_check_layout, _check_codes, _check_finite, _check_signs_and_ranges, _check_identities):
        check(a, rep)
        if rep.problems:
            break
    return rep


def _check_layout(a: Arrays, rep: Report) -> None:
    missing = [v for v in SCHEMA if v not in a]
    if missing:
        rep.problems.append(
            f"missing variable(s): {', '.join(missing)} (MODEL.md section 2 requires {', '.join(SCHEMA)})"
        )
    for var, dims in {**SCHEMA, **OPTIONAL}.items():
        if var in a and a.dims[var] != dims:
            rep.problems.append(f"variable {var!r} has dimensions {a.dims[var]}, expected {dims}")


def _check_codes(a: Arrays, rep: Report) -> None:
    """Coordinates: aliases must carry the same codes in the same order, no duplicates."""
    for dim in ("region", "sector", "factor"):
        codes = a.labels.get(dim, [])
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            rep.problems.append(f"duplicate {dim} codes: {', '.join(dup)}")
        if not codes:
            rep.problems.append(f"dimension {dim!r} is empty")
    for alias, dim in (("source", "region"), ("dest", "region"), ("user", "sector")):
        if a.labels.get(alias, []) != a.labels.get(dim, []):
            rep.problems.append(f"coordinate {alias!r} must list the same codes as {dim!r} in the same order")
    if a.size("region") < 2:
        rep.problems.append("a benchmark needs at least two regions")


def _check_finite(a: Arrays, rep: Report) -> None:
    """Numbers (not text or booleans), finite, and flows below :data:`MAX_VALUE` (an absurd scale)."""
    for var in list(SCHEMA) + [v for v in OPTIONAL if v in a]:
        if var == "mobility":
            continue
        if np.asarray(a.values[var]).dtype.kind not in "fiu":
            rep.problems.append(f"{var}: stored as {np.asarray(a.values[var]).dtype} values; numbers are expected")
            continue
        vals = a.floats(var)
        bad = ~np.isfinite(vals) & ~((var == "etrans") & (vals == np.inf))
        big = np.abs(np.where(bad, 0.0, vals)) > MAX_VALUE
        if bad.any():
            rep.problems.append(f"{var}: non-finite values at {_cells(a, a.dims[var], bad, np.where(bad, 1.0, 0.0))}")
        elif var in FLOWS and big.any():
            rep.problems.append(
                f"{var}: values above {MAX_VALUE:g} currency units at {_cells(a, a.dims[var], big, vals)}: an "
                f"absurd scale (a benchmark in million USD has flows below 1e9); rescale the dataset"
            )
    _check_tiny(a, rep)


def _check_tiny(a: Arrays, rep: Report) -> None:
    """A benchmark whose flows are all tiny: lost in the solver's absolute tolerance (1e-8)."""
    if any(np.asarray(a.values[v]).dtype.kind not in "fiu" for v in FLOWS):
        return
    largest = max(float(np.nanmax(np.abs(a.floats(v)), initial=0.0)) for v in FLOWS)
    if largest < MIN_LARGEST:
        rep.problems.append(
            f"trade, intermediate, final_demand, factor_income: the largest flow is {largest:g} currency units, "
            f"below {MIN_LARGEST:g}: an absurd scale (residuals are solved to 1e-8); rescale the dataset"
        )


def _check_signs_and_ranges(a: Arrays, rep: Report) -> None:
    for var in FLOWS:
        vals = a.floats(var)
        if (vals < 0).any():
            rep.problems.append(f"{var}: negative flows at {_cells(a, a.dims[var], vals < 0, vals)}")
    route = SCHEMA["tariff"]
    tar = a.floats("tariff")
    if (tar <= -1).any():
        rep.problems.append(f"tariff: rates must be > -1, found {_cells(a, route, tar <= -1, tar)}")
    diag = np.zeros_like(tar, dtype=bool)
    n = a.size("region")
    diag[:, np.arange(n), np.arange(n)] = True
    if (diag & (tar != 0)).any():
        rep.problems.append(
            f"tariff: must be zero on the diagonal (domestic sales), found {_cells(a, route, diag & (tar != 0), tar)}"
        )
    for var in ("output_tax", "export_tax"):
        if var in a:
            vals = a.floats(var)
            if (vals <= -1).any():
                rep.problems.append(f"{var}: rates must be > -1, found {_cells(a, a.dims[var], vals <= -1, vals)}")
    if "export_tax" in a:
        ext = a.floats("export_tax")
        if (diag & (ext != 0)).any():
            rep.problems.append(
                f"export_tax: must be zero on the diagonal (domestic sales), found "
                f"{_cells(a, route, diag & (ext != 0), ext)}"
            )
    lo, hi = ELASTICITY_RANGE
    for var in ("esubd", "esubm", "esubva") + tuple(v for v in EXT_ELASTICITIES if v in a):
        vals = a.floats(var)
        out = (vals < lo) | ((vals > hi) & ~((var == "etrans") & (vals == np.inf)))
        if out.any():
            rep.problems.append(
                f"{var}: elasticities must lie in [{lo:g}, {hi:g}], found {_cells(a, a.dims[var], out, vals)}"
            )
    for f, m in zip(a.labels["factor"], (str(m) for m in a.values["mobility"])):
        if m not in MOBILITIES:
            rep.problems.append(f"mobility: factor {f!r} has {m!r}, expected one of {MOBILITIES}")
    if "population" in a:
        pop = a.floats("population")
        if (pop <= 0).any():
            rep.problems.append(f"population: must be positive, found {_cells(a, ('region',), pop <= 0, pop)}")


def _check_identities(a: Arrays, rep: Report) -> None:
    gap1, tot1, gap2, tot2 = identity_gaps(a)
    taxes1 = " and export taxes)" if "export_tax" in a else ")"
    taxes2 = ", times 1 + output tax)" if "output_tax" in a else ")"
    for label, gap, tot in (
        (
            "identity 1 (composite balance: intermediate + final demand = domestic sales + imports incl. tariffs"
            + taxes1,
            gap1,
            tot1,
        ),
        ("identity 2 (zero profit: sales = intermediate inputs + factor income" + taxes2, gap2, tot2),
    ):
        rel = np.abs(gap) / np.where(tot > 0, tot, 1.0)
        bad = rel > IDENTITY_RTOL
        if bad.any():
            rep.problems.append(
                f"{label} fails in {int(bad.sum())} cell(s); worst gaps (lhs - rhs, currency units): "
                f"{_cells(a, SCHEMA['final_demand'], bad, gap)}; largest relative gap {rel.max():.3g} "
                f"(tolerance {IDENTITY_RTOL:g})"
            )
    inc0 = a.floats("final_demand").sum(axis=0)
    if (inc0 <= 0).any():
        rep.problems.append(
            f"final_demand: every region needs positive income (sum of final demand), found "
            f"{_cells(a, ('region',), inc0 <= 0, inc0)}"
        )
    bal = trade_balance(a)
    if abs(bal.sum()) > IDENTITY_RTOL * float(inc0.sum()):
        rep.problems.append(f"benchmark trade deficits do not sum to zero (sum {bal.sum():.6g})")


def identity_gaps(ds: DatasetLike):
    """Gaps (lhs - rhs) and row totals of MODEL.md's two identities, both shaped (sector, region).

    With export or output taxes (docs/extensions.md section 4) imports carry ``1 + export_tax`` and
    costs ``1 + output_tax``.
    """
    a = _arrays(ds)
    trade, tar, inter = a.floats("trade"), a.floats("tariff"), a.floats("intermediate")
    fd, fac = a.floats("final_demand"), a.floats("factor_income")
    n = trade.shape[1]
    eye = np.eye(n, dtype=bool)
    ext = a.floats("export_tax") if "export_tax" in a else 0.0
    to = a.floats("output_tax") if "output_tax" in a else 0.0
    buyer = np.where(eye[None], trade, trade * (1 + ext) * (1 + tar))  # (i, s, r)
    lhs1 = inter.sum(axis=1) + fd  # (i, r)
    rhs1 = buyer.sum(axis=1)  # (i, r)
    lhs2 = trade.sum(axis=2)  # (j, r): sales of j made in r
    rhs2 = (1 + to) * (inter.sum(axis=0) + fac.sum(axis=0))  # (j, r)
    return lhs1 - rhs1, np.maximum(lhs1, rhs1), lhs2 - rhs2, np.maximum(lhs2, rhs2)


def trade_balance(ds: DatasetLike) -> np.ndarray:
    """Benchmark trade deficit B[r] = imports - exports at fob prices (basic prices, plus export taxes
    where the data has them), per region."""
    a = _arrays(ds)
    trade = a.floats("trade")
    if "export_tax" in a:
        trade = trade * (1 + a.floats("export_tax"))
    off = trade * (1 - np.eye(trade.shape[1]))[None]
    return off.sum(axis=(0, 1)) - off.sum(axis=(0, 2))


def describe(ds: xr.Dataset) -> dict:
    """A short description for ``cge datasets``."""
    return description(ds.attrs, {v: ds[v].values.astype(str) for v in LABELS})
