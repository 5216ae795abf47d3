"""Running a batch of draws: serially in this process, or on Dask (a local cluster or a scheduler address)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import xarray as xr

from cge.errors import InputError

from .worker import Outcome, Task, solve_draw


class Progress:
    """The draws done: a bar with the time remaining on a terminal (cge/progress.py), else a line
    every 10% with the time remaining estimated from the pace so far."""

    def __init__(self, total: int, enabled: bool):
        from cge.progress import bar

        self.total, self.done, self.failed = total, 0, 0
        self.enabled = enabled
        self.bar = bar(total, "draws", enabled=enabled)
        self.t0 = time.perf_counter()
        self._last = -1

    def say(self, msg: str) -> None:
        if self.enabled:
            from cge.progress import say

            say(msg)

    def update(self, ok: bool):
        self.done += 1
        self.failed += 0 if ok else 1
        if not self.enabled:
            return
        if not self.bar.disable:
            self.bar.update()
            if self.failed:
                self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            if self.done == self.total:
                self.bar.close()
            return
        pct = int(100 * self.done / self.total)
        if pct // 10 != self._last or self.done == self.total:
            self._last = pct // 10
            elapsed = time.perf_counter() - self.t0
            left = elapsed / self.done * (self.total - self.done)
            print(
                f"draws {self.done}/{self.total}"
                + (f", {self.failed} failed" if self.failed else "")
                + f", {elapsed:.1f} s elapsed, about {left:.0f} s remaining",
                file=sys.stderr,
                flush=True,
            )


def run_serial(tasks: list[Task], progress: Progress) -> list[Outcome]:
    out = []
    for t in tasks:
        o = solve_draw(t)
        progress.update(o.ok)
        out.append(o)
    return out


def run_dask(tasks: list[Task], scheduler: str | None, workers: int | None, progress: Progress, data) -> list[Outcome]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover
        raise InputError(
            "dask.distributed is not installed: pip install 'dask[distributed]', or use scheduler='serial'"
        ) from None
    import logging

    cluster = None
    if scheduler in (None, "local"):
        n = int(workers or os.cpu_count() or 1)
        progress.say(f"starting a local Dask cluster of {n} worker process(es) (a few seconds) ...")
        # the cluster's own logs are silenced: a failed draw or a lost worker is reported below, and an
        # interrupted run's workers must not print their shutdown errors (issue 18)
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.CRITICAL
        )
        client = Client(cluster)
    else:
        progress.say(f"connecting to the Dask scheduler at {scheduler} ...")
        try:
            client = Client(scheduler, timeout="20s")
        except Exception as exc:
            raise InputError(f"scheduler: cannot connect to the Dask scheduler at {scheduler!r} ({exc})") from None
    try:
        shared = None
        if isinstance(data, xr.Dataset):  # ship the benchmark once to every worker
            shared = client.scatter(data, broadcast=True)
            tasks = [Task(**{**t.__dict__, "data": None}) for t in tasks]
        import uuid

        batch = uuid.uuid4().hex[:12]  # task keys unique to this batch on a shared cluster
        futures = {
            client.submit(solve_draw, t, shared, key=f"cge-ssa-{batch}-draw-{t.index}", pure=False): t for t in tasks
        }
        out = {}
        for fut in as_completed(futures):
            t = futures[fut]
            try:
                o = fut.result()
            except Exception as exc:  # a worker died: the draw failed, the batch goes on
                o = Outcome(t.index, False, f"worker failure: {type(exc).__name__}: {exc}", None, 0.0)
            out[o.index] = o
            progress.update(o.ok)
        return [out[t.index] for t in tasks]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def data_key(data) -> str:
    from dask.base import tokenize

    if isinstance(data, xr.Dataset):
        return tokenize(data)
    p = Path(str(data))
    if p.is_file():
        st = p.stat()
        return tokenize(str(p.resolve()), st.st_size, st.st_mtime_ns)
    return tokenize(str(data))
