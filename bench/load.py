"""Under load (issue 18): concurrent `cge run` processes, and one `cge compare` of many scenarios.

    python bench/load.py                      # 8 concurrent runs of east-asia-fta, a 20-scenario compare
    python bench/load.py --runs 4 --compare 10 --json load.json

The runs are started together, each a fresh process writing its own output folder; the compare
solves that many variants of the East Asian FTA (members and tariff cuts differ) on one model.
Each process is timed from start to exit: wall seconds, CPU seconds (user + system) and peak
resident memory (``ru_maxrss`` of the process and its children).  Every result is then checked:
exit 0, ``results.nc`` present with every region's EV finite, no temporary file left.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import typing
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "east-asia-fta.yaml"
MEMBERS = [["CHN", "JPN", "KOR"], ["CHN", "JPN"], ["JPN", "KOR"], ["CHN", "KOR"], ["CHN", "JPN", "KOR", "ASN"]]


def start(args: list[str]) -> tuple[subprocess.Popen, typing.IO[bytes]]:
    """A `cge` process, and the file its messages go to (a full pipe would stall it)."""
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "cge", *args], stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
    return proc, err


def finish(started: tuple[subprocess.Popen, typing.IO[bytes]], t0: float) -> dict:
    """Wait for a process: its exit code, wall and CPU seconds, peak memory (MB) and stderr."""
    proc, log = started
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.seek(0)
    err = log.read().decode(errors="replace")
    return {
        "exit": proc.returncode,
        "wall_s": round(time.perf_counter() - t0, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "stderr": err[-500:],
    }


def valid(folder: Path) -> bool:
    """A complete result: results.nc with a finite EV for every region, no temporary left."""
    import numpy as np
    import xarray as xr

    if not (folder / "results.nc").is_file() or list(folder.parent.rglob(".*.part")):
        return False
    with xr.open_dataset(folder / "results.nc") as res:
        return bool(np.isfinite(res["ev"].values).all()) and res.sizes["region"] > 0


def concurrent_runs(n: int, tmp: Path) -> list[dict]:
    t0 = time.perf_counter()
    procs = [start(["run", str(SCENARIO), "--out", str(tmp / f"run{k}"), "-q"]) for k in range(n)]
    out = [finish(p, t0) for p in procs]
    for k, o in enumerate(out):
        o["valid"] = o["exit"] == 0 and valid(tmp / f"run{k}")
    return out


def variants(n: int, folder: Path) -> list[Path]:
    """``n`` scenario files: the East Asian FTA with other members and internal tariff cuts."""
    base = yaml.safe_load(SCENARIO.read_text())
    paths = []
    for k in range(n):
        body = {
            **base,
            "name": f"v{k:02d}",
            "union": {"name": "U", "members": MEMBERS[k % len(MEMBERS)]},
            "stage": "pta",
            "stage_options": {"margin": round(0.2 + 0.8 * (k // len(MEMBERS)) / max(1, n // len(MEMBERS)), 3)},
        }
        path = folder / f"v{k:02d}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False))
        paths.append(path)
    return paths


def compare(n: int, tmp: Path) -> dict:
    paths = variants(n, tmp)
    t0 = time.perf_counter()
    out = finish(start(["compare", *map(str, paths), "--out", str(tmp / "cmp"), "-q"]), t0)
    folders = [tmp / "cmp" / p.stem for p in paths]
    out["valid"] = out["exit"] == 0 and all(valid(f) for f in folders)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=8, help="concurrent cge run processes")
    ap.add_argument("--compare", type=int, default=20, help="scenarios in the cge compare")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cge-load-") as tmp:
        runs = concurrent_runs(args.runs, Path(tmp))
        cmp = compare(args.compare, Path(tmp))
    for name, rows in ((f"{args.runs} concurrent runs", runs), (f"compare of {args.compare}", [cmp])):
        ok = sum(r["valid"] for r in rows)
        print(
            f"{name}: {ok}/{len(rows)} valid; wall {max(r['wall_s'] for r in rows):.1f} s; "
            f"CPU {sum(r['cpu_s'] for r in rows):.1f} s; peak memory per process "
            f"{min(r['peak_mb'] for r in rows):.0f}-{max(r['peak_mb'] for r in rows):.0f} MB"
        )
        for r in rows:
            if not r["valid"]:
                print(f"  failed (exit {r['exit']}): {r['stderr']}")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "compare": cmp}, indent=1))
    return 0 if all(r["valid"] for r in [*runs, cmp]) else 1


if __name__ == "__main__":
    sys.exit(main())
