"""Balassa's integration stages (MODEL.md section 7): one pydantic model per stage.

A scenario names its stage (``stage: fta``) and gives the options the stage reads in
``stage_options``; :func:`parse` turns the two into the stage's model (:data:`StageOptions`, a
union discriminated on the stage name) whose fields are those options, each documented. A model
checks itself against the dataset (:meth:`Stage.check`) and sets its instruments on top of the
benchmark's (:meth:`Stage.apply`). Each stage includes those before it: its class derives from
the stage it includes and applies that stage first. The README's table of stages and options is
:func:`options_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Optional, Union

import numpy as np
from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from cge.errors import InputError, ScenarioError, nearest
from cge.model.benchmark import Benchmark
from cge.schema import Strict, confined, format_errors

if TYPE_CHECKING:
    from cge.scenario.scenario import Instruments

# ------------------------------------------------------------------ option types
Rate = Annotated[float, Field(strict=True, ge=0.0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(strict=True, ge=0.0, le=1.0, allow_inf_nan=False)]


class BorderEstimate(Strict):
    """A border cost read from an estimates file written by ``cge estimate-border`` (docs/gravity.md)."""

    file: str = Field(description="the estimates CSV, relative to the scenario file")
    use: Literal["pooled", "sector"] = Field("pooled", description="the pooled estimate, or each sector's")
    border: Literal["province", "china_world"] = Field("province", description="which border's estimate")
    shift: float = Field(
        0.0, strict=False, allow_inf_nan=False, description="standard errors added to the coefficient (0: the estimate)"
    )

    @field_validator("file")
    @classmethod
    def _beside_scenario(cls, v: str, info: ValidationInfo) -> str:
        from cge.gravity.border import ESTIMATED

        if v == str(ESTIMATED):  # `estimated`: the shipped estimates, a built-in
            return v
        base = (info.context or {}).get("base_dir")
        try:
            return str(confined(Path(base or "."), v, "", "copy the file there"))
        except InputError as exc:
            raise ValueError(str(exc)) from None

    def shifted(self, z: float) -> BorderEstimate:
        """The same estimate with the coefficient moved by ``z`` more standard errors."""
        return self.model_copy(update={"shift": self.shift + float(z)})

    def rates(self, sectors: Sequence[str], key: str):
        """Per sector: tariff-equivalent, coefficient, standard error, elasticity (cge/gravity/border.py)."""
        from cge.gravity.border import border_rates

        return border_rates(self.file, self.use, self.border, self.shift, sectors, key)


def _estimated(v: Any) -> Any:
    """``estimated``: the pooled provincial estimate on the china-provinces benchmark."""
    if v == "estimated":
        from cge.gravity.border import ESTIMATED

        return {"file": str(ESTIMATED)}
    return v


#: the tariff-equivalent of the internal border, ad valorem: a number, ``estimated`` (the pooled
#: provincial estimate of calibration/china/border-costs.csv) or ``{file, use, border, shift}``
BorderCost = Annotated[
    Union[Annotated[Rate, Tag("Given")], Annotated[BorderEstimate, Tag("File")]],
    Discriminator(
        lambda v: "File" if isinstance(v, (dict, BorderEstimate)) else None if isinstance(v, str) else "Given",
        custom_error_type="invalid_option",
        custom_error_message="give a number, 'estimated' or {file: ..., use: pooled|sector}",
    ),
    BeforeValidator(_estimated),
]


def _named_or(name: str, given: type) -> Callable[[Any], Optional[str]]:
    """The branch of a "name or given" option: ``Named``, ``Given``, or None (a clear error)."""

    def branch(v: Any) -> Optional[str]:
        if isinstance(v, str) and v in name.split("|"):
            return "Named"
        return "Given" if isinstance(v, given) else None

    return branch


def _choice(names: str, given: type, explain: str) -> Discriminator:
    return Discriminator(_named_or(names, given), custom_error_type="invalid_option", custom_error_message=explain)


SectorSelection = Annotated[
    Union[Annotated[Literal["all"], Tag("Named")], Annotated[list[str], Field(min_length=1), Tag("Given")]],
    _choice("all", list, "give 'all' or a list of sector codes"),
]
CommonExternalTariff = Annotated[
    Union[Annotated[Literal["average"], Tag("Named")], Annotated[dict[str, Rate], Tag("Given")]],
    _choice("average", dict, "give 'average' or a mapping sector: rate"),
]
RevenueSharing = Annotated[
    Union[Annotated[Literal["own", "gdp"], Tag("Named")], Annotated[dict[str, Fraction], Tag("Given")]],
    _choice("own|gdp", dict, "give 'own', 'gdp' or a mapping member: share"),
]
FactorList = Annotated[
    list[str], BeforeValidator(lambda v: [v] if isinstance(v, str) else v), Field(min_length=1, strict=True)
]


# ------------------------------------------------------------------ the stages
class Stage(Strict):
    """A stage's options (its fields), its checks against the data and the instruments it sets."""

    stage: str
    #: the stage's plain name, for readers (tables, charts, the report)
    title: ClassVar[str] = ""
    #: the stage it includes (whose options it reads too)
    includes: ClassVar[Optional[str]] = None

    @classmethod
    def options(cls) -> list[str]:
        """The options this stage reads, its own and those of the stages it includes."""
        return [k for k in cls.model_fields if k != "stage"]

    def check(self, bench: Benchmark, members: list[str], where: str) -> None:
        """Refuse codes not in the dataset (``where``: the file, for messages)."""

    def apply(self, bench: Benchmark, members: list[str], ins: Instruments) -> Instruments:
        """The stage's instruments on top of ``ins``."""
        return ins


