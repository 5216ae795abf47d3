"""Faults (issue 18): real signals at any point, killed runs, concurrent runs, a full disk, a
read-only folder, an unwritable cache.  Never a hang, never a half-written or mixed output, never
damage to an earlier run's results; leftovers of killed runs are cleaned by the next run.

The mount tests need root and tmpfs; they skip with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr
import yaml

from cge.io import OUTPUT_NAMES
from tests.support.synthetic import make_dataset

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """A small scenario on a synthetic dataset, and a folder holding its complete results."""
    d = tmp_path_factory.mktemp("faults")
    make_dataset(n_regions=4, n_sectors=3, seed=1).to_netcdf(d / "syn.nc")
    sc = d / "s.yaml"
    sc.write_text(yaml.safe_dump({"name": "s", "data": "syn.nc", "union": {"members": ["R1", "R2"]}, "stage": "fta"}))
    out = cge("run", str(sc), "--out", str(d / "earlier"), "-q")
    assert out.returncode == 0, out.stderr
    return d, sc


def cge(*args, **kw):
    return subprocess.run([sys.executable, "-m", "cge", *args], capture_output=True, text=True, cwd=ROOT, env=ENV, **kw)


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "cge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".*.part")]


@pytest.mark.parametrize(
    "sig,when",
    [
        (signal.SIGINT, None),  # while the command line loads
        (signal.SIGTERM, "building the model"),
        (signal.SIGKILL, "step 1/3"),
        (signal.SIGINT, "step 3/3"),  # about to write
    ],
)
def test_a_signal_at_any_point_leaves_earlier_results_intact(case, tmp_path, sig, when):
    d, sc = case
    folder = tmp_path / "o"
    shutil.copytree(d / "earlier", folder)
    before = (folder / "results.nc").read_bytes()
    proc = start("run", str(sc), "--out", str(folder), "--steps", "3")
    assert proc.stderr is not None
    if when is None:
        time.sleep(0.2)
    else:
        for line in proc.stderr:
            if when in line:
                break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)  # never a hang
    assert "Traceback" not in err
    if proc.returncode == 0:  # finished before the signal: a complete new result
        with xr.open_dataset(folder / "results.nc") as res:
            assert "ev" in res
    else:
        assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[sig], err
        assert (folder / "results.nc").read_bytes() == before
        if sig != signal.SIGKILL:
            assert "interrupted" in err and not leftovers(tmp_path)


DRIVER = """
import sys, numpy as np, xarray as xr
from cge.io import write_netcdf
ds = xr.Dataset({"x": (("a", "b"), np.random.default_rng(0).random((2000, 1500)))})
print("writing", flush=True)
write_netcdf(ds, sys.argv[1])
print("written", flush=True)
"""


def test_sigint_while_a_netcdf_file_is_written_never_hangs(tmp_path):
    """The signal is held until the file is in place (an interrupt inside the netCDF library left
    its lock held and hung the process); the file is then complete, and no temporary is left."""
    for delay in (0.02, 0.2):
        target = tmp_path / f"x{delay}.nc"
        proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(target)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=ENV,
        )
        assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode != 0 or b"written" in out  # the interrupt ended it, or came after the write
        if target.exists():
            with xr.open_dataset(target) as ds:
                assert ds["x"].shape == (2000, 1500)
        assert not leftovers(tmp_path)


def test_leftovers_of_killed_runs_are_cleaned_by_the_next_run(case, tmp_path):
    d, sc = case
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folder = tmp_path / "o"
    shutil.copytree(d / "earlier", folder)
    (tmp_path / f".o.{dead.pid}.abcd.part").mkdir()
    (folder / f".results.nc.{dead.pid}.abcd.part").write_bytes(b"half")
    alive = tmp_path / f".o.{os.getpid()}.beef.part"  # a run still going: left alone
    alive.mkdir()
    out = cge("run", str(sc), "--out", str(folder), "-q", "--steps", "1")
    assert out.returncode == 0, out.stderr
    assert leftovers(tmp_path) == [alive.name]


def test_two_runs_into_one_folder_end_with_one_complete_result(case, tmp_path):
    d, sc = case
    other = d / "t.yaml"
    other.write_text(sc.read_text().replace("name: s", "name: t"))
    folder = tmp_path / "o"
    procs = [start("run", str(p), "--out", str(folder), "-q", "--steps", "1") for p in (sc, other)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert "results.nc" in os.listdir(folder) and set(os.listdir(folder)) <= OUTPUT_NAMES
    assert not leftovers(tmp_path)
    with xr.open_dataset(folder / "results.nc") as res:
        assert res.attrs["scenario"] in ("s", "t") and "ev" in res


def test_compare_interrupted_leaves_the_earlier_comparison_whole(case, tmp_path):
    d, sc = case
    folder = tmp_path / "o"
    other = d / "u.yaml"
    other.write_text(sc.read_text().replace("name: s", "name: u").replace("fta", "customs_union"))
    assert cge("compare", str(sc), str(other), "--out", str(folder), "-q", "--steps", "1").returncode == 0
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    proc = start("compare", str(other), str(sc), "--out", str(folder), "--steps", "2")
    assert proc.stderr is not None
    seen = 0
    for line in proc.stderr:  # the second scenario: the first one's results are made, not written
        seen += "solving" in line
        if seen == 2:
            break
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    if proc.returncode == 130:
        assert after == before
    else:  # finished first: all new, nothing of the earlier comparison mixed in
        assert proc.returncode == 0 and set(after) == set(before)
    assert not leftovers(tmp_path)


def _marked(mark: str) -> list[int]:
    """The processes still running with ``CGE_FAULT_MARK=mark`` in their environment."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if f"CGE_FAULT_MARK={mark}".encode() in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                out.append(int(pid))
        except OSError:
            continue
    return out


