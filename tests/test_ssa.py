"""Systematic sensitivity analysis (cge.ssa): quadrature exactness, elasticities as parameters,
Dask batch = serial batch, failed draws recorded, structural elasticities refused, the CLI."""

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import cge
from cge.errors import InputError
from cge.sensitivity import CHEBYSHEV_K, Dimension, draw_values, sensitivity, stroud3, weighted_stats
from tests.support.synthetic import make_dataset

#: solves many models or builds datasets: left out of the quick selection (-m 'not slow')
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ quadrature
def _raw_moment(dim: Dimension, k: int) -> float:
    """E[x^k] for k <= 4, analytic."""
    if dim.distribution == "normal":
        mu, s = dim.moments()
        return [1.0, mu, mu**2 + s**2, mu**3 + 3 * mu * s**2, mu**4 + 6 * mu**2 * s**2 + 3 * s**4][k]
    a, b = dim.support()
    if dim.distribution == "uniform":
        return (b ** (k + 1) - a ** (k + 1)) / ((k + 1) * (b - a))
    c = dim.base  # triangular: integrate the density numerically-exactly on a fine Gauss-Legendre grid
    x, w = np.polynomial.legendre.leggauss(20)
    tot = 0.0
    for lo, hi, f in (
        (a, c, lambda t: 2 * (t - a) / ((b - a) * (c - a))),
        (c, b, lambda t: 2 * (b - t) / ((b - a) * (b - c))),
    ):
        t = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        tot += 0.5 * (hi - lo) * np.sum(w * t**k * f(t))
    return float(tot)


def _dims(d, distribution, spread=(0.5, 0.5)):
    rng = np.random.default_rng(d)
    return [
        Dimension(f"p{k}", "esubd", (k,), False, float(rng.uniform(0.5, 6.0)), distribution, spread) for k in range(d)
    ]


def _monomials(d, degree):
    for deg in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(d), deg):
            yield np.bincount(np.array(combo, dtype=int), minlength=d) if combo else np.zeros(d, int)


@pytest.mark.parametrize("distribution", ["uniform", "normal", "triangular"])
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5, 8])
def test_quadrature_integrates_every_cubic_exactly(distribution, d):
    dims = _dims(d, distribution)
    nodes, w = draw_values(dims, "quadrature")
    assert nodes.shape == (2 * d, d) and np.isclose(w.sum(), 1.0)
    for powers in _monomials(d, 3):
        exact = np.prod([_raw_moment(dim, int(p)) for dim, p in zip(dims, powers)])
        quad = float(np.sum(w * np.prod(nodes**powers, axis=1)))
        assert quad == pytest.approx(exact, rel=1e-11, abs=1e-11), (powers, quad, exact)


def test_quadrature_is_degree_3_not_more():
    dims = _dims(2, "normal")
    nodes, w = draw_values(dims, "quadrature")
    mu, s = dims[0].moments()
    z4 = float(np.sum(w * ((nodes[:, 0] - mu) / s) ** 4))
    assert z4 != pytest.approx(3.0)  # the fourth moment of a normal is not reproduced


def test_skewed_triangular_exact_to_degree_2_and_mixed_cubes():
    dims = _dims(3, "triangular", spread=(0.3, 0.8))
    nodes, w = draw_values(dims, "quadrature")
    for powers in _monomials(3, 3):
        exact = np.prod([_raw_moment(dim, int(p)) for dim, p in zip(dims, powers)])
        quad = float(np.sum(w * np.prod(nodes**powers, axis=1)))
        if powers.max() < 3:  # all but the pure cubes x_i^3 (documented)
            assert quad == pytest.approx(exact, rel=1e-11), powers


def test_stroud_nodes_standardised():
    for n in range(1, 10):
        z = stroud3(n)
        assert np.allclose(z.mean(axis=0), 0) and np.allclose(z.T @ z / (2 * n), np.eye(n))


def test_monte_carlo_is_seeded():
    dims = _dims(3, "triangular")
    a, _ = draw_values(dims, "montecarlo", 50, seed=7)
    b, _ = draw_values(dims, "montecarlo", 50, seed=7)
    c, _ = draw_values(dims, "montecarlo", 50, seed=8)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    lo = np.array([d.support()[0] for d in dims])
    hi = np.array([d.support()[1] for d in dims])
    assert (a >= lo).all() and (a <= hi).all()