class NoStage(Stage):
    """no integration: the benchmark's instruments (shocks only)"""

    title: ClassVar[str] = "No integration stage"
    stage: Literal["none"] = "none"


class PTA(Stage):
    """preferential trade arrangement: `t[i,s,r] *= 1 - margin` for s != r in M, i in `sectors`"""

    title: ClassVar[str] = "Preferential trade arrangement"
    stage: Literal["pta"] = "pta"
    margin: Fraction = Field(description="preference margin: the share of internal tariffs removed, 0..1")
    sectors: SectorSelection = Field("all", description="the sectors the preference covers: `all` or a list of codes")

    def check(self, bench: Benchmark, members: list[str], where: str) -> None:
        _codes(self.sectors, bench.sectors, f"{where}.sectors", "sector code")

    def apply(self, bench: Benchmark, members: list[str], ins: Instruments) -> Instruments:
        ins = ins.copy()
        sec = _selected(bench.sectors, self.sectors)
        ins.tariff[_internal(bench, members) & sec[:, None, None]] *= 1.0 - self.margin
        return ins


class FTA(Stage):
    """free trade area: `t[i,s,r] = 0` for s != r in M"""

    title: ClassVar[str] = "Free trade area"
    stage: Literal["fta"] = "fta"

    def apply(self, bench: Benchmark, members: list[str], ins: Instruments) -> Instruments:
        ins = ins.copy()
        ins.tariff[np.broadcast_to(_internal(bench, members), ins.tariff.shape)] = 0.0
        return ins


class CustomsUnion(FTA):
    """as `fta`, and `t[i,s,r] = CET[i]` for s in N, r in M; tariff revenue kept, or pooled and shared"""

    title: ClassVar[str] = "Customs union"
    stage: Literal["customs_union"] = "customs_union"  # type: ignore[assignment]
    includes: ClassVar[Optional[str]] = "fta"
    common_external_tariff: CommonExternalTariff = Field(
        "average",
        description="`average` (the members' benchmark tariffs on non-member imports, weighted by "
        "those imports) or `{sector: rate}` (sectors left out take the average)",
    )
    revenue_sharing: RevenueSharing = Field(
        "own",
        description="tariff revenue: `own` (each member keeps its own), `gdp` (pooled, shared by "
        "benchmark GDP) or `{member: share}` summing to 1",
    )

    def check(self, bench: Benchmark, members: list[str], where: str) -> None:
        super().check(bench, members, where)
        if isinstance(self.common_external_tariff, dict):
            _codes(list(self.common_external_tariff), bench.sectors, f"{where}.common_external_tariff", "sector code")
        if isinstance(self.revenue_sharing, dict):
            _check_shares(self.revenue_sharing, members, f"{where}.revenue_sharing")

    def apply(self, bench: Benchmark, members: list[str], ins: Instruments) -> Instruments:
        ins = super().apply(bench, members, ins)
        cet = common_external_tariff(bench, members, self.common_external_tariff)
        ext = np.broadcast_to(_external(bench, members), ins.tariff.shape)
        ins.tariff = np.where(ext, cet[:, None, None], ins.tariff)
        ins.notes.append("common external tariff: " + ", ".join(f"{i} {v:.4f}" for i, v in zip(bench.sectors, cet)))
        if self.revenue_sharing != "own":
            mem = _members(bench, members)
            if self.revenue_sharing == "gdp":
                g = np.where(mem, gdp0(bench), 0.0)
                share = g / g.sum()
            else:
                share = np.array([float(self.revenue_sharing.get(r, 0.0)) for r in bench.regions])
            ins.revenue_pool = mem.astype(float)
            ins.revenue_share = np.where(mem, share, 0.0)
        return ins


