"""Calibration recipes (cge.dataset): schema, maps, balancing, sources, built-in datasets."""

from pathlib import Path

import numpy as np
import pytest

import cge
from cge.dataset import build_dataset, build_from_iosystem, cli_build, load_recipe
from cge.dataset.recipe import RecipeError
from cge.dataset.schema import builtin_names, check_dataset, identity_gaps, load_dataset
from tests.support.rebuild import rebuild

#: solves many models or builds datasets: left out of the quick selection (-m 'not slow')
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "data"
HAVE_WIOD = (RAW / "wiod2013" / "wiot_2011_flows.csv.gz").exists() and (
    RAW / "wiod2013" / "wiot_2000_flows.csv.gz"
).exists()
HAVE_CP = (RAW / "cp1993" / "tariffs2005.txt").exists() and (RAW / "cp1993" / "tariffs1993.txt").exists()
need_wiod = pytest.mark.skipif(
    not (HAVE_WIOD and HAVE_CP), reason=f"raw WIOD 2013 / Caliendo-Parro data not found under {RAW}"
)

# ------------------------------------------------------------------------------ a small CSV table
# 2 regions (A, B) x 2 sectors (x, y); final demand HH and INV.  Rows: sales; value added given.
FLOWS = """row_region,row_sector,col_region,col_code,value
A,x,A,x,10
A,x,A,y,20
A,x,B,x,5
A,x,A,HH,50
A,x,B,HH,15
A,y,A,x,15
A,y,A,y,5
A,y,B,y,10
A,y,A,HH,60
A,y,A,INV,-2
B,x,B,x,8
B,x,B,y,12
B,x,A,x,6
B,x,B,HH,40
B,x,A,HH,4
B,y,B,y,6
B,y,B,x,9
B,y,A,y,7
B,y,B,HH,45
B,y,B,INV,3
"""


def _rowsums():
    import io

    import pandas as pd

    f = pd.read_csv(io.StringIO(FLOWS))
    rows = f.groupby(["row_region", "row_sector"]).value.sum()
    cols = f[f.col_code.isin(["x", "y"])].groupby(["col_region", "col_code"]).value.sum()
    return rows, cols


def write_table(d: Path, va_error: dict | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "flows.csv").write_text(FLOWS)
    rows, cols = _rowsums()
    lines = ["region,sector,value"]
    for (r, s), x in rows.items():
        va = x - cols[(r, s)] + (va_error or {}).get(f"{r}.{s}", 0.0)
        lines.append(f"{r},{s},{va}")
    (d / "value_added.csv").write_text("\n".join(lines) + "\n")
    return d


