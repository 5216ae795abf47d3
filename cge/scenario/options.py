"""Model options (docs/extensions.md): the scenario's ``model:`` section and its resolved form.

A scenario file may carry::

    model:
      esubt: 0.5                  # CES value added vs intermediates (0 = the core's Leontief)
      esubc: {MAN: 0.3}           # CES among intermediates (0 = Leontief)
      esubfd: 0.8                 # CES final demand, by region (1 = the core's Cobb-Douglas)
      etrans: {AGR: 2.0}          # CET domestic vs exports (inf = the core's perfect transformation)
      esubd: ..., esubm: ..., esubva: ...    # the core elasticities, overridden
      taxes: true                 # build output- and export-tax instruments
      closure:
        trade_balance: numeraire  # or world_income
        numeraire: world_factor_price   # or {utility_price: USA} or {factor_price: USA[, factor: labour]}
      scale_economies: {MAN: krugman}   # docs/dynamics.md: none (default) | krugman | melitz, by sector
      firm_elasticity: {MAN: 5.0}       # substitution among a source's varieties (default: esubm)
      pareto_shape: {MAN: 4.6}          # melitz only; must exceed firm_elasticity - 1
      capital:                          # docs/dynamics.md section 4
        closure: steady_state           # fixed (default) | steady_state
        depreciation: 0.05
        rate_of_return: 0.05
        international: none             # none | union | world: who owns the new capital
        factor: capital

:class:`ModelSection` validates the file's shape (pydantic); :func:`resolve` checks it against a
benchmark (codes, ranges) and gives :class:`ModelOptions`, a hashable value: two scenarios with
equal options can share one built model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Optional, Union

import numpy as np
from pydantic import Field, StrictBool, ValidationError

from cge.errors import ScenarioError, nearest, show
from cge.model.benchmark import Benchmark
from cge.schema import Finite, Real, Strict, format_errors

#: elasticities a scenario may override: name -> (dimension, neutral value)
ELASTICITIES = {
    "esubd": "sector",
    "esubm": "sector",
    "esubva": "sector",
    "esubt": "sector",
    "esubc": "sector",
    "esubfd": "region",
    "etrans": "sector",
}
#: the largest finite elasticity accepted (as for the dataset's, cge.dataset.schema.ELASTICITY_RANGE)
MAX_ELASTICITY = 100.0

Values = Union[Real, dict[str, Real]]


_Strict = Strict


class UtilityPriceNumeraire(_Strict):
    utility_price: str = Field(description="region whose utility price PU is the numeraire")


class FactorPriceNumeraire(_Strict):
    factor_price: str = Field(description="region whose factor-price index is the numeraire")
    factor: Optional[str] = Field(None, description="only this factor (default: all factors of the region)")


class ClosureSection(_Strict):
    trade_balance: Literal["numeraire", "world_income"] = "numeraire"
    numeraire: Union[Literal["world_factor_price"], UtilityPriceNumeraire, FactorPriceNumeraire] = "world_factor_price"


Kind = Literal["none", "krugman", "melitz"]
#: the scale-economy kinds (docs/dynamics.md sections 2 and 3)
KINDS = ("none", "krugman", "melitz")


class CapitalSection(_Strict):
    """``model.capital`` (docs/dynamics.md section 4)."""

    closure: Literal["fixed", "steady_state"] = "fixed"
    depreciation: Finite = 0.05
    rate_of_return: Finite = 0.05
    international: Literal["none", "union", "world"] = "none"
    factor: str = "capital"


class ModelSection(_Strict):
    """The scenario file's ``model:`` section."""

    esubd: Optional[Values] = None
    esubm: Optional[Values] = None
    esubva: Optional[Values] = None
    esubt: Optional[Values] = None
    esubc: Optional[Values] = None
    esubfd: Optional[Values] = None
    etrans: Optional[Values] = None
    taxes: Optional[StrictBool] = None
    closure: ClosureSection = Field(default_factory=ClosureSection)
    scale_economies: Optional[Union[Kind, dict[str, Kind]]] = None
    firm_elasticity: Optional[Values] = None
    pareto_shape: Optional[Values] = None
    capital: CapitalSection = Field(default_factory=CapitalSection)


