"""Fuzz campaign (issue 18): bad inputs of every kind, generated, run through the command line.

Each case must end with exit status 2, no traceback, one message naming the place (file, key, line
or column) and nothing written.  The cases run in-process through click's runner (the command
line's own code, without a new interpreter per case); a few run as real processes at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from cge.cli import cli

ROOT = Path(__file__).resolve().parents[1]
FTA = {"name": "fz", "union": {"name": "U", "members": ["USA", "CAN"]}, "stage": "fta"}

#: bad numbers: a boolean, text, non-finite, absurd, negative
BAD_NUMBERS = [True, "x", float("inf"), float("nan"), 1e308, -5.0]
#: numeric keys of the shocks: (kind, key, extra keys the shock needs)
SHOCK_NUMBERS = [
    ("tariff", "set", {}),
    ("tariff", "scale", {}),
    ("trade_cost", "set", {}),
    ("trade_cost", "scale", {}),
    ("endowment", "scale", {"factor": "all"}),
    ("output_tax", "set", {}),
    ("export_tax", "scale", {}),
]


def _shock_cases():
    """Each numeric key of each shock with three bad values (rotating through BAD_NUMBERS)."""
    out = []
    for k, (kind, key, extra) in enumerate(SHOCK_NUMBERS):
        for j in range(3):
            value = BAD_NUMBERS[(k + 2 * j) % len(BAD_NUMBERS)]
            body = {**FTA, "shocks": [{kind: {**extra, key: value}}]}
            out.append((f"{kind}.{key}={value!r}", body, f"shocks[0].{kind}.{key}"))
    return out


MODEL_CASES = [
    ("esubd=true", {"model": {"esubd": True}}, "model.esubd"),
    ("esubd=text", {"model": {"esubd": "fast"}}, "model.esubd"),
    ("esubm=nan", {"model": {"esubm": {"AGR": float("nan")}}}, "model.esubm"),
    ("esubfd<0", {"model": {"esubfd": -1.0}}, "model.esubfd"),
    ("taxes=text", {"model": {"taxes": "yes"}}, "model.taxes"),
    ("numeraire", {"model": {"closure": {"numeraire": {"utility_price": "usa"}}}}, "did you mean 'USA'"),
]

SOLVER_CASES = [
    ("max_iter=text", {"max_iter": "x"}, "solver.max_iter"),
    ("max_iter=-1", {"max_iter": -1}, "solver.max_iter"),
    ("max_iter=0", {"max_iter": 0}, "solver.max_iter"),
    ("max_iter=true", {"max_iter": True}, "solver.max_iter"),
    ("tol=text", {"tol": "x"}, "solver.tol"),
    ("tol=nan", {"tol": float("nan")}, "solver.tol"),
    ("tol=1e308", {"tol": 1e308}, "solver.tol"),
    ("name=bogus", {"name": "bogus"}, "solver.name"),
    ("unknown", {"max_iterations": 5}, "solver.max_iterations: unknown solver option"),
]

SCENARIO_CASES = [
    ("stage=FTA", {**FTA, "stage": "FTA"}, "did you mean 'fta'"),
    ("member=chn", {**FTA, "union": {"members": ["chn", "USA"]}}, "did you mean 'CHN'"),
    ("name=300", {"name": "n" * 300}, "name"),
    ("name=path", {"name": "../x"}, "name"),
    ("description=list", {**FTA, "description": [1, 2]}, "description"),
    ("union=text", {**FTA, "union": "NAFTA"}, "union"),
    ("shocks=map", {**FTA, "shocks": {"tariff": {"set": 0}}}, "shocks"),
    ("tariff 1e6", {**FTA, "shocks": [{"tariff": {"set": 1e6}}]}, "shocks[0].tariff.set"),
    ("scaled past max", {**FTA, "shocks": [{"trade_cost": {"scale": 90}}, {"trade_cost": {"scale": 90}}]}, "shocks[1]"),
]


def _yaml(body) -> bytes:
    return yaml.safe_dump(body, sort_keys=False).encode()


#: broken files: (id, bytes, the place named)
FILE_CASES = [
    ("binary", bytes(range(256)) * 8, "s.yaml"),
    ("utf16", "name: x\n".encode("utf-16"), "UTF-16"),
    ("latin1", b"name: fz\ndescription: caf\xe9\n", "line 2"),
    ("deep-lists", b"name: x\nd: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nest"),
    ("deep-maps", b"name: x\n" + b"".join(b"  " * k + b"k:\n" for k in range(60)), "nest"),
    ("alias-bomb", b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n", "aliases"),
    ("tag", b"name: !!python/name:os.system x\n", "tags"),
    ("duplicate", b"name: a\nname: b\n", "given twice"),
    ("huge", b"name: x\ndescription: " + b"y" * (2 << 20) + b"\n", "larger than"),
    ("empty", b"", "mapping"),
    ("top-list", b"- name: x\n", "mapping"),
    ("bad-yaml", b"name: [x\n", "line"),
]

#: tariff files: (id, text of t.csv, the place named)
CSV = "sector,source,dest,rate\n"
CSV_CASES = [
    ("short-row", CSV + "AGR,USA\n", "line 2: 2 field(s)"),
    ("latin1", (CSV + "AGR,USA,CAN,0.1 \xe9\n").encode("latin-1"), "line 2"),
    ("huge-field", CSV + "AGR,USA,CAN," + "9" * 200_000 + "\n", "line 2"),
    ("binary", b"\x00\x01\x02" * 100, "NUL"),
    ("duplicate", CSV + "AGR,USA,CAN,0.1\nAGR,USA,CAN,0.2\n", "line 3: the route AGR,USA,CAN is given twice"),
    ("header", "sec,src,dst,r\nAGR,USA,CAN,0\n", "line 1"),
    ("rate-text", CSV + "AGR,USA,CAN,x\n", "line 2, column rate"),
    ("rate-inf", CSV + "AGR,USA,CAN,inf\n", "line 2, column rate"),
    ("rate-1e308", CSV + "AGR,USA,CAN,1e308\n", "line 2, column rate"),
    ("code", CSV + "AGR,USA,CNA,0\n", "line 2, column dest"),
]


@pytest.fixture(scope="module")
def bad_datasets(tmp_path_factory):
    """Benchmark files that must be refused: (id, path, the variable named)."""
    from cge.dataset.schema import load_dataset

    d = tmp_path_factory.mktemp("bad-data")
    ds = load_dataset("default")
    ds.attrs = {k: v for k, v in ds.attrs.items() if k not in ("file", "sha256")}
    out = []
    cases = {
        "trade-as-text": ds.assign(trade=ds["trade"].astype(str)),
        "scaled-1e300": ds.assign(**{v: ds[v] * 1e300 for v in ("trade", "intermediate", "final_demand")}),
        "nan": ds.assign(trade=ds["trade"].where(ds["trade"] < ds["trade"].max())),
    }
    for name, bad in cases.items():
        bad.to_netcdf(d / f"{name}.nc")
        out.append((name, d / f"{name}.nc", "trade"))
    (d / "junk.nc").write_bytes(b"\x89HDF not really")
    out.append(("junk", d / "junk.nc", "junk.nc"))
    return out


def run_cli(args, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args, catch_exceptions=True)
    finally:
        os.chdir(old)


def refused(result, place: str, folder: Path, before: set):
    """Exit 2, no traceback, the place named, nothing written."""
    text = result.output
    assert result.exit_code == 2, text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in text
    assert place in text, text
    assert len(text) < 2000, "the message is short (values truncated)"
    assert set(folder.rglob("*")) == before, "nothing written"


def _scenario(tmp_path, body) -> tuple[Path, set]:
    p = tmp_path / "s.yaml"
    p.write_bytes(body if isinstance(body, bytes) else _yaml(body))
    return p, set(tmp_path.rglob("*"))


CASES = _shock_cases() + [(i, {**FTA, **b}, p) for i, b, p in MODEL_CASES]
CASES += [(i, {**FTA, "solver": b}, p) for i, b, p in SOLVER_CASES] + SCENARIO_CASES


@pytest.mark.parametrize("body,place", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_scenario_values(tmp_path, body, place):
    path, before = _scenario(tmp_path, body)
    refused(run_cli(["run", str(path), "-q"], tmp_path), place, tmp_path, before)


@pytest.mark.parametrize("body,place", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_broken_scenario_files(tmp_path, body, place):
    path, before = _scenario(tmp_path, body)
    refused(run_cli(["run", str(path), "-q"], tmp_path), place, tmp_path, before)


@pytest.mark.parametrize("text,place", [c[1:] for c in CSV_CASES], ids=[c[0] for c in CSV_CASES])
def test_bad_tariff_files(tmp_path, text, place):
    (tmp_path / "t.csv").write_bytes(text if isinstance(text, bytes) else text.encode())
    path, before = _scenario(tmp_path, {**FTA, "shocks": [{"tariff": {"file": "t.csv"}}]})
    refused(run_cli(["run", str(path), "-q"], tmp_path), place, tmp_path, before)


@pytest.mark.parametrize("name", ["../outside.csv", "/etc/passwd", "sub/../../outside.csv"])
def test_tariff_files_outside_the_scenario_folder_are_not_read(tmp_path, name):
    (tmp_path / "outside.csv").write_text("secret-first-line\n")
    (tmp_path / "in").mkdir()
    path, before = _scenario(tmp_path / "in", {**FTA, "shocks": [{"tariff": {"file": name}}]})
    result = run_cli(["run", str(path), "-q"], tmp_path / "in")
    refused(result, "outside the scenario's folder", tmp_path / "in", before)
    assert "secret" not in result.output and "root:" not in result.output


def test_bad_datasets_are_refused_by_every_command(tmp_path, bad_datasets):
    path, before = _scenario(tmp_path, FTA)
    for _name, data, place in bad_datasets:
        for args in (["validate", str(data)], ["run", str(path), "--data", str(data), "-q"]):
            refused(run_cli(args, tmp_path), place, tmp_path, before)


def test_bad_command_lines(tmp_path):
    path, before = _scenario(tmp_path, FTA)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    before = set(tmp_path.rglob("*"))
    for args, place in [
        (["run", str(path), "--solver", "bogus"], "--solver"),
        (["run", str(path), "--steps", "-1"], "--steps"),
        (["run", str(path), "--out", str(tmp_path / "mine")], "'notes.txt'"),
        (["run", str(path), "--out", str(path)], "is a file"),
        (["run", str(tmp_path / "missing.yaml")], "missing.yaml"),
        (["report", str(tmp_path / "nowhere")], "nowhere"),
    ]:
        refused(run_cli(args, tmp_path), place, tmp_path, before)


def test_report_on_a_file_that_is_not_results(tmp_path):
    from cge.dataset.catalogue import builtin_path

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.nc").write_bytes(builtin_path("default").read_bytes())
    before = set(tmp_path.rglob("*"))
    refused(run_cli(["report", str(tmp_path / "r")], tmp_path), "not a cge results file", tmp_path, before)


def test_a_tariff_above_the_plausible_bound_warns(tmp_path):
    """Allowed but implausible: solved, with a warning naming the shock and the cell."""
    from cge.runs import run

    with pytest.warns(UserWarning, match=r"shocks\[0\]\.tariff: a tariff of 8 \(800%\) at \[sector=AGR"):
        res = run(
            {**FTA, "shocks": [{"tariff": {"sector": "AGR", "source": "USA", "dest": "CAN", "set": 8.0}}]}, steps=0
        )
    assert np.isfinite(res.dataset["ev"].values).all()


@pytest.mark.parametrize(
    "body,place",
    [(bytes(range(256)) * 8, "s.yaml"), ("name: x\nd: " + "[" * 3000 + "]" * 3000, "nest")],
    ids=["binary", "deep"],
)
def test_real_processes(tmp_path, body, place):
    """The installed entry point (python -m cge), as a user runs it."""
    path, before = _scenario(tmp_path, body if isinstance(body, bytes) else body.encode())
    out = subprocess.run([sys.executable, "-m", "cge", "run", str(path)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr and place in out.stderr, out.stderr
    assert set(tmp_path.rglob("*")) == before
