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

:class:`ModelSection` validates the file's shape (pydantic); :func:`resolve` checks it against a
benchmark (codes, ranges) and gives :class:`ModelOptions`, a hashable value: two scenarios with
equal options can share one built model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Optional, Union

import numpy as np
from pydantic import Field, ValidationError

from cge.errors import ScenarioError, nearest
from cge.model.benchmark import Benchmark
from cge.schema import Strict, format_errors

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

Values = Union[float, dict[str, float]]


_Strict = Strict


class UtilityPriceNumeraire(_Strict):
    utility_price: str = Field(description="region whose utility price PU is the numeraire")


class FactorPriceNumeraire(_Strict):
    factor_price: str = Field(description="region whose factor-price index is the numeraire")
    factor: Optional[str] = Field(None, description="only this factor (default: all factors of the region)")


class ClosureSection(_Strict):
    trade_balance: Literal["numeraire", "world_income"] = "numeraire"
    numeraire: Union[Literal["world_factor_price"], UtilityPriceNumeraire, FactorPriceNumeraire] = "world_factor_price"


class ModelSection(_Strict):
    """The scenario file's ``model:`` section."""

    esubd: Optional[Values] = None
    esubm: Optional[Values] = None
    esubva: Optional[Values] = None
    esubt: Optional[Values] = None
    esubc: Optional[Values] = None
    esubfd: Optional[Values] = None
    etrans: Optional[Values] = None
    taxes: Optional[bool] = None
    closure: ClosureSection = Field(default_factory=ClosureSection)


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
                raise ScenarioError(f"{key}: unknown {kind} code {code!r}{nearest(code, labels)}")
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
    section: ModelSection | dict | None, bench: Benchmark, where: str = "<scenario>", needs_taxes: bool = False
) -> ModelOptions:
    """Check a ``model:`` section against the benchmark and resolve it.

    ``needs_taxes``: the scenario's shocks use a tax instrument (then the model is built with taxes).
    """
    if section is None:
        section = ModelSection()
    elif isinstance(section, dict):
        try:
            section = ModelSection.model_validate(section)
        except ValidationError as exc:
            raise ScenarioError(format_errors(exc, f"{where}: model", "scenario")) from None
    overrides = []
    for name, dim in ELASTICITIES.items():
        given = getattr(section, name)
        if given is None:
            continue
        labels = bench.sectors if dim == "sector" else bench.regions
        overrides += [(name, code, v) for code, v in _codes_values(name, given, labels, where)]
    num = section.closure.numeraire
    key = f"{where}: model.closure.numeraire"
    if num == "world_factor_price":
        numeraire = ("world_factor_price",)
    elif isinstance(num, UtilityPriceNumeraire):
        if num.utility_price not in bench.regions:
            raise ScenarioError(
                f"{key}.utility_price: unknown region code {num.utility_price!r}"
                f"{nearest(num.utility_price, bench.regions)}"
            )
        numeraire = ("utility_price", num.utility_price)  # type: ignore[assignment]
    else:
        r = num.factor_price
        if r not in bench.regions:
            raise ScenarioError(f"{key}.factor_price: unknown region code {r!r}{nearest(r, bench.regions)}")
        c = bench.regions.index(r)
        if num.factor is not None:
            if num.factor not in bench.factors:
                raise ScenarioError(
                    f"{key}.factor: unknown factor code {num.factor!r}{nearest(num.factor, bench.factors)}"
                )
            if bench.F0[bench.factors.index(num.factor), :, c].sum() <= 0:
                raise ScenarioError(
                    f"{key}.factor: region {r} has no endowment of {num.factor}, so its price cannot be the numeraire"
                )
        elif bench.F0[:, :, c].sum() <= 0:
            raise ScenarioError(f"{key}.factor_price: region {r} has no factor endowment")
        numeraire = ("factor_price", r, num.factor)  # type: ignore[assignment]
    taxes = bool(section.taxes) or bench.has_taxes or needs_taxes
    if section.taxes is False and (bench.has_taxes or needs_taxes):
        why = "the dataset has output or export taxes" if bench.has_taxes else "the shocks change a tax"
        raise ScenarioError(f"{where}: model.taxes: false, but {why}: the tax instruments are needed")
    return ModelOptions(
        overrides=tuple(overrides), taxes=taxes, trade_balance=section.closure.trade_balance, numeraire=numeraire
    )
