"""Subtotals (GTAP's habit): the contribution of each named group of a scenario's changes to every
result, adding up to the total change.

The package solves a scenario along the straight path from the benchmark instruments ``x0`` to the
scenario's ``x1 = x0 + sum_g dx_g`` (``dx_g``: the change made by group ``g``: the stage, or some
shocks; each shock's change is measured after the changes before it). A result ``y`` changes by
``y(x1) - y(x0) = integral_0^1 sum_g grad y(x(l)) . dx_g dl``, and group ``g``'s contribution is its
term of the sum (Harrison, Horridge and Pearson's subtotals, 2000). On each step ``[a, b]`` of the
path it is the directional derivative at the midpoint, a central difference of two solves at
``x(m) +- h dx_g``, times ``b - a``; what the step's change ``y(b) - y(a)`` has beyond the sum of
those (third order in the step) is shared among the groups in proportion to their sizes, so the
contributions add up exactly to the total and converge to the integrals as the steps shrink.

Every numeric variable of the solution (prices, quantities, income, EV, ...) gets one: a Dataset
with the solution's variables, each with a leading ``subtotal`` dimension.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import xarray as xr

from cge.scenario.scenario import Instruments, Scenario

#: the instruments that move along the path (``revenue_share`` is the scenario's throughout)
FIELDS = ("tariff", "tau", "endowment", "revenue_pool", "factor_pool", "output_tax", "export_tax", "pnum")
#: relative size of the central-difference step along a group's change
H = 1e-4
#: the group of changes that the scenario's ``subtotals`` leave out
OTHER = "other"


def _difference(a: Instruments, b: Instruments) -> dict:
    return {f: np.asarray(getattr(b, f), float) - np.asarray(getattr(a, f), float) for f in FIELDS}


def _moves(change: dict) -> bool:
    return any(np.any(v != 0) for v in change.values())


def group_changes(sc: Scenario, bench) -> dict[str, dict]:
    """Each group's change of the instruments, in the order of ``sc.subtotals``; the changes no
    group names (if any) form the group :data:`OTHER`."""
    chain = sc.instrument_chain(bench)
    before = [Instruments.benchmark(bench)] + [ins for _, ins in chain[:-1]]
    item_change = {item: _difference(a, b) for (item, b), a in zip(chain, before)}
    groups: dict[str, list] = {name: list(items) for name, items in (sc.subtotals or {}).items()}
    rest = [item for item in item_change if not any(item in items for items in groups.values())]
    if any(_moves(item_change[item]) for item in rest):
        groups[OTHER if OTHER not in groups else f"{OTHER}_changes"] = rest
    return {name: {f: sum(item_change[i][f] for i in items) for f in FIELDS} for name, items in groups.items()}


def shifted(base: Instruments, change: dict, h: float) -> Instruments:
    """``base`` moved by ``h`` times ``change``."""
    moved = {f: getattr(base, f) + h * change[f] for f in FIELDS}
    return replace(base.copy(), **{**moved, "pnum": float(moved["pnum"])})


def _numeric(ds: xr.Dataset) -> list[str]:
    return [str(v) for v in ds.data_vars if ds[v].dtype.kind == "f"]


def _share(step: np.ndarray, parts: list[np.ndarray]) -> list[np.ndarray]:
    """``parts`` plus the step's remainder, shared in proportion to the parts' sizes."""
    size = [np.abs(p) for p in parts]
    total = sum(size)
    remainder = step - sum(parts)
    n = len(parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return [p + remainder * np.where(total > 0, s / total, 1.0 / n) for p, s in zip(parts, size)]


def subtotals(
    path: list[xr.Dataset],
    lambdas: list[float],
    start: Instruments,
    final: Instruments,
    changes: dict[str, dict],
    solve_at: Callable[[Instruments], xr.Dataset],
) -> xr.Dataset:
    """The contributions of ``changes`` to every result along ``path`` (the solutions at
    ``lambdas``, the benchmark first) from ``start`` to ``final``; ``solve_at`` solves one point."""
    names = list(changes)
    variables = _numeric(path[-1])
    total = {g: {v: np.zeros(path[-1][v].shape) for v in variables} for g in names}
    for k, (a, b) in enumerate(zip([0.0, *lambdas[:-1]], lambdas)):
        mid = start.towards(final, 0.5 * (a + b))
        parts = {}
        for g in names:
            up, down = solve_at(shifted(mid, changes[g], H)), solve_at(shifted(mid, changes[g], -H))
            parts[g] = {v: (up[v].values - down[v].values) / (2 * H) * (b - a) for v in variables}
        for v in variables:
            step = path[k + 1][v].values - path[k][v].values
            for g, part in zip(names, _share(step, [parts[g][v] for g in names])):
                total[g][v] += part
    like = path[-1]
    out = xr.Dataset(
        {v: (("subtotal", *like[v].dims), np.stack([total[g][v] for g in names]), like[v].attrs) for v in variables},
        coords={**{c: like.coords[c] for c in like.coords}, "subtotal": names},
    )
    out.attrs["description"] = (
        "contribution of each group of the scenario's changes to the change of every result from the benchmark "
        f"(subtotals along the straight path in {len(lambdas)} step(s); they add up to the total change)"
    )
    return out