@dataclass(frozen=True)
class CapitalOptions:
    """The steady-state capital closure, resolved (docs/dynamics.md section 4).

    ``owners``: the union members (international ownership ``union``), else empty.
    """

    depreciation: float
    rate_of_return: float
    international: str
    factor: str
    owners: tuple = ()

    def describe(self) -> str:
        return (
            f"capital=steady_state(depreciation={self.depreciation:g}, rate_of_return={self.rate_of_return:g}, "
            f"international={self.international}, factor={self.factor})"
        )


@dataclass(frozen=True)
class ModelOptions:
    """Resolved options: elasticity overrides, the tax instruments, the closure.

    ``overrides``: ((name, code, value), ...) replacing the dataset's elasticities;
    ``numeraire``: ("world_factor_price",) | ("utility_price", region) | ("factor_price", region, factor|None).
    """

    overrides: tuple = ()
    taxes: bool = False
    trade_balance: str = "numeraire"
    numeraire: tuple = ("world_factor_price",)
    #: docs/dynamics.md: ((sector, kind, firm_elasticity, pareto_shape or 0.0), ...) for the
    #: sectors with scale economies; the steady-state capital closure, or None (fixed capital)
    scale: tuple = ()
    capital: Optional[CapitalOptions] = None

    @property
    def is_static(self) -> bool:
        """No dynamic option is on: constant returns and a fixed capital stock (the core)."""
        return not self.scale and self.capital is None

    @property
    def is_core_closure(self) -> bool:
        return self.trade_balance == "numeraire" and self.numeraire == ("world_factor_price",)

    def apply(self, bench: Benchmark) -> Benchmark:
        """The benchmark with the elasticity overrides in place (a new object; the data are shared)."""
        if not self.overrides:
            return bench
        new = {}
        for name, code, value in self.overrides:
            dim = ELASTICITIES[name]
            labels = bench.sectors if dim == "sector" else bench.regions
            if name not in new:
                current = getattr(bench, name)
                if current is None:  # an extension absent from the data: neutral
                    current = getattr(bench, name + "_")
                new[name] = np.array(current, dtype=float)
            new[name][labels.index(code)] = value
        return replace(bench, **new)  # type: ignore[arg-type]

    def describe(self) -> str:
        """One line for the results' attrs (``model_options``)."""
        parts = [f"{n}[{c}]={v:g}" for n, c, v in self.overrides]
        if self.taxes:
            parts.append("taxes")
        parts.append(f"trade_balance={self.trade_balance}")
        parts.append("numeraire=" + ":".join(x for x in self.numeraire if x))
        for code, kind, sigma, shape in self.scale:
            parts.append(f"{kind}[{code}](sigma={sigma:g}" + (f", a={shape:g})" if kind == "melitz" else ")"))
        if self.capital is not None:
            parts.append(self.capital.describe())
        return "; ".join(parts)

    # ------------------------------------------------------------------ closure texts
    def closure_name(self) -> str:
        if self.is_core_closure:
            return "core"
        return f"{self.trade_balance}/{':'.join(x for x in self.numeraire if x)}"

    def trade_balance_text(self) -> str:
        if self.trade_balance == "numeraire":
            return "fixed in numeraire units (B[r] * PNUM)"
        return "fixed share of world income (B[r] / sum INC0 * sum INC)"

    def numeraire_text(self) -> str:
        kind = self.numeraire[0]
        if kind == "world_factor_price":
            return "world factor-price index: benchmark-weighted average factor price = PNUM (GTAP pfactwld)"
        if kind == "utility_price":
            return f"utility price of {self.numeraire[1]}: PU[{self.numeraire[1]}] = PNUM"
        region, factor = self.numeraire[1], self.numeraire[2]
        which = f"price of {factor}" if factor else "benchmark-weighted factor-price index"
        return f"{which} in {region} = PNUM"


def _codes_values(name: str, given, labels, where: str) -> list[tuple[str, float]]:
    key = f"{where}: model.{name}"
    if isinstance(given, dict):
        items = list(given.items())
        for code, _ in items:
            if code not in labels:
                kind = ELASTICITIES[name]
                raise ScenarioError(f"{key}: unknown {kind} code {show(code)}{nearest(code, labels)}")
    else:
        items = [(code, given) for code in labels]
    out = []
    for code, v in items:
        v = float(v)
        if name == "etrans" and v == np.inf:
            out.append((code, v))
            continue
        if not np.isfinite(v) or v < 0 or v > MAX_ELASTICITY:
            extra = " or inf (perfect transformation)" if name == "etrans" else ""
            raise ScenarioError(f"{key}[{code}]: an elasticity must lie in [0, {MAX_ELASTICITY:g}]{extra}, got {v:g}")
        out.append((code, v))
    return out


