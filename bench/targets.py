#!/usr/bin/env python
"""The speed targets of issue 15, each beside the same case solved by IPOPT in the same run.

    python bench/targets.py                    # default and wiod2011 FTA, Newton and IPOPT
    python bench/targets.py --china            # also the three China ladders
    python bench/targets.py --gtap             # also GTAP size (synthetic 141x65; Newton only)
    python bench/targets.py --no-ipopt         # Newton only (quick)

Every case is a fresh process: ``cge run`` from process start to exit (results written), timed
as wall seconds, CPU seconds (user + system, of the process and its children) and peak memory
(``wait4``).  The machine is shared, so a wall time can be several times the CPU time; the same
case solved by IPOPT (``--solver cyipopt``) in the same run gives a ratio that holds on a noisy
machine.  The load average is printed before and after.  GTAP size runs ``bench/bench.py``'s
child (build, an FTA among the three largest regions, a re-solve halving those tariffs instead,
write) and is compared with the targets only (IPOPT takes hours there).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench  # noqa: E402  (bench/bench.py: run_process, run_size)

FTA = str(ROOT / "scenarios" / "east-asia-fta.yaml")
CHINA = ("china-yangtze-river-delta", "china-jing-jin-ji", "china-chengdu-chongqing")
#: case -> (cge run arguments, wall-seconds target, peak-MB target or None)
CASES = {
    "default east-asia-fta": ([FTA], 1.5, None),
    "wiod2011 east-asia-fta": ([FTA, "--data", "wiod2011"], 6.0, 1024),
    **{f"{name} ladder": ([str(ROOT / "scenarios" / f"{name}.yaml")], 10.0, None) for name in CHINA},
}
GTAP_SECONDS, GTAP_MB, GTAP_RESOLVE = 60.0, 3 * 1024, 3.0


def run_cge(args: list[str], solver: str, workdir: str, timeout: float) -> dict:
    """One ``cge run`` process: wall and CPU seconds, peak MB, exit status."""
    out = Path(workdir) / f"out-{abs(hash((tuple(args), solver)))}"
    cmd = [sys.executable, "-m", "cge", "run", *args, "--out", str(out), "-q", "--solver", solver]
    cpu0 = os.times()
    wall, code, peak = bench.run_process(cmd, timeout, cwd=str(ROOT), log=str(out) + ".log")
    cpu1 = os.times()
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    rec = {"wall": wall, "cpu": cpu, "peak_mb": peak, "exit": code}
    if code != 0:
        rec["error"] = "timeout" if code is None else Path(str(out) + ".log").read_text()[-300:].strip()
    shutil.rmtree(out, ignore_errors=True)
    return rec


def verdict(ok: bool | None) -> str:
    return "n/a " if ok is None else ("PASS" if ok else "MISS")


def figure(rec: dict | None) -> str:
    if rec is None:
        return "-"
    if rec.get("exit") != 0:
        return f"failed ({rec.get('error', '')[:40]})"
    return f"{rec['wall']:6.2f} s wall, {rec['cpu']:6.2f} s CPU, {rec['peak_mb']:5.0f} MB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--china", action="store_true", help="also the China ladders")
    ap.add_argument("--gtap", action="store_true", help="also GTAP size (synthetic 141x65)")
    ap.add_argument("--no-ipopt", action="store_true", help="skip the IPOPT runs")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per process (default 1800)")
    args = ap.parse_args(argv)

    info = bench.machine()
    print(
        f"machine: {info.get('cpu', '?')}, {info.get('cpus')} cpus, {info.get('mem_gib', '?')} GiB; "
        f"git {info.get('git', '?')}; load average before: {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    cases = [c for c in CASES if args.china or "ladder" not in c]
    rows = []
    workdir = tempfile.mkdtemp(prefix="cge-targets-")
    try:
        for case in cases:
            run_args, seconds, mb = CASES[case]
            print(f"  {case} ...", file=sys.stderr, flush=True)
            newton = run_cge(run_args, "newton", workdir, args.timeout)
            ipopt = None if args.no_ipopt else run_cge(run_args, "cyipopt", workdir, args.timeout)
            ok = newton["exit"] == 0 and newton["wall"] < seconds and (mb is None or newton["peak_mb"] < mb)
            target = f"< {seconds:g} s" + (f", < {mb / 1024:g} GB" if mb else "")
            ratio = f"{newton['cpu'] / ipopt['cpu']:.2f}" if ipopt and ipopt["exit"] == 0 else "-"
            rows.append((verdict(ok), case, target, figure(newton), figure(ipopt), ratio))
        if args.gtap:
            print("  gtap 141x65 ...", file=sys.stderr, flush=True)
            rows.extend(gtap_rows(args.timeout, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}\n")
    head = ("", "case", "target", "newton (cge run, end to end)", "IPOPT, same case", "CPU newton/IPOPT")
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    return 0


def gtap_rows(timeout: float, workdir: str) -> list[tuple]:
    rec = bench.run_size("gtap", timeout, 0, workdir)
    s = rec.get("seconds", {})
    if rec.get("error") or "write" not in s:
        fail = ("MISS", "gtap 141x65", "", f"failed: {rec.get('error', '?')[:60]}", "not run", "-")
        return [fail]
    total = sum(s[k] for k in ("import", "data", "build", "solve", "write"))
    detail = f"(build {s['build']:.0f} s, solve {s['solve']:.0f} s)"
    resolve = float(rec["resolve"]["wall"])
    return [
        (
            verdict(total < GTAP_SECONDS and rec["peak_mb_total"] < GTAP_MB),
            "gtap 141x65 one scenario",
            f"< {GTAP_SECONDS:g} s, < {GTAP_MB / 1024:g} GB",
            f"{total:.1f} s wall, {rec['peak_mb_total']:.0f} MB {detail}",
            "not run (hours)",
            "-",
        ),
        (verdict(resolve < GTAP_RESOLVE), "gtap 141x65 re-solve", f"< {GTAP_RESOLVE:g} s", f"{resolve:.2f} s", "", "-"),
    ]


if __name__ == "__main__":
    t0 = time.time()
    code = main()
    print(f"\n(benchmark took {time.time() - t0:.0f} s)")
    sys.exit(code)
