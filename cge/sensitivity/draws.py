"""The draws: Stroud's degree-3 quadrature or Monte Carlo, and what one draw sets in the model."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cge.errors import InputError
from cge.scenario.scenario import Instruments, Scenario

from .parameters import Dimension, SSAConfig


def stroud3(n: int) -> np.ndarray:
    """Stroud's degree-3 rule: ``2n`` standardised nodes (rows) in ``n`` dimensions, equal weights.

    Node ``k = 1..2n`` has components ``sqrt(2) cos((2r-1) k pi / n)`` and
    ``sqrt(2) sin((2r-1) k pi / n)`` for ``r = 1..floor(n/2)``, and ``(-1)^k`` last when ``n`` is
    odd.  With weights ``1/(2n)`` the nodes have mean 0, identity covariance and zero third
    moments: ``mean + sd * node`` integrates every polynomial of degree <= 3 exactly for
    independent symmetric distributions with that mean and sd.
    """
    if n < 1:
        raise InputError("quadrature needs at least one uncertain parameter")
    k = np.arange(1, 2 * n + 1)[:, None]
    z = np.empty((2 * n, n))
    for r in range(1, n // 2 + 1):
        ang = (2 * r - 1) * k[:, 0] * np.pi / n
        z[:, 2 * r - 2] = math.sqrt(2.0) * np.cos(ang)
        z[:, 2 * r - 1] = math.sqrt(2.0) * np.sin(ang)
    if n % 2:
        z[:, n - 1] = (-1.0) ** k[:, 0]
    z[np.abs(z) < 1e-15] = 0.0
    return z


def draw_values(dims: Sequence[Dimension], method: str, n: int | None = None, seed: int | None = 0):
    """The draws: (values (draw, dimension), weights (draw,)); generated up front."""
    d = len(dims)
    if method == "quadrature":
        z = stroud3(d)
        mean = np.array([x.moments()[0] for x in dims])
        sd = np.array([x.moments()[1] for x in dims])
        return mean + z * sd, np.full(2 * d, 1.0 / (2 * d))
    rng = np.random.default_rng(seed)
    vals = np.column_stack([x.sample(rng, int(n)) for x in dims]) if d else np.empty((int(n), 0))  # type: ignore[arg-type]
    return vals, np.full(int(n), 1.0 / int(n))  # type: ignore[arg-type]


def apply_draw(dims: Sequence[Dimension], values: np.ndarray, esub0: dict) -> tuple[dict, float, float]:
    """Elasticity arrays ({name: (sector,)}), the shock scale and the border coefficient's shift (in
    standard errors) for one draw."""
    esub = {k: np.array(v, dtype=float) for k, v in esub0.items()}
    lam, z = 1.0, 0.0
    for dim, v in zip(dims, values):
        if dim.kind == "shock":
            lam = float(v)
        elif dim.kind == "border_cost":
            z = float(v)
        elif dim.together:
            idx = list(dim.sectors)
            esub[dim.kind][idx] = esub0[dim.kind][idx] * v
        else:
            esub[dim.kind][dim.sectors[0]] = v
    return esub, lam, z


def border_shifted(sc: Scenario, z: float) -> Scenario:
    """The scenario with its estimated border coefficient moved by ``z`` standard errors."""
    from cge.scenario.stages import BorderEstimate, FullIntegration

    stage = sc.integration()
    if not isinstance(stage, FullIntegration) or not isinstance(stage.border_cost, BorderEstimate):
        raise InputError(
            f"{sc.where}: parameters: border_cost is drawn from its estimate: the scenario needs stage "
            "full_integration with border_cost: estimated or {file: ...} (a number has no distribution)"
        )
    if z == 0.0:
        return sc
    options = {**sc.stage_options, "border_cost": stage.border_cost.shifted(z).model_dump()}
    return sc.model_copy(update={"stage_options": options})


def scaled_instruments(bench, final: Instruments, lam: float) -> Instruments:
    """The scenario's change from the benchmark scaled by ``lam`` (tariffs, trade costs, endowments);
    the union's revenue pooling and factor pooling are rules, kept as the scenario sets them."""
    if lam == 1.0:
        return final.copy()
    ins = Instruments.benchmark(bench).towards(final, lam)
    ins.revenue_pool = final.revenue_pool.copy()
    ins.revenue_share = final.revenue_share.copy()
    ins.factor_pool = final.factor_pool.copy()
    ins.pnum = final.pnum
    return ins


def draws_of(dims: Sequence[Dimension], config: SSAConfig, given: np.ndarray | None = None):
    """(values (draw, dimension), weights, method): the ``given`` values with equal weights, else
    drawn as ``config`` says."""
    if given is not None:
        values = np.atleast_2d(np.asarray(given, dtype=float))
        if values.shape[1] != len(dims):
            raise InputError(
                f"draws: expected {len(dims)} columns ({', '.join(d.label for d in dims)}), got {values.shape[1]}"
            )
        return values, np.full(len(values), 1.0 / len(values)), "given"
    values, weights = draw_values(dims, config.method, config.n, config.seed)
    return values, weights, config.method
