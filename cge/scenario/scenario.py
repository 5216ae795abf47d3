"""Scenarios: YAML files validated by pydantic schemas, turned into model instruments.

A scenario is data, never code.  Its layers are applied in order to the benchmark instruments:

1. the integration stage (``stage`` with ``stage_options``, one model per stage in
   :mod:`cge.scenario.stages`), then
2. the free-form ``shocks``, one after the other.

Both layers only produce :class:`Instruments` -- tariffs, iceberg trade costs, endowment scales --
that are set on a model built once; nothing here builds or solves a model.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from cge.errors import InputWarning, ScenarioError, nearest, show
from cge.model.benchmark import Benchmark
from cge.scenario import stages as stages_mod
from cge.scenario.options import ModelOptions, ModelSection, resolve
from cge.scenario.solver_options import check_solver_options
from cge.scenario.stages import ORDER as STAGES
from cge.schema import Finite, Integer, Strict, confined, decode_utf8, format_errors, read_bounded, read_yaml

Codes = Union[Literal["all"], list[str], str]

#: tariff and tax rates lie in (-1, MAX_RATE]: above it (a rate of 10,000%) a scenario is refused ...
MAX_RATE = 100.0
#: ... and above PLAUSIBLE_RATE (500%) it is solved with a warning
PLAUSIBLE_RATE = 5.0
#: a scale (of a tariff, a trade cost or an endowment) or a trade-cost factor lies in [0, MAX_SCALE]
MAX_SCALE = 100.0
#: a tariff file larger than this is refused (50 regions x 50 sectors of routes take 4 MB)
MAX_CSV_BYTES = 32 << 20
Rate = Annotated[Finite, Field(gt=-1.0, le=MAX_RATE)]
Scale = Annotated[Finite, Field(ge=0.0, le=MAX_SCALE)]
Factor = Annotated[Finite, Field(gt=0.0, le=MAX_SCALE)]


_Strict = Strict


def _as_list(v: Any) -> Any:
    return [v] if isinstance(v, str) and v != "all" else v


class TariffShock(_Strict):
    """Set, scale or read from a CSV file the tariff ``t[i, s, r]`` on selected routes."""

    sector: Codes = "all"
    source: Codes = "all"
    dest: Codes = "all"
    set_: Optional[Rate] = Field(None, alias="set")
    scale: Optional[Scale] = None
    file: Optional[str] = Field(None, max_length=1000)

    _norm = field_validator("sector", "source", "dest", mode="before")(_as_list)

    @model_validator(mode="after")
    def _one_action(self):
        given = [k for k in ("set_", "scale", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'set', 'scale' or 'file'")
        return self


class _SetOrScale(_Strict):
    """A shock that either sets or scales an instrument."""

    @model_validator(mode="after")
    def _one_action(self):
        if (self.scale is None) == (self.set_ is None):
            raise ValueError("give exactly one of 'set' or 'scale'")
        return self


class TradeCostShock(_SetOrScale):
    """Scale or set the iceberg trade-cost factor ``tau[i, s, r]`` (1 in the benchmark)."""

    sector: Codes = "all"
    source: Codes = "all"
    dest: Codes = "all"
    scale: Optional[Factor] = None
    set_: Optional[Factor] = Field(None, alias="set")

    _norm = field_validator("sector", "source", "dest", mode="before")(_as_list)


class EndowmentShock(_Strict):
    """Scale a factor's endowment in selected regions (and, for a specific factor, sectors)."""

    factor: Codes
    region: Codes = "all"
    sector: Codes = "all"
    scale: Factor

    _norm = field_validator("factor", "region", "sector", mode="before")(_as_list)


class OutputTaxShock(_SetOrScale):
    """Set or scale the output tax ``to[j, r]`` (extension, docs/extensions.md section 4)."""

    sector: Codes = "all"
    region: Codes = "all"
    set_: Optional[Rate] = Field(None, alias="set")
    scale: Optional[Scale] = None

    _norm = field_validator("sector", "region", mode="before")(_as_list)


