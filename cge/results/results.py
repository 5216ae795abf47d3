"""What a solve returns: :class:`Results` (one scenario) and :class:`Comparison` (several, or the
stages of a ladder), with their summary tables and writers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from cge.io import write_netcdf, write_text
from cge.results.groups import group_ev_pct, group_sum, masks, membership
from cge.scenario.scenario import Scenario


@dataclass
class Results:
    """One solved scenario. ``dataset`` is the xarray Dataset of INTERFACE.md."""

    dataset: xr.Dataset
    scenario: Scenario | None = None
    info: dict = field(default_factory=dict)

    def to_netcdf(self, path: str | Path) -> Path:
        return write_netcdf(self.dataset, path)

    @property
    def ev_pct(self):
        return self.dataset["ev_pct"].to_pandas()

    def summary(self) -> str:
        return summary_table(self.dataset)


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
                col[row] = group_ev_pct(ds["ev"].values, ds["income0"].values, mask) if mask.any() else np.nan
            cols[label] = pd.Series(col)
        return pd.DataFrame(cols).rename_axis("EV%")

    @property
    def dataset(self) -> xr.Dataset:
        """All results stacked along a ``scenario`` dimension."""
        parts = []
        for label, r in zip(self.labels, self.results):
            ds = r.dataset
            if "member" in ds.coords:
                ds = ds.assign(member_of_union=ds["member"]).drop_vars("member")
            parts.append(ds.expand_dims(scenario=[label]))
        out = xr.concat(parts, dim="scenario", combine_attrs="drop")
        first = self.results[0].dataset.attrs
        out.attrs = {k: first[k] for k in ("dataset", "dataset_sha256", "units", "cge_version") if k in first}
        for k in ("closure", "closure_numeraire", "closure_trade_balance", "model_options"):
            values = {r.dataset.attrs.get(k) for r in self.results}
            out.attrs[k] = values.pop() if len(values) == 1 else "differs by scenario (see each results.nc)"
        out.attrs["scenarios"] = " ".join(self.names)
        return out

    def write(self, folder: str | Path) -> Path:
        """``folder/<label>/results.nc`` per scenario, ``comparison.nc`` and ``ev_pct.csv``."""
        folder = Path(folder)
        for label, r in zip(self.labels, self.results):
            r.to_netcdf(folder / label / "results.nc")
        write_netcdf(self.dataset, folder / "comparison.nc")
        write_text(folder / "ev_pct.csv", self.table().to_csv(float_format="%.10g"))
        return folder


def summary_table(ds: xr.Dataset) -> str:
    """EV% by region, with union, non-member and world totals."""
    regions = [str(r) for r in ds["region"].values]
    ev = ds["ev"].values
    pct = ds["ev_pct"].values
    inc0 = ds["income0"].values
    member = membership(ds)
    lines = [f"{'region':<10}{'member':>7}{'EV%':>10}{'EV':>16}"]
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