class CommonMarket(CustomsUnion):
    """as `customs_union`, and the listed mobile factors move freely among M (one union-wide price)"""

    title: ClassVar[str] = "Common market"
    stage: Literal["common_market"] = "common_market"  # type: ignore[assignment]
    includes: ClassVar[Optional[str]] = "customs_union"
    mobile_factors: Optional[FactorList] = Field(
        None,
        description="the factors that move among the members (a list of factors the dataset marks mobile)",
        json_schema_extra={"default_text": "every mobile factor"},
    )

    def check(self, bench: Benchmark, members: list[str], where: str) -> None:
        super().check(bench, members, where)
        for f in self.mobile_factors or ():
            if f not in bench.factors:
                raise ScenarioError(f"{where}.mobile_factors: unknown factor {f!r}{nearest(f, bench.factors)}")
            if bench.mobility[bench.factors.index(f)] != "mobile":
                raise ScenarioError(
                    f"{where}.mobile_factors: factor {f!r} is sector-specific in this dataset "
                    f"and cannot move between regions"
                )

    def apply(self, bench: Benchmark, members: list[str], ins: Instruments) -> Instruments:
        ins = super().apply(bench, members, ins)
        mobile = self.mobile_factors
        if mobile is None:
            mobile = [f for f, m in zip(bench.factors, bench.mobility) if m == "mobile"]
        for f in mobile:
            ins.factor_pool[bench.factors.index(f)] = _members(bench, members).astype(float)
        return ins


class EconomicUnion(CommonMarket):
    """as `common_market`, and `tau[i,s,r] *= 1 - ntb_cut` for s != r in M"""

    title: ClassVar[str] = "Economic union"
    stage: Literal["economic_union"] = "economic_union"  # type: ignore[assignment]
    includes: ClassVar[Optional[str]] = "common_market"
    ntb_cut: float = Field(
        strict=True,
        ge=0.0,
        lt=1.0,
        allow_inf_nan=False,
        description="the cut in internal trade costs, 0..1 (1 would make trade costless)",
    )

    def apply(self, bench: Benchmark, members: list[str], ins: Instruments) -> Instruments:
        ins = super().apply(bench, members, ins)
        ins.tau[np.broadcast_to(_internal(bench, members), ins.tau.shape)] *= 1.0 - self.ntb_cut
        return ins


class FullIntegration(CommonMarket):
    """as `common_market`, and `tau[i,s,r] = 1 / (1 + border_cost[i])` for s != r in M (no ntb cut)"""

    title: ClassVar[str] = "Full integration"
    stage: Literal["full_integration"] = "full_integration"  # type: ignore[assignment]
    includes: ClassVar[Optional[str]] = "common_market"
    border_cost: BorderCost = Field(
        description="the tariff-equivalent of the internal border that full integration removes: a number "
        "(>= 0), `estimated` (the pooled provincial estimate of calibration/china/border-costs.csv) or "
        "`{file, use, border, shift}` (an estimates file of `cge estimate-border`: `use` pooled or sector, "
        "`border` province or china_world, `shift` standard errors added to the coefficient; "
        "docs/gravity.md)"
    )

    def border_rates(self, bench: Benchmark, key: str = "border_cost") -> np.ndarray:
        """The border's tariff-equivalent by sector."""
        if isinstance(self.border_cost, BorderEstimate):
            return self.border_cost.rates(bench.sectors, key)[0]
        return np.full(len(bench.sectors), float(self.border_cost))

    def check(self, bench: Benchmark, members: list[str], where: str) -> None:
        super().check(bench, members, where)
        self.border_rates(bench, f"{where}.border_cost")

    def apply(self, bench: Benchmark, members: list[str], ins: Instruments) -> Instruments:
        ins = super().apply(bench, members, ins)
        tau = 1.0 / (1.0 + self.border_rates(bench))
        internal = np.broadcast_to(_internal(bench, members), ins.tau.shape)
        ins.tau = np.where(internal, tau[:, None, None], ins.tau)
        return ins