class ExportTaxShock(_SetOrScale):
    """Set or scale the export tax ``te[i, s, r]`` levied by ``source`` (extension)."""

    sector: Codes = "all"
    source: Codes = "all"
    dest: Codes = "all"
    set_: Optional[Rate] = Field(None, alias="set")
    scale: Optional[Scale] = None

    _norm = field_validator("sector", "source", "dest", mode="before")(_as_list)


SHOCK_KINDS = ("tariff", "trade_cost", "endowment", "output_tax", "export_tax")


class Shock(_Strict):
    tariff: Optional[TariffShock] = None
    trade_cost: Optional[TradeCostShock] = None
    endowment: Optional[EndowmentShock] = None
    output_tax: Optional[OutputTaxShock] = None
    export_tax: Optional[ExportTaxShock] = None

    @model_validator(mode="after")
    def _exactly_one(self):
        kinds = [k for k in SHOCK_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("each shock is one of " + ", ".join(f"'{k}'" for k in SHOCK_KINDS))
        return self

    @property
    def kind(self) -> str:
        return next(k for k in SHOCK_KINDS if getattr(self, k) is not None)


class Union_(_Strict):
    name: str = Field("union", max_length=100)
    members: list[str]

    @field_validator("members")
    @classmethod
    def _distinct(cls, v):
        dup = sorted({m for m in v if v.count(m) > 1})
        if dup:
            raise ValueError(f"members listed twice: {', '.join(dup)}")
        return v


class Scenario(_Strict):
    """One scenario file (INTERFACE.md)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=100)
    description: str = ""
    data: str = "default"
    union: Optional[Union_] = None
    stage: Literal[STAGES] = "none"  # type: ignore[valid-type]
    stages: Optional[list[Literal[STAGES]]] = None  # type: ignore[valid-type]
    stage_options: dict[str, Any] = Field(default_factory=dict)
    shocks: list[Shock] = Field(default_factory=list)
    solver: Optional[dict[str, Any]] = None
    model: Optional[ModelSection] = None
    #: named groups of the scenario's changes ("stage", or a shock's position in ``shocks``, from 0),
    #: each given its exact contribution to every result (cge/results/subtotals.py)
    subtotals: Optional[dict[str, list[Union[Literal["stage"], Integer]]]] = None

    #: where the scenario was read from (for relative paths and messages); not part of the file
    source_path: Optional[str] = Field(None, exclude=True)
    source_text: Optional[str] = Field(None, exclude=True)
    #: for one step of a ladder: the ladder's name
    ladder: Optional[str] = Field(None, exclude=True)

    @model_validator(mode="after")
    def _stage_or_stages(self):
        if self.stages is not None:
            if "stage" in self.model_fields_set:
                raise ValueError("give either 'stage' or 'stages' (a ladder), not both")
            if not self.stages:
                raise ValueError("'stages' needs at least one stage")
            dup = sorted({s for s in self.stages if self.stages.count(s) > 1})
            if dup:
                raise ValueError(f"stages listed twice: {', '.join(dup)}")
        return self

    @model_validator(mode="after")
    def _subtotal_groups(self):
        seen: dict[Any, str] = {}
        for group, items in (self.subtotals or {}).items():
            if not items:
                raise ValueError(f"subtotals.{group}: list 'stage' and/or shock positions (0, 1, ...)")
            for item in items:
                if item != "stage" and not 0 <= int(item) < len(self.shocks):
                    raise ValueError(
                        f"subtotals.{group}: {item} is not a shock position (the scenario has "
                        f"{len(self.shocks)} shock(s), numbered from 0)"
                    )
                if item in seen:
                    raise ValueError(f"subtotals.{group}: {item!r} is already in group {seen[item]!r}")
                seen[item] = group
        return self

    @property
    def is_ladder(self) -> bool:
        return self.stages is not None

    def steps(self) -> list[Scenario]:
        """The scenarios to solve: itself, or one per stage of a ladder (each with the options it reads)."""
        if self.stages is None:
            return [self]
        options = stages_mod.ladder_options(self.stages, self.stage_options, self.where)
        return [
            self.model_copy(
                update={
                    "stage": st,
                    "stages": None,
                    "stage_options": opts,
                    "name": f"{self.name}.{st}",
                    "ladder": self.name,
                }
            )
            for st, opts in zip(self.stages, options)
        ]

    def integration(self) -> stages_mod.Stage:
        """The stage with its options, validated (one step: a ladder has one per step, see :meth:`steps`)."""
        if self.stages is not None:
            raise ScenarioError(f"{self.where}: a ladder ({', '.join(self.stages)}) has one stage per step")
        return stages_mod.parse(self.stage, self.stage_options, self.where)

    # ---------------------------------------------------------------- reading
    @classmethod
    def from_yaml(cls, path: str | Path) -> Scenario:
        path = Path(path)
        raw, text = read_yaml(path, "scenario", ScenarioError)
        if not isinstance(raw, dict):
            raise ScenarioError(f"{path}: a scenario file must be a YAML mapping with at least 'name'")
        return cls.from_dict(raw, where=str(path), text=text)

    @classmethod
    def from_dict(cls, raw: dict, where: str = "<scenario>", text: str | None = None) -> Scenario:
        if "source_path" in raw or "source_text" in raw:
            raise ScenarioError(f"{where}: unknown key 'source_path'/'source_text'")
        if isinstance(raw.get("solver"), dict):
            check_solver_options(raw["solver"], where)
        try:
            sc = cls.model_validate(raw)
        except ValidationError as exc:
            raise ScenarioError(format_validation_error(exc, where, raw)) from None
        sc.source_path = where
        sc.source_text = text if text is not None else yaml.safe_dump(raw, sort_keys=False)
        for step in sc.steps():  # the stage options' shape, before any data is read
            step.integration()
        return sc

    @property
    def where(self) -> str:
        return self.source_path or "<scenario>"

    @property
    def base_dir(self) -> Path:
        return Path(self.source_path).parent if self.source_path and self.source_path != "<scenario>" else Path(".")

    # ---------------------------------------------------------------- checks against the data
    def check(self, bench: Benchmark) -> None:
        """Refuse codes that are not in the dataset, naming the nearest valid one."""
        if self.stages is not None:
            for step in self.steps():
                step.check(bench)
            return
        if self.union is not None:
            for m in self.union.members:
                _known(m, bench.regions, "region", f"{self.where}: union.members")
            if len(self.union.members) < 2:
                raise ScenarioError(
                    f"{self.where}: union.members: a union needs at least two members, got {self.union.members}"
                )
        self.model_options(bench)
        stage = self.integration()
        if self.union is None:
            if not isinstance(stage, stages_mod.NoStage):
                raise ScenarioError(f"{self.where}: stage {self.stage!r} needs a 'union' with its members")
        else:
            stage.check(bench, self.union.members, f"{self.where}: stage_options")
        for k, shock in enumerate(self.shocks):
            key = f"{self.where}: shocks[{k}].{shock.kind}"
            body = getattr(shock, shock.kind)
            if shock.kind == "endowment":
                _codes(body.factor, bench.factors, "factor", key + ".factor")
                _codes(body.region, bench.regions, "region", key + ".region")
                _codes(body.sector, bench.sectors, "sector", key + ".sector")
            elif shock.kind == "output_tax":
                _codes(body.sector, bench.sectors, "sector", key + ".sector")
                _codes(body.region, bench.regions, "region", key + ".region")
            else:
                _codes(body.sector, bench.sectors, "sector", key + ".sector")
                _codes(body.source, bench.regions, "region", key + ".source")
                _codes(body.dest, bench.regions, "region", key + ".dest")
                if shock.kind == "tariff" and body.file is not None:
                    read_tariff_csv(data_file(self.base_dir, body.file, key + ".file"), bench, key + ".file")

    # ---------------------------------------------------------------- model options
    @property
    def uses_taxes(self) -> bool:
        return any(sh.kind in ("output_tax", "export_tax") for sh in self.shocks)

    def model_options(self, bench: Benchmark) -> ModelOptions:
        """The ``model:`` section checked against the data (docs/extensions.md)."""
        members = tuple(self.union.members) if self.union is not None else ()
        return resolve(self.model, bench, self.where, needs_taxes=self.uses_taxes, members=members)

    # ---------------------------------------------------------------- instruments
    def instruments(self, bench: Benchmark) -> Instruments:
        """Benchmark instruments, then the stage layer, then the shocks."""
        if self.stages is not None:
            raise ScenarioError(
                f"{self.where}: a ladder ({', '.join(self.stages)}) is solved step by step: "
                f"use Scenario.steps() or cge.compare"
            )
        return self.instrument_chain(bench)[-1][1]

    def instrument_chain(self, bench: Benchmark) -> list[tuple[str | int, Instruments]]:
        """The instruments after the stage (``"stage"``) and after each shock (its position), in order."""
        self.check(bench)
        ins = Instruments.benchmark(bench)
        if self.union is not None:
            ins = self.integration().apply(bench, self.union.members, ins)
        chain: list[tuple[str | int, Instruments]] = [("stage", ins)]
        for k, shock in enumerate(self.shocks):
            key = f"{self.where}: shocks[{k}].{shock.kind}"
            before, ins = ins, apply_shock(shock, bench, ins, self.base_dir, key)
            check_instruments(before, ins, bench, key)
            chain.append((k, ins))
        return chain


@dataclass
class Instruments:
    """The values of the model's mutable parameters for one scenario.

    ``tariff``, ``tau``: (sector, source, dest); ``endowment``: (factor, sector, region) scale of
    benchmark factor use; ``pnum``: the numeraire.  Set by the stage layer (MODEL.md section 7):
    ``revenue_pool`` (region) 1 where a region's tariff revenue goes to a common pool,
    ``revenue_share`` (region) each region's share of that pool, ``factor_pool`` (factor, region) 1
    where a mobile factor moves freely among the regions so marked (one union-wide price).
    """

    tariff: np.ndarray
    tau: np.ndarray
    endowment: np.ndarray
    revenue_pool: np.ndarray
    revenue_share: np.ndarray
    factor_pool: np.ndarray
    output_tax: np.ndarray  # (sector, region), extension (docs/extensions.md section 4)
    export_tax: np.ndarray  # (sector, source, dest), levied by the source
    pnum: float = 1.0
    notes: list[str] = field(default_factory=list)

    @classmethod
    def benchmark(cls, bench: Benchmark) -> Instruments:
        nr = len(bench.regions)
        return cls(
            tariff=bench.tariff0.copy(),
            tau=np.ones_like(bench.trade),
            endowment=np.ones_like(bench.F0),
            revenue_pool=np.zeros(nr),
            revenue_share=np.zeros(nr),
            factor_pool=np.zeros((len(bench.factors), nr)),
            output_tax=bench.to0.copy(),
            export_tax=bench.te0.copy(),
        )

    def towards(self, final: Instruments, lam: float) -> Instruments:
        """The point ``lam`` (0..1) of the straight path from ``self`` to ``final``.

        Every instrument moves linearly; revenue pooling and factor pooling move from 0 to their
        final values too, which makes the path continuous (partial pooling, partial mobility).
        """
        mix = lambda a, b: (1.0 - lam) * a + lam * b
        return Instruments(
            tariff=mix(self.tariff, final.tariff),
            tau=mix(self.tau, final.tau),
            endowment=mix(self.endowment, final.endowment),
            revenue_pool=mix(self.revenue_pool, final.revenue_pool),
            revenue_share=final.revenue_share.copy(),
            factor_pool=mix(self.factor_pool, final.factor_pool),
            output_tax=mix(self.output_tax, final.output_tax),
            export_tax=mix(self.export_tax, final.export_tax),
            pnum=mix(self.pnum, final.pnum),
            notes=list(final.notes),
        )

    def copy(self) -> Instruments:
        return replace(
            self,
            tariff=self.tariff.copy(),
            tau=self.tau.copy(),
            endowment=self.endowment.copy(),
            revenue_pool=self.revenue_pool.copy(),
            revenue_share=self.revenue_share.copy(),
            factor_pool=self.factor_pool.copy(),
            output_tax=self.output_tax.copy(),
            export_tax=self.export_tax.copy(),
            notes=list(self.notes),
        )


# ------------------------------------------------------------------- helpers
def _known(code: str, valid, kind: str, key: str) -> None:
    if code not in valid:
        raise ScenarioError(f"{key}: unknown {kind} code {show(code)}{nearest(code, valid)}")


def _codes(sel, valid, kind: str, key: str) -> None:
    if sel == "all":
        return
    if not isinstance(sel, list) or not sel:
        raise ScenarioError(f"{key}: give a list of {kind} codes or 'all'")
    for c in sel:
        _known(c, valid, kind, key)


def _mask(sel, labels) -> np.ndarray:
    if sel == "all":
        return np.ones(len(labels), dtype=bool)
    return np.isin(np.asarray(labels), sel)


def route_mask(bench: Benchmark, sector="all", source="all", dest="all") -> np.ndarray:
    """Boolean (sector, source, dest) mask of selected import routes (never the diagonal)."""
    m = (
        _mask(sector, bench.sectors)[:, None, None]
        & _mask(source, bench.regions)[None, :, None]
        & _mask(dest, bench.regions)[None, None, :]
    )
    return m & bench.offdiag


def data_file(base: Path, name: str, key: str) -> Path:
    """A tariff file named in a scenario: in the scenario's folder or below it (cge.schema.confined)."""
    return confined(base, name, key, "copy the file there", ScenarioError)


def read_tariff_csv(path: Path, bench: Benchmark, key: str) -> list[tuple[int, int, int, float]]:
    """A tariff table: UTF-8 CSV with the columns sector, source, dest, rate (one row per route, each
    route once).  A bad line is refused naming the line and column; the file's text is not echoed."""
    raw = read_bounded(
        path,
        MAX_CSV_BYTES,
        ScenarioError,
        f"{key}: cannot read tariff file {str(path)!r}",
        f"{path}: a tariff file is larger than {MAX_CSV_BYTES >> 20} MiB",
    )
    text = decode_utf8(raw, path, "the tariff file", ScenarioError)
    if "\0" in text:
        raise ScenarioError(f"{path}: not a CSV text file (it holds NUL bytes)")
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(rows, [])]
        if header != ["sector", "source", "dest", "rate"]:
            raise ScenarioError(
                f"{path}, line 1: a tariff file has the header sector,source,dest,rate; found {show(','.join(header))}"
            )
        out, seen = [], {}  # type: ignore[var-annotated]
        for row in rows:
            here = f"{path}, line {rows.line_num}"
            if not row:
                continue
            if len(row) != 4:
                raise ScenarioError(f"{here}: {len(row)} field(s), expected 4 (sector, source, dest, rate)")
            route = tuple(c.strip() for c in row[:3])
            for code, col, valid, kind in zip(route, ("sector", "source", "dest"), _route_labels(bench), _KINDS):
                _known(code, valid, kind, f"{here}, column {col}")
            if route[1] == route[2]:
                raise ScenarioError(f"{here}: a tariff applies to imports only (source == dest = {route[2]!r})")
            if route in seen:
                raise ScenarioError(f"{here}: the route {','.join(route)} is given twice (first on line {seen[route]})")
            seen[route] = rows.line_num
            out.append((*bench.coords.index(("sector", "source", "dest"), route), _rate(row[3], here)))
    except csv.Error as exc:
        raise ScenarioError(f"{path}, line {rows.line_num}: not valid CSV ({exc})") from None
    if not out:
        raise ScenarioError(f"{path}: no routes after the header (a tariff file lists at least one)")
    return out  # type: ignore[return-value]


