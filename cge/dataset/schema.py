"""The benchmark dataset of MODEL.md section 2: loading, the built-in catalogue, validation.

A benchmark is an ``xarray.Dataset`` with dimensions ``region``, ``sector``, ``factor`` and the
aliases ``source``/``dest`` (= region) and ``user`` (= sector).  All values are in one currency
unit (the built-in datasets: million USD) for one year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from cge.dataset.catalogue import LABELS, builtin_names, builtin_path, description
from cge.errors import DataError, nearest
from cge.io import sha256

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
        with xr.open_dataset(path) as handle:
            ds = handle.load()
    except Exception as exc:  # a corrupt or non-netCDF file
        raise DataError(f"{path}: cannot be read as a netCDF benchmark dataset ({exc})") from None
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


def _cells(da: xr.DataArray, mask: np.ndarray, values: np.ndarray, n: int = 5) -> str:
    """The n cells with the largest |values| where mask holds, as 'dim=code' lists."""
    idx = np.argwhere(mask)
    order = np.argsort(-np.abs(values[mask]), kind="stable")[:n]
    out = []
    for k in order:
        pos = idx[k]
        label = ", ".join(f"{d}={da[d].values[p]}" for d, p in zip(da.dims, pos))
        out.append(f"[{label}] {values[tuple(pos)]:.6g}")
    more = f" (and {mask.sum() - len(out)} more)" if mask.sum() > len(out) else ""
    return "; ".join(out) + more


def check_dataset(ds: xr.Dataset) -> Report:
    """Check a benchmark against MODEL.md section 2; never raises for bad content."""
    rep = Report()
    missing = [v for v in SCHEMA if v not in ds]
    if missing:
        rep.problems.append(
            f"missing variable(s): {', '.join(missing)} (MODEL.md section 2 requires {', '.join(SCHEMA)})"
        )
    for var, dims in {**SCHEMA, **OPTIONAL}.items():
        if var in ds and tuple(ds[var].dims) != dims:
            rep.problems.append(f"variable {var!r} has dimensions {tuple(ds[var].dims)}, expected {dims}")
    if rep.problems:
        return rep
    # coordinates: aliases must carry the same codes in the same order, no duplicates
    for dim in ("region", "sector", "factor"):
        codes = [str(c) for c in ds[dim].values]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            rep.problems.append(f"duplicate {dim} codes: {', '.join(dup)}")
        if not codes:
            rep.problems.append(f"dimension {dim!r} is empty")
    for alias, dim in (("source", "region"), ("dest", "region"), ("user", "sector")):
        if [str(c) for c in ds[alias].values] != [str(c) for c in ds[dim].values]:
            rep.problems.append(f"coordinate {alias!r} must list the same codes as {dim!r} in the same order")
    if ds.sizes["region"] < 2:
        rep.problems.append("a benchmark needs at least two regions")
    if rep.problems:
        return rep

    for var in list(SCHEMA) + [v for v in OPTIONAL if v in ds]:
        if var == "mobility":
            continue
        vals = np.asarray(ds[var].values, dtype=float)
        bad = ~np.isfinite(vals) & ~((var == "etrans") & (vals == np.inf))
        if bad.any():
            rep.problems.append(f"{var}: non-finite values at {_cells(ds[var], bad, np.where(bad, 1.0, 0.0))}")
    if rep.problems:
        return rep

    for var in FLOWS:
        vals = ds[var].values.astype(float)
        neg = vals < 0
        if neg.any():
            rep.problems.append(f"{var}: negative flows at {_cells(ds[var], neg, vals)}")
    tar = ds["tariff"].values.astype(float)
    low = tar <= -1
    if low.any():
        rep.problems.append(f"tariff: rates must be > -1, found {_cells(ds['tariff'], low, tar)}")
    diag = np.zeros_like(tar, dtype=bool)
    n = ds.sizes["region"]
    diag[:, np.arange(n), np.arange(n)] = True
    bad_diag = diag & (tar != 0)
    if bad_diag.any():
        rep.problems.append(
            f"tariff: must be zero on the diagonal (domestic sales), found {_cells(ds['tariff'], bad_diag, tar)}"
        )
    for var in ("output_tax", "export_tax"):
        if var in ds:
            vals = ds[var].values.astype(float)
            if (vals <= -1).any():
                rep.problems.append(f"{var}: rates must be > -1, found {_cells(ds[var], vals <= -1, vals)}")
    if "export_tax" in ds:
        ext = ds["export_tax"].values.astype(float)
        bad_diag = diag & (ext != 0)
        if bad_diag.any():
            rep.problems.append(
                f"export_tax: must be zero on the diagonal (domestic sales), found "
                f"{_cells(ds['export_tax'], bad_diag, ext)}"
            )
    lo, hi = ELASTICITY_RANGE
    for var in ("esubd", "esubm", "esubva") + tuple(v for v in EXT_ELASTICITIES if v in ds):
        vals = ds[var].values.astype(float)
        out = (vals < lo) | ((vals > hi) & ~((var == "etrans") & (vals == np.inf)))
        if out.any():
            rep.problems.append(f"{var}: elasticities must lie in [{lo:g}, {hi:g}], found {_cells(ds[var], out, vals)}")
    mob = [str(m) for m in ds["mobility"].values]
    for f, m in zip(ds["factor"].values, mob):
        if m not in MOBILITIES:
            rep.problems.append(f"mobility: factor {f!r} has {m!r}, expected one of {MOBILITIES}")
    if "population" in ds:
        pop = ds["population"].values.astype(float)
        if (pop <= 0).any():
            rep.problems.append(f"population: must be positive, found {_cells(ds['population'], pop <= 0, pop)}")
    if rep.problems:
        return rep

    gap1, tot1, gap2, tot2 = identity_gaps(ds)
    for label, gap, tot, da in (
        (
            "identity 1 (composite balance: intermediate + final demand = domestic sales + imports incl. tariffs"
            + (" and export taxes)" if "export_tax" in ds else ")"),
            gap1,
            tot1,
            ds["final_demand"],
        ),
        (
            "identity 2 (zero profit: sales = intermediate inputs + factor income"
            + (", times 1 + output tax)" if "output_tax" in ds else ")"),
            gap2,
            tot2,
            ds["final_demand"],
        ),
    ):
        rel = np.abs(gap) / np.where(tot > 0, tot, 1.0)
        bad = rel > IDENTITY_RTOL
        if bad.any():
            rep.problems.append(
                f"{label} fails in {int(bad.sum())} cell(s); worst gaps (lhs - rhs, currency units): "
                f"{_cells(da, bad, gap)}; largest relative gap {rel.max():.3g} (tolerance {IDENTITY_RTOL:g})"
            )
    inc0 = ds["final_demand"].sum("sector").values
    if (inc0 <= 0).any():
        rep.problems.append(
            f"final_demand: every region needs positive income (sum of final demand), found "
            f"{_cells(ds['final_demand'].isel(sector=0), inc0 <= 0, inc0)}"
        )
    bal = trade_balance(ds)
    if abs(bal.sum()) > IDENTITY_RTOL * float(inc0.sum()):
        rep.problems.append(f"benchmark trade deficits do not sum to zero (sum {bal.sum():.6g})")
    return rep


def identity_gaps(ds: xr.Dataset):
    """Gaps (lhs - rhs) and row totals of MODEL.md's two identities, both shaped (sector, region).

    With export or output taxes (docs/extensions.md section 4) imports carry ``1 + export_tax`` and
    costs ``1 + output_tax``.
    """
    trade = ds["trade"].values.astype(float)
    tar = ds["tariff"].values.astype(float)
    inter = ds["intermediate"].values.astype(float)
    fd = ds["final_demand"].values.astype(float)
    fac = ds["factor_income"].values.astype(float)
    n = trade.shape[1]
    eye = np.eye(n, dtype=bool)
    ext = ds["export_tax"].values.astype(float) if "export_tax" in ds else 0.0
    to = ds["output_tax"].values.astype(float) if "output_tax" in ds else 0.0
    buyer = np.where(eye[None], trade, trade * (1 + ext) * (1 + tar))  # (i, s, r)
    lhs1 = inter.sum(axis=1) + fd  # (i, r)
    rhs1 = buyer.sum(axis=1)  # (i, r)
    lhs2 = trade.sum(axis=2)  # (j, r): sales of j made in r
    rhs2 = (1 + to) * (inter.sum(axis=0) + fac.sum(axis=0))  # (j, r)
    return lhs1 - rhs1, np.maximum(lhs1, rhs1), lhs2 - rhs2, np.maximum(lhs2, rhs2)


def trade_balance(ds: xr.Dataset) -> np.ndarray:
    """Benchmark trade deficit B[r] = imports - exports at fob prices (basic prices, plus export taxes
    where the data has them), per region."""
    trade = ds["trade"].values.astype(float)
    if "export_tax" in ds:
        trade = trade * (1 + ds["export_tax"].values.astype(float))
    off = trade * (1 - np.eye(trade.shape[1]))[None]
    return off.sum(axis=(0, 1)) - off.sum(axis=(0, 2))


def describe(ds: xr.Dataset) -> dict:
    """A short description for ``cge datasets``."""
    return description(ds.attrs, {v: ds[v].values.astype(str) for v in LABELS})
