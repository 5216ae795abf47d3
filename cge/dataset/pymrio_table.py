"""A ``pymrio.IOSystem`` as a source table (Z and Y at basic prices; value added from an extension)."""

from __future__ import annotations

from typing import Optional

import pandas as pd

from .recipe import PymrioSource, PymrioTestSource, Recipe, RecipeError
from .table import Table


def read_iosystem(
    io,
    where: str,
    value_added_extension: Optional[str] = "factor_inputs",
    inventory_category: Optional[str] = None,
    files: Optional[dict] = None,
    year=None,
) -> Table:
    """A Table from a ``pymrio.IOSystem`` (Z and Y at basic prices; value added from an extension)."""
    if getattr(io, "Z", None) is None:
        try:
            io.calc_system()
        except Exception as exc:
            raise RecipeError(f"{where}: the IOSystem has no Z and pymrio cannot compute it ({exc})") from None
    Zdf, Ydf = io.Z, io.Y
    if Zdf is None or Ydf is None:
        raise RecipeError(f"{where}: the IOSystem needs Z and Y")
    regions = list(dict.fromkeys(str(r) for r in Zdf.index.get_level_values(0)))
    sectors = list(dict.fromkeys(str(s) for s in Zdf.index.get_level_values(1)))
    cats = list(dict.fromkeys(str(c) for c in Ydf.columns.get_level_values(1)))
    nc, ns, nk = len(regions), len(sectors), len(cats)
    idx = pd.MultiIndex.from_product([regions, sectors])
    try:
        Zv = Zdf.reindex(index=idx, columns=idx).to_numpy(dtype=float)
        Yv = Ydf.reindex(index=idx, columns=pd.MultiIndex.from_product([regions, cats])).to_numpy(dtype=float)
    except Exception as exc:
        raise RecipeError(f"{where}: unexpected IOSystem layout ({exc})") from None
    Z = Zv.reshape(nc, ns, nc, ns)
    F = Yv.reshape(nc, ns, nc, nk)
    va = None
    ext = getattr(io, value_added_extension, None) if value_added_extension else None
    if value_added_extension and ext is None:
        raise RecipeError(
            f"{where}: the IOSystem has no extension {value_added_extension!r} "
            f"(has: {', '.join(str(e) for e in io.get_extensions())})"
        )
    if ext is not None:
        va = ext.F.reindex(columns=idx).to_numpy(dtype=float).sum(axis=0).reshape(nc, ns)
    out = None
    if getattr(io, "x", None) is not None:
        out = io.x.reindex(idx).to_numpy(dtype=float).reshape(nc, ns)
    if inventory_category is not None and inventory_category not in cats:
        inventory_category = None
    unit = None
    try:
        unit = str(io.unit.iloc[0, 0])
    except Exception:
        pass
    name = getattr(getattr(io, "meta", None), "name", None) or getattr(io, "name", "IOSystem")
    return Table(
        regions, sectors, cats, Z, F, va, out, inventory_category, files or {}, year, unit, f"pymrio IOSystem {name}"
    )


def read_pymrio_source(rec: Recipe) -> Table:
    """The recipe's pymrio source: pymrio's test system, or a saved IOSystem at ``source.path``."""
    s = rec.source
    assert isinstance(s, (PymrioSource, PymrioTestSource))
    try:
        import pymrio
    except ImportError:
        raise RecipeError(
            f"{rec.where}: source kind {s.kind!r} needs pymrio "
            "(pip install pymrio, or pip install 'cge-integration[calib]')"
        ) from None
    if s.kind == "pymrio_test":
        io = pymrio.load_test()
        files = {}
    else:
        if s.path is None:
            raise RecipeError(f"{rec.where}: source.path is required for kind 'pymrio' in a recipe file")
        path = rec.resolve(s.path)
        if not path.exists():
            raise RecipeError(f"{rec.where}: source.path not found: {path}")
        try:
            io = pymrio.load_all(path)
        except Exception as exc:
            raise RecipeError(f"{rec.where}: pymrio cannot load {path} ({exc})") from None
        files = (
            {f"pymrio/{p.relative_to(path)}": p for p in sorted(path.rglob("*")) if p.is_file()}
            if path.is_dir()
            else {f"pymrio/{path.name}": path}
        )
    return read_iosystem(io, rec.where, s.value_added_extension, s.inventory_category, files, getattr(s, "year", None))