def resolve(
    section: ModelSection | dict | None,
    bench: Benchmark,
    where: str = "<scenario>",
    needs_taxes: bool = False,
    members: tuple = (),
) -> ModelOptions:
    """Check a ``model:`` section against the benchmark and resolve it.

    ``needs_taxes``: the scenario's shocks use a tax instrument (then the model is built with taxes);
    ``members``: the scenario's union (for ``capital.international: union``).
    """
    if section is None:
        section = ModelSection()
    elif isinstance(section, dict):
        try:
            section = ModelSection.model_validate(section)
        except ValidationError as exc:
            raise ScenarioError(format_errors(exc, where, "model section", prefix=("model",), data=section)) from None
    overrides = []
    for name, dim in ELASTICITIES.items():
        given = getattr(section, name)
        if given is None:
            continue
        labels = bench.sectors if dim == "sector" else bench.regions
        overrides += [(name, code, v) for code, v in _codes_values(name, given, labels, where)]
    numeraire = _numeraire(section.closure.numeraire, bench, f"{where}: model.closure.numeraire")
    taxes = _taxes(section.taxes, bench, needs_taxes, where)
    options = ModelOptions(
        overrides=tuple(overrides), taxes=taxes, trade_balance=section.closure.trade_balance, numeraire=numeraire
    )
    return replace(
        options,
        scale=_scale(section, options.apply(bench), where),
        capital=_capital(section.capital, bench, where, tuple(members)),
    )


def _numeraire(num, bench: Benchmark, key: str) -> tuple:
    """The closure's numeraire checked against the data, as ``ModelOptions.numeraire``."""
    if num == "world_factor_price":
        return ("world_factor_price",)
    if isinstance(num, UtilityPriceNumeraire):
        if num.utility_price not in bench.regions:
            raise ScenarioError(
                f"{key}.utility_price: unknown region code {num.utility_price!r}"
                f"{nearest(num.utility_price, bench.regions)}"
            )
        return ("utility_price", num.utility_price)
    r = num.factor_price
    if r not in bench.regions:
        raise ScenarioError(f"{key}.factor_price: unknown region code {r!r}{nearest(r, bench.regions)}")
    c = bench.regions.index(r)
    if num.factor is not None:
        if num.factor not in bench.factors:
            raise ScenarioError(f"{key}.factor: unknown factor code {num.factor!r}{nearest(num.factor, bench.factors)}")
        if bench.F0[bench.factors.index(num.factor), :, c].sum() <= 0:
            raise ScenarioError(
                f"{key}.factor: region {r} has no endowment of {num.factor}, so its price cannot be the numeraire"
            )
    elif bench.F0[:, :, c].sum() <= 0:
        raise ScenarioError(f"{key}.factor_price: region {r} has no factor endowment")
    return ("factor_price", r, num.factor)


def _taxes(given: bool | None, bench: Benchmark, needs_taxes: bool, where: str) -> bool:
    """Whether the model has the tax instruments: asked for, or needed by the data or the shocks."""
    taxes = bool(given) or bench.has_taxes or needs_taxes
    if given is False and (bench.has_taxes or needs_taxes):
        why = "the dataset has output or export taxes" if bench.has_taxes else "the shocks change a tax"
        raise ScenarioError(f"{where}: model.taxes: false, but {why}: the tax instruments are needed")
    return taxes


