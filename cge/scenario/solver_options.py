"""The scenario's ``solver:`` section, checked before anything is built: every option is known to
the route that reads it, with a value of the right type and range (an unknown option is refused by
name, never passed through).

The newton route reads ``tol``, ``max_iter`` and ``fallback``; the other options are IPOPT's (the cyipopt and
ipopt routes, and newton's fallback to IPOPT).  A solve is accepted only when every residual is
below ``cge.solve.RESIDUAL_TOL`` (1e-8), so a looser ``tol`` is refused.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, StrictBool, ValidationError

from cge.errors import ScenarioError
from cge.schema import Finite, Integer, Strict, format_errors

#: the solver routes (cge.solve.ROUTES) and 'auto'
NAMES = ("auto", "newton", "cyipopt", "ipopt")
Positive = Optional[Finite]


class SolverOptions(Strict):
    """Options of the solver routes (IPOPT's names and meanings, https://coin-or.github.io/Ipopt/OPTIONS.html)."""

    name: Optional[Literal[NAMES]] = None  # type: ignore[valid-type]
    # newton and IPOPT
    tol: Positive = Field(None, gt=0.0, le=1e-8)
    max_iter: Optional[Integer] = Field(None, ge=1, le=100_000)
    # newton only: false refuses to fall back to IPOPT (a solve Newton's method does not finish fails)
    fallback: Optional[StrictBool] = None
    # IPOPT only
    constr_viol_tol: Positive = Field(None, gt=0.0, le=1e-8)
    acceptable_tol: Positive = Field(None, gt=0.0, le=1e-8)
    acceptable_iter: Optional[Integer] = Field(None, ge=0, le=100_000)
    bound_push: Positive = Field(None, gt=0.0, le=0.5)
    bound_frac: Positive = Field(None, gt=0.0, le=0.5)
    mu_init: Positive = Field(None, gt=0.0, le=1e6)
    max_cpu_time: Positive = Field(None, gt=0.0, le=1e7)
    max_wall_time: Positive = Field(None, gt=0.0, le=1e7)
    print_level: Optional[Integer] = Field(None, ge=0, le=12)
    hessian_approximation: Optional[Literal["limited-memory", "exact"]] = None
    mu_strategy: Optional[Literal["adaptive", "monotone"]] = None
    nlp_scaling_method: Optional[Literal["none", "gradient-based", "equilibration-based"]] = None
    linear_solver: Optional[Literal["mumps", "ma27", "ma57", "ma77", "ma86", "ma97", "pardiso", "spral"]] = None
    sb: Optional[Literal["yes", "no"]] = None


#: the options the newton route reads itself (the others apply if it falls back to IPOPT)
NEWTON = ("name", "tol", "max_iter", "fallback")


def check_solver_options(options: dict, where: str = "<scenario>") -> dict:
    """The options as given, checked (a :class:`ScenarioError` names each bad one)."""
    try:
        SolverOptions.model_validate(options)
    except ValidationError as exc:
        raise ScenarioError(
            format_errors(exc, where, "solver options", list(SolverOptions.model_fields), prefix=("solver",)).replace(
                "unknown key", "unknown solver option"
            )
        ) from None
    return dict(options)