#: the stages in Balassa's order
STAGES: tuple[type[Stage], ...] = (NoStage, PTA, FTA, CustomsUnion, CommonMarket, EconomicUnion, FullIntegration)
#: the stage names, in order
ORDER = tuple(cls.model_fields["stage"].default for cls in STAGES)
BY_NAME: dict[str, type[Stage]] = dict(zip(ORDER, STAGES))
#: the options each stage reads
OPTIONS = {name: set(cls.options()) for name, cls in BY_NAME.items()}
#: the stages' plain names, for readers (tables, charts, the report)
PLAIN = {name: cls.title for name, cls in BY_NAME.items()}


def plain_name(stage: str | None) -> str:
    """A stage's plain name ("Customs union" for ``customs_union``); other text as it is."""
    return PLAIN.get(str(stage), str(stage))


def _tag(v: Any) -> str:
    return BY_NAME[v["stage"] if isinstance(v, dict) else v.stage].__name__


#: every stage's options, discriminated by the stage name (tagged with the class name, which error
#: messages leave out)
StageOptions = Annotated[
    Union[
        Annotated[NoStage, Tag("NoStage")],
        Annotated[PTA, Tag("PTA")],
        Annotated[FTA, Tag("FTA")],
        Annotated[CustomsUnion, Tag("CustomsUnion")],
        Annotated[CommonMarket, Tag("CommonMarket")],
        Annotated[EconomicUnion, Tag("EconomicUnion")],
        Annotated[FullIntegration, Tag("FullIntegration")],
    ],
    Discriminator(_tag),
]
_ADAPTER: TypeAdapter[Stage] = TypeAdapter(StageOptions)  # type: ignore[arg-type]


# ------------------------------------------------------------------ reading
def parse(stage: str, options: dict[str, Any], where: str) -> Stage:
    """The stage's model from the scenario's ``stage`` and ``stage_options`` (``where``: the file)."""
    if "stage" in options:
        raise ScenarioError(f"{where}: stage_options.stage: unknown option (the stage is the top-level 'stage')")
    given = {"stage": stage, **options}
    base = Path(where).parent if where and not where.startswith("<") else None
    try:
        return _ADAPTER.validate_python(given, context={"base_dir": base})
    except ValidationError as exc:
        message = format_errors(exc, where, "scenario", prefix=("stage_options",), explain=_explain(stage), data=given)
        raise ScenarioError(message) from None


def _explain(stage: str) -> Callable[[ErrorDetails, list], Optional[str]]:
    """Messages for an option the stage does not read, and for a required one left out."""

    def explain(err: ErrorDetails, loc: list) -> Optional[str]:
        if err["type"] == "missing":
            return f"required by stage {stage!r}"
        if err["type"] != "extra_forbidden" or len(loc) != 2:
            return None
        key = str(loc[-1])
        if not any(key in opts for opts in OPTIONS.values()):
            return f"unknown option{nearest(key, sorted(set().union(*OPTIONS.values())))}"
        uses = "uses no options" if stage == "none" else "does not use this option"
        return f"stage {stage!r} {uses} (it belongs to: {', '.join(_users(key))})"

    return explain


def _users(key: str) -> list[str]:
    return [s for s in ORDER if key in OPTIONS[s]]


