"""Calibration: turn real input-output tables into MODEL.md benchmark datasets with a recipe.

>>> from cge.dataset import build_dataset
>>> ds, report = build_dataset("calibration/wiod2011.yaml", "wiod2011.nc")

A recipe (YAML, validated, unknown keys refused) names the source table (WIOD 2013, a pymrio
IOSystem, plain CSV, or the China provinces data), the region and sector maps, tariffs, the factor
split, elasticities, population and the balancing method.  See calibration/README.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cge.errors import InputError

if TYPE_CHECKING:
    from .build import BuildReport, build_dataset, build_from_iosystem
    from .recipe import Recipe, RecipeError, load_recipe

# Loaded on first use, so that importing a submodule (``cge.dataset.catalogue`` for ``cge datasets``,
# ``cge.dataset.schema``) does not also load the table readers and the balancing code.
_LAZY = {
    "BuildReport": "build",
    "build_dataset": "build",
    "build_from_iosystem": "build",
    "Recipe": "recipe",
    "RecipeError": "recipe",
    "load_recipe": "recipe",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BuildReport",
    "Recipe",
    "RecipeError",
    "build_dataset",
    "build_from_iosystem",
    "cli_build",
    "load_recipe",
]


def cli_build(recipe: str | Path, out: str | Path, report: str | Path | None = None, quiet: bool = False) -> int:
    """``cge build-dataset RECIPE.yaml --out FILE.nc [--report ADJUSTMENTS.csv]``.

    Builds the dataset, writes it atomically, prints a summary to standard output and returns 0.
    Bad input raises :class:`~cge.errors.InputError` (a :class:`RecipeError`) or
    :class:`~cge.errors.DataError`, which the command line turns into exit status 2.
    ``report`` (optional) writes every balancing adjustment above the recipe's threshold as CSV
    (cell,before,after).
    """
    out = Path(out)
    if out.suffix != ".nc":
        raise InputError(f"--out {out}: the output file must end in .nc")
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a file name ending in .nc")
    from .build import build_dataset

    ds, rep = build_dataset(recipe, out)
    if report is not None:
        from cge.io import write_text

        write_text(report, rep.adjustments_frame().to_csv(index=False, float_format="%.17g"))
    if not quiet:
        print(str(rep))
        print(
            f"dataset {ds.attrs.get('name')}: {ds.sizes['region']} regions x {ds.sizes['sector']} sectors x "
            f"{ds.sizes['factor']} factors, year {ds.attrs.get('year')}, {ds.attrs.get('units')}"
        )
        print(f"written to {out}")
    return 0
