"""What a solve returns: :class:`Results` (one scenario) and :class:`Comparison` (several, or the
stages of a ladder), with their summary tables and writers."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from cge.io import output_folder, write_netcdf, write_text
from cge.results import tidy, units
from cge.results.groups import ev_base, group_ev_pct, group_sum, masks, membership
from cge.scenario.scenario import Scenario


@dataclass
class Results:
    """One solved scenario. ``dataset`` is the xarray Dataset of INTERFACE.md."""

    dataset: xr.Dataset
    scenario: Scenario | None = None
    info: dict = field(default_factory=dict)
    #: with a scenario's ``subtotals:``, each group's contribution to every result (cge/results/subtotals.py)
    subtotals: xr.Dataset | None = None

    def to_netcdf(self, path: str | Path) -> Path:
        return write_netcdf(self.dataset, path)

    @property
    def ev_pct(self):
        return self.dataset["ev_pct"].to_pandas()

    def summary(self) -> str:
        return summary_table(self.dataset)

    def to_frame(self):
        """The long table (:data:`cge.results.tidy.COLUMNS`): one row per value."""
        ds = self.dataset
        return tidy.frame(ds, ds.attrs.get("scenario", ""), ds.attrs.get("stage"))

    def write(self, folder: str | Path) -> Path:
        """The files of :meth:`write_into`, built in a temporary folder that replaces ``folder`` as a
        whole at the end (cge.io.output_folder); returns ``folder/results.nc``."""
        with output_folder(folder) as tmp:
            self.write_into(tmp)
        return Path(folder) / "results.nc"

    def write_into(self, folder: str | Path) -> Path:
        """``folder/results.nc``, the long table as ``tidy.csv`` and ``tidy.parquet``, and any
        ``subtotals.nc``, written one by one."""
        path = self.to_netcdf(Path(folder) / "results.nc")
        tidy.write(self.to_frame(), folder)
        if self.subtotals is not None:
            write_netcdf(self.subtotals, Path(folder) / "subtotals.nc")
        return path

    def _repr_html_(self) -> str:
        ds = self.dataset
        head = f"<b>{html.escape(str(ds.attrs.get('scenario', 'results')))}</b> on {_describe(ds)}"
        return head + group_frame(ds).to_html(float_format=lambda v: f"{v:,.2f}", na_rep="")


@dataclass
class Comparison:
    """Several scenarios (or the stages of a ladder) solved on one built model, in order."""

    results: list[Results]

    @property
    def names(self) -> list[str]:
        return [r.dataset.attrs["scenario"] for r in self.results]

    @property
    def labels(self) -> list[str]:
        """Column labels: the stage for the steps of one ladder, else the scenario name."""
        ladders = {r.scenario.ladder for r in self.results if r.scenario is not None}
        if len(ladders) == 1 and None not in ladders:
            return [r.scenario.stage for r in self.results]  # type: ignore[union-attr]
        return self.names

    def table(self):
        """EV% by region (rows) for each scenario (columns), then union, non-member and world rows."""
        import pandas as pd

        cols = {}
        for label, r in zip(self.labels, self.results):
            ds = r.dataset
            col = dict(zip(map(str, ds["region"].values), ds["ev_pct"].values))
            member = membership(ds)
            for row, mask in (("union members", member), ("non-members", ~member), ("world", np.ones_like(member))):
                col[row] = group_ev_pct(ds["ev"].values, ev_base(ds), mask) if mask.any() else np.nan
            cols[label] = pd.Series(col)
        return pd.DataFrame(cols).rename_axis("EV%")

    def ranking(self, stage: str | None = None):
        """Each ladder (or scenario) by its union's EV% at ``stage`` (default: its last step), best first:
        members, the union's EV and EV%, the non-members' and the world's EV%; with a population,
        the union's EV per head; on a benchmark of provinces, the change in the spread of income per
        head among them (Theil's T and Gini, cge/results/inequality.py)."""
        import pandas as pd

        picked: dict[str, Results] = {}
        for r in self.results:
            attrs = r.dataset.attrs
            if stage is None or attrs.get("stage") == stage:
                ladder = r.scenario.ladder if r.scenario is not None and r.scenario.ladder else attrs["scenario"]
                picked[ladder] = r  # the last step wins
        rows = [_ranking_row(name, r) for name, r in picked.items()]
        table = pd.DataFrame(rows).sort_values("union EV%", ascending=False, kind="stable")
        table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
        return table

    @property
    def dataset(self) -> xr.Dataset:
        """All results stacked along a ``scenario`` dimension; ``member`` (scenario, region) is the
        union membership in each (``member_of_union``, its older name, an alias)."""
        parts = []
        for label, r in zip(self.labels, self.results):
            ds = r.dataset.reset_coords("member", drop=True) if "member" in r.dataset.coords else r.dataset
            parts.append(ds.expand_dims(scenario=[label]))
        # join="outer": a static and a dynamic model have different welfare components (NaN where absent)
        out = xr.concat(parts, dim="scenario", combine_attrs="drop", join="outer")
        member = np.stack([membership(r.dataset) for r in self.results])
        out = out.assign_coords(
            member=(("scenario", "region"), member), member_of_union=(("scenario", "region"), member)
        )
        out = out.assign_coords(
            stage=("scenario", [str(r.dataset.attrs.get("stage", "")) for r in self.results]),
            union=("scenario", [str(r.dataset.attrs.get("union", "")) for r in self.results]),
        )
        first = self.results[0].dataset.attrs
        keep = ("dataset", "dataset_sha256", "dataset_source", "units", "dataset_year", "cge_version")
        out.attrs = {k: first[k] for k in keep if k in first}
        for k in ("closure", "closure_numeraire", "closure_trade_balance", "model_options", "description"):
            values = {r.dataset.attrs.get(k) for r in self.results} - {None}
            if values:
                out.attrs[k] = values.pop() if len(values) == 1 else "differs by scenario (see each results.nc)"
        out.attrs["scenarios"] = " ".join(self.names)
        return out

    def write(self, folder: str | Path) -> Path:
        """The files of :meth:`write_into`, built in a temporary folder that replaces ``folder`` as a
        whole at the end (cge.io.output_folder)."""
        with output_folder(folder) as tmp:
            self.write_into(tmp)
        return Path(folder)

    def write_into(self, folder: str | Path) -> Path:
        """``folder/<label>/results.nc`` per scenario, ``comparison.nc`` and ``ev_pct.csv``, written one by one."""
        folder = Path(folder)
        for label, r in zip(self.labels, self.results):
            r.to_netcdf(folder / label / "results.nc")
            if r.subtotals is not None:
                write_netcdf(r.subtotals, folder / label / "subtotals.nc")
        write_netcdf(self.dataset, folder / "comparison.nc")
        write_text(folder / "ev_pct.csv", self.table().to_csv(float_format="%.10g"))
        tidy.write(self.to_frame(), folder)
        return folder

    def to_frame(self):
        """The long table of every scenario (or stage), in order: one row per value."""
        import pandas as pd

        frames = [
            tidy.frame(r.dataset, label, r.dataset.attrs.get("stage")) for label, r in zip(self.labels, self.results)
        ]
        return pd.concat(frames, ignore_index=True)

    def _repr_html_(self) -> str:
        head = f"<b>{len(self.results)} results</b> on {_describe(self.results[0].dataset)}; EV% by region"
        return head + self.table().to_html(float_format=lambda v: f"{v:.4f}")


def _describe(ds: xr.Dataset) -> str:
    unit = units.short(ds.attrs.get("units", units.UNKNOWN), ds.attrs.get("dataset_year"))
    return f"dataset {html.escape(str(ds.attrs.get('dataset', '?')))} (money in {html.escape(unit)})"


def _ranking_row(name: str, r: Results) -> dict:
    """One row of :meth:`Comparison.ranking`: ``r``'s union and the rest of the world."""
    ds, member = r.dataset, membership(r.dataset)
    ev, inc0 = ds["ev"].values, ev_base(ds)
    row = {
        "scenario": name,
        "stage": ds.attrs.get("stage", ""),
        "members": " ".join(str(x) for x in ds["region"].values[member]),
        "union EV": float(group_sum(ev, member, skipna=False)),
        "union EV%": float(group_ev_pct(ev, inc0, member)),
    }
    if "ev_per_capita" in ds:  # the members' EV per head weighted by their people (income / income per head)
        people = ds["income0"].values[member] / ds["income_per_capita0"].values[member]
        per_head = ds["ev_per_capita"].values[member]
        row[f"union EV per head ({ds['ev_per_capita'].attrs.get('units', '')})"] = float(
            np.sum(per_head * people) / np.sum(people)
        )
    row["non-members EV%"] = float(group_ev_pct(ev, inc0, ~member)) if (~member).any() else np.nan
    row["world EV%"] = float(group_ev_pct(ev, inc0, np.ones_like(member)))
    for index in ("theil_provinces", "gini_provinces"):
        if index in ds:
            row[f"{index.split('_')[0]} change"] = float(ds[index] - ds[f"{index}0"])
    return row


def group_frame(ds: xr.Dataset):
    """EV and EV% of every region, then the union, non-member and world totals."""
    import pandas as pd

    member = membership(ds)
    ev, inc0 = ds["ev"].values, ev_base(ds)
    unit = units.short(ds.attrs.get("units", units.UNKNOWN), ds.attrs.get("dataset_year"))
    rows: dict[str, tuple] = {
        str(r): (bool(m), ev[k], ds["ev_pct"].values[k]) for k, (r, m) in enumerate(zip(ds["region"].values, member))
    }
    for group, mask in masks(member):
        rows[group] = (None, group_sum(ev, mask, skipna=False), group_ev_pct(ev, inc0, mask))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["member", f"EV ({unit})", "EV%"])


def summary_table(ds: xr.Dataset) -> str:
    """EV% by region, with union, non-member and world totals."""
    regions = [str(r) for r in ds["region"].values]
    ev = ds["ev"].values
    pct = ds["ev_pct"].values
    inc0 = ev_base(ds)
    member = membership(ds)
    unit = units.short(ds.attrs.get("units", units.UNKNOWN), ds.attrs.get("dataset_year"))
    lines = [f"{'region':<10}{'member':>7}{'EV%':>10}{'EV':>16}   EV in {unit}"]
    for k, r in enumerate(regions):
        lines.append(f"{r:<10}{'yes' if member[k] else '':>7}{pct[k]:>10.4f}{ev[k]:>16.2f}")
    lines.append("-" * 43)
    for group, mask in masks(member):
        label = ds.attrs.get("union", "union").split(":")[0] if group == "union" else group
        tot = group_sum(ev, mask, skipna=False)
        lines.append(f"{label:<17}{group_ev_pct(ev, inc0, mask):>10.4f}{tot:>16.2f}")
    lines.append(
        f"walras residual {float(ds['walras_residual']):.3g} "
        f"({ds.attrs.get('walras_residual_relative', float('nan')):.2g} of world income)"
    )
    return "\n".join(lines)
