"""Union, non-member and world totals: the one place where results are added up over groups of
regions (the CLI summary, the comparison table, the report and the sensitivity analysis use it)."""

from __future__ import annotations

import numpy as np
import xarray as xr

#: the groups, in the order tables show them
GROUPS = ("union", "non-members", "world")


def membership(ds: xr.Dataset) -> np.ndarray:
    """Union membership by region (``member``, or a comparison's ``member_of_union``); all False
    without a union."""
    for name in ("member", "member_of_union"):
        if name in ds.variables:
            v = np.asarray(ds[name].values, dtype=bool)
            return v if v.ndim == 1 else v[0]
    return np.zeros(ds.sizes["region"], dtype=bool)


def masks(member: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(group, regions mask) for the groups that exist: the union and the non-members only when
    there is a union."""
    member = np.asarray(member, dtype=bool)
    out = [("union", member), ("non-members", ~member)] if member.any() else []
    if member.any() and not (~member).any():
        out = out[:1]
    return out + [("world", np.ones_like(member))]


def group_sum(values: np.ndarray, mask: np.ndarray, skipna: bool = True) -> np.ndarray:
    """The sum over the regions in ``mask`` (the last axis); NaN cells (e.g. a non-member's trade
    creation) are left out unless ``skipna`` is False (then a NaN, e.g. a failed draw, stays NaN)."""
    selected = np.asarray(values)[..., mask]
    return np.nansum(selected, axis=-1) if skipna else selected.sum(axis=-1)


def group_mean(values: np.ndarray, weight: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The ``weight``-weighted mean over the regions in ``mask`` (the last axis)."""
    return group_sum(np.asarray(values) * weight, mask) / np.asarray(weight)[..., mask].sum(axis=-1)


def ev_base(ds: xr.Dataset) -> np.ndarray:
    """What EV% is a percentage of: benchmark income, or benchmark consumption under the
    steady-state capital closure (docs/dynamics.md section 4.4)."""
    return ds["consumption0" if "consumption0" in ds else "income0"].values


def group_ev_pct(ev: np.ndarray, income0: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A group's EV as a percentage of its benchmark income."""
    return 100 * group_sum(ev, mask, skipna=False) / np.asarray(income0)[..., mask].sum(axis=-1)