def test_weighted_stats_and_chebyshev():
    x = np.array([1.0, 2.0, 3.0, np.nan])
    st = weighted_stats(x[:, None], np.array([0.25, 0.5, 0.25, 0.0]))
    assert st["mean"][0] == pytest.approx(2.0) and st["sd"][0] == pytest.approx(math.sqrt(0.5))
    assert st["upper95"][0] == pytest.approx(2.0 + CHEBYSHEV_K * math.sqrt(0.5))
    assert pytest.approx(4.472, abs=1e-3) == CHEBYSHEV_K


# ------------------------------------------------------------------ the model with mutable elasticities
@pytest.fixture(scope="module")
def syn():
    return make_dataset(n_regions=3, n_sectors=2, seed=4)


def _fta(members=("R1", "R2")):
    return cge.Scenario.from_dict({"name": "syn-fta", "union": {"name": "U", "members": list(members)}, "stage": "fta"})


def test_set_elasticities_equals_a_model_built_with_them(syn):
    new = {"esubd": np.array([2.2, 3.9]), "esubm": np.array([5.0, 4.1]), "esubva": np.array([0.7, 1.3])}
    m1 = cge.Model(syn)
    m1.core.set_elasticities(**new)
    r1 = m1.solve(_fta(), steps=1).dataset
    ds2 = syn.copy(deep=True)
    for k, v in new.items():
        ds2[k][:] = v
    r2 = cge.Model(ds2).solve(_fta(), steps=1).dataset
    np.testing.assert_allclose(r1["ev_pct"].values, r2["ev_pct"].values, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r1["trade_quantity"].values, r2["trade_quantity"].values, rtol=1e-9)
    # back to the dataset's values: the original results again
    m1.core.set_elasticities(**m1.core.esub0)
    r0 = cge.Model(syn).solve(_fta(), steps=1).dataset
    np.testing.assert_allclose(m1.solve(_fta(), steps=1).dataset["ev_pct"].values, r0["ev_pct"].values, rtol=1e-9)


def test_cobb_douglas_elasticity_is_refused_by_name(syn):
    ds = syn.copy(deep=True)
    ds["esubva"][:] = [1.0, 0.6]  # S1: Cobb-Douglas in the data
    model = cge.Model(ds)
    with pytest.raises(InputError, match=r"esubva\[S1\].*Cobb-Douglas"):
        model.core.set_elasticities(esubva=[1.2, 0.6])
    with pytest.raises(InputError, match=r"esubva\[S1\].*exactly 1.*Cobb-Douglas"):
        sensitivity(_fta(), data=ds, parameters="esubva", scheduler="serial", progress=False)
    # the other sector alone is fine
    out = sensitivity(_fta(), data=ds, parameters="esubva:S2", scheduler="serial", progress=False)
    assert (out["status"].values == "ok").all() and (out["esubva"].values[:, 0] == 1.0).all()


# ------------------------------------------------------------------ batches
def test_batch_on_local_dask_cluster_equals_serial(syn):
    kw = dict(data=syn, parameters="esubd,esubm*,shock", method="montecarlo", n=6, seed=11, progress=False)
    serial = sensitivity(_fta(), scheduler="serial", **kw)
    dask = sensitivity(_fta(), scheduler="local", workers=2, **kw)
    assert (serial["status"].values == "ok").all()
    for v in serial.data_vars:
        if serial[v].dtype.kind == "f":
            np.testing.assert_array_equal(serial[v].values, dask[v].values, err_msg=v)
    assert list(serial["status"].values) == list(dask["status"].values)
    # the whole file is the same, whatever ran it
    assert serial.attrs == dask.attrs


