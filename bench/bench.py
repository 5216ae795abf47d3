#!/usr/bin/env python
"""Benchmarks of growing size for issue 6 (performance at scale).

    python bench/bench.py                        # quick sizes: default, 20x20
    python bench/bench.py --sizes default,wiod2011
    python bench/bench.py --all --json bench/results.json   # every size, up to GTAP 141x65
    python bench/bench.py --sizes 30x25          # any synthetic RxN (bench/gtap_like.py)

Each size runs in a fresh subprocess (so peak memory is per size) that times separately:
import (process start to ``import cge`` done), data (load a built-in dataset, or generate a
synthetic one and check it), build (``cge.Model(ds)``), first solve (an FTA among three regions:
their mutual tariffs set to 0; ``steps=1``), warm re-solve on the same model (those tariffs halved
instead; ``steps=1``), write (``Results.to_netcdf``) and read back (``xarray.open_dataset`` +
``load``).  Solver-only seconds come from ``Results.info["solve_seconds"]``.  Peak memory is the
child's maximum resident set size (``wait4`` rusage, which also covers a child killed at the
timeout).  With ``default`` among the sizes, ``cge run scenarios/east-asia-fta.yaml`` is also timed
end to end (process start to exit), with ``--steps 1`` and with the default steps.

Only the public API is used (``cge.load_dataset``, ``cge.check_dataset``, ``cge.Model``,
``Model.solve``, ``cge.Instruments.benchmark``, ``Results.to_netcdf``), so the script survives
rewrites of the model and solver modules.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: name -> (kind, argument): built-in dataset name, or synthetic (regions, sectors)
SIZES = {
    "default": ("builtin", "default"),
    "20x20": ("synthetic", (20, 20)),
    "wiod2011": ("builtin", "wiod2011"),
    "60x50": ("synthetic", (60, 50)),
    "gtap": ("synthetic", (141, 65)),
}
QUICK = ["default", "20x20"]
FTA = ("CHN", "JPN", "KOR")  # the FTA members where the dataset has them

# issue 6 targets
E2E_LIMIT = 3.0  # s, default dataset, cge run, process start to exit
WIOD_LIMIT = 30.0  # s, wiod2011 build + first solve
WIOD_MEM = 2 * 1024  # MB
RESOLVE_RATIO = 0.25  # re-solve / first solve
GTAP_LIMIT = 600.0  # s, gtap one scenario end to end
GTAP_MEM = 16 * 1024  # MB
OUTSIDE_RATIO = 0.5  # (build + write + read) / solver seconds
OK_STATUS = (None, "optimal", "converged")


def size_spec(name: str):
    if name in SIZES:
        return SIZES[name]
    if "x" in name:
        try:
            r, n = (int(p) for p in name.split("x"))
            return ("synthetic", (r, n))
        except ValueError:
            pass
    raise SystemExit(f"unknown size {name!r}: one of {', '.join(SIZES)} or RxN (e.g. 30x25)")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ============================================================================ child
def child(size: str, progress: str, t_launch: float, seed: int) -> int:
    """Run one size; after every phase, rewrite the ``progress`` JSON file."""
    out: dict = {"size": size, "phase": "import", "seconds": {}, "peak_mb": {}}

    def save(phase_done: str | None = None, **kw):
        out.update(kw)
        if phase_done:
            out["peak_mb"][phase_done] = round(rss_mb(), 1)
        tmp = progress + ".part"
        with open(tmp, "w") as fh:
            json.dump(out, fh, indent=1, default=float)
        os.replace(tmp, progress)

    def phase(name, seconds):
        out["seconds"][name] = round(seconds, 4)
        save(name)

    try:
        import numpy as np
        import xarray as xr

        import cge

        phase("import", time.time() - t_launch)
        out["cge"] = f"{cge.__version__} from {Path(cge.__file__).parent}"

        kind, arg = size_spec(size)
        out["phase"] = "data"
        t = time.perf_counter()
        if kind == "builtin":
            ds = cge.load_dataset(arg)
        else:
            sys.path.insert(0, str(HERE))
            from gtap_like import make_gtap_like

            ds = make_gtap_like(*arg, seed=seed)
            rep = cge.check_dataset(ds)
            if not rep.ok:
                raise RuntimeError(rep.message(ds.attrs.get("name", size)))
        phase("data", time.perf_counter() - t)
        out["regions"], out["sectors"] = int(ds.sizes["region"]), int(ds.sizes["sector"])
        out["factors"] = int(ds.sizes["factor"])
        trade = ds["trade"].values
        out["nonzero_routes"] = int((trade[:, ~np.eye(trade.shape[1], dtype=bool)] > 0).sum())

        out["phase"] = "build"
        t = time.perf_counter()
        model = cge.Model(ds)
        phase("build", time.perf_counter() - t)
        out["unknowns"] = out["equations"] = model.core.n_unknowns  # a square system
        save()

        # the shocks: an FTA among three regions, then (re-solve) their tariffs halved instead
        regions = [str(r) for r in ds["region"].values]
        if all(m in regions for m in FTA):
            members = list(FTA)
        else:  # the three largest economies (benchmark income)
            inc = ds["final_demand"].sum("sector").values
            members = [regions[k] for k in sorted(np.argsort(-inc)[:3])]
        out["members"] = members
        idx = [regions.index(m) for m in members]
        bench = cge.Instruments.benchmark(model.bench)
        inner = np.zeros(bench.tariff.shape, dtype=bool)
        for a in idx:
            for b in idx:
                if a != b:
                    inner[:, a, b] = True
        fta = bench.copy()
        fta.tariff[inner] = 0.0
        half = bench.copy()
        half.tariff[inner] *= 0.5

        from cge.solve import linear

        def solve(label, ins):
            out["phase"] = label
            save()
            counts = dict(linear.COUNTS)
            t = time.perf_counter()
            res = model.solve(ins, steps=1)
            wall = time.perf_counter() - t
            krylov = {k: v - counts[k] for k, v in linear.COUNTS.items()}
            attrs = res.dataset.attrs
            solver_s = res.info.get("solve_seconds", attrs.get("solver_seconds"))
            ev = res.dataset["ev_pct"].values
            out[label] = {
                "wall": round(wall, 4),
                "solver": None if solver_s is None else round(float(solver_s), 4),
                "status": attrs.get("solver_status"),
                "iterations": attrs.get("solver_iterations"),
                "max_residual": attrs.get("max_residual"),
                "walras_residual_relative": attrs.get("walras_residual_relative"),
                "ev_pct_members": [round(float(ev[k]), 6) for k in idx],
                "max_abs_ev_pct": float(np.max(np.abs(ev))),
                # the newton route: reading the model file (first solve), factorisations and their time
                **{
                    k: v
                    for k, v in res.info["solve"].options.items()
                    if k in ("factorisations", "factorise_seconds", "read_seconds")
                },
                # the Krylov route's linear algebra alone (cge.solve.linear.COUNTS)
                "krylov": {k: round(v, 4) for k, v in krylov.items()}
                if krylov["factorisations"] + krylov["solves"]
                else None,
            }
            phase(label, wall)
            return res

        res1 = solve("solve", fta)
        solve("resolve", half)

        out["phase"] = "write"
        with tempfile.TemporaryDirectory(prefix="cge-bench-") as tmpdir:
            path = Path(tmpdir) / "results.nc"
            t = time.perf_counter()
            res1.to_netcdf(path)
            phase("write", time.perf_counter() - t)
            out["results_mb"] = round(path.stat().st_size / 2**20, 2)
            out["phase"] = "read"
            t = time.perf_counter()
            with xr.open_dataset(path) as handle:
                back = handle.load()
            phase("read", time.perf_counter() - t)
            out["read_variables"] = len(back.data_vars)
        save(phase="done")
        return 0
    except BaseException as exc:  # record where it failed; the parent reports it
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc(limit=6)
        save()
        return 1


# ============================================================================ parent
def run_process(cmd, timeout, cwd=None, env=None, log=None):
    """Run ``cmd`` in its own session; return (wall s, exit status or None on timeout, peak MB)."""
    t0 = time.time()
    with open(log or os.devnull, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.time() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)  # the child's own process group
                pid, status, ru = os.wait4(proc.pid, 0)
                proc.returncode = -9
                return time.time() - t0, None, ru.ru_maxrss / 1024.0
            time.sleep(0.02)
    wall = time.time() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, proc.returncode, ru.ru_maxrss / 1024.0


def run_size(size, timeout, seed, workdir):
    progress = str(Path(workdir) / f"{size}.json")
    log = str(Path(workdir) / f"{size}.log")
    t_launch = time.time()
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        size,
        "--progress",
        progress,
        "--t-launch",
        repr(t_launch),
        "--seed",
        str(seed),
    ]
    wall, code, peak = run_process(cmd, timeout, cwd=workdir, log=log)
    try:
        rec = json.loads(Path(progress).read_text())
    except (OSError, ValueError):
        rec = {"size": size, "seconds": {}, "phase": "start"}
    rec["process_wall"] = round(wall, 3)
    rec["peak_mb_total"] = round(peak, 1)
    if code is None:
        rec["error"] = f"timeout after {timeout:g} s (in phase {rec.get('phase')})"
    elif code != 0 and "error" not in rec:
        rec["error"] = f"exit status {code}: " + Path(log).read_text()[-800:]
    return rec


def cge_command() -> list[str]:
    """The installed ``cge`` entry point next to this interpreter (no pyenv shim), else PATH."""
    here = Path(sys.executable).parent / "cge"
    if here.exists():
        return [str(here)]
    found = shutil.which("cge")
    return [found] if found else [sys.executable, "-c", "from cge.cli import main; main()"]


def run_e2e(steps, timeout, workdir):
    out = Path(workdir) / f"e2e-steps{steps or 'default'}"
    cmd = cge_command() + ["run", str(ROOT / "scenarios" / "east-asia-fta.yaml"), "--out", str(out), "-q"]
    if steps is not None:
        cmd += ["--steps", str(steps)]
    wall, code, peak = run_process(cmd, timeout, cwd=workdir, log=str(out) + ".log")
    rec = {
        "command": " ".join(cmd[-7:] if len(cmd) > 7 else cmd),
        "steps": steps,
        "wall": round(wall, 3),
        "exit": code,
        "peak_mb": round(peak, 1),
        "written": (out / "results.nc").exists(),
    }
    if code != 0:
        rec["error"] = "timeout" if code is None else Path(str(out) + ".log").read_text()[-800:]
    return rec


def machine() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")]
        info["cpu"] = cpu[0] if cpu else "?"
        mem = [l for l in open("/proc/meminfo") if l.startswith("MemTotal")]
        info["mem_gib"] = round(int(mem[0].split()[1]) / 2**20, 1)
        info["affinity_cpus"] = len(os.sched_getaffinity(0))
    except OSError:
        pass
    try:
        info["git"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
        ).stdout.split("\n")
        info["git_modified"] = [l[3:] for l in dirty if l.strip()]
    except OSError:
        pass
    return info


# ---------------------------------------------------------------------------- report
def fmt(x, nd=2):
    if x is None:
        return "-"
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return f"{x:,}"
    return f"{x:.{nd}f}"


def table(records) -> str:
    head = [
        "size",
        "RxN",
        "unknowns",
        "import s",
        "data s",
        "build s",
        "solve s (solver)",
        "re-solve s (solver)",
        "write s",
        "read s",
        "peak MB",
        "status",
    ]
    rows = [head]
    for r in records:
        s = r.get("seconds", {})
        sol, res = r.get("solve") or {}, r.get("resolve") or {}

        def both(d):
            if not d:
                return "-"
            return f"{fmt(d.get('wall'))} ({fmt(d.get('solver'))})"

        status = "ok"
        if r.get("error"):
            status = r["error"].split("\n")[0][:60]
        elif sol.get("status") not in OK_STATUS or res.get("status") not in OK_STATUS:
            status = f"solver: {sol.get('status')}/{res.get('status')}"
        rows.append(
            [
                r["size"],
                f"{r.get('regions', '?')}x{r.get('sectors', '?')}",
                fmt(r.get("unknowns")),
                fmt(s.get("import")),
                fmt(s.get("data")),
                fmt(s.get("build")),
                both(sol),
                both(res),
                fmt(s.get("write")),
                fmt(s.get("read")),
                fmt(r.get("peak_mb_total"), 0),
                status,
            ]
        )
    widths = [max(len(str(row[k])) for row in rows) for k in range(len(head))]
    line = lambda row: "  ".join(
        str(c).rjust(w) if k not in (0, len(head) - 1) else str(c).ljust(w) for k, (c, w) in enumerate(zip(row, widths))
    )
    return "\n".join([line(rows[0]), "-" * len(line(rows[0]))] + [line(r) for r in rows[1:]])


def krylov_lines(records) -> list[str]:
    """Per size and solve: the blocks' factorisations and their seconds, GMRES solves, iterations
    and seconds (the rest of a solve is evaluating residuals and Jacobians)."""
    out = []
    for r in records:
        for label in ("solve", "resolve"):
            k = (r.get(label) or {}).get("krylov")
            if k:
                out.append(
                    f"  {r['size']:<9} {label:<7}  {k['factorisations']} factorisations"
                    f" {fmt(k['factorise_seconds'])} s,"
                    f"  {k['solves']} GMRES solves, {k['iterations']} iterations {fmt(k['solve_seconds'])} s"
                )
    return out


def verdict(ok):
    return "n/a " if ok is None else ("PASS" if ok else "MISS")


def targets(records, e2e) -> list[dict]:
    by = {r["size"]: r for r in records}
    out = []

    def add(name, ok, figure):
        out.append({"target": name, "result": verdict(ok).strip(), "measured": figure})

    def done(r):
        return r is not None and not r.get("error") and "read" in r.get("seconds", {})

    for rec in e2e:
        label = "default steps" if rec["steps"] is None else f"--steps {rec['steps']}"
        ok = rec["wall"] < E2E_LIMIT if rec["exit"] == 0 else False
        add(
            f"default: cge run end to end ({label}) < {E2E_LIMIT:g} s",
            ok,
            f"{rec['wall']:.2f} s, {rec['peak_mb']:.0f} MB"
            + ("" if rec["exit"] == 0 else f" (failed: {rec.get('error', '')[:60]})"),
        )
    if not e2e:
        add(f"default: cge run end to end < {E2E_LIMIT:g} s", None, "not run (needs size default)")

    w = by.get("wiod2011")
    if w is None:
        add(f"wiod2011: build + first solve < {WIOD_LIMIT:g} s", None, "not run")
        add(f"wiod2011: peak memory < {WIOD_MEM / 1024:g} GB", None, "not run")
    else:
        s = w.get("seconds", {})
        if "solve" in s:
            bs = s["build"] + s["solve"]
            add(
                f"wiod2011: build + first solve < {WIOD_LIMIT:g} s",
                bs < WIOD_LIMIT,
                f"{bs:.1f} s (build {s['build']:.1f} + solve {s['solve']:.1f}, of which solver "
                f"{fmt((w.get('solve') or {}).get('solver'), 1)})",
            )
        else:
            add(f"wiod2011: build + first solve < {WIOD_LIMIT:g} s", False, w.get("error", "did not finish"))
        add(
            f"wiod2011: peak memory < {WIOD_MEM / 1024:g} GB",
            w["peak_mb_total"] < WIOD_MEM,
            f"{w['peak_mb_total']:.0f} MB",
        )

    for r in records:
        sol, res = r.get("solve"), r.get("resolve")
        name = f"{r['size']}: re-solve <= {RESOLVE_RATIO:.0%} of first solve"
        if sol and res:
            ratio = res["wall"] / sol["wall"]
            ipopt = (
                f"; solver only {res['solver']:.2f}/{sol['solver']:.2f} s = {res['solver'] / sol['solver']:.0%}"
                if sol.get("solver") and res.get("solver") is not None
                else ""
            )
            add(name, ratio <= RESOLVE_RATIO, f"{ratio:.0%} ({res['wall']:.2f}/{sol['wall']:.2f} s wall{ipopt})")
        else:
            add(name, False if r.get("error") else None, r.get("error", "not run")[:80])

    g = by.get("gtap")
    if g is None:
        add(f"gtap 141x65: one scenario < {GTAP_LIMIT / 60:g} min", None, "not run (use --all or --sizes gtap)")
        add(f"gtap 141x65: peak memory < {GTAP_MEM / 1024:g} GB", None, "not run")
    else:
        s = g.get("seconds", {})
        if "write" in s:
            tot = sum(s[k] for k in ("import", "data", "build", "solve", "write"))
            add(
                f"gtap 141x65: one scenario < {GTAP_LIMIT / 60:g} min",
                tot < GTAP_LIMIT,
                f"{tot:.0f} s (import+generate+build+solve+write; build {s['build']:.0f}, solve {s['solve']:.0f})",
            )
        else:
            add(f"gtap 141x65: one scenario < {GTAP_LIMIT / 60:g} min", False, g.get("error", "did not finish"))
        add(
            f"gtap 141x65: peak memory < {GTAP_MEM / 1024:g} GB",
            g["peak_mb_total"] < GTAP_MEM,
            f"{g['peak_mb_total']:.0f} MB",
        )

    for r in records:
        name = f"{r['size']}: build+write+read <= {OUTSIDE_RATIO:g} x solver time"
        s, sol = r.get("seconds", {}), r.get("solve") or {}
        if done(r) and sol.get("solver"):
            outside = s["build"] + s["write"] + s["read"]
            other = sol["wall"] - sol["solver"]
            add(
                name,
                outside <= OUTSIDE_RATIO * sol["solver"],
                f"{outside:.2f} s vs solver {sol['solver']:.2f} s = {outside / sol['solver']:.2f}x "
                f"(solve() outside the solver: {other:.2f} s more)",
            )
        else:
            add(name, False if r.get("error") else None, r.get("error", "not run")[:80])
    return out


def warnings(records) -> list[str]:
    out = []
    for r in records:
        for label in ("solve", "resolve"):
            d = r.get(label)
            if d and d.get("max_abs_ev_pct") == 0.0:
                out.append(
                    f"{r['size']} {label}: every EV% is exactly 0 after a tariff change "
                    f"(status {d.get('status')}): the solution did not move; check the model"
                )
            if d and d.get("status") not in OK_STATUS:
                out.append(f"{r['size']} {label}: solver status {d.get('status')}")
        if r.get("unknowns") is None and r.get("unknowns_error"):
            out.append(f"{r['size']}: unknowns not counted ({r['unknowns_error']})")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", help=f"comma-separated sizes: {', '.join(SIZES)} or RxN (default: {','.join(QUICK)})")
    ap.add_argument("--all", action="store_true", help="every size, including 60x50 and gtap (141x65)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per size (default 900)")
    ap.add_argument("--json", metavar="PATH", help="also write every figure to this JSON file")
    ap.add_argument("--seed", type=int, default=0, help="seed of the synthetic datasets")
    ap.add_argument("--no-e2e", action="store_true", help="skip the `cge run` end-to-end timing")
    ap.add_argument("--keep", metavar="DIR", help="keep the children's logs and progress files here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--progress", help=argparse.SUPPRESS)
    ap.add_argument("--t-launch", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        return child(args.child, args.progress, args.t_launch or time.time(), args.seed)

    sizes = list(SIZES) if args.all else (args.sizes.split(",") if args.sizes else QUICK)
    sizes = [s.strip() for s in sizes if s.strip()]
    for s in sizes:
        size_spec(s)
    info = machine()
    print(
        f"machine: {info.get('cpu', '?')}, {info.get('cpus')} cpus ({info.get('affinity_cpus', '?')} usable), "
        f"{info.get('mem_gib', '?')} GiB; Python {info['python']}; git {info.get('git', '?')}"
        + (f" (modified: {', '.join(info['git_modified'])})" if info.get("git_modified") else ""),
        flush=True,
    )
    workdir = args.keep or tempfile.mkdtemp(prefix="cge-bench-")
    Path(workdir).mkdir(parents=True, exist_ok=True)
    records, e2e = [], []
    try:
        for s in sizes:
            print(f"running {s} (timeout {args.timeout:g} s) ...", file=sys.stderr, flush=True)
            rec = run_size(s, args.timeout, args.seed, workdir)
            records.append(rec)
            print(
                f"  {s}: {rec['process_wall']:.1f} s"
                + (f", {rec['error'].splitlines()[0]}" if rec.get("error") else ""),
                file=sys.stderr,
                flush=True,
            )
        if "default" in sizes and not args.no_e2e:
            for steps in (1, None):
                print(
                    f"running cge run end to end ({'--steps 1' if steps else 'default steps'}) ...",
                    file=sys.stderr,
                    flush=True,
                )
                e2e.append(run_e2e(steps, args.timeout, workdir))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    codes = sorted({r["cge"] for r in records if r.get("cge")})
    if codes:
        print("cge " + "; ".join(codes))
    print(table(records))
    print(
        "solve columns: wall seconds of Model.solve(..., steps=1) (seconds in cge.solve.solve); "
        "peak MB: the size's process"
    )
    krylov = krylov_lines(records)
    if krylov:
        print("\nlinear algebra of the Krylov route (cge.solve.linear; GMRES preconditioned by the regions' blocks):")
        print("\n".join(krylov))
    tg = targets(records, e2e)
    print("\ntargets (issue 6):")
    w = max(len(t["target"]) for t in tg)
    for t in tg:
        print(f"  {t['result']:<4}  {t['target']:<{w}}  {t['measured']}")
    warn = warnings(records)
    for r in records:
        if r.get("traceback"):
            warn.append(f"{r['size']} failed:\n{r['traceback']}")
    if warn:
        print("\nwarnings:")
        for x in warn:
            print("  " + x)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(
            json.dumps(
                {"machine": info, "sizes": records, "end_to_end": e2e, "targets": tg, "warnings": warn},
                indent=1,
                default=str,
            )
        )
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
