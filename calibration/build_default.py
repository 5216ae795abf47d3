#!/usr/bin/env python3
"""Build the package's embedded default benchmark, cge/dataset/builtin/default.nc.

A thin wrapper kept for compatibility: the recipe is now ``calibration/default.yaml`` and the code is
in ``cge/dataset`` (see calibration/README.md).  Equivalent to

    cge build-dataset calibration/default.yaml --out cge/dataset/builtin/default.nc

Run from anywhere:  python calibration/build_default.py [--wiod DIR] [--cp DIR] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cge.dataset import build_dataset  # noqa: E402
from cge.errors import CGEError  # noqa: E402

RECIPE = REPO / "calibration" / "default.yaml"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wiod", type=Path, help="folder with the WIOD 2013 CSV files (default: ../shared/data/wiod2013)")
    ap.add_argument("--cp", type=Path, help="folder with the Caliendo-Parro files (default: ../shared/data/cp1993)")
    ap.add_argument(
        "--out",
        type=Path,
        default=REPO / "cge" / "dataset" / "builtin" / "default.nc",
        help="output file (default: cge/dataset/builtin/default.nc in the repo)",
    )
    a = ap.parse_args(argv)
    overrides = {}
    if a.wiod:
        overrides["source.dir"] = str(a.wiod.resolve())
    if a.cp:
        overrides["tariffs.dir"] = str(a.cp.resolve())
    try:
        ds, report = build_dataset(RECIPE, a.out, overrides=overrides or None)
    except CGEError as exc:
        print(f"build_default: ERROR: {exc}", file=sys.stderr)
        return exc.exit_code
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
