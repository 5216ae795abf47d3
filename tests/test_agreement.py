"""Newton's method and IPOPT agree on every shipped scenario (issue 15 item 5).

Every stage of every shipped scenario is solved by Newton's method along the default path from
the benchmark, with the fallback off, and by IPOPT with a tight tolerance in one step (no welfare
decomposition, which only the path needs), on separate models.  Prices, activities,
incomes, factor prices and trade must agree to 1e-10 of each variable's largest magnitude, and EV
to 1e-10 of benchmark income (EV is near zero where a shock is small: north-america-fta's differs
by 1.5e-10 of its largest |EV|, 1e-8 currency units).  Slow: some 3 minutes of CPU (IPOPT on the
China ladders).  The city-cluster ladders of scenarios/china-clusters/ are left out on purpose: they
are the same model on the same benchmark with the same stages as the China ladders compared here
(only the members and the border cost differ), IPOPT would add some 6 minutes of CPU to CI for
them, and tests/test_golden.py solves every one of their stages by Newton's method with the fallback
off and checks their accounts and residuals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cge
from cge.solve import available

ROOT = Path(__file__).resolve().parents[1]
#: scenarios/*.yaml, not the city-cluster ladders of scenarios/china-clusters/ (see above)
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
#: the results compared (the solution; derived effects follow from it)
VARIABLES = ("price", "output", "composite_price", "income", "utility", "factor_price", "trade_quantity", "ev")
#: IPOPT's options for the comparison: tight enough that its own error is below the tolerance
IPOPT = {"name": "cyipopt", "tol": 1e-13, "constr_viol_tol": 1e-13, "acceptable_tol": 1e-13}
AGREE = 1e-10


def stages(stem: str, solver: dict, steps: int | None = None) -> list:
    """The results of every stage of a scenario with ``solver``'s options."""
    scenario = cge.Scenario.from_yaml(ROOT / "scenarios" / f"{stem}.yaml")
    scenario = scenario.model_copy(update={"solver": {**(scenario.solver or {}), **solver}})
    return cge.compare([scenario], steps=steps).results


def disagreement(a, b) -> dict[str, float]:
    """Largest difference of each variable, relative to its largest magnitude (EV: to income)."""
    out = {}
    for name in VARIABLES:
        x, y = a.dataset[name].values, b.dataset[name].values
        scale = np.nanmax(np.abs(b.dataset["income0" if name == "ev" else name].values))
        out[name] = float(np.nanmax(np.abs(x - y)) / scale)
    return out


def compared(stem: str) -> list[tuple[str, dict[str, float]]]:
    out = []
    for newton, ipopt in zip(stages(stem, {"fallback": False}), stages(stem, IPOPT, steps=0)):
        assert newton.dataset.attrs["solver"] == "newton" and ipopt.dataset.attrs["solver"] == "cyipopt"
        out.append((newton.dataset.attrs["scenario"], disagreement(newton, ipopt)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("stem", SCENARIOS)
def test_newton_agrees_with_ipopt(stem):
    if "cyipopt" not in available():
        pytest.skip("cyipopt is not available (scripts/setup.sh installs it)")
    for label, worst in compared(stem):
        assert max(worst.values()) < AGREE, (label, worst)


if __name__ == "__main__":
    import sys

    for stem in sys.argv[1:] or SCENARIOS:
        for label, worst in compared(stem):
            print(label, f"{max(worst.values()):.2g}", max(worst, key=worst.get), flush=True)
