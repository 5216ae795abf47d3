"""The uncertain parameters: specs (:class:`Uncertain`), the random variables they expand to against a
dataset (:class:`Dimension`), and the sampling settings (:class:`SSAConfig`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cge.errors import InputError

ELASTICITIES = ("esubd", "esubm", "esubva")


#: ``shock`` scales the scenario's change; ``border_cost`` draws the estimated border coefficient
#: (normal, its standard error) of a scenario whose border cost comes from an estimates file
KINDS = ELASTICITIES + ("shock", "border_cost")
#: the kinds that are one random variable each, with no sectors
WHOLE = ("shock", "border_cost")


DISTRIBUTIONS = ("uniform", "triangular", "normal")


METHODS = ("quadrature", "montecarlo")


@dataclass(frozen=True)
class Uncertain:
    """One uncertain parameter (a spec that may expand to one random variable per sector).

    ``kind``: ``esubd``, ``esubm``, ``esubva`` or ``shock`` (the size of the scenario's change
    from the benchmark, 1 = as written).  ``sectors``: the sectors (``None``: all).  ``together``:
    one factor (mean 1) scales all those sectors' elasticities at once, instead of one independent
    variable per sector.  ``distribution``: ``uniform``, ``triangular`` or ``normal``.
    ``spread``: relative; uniform/triangular support ``value * (1 - spread, 1 + spread)`` (or a
    pair ``(down, up)`` for an asymmetric support around the value, the triangular's mode);
    normal: standard deviation ``spread * value``.
    """

    kind: str
    sectors: tuple[str, ...] | None = None
    together: bool = False
    distribution: str = "uniform"
    spread: float | tuple[float, float] = 0.5

    @classmethod
    def parse(cls, spec: str, distribution: str = "uniform", spread=0.5) -> Uncertain:
        """``esubd`` (each sector), ``esubd:AGR+MAN`` (those sectors), ``esubd*`` or
        ``esubd:AGR+MAN*`` (one factor scaling them together), ``shock``."""
        text = spec.strip()
        together = text.endswith("*")
        name, _, secs = text.rstrip("*").partition(":")
        name = name.strip()
        if name not in KINDS:
            from cge.errors import nearest

            raise InputError(
                f"parameters: unknown uncertain parameter {name!r}{nearest(name, KINDS)}; "
                f"one of {', '.join(KINDS)} (e.g. esubd, esubd:AGR+MAN, esubd* to scale together)"
            )
        sectors = tuple(s.strip() for s in secs.split("+") if s.strip()) or None
        if name in WHOLE and (sectors or together):
            raise InputError(f"parameters: {spec!r}: {name!r} takes no sectors")
        return cls(name, sectors, together, distribution, spread)


@dataclass(frozen=True)
class Dimension:
    """One random variable: ``label``, its value at the benchmark (``base``) and its distribution."""

    label: str
    kind: str
    sectors: tuple[int, ...]  # sector positions it moves (empty for the shock)
    together: bool  # a scaling factor (base 1) rather than the elasticity itself
    base: float
    distribution: str
    spread: tuple[float, float]  # (down, up) relative; normal: (sd, sd)

    def support(self) -> tuple[float, float]:
        return self.base * (1.0 - self.spread[0]), self.base * (1.0 + self.spread[1])

    def moments(self) -> tuple[float, float]:
        """Mean and standard deviation."""
        if self.kind == "border_cost":  # standard normal: the coefficient's shift in standard errors
            return 0.0, 1.0
        if self.distribution == "normal":
            return self.base, self.spread[0] * abs(self.base)
        a, b = self.support()
        if self.distribution == "uniform":
            return 0.5 * (a + b), (b - a) / math.sqrt(12.0)
        c = self.base  # triangular, mode at the value
        return (a + b + c) / 3.0, math.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18.0)

    @property
    def symmetric(self) -> bool:
        return self.distribution == "normal" or self.spread[0] == self.spread[1]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.kind == "border_cost":
            return rng.standard_normal(n)
        if self.distribution == "normal":
            return rng.normal(self.base, self.spread[0] * abs(self.base), n)
        a, b = self.support()
        if self.distribution == "uniform":
            return rng.uniform(a, b, n)
        return rng.triangular(a, self.base, b, n)


@dataclass
class SSAConfig:
    """What to vary and how to sample (the settings written to the output's attributes)."""

    parameters: list[Uncertain] = field(default_factory=lambda: [Uncertain(k) for k in ELASTICITIES])
    method: str = "quadrature"
    n: int | None = None  # Monte Carlo draws (quadrature: 2 x number of random variables)
    seed: int | None = 0
    steps: int = 1  # steps from the benchmark per draw (1: one solve per draw)

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"method: {self.method!r} is not one of {', '.join(METHODS)}")
        if self.method == "quadrature" and self.n is not None:
            raise InputError(
                "n: the number of draws is set by quadrature (2 x the number of uncertain "
                "parameters); give n with method montecarlo only"
            )
        if self.method == "montecarlo":
            if self.n is None:
                self.n = 100
            if int(self.n) < 2:
                raise InputError(f"n: Monte Carlo needs at least 2 draws, got {self.n}")
        if int(self.steps) < 1:
            raise InputError(f"steps: at least 1 step from the benchmark per draw, got {self.steps}")
        for p in self.parameters:
            if p.distribution not in DISTRIBUTIONS:
                raise InputError(f"distribution: {p.distribution!r} is not one of {', '.join(DISTRIBUTIONS)}")
            down, up = _pair(p.spread)
            if p.distribution == "normal":
                if down != up or not down > 0:
                    raise InputError(
                        f"spread: a normal distribution takes one relative standard deviation > 0, got {p.spread!r}"
                    )
            elif not (0 < down <= 1 and up > 0) or not np.isfinite(up):
                raise InputError(
                    f"spread: a relative spread must be in (0, 1] below the value and > 0 above, "
                    f"got {p.spread!r} for {p.kind}"
                )


def _pair(spread) -> tuple[float, float]:
    if isinstance(spread, (tuple, list)):
        if len(spread) != 2:
            raise InputError(f"spread: give one number or a pair (down, up), got {spread!r}")
        return float(spread[0]), float(spread[1])
    return float(spread), float(spread)


def parse_parameters(specs, distribution: str = "uniform", spread=0.5) -> list[Uncertain]:
    """Specs (a comma-separated string, or a list of strings / :class:`Uncertain`) to Uncertain."""
    if isinstance(specs, str):
        specs = [s for s in specs.split(",") if s.strip()]
    out = [s if isinstance(s, Uncertain) else Uncertain.parse(s, distribution, spread) for s in specs]
    if not out:
        raise InputError("parameters: give at least one uncertain parameter (esubd, esubm, esubva, shock, border_cost)")
    return out


def dimensions(params: Sequence[Uncertain], bench, structural: dict) -> list[Dimension]:
    """Expand the specs against the data: one :class:`Dimension` per random variable.

    Refuses sectors whose nest is Cobb-Douglas or Leontief in the dataset (elasticity exactly 1
    or 0): their form is structural (MODEL.md section 5), the elasticity cannot be varied.
    """
    dims, seen = [], {}
    sectors = list(bench.sectors)
    for p in params:
        spread = _pair(p.spread)
        if p.kind in WHOLE:
            if p.kind in seen:
                raise InputError(f"parameters: {p.kind!r} is listed twice")
            seen[p.kind] = p.kind
            if p.kind == "shock":
                dims.append(Dimension("shock", "shock", (), True, 1.0, p.distribution, spread))
            else:
                dims.append(Dimension("border_cost", "border_cost", (), True, 0.0, "normal", (1.0, 1.0)))
            continue
        chosen = sectors if p.sectors is None else list(p.sectors)
        for s in chosen:
            if s not in sectors:
                from cge.errors import nearest

                raise InputError(f"parameters: {p.kind}: unknown sector code {s!r}{nearest(s, sectors)}")
            if (p.kind, s) in structural:
                v = structural[(p.kind, s)]
                form = "Cobb-Douglas" if v == 1.0 else "Leontief"
                raise InputError(
                    f"parameters: {p.kind}[{s}] is exactly {v:g} in the dataset: sector {s}'s nest is built in "
                    f"{form} form (MODEL.md section 5), so its elasticity is structural and cannot be varied; "
                    f"choose the other sectors, e.g. "
                    f"{p.kind}:{'+'.join(x for x in sectors if (p.kind, x) not in structural)}"
                )
            if (p.kind, s) in seen:
                raise InputError(
                    f"parameters: {p.kind}[{s}] is varied twice ({seen[(p.kind, s)]} and {p.kind}"  # type: ignore[index]
                    f"{'*' if p.together else ''})"
                )
            seen[(p.kind, s)] = p.kind + ("*" if p.together else "")  # type: ignore[index]
        pos = tuple(sectors.index(s) for s in chosen)
        base = getattr(bench, p.kind)
        if p.together:
            label = f"{p.kind}*" if p.sectors is None else f"{p.kind}*[{'+'.join(chosen)}]"
            dims.append(Dimension(label, p.kind, pos, True, 1.0, p.distribution, spread))
        else:
            for k in pos:
                dims.append(
                    Dimension(f"{p.kind}[{sectors[k]}]", p.kind, (k,), False, float(base[k]), p.distribution, spread)
                )
    return dims