@pytest.mark.parametrize(
    "sig,when",
    [
        (signal.SIGINT, "starting a local Dask cluster"),
        (signal.SIGTERM, "draws 60/"),
        (signal.SIGTERM, "draws 200/"),  # the last draw in: about to write
        (signal.SIGINT, "draws 200/"),
    ],
)
def test_sensitivity_on_dask_interrupted(case, tmp_path, sig, when):
    """`cge sensitivity` on a local Dask cluster of 2 workers, interrupted: exit 130 or 143, no
    traceback (not the workers' either), no hang, no worker left running, nothing half-written, and
    the earlier results in the folder untouched."""
    d, sc = case
    folder = tmp_path / "o"
    out = cge("sensitivity", str(sc), "--scheduler", "serial", "--parameters", "esubd*", "--out", str(folder), "-q")
    assert out.returncode == 0, out.stderr
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    mark = f"{os.getpid()}-{tmp_path.name}"
    args = ["sensitivity", str(sc), "--workers", "2", "--method", "montecarlo", "--n", "200", "--out", str(folder)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "cge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**ENV, "CGE_FAULT_MARK": mark},
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if when in line:
            break
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=90)  # never a hang
    assert "Traceback" not in err and "Error" not in err, err
    assert proc.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], err
    assert "interrupted" in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert not leftovers(tmp_path)
    deadline = time.time() + 20
    while _marked(mark) and time.time() < deadline:  # the workers end with the cluster
        time.sleep(0.5)
    assert _marked(mark) == []


def test_unwritable_cache_falls_back_to_a_temporary_folder(tmp_path):
    """The ASL reader is compiled into the user's cache on first use; if that cannot be written
    (here: $XDG_CACHE_HOME under a file), it goes to a folder of the user's in $TMPDIR."""
    src = tmp_path / "src" / "cge_asl.c"
    src.parent.mkdir()
    shutil.copy(ROOT / "cge" / "solve" / "_asl" / "cge_asl.c", src)
    (tmp_path / "file").write_text("")
    code = (
        "from pathlib import Path\nfrom cge.solve import newton\n"
        f"newton._SOURCE = Path({str(src)!r})\nprint(newton.build_library())"
    )
    env = {**ENV, "XDG_CACHE_HOME": str(tmp_path / "file" / "cache"), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).parent == tmp_path / "tmp" / f"cge-{os.getuid()}"
    assert Path(out.stdout.strip()).is_file()


@pytest.fixture
def mount(tmp_path):
    """A tiny tmpfs mounted at tmp_path/m (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    point = tmp_path / "m"
    point.mkdir()

    def do(options):
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.decode().strip()}")
        return point

    yield do
    subprocess.run(["umount", str(point)], capture_output=True)


def test_a_full_disk_is_a_clear_error_and_leaves_no_partial_file(case, mount):
    d, sc = case
    point = mount("size=24k")
    out = cge("run", str(sc), "--out", str(point / "o"), "-q", "--steps", "1", "--report")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "no space left" in out.stderr and str(point / "o") in out.stderr
    assert list(point.iterdir()) == []


def test_a_read_only_folder_is_a_clear_error(case, mount):
    d, sc = case
    point = mount("size=1m,ro")
    out = cge("run", str(sc), "--out", str(point / "o"), "-q", "--steps", "1")
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    assert "read-only" in out.stderr and str(point / "o") in out.stderr
