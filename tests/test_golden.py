"""Every shipped scenario runs, its accounts close, and it gives the numbers recorded before the
redesign (issue 13).

tests/golden/<scenario>.nc holds every numeric variable of every stage's results, recorded by
tests/golden/record.py from the code as it was before the redesign (commit fffa0c5; the China ladders
re-recorded for issue 15, see record.py; the city-cluster ladders of scenarios/china-clusters/, issue
17, hold their key variables only).  Each value
must agree to 1e-10 relative (absolute 1e-10 of the variable's largest magnitude, for values near
zero; accounting residuals to 1e-10 of world income).  Every stage of every scenario (and every
step of the path from the benchmark) must be solved by Newton's method: the fallback to IPOPT is
off (``solver: {fallback: false}``), so a fallback fails the test.  Slow: every shipped scenario
is solved (``pytest -m "not slow"`` leaves it out).
"""

from __future__ import annotations

import functools
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

import cge
from cge.results.results import Comparison
from tests.support.shipped import compact, scenario_files

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SCENARIOS = sorted(scenario_files())
RTOL = 1e-10
#: accounting residuals and flows that are zero up to round-off: compared to 1e-10 of world income
NEAR_ZERO = ("walras_residual", "welfare_decomposition_residual", "factor_flow", "welfare_endowment")


def stored(stem: str) -> dict[str, xr.Dataset]:
    path = GOLDEN / f"{stem}.nc"
    with netCDF4.Dataset(path) as nc:
        groups = list(nc.groups)
    return {g.split("=", 1)[1]: xr.load_dataset(path, group=g) for g in groups}


def accounts_problems(ds: xr.Dataset) -> list[str]:
    """The accounting checks every solved stage must pass (MODEL.md sections 6 and 8)."""
    label, out = ds.attrs["scenario"], []
    if not ds.attrs["max_residual"] < 1e-8:
        out.append(f"{label}: largest residual {ds.attrs['max_residual']:.2g}")
    if not ds.attrs["walras_residual_relative"] < 1e-7:
        out.append(f"{label}: Walras residual {ds.attrs['walras_residual_relative']:.2g} of world income")
    ev = ds["ev"].values
    tol = np.maximum(0.01 * np.abs(ev), 1e-4 * ds["income0"].values)
    if not (np.abs(ds["welfare_decomposition_residual"].values) <= tol).all():
        out.append(f"{label}: the welfare decomposition does not add up to EV")
    if "member" in ds.coords and ds["member"].values.any():
        if not np.isfinite(ds["trade_creation"].sel(region=ds["region"][ds["member"]]).values).all():
            out.append(f"{label}: trade creation is not finite for every member")
    return out


def no_fallback(stem: str) -> cge.Scenario:
    scenario = cge.Scenario.from_yaml(scenario_files()[stem])
    return scenario.model_copy(update={"solver": {**(scenario.solver or {}), "fallback": False}})


@functools.cache
def compact_results() -> dict[str, Comparison]:
    """The compactly recorded ladders (the city clusters: one benchmark, one model) solved in one
    comparison, which saves a model build and file per ladder; by stem, each ladder's stages."""
    scenarios = {s: no_fallback(s) for s in SCENARIOS if compact(s)}
    results = cge.compare(list(scenarios.values())).results
    return {s: Comparison([r for r in results if r.scenario.ladder == sc.name]) for s, sc in scenarios.items()}


def differences(stem: str) -> list[str]:
    """The variables of ``stem``'s results that differ from the stored reference, as messages."""
    reference = stored(stem)
    comparison = compact_results()[stem] if compact(stem) else cge.compare([no_fallback(stem)])
    labels, results = comparison.labels, comparison.results
    assert labels == list(reference), "the stages differ from the reference"
    out = []
    for label, res in zip(labels, results):
        out += accounts_problems(res.dataset)
        if res.dataset.attrs["solver"] != "newton" or res.dataset.attrs["solver_status"] != "converged":
            out.append(f"{label}: solved by {res.dataset.attrs['solver']} ({res.dataset.attrs['solver_status']})")
        ref, new = reference[label], res.dataset
        for name, want in ref.data_vars.items():
            got = new[name].astype(want.dtype).transpose(*want.dims).values
            w = want.values
            scale = np.nanmax(np.abs(w)) if np.isfinite(w).any() else 0.0
            if name in NEAR_ZERO:
                scale = max(scale, float(ref["income0"].sum()))
            tol = RTOL * np.abs(w) + RTOL * scale
            bad = ~((np.isnan(w) & np.isnan(got)) | (np.abs(got - w) <= tol))
            if bad.any():
                out.append(f"{label}/{name}: {int(bad.sum())} cells differ (largest {np.nanmax(np.abs(got - w)):.3g})")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("stem", SCENARIOS)
def test_shipped_scenario_closes_and_matches_reference(stem):
    if not (GOLDEN / f"{stem}.nc").exists():
        pytest.fail(f"no stored reference for {stem}: record it with tests/golden/record.py before changing numbers")
    assert differences(stem) == []


if __name__ == "__main__":
    import sys

    for stem in sys.argv[1:] or SCENARIOS:
        print(stem, differences(stem) or "identical within 1e-10", flush=True)
