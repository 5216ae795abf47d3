"""From a recipe to a MODEL.md benchmark dataset (see calibration/README.md for every rule).

Steps (each adjustment is reported, none is silent):

1. read the source table (basic prices), refuse missing, non-numeric or negative intermediate cells;
2. negative cross-border final demand (an inventory draw-down of an imported good) moves to the same
   category of the exporter's own final demand for its own good (or refuse);
3. tariff rates on the source grid (zero within an aggregate region: those flows become domestic sales);
4. aggregation with the region and sector maps, keeping the source region of every flow;
5. negative domestic sales (own-product inventory draw-down larger than all other domestic sales): the
   own-product inventory change is raised until domestic sales are zero (output and value added rise by
   as much), or refuse;
6. identities of the table: rows (sales = output) and columns (inputs + value added = output, value added
   >= ``min_value_added_share`` x output); if broken: refuse naming the worst cells, or balance the flows
   with RAS (GRAS) or weighted least squares and report every adjustment;
7. buyer prices: every purchase grossed up by the tariff of its route; trade = sum of basic-price flows;
8. negative composite final demand: the inventory change is netted against the region's intermediate
   use of the good (or refuse);
9. output = row sum of sales; value added = output - intermediate inputs at buyer prices (it absorbs
   tariffs on intermediates); factor split by labour shares; elasticities; population.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

import numpy as np
import pandas as pd

from cge import __version__
from cge.dataset.schema import check_dataset, from_arrays
from cge.errors import nearest
from cge.io import read_csv, sha256, write_netcdf
from cge.schema import read_yaml

from . import balance as bal
from .csv_table import read_csv_table
from .pymrio_table import read_iosystem, read_pymrio_source
from .recipe import FINISHED, REPO_ROOT, SHARED_DATA, MapSpec, Recipe, RecipeError, TableFile, load_recipe
from .table import Table
from .tariffs import FineTariffs, caliendo_parro, csv_tariffs
from .wiod import read_wiod

IDENTITY_TOL = 1e-10


@dataclass
class BuildReport:
    """What a build did: messages, every balancing adjustment above the threshold, and figures."""

    lines: list[str] = field(default_factory=list)
    adjustments: list[tuple[str, float, float]] = field(default_factory=list)  # (cell, before, after)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def adjustments_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.adjustments, columns=["cell", "before", "after"])

    def __str__(self) -> str:
        out = list(self.lines)
        if self.adjustments:
            out.append(f"balancing adjustments listed: {len(self.adjustments)} (largest 10 by |after - before|):")
            for c, b, a in sorted(self.adjustments, key=lambda x: -abs(x[2] - x[1]))[:10]:
                out.append(f"  {c}: {b:,.6g} -> {a:,.6g}")
        return "\n".join(out)


# ------------------------------------------------------------------------------------ helpers
def refuse_unknown(where: str, given, sectors: list[str]) -> None:
    """Refuse sector codes not in ``sectors``, each with the nearest valid code."""
    unknown = [k for k in given if k not in sectors]
    if unknown:
        raise RecipeError(f"{where}: unknown sector(s) " + ", ".join(f"{k}{nearest(k, sectors)}" for k in unknown))


def _read_recipe_csv(
    rec: Recipe, name: str, what: str, columns: list[str], files: Optional[dict] = None, hint: str = ""
) -> tuple[Path, pd.DataFrame]:
    """A CSV file a recipe names, as text, with ``columns``; recorded in ``files`` for the provenance hash."""
    path = rec.resolve(name)
    df = read_csv(path, columns, RecipeError, f"{rec.where}: {what}", hint, keep_default_na=False, dtype=str)
    if files is not None:
        files[f"{what}/{path.name}"] = path
    return path, df


def worst(arr: np.ndarray, labels: list[list[str]], n: int = 3) -> str:
    flat = list(np.argsort(-np.abs(arr), axis=None, kind="stable")[:n])
    if np.any(arr != 0):
        flat = [k for k in flat if arr.flat[k] != 0]
    out = []
    for k in flat:
        idx = np.unravel_index(k, arr.shape)
        out.append("(" + ",".join(lab[i] for lab, i in zip(labels, idx)) + f")={arr[idx]:.4g}")
    return "; ".join(out)


def _rel(p: Path) -> str:
    p = Path(p).resolve()
    for base in (REPO_ROOT, SHARED_DATA):
        try:
            return str(p.relative_to(base))
        except ValueError:
            pass
    return p.name


def make_map(spec: Union[str, MapSpec], codes: list[str], what: str, rec: Recipe):
    """(aggregate codes, indicator matrix (len(codes), len(agg)), description) for a region/sector map."""
    where = f"{rec.where}: {what}"
    if spec == "identity":
        return list(codes), np.eye(len(codes)), f"{len(codes)} {what}, as in the source", {}
    assert isinstance(spec, MapSpec), spec
    pairs: list[tuple[str, str]] = []
    files: dict[str, Path] = {}
    if spec.file is not None:
        columns = [spec.code_column, spec.aggregate_column]
        path, df = _read_recipe_csv(rec, spec.file, what, columns, files, "set code_column / aggregate_column")
        pairs = [(a.strip(), b.strip()) for a, b in zip(df[spec.code_column], df[spec.aggregate_column])]
        where = f"{path}"
    else:
        for agg, members in spec.groups.items():  # type: ignore[union-attr]
            pairs += [(str(m).strip(), str(agg).strip()) for m in members]
    seen: dict[str, list[str]] = {}
    for c, a in pairs:
        seen.setdefault(c, []).append(a)
    dup = sorted(c for c, a in seen.items() if len(a) > 1)
    if dup:
        raise RecipeError(
            f"{where}: code(s) mapped more than once: " + ", ".join(f"{c} (to {' and '.join(seen[c])})" for c in dup)
        )
    unknown = sorted(c for c in seen if c not in codes)
    if unknown:
        raise RecipeError(
            f"{where}: code(s) not in the source table: " + ", ".join(f"{c}{nearest(c, codes)}" for c in unknown)
        )
    missing = [c for c in codes if c not in seen]
    if missing:
        raise RecipeError(f"{where}: source code(s) not mapped: {', '.join(missing)}")
    agg_first = list(dict.fromkeys(a for _, a in pairs))
    if spec.order is not None:
        order = [str(o) for o in spec.order]
        dupo = sorted({o for o in order if order.count(o) > 1})
        extra = [o for o in order if o not in agg_first]
        lack = [a for a in agg_first if a not in order]
        if dupo or extra or lack:
            raise RecipeError(
                f"{rec.where}: {what}.order must list every aggregate code once: "
                f"duplicates {dupo}, unknown {extra}, missing {lack}"
            )
        agg = order
    else:
        agg = agg_first
    m = np.zeros((len(codes), len(agg)))
    for k, c in enumerate(codes):
        m[k, agg.index(seen[c][0])] = 1.0
    desc = "; ".join(f"{a} = {'+'.join(c for c in codes if seen[c][0] == a)}" for a in agg)
    if spec.names:
        desc = "; ".join(f"{a} ({spec.names.get(a, a)}) = {'+'.join(c for c in codes if seen[c][0] == a)}" for a in agg)
    return agg, m, desc, files


def _read_table_file(spec: TableFile, rec: Recipe, codes: list[str], what: str) -> tuple[dict, Path]:
    path, df = _read_recipe_csv(rec, spec.file, what, [spec.code_column, spec.column])
    vals = pd.to_numeric(df[spec.column], errors="coerce")
    if vals.isna().any():
        raise RecipeError(
            f"{path}: missing or non-numeric {spec.column!r} for {df[spec.code_column][vals.isna()].tolist()[:5]}"
        )
    d = dict(zip(df[spec.code_column].str.strip(), vals.astype(float)))
    if len(d) != len(df):
        raise RecipeError(f"{path}: a code is listed twice")
    miss = [c for c in codes if c not in d]
    if miss:
        raise RecipeError(f"{path}: {what} lacks code(s) {', '.join(miss)}")
    return d, path


# ------------------------------------------------------------------------------------ entry points
def build_dataset(recipe_path, out_path=None, *, overrides: Optional[dict] = None):
    """Build the benchmark a recipe describes; write it atomically to ``out_path`` if given.

    ``overrides`` maps dotted recipe keys to values (e.g. ``{"source.dir": "/data/wiod"}``), applied
    before validation.  Returns ``(dataset, report)``.
    """
    if overrides:
        raw, text = read_yaml(recipe_path, "recipe", RecipeError)
        for key, val in overrides.items():
            node = raw
            parts = key.split(".")
            for k in parts[:-1]:
                node = node.setdefault(k, {})
            node[parts[-1]] = val
        rec = load_recipe(raw, where=str(recipe_path))
        rec.text = text
    else:
        rec = load_recipe(recipe_path)
    ds, report = _build(rec)
    if out_path is not None:
        write_netcdf(ds, Path(out_path), compress=True)
        report.add(f"wrote {out_path}")
    return ds, report


def build_from_iosystem(io, recipe, out_path=None):
    """Build a benchmark from a ``pymrio.IOSystem`` with a recipe (a path or a dict; its ``source`` may be
    omitted or ``{kind: pymrio}``)."""
    if isinstance(recipe, (str, Path)):
        import yaml

        raw = yaml.safe_load(Path(recipe).read_text())
        where = str(recipe)
    else:
        raw, where = dict(recipe), "<recipe>"
    src = dict(raw.get("source") or {"kind": "pymrio"})
    if src.get("kind") != "pymrio":
        raise RecipeError(f"{where}: build_from_iosystem needs source kind 'pymrio' (or no source)")
    raw["source"] = src
    rec = load_recipe(raw, where=where)
    table = read_iosystem(
        io,
        where,
        src.get("value_added_extension", "factor_inputs"),
        src.get("inventory_category", "Changes in inventories"),
        year=src.get("year"),
    )
    ds, report = _build(rec, table)
    if out_path is not None:
        write_netcdf(ds, Path(out_path), compress=True)
    return ds, report


def read_source(rec: Recipe) -> Table:
    s = rec.source
    if s.kind == "wiod2013":
        return read_wiod(rec.resolve(s.dir, SHARED_DATA / "wiod2013"), s.year, rec.where)
    if s.kind == "csv":
        return read_csv_table(rec.resolve(s.dir), s.inventory_category, rec.where, s.year, s.units)
    if s.kind in ("pymrio", "pymrio_test"):
        return read_pymrio_source(rec)
    raise RecipeError(f"{rec.where}: unknown source kind {s.kind!r}")


# ------------------------------------------------------------------------------------ the build
@dataclass
class _Grid:
    """The benchmark's regions and sectors, with the maps from the source's (indicator matrices
    source x aggregate) and their descriptions."""

    regions: list[str]
    R: np.ndarray
    rdesc: str
    sectors: list[str]
    S: np.ndarray
    sdesc: str


@dataclass
class _Flows:
    """Aggregated flows keeping the source region: Zg[S, A, D, J], Fg[S, A, D, k] at basic prices,
    TZ and TF the tariffs paid on them."""

    Zg: np.ndarray
    TZ: np.ndarray
    Fg: np.ndarray
    TF: np.ndarray


def _build(rec: Recipe, table: Optional[Table] = None):
    """The benchmark of a recipe (the module docstring's steps, in order) and the build report."""
    if rec.source.kind in FINISHED:
        return _build_finished(rec)
    report = BuildReport()
    if table is None:
        table = read_source(rec)  # 1.
    table.check(rec.where)
    _require_factors_and_elasticities(rec)
    regions, R, rdesc, rfiles = make_map(rec.regions, table.countries, "regions", rec)
    sectors, S, sdesc, sfiles = make_map(rec.sectors, table.sectors, "sectors", rec)
    grid = _Grid(regions, R, rdesc, sectors, S, sdesc)
    files = {**table.files, **rfiles, **sfiles}
    Z, F = table.Z.copy(), table.F.copy()
    report.add(
        f"source: {table.description}: {len(table.countries)} regions x {len(table.sectors)} sectors, "
        f"{len(table.categories)} final-demand categories"
    )
    _move_negative_cross_border(rec, table, F, report)  # 2.
    ft, tt, not_carried = _source_tariffs(rec, table, grid, Z, F)  # 3.
    files.update(ft.files)
    flows = _aggregate(grid, Z, F, tt, not_carried, report)  # 4.
    _raise_negative_domestic_sales(rec, grid, table.categories, flows, report)  # 5.
    _balance_table(rec, table, grid, table.categories, flows, report)  # 6.
    trade, revenue, intermediate, final_demand, tariff = _buyer_prices(rec, grid, flows)  # 7.
    _net_negative_final_demand(rec, table, grid, flows, intermediate, final_demand, report)  # 8.
    output, va = _value_added(rec, grid, trade, intermediate)  # 9.
    ls = _labour_shares(rec, table, regions, sectors, R, S, Z, files)
    factor_income = np.stack([va * ls, va * (1.0 - ls)])
    esubd, esubm, esubva, ecite = _elasticities(rec, table, sectors, S, files)
    population, pcite = _population(rec, table, regions, R, files)
    _check_identities(rec.where, grid, trade, tariff, intermediate, final_demand, output, factor_income, report)
    _figures(report, regions, sectors, trade, revenue, output, va, factor_income, final_demand)
    ds = from_arrays(
        regions=regions,
        sectors=sectors,
        factors=["labour", "capital"],
        trade=trade,
        tariff=tariff,
        intermediate=intermediate,
        final_demand=final_demand,
        factor_income=factor_income,
        esubd=esubd,
        esubm=esubm,
        esubva=esubva,
        mobility=[rec.factors.mobility["labour"], rec.factors.mobility["capital"]],  # type: ignore[union-attr]
        population=population,
    )
    units = rec.units or table.units or "currency units"
    _describe_variables(ds, rec, units, ft.description, ecite, pcite)
    ds.attrs = _attrs(rec, table, files, rec.year or table.year, units, rdesc, sdesc, ft, report)
    rep = check_dataset(ds)
    if not rep.ok:
        raise RecipeError(rep.message(f"{rec.where}: the built dataset"))
    return ds, report


def _require_factors_and_elasticities(rec: Recipe) -> None:
    if rec.factors is None:
        raise RecipeError(f"{rec.where}: factors: required (labour_share and mobility)")
    if rec.elasticities is None:
        raise RecipeError(
            f"{rec.where}: elasticities: required (a file, e.g. calibration/elasticities_wiod35.csv, "
            "or uniform esubd and esubva)"
        )


def _move_negative_cross_border(rec: Recipe, table: Table, F: np.ndarray, report: BuildReport) -> None:
    """Step 2: negative cross-border final demand moves to the exporter's own final demand (in ``F``), or refuse."""
    countries, fsec, cats = table.countries, table.sectors, table.categories
    nc = len(countries)
    border = ~np.eye(nc, dtype=bool)[:, None, :, None] & np.ones(F.shape, dtype=bool)
    negb = border & (F < 0)
    moved = np.argwhere(negb)
    if len(moved):
        cells = "; ".join(
            f"{countries[e]}.{fsec[s]}->{countries[i]} {cats[c]} {F[e, s, i, c]:,.6g}" for e, s, i, c in moved
        )
        if rec.balance.negatives.cross_border_final_demand == "refuse":
            raise RecipeError(
                f"{rec.where}: {len(moved)} negative cross-border final-demand cell(s): {cells} "
                "(set balance.negatives.cross_border_final_demand: move_to_exporter to move them)"
            )
        report.add(
            f"adjustment: {len(moved)} negative cross-border final-demand cells (total "
            f"{F[negb].sum():,.0f}) moved to the exporter's own final demand: {cells}"
        )
        for e, s, i, c in moved:
            F[e, s, e, c] += F[e, s, i, c]
            F[e, s, i, c] = 0.0
    report.figures["moved_negative_cross_border"] = float(-sum(table.F[tuple(m)] for m in moved)) if len(moved) else 0.0


def _source_tariffs(rec: Recipe, table: Table, grid: _Grid, Z: np.ndarray, F: np.ndarray):
    """Step 3: tariff rates on the source grid, zero inside an aggregate region.

    Returns the tariffs read, the rates (exporter, sector, importer) and the revenue they would
    have raised inside aggregate regions (not carried)."""
    spec = rec.tariffs
    if spec.kind == "none":
        ft = FineTariffs(
            np.zeros((len(table.sectors), len(table.countries), len(table.countries))),
            description="none (all tariffs zero)",
        )
    elif spec.kind == "caliendo_parro":
        ft = caliendo_parro(spec, rec, table)
    else:
        ft = csv_tariffs(spec, rec, table, grid.regions, grid.sectors)
        if ft.aggregate_rates is not None:
            ri, si = grid.R.argmax(axis=1), grid.S.argmax(axis=1)
            ft.t = ft.aggregate_rates[si][:, ri][:, :, ri]
    t = ft.t.copy()
    same_region = (grid.R @ grid.R.T) > 0
    W0 = Z.sum(axis=3) + F.sum(axis=3)  # (e, s, i) all users, basic prices
    not_carried = float((W0 * t.transpose(1, 0, 2) * same_region[:, None, :]).sum())
    t[:, same_region] = 0.0
    return ft, t.transpose(1, 0, 2), not_carried


def _aggregate(
    grid: _Grid, Z: np.ndarray, F: np.ndarray, tt: np.ndarray, not_carried: float, report: BuildReport
) -> _Flows:
    """Step 4: aggregate with the maps, keeping the source region of every flow."""
    R, S = grid.R, grid.S
    Zg = np.einsum("esiu,eS,sA,iD,uJ->SADJ", Z, R, S, R, S, optimize=True)
    TZ = np.einsum("esiu,esi,eS,sA,iD,uJ->SADJ", Z, tt, R, S, R, S, optimize=True)
    Fg = np.einsum("esik,eS,sA,iD->SADk", F, R, S, R, optimize=True)
    TF = np.einsum("esik,esi,eS,sA,iD->SADk", F, tt, R, S, R, optimize=True)
    same_region = (R @ R.T) > 0
    W0 = Z.sum(axis=3) + F.sum(axis=3)
    within = float(np.einsum("esi,ei->", W0, same_region & ~np.eye(len(R), dtype=bool)))
    report.figures["within_region_cross_border_to_diagonal"] = within
    if within:
        report.add(
            f"cross-border flows inside an aggregate region (domestic sales of the region, no tariff): {within:,.0f}"
        )
    if not_carried:
        report.add(
            f"not carried: tariffs the source rates imply on flows inside an aggregate region: {not_carried:,.1f}"
        )
    return _Flows(Zg, TZ, Fg, TF)


def _raise_negative_domestic_sales(
    rec: Recipe, grid: _Grid, cats: list[str], flows: _Flows, report: BuildReport
) -> None:
    """Step 5: negative domestic sales: the own-product inventory change is raised (in ``flows.Fg``), or refuse."""
    Zg, Fg = flows.Zg, flows.Fg
    sectors, regions = grid.sectors, grid.regions
    dom = np.einsum("rArJ->Ar", Zg) + np.einsum("rArk->Ar", Fg)
    bad = np.argwhere(dom < 0)
    if not len(bad):
        return
    cells = "; ".join(f"({sectors[a]},{regions[r]}) {dom[a, r]:,.6g}" for a, r in bad)
    if rec.balance.negatives.domestic_sales == "refuse":
        raise RecipeError(f"{rec.where}: negative domestic sales (own-product inventory draw-down) at {cells}")
    for a, r in bad:
        k = int(np.argmin(Fg[r, a, r, :]))
        report.add(
            f"adjustment: domestic sales ({sectors[a]},{regions[r]}) = {dom[a, r]:,.6g} < 0; own-product "
            f"{cats[k]} raised from {Fg[r, a, r, k]:,.6g} to {Fg[r, a, r, k] - dom[a, r]:,.6g}; output and "
            f"value added rise by {-dom[a, r]:,.6g}"
        )
        Fg[r, a, r, k] -= dom[a, r]
    report.figures["raised_own_inventories"] = float(-dom[dom < 0].sum())


def _buyer_prices(rec: Recipe, grid: _Grid, flows: _Flows):
    """Step 7: trade at basic prices, tariff revenue and rates by route, intermediate and final
    demand at buyer prices."""
    Zg, TZ, Fg, TF = flows.Zg, flows.TZ, flows.Fg, flows.TF
    sectors, regions = grid.sectors, grid.regions
    trade = np.einsum("SADJ->ASD", Zg) + np.einsum("SADk->ASD", Fg)
    revenue = np.einsum("SADJ->ASD", TZ) + np.einsum("SADk->ASD", TF)
    intermediate = np.einsum("SADJ->AJD", Zg + TZ)
    final_demand = np.einsum("SADk->AD", Fg + TF)
    diag = np.eye(len(regions), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        tariff = np.where(trade > 0, revenue / trade, 0.0)
    tariff[:, diag] = 0.0
    if np.any((trade <= 0) & (revenue != 0)):
        raise RecipeError(f"{rec.where}: tariff revenue on an aggregate route with no positive trade")
    if trade.min() < 0:
        raise RecipeError(f"{rec.where}: negative trade: " + worst(np.minimum(trade, 0), [sectors, regions, regions]))
    if intermediate.min() < 0:
        raise RecipeError(
            f"{rec.where}: negative intermediate use: "
            + worst(np.minimum(intermediate, 0), [sectors, sectors, regions])
        )
    return trade, revenue, intermediate, final_demand, tariff


def _net_negative_final_demand(rec, table, grid: _Grid, flows: _Flows, intermediate, final_demand, report) -> None:
    """Step 8: a negative composite final demand: its inventory change is netted against the
    region's intermediate use of the good (in place), or refuse."""
    if not (final_demand < 0).any():
        return
    sectors, regions = grid.sectors, grid.regions
    if rec.balance.negatives.final_demand == "refuse" or table.inventory_category is None:
        raise RecipeError(
            f"{rec.where}: negative final demand (inventory draw-down) at "
            + worst(np.minimum(final_demand, 0), [sectors, regions], int((final_demand < 0).sum()))
            + ("" if table.inventory_category else " (the source names no inventory category)")
        )
    kinv = table.categories.index(table.inventory_category)
    inven = np.einsum("SAD->AD", flows.Fg[..., kinv] + flows.TF[..., kinv])
    for i, r in np.argwhere(final_demand < 0):
        x = -inven[i, r]
        tot = intermediate[i, :, r].sum()
        if x <= 0 or x >= tot or final_demand[i, r] - inven[i, r] < 0:
            raise RecipeError(
                f"{rec.where}: negative final demand ({sectors[i]},{regions[r]})={final_demand[i, r]:.1f} "
                "that the inventory adjustment cannot fix"
            )
        report.add(
            f"adjustment: final demand ({sectors[i]},{regions[r]}) = {final_demand[i, r]:,.0f} < 0; its "
            f"inventory change {inven[i, r]:,.0f} netted against intermediate use of {sectors[i]} in "
            f"{regions[r]} ({tot:,.0f}, scaled by {1 - x / tot:.4f}); final demand becomes "
            f"{final_demand[i, r] + x:,.0f}"
        )
        intermediate[i, :, r] *= 1.0 - x / tot
        final_demand[i, r] += x


def _value_added(rec: Recipe, grid: _Grid, trade: np.ndarray, intermediate: np.ndarray):
    """Step 9: output (row sums of sales) and value added (output minus inputs at buyer prices)."""
    output = trade.sum(axis=2)
    va = output - intermediate.sum(axis=0)
    tol = IDENTITY_TOL * np.maximum(output, 1.0)
    if (va < -tol).any():
        m = va < -tol
        raise RecipeError(
            f"{rec.where}: negative value added after tariffs on intermediates in "
            + worst(np.where(m, va, 0), [grid.sectors, grid.regions], int(m.sum()))
            + " (balance with min_value_added_share, or check the tariffs)"
        )
    va = np.where(np.abs(va) <= tol, 0.0, va) if (va < 0).any() else va
    return output, va


def _check_identities(where, grid: _Grid, trade, tariff, intermediate, final_demand, output, factor_income, report):
    """MODEL.md section 2's identities 1 (composite balance) and 2 (zero profit), reported; refuse if broken."""
    sectors, regions = grid.sectors, grid.regions
    diag = np.eye(len(regions), dtype=bool)
    lhs1 = intermediate.sum(axis=1) + final_demand
    rhs1 = np.einsum("isr,isr->ir", trade, np.where(diag[None], 1.0, 1.0 + tariff))
    rel1 = (lhs1 - rhs1) / np.maximum(rhs1, 1e-300)
    rel1[rhs1 == 0] = lhs1[rhs1 == 0]
    rhs2 = intermediate.sum(axis=0) + factor_income.sum(axis=0)
    rel2 = (output - rhs2) / np.maximum(output, 1e-300)
    rel2[output == 0] = rhs2[output == 0]
    report.add(f"identity 1 (composite balance): max rel. error {np.abs(rel1).max():.2e}")
    report.add(f"identity 2 (zero profit):       max rel. error {np.abs(rel2).max():.2e}")
    if np.abs(rel1).max() > IDENTITY_TOL or np.abs(rel2).max() > IDENTITY_TOL:
        raise RecipeError(
            f"{where}: benchmark identities fail: composite balance {worst(rel1, [sectors, regions])}; "
            f"zero profit {worst(rel2, [sectors, regions])}"
        )


def _describe_variables(ds, rec: Recipe, units: str, tariffs: str, ecite: str, pcite) -> None:
    """Units, long names and sources of the built dataset's variables."""
    for v, extra in {
        "trade": {"units": units, "long_name": "bilateral sales at basic prices; diagonal = domestic sales"},
        "tariff": {"units": "1 (ad valorem rate)", "long_name": f"applied import tariff: {tariffs}; trade-weighted"},
        "intermediate": {"units": units, "long_name": "intermediate use at buyer prices (tariff-inclusive)"},
        "final_demand": {"units": units, "long_name": "final demand (all categories) at buyer prices"},
        "factor_income": {"units": units, "long_name": "value added split by labour shares"},
        "esubd": {"units": "1", "source": ecite},
        "esubm": {"units": "1", "source": f"{rec.elasticities.esubm_factor:g} x ESUBD unless given"},  # type: ignore[union-attr]
        "esubva": {"units": "1", "source": ecite},
    }.items():
        ds[v].attrs.update(extra)
    if "population" in ds:
        ds["population"].attrs.update({"units": rec.population.units, "source": pcite})  # type: ignore[union-attr]


@dataclass
class _Targets:
    """Step 6's targets: output ``x`` (S, A) for the rows; for the columns, ``col_target`` where
    ``col_mask`` (basic inputs = output - value added, or buyer inputs <= output - floor) and the gaps."""

    x: np.ndarray
    row_gap: np.ndarray
    col_target: np.ndarray
    col_gap: np.ndarray
    col_mask: np.ndarray
    buyer: bool  # the columns hold at buyer prices
    what: str  # the column identity, for messages
    va_mode: str


def _balance_table(rec: Recipe, table: Table, grid: _Grid, cats: list[str], flows: _Flows, report: BuildReport):
    """Step 6: check the table's identities; refuse or balance the flows (and their tariff revenue) in place."""
    t = _targets(rec, table, grid, flows, report)
    if _identities_hold(rec, grid, t, report):
        return
    _rebalance(rec, grid, cats, flows, t, report)


def _targets(rec: Recipe, table: Table, grid: _Grid, flows: _Flows, report: BuildReport) -> _Targets:
    """Output (row sums of sales, or the source's), the column targets and the gaps to them."""
    b, where, R, S = rec.balance, rec.where, grid.R, grid.S
    va_mode = b.value_added
    if va_mode == "auto":
        va_mode = "source" if table.va is not None else "residual"
    if va_mode == "source" and table.va is None:
        raise RecipeError(f"{where}: balance.value_added: source, but the source has no value added")
    rows = flows.Zg.sum(axis=(2, 3)) + flows.Fg.sum(axis=(2, 3))  # (S, A) sales
    if b.output == "source":
        if table.output is None:
            raise RecipeError(f"{where}: balance.output: source, but the source has no output vector")
        x = R.T @ table.output @ S  # (S, A)
    else:
        x = rows.copy()
    if table.output is not None:
        src_out = R.T @ table.output @ S
        resid = rows - src_out
        report.figures["output_row_sums_minus_source"] = float(resid.sum())
        report.figures["source_output_total"] = float(src_out.sum())
        if b.output == "row_sums":
            report.add(
                f"output := row sums of sales; difference to the source's output vector: total "
                f"{resid.sum():,.0f} ({resid.sum() / max(src_out.sum(), 1e-300):.3%}); worst "
                f"{worst(resid, [grid.regions, grid.sectors])}"
            )
    if va_mode == "source":
        col_target = x - R.T @ table.va @ S  # basic inputs must equal output - VA
        col_gap = np.einsum("SADJ->DJ", flows.Zg) - col_target
        return _Targets(
            x, rows - x, col_target, col_gap, np.ones(x.shape, bool), False, "inputs + value added - output", va_mode
        )
    colq = np.einsum("SADJ->DJ", flows.Zg + flows.TZ)  # buyer inputs
    floor = b.min_value_added_share * x
    col_target = x - floor  # buyer inputs at most output - floor
    scale = np.maximum(np.abs(x), 1.0)
    col_gap = np.where(x - colq < floor - b.threshold * scale, colq - col_target, 0.0)
    what = (
        f"value added below {b.min_value_added_share:g} x output"
        if b.min_value_added_share
        else "negative value added (intermediate inputs at buyer prices exceed output)"
    )
    return _Targets(x, rows - x, col_target, col_gap, col_gap != 0, True, what, va_mode)


def _identities_hold(rec: Recipe, grid: _Grid, t: _Targets, report: BuildReport) -> bool:
    """True if rows and columns meet their targets; else the worst gaps are reported (or refused)."""
    b = rec.balance
    scale = np.maximum(np.abs(t.x), 1.0)
    badr = np.abs(t.row_gap) > b.threshold * scale
    badc = np.abs(t.col_gap) > b.threshold * scale
    if not (badr.any() or badc.any()):
        report.add(
            f"table identities hold (relative tolerance {b.threshold:g}; value added: {t.va_mode}); no balancing"
        )
        return True
    lab = [grid.regions, grid.sectors]
    msg = []
    if badr.any():
        msg.append(
            f"{int(badr.sum())} row(s) where sales != output: worst (sales - output) "
            f"{worst(np.where(badr, t.row_gap, 0), lab, 5)}"
        )
    if badc.any():
        msg.append(
            f"{int(badc.sum())} column(s) with {t.what}: worst (gap) {worst(np.where(badc, t.col_gap, 0), lab, 5)}"
        )
    if b.method == "refuse":
        raise RecipeError(
            f"{rec.where}: the table breaks the identities (balance.method: refuse):\n  "
            + "\n  ".join(msg)
            + "\n  set balance.method to ras or least_squares to balance it"
        )
    report.add("table breaks the identities: " + "; ".join(msg))
    return False


def _rebalance(rec: Recipe, grid: _Grid, cats: list[str], flows: _Flows, t: _Targets, report: BuildReport) -> None:
    """Balance the flows matrix (rows (S, A); columns (D, J) intermediate, then (D, k) final demand)
    to the targets with the recipe's method; tariff revenue moves with its flow (same rate)."""
    b, Zg, TZ, Fg, TF = rec.balance, flows.Zg, flows.TZ, flows.Fg, flows.TF
    nr, na, nk = len(grid.regions), len(grid.sectors), len(cats)
    nrow = nr * na
    M = np.concatenate([Zg.reshape(nrow, nr * na), Fg.reshape(nrow, nr * nk)], axis=1)
    Tm = np.concatenate([TZ.reshape(nrow, nr * na), TF.reshape(nrow, nr * nk)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(M != 0, Tm / M, 0.0)
    W = 1.0 + rate if t.buyer else np.ones_like(M)
    u = t.x.reshape(-1)
    v = np.concatenate([t.col_target.reshape(-1), np.zeros(nr * nk)])
    cm = np.concatenate([t.col_mask.reshape(-1), np.zeros(nr * nk, dtype=bool)])
    rm = np.ones(nrow, dtype=bool)
    Mn, it = bal.balance(b.method, M, u, v, rm, cm, W, b.max_iter)
    rlab = [f"{r}.{s}" for r in grid.regions for s in grid.sectors]
    clab = rlab + [f"{r}.{k}" for r in grid.regions for k in cats]
    _refuse_unbalanced(rec, M, Mn, it, rlab, clab)
    d = np.abs(Mn - M)
    rep = d > np.maximum(b.report_above, b.threshold * np.maximum(np.abs(M), np.abs(Mn)))
    for i, j in np.argwhere(rep):
        kind = "intermediate" if j < nr * na else "final demand"
        report.adjustments.append((f"{kind} {rlab[i]} -> {clab[j]}", float(M[i, j]), float(Mn[i, j])))
    report.figures["balancing_total_abs_change"] = float(d.sum())
    report.figures["balancing_cells_reported"] = len(report.adjustments)
    report.add(
        f"balanced with {b.method} ({it} iteration(s)): total absolute change {d.sum():,.6g} "
        f"({d.sum() / max(np.abs(M).sum(), 1e-300):.3g} of the table); {len(report.adjustments)} cell(s) moved "
        f"by more than max({b.report_above:g}, {b.threshold:g} x value)"
    )
    Tn = Mn * rate
    Zg[...] = Mn[:, : nr * na].reshape(Zg.shape)
    Fg[...] = Mn[:, nr * na :].reshape(Fg.shape)
    TZ[...] = Tn[:, : nr * na].reshape(TZ.shape)
    TF[...] = Tn[:, nr * na :].reshape(TF.shape)


def _refuse_unbalanced(rec: Recipe, M, Mn, it, rlab: list[str], clab: list[str]) -> None:
    """A balancing that found no solution, or one that flips a cell's sign, stops the build."""
    if Mn is None:
        br, bc = it
        raise RecipeError(
            f"{rec.where}: cannot balance: no cell can move to meet the target in rows "
            f"{[rlab[i] for i in br][:10]} / columns {[clab[j] for j in bc][:10]}"
        )
    flip = (np.sign(Mn) != np.sign(M)) & (M != 0)
    if flip.any():
        cells = [f"{rlab[i]} -> {clab[j]} ({M[i, j]:.6g} -> {Mn[i, j]:.6g})" for i, j in np.argwhere(flip)[:10]]
        raise RecipeError(
            f"{rec.where}: {rec.balance.method} would flip the sign of {int(flip.sum())} cell(s): "
            f"{'; '.join(cells)}; use balance.method: ras (keeps signs)"
        )


def _labour_shares(rec, table, regions, sectors, R, S, Z, files):
    spec = rec.factors.labour_share
    na, nr = len(sectors), len(regions)
    if isinstance(spec, (int, float)):
        return np.full((na, nr), float(spec))
    if isinstance(spec, dict):
        refuse_unknown(f"{rec.where}: factors.labour_share", spec, sectors)
        miss = [a for a in sectors if a not in spec]
        if miss:
            raise RecipeError(f"{rec.where}: factors.labour_share lacks sector(s) {', '.join(miss)}")
        return np.repeat(np.array([spec[a] for a in sectors])[:, None], nr, axis=1)
    codes = sectors if spec.level == "aggregate" else table.sectors
    d, path = _read_table_file(spec, rec, codes, "labour shares")
    files[f"factors/{path.name}"] = path
    bad = [k for k, v in d.items() if not 0 <= v <= 1]
    if bad:
        raise RecipeError(f"{path}: labour shares must lie in [0, 1]: {bad}")
    if spec.level == "aggregate":
        return np.repeat(np.array([d[a] for a in sectors])[:, None], nr, axis=1)
    # source level: value-added-weighted over the source cells of each aggregate cell
    fine = np.array([d[s] for s in table.sectors])
    fva = np.maximum(Z.sum(axis=(2, 3)) + table.F.sum(axis=(2, 3)) - Z.sum(axis=(0, 1)), 0.0)  # (e, s)
    num = np.einsum("es,s,eR,sA->AR", fva, fine, R, S)
    den = np.einsum("es,eR,sA->AR", fva, R, S)
    simple = (fine @ S) / S.sum(axis=0)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), simple[:, None])


def _elasticities(rec, table, sectors, S, files):
    e = rec.elasticities
    na = len(sectors)
    cite = e.citation or ""
    if e.file is None:
        esubd = np.full(na, float(e.esubd))
        esubva = np.full(na, float(e.esubva))
        esubm = e.esubm_factor * esubd
    else:
        codes = sectors if e.level == "aggregate" else table.sectors
        path, df = _read_recipe_csv(rec, e.file, "elasticities", ["sector", "esubd", "esubva"], files)
        df["sector"] = df["sector"].str.strip()
        if df.sector.duplicated().any():
            raise RecipeError(f"{path}: sector(s) listed twice: {sorted(set(df.sector[df.sector.duplicated()]))}")
        miss = [c for c in codes if c not in set(df.sector)]
        if miss:
            raise RecipeError(
                f"{path}: no elasticities for sector(s) {', '.join(miss)} "
                f"(level {e.level}: {'aggregate' if e.level == 'aggregate' else 'source'} codes)"
            )
        df = df.set_index("sector").loc[codes]
        vals = {}
        for c in ("esubd", "esubva", "esubm"):
            if c in df.columns and (c != "esubm" or (df[c] != "").all()):
                v = pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=float)
                if not np.isfinite(v).all():
                    raise RecipeError(f"{path}: non-numeric {c}")
                vals[c] = v
        if "esubm" not in vals:
            vals["esubm"] = e.esubm_factor * vals["esubd"]
        if e.level == "source":
            w = np.maximum(table.Z.sum(axis=(2, 3)) + table.F.sum(axis=(2, 3)), 0).sum(axis=0)  # world output
            den = w @ S
            simple = S.sum(axis=0)
            agg = {
                c: np.where(den > 0, (w * v) @ S / np.where(den > 0, den, 1), (v @ S) / simple) for c, v in vals.items()
            }
        else:
            agg = vals
        esubd, esubva, esubm = agg["esubd"], agg["esubva"], agg["esubm"]
        cite = cite or f"{path.name}"
        if e.level == "source":
            cite += " (source sectors, weighted by world output)"
    esubd, esubva, esubm = esubd.copy(), esubva.copy(), esubm.copy()
    refuse_unknown(f"{rec.where}: elasticities.overrides", e.overrides, sectors)
    for k, o in e.overrides.items():
        j = sectors.index(k)
        if o.esubd is not None:
            esubd[j] = o.esubd
            if o.esubm is None:
                esubm[j] = e.esubm_factor * o.esubd
        if o.esubm is not None:
            esubm[j] = o.esubm
        if o.esubva is not None:
            esubva[j] = o.esubva
    if e.overrides:
        cite += "; overridden in the recipe for " + ", ".join(e.overrides)
    return esubd, esubm, esubva, cite


def _population(rec, table, regions, R, files):
    p = rec.population
    if p is None:
        return None, ""
    codes = regions if p.level == "aggregate" else table.countries
    path, df = _read_recipe_csv(rec, p.file, "population", [p.code_column, p.column], files)
    df[p.code_column] = df[p.code_column].str.strip()
    if df[p.code_column].duplicated().any():
        raise RecipeError(f"{path}: code(s) listed twice")
    vals = dict(zip(df[p.code_column], df[p.column]))
    need = [c for c in codes if c != p.residual] + ([p.world_code] if p.world_code else [])
    miss = [c for c in need if c not in vals or vals[c].strip() == ""]
    if miss:
        raise RecipeError(f"{path}: no {p.column} for {', '.join(miss)}")
    try:
        v = {c: float(vals[c]) for c in need}
    except ValueError as exc:
        raise RecipeError(f"{path}: non-numeric population ({exc})") from None
    if p.residual is not None:
        if p.residual not in codes:
            raise RecipeError(
                f"{rec.where}: population.residual {p.residual!r} is not a "
                f"{'region' if p.level == 'aggregate' else 'source region'} code"
            )
        v[p.residual] = v[p.world_code] - sum(v[c] for c in codes if c != p.residual)
    arr = np.array([v[c] for c in codes])
    if (arr <= 0).any():
        raise RecipeError(
            f"{path}: population must be positive: " + ", ".join(f"{c}={x:g}" for c, x in zip(codes, arr) if x <= 0)
        )
    if p.level == "source":
        arr = arr @ R
    cite = p.citation or path.name
    if p.residual:
        cite += f"; {p.residual} = {p.world_code} minus the other regions"
    return arr, cite


def _figures(report, regions, sectors, trade, revenue, output, va, fi, fd):
    """The build's headline figures and lines of the report."""
    nr = len(regions)
    imports = trade.sum() - np.trace(trade, axis1=1, axis2=2).sum()
    f = report.figures
    f.update(
        world_output=float(output.sum()),
        international_trade=float(imports),
        tariff_revenue=float(revenue.sum()),
        value_added=float(va.sum()),
        final_demand=float(fd.sum()),
        labour_income=float(fi[0].sum()),
    )
    report.add(f"regions ({nr}), sectors ({len(sectors)})")
    report.add(
        f"world gross output {output.sum():,.0f}; international trade {imports:,.0f} "
        f"({imports / max(output.sum(), 1e-300):.1%} of output)"
    )
    report.add(
        f"tariff revenue {revenue.sum():,.1f}; average tariff on imports {revenue.sum() / max(imports, 1e-300):.2%}"
    )
    report.add(f"value added {va.sum():,.0f} (labour {fi[0].sum():,.0f}); final demand {fd.sum():,.0f}")
    imp_r = trade.sum(axis=(0, 1)) - np.einsum("iss->s", trade)
    exp_r = trade.sum(axis=(0, 2)) - np.einsum("iss->s", trade)
    bal_ = imp_r - exp_r
    f["trade_balance_sum"] = float(bal_.sum())
    report.add(f"trade balances (imports - exports) sum to {bal_.sum():.2e}")
    zero_out = int((output == 0).sum())
    if zero_out:
        report.add(
            f"cells with zero output: {zero_out} "
            f"(e.g. {worst(np.where(output == 0, 1.0, 0.0), [sectors, regions], min(zero_out, 5))})"
        )
    f["zero_output_cells"] = zero_out


def _attrs(rec, table, files, year, units, rdesc, sdesc, ft, report):
    recipe_rel = _rel(Path(rec.path)) if rec.path else "<python>"
    src_sha = "; ".join(f"{k}: {sha256(p)}" for k, p in sorted(files.items()))
    a = {
        "name": rec.name,
        "title": rec.title or rec.name,
        "year": np.int32(year) if year is not None else "unknown",
        "units": units,
        "source": rec.citation or table.description,
        "licence_note": rec.licence_note or "derived data: check the terms of the source table before redistributing",
        "regions": rdesc,
        "sectors": sdesc,
        "tariffs": ft.description,
        "recipe": recipe_rel,
        "recipe_sha256": rec.sha256,
        "recipe_text": rec.text or "",
        "package_version": f"cge-integration {__version__}",
        "build_command": f"cge build-dataset {recipe_rel} --out FILE.nc"
        if rec.path
        else "cge.dataset.build_from_iosystem",
        "source_sha256": src_sha,
        "balancing": next((l for l in report.lines if l.startswith(("balanced with", "table identities hold"))), ""),
        "reconciliation": (
            "trade = basic-price flows summed over all users; intermediate and final demand = flows x (1 + tariff of "
            "their route); output = row sum of sales; value added = output - intermediate inputs at buyer prices (it "
            "absorbs tariffs on intermediates); see calibration/README.md"
        ),
    }
    a.update(rec.attrs)
    return a


# ------------------------------------------------------------------------------------ finished benchmarks
def _read_china(rec: Recipe):
    """The china_provinces benchmark, the files it was read from, and its own attributes."""
    where = rec.where
    try:
        from cge.dataset.china import read_china_provinces
    except ImportError as exc:
        raise RecipeError(
            f"{where}: source kind 'china_provinces' needs cge/dataset/china.py "
            f"(read_china_provinces), which cannot be imported ({exc})"
        ) from None
    dir_ = rec.resolve(rec.source.dir, SHARED_DATA / "china_provinces")  # type: ignore[union-attr]
    if not dir_.is_dir():
        raise RecipeError(f"{where}: china_provinces data folder not found: {dir_}")
    ds = read_china_provinces(dir_).copy()
    files = {f"china_provinces/{p.name}": p for p in sorted(dir_.glob("*.csv"))}
    mod = Path(__import__("cge.dataset.china", fromlist=["x"]).__file__)  # type: ignore[arg-type]
    files["cge/dataset/china.py"] = mod
    return ds, files, dict(ds.attrs)


def _read_gtap(rec: Recipe):
    """A GTAP HAR database as a benchmark, the files read, and its attributes."""
    from cge.dataset.gtap import read_gtap_har

    src = rec.source
    path = rec.resolve(src.path)  # type: ignore[union-attr]
    params = rec.resolve(src.parameters) if src.parameters else None  # type: ignore[union-attr]
    arrays, read = read_gtap_har(path, params, dict(src.mobility), rec.where)  # type: ignore[union-attr]
    ds = from_arrays(**arrays)
    inner = {
        "source": f"GTAP database in HAR format: {path.name}" + (f", parameters {params.name}" if params else ""),
        "units": src.units,  # type: ignore[union-attr]
        "year": src.year,  # type: ignore[union-attr]
        "tariffs": "GTAP: VIMS / VIWS - 1 (cge/dataset/gtap.py)",
        "reconciliation": "GTAP headers mapped as cge/dataset/gtap.py describes (value added = sales less intermediate "
        "inputs at market prices, split over endowments by VFM)",
    }
    return ds, {f"gtap/{p.name}": p for p in read}, inner


def _build_finished(rec: Recipe):
    """A source that is a finished benchmark (china_provinces, gtap_har): checked, with the
    recipe's elasticities applied and its provenance added."""
    report = BuildReport()
    where, kind = rec.where, rec.source.kind
    _refuse_processing(rec)
    ds, files, inner = _read_china(rec) if kind == "china_provinces" else _read_gtap(rec)
    if rec.elasticities is not None:
        sectors = [str(s) for s in ds["sector"].values]
        e = rec.elasticities
        if e.file is not None and e.level != "aggregate":
            raise RecipeError(f"{where}: elasticities.level must be 'aggregate' for {kind}")
        # the recipe's schema asks for a file or uniform values, so they replace the source's
        esubd, esubm, esubva, _ = _elasticities(rec, None, sectors, np.eye(len(sectors)), {})
        ds["esubd"].values[:], ds["esubm"].values[:], ds["esubva"].values[:] = esubd, esubm, esubva
    rep = check_dataset(ds)
    if not rep.ok:
        raise RecipeError(
            rep.message(f"{where}: the {kind} benchmark")
            + "\n  (a finished benchmark cannot be rebalanced here: fix the source or the reader)"
        )
    trade = ds["trade"].values
    out = trade.sum(axis=2)
    imports = trade.sum() - np.einsum("iss->", trade)
    report.add(
        f"{kind}: {ds.sizes['region']} regions x {ds.sizes['sector']} sectors; world output "
        f"{out.sum():,.0f}; trade between regions {imports:,.0f}"
    )
    report.figures.update(world_output=float(out.sum()), international_trade=float(imports))
    ds.attrs = _finished_attrs(rec, ds, files, inner, report)
    return ds, report


def _refuse_processing(rec: Recipe) -> None:
    """A finished benchmark is not aggregated, given tariffs or split into factors."""
    where, kind = rec.where, rec.source.kind
    if rec.regions != "identity" or rec.sectors != "identity":
        raise RecipeError(
            f"{where}: the {kind} source is a finished benchmark: regions and sectors must be "
            "'identity' (aggregate it with a scenario-level tool instead)"
        )
    if rec.tariffs.kind != "none":
        raise RecipeError(f"{where}: the {kind} source brings its own tariffs: tariffs must be {{kind: none}}")
    if rec.factors is not None:
        raise RecipeError(f"{where}: the {kind} source brings its own factor split: leave out 'factors'")


def _finished_attrs(rec: Recipe, ds, files: dict, inner: dict, report: BuildReport) -> dict:
    """A finished benchmark's attributes: the recipe's provenance over the reader's own."""
    kind = rec.source.kind
    ft = FineTariffs(
        np.zeros((0, 0, 0)), description=inner.get("tariffs", "from the source (see calibration/README.md)")
    )

    class _Tab:
        description = inner.get("source", kind)

    year = rec.year or (int(str(inner["year"])) if inner.get("year") is not None else None)
    a = _attrs(
        rec,
        _Tab,
        files,
        year,
        rec.units or inner.get("units", "billion USD (2007)"),
        inner.get("region_names", " ".join(str(r) for r in ds["region"].values)),
        inner.get("sector_names", " ".join(str(s) for s in ds["sector"].values)),
        ft,
        report,
    )
    a["reconciliation"] = inner.get("reconciliation", a["reconciliation"])
    for k in ("title", "licence_note"):
        if not getattr(rec, k) and k in inner:
            a[k] = inner[k]
    a["balancing"] = "not applicable: a finished benchmark, checked against MODEL.md section 2"
    for k, v in inner.items():
        if k not in a and k not in ("name", "year", "recipe"):
            a[k] = v
    a["reader_recipe"] = inner.get("recipe", "")
    return a