_KINDS = ("sector", "region", "region")


def _route_labels(bench: Benchmark):
    return bench.sectors, bench.regions, bench.regions


def _rate(text: str, here: str) -> float:
    """A tariff rate from a CSV field: a finite number in (-1, MAX_RATE]."""
    try:
        rate = float(text)
    except ValueError:
        raise ScenarioError(f"{here}, column rate: not a number: {show(text)}") from None
    if not np.isfinite(rate) or rate <= -1 or rate > MAX_RATE:
        raise ScenarioError(f"{here}, column rate: a rate must be finite, > -1 and <= {MAX_RATE:g}, got {show(text)}")
    return rate


def apply_shock(shock: Shock, bench: Benchmark, ins: Instruments, base: Path, key: str) -> Instruments:
    ins = ins.copy()
    body = getattr(shock, shock.kind)
    if shock.kind == "tariff":
        if body.file is not None:
            for i, s, r, rate in read_tariff_csv(data_file(base, body.file, key + ".file"), bench, key + ".file"):
                ins.tariff[i, s, r] = rate
        else:
            m = route_mask(bench, body.sector, body.source, body.dest)
            if body.set_ is not None:
                ins.tariff[m] = body.set_
            else:
                ins.tariff[m] *= body.scale
    elif shock.kind in ("trade_cost", "export_tax"):
        m = route_mask(bench, body.sector, body.source, body.dest)
        arr = ins.tau if shock.kind == "trade_cost" else ins.export_tax
        if body.set_ is not None:
            arr[m] = body.set_
        else:
            arr[m] *= body.scale
    elif shock.kind == "output_tax":
        m = _mask(body.sector, bench.sectors)[:, None] & _mask(body.region, bench.regions)[None, :]
        if body.set_ is not None:
            ins.output_tax[m] = body.set_
        else:
            ins.output_tax[m] *= body.scale
    else:
        m = (
            _mask(body.factor, bench.factors)[:, None, None]
            & _mask(body.sector, bench.sectors)[None, :, None]
            & _mask(body.region, bench.regions)[None, None, :]
        )
        ins.endowment[m] *= body.scale
    return ins


