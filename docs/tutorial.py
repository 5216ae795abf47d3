# %% [markdown]
# # Tutorial: a ladder of integration, plotted, as a tidy table
#
# This page is a script (Jupytext's percent format: open it as a notebook with
# `jupytext --to notebook docs/tutorial.py`, or run it with `python docs/tutorial.py OUT`).
# `tests/test_tutorial.py` runs it, so what it shows works with the package as it is.
#
# China, Japan and Korea climb Balassa's ladder on the default benchmark (WIOD 2011, money in
# million USD of 2011): a preferential trade arrangement, a free trade area, a customs union and a
# common market (`scenarios/east-asia-ladder.yaml`).

# %%
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no screen needed
import matplotlib.pyplot as plt

import cge
import cge.plot

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tutorial-output")

# %% [markdown]
# One model is built and every stage is solved on it, each along a path of 2 steps from the
# benchmark (the welfare decomposition integrates along it; the command line's default is 6).

# %%
comp = cge.compare([ROOT / "scenarios" / "east-asia-ladder.yaml"], steps=2)
print(comp.table().round(3))

# %% [markdown]
# EV by region for each stage, and the union's welfare decomposition by stage: which part of the
# gain is allocative efficiency, which is terms of trade.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
cge.plot.ev(comp, ax=left)
cge.plot.decomposition(comp, ax=right)
OUT.mkdir(parents=True, exist_ok=True)
fig.savefig(OUT / "ladder.png", dpi=80, bbox_inches="tight")

# %% [markdown]
# Trade creation and diversion in the free trade area, by sector.

# %%
fta = comp.results[comp.labels.index("fta")]
ax = cge.plot.trade_effects(fta)
ax.figure.savefig(OUT / "fta-trade.png", dpi=80, bbox_inches="tight")

# %% [markdown]
# Every result as one long table: a row per value, with its unit. Filter it like any DataFrame.

# %%
df = comp.to_frame()
ev = df[(df.variable == "ev") & (df.member == True)]  # noqa: E712 (a nullable boolean column)
print(ev.pivot(index="region", columns="stage", values="value")[comp.labels].round(1))
print(f"{len(df)} rows; columns: {', '.join(df.columns)}; EV in {ev.unit.iloc[0]}")
df.to_parquet(OUT / "ladder.parquet")
