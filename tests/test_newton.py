"""The newton route (cge/newton.py): same answers as IPOPT, re-solves without refactorising,
cold starts reproducible bit for bit, the Krylov route, the fallback."""

import numpy as np
import pytest

import cge
from cge import solve as solver
from cge.errors import SolverNotAvailable
from cge.runs import Model
from cge.scenario.scenario import Instruments
from cge.solve import linear, newton
from tests.support.synthetic import make_dataset

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not newton.available(),
        reason="cge's ASL reader cannot be built here (needs gcc and libamplsolver-dev: bash scripts/setup.sh)",
    ),
]

SCENARIO = "scenarios/east-asia-fta.yaml"


def unknowns(model):
    return np.array([v.value for v in model.core.unknowns()])


@pytest.fixture(scope="module")
def fta():
    return cge.Scenario.from_yaml(SCENARIO)


def test_newton_is_the_default_and_agrees_with_ipopt(fta):
    if "cyipopt" not in solver.available():
        pytest.skip("IPOPT (cyipopt) is not available to compare with")
    a, b = Model("default"), Model("default", solver="cyipopt")
    assert a.solver == "newton"
    ra, rb = a.solve(fta, steps=1), b.solve(fta, steps=1)
    assert ra.info["solve"].solver == "newton" and rb.info["solve"].solver == "cyipopt"
    assert ra.info["solve"].max_residual < 1e-12
    np.testing.assert_allclose(unknowns(a), unknowns(b), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(ra.dataset["ev"].values, rb.dataset["ev"].values, rtol=1e-7, atol=1e-9)


def test_resolve_reuses_the_factorisation_and_is_exact(fta, monkeypatch):
    # at this size a factorisation is as cheap as a few chord steps, so that is allowed only when
    # the chord steps stop contracting; at scale (bench/) the default rule keeps it too
    monkeypatch.setattr(newton, "CHORD_STEPS", 10**6)
    m = Model("default")
    first = m.solve(fta, steps=1).info["solve"]
    assert first.options["factorisations"] >= 1 and first.options["read_seconds"] > 0
    ins = fta.instruments(m.bench)
    half = Instruments.benchmark(m.bench).towards(ins, 0.5)
    warm = m.solve(half, steps=1)
    info = warm.info["solve"]
    assert info.options["factorisations"] == 0 and info.options["read_seconds"] == 0.0
    assert info.max_residual < 1e-12
    # the same scenario from the benchmark with nothing kept gives the same root
    cold = Model("default").solve(half, steps=1, warm_start=False)
    np.testing.assert_allclose(warm.dataset["ev"].values, cold.dataset["ev"].values, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("route", ["arrays", "model file"])
def test_instruments_change_without_rewriting_the_model_file(fta, route):
    m = Model("default")
    m.solve(None, steps=1)
    target = (lambda: m.core) if route == "arrays" else (lambda: m.core.instance)  # the instance shows the instruments
    system = newton.system_of(target())
    assert isinstance(system, newton.ArraySystem if route == "arrays" else newton.FileSystem)
    x = system.load()
    assert np.abs(system.residuals(x)).max() < 1e-12  # the benchmark is the root
    m.core.set_instruments(fta.instruments(m.bench))
    x = system.load() if route == "arrays" else newton.system_of(target()).load()
    assert np.abs(system.residuals(x)).max() > 1e-3  # the new tariffs are seen ...
    newton.solve(target())
    assert newton.system_of(target()) is system  # ... by the same system, made once


@pytest.mark.parametrize("krylov_from", [linear.KRYLOV_FROM, 0], ids=["sparse LU", "Krylov"])
def test_cold_start_is_reproducible_bit_for_bit(fta, krylov_from, monkeypatch):
    monkeypatch.setattr(linear, "KRYLOV_FROM", krylov_from)
    ins = fta.instruments(Model("default").bench)
    a = Model("default")
    a.solve(Instruments.benchmark(a.bench).towards(ins, 0.3), steps=1)  # a history to forget
    ra = a.solve(ins, steps=2, warm_start=False).dataset
    rb = Model("default").solve(ins, steps=2, warm_start=False).dataset
    for v in ("ev", "ev_pct", "trade_quantity", "output", "factor_price"):
        np.testing.assert_array_equal(ra[v].values, rb[v].values, err_msg=v)


def test_krylov_route_gives_the_same_root(fta, monkeypatch):
    ref = Model("default").solve(fta, steps=1).dataset
    monkeypatch.setattr(linear, "KRYLOV_FROM", 0)
    model = Model("default")
    res = model.solve(fta, steps=1)
    assert isinstance(newton.system_of(model.core).lu, linear.BlockKrylov)
    assert res.info["solve"].max_residual < 1e-12
    np.testing.assert_allclose(res.dataset["ev"].values, ref["ev"].values, rtol=1e-10, atol=1e-12)


def test_synthetic_with_specific_factors_and_a_common_market():
    ds = make_dataset(
        n_regions=4, n_sectors=3, seed=7, factors=(("labour", "mobile"), ("capital", "mobile"), ("land", "specific"))
    )
    sc = cge.Scenario.from_dict(
        {"name": "cm", "union": {"name": "U", "members": ["R1", "R2"]}, "stage": "common_market"}
    )
    res = Model(ds).solve(sc)
    assert res.info["solve"].solver == "newton" and "after newton" not in res.info["solve"].status
    assert res.dataset.attrs["walras_residual_relative"] < 1e-9


def test_failure_falls_back_to_ipopt(fta, monkeypatch):
    if "cyipopt" not in solver.available():
        pytest.skip("IPOPT (cyipopt) is not available to fall back on")
    ref = Model("default").solve(fta, steps=1).dataset

    def fail(*args, **kw):
        raise newton.NewtonFailed("no descent (forced by the test)")

    monkeypatch.setattr(newton, "solve", fail)
    res = Model("default").solve(fta, steps=1)
    info = res.info["solve"]
    assert info.solver == "cyipopt" and "after newton: no descent (forced by the test)" in info.status
    np.testing.assert_allclose(res.dataset["ev"].values, ref["ev"].values, rtol=1e-7, atol=1e-9)


def test_a_step_newton_cannot_take_is_halved(fta, monkeypatch):
    """Continuation (Model._step): given one iteration on a step that can still be halved, Newton's
    method fails on every full step; the steps are halved until it converges, with the fallback
    off, and the answer at every point of the path is the same root."""
    ref = Model("default").solve(fta, steps=2).dataset
    monkeypatch.setattr(Model, "TRIAL_ITER", 1)
    sc = fta.model_copy(update={"solver": {"fallback": False}})
    res = Model("default").solve(sc, steps=2)
    assert res.dataset.attrs["solver_solves"] == 2 and res.dataset.attrs["solver_points"] > 2
    assert res.info["solve"].solver == "newton" and res.dataset.attrs["solver_status"] == "converged"
    for name in ("ev", "price", "utility", "income", "trade_quantity"):
        np.testing.assert_allclose(res.dataset[name].values, ref[name].values, rtol=1e-10, atol=1e-12)
    # the decomposition (along the same points) too, up to round-off on world income
    world = float(ref["income0"].sum())
    for name in ("welfare_terms_of_trade", "welfare_decomposition_residual"):
        np.testing.assert_allclose(res.dataset[name].values, ref[name].values, rtol=0, atol=1e-10 * world)


def test_unknown_solver_names_the_routes():
    with pytest.raises(SolverNotAvailable, match="newton, cyipopt, ipopt"):
        solver.pick("path")