#: instrument -> (lowest, highest) value a scenario may reach (the lowest excluded)
LIMITS = {
    "tariff": (-1.0, MAX_RATE),
    "output_tax": (-1.0, MAX_RATE),
    "export_tax": (-1.0, MAX_RATE),
    "tau": (0.0, MAX_SCALE),
    "endowment": (0.0, MAX_SCALE),
}


def check_instruments(before: Instruments, after: Instruments, bench: Benchmark, key: str) -> None:
    """Refuse instruments a shock pushed out of range (a scaled tariff above MAX_RATE, say), naming
    the first cell; warn of a rate it set above PLAUSIBLE_RATE.  Only the cells it changed count."""
    for name, (lo, hi) in LIMITS.items():
        arr = getattr(after, name)
        changed = arr != getattr(before, name)
        bad = changed & (~np.isfinite(arr) | (arr <= lo) | (arr > hi))
        if bad.any():
            at = np.argwhere(bad)[0]
            raise ScenarioError(
                f"{key}: gives {name} {arr[tuple(at)]:.6g} at {_cell(bench, name, at)}; it must lie in ({lo:g}, {hi:g}]"
            )
        high = changed & (arr > PLAUSIBLE_RATE)
        if name in ("tariff", "output_tax", "export_tax") and high.any():
            at = np.argwhere(high)[0]
            warnings.warn(
                f"{key}: a {name.replace('_', ' ')} of {arr[tuple(at)]:.6g} ({arr[tuple(at)]:.0%}) at "
                f"{_cell(bench, name, at)} is above the plausible bound of {PLAUSIBLE_RATE:.0%}",
                InputWarning,
                stacklevel=2,
            )


def _cell(bench: Benchmark, name: str, at) -> str:
    dims = {"output_tax": ("sector", "region"), "endowment": ("factor", "sector", "region")}.get(
        name, ("sector", "source", "dest")
    )
    labels = {
        "sector": bench.sectors,
        "source": bench.regions,
        "dest": bench.regions,
        "region": bench.regions,
        "factor": bench.factors,
    }
    return "[" + ", ".join(f"{d}={labels[d][k]}" for d, k in zip(dims, at)) + "]"


def format_validation_error(exc: ValidationError, where: str, data=None) -> str:
    return format_errors(
        exc,
        where,
        "scenario",
        top_keys=list(Scenario.model_fields),
        choices={"stage": STAGES, "stages": STAGES},
        data=data,
    )
