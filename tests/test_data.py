"""Dataset loading and validation (MODEL.md section 2): every refusal names the problem and the cells."""

import subprocess
import sys

import numpy as np
import pytest

import cge
from cge.dataset.schema import check_dataset


def cge_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cge.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def ds(small_dataset):
    return small_dataset


def test_synthetic_dataset_is_valid(ds):
    assert check_dataset(ds).ok


def test_default_dataset_loads_and_validates(default_dataset):
    d = default_dataset
    assert check_dataset(d).ok
    regions = set(map(str, d["region"].values))
    assert {"CHN", "JPN", "KOR", "USA", "CAN", "MEX", "ROW"} <= regions
    assert set(map(str, d["factor"].values)) == {"labour", "capital"}
    assert len(d.attrs["sha256"]) == 64
    assert "WIOD" in d.attrs["source"]


def test_unknown_dataset_name_suggests_nearest():
    with pytest.raises(cge.DataError, match=r"unknown dataset 'defualt'.*did you mean 'default'"):
        cge.load_dataset("defualt")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(cge.DataError, match="not found"):
        cge.load_dataset(tmp_path / "nope.nc")


def test_identity_break_names_the_worst_cell(ds):
    ds["final_demand"].loc[dict(sector="S2", region="R3")] += 5.0
    rep = check_dataset(ds)
    assert not rep.ok
    msg = " ".join(rep.problems)
    assert "identity 1" in msg and "sector=S2, region=R3" in msg and "5" in msg


def test_zero_profit_break_names_the_cell(ds):
    ds["factor_income"].loc[dict(factor="labour", sector="S1", region="R2")] *= 1.01
    msg = " ".join(check_dataset(ds).problems)
    assert "identity 2" in msg and "sector=S1, region=R2" in msg


def test_negative_flow_refused(ds):
    ds["trade"].loc[dict(sector="S1", source="R1", dest="R2")] = -1.0
    msg = " ".join(check_dataset(ds).problems)
    assert "trade: negative flows" in msg and "source=R1, dest=R2" in msg


def test_missing_variable_refused(ds):
    msg = " ".join(check_dataset(ds.drop_vars("esubm")).problems)
    assert "missing variable(s): esubm" in msg


def test_wrong_dimensions_refused(ds):
    bad = ds.assign(final_demand=ds["final_demand"].transpose("region", "sector"))
    msg = " ".join(check_dataset(bad).problems)
    assert "final_demand" in msg and "expected ('sector', 'region')" in msg


@pytest.mark.parametrize("value", [-0.5, 1000.0, np.nan])
def test_elasticity_out_of_range_refused(ds, value):
    ds["esubd"].loc[dict(sector="S2")] = value
    msg = " ".join(check_dataset(ds).problems)
    assert "esubd" in msg and "sector=S2" in msg


def test_bad_mobility_and_diagonal_tariff_refused(ds):
    ds["mobility"][:] = ["mobile", "sluggish"]
    ds["tariff"].loc[dict(sector="S1", source="R1", dest="R1")] = 0.1
    msg = " ".join(check_dataset(ds).problems)
    assert "sluggish" in msg and "diagonal" in msg


def test_cli_validate_ok_and_refusal(ds, tmp_path):
    good = tmp_path / "good.nc"
    ds.to_netcdf(good)
    out = cge_cli("validate", str(good))
    assert out.returncode == 0, out.stderr
    assert "ok" in out.stdout
    ds["final_demand"].loc[dict(sector="S1", region="R1")] *= 1.5
    bad = tmp_path / "bad.nc"
    ds.to_netcdf(bad)
    out = cge_cli("validate", str(bad))
    assert out.returncode == 2
    assert "identity 1" in out.stderr and "sector=S1, region=R1" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_validate_builtin_and_unknown():
    assert cge_cli("validate", "default").returncode == 0
    out = cge_cli("validate", "nosuch")
    assert out.returncode == 2 and "unknown dataset 'nosuch'" in out.stderr


def test_cli_validate_unreadable_file(tmp_path):
    junk = tmp_path / "junk.nc"
    junk.write_text("not netcdf")
    out = cge_cli("validate", str(junk))
    assert out.returncode == 2 and "cannot be read" in out.stderr


def test_cli_datasets_lists_default():
    out = cge_cli("datasets")
    assert out.returncode == 0
    assert "default" in out.stdout and "CHN" in out.stdout and "WIOD" in out.stdout
