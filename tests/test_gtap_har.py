"""A GTAP database in HAR format (issue 16): the test writes a small one with harpy3 from a known
benchmark (GTAP's headers: domestic and imported purchases by agent, imports at world and market
prices, endowments, parameters in a separate file), builds it with a recipe and gets the benchmark
back; a missing header is named."""

import numpy as np
import pytest

from cge.dataset.build import build_dataset
from cge.errors import InputError
from tests.support.synthetic import make_dataset

harpy = pytest.importorskip("harpy", reason="harpy3 (a dependency) reads HAR files")
#: harpy3 (2018) writes with numpy's deprecated chararray
pytestmark = pytest.mark.filterwarnings("ignore:`np.chararray` is deprecated:DeprecationWarning")


def header(name, array, sets):
    """A real (or, without sets, a string) header with its set elements."""
    dims = [{"name": n, "status": "k", "dim_type": "Set", "dim_desc": list(e)} for n, e in sets]
    values = np.asarray(array) if not dims else np.asarray(array, dtype=np.float32)  # HAR: single precision
    return harpy.HeaderArrayObj.HeaderArrayFromData(name, values, sets=dims or None)


def write_gtap(ds, folder, drop=()):
    """basedata.har and default.prm holding ``ds`` the way GTAP stores a database."""
    comm, reg, endw = (list(map(str, ds[d].values)) for d in ("sector", "region", "factor"))
    prod = [*comm, "CGDS"]
    trade, t = ds["trade"].values, ds["tariff"].values
    nr = len(reg)
    diag = np.arange(nr)
    domestic = trade[:, diag, diag]
    off = ~np.eye(nr, dtype=bool)[None]
    imports = np.where(off, trade * (1 + t), 0).sum(axis=1)
    dom = domestic / (domestic + imports)  # the composite's domestic share (i, r)
    inter, final = ds["intermediate"].values, ds["final_demand"].values
    agents = {"P": 0.7, "G": 0.2, "I": 0.1}  # households, government, investment (the CGDS column)
    vdfm = np.concatenate([inter * dom[:, None], (agents["I"] * final * dom)[:, None]], axis=1)
    vifm = np.concatenate([inter * (1 - dom[:, None]), (agents["I"] * final * (1 - dom))[:, None]], axis=1)
    vfm = np.concatenate([ds["factor_income"].values, np.zeros((len(endw), 1, nr))], axis=1)
    CPR, CR = [("COMM", comm), ("PROD_COMM", prod), ("REG", reg)], [("COMM", comm), ("REG", reg)]
    CRR = [("COMM", comm), ("REG", reg), ("REG", reg)]
    base = [
        header("VDFM", vdfm, CPR),
        header("VIFM", vifm, CPR),
        header("VDPM", agents["P"] * final * dom, CR),
        header("VIPM", agents["P"] * final * (1 - dom), CR),
        header("VDGM", agents["G"] * final * dom, CR),
        header("VIGM", agents["G"] * final * (1 - dom), CR),
        header("VIWS", np.where(off, trade, 0), CRR),
        header("VIMS", np.where(off, trade * (1 + t), 0), CRR),
        header("VFM", vfm, [("ENDW_COMM", endw), ("PROD_COMM", prod), ("REG", reg)]),
        header("POP", ds["population"].values, [("REG", reg)]),
        header("H1", np.array(reg), []),
    ]
    params = [
        header("ESBD", ds["esubd"].values, [("COMM", comm)]),
        header("ESBM", ds["esubm"].values, [("COMM", comm)]),
        header("ESBV", np.append(ds["esubva"].values, 0.0), [("PROD_COMM", prod)]),
    ]
    for name, heads in (("basedata.har", base), ("default.prm", params)):
        har = harpy.HarFileObj()
        har.addHeaderArrayObjs([h for h in heads if h["name"].strip() not in drop])
        har.writeToDisk(str(folder / name))
    recipe = folder / "gtap.yaml"
    recipe.write_text(
        "name: tiny-gtap\nsource: {kind: gtap_har, path: basedata.har, parameters: default.prm, year: 2014,\n"
        "         mobility: {capital: specific}}\nbalance: {method: refuse}\n"
    )
    return recipe


def test_a_gtap_database_gives_back_its_benchmark(tmp_path):
    original = make_dataset(n_regions=3, n_sectors=2, seed=4)
    built, _ = build_dataset(write_gtap(original, tmp_path), tmp_path / "tiny.nc")
    for name in ("trade", "tariff", "intermediate", "final_demand", "factor_income", "esubd", "esubva", "population"):
        # HAR files hold single precision
        np.testing.assert_allclose(built[name].values, original[name].values, rtol=2e-6, atol=1e-5, err_msg=name)
    assert list(built["mobility"].values) == ["mobile", "specific"]
    assert built.attrs["year"] == 2014 and built.attrs["units"] == "million USD"
    assert "basedata.har" in built.attrs["source_sha256"] and "default.prm" in built.attrs["source_sha256"]


def test_a_missing_header_is_named(tmp_path):
    recipe = write_gtap(make_dataset(n_regions=3, n_sectors=2, seed=4), tmp_path, drop=("VIMS",))
    with pytest.raises(InputError, match="GTAP header\\(s\\) VIMS missing"):
        build_dataset(recipe)