def ladder_options(stages: list[str], options: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """A ladder's shared ``stage_options`` split by stage: each stage gets the options it reads."""
    every = set().union(*OPTIONS.values())
    for key in options:
        if key not in every:
            raise ScenarioError(f"{where}: stage_options.{key}: unknown option{nearest(key, sorted(every))}")
        if not any(key in OPTIONS[st] for st in stages):
            raise ScenarioError(
                f"{where}: stage_options.{key}: no stage of the ladder ({', '.join(stages)}) uses this "
                f"option (it belongs to: {', '.join(_users(key))})"
            )
    return [{k: v for k, v in options.items() if k in OPTIONS[st]} for st in stages]


# ------------------------------------------------------------------ the README's table
def _default(info) -> str:
    if info.is_required():
        return "required"
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    return str(extra.get("default_text") or f"`{info.default}`")


def options_table() -> str:
    """The table of stages and their options (Markdown), from the models' docstrings and fields."""
    rows = ["| stage | sets (members M, non-members N) | option | default | meaning |", "|---|---|---|---|---|"]
    for name, cls in BY_NAME.items():
        included = set(OPTIONS[cls.includes]) if cls.includes else set()
        own = [k for k in cls.options() if k not in included]
        doc = " ".join((cls.__doc__ or "").split())
        first = f"| `{name}` | {doc} |"
        if not own:
            rows.append(first + " | | |")
        for k, key in enumerate(own):
            info = cls.model_fields[key]
            rows.append((first if k == 0 else "| | |") + f" `{key}` | {_default(info)} | {info.description} |")
    return "\n".join(rows)


# ------------------------------------------------------------------ checks
def _codes(given, valid: Sequence[str], key: str, kind: str) -> None:
    if given == "all":
        return
    for c in given:
        if c not in valid:
            raise ScenarioError(f"{key}: unknown {kind} {c!r}{nearest(c, valid)}")


def _check_shares(shares: dict[str, float], members: list[str], key: str) -> None:
    for c in shares:
        if c not in members:
            raise ScenarioError(f"{key}: {c!r} is not a member of the union{nearest(c, members)}")
    missing = [c for c in members if c not in shares]
    if missing:
        raise ScenarioError(f"{key}: no share given for member(s) {', '.join(missing)}")
    if abs(sum(shares.values()) - 1.0) > 1e-9:
        raise ScenarioError(f"{key}: shares must sum to 1, they sum to {sum(shares.values()):.6g}")


# ------------------------------------------------------------------ instruments
def _selected(labels: Sequence[str], sel) -> np.ndarray:
    return np.ones(len(labels), bool) if sel == "all" else np.isin(np.asarray(labels), sel)


def _members(bench: Benchmark, members: list[str]) -> np.ndarray:
    return np.isin(np.asarray(bench.regions), members)


def _internal(bench: Benchmark, members: list[str]) -> np.ndarray:
    """(1, source, dest): routes between two members."""
    mem = _members(bench, members)
    return mem[None, :, None] & mem[None, None, :] & bench.offdiag


def _external(bench: Benchmark, members: list[str]) -> np.ndarray:
    """(1, source, dest): routes from a non-member into a member."""
    mem = _members(bench, members)
    return (~mem)[None, :, None] & mem[None, None, :] & bench.offdiag


def common_external_tariff(bench: Benchmark, members: list[str], spec="average") -> np.ndarray:
    """CET per sector: members' benchmark tariffs on non-member imports, weighted by those imports
    (or the rates given, ``{sector: rate}``, with the weighted average for the sectors left out)."""
    average = _average(bench, members)
    if isinstance(spec, dict):
        return np.array([spec.get(i, a) for i, a in zip(bench.sectors, average)], dtype=float)
    return average


def _average(bench: Benchmark, members: list[str]) -> np.ndarray:
    ext = _external(bench, members)
    w = np.where(ext, bench.trade, 0.0)
    t = np.where(ext, bench.tariff0, 0.0)
    wsum = w.sum(axis=(1, 2))
    simple = t.sum(axis=(1, 2)) / max(ext[0].sum(), 1)
    return np.where(wsum > 0, (w * t).sum(axis=(1, 2)) / np.where(wsum > 0, wsum, 1.0), simple)


def gdp0(bench: Benchmark) -> np.ndarray:
    """Benchmark GDP at market prices: value added plus tariff revenue (plus output and export tax
    revenue where the data has those taxes)."""
    out = bench.VA0.sum(axis=0) + bench.tariff_revenue0
    if bench.has_taxes:
        out = out + bench.output_tax_revenue0 + bench.export_tax_revenue0
    return out
