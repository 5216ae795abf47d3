"""Draws per minute of a sensitivity analysis, serial versus a local Dask cluster (issue 7).

    python bench/ssa_bench.py                          # East Asian FTA, quadrature over esubd, esubm, esubva
    python bench/ssa_bench.py --workers 4 --steps 6 --parameters esubd,esubm

Runs the same batch (Stroud quadrature, 2 x parameters draws) in this process (``serial``) and on
a ``LocalCluster`` of processes, and prints draws per minute for each: wall time from the call to
the Dataset returned, so the cluster's start-up (spawning workers, importing, building the model
once per worker) is included, and so is the model build of the serial run. It also checks that both
batches give the same numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "east-asia-fta.yaml"))
    ap.add_argument("--parameters", default="esubd,esubm,esubva")
    ap.add_argument("--method", default="quadrature")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args(argv)

    from cge.sensitivity import sensitivity

    common = dict(parameters=args.parameters, method=args.method, n=args.n, steps=args.steps, progress=False)
    rows = {}
    for label, kw in (
        ("serial", dict(scheduler="serial")),
        (f"local cluster ({args.workers} workers)", dict(scheduler="local", workers=args.workers)),
    ):
        from cge import ssa

        ssa._MODELS.clear()  # serial: count the model build too
        t0 = time.perf_counter()
        ds = sensitivity(args.scenario, **common, **kw)
        wall = time.perf_counter() - t0
        n = ds.sizes["draw"]
        ok = int((ds["status"].values == "ok").sum())
        rows[label] = {
            "draws": n,
            "ok": ok,
            "seconds": round(wall, 2),
            "draws_per_minute": round(60 * n / wall, 1),
            "ds": ds,
        }
        print(f"{label:<28} {n} draws ({ok} ok) in {wall:6.1f} s: {60 * n / wall:6.1f} draws/min", flush=True)
    (a, b) = [r["ds"] for r in rows.values()]
    same = all(np.array_equal(a[v].values, b[v].values, equal_nan=True) for v in a.data_vars if a[v].dtype.kind == "f")
    print(f"same numbers serial and on the cluster: {same}")
    print(
        f"machine: {os.cpu_count()} cores; scenario {Path(args.scenario).name}, {args.method}, "
        f"parameters {args.parameters}, steps {args.steps}"
    )
    if args.json:
        out = {k: {kk: vv for kk, vv in v.items() if kk != "ds"} for k, v in rows.items()}
        out["same_numbers"] = same
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