def write_recipe(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


BASE = """name: small
source: {{kind: csv, dir: table, inventory_category: INV}}
regions: {regions}
sectors: {sectors}
factors: {{labour_share: 0.6}}
elasticities: {{esubd: 2.0, esubva: 1.0}}
balance: {balance}
"""


def recipe(tmp_path, regions="identity", sectors="identity", balance="{method: refuse}", extra="", va_error=None):
    write_table(tmp_path / "table", va_error)
    return write_recipe(tmp_path / "r.yaml", BASE.format(regions=regions, sectors=sectors, balance=balance) + extra)


def assert_identities(ds, rtol=1e-9):
    g1, t1, g2, t2 = identity_gaps(ds)
    assert np.max(np.abs(g1) / np.maximum(t1, 1)) < rtol
    assert np.max(np.abs(g2) / np.maximum(t2, 1)) < rtol


# ------------------------------------------------------------------------------ schema and maps
def test_balanced_csv_table_builds(tmp_path):
    ds, rep = build_dataset(recipe(tmp_path), tmp_path / "out.nc")
    assert check_dataset(ds).ok
    assert_identities(ds)
    back = load_dataset(tmp_path / "out.nc")
    assert list(back.region.values) == ["A", "B"] and list(back.sector.values) == ["x", "y"]
    assert back.attrs["name"] == "small" and len(back.attrs["recipe_sha256"]) == 64
    assert "flows.csv" in back.attrs["source_sha256"]
    assert "table identities hold" in str(rep)


def test_unknown_key_is_refused_with_file_and_key(tmp_path):
    p = recipe(tmp_path, extra="elasticites: {esubd: 1}\n")
    with pytest.raises(RecipeError, match=r"(?s)r\.yaml.*elasticites: unknown key.*did you mean 'elasticities'"):
        load_recipe(p)
    p = recipe(tmp_path, balance="{method: rass}")
    with pytest.raises(RecipeError, match=r"balance\.method"):
        load_recipe(p)


def test_unmapped_and_doubly_mapped_codes_are_named(tmp_path):
    p = recipe(tmp_path, regions="{groups: {AB: [A]}}")
    with pytest.raises(RecipeError, match=r"not mapped: B"):
        build_dataset(p)
    p = recipe(tmp_path, regions="{groups: {AB: [A, B], BB: [B]}}")
    with pytest.raises(RecipeError, match=r"mapped more than once: B \(to AB and BB\)"):
        build_dataset(p)
    p = recipe(tmp_path, sectors="{groups: {S: [x, y, z]}}")
    with pytest.raises(RecipeError, match=r"not in the source table: z"):
        build_dataset(p)
    # a CSV map with a code twice
    (tmp_path / "smap.csv").write_text("code,aggregate\nx,S\ny,S\nx,T\n")
    p = recipe(tmp_path, sectors="{file: smap.csv}")
    with pytest.raises(RecipeError, match=r"smap\.csv.*mapped more than once: x"):
        build_dataset(p)
    # a YAML key given twice is refused, never silently overwritten
    p = write_recipe(tmp_path / "dup.yaml", "name: a\nname: b\n")
    with pytest.raises(RecipeError, match=r"'name' given twice"):
        load_recipe(p)


def test_aggregation_keeps_totals(tmp_path):
    ds1, _ = build_dataset(recipe(tmp_path))
    ds2, _ = build_dataset(
        recipe(
            tmp_path,
            regions="{groups: {W: [A, B]}, order: [W]}".replace("W: [A, B]", "W: [A], V: [B]").replace(
                "order: [W]", "order: [V, W]"
            ),
        )
    )
    assert list(ds2.region.values) == ["V", "W"]
    ds3, _ = build_dataset(recipe(tmp_path, sectors="{groups: {S: [x, y]}}"))
    assert float(ds3.trade.sum()) == pytest.approx(float(ds1.trade.sum()), rel=1e-12)
    assert check_dataset(ds3).ok


# ------------------------------------------------------------------------------ balancing
ERR = {"A.x": 3.0, "B.y": -2.5}


def test_refuse_names_the_worst_cells(tmp_path):
    p = recipe(tmp_path, va_error=ERR)
    with pytest.raises(RecipeError) as exc:
        build_dataset(p)
    msg = str(exc.value)
    assert "breaks the identities" in msg and "(A,x)" in msg and "(B,y)" in msg
    assert "ras or least_squares" in msg


@pytest.mark.parametrize("method", ["ras", "least_squares"])
def test_balancing_converges_and_reports(tmp_path, method):
    p = recipe(tmp_path, va_error=ERR, balance=f"{{method: {method}, report_above: 0.01}}")
    out = tmp_path / "b.nc"
    ds, rep = build_dataset(p, out)
    assert check_dataset(ds).ok
    assert_identities(ds)
    assert rep.adjustments, "the report lists the adjusted cells"
    cells = " ".join(c for c, _, _ in rep.adjustments)
    assert "-> A.x" in cells and "-> B.y" in cells  # the two broken columns moved
    for _, before, after in rep.adjustments:
        assert abs(after - before) > 0.01 and np.sign(after) == np.sign(before)
    # value added equals the (wrong) source value added: the flows moved, not VA
    va = ds.factor_income.sum("factor")
    rows, cols = _rowsums()
    assert float(va.sel(sector="x", region="A")) == pytest.approx(rows[("A", "x")] - cols[("A", "x")] + 3.0, rel=1e-9)
    assert f"balanced with {method}" in ds.attrs["balancing"]
    # output kept at the row sums
    assert float(ds.trade.sel(sector="x", source="A").sum()) == pytest.approx(rows[("A", "x")], rel=1e-9)


def test_negative_cells_are_refused_or_moved_never_zeroed(tmp_path):
    flows = FLOWS.replace("A,x,B,HH,15", "A,x,B,HH,15\nA,x,B,INV,-1")
    write_table(tmp_path / "table")
    (tmp_path / "table" / "flows.csv").write_text(flows)
    p = write_recipe(
        tmp_path / "r.yaml",
        BASE.format(
            regions="identity",
            sectors="identity",
            balance="{method: ras, negatives: {cross_border_final_demand: refuse}}",
        ),
    )
    with pytest.raises(RecipeError, match=r"A\.x->B INV -1"):
        build_dataset(p)
    p = write_recipe(tmp_path / "r.yaml", BASE.format(regions="identity", sectors="identity", balance="{method: ras}"))
    ds, rep = build_dataset(p)
    assert "moved to the exporter's own final demand: A.x->B INV -1" in str(rep)
    assert check_dataset(ds).ok
    # a missing value is refused
    (tmp_path / "table" / "flows.csv").write_text(FLOWS.replace("A,y,B,y,10", "A,y,B,y,"))
    with pytest.raises(RecipeError, match=r"missing or non-numeric"):
        build_dataset(p)


def test_csv_tariffs_at_aggregate_codes(tmp_path):
    (tmp_path / "t.csv").write_text("sector,source,dest,rate\nx,A,B,0.1\ny,B,A,0.05\n")
    p = recipe(tmp_path, extra="tariffs: {kind: csv, file: t.csv, level: aggregate}\n", balance="{method: ras}")
    ds, _ = build_dataset(p)
    assert float(ds.tariff.sel(sector="x", source="A", dest="B")) == pytest.approx(0.1, rel=1e-12)
    assert float(ds.tariff.sel(sector="y", source="B", dest="A")) == pytest.approx(0.05, rel=1e-12)
    assert_identities(ds)
    (tmp_path / "t.csv").write_text("sector,source,dest,rate\nx,A,C,0.1\n")
    with pytest.raises(RecipeError, match=r"unknown dest code\(s\) \['C'\]"):
        build_dataset(p)


def test_cli_build(tmp_path, capsys):
    p = recipe(tmp_path, va_error=ERR, balance="{method: ras, report_above: 0.01}")
    assert cli_build(p, tmp_path / "o.nc", report=tmp_path / "adj.csv") == 0
    out = capsys.readouterr().out
    assert "balanced with ras" in out and "written to" in out
    assert (tmp_path / "adj.csv").read_text().startswith("cell,before,after")
    with pytest.raises(cge.InputError):
        cli_build(tmp_path / "missing.yaml", tmp_path / "o.nc")
    with pytest.raises(cge.InputError):
        cli_build(p, tmp_path / "o.txt")


# ------------------------------------------------------------------------------ pymrio
def _pymrio_recipe(method):
    return {
        "name": "pymrio-test",
        "source": {"kind": "pymrio"},
        "factors": {"labour_share": 0.6},
        "elasticities": {"esubd": 2.0, "esubva": 1.0},
        "balance": {"method": method},
    }


def test_pymrio_test_system():
    pymrio = pytest.importorskip("pymrio")
    io = pymrio.load_test()
    # the test MRIO's value added does not close its columns: refuse, naming cells ...
    with pytest.raises(RecipeError, match=r"column\(s\) with inputs \+ value added - output"):
        build_from_iosystem(io, _pymrio_recipe("refuse"))
    # ... or balance it with RAS (its columns miss up to 99.6% of output: inputs grow a lot) ...
    ds, rep = build_from_iosystem(io, _pymrio_recipe("ras"))
    assert check_dataset(ds).ok
    assert ds.sizes["region"] == 6 and ds.sizes["sector"] == 8
    assert_identities(ds)
    assert rep.adjustments
    # ... while least squares would have to turn cells negative there, and says so
    with pytest.raises(RecipeError, match=r"least_squares would flip the sign of \d+ cell\(s\): reg1\.food -> "):
        build_from_iosystem(io, _pymrio_recipe("least_squares"))
    # with value added as the residual, the table is balanced by construction
    r = _pymrio_recipe("refuse")
    r["balance"]["value_added"] = "residual"
    ds, rep = build_from_iosystem(pymrio.load_test(), r)
    assert "no balancing" in str(rep)
    assert float(ds.trade.sum()) == pytest.approx(float(io.Z.values.sum() + io.Y.values.sum()), rel=1e-12)


def test_pymrio_test_kind_in_yaml(tmp_path):
    pytest.importorskip("pymrio")
    p = write_recipe(
        tmp_path / "p.yaml",
        """name: pt
source: {kind: pymrio_test}
regions: {groups: {EAST: [reg1, reg2, reg3], WEST: [reg4, reg5, reg6]}}
factors: {labour_share: 0.55, mobility: {labour: mobile, capital: specific}}
elasticities: {esubd: 3.0, esubva: 1.0, overrides: {food: {esubd: 2.0}}}
balance: {method: ras}
""",
    )
    ds, _ = build_dataset(p, tmp_path / "p.nc")
    assert list(ds.region.values) == ["EAST", "WEST"]
    assert float(ds.esubd.sel(sector="food")) == 2.0 and float(ds.esubm.sel(sector="food")) == 4.0
    assert list(ds.mobility.values) == ["mobile", "specific"]
    assert check_dataset(load_dataset(tmp_path / "p.nc")).ok


# ------------------------------------------------------------------------------ built-in datasets
@pytest.mark.parametrize("name", builtin_names())
def test_builtin_datasets_validate_and_carry_provenance(name):
    ds = load_dataset(name)
    assert check_dataset(ds).ok
    for key in (
        "name",
        "title",
        "year",
        "source",
        "units",
        "licence_note",
        "regions",
        "sectors",
        "recipe",
        "recipe_sha256",
        "package_version",
        "source_sha256",
    ):
        assert str(ds.attrs.get(key, "")).strip(), f"{name}: attribute {key} missing"
    assert "population" in ds
    assert (Path(__file__).resolve().parents[1] / ds.attrs["recipe"]).is_file()
    assert (ROOT / "cge" / "dataset" / "builtin" / f"{name}.nc").stat().st_size < 2_000_000


REBUILD = [n for n in ("default", "wiod2011", "wiod2000", "china-provinces") if n in builtin_names()]


@pytest.mark.parametrize("name", REBUILD)
def test_builtin_is_rebuilt_from_raw_data(name, tmp_path):
    if name == "china-provinces":
        pytest.importorskip("cge.dataset.china")
        if not (RAW / "china_provinces" / "vxmd.csv").exists():
            pytest.skip(f"raw china_provinces data not found under {RAW}")
    elif not (HAVE_WIOD and HAVE_CP):
        pytest.skip(f"raw WIOD 2013 / Caliendo-Parro data not found under {RAW}")
    run = rebuild(["-m", "cge.cli", "build-dataset", f"calibration/{name}.yaml", "--out", str(tmp_path / f"{name}.nc")])
    assert run.returncode == 0, run.stdout + run.stderr
    ds, old = load_dataset(tmp_path / f"{name}.nc"), load_dataset(name)
    for v in list(cge.dataset.schema.SCHEMA) + ["population"]:
        if v == "mobility":
            assert [str(x) for x in ds[v].values] == [str(x) for x in old[v].values]
        else:
            np.testing.assert_allclose(ds[v].values, old[v].values, rtol=1e-12, atol=0, err_msg=f"{name}: {v}")
    assert (tmp_path / f"{name}.nc").read_bytes() == (ROOT / "cge" / "dataset" / "builtin" / f"{name}.nc").read_bytes()


@need_wiod
def test_wiod2011_totals_match_the_raw_table():
    import pandas as pd

    f = pd.read_csv(RAW / "wiod2013" / "wiot_2011_flows.csv.gz", keep_default_na=False)
    o = pd.read_csv(RAW / "wiod2013" / "wiot_2011_output.csv.gz", keep_default_na=False)
    ds = load_dataset("wiod2011")
    out = float(ds.trade.sum())
    assert out == pytest.approx(float(o.output.sum()), rel=1e-3)
    raw_trade = float(f.loc[f.row_country != f.col_country, "value"].sum())
    tr = ds.trade.values
    trade = float(tr.sum() - np.einsum("iss->", tr))
    assert trade == pytest.approx(raw_trade, rel=1e-3)
    assert ds.sizes["region"] == 41 and ds.sizes["sector"] == 35


@need_wiod
def test_default_recipe_reproduces_the_historic_default_values():
    """The recipe reproduces the values of the original build_default.py (commit f1bcf5e) to 1e-12."""
    ds = load_dataset("default")
    # a few figures printed by the original script (calibration/README.md)
    assert float(ds.trade.sum()) == pytest.approx(141_708_692, abs=1)
    assert float(ds.factor_income.sum()) == pytest.approx(69_032_118, abs=1)
    assert float(ds.final_demand.sum()) == pytest.approx(69_453_293, abs=1)
    assert float(ds.final_demand.sel(sector="MIN", region="JPN")) == pytest.approx(1_137, abs=1)


def test_finished_benchmark_takes_the_recipe_elasticities():
    """A finished benchmark (china_provinces) takes the recipe's elasticities and overrides as a built
    table does: esubm follows esubd by esubm_factor unless given; an unknown sector is refused."""
    if not (RAW / "china_provinces" / "vxmd.csv").exists():
        pytest.skip(f"raw china_provinces data not found under {RAW}")
    recipe = ROOT / "calibration" / "china-provinces.yaml"
    a, b, c = (str(s) for s in load_dataset("china-provinces")["sector"].values[:3])
    e = {"esubd": 2.0, "esubva": 0.5, "esubm_factor": 3.0, "overrides": {a: {"esubm": 7.5}, b: {"esubd": 1.5}}}
    ds, _ = build_dataset(recipe, overrides={"elasticities": e})
    got = {v: [float(ds[v].sel(sector=s)) for s in (a, b, c)] for v in ("esubd", "esubm", "esubva")}
    assert got == {"esubd": [2.0, 1.5, 2.0], "esubm": [7.5, 4.5, 6.0], "esubva": [0.5, 0.5, 0.5]}
    e["overrides"] = {a + "X": {"esubd": 2.0}}
    with pytest.raises(RecipeError, match="elasticities.overrides: unknown sector"):
        build_dataset(recipe, overrides={"elasticities": e})