def test_batch_on_an_existing_cluster_by_address_equals_serial(syn):
    """A scheduler and two workers started as separate processes on loopback, reached by address:
    how a user scales out to many machines."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        time.sleep(2)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nworkers",
                    "2",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        kw = dict(data=syn, parameters="esubd", method="quadrature", progress=False)
        remote = sensitivity(_fta(), scheduler=address, **kw)
        serial = sensitivity(_fta(), scheduler="serial", **kw)
        assert (remote["status"].values == "ok").all()
        np.testing.assert_array_equal(remote["ev_pct"].values, serial["ev_pct"].values)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_quadrature_batch_outputs_and_summaries(syn, tmp_path):
    ds = sensitivity(
        _fta(), data=syn, parameters="esubd,esubva*", scheduler="serial", progress=False, out=tmp_path / "s.nc"
    )
    assert ds.sizes["draw"] == 6 and ds.sizes["param"] == 3
    assert ds["ev_pct"].dims == ("draw", "region") and ds["trade_creation"].dims[0] == "draw"
    assert np.isclose(ds["weight"].sum(), 1.0)
    s = ds["ev_pct_summary"]
    ev = ds["ev_pct"].values
    np.testing.assert_allclose(s.sel(stat="mean").values, ev.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s.sel(stat="sd").values, ev.std(axis=0), rtol=1e-10)
    np.testing.assert_allclose(
        s.sel(stat="upper95").values - s.sel(stat="mean").values, CHEBYSHEV_K * ev.std(axis=0), rtol=1e-10
    )
    for v in ("trade_creation_summary", "trade_diversion_summary", "ev_pct_group_summary"):
        assert v in ds
    back = xr.load_dataset(tmp_path / "s.nc")
    np.testing.assert_array_equal(back["ev_pct"].values, ds["ev_pct"].values)
    assert list(back["status"].values) == ["ok"] * 6


def test_failed_draw_is_recorded_not_fatal(syn):
    # draw 1 scales the FTA's tariff cut 40 times: member tariffs far below -100%, no equilibrium
    draws = np.array([[1.0], [40.0], [0.8]])
    ds = sensitivity(_fta(), data=syn, parameters="shock", draws=draws, scheduler="serial", progress=False)
    assert list(ds["status"].values) == ["ok", "failed", "ok"]
    assert ds["message"].values[1] and ds["message"].values[0] == "ok"
    assert np.isnan(ds["ev_pct"].values[1]).all() and np.isfinite(ds["ev_pct"].values[[0, 2]]).all()
    assert ds["param_value"].values[1, 0] == 40.0 and ds.attrs["n_failed"] == 1
    mean = ds["ev_pct_summary"].sel(stat="mean").values
    np.testing.assert_allclose(mean, ds["ev_pct"].values[[0, 2]].mean(axis=0), rtol=1e-12)
    # the draw at scale 1 is the scenario itself
    direct = cge.Model(syn).solve(_fta(), steps=1).dataset
    np.testing.assert_allclose(ds["ev_pct"].values[0], direct["ev_pct"].values, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ command line
def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cge.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_sensitivity_writes_nc_and_report(syn, tmp_path):
    syn.to_netcdf(tmp_path / "syn.nc")
    sc = tmp_path / "s.yaml"
    sc.write_text(
        yaml.safe_dump({"name": "syn-fta", "data": "syn.nc", "union": {"members": ["R1", "R2"]}, "stage": "fta"})
    )
    out = _cli(
        "sensitivity",
        str(sc),
        "--parameters",
        "esubd*,esubm",
        "--scheduler",
        "serial",
        "--out",
        str(tmp_path / "o"),
        "--report",
        "-q",
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "o" / "sensitivity.nc").is_file()
    assert "Lower 95%" in out.stdout and "R1" in out.stdout and "union" in out.stdout
    page = (tmp_path / "o" / "report" / "index.html").read_text()
    assert page.count("<svg") >= 1 and "Chebyshev" in page
    assert (tmp_path / "o" / "report" / "ssa_ev_pct.csv").is_file()
    # a Cobb-Douglas elasticity: refused, exit 2, the sector named
    ds = syn.copy(deep=True)
    ds["esubd"][:] = [1.0, 2.5]
    ds.to_netcdf(tmp_path / "cd.nc")
    bad = _cli(
        "sensitivity",
        str(sc),
        "--data",
        str(tmp_path / "cd.nc"),
        "--scheduler",
        "serial",
        "-q",
        "--out",
        str(tmp_path / "o2"),
    )
    assert bad.returncode == 2 and "esubd[S1]" in bad.stderr and "Cobb-Douglas" in bad.stderr
    bad = _cli("sensitivity", str(sc), "--parameters", "esubx", "--scheduler", "serial", "-q")
    assert bad.returncode == 2 and "esubd" in bad.stderr