def _by_sector(given, sectors, key: str) -> dict:
    """{sector: value} from a scalar (every sector) or a mapping (unknown codes refused)."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        return dict.fromkeys(sectors, given)
    for code in given:
        if code not in sectors:
            raise ScenarioError(f"{key}: unknown sector code {show(code)}{nearest(code, sectors)}")
    return dict(given)


def _scale(section: ModelSection, bench: Benchmark, where: str) -> tuple:
    """The sectors with scale economies: ((sector, kind, sigma, shape), ...) (docs/dynamics.md)."""
    key = f"{where}: model."
    kinds = {i: k for i, k in _by_sector(section.scale_economies, bench.sectors, key + "scale_economies").items()}
    on = [i for i in bench.sectors if kinds.get(i, "none") != "none"]
    sigmas = _by_sector(section.firm_elasticity, bench.sectors, key + "firm_elasticity")
    shapes = _by_sector(section.pareto_shape, bench.sectors, key + "pareto_shape")
    for name, given, wanted in (("firm_elasticity", sigmas, on), ("pareto_shape", shapes, None)):
        users = wanted if wanted is not None else [i for i in on if kinds[i] == "melitz"]
        what = "scale economies" if name == "firm_elasticity" else "melitz scale economies"
        if getattr(section, name) is not None and not isinstance(getattr(section, name), dict) and not users:
            raise ScenarioError(f"{key}{name}: no sector has {what}, so the value given applies to none")
        for code in given if isinstance(getattr(section, name), dict) else ():
            if code not in users:
                raise ScenarioError(f"{key}{name}[{code}]: sector {code} has no {what}")
    out = []
    for i in on:
        a = bench.sectors.index(i)
        sigma = float(sigmas.get(i, bench.esubm[a]))
        if not (np.isfinite(sigma) and 1.0 < sigma <= MAX_ELASTICITY):
            raise ScenarioError(
                f"{key}firm_elasticity[{i}]: must exceed 1 (and be at most {MAX_ELASTICITY:g}), got {sigma:g}"
                + ("" if i in sigmas else " (the sector's esubm, the default)")
            )
        shape = 0.0
        if kinds[i] == "melitz":
            if i not in shapes:
                raise ScenarioError(f"{key}pareto_shape[{i}]: melitz needs the Pareto shape of sector {i}")
            shape = float(shapes[i])
            if not (np.isfinite(shape) and shape > sigma - 1.0):
                raise ScenarioError(
                    f"{key}pareto_shape[{i}]: must exceed firm_elasticity - 1 = {sigma - 1.0:g}, got {shape:g}"
                )
        if not bench.Y0[a].sum() > 0:
            raise ScenarioError(f"{key}scale_economies[{i}]: sector {i} has no output in any region")
        if np.isfinite(bench.etrans_[a]):
            raise ScenarioError(
                f"{key}scale_economies[{i}]: sector {i} has a CET between domestic sales and exports "
                f"(etrans = {bench.etrans_[a]:g}); scale economies need etrans = inf"
            )
        out.append((i, kinds[i], sigma, shape))
    return tuple(out)


def capital_factor(bench: Benchmark, name: str) -> str | None:
    """The dataset's factor called ``name`` (any case), or None."""
    low = {f.lower(): f for f in bench.factors}
    return low.get(name.lower())


def _capital(section: CapitalSection, bench: Benchmark, where: str, members: tuple) -> CapitalOptions | None:
    """The steady-state capital closure, checked (docs/dynamics.md section 4); None when fixed.  The
    values given are checked with the fixed closure too (a wrong value is never passed over)."""
    key = f"{where}: model.capital"
    delta, rho = float(section.depreciation), float(section.rate_of_return)
    if not 0.0 < delta < 1.0:
        raise ScenarioError(f"{key}.depreciation: must lie strictly between 0 and 1, got {delta:g}")
    if not (np.isfinite(rho) and rho > 0.0):
        raise ScenarioError(f"{key}.rate_of_return: must be positive, got {rho:g}")
    factor = capital_factor(bench, section.factor)
    if factor is None and (section.closure != "fixed" or "factor" in section.model_fields_set):
        raise ScenarioError(
            f"{key}.factor: {show(section.factor)} is not a factor of the dataset ({', '.join(bench.factors)})"
        )
    if section.closure == "fixed" or factor is None:
        return None
    FK = bench.F0[bench.factors.index(factor)]
    if not FK.sum() > 0:
        raise ScenarioError(f"{key}.factor: the dataset has no income of {factor}")
    K0v = FK.sum(axis=0) / (rho + delta)
    cons0 = bench.INC0 - delta * K0v
    if np.any(cons0 <= 0):
        c = int(np.argmin(cons0))
        raise ScenarioError(
            f"{key}.depreciation: in region {bench.regions[c]} benchmark investment (depreciation x capital "
            f"stock = {delta * K0v[c]:.6g}) is not below final demand ({bench.INC0[c]:.6g})"
        )
    if section.international == "union" and not members:
        raise ScenarioError(f"{key}.international: union needs a scenario with a union (union.members)")
    owners = tuple(members) if section.international == "union" else ()
    return CapitalOptions(delta, rho, section.international, factor, owners)
