"""The shipped scenarios, for the tests that run or list them (test_golden, test_agreement,
test_scenarios) and tests/golden/record.py: every scenario file in scenarios/ and in
scenarios/china-clusters/ (the city-cluster ladders), by stem; comparison files are not scenarios."""

from __future__ import annotations

from pathlib import Path

from cge.scenario.comparison import is_comparison_file

ROOT = Path(__file__).resolve().parents[2]
#: folders of scenarios/ whose ladders are recorded compactly (KEY_VARIABLES only), stem prefixed
FOLDERS = ("china-clusters",)
#: what a compact golden record keeps of each stage: welfare, incomes, prices, the spread among provinces
KEY_VARIABLES = (
    "ev",
    "ev_per_capita",
    "income",
    "utility",
    "price",
    "factor_price",
    "theil_provinces",
    "gini_provinces",
    "zone_income_ratio",
)


def _stem(path: Path) -> str:
    folder = path.parent.name
    return f"{folder}-{path.stem}" if folder in FOLDERS else path.stem


def scenario_files() -> dict[str, Path]:
    """Each shipped scenario file by its stem (``china-clusters-guanzhong`` for a cluster's ladder)."""
    paths = sorted((ROOT / "scenarios").glob("*.yaml"))
    for folder in FOLDERS:
        paths += sorted(p for p in (ROOT / "scenarios" / folder).glob("*.yaml") if not is_comparison_file(p))
    return {_stem(p): p for p in paths}


def compact(stem: str) -> bool:
    """Is ``stem`` recorded compactly (its key variables only)?"""
    return any(stem.startswith(f"{folder}-") for folder in FOLDERS)
