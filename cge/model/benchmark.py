"""Benchmark quantities, prices and shares (MODEL.md section 3), with their labels.

All values are in the dataset's currency unit (e.g. million USD).  Every price is 1 in the benchmark
except the gross import price ``PG0 = 1 + tariff``.  Arrays keep the dataset's order of labels; the
dimensions of every array are declared once, in :data:`DIMS`, and :class:`Coords` turns positions
into labels and back, so that the model, the scenario instruments and the results all read the
same labelled cells (``Benchmark.cells("X0")[("MAN", "CHN", "USA")]``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xarray as xr

#: the dimensions of every benchmark array (and of the instruments of the same shape)
DIMS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("trade", "tariff0", "export_tax0", "te0", "X0", "PG0", "thM"), ("sector", "source", "dest")),
    **dict.fromkeys(
        ("final_demand", "output_tax0", "to0", "Y0", "D0", "M0", "A0", "VA0", "COST0", "thD", "beta"),
        ("sector", "region"),
    ),
    "intermediate": ("sector", "user", "region"),
    **dict.fromkeys(("F0", "thF"), ("factor", "sector", "region")),
    "endowment0": ("factor", "region"),
    **dict.fromkeys(("esubd", "esubm", "esubva", "esubt_", "esubc_", "etrans_"), ("sector",)),
    **dict.fromkeys(("INC0", "B", "tariff_revenue0", "esubfd_", "population"), ("region",)),
}


@dataclass(frozen=True)
class Coords:
    """The labels of each dimension, and the positions of labels: the one place where a label
    tuple such as ``("MAN", "CHN", "USA")`` becomes an array index and back."""

    labels: dict[str, tuple[str, ...]]

    @cached_property
    def _position(self) -> dict[str, dict[str, int]]:
        return {dim: {x: k for k, x in enumerate(labs)} for dim, labs in self.labels.items()}

    def index(self, dims: tuple[str, ...], key) -> tuple[int, ...]:
        """The array position of a label tuple along ``dims``."""
        key = key if isinstance(key, tuple) else (key,)
        return tuple(self._position[d][x] for d, x in zip(dims, key))

    def shape(self, dims: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(len(self.labels[d]) for d in dims)

    def cells(self, array: np.ndarray, dims: tuple[str, ...]) -> dict[tuple, float]:
        """The nonzero cells of ``array`` keyed by their labels."""
        where = np.nonzero(array)
        if not dims:
            return {(): float(array)} if array != 0 else {}
        labels = [np.array(self.labels[d], dtype=object)[k].tolist() for d, k in zip(dims, where)]
        return dict(zip(zip(*labels), np.asarray(array, dtype=float)[where].tolist()))

    def grid(self, values, dims: tuple[str, ...], fill: float = np.nan) -> np.ndarray:
        """An array along ``dims`` from ``{label tuple: value}`` (or ``(key, value)`` pairs); ``fill`` elsewhere."""
        out = np.full(self.shape(dims), fill)
        for key, v in values.items() if isinstance(values, dict) else values:
            out[self.index(dims, key)] = v
        return out

    def at(self, array: np.ndarray, dims: tuple[str, ...], key) -> float:
        """The value of ``array`` at a label tuple."""
        return float(array[self.index(dims, key)])

    def labelled(self, array: np.ndarray, dims: tuple[str, ...], **attrs) -> xr.DataArray:
        return xr.DataArray(array, dims=dims, coords={d: list(self.labels[d]) for d in dims}, attrs=attrs)


@dataclass(frozen=True)
class Benchmark:
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    factors: tuple[str, ...]
    mobility: tuple[str, ...]  # per factor: "mobile" | "specific"
    trade: np.ndarray  # (i, s, r) basic-price value, diagonal = D0
    tariff0: np.ndarray  # (i, s, r) benchmark tariff, 0 on the diagonal
    intermediate: np.ndarray  # (i, j, r) buyer prices
    final_demand: np.ndarray  # (i, r)
    F0: np.ndarray  # (f, j, r) factor use = factor income
    esubd: np.ndarray  # (i,)
    esubm: np.ndarray  # (i,)
    esubva: np.ndarray  # (j,)
    population: np.ndarray | None  # (r,)
    # ----- extensions (docs/extensions.md); None = absent = the neutral value
    output_tax0: np.ndarray | None = None  # (j, r) benchmark output tax rate
    export_tax0: np.ndarray | None = None  # (i, s, r) benchmark export tax rate, levied by s
    esubt: np.ndarray | None = None  # (j,) value added vs intermediate bundle (0 = core)
    esubc: np.ndarray | None = None  # (j,) among intermediates (0 = core)
    esubfd: np.ndarray | None = None  # (r,) final demand (1 = core)
    etrans: np.ndarray | None = None  # (i,) CET domestic vs exports (inf = core)

    @property
    def has_taxes(self) -> bool:
        """Output or export taxes are in the data (the tax instruments are then built)."""
        return self.output_tax0 is not None or self.export_tax0 is not None

    @cached_property
    def to0(self) -> np.ndarray:
        """Benchmark output tax rate (zeros when absent) -> (j, r)."""
        return np.zeros_like(self.final_demand) if self.output_tax0 is None else self.output_tax0

    @cached_property
    def te0(self) -> np.ndarray:
        """Benchmark export tax rate (zeros when absent) -> (i, s, r)."""
        return np.zeros_like(self.trade) if self.export_tax0 is None else np.where(self.offdiag, self.export_tax0, 0.0)

    @cached_property
    def esubt_(self) -> np.ndarray:
        return np.zeros(len(self.sectors)) if self.esubt is None else self.esubt

    @cached_property
    def esubc_(self) -> np.ndarray:
        return np.zeros(len(self.sectors)) if self.esubc is None else self.esubc

    @cached_property
    def esubfd_(self) -> np.ndarray:
        return np.ones(len(self.regions)) if self.esubfd is None else self.esubfd

    @cached_property
    def etrans_(self) -> np.ndarray:
        return np.full(len(self.sectors), np.inf) if self.etrans is None else self.etrans

    # ----- labels
    @cached_property
    def coords(self) -> Coords:
        """The labels of every dimension the arrays use (:data:`DIMS`)."""
        R, S, F = self.regions, self.sectors, self.factors
        return Coords({"sector": S, "user": S, "region": R, "source": R, "dest": R, "factor": F})

    def cells(self, name: str) -> dict[tuple, float]:
        """A benchmark array's nonzero cells keyed by labels, e.g. ``cells("Y0")[("MAN", "USA")]``."""
        return self.coords.cells(getattr(self, name), DIMS[name])

    def labelled(self, name: str) -> xr.DataArray:
        """A benchmark array with its coordinates."""
        return self.coords.labelled(getattr(self, name), DIMS[name])

    # ----- derived benchmark quantities (MODEL.md section 3)
    @cached_property
    def n(self) -> tuple[int, int, int]:
        return len(self.sectors), len(self.regions), len(self.factors)

    @cached_property
    def offdiag(self) -> np.ndarray:
        """(1, s, r) mask of import routes s != r."""
        n = len(self.regions)
        return ~np.eye(n, dtype=bool)[None]

    @cached_property
    def Y0(self) -> np.ndarray:
        """Output value of j made in r: sum_s trade[j, r, s] -> (j, r)."""
        return self.trade.sum(axis=2)

    @cached_property
    def D0(self) -> np.ndarray:
        """Domestic sales trade[i, r, r] -> (i, r)."""
        return np.einsum("irr->ir", self.trade)

    @cached_property
    def X0(self) -> np.ndarray:
        """Imports at basic prices, zero on the diagonal -> (i, s, r)."""
        return np.where(self.offdiag, self.trade, 0.0)

    @cached_property
    def PG0(self) -> np.ndarray:
        """Benchmark gross import price (1 + tariff), times (1 + export tax) with export taxes."""
        return 1.0 + self.tariff0 if self.export_tax0 is None else (1.0 + self.te0) * (1.0 + self.tariff0)

    @cached_property
    def M0(self) -> np.ndarray:
        """Import composite at benchmark gross prices: sum_s X0 * PG0 -> (i, r)."""
        return (self.X0 * self.PG0).sum(axis=1)

    @cached_property
    def A0(self) -> np.ndarray:
        return self.D0 + self.M0

    @cached_property
    def VA0(self) -> np.ndarray:
        return self.F0.sum(axis=0)

    @cached_property
    def INC0(self) -> np.ndarray:
        return self.final_demand.sum(axis=0)

    @cached_property
    def B(self) -> np.ndarray:
        """Benchmark trade deficit: imports minus exports at fob prices (basic prices plus export
        taxes) -> (r,)."""
        fob = self.X0 if self.export_tax0 is None else self.X0 * (1.0 + self.te0)
        return fob.sum(axis=(0, 1)) - fob.sum(axis=(0, 2))

    @cached_property
    def tariff_revenue0(self) -> np.ndarray:
        fob = self.X0 if self.export_tax0 is None else self.X0 * (1.0 + self.te0)
        return (fob * self.tariff0).sum(axis=(0, 1))

    @cached_property
    def export_tax_revenue0(self) -> np.ndarray:
        """Collected by the source -> (r,)."""
        return (self.X0 * self.te0).sum(axis=(0, 2))

    @cached_property
    def COST0(self) -> np.ndarray:
        """Benchmark cost of output, intermediates plus value added: Y0 / (1 + to0) -> (j, r)."""
        return self.intermediate.sum(axis=0) + self.VA0

    @cached_property
    def output_tax_revenue0(self) -> np.ndarray:
        return (self.to0 * self.COST0).sum(axis=0)

    @cached_property
    def endowment0(self) -> np.ndarray:
        """Factor endowment by (f, r): sum over sectors of F0."""
        return self.F0.sum(axis=1)

    # ----- shares
    @cached_property
    def thD(self) -> np.ndarray:
        return _share(self.D0, self.A0)

    @cached_property
    def thM(self) -> np.ndarray:
        return _share(self.X0 * self.PG0, self.M0[:, None, :])

    @cached_property
    def thF(self) -> np.ndarray:
        return _share(self.F0, self.VA0[None])

    @cached_property
    def beta(self) -> np.ndarray:
        return _share(self.final_demand, self.INC0[None])


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    den = np.broadcast_to(den, num.shape)
    out = np.zeros(num.shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


def benchmark(ds: xr.Dataset) -> Benchmark:
    """Read a (validated) dataset into plain arrays."""

    def arr(name, *dims):
        return np.ascontiguousarray(ds[name].transpose(*dims).values, dtype=float)

    pop = arr("population", "region") if "population" in ds else None
    opt = lambda name, *dims: arr(name, *dims) if name in ds else None
    return Benchmark(
        regions=tuple(str(r) for r in ds["region"].values),
        sectors=tuple(str(i) for i in ds["sector"].values),
        factors=tuple(str(f) for f in ds["factor"].values),
        mobility=tuple(str(m) for m in ds["mobility"].values),
        trade=arr("trade", "sector", "source", "dest"),
        tariff0=arr("tariff", "sector", "source", "dest"),
        intermediate=arr("intermediate", "sector", "user", "region"),
        final_demand=arr("final_demand", "sector", "region"),
        F0=arr("factor_income", "factor", "sector", "region"),
        esubd=arr("esubd", "sector"),
        esubm=arr("esubm", "sector"),
        esubva=arr("esubva", "sector"),
        population=pop,
        output_tax0=opt("output_tax", "sector", "region"),
        export_tax0=opt("export_tax", "sector", "source", "dest"),
        esubt=opt("esubt", "sector"),
        esubc=opt("esubc", "sector"),
        esubfd=opt("esubfd", "region"),
        etrans=opt("etrans", "sector"),
    )
