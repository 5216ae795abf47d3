"""`cge run` end to end, and its exit codes: 0 ok, 2 bad input (named), 1 failure to solve."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import cge
from tests.support.synthetic import make_dataset

#: solves many models or builds datasets: left out of the quick selection (-m 'not slow')
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
INTERFACE_VARS = [
    "ev",
    "ev_pct",
    "income",
    "utility",
    "price",
    "output",
    "trade_quantity",
    "factor_price",
    "tariff_revenue",
    "walras_residual",
]


def cge_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cge.cli", *args], capture_output=True, text=True, cwd=cwd or ROOT)


def write(tmp_path, body, name="s.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(body, sort_keys=False) if isinstance(body, dict) else body)
    return p


def beside(folder, syn_file) -> str:
    """The dataset copied beside a scenario in ``folder`` (a scenario reads data only from its folder)."""
    shutil.copy(syn_file, folder / "syn.nc")
    return "syn.nc"


@pytest.fixture(scope="module")
def syn_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("data") / "syn.nc"
    make_dataset(n_regions=4, n_sectors=3, seed=1).to_netcdf(p)
    return p


def test_run_shipped_scenario_writes_results(tmp_path):
    out = cge_cli("run", "scenarios/east-asia-fta.yaml", "--out", str(tmp_path / "o"))
    assert out.returncode == 0, out.stderr
    assert "EV%" in out.stdout and "CHN" in out.stdout and "CJK" in out.stdout
    path = tmp_path / "o" / "results.nc"
    with xr.open_dataset(path) as res:
        for v in INTERFACE_VARS:
            assert v in res, v
        assert res["trade_quantity"].dims == ("sector", "source", "dest")
        assert res.attrs["dataset"] == "default" and len(res.attrs["dataset_sha256"]) == 64
        assert "fta" in res.attrs["scenario_yaml"]
        assert res.attrs["closure"] == "core"
        # the printed EV% is the stored one
        chn = float(res["ev_pct"].sel(region="CHN"))
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("CHN"))
    assert abs(float(line.split()[-2]) - chn) < 1e-4
    assert not [f for f in os.listdir(tmp_path / "o") if f.endswith(".part")]


def test_run_default_output_folder_and_data_override(tmp_path, syn_file):
    sc = write(
        tmp_path,
        {"name": "syn-cut", "data": "does-not-matter", "shocks": [{"tariff": {"sector": "all", "scale": 0.5}}]},
    )
    out = cge_cli("run", str(sc), "--data", str(syn_file), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "results" / "syn-cut" / "results.nc").exists()


def test_python_api_matches_cli(tmp_path):
    res = cge.run(ROOT / "scenarios" / "east-asia-fta.yaml")
    out = cge_cli("run", "scenarios/east-asia-fta.yaml", "--out", str(tmp_path), "-q")
    with xr.open_dataset(tmp_path / "results.nc") as disk:
        np.testing.assert_allclose(disk["ev"], res.dataset["ev"], rtol=1e-9)
    assert out.returncode == 0


BAD = [
    ({"name": "x", "colour": "red"}, "colour: unknown key"),
    ({"name": "x", "stage": "fta2"}, "unknown stage 'fta2'"),
    (
        {"name": "x", "union": {"members": ["CHN", "JPX"]}, "stage": "fta"},
        "unknown region code 'JPX' (did you mean 'JPN'?)",
    ),
    (
        {"name": "x", "shocks": [{"tariff": {"sector": ["AGRI"], "set": 0}}]},
        "shocks[0].tariff.sector: unknown sector code 'AGRI' (did you mean 'AGR'?)",
    ),
    (
        {"name": "x", "shocks": [{"tariff": {"source": ["USA"], "set": 0, "scale": 2}}]},
        "exactly one of 'set', 'scale' or 'file'",
    ),
    ({"name": "x", "shocks": [{"tariff": {"set": -1.5}}]}, "shocks[0].tariff.set"),
    ({"name": "x", "shocks": [{"trade_cost": {"scale": -1}}]}, "shocks[0].trade_cost.scale"),
    (
        {"name": "x", "shocks": [{"endowment": {"factor": "capitl", "scale": 1.1}}]},
        "unknown factor code 'capitl' (did you mean 'capital'?)",
    ),
    ({"name": "x", "shocks": [{"subsidy": {}}]}, "shocks[0].subsidy: unknown key"),
    ({"name": "x", "shocks": [{"tariff": {"file": "missing.csv"}}]}, "cannot read tariff file"),
    ({"name": "x y"}, "name"),
    ({"description": "no name"}, "name: required"),
]


@pytest.mark.parametrize("body,expect", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_scenarios_exit_2_with_a_named_message(tmp_path, body, expect):
    sc = write(tmp_path, body)
    out = cge_cli("run", str(sc), "--out", str(tmp_path / "o"))
    assert out.returncode == 2, out.stdout + out.stderr
    assert expect in out.stderr, out.stderr
    assert str(sc) in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "o").exists()


def test_not_yaml_and_missing_file_exit_2(tmp_path):
    sc = write(tmp_path, "name: [unclosed")
    out = cge_cli("run", str(sc))
    assert out.returncode == 2 and "not valid YAML" in out.stderr
    out = cge_cli("run", str(tmp_path / "nope.yaml"))
    assert out.returncode == 2 and "nope.yaml" in out.stderr


def test_tariff_table_from_csv(tmp_path, syn_file):
    (tmp_path / "t.csv").write_text("sector,source,dest,rate\nS1,R1,R2,0.0\nS2,R3,R1,0.4\n")
    sc = write(tmp_path, {"name": "csv", "data": beside(tmp_path, syn_file), "shocks": [{"tariff": {"file": "t.csv"}}]})
    res = cge.run(sc)
    t = res.dataset["tariff_rate"]
    assert float(t.sel(sector="S1", source="R1", dest="R2")) == 0.0
    assert float(t.sel(sector="S2", source="R3", dest="R1")) == 0.4
    (tmp_path / "t.csv").write_text("sector,source,dest,rate\nS1,R1,R9,0.0\n")
    out = cge_cli("run", str(sc))
    assert out.returncode == 2 and "t.csv, line 2, column dest: unknown region code 'R9'" in out.stderr


def test_shock_semantics(syn_file, tmp_path):
    ds = cge.load_dataset(syn_file)
    sc = cge.Scenario.from_dict(
        {
            "name": "s",
            "data": str(syn_file),
            "shocks": [
                {"tariff": {"sector": ["S2"], "source": ["R1"], "scale": 0.5}},
                {"trade_cost": {"source": ["R2"], "dest": ["R3"], "scale": 0.9}},
                {"endowment": {"factor": "capital", "region": ["R4"], "scale": 1.1}},
            ],
        }
    )
    from cge.model.benchmark import benchmark

    b = benchmark(ds)
    ins = sc.instruments(b)
    t0 = ds["tariff"].values
    expect = t0.copy()
    expect[1, 0, :] *= 0.5
    np.testing.assert_allclose(ins.tariff, expect)
    assert ins.tau[:, 1, 2].tolist() == [0.9] * 3 and ins.tau.sum() == pytest.approx(ins.tau.size - 0.3)
    assert np.all(ins.endowment[1, :, 3] == 1.1) and (ins.endowment == 1.1).sum() == 3


def test_failure_to_solve_exits_1_with_diagnosis(tmp_path, syn_file):
    sc = write(
        tmp_path,
        {
            "name": "x",
            "data": beside(tmp_path, syn_file),
            "solver": {"max_iter": 1},
            "shocks": [{"trade_cost": {"scale": 3.0}}],
        },
    )
    out = cge_cli("run", str(sc), "--out", str(tmp_path / "o"))
    assert out.returncode == 1, out.stderr
    assert "did not converge" in out.stderr and "residual" in out.stderr
    assert not (tmp_path / "o" / "results.nc").exists()


def test_fallback_false_in_a_scenario_refuses_ipopt(tmp_path, syn_file):
    # the README's `solver: {fallback: false}`: Newton's method stopped after one step, no IPOPT
    data = beside(tmp_path, syn_file)
    shocks = [{"trade_cost": {"scale": 3.0}}]
    sc = write(tmp_path, {"name": "x", "data": data, "solver": {"max_iter": 1, "fallback": False}, "shocks": shocks})
    out = cge_cli("run", str(sc), "--out", str(tmp_path / "o"), "--solver", "newton")
    assert out.returncode == 1, out.stderr
    assert "the fallback to IPOPT is off" in out.stderr
    assert not (tmp_path / "o" / "results.nc").exists()


def test_missing_solver_is_a_clear_error(tmp_path, syn_file, monkeypatch):
    sc = write(tmp_path, {"name": "x", "data": beside(tmp_path, syn_file)})
    env = dict(os.environ, PATH="/nonexistent")
    out = subprocess.run(
        [sys.executable, "-m", "cge.cli", "run", str(sc), "--solver", "ipopt"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert out.returncode == 1
    assert "solver 'ipopt' is not available" in out.stderr and "scripts/setup.sh" in out.stderr
