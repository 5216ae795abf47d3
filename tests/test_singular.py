"""Cells that trade with nothing else (cge.model.isolated) and the singular systems they caused.

A cell whose output is only the input of itself (or of a closed group of such cells) has a zero
profit condition and a market clearing that hold at any price and activity level: its Jacobian
rows are dependent and Newton's method failed on china-provinces (issue 15).  Such cells are
found by :func:`cge.model.sets.isolated_cells` and pinned to their benchmark in numeraire units;
being isolated, they must leave every other result exactly as it is without them.
"""

from __future__ import annotations

import numpy as np
import pytest

import cge
from cge.dataset.schema import from_arrays
from cge.model.benchmark import benchmark
from cge.model.sets import isolated_cells
from cge.scenario.scenario import Instruments
from tests.support.synthetic import make_dataset

#: the closed groups added to the synthetic benchmark: {region: intermediate use among the group}
GROUPS = {"R1": {"G1": {"G1": 2.0}}, "R2": {"G2": {"G2": 1.0, "G3": 2.0}, "G3": {"G2": 2.0, "G3": 1.0}}}


def with_groups(ds, groups=GROUPS, leak: str | None = None):
    """``ds`` with extra sectors that sell only to each other (``groups[r][i][j]``: value of ``i``
    used by ``j`` in ``r``).  ``leak``: a group sector that also buys some of S1 (paying it out of
    its output: then it is no longer isolated, nor is anything that sells to it)."""
    new = sorted({i for g in groups.values() for i in g})
    S, R = [str(s) for s in ds["sector"].values], [str(r) for r in ds["region"].values]
    n, k = len(S) + len(new), len(S)

    def grow(name, axes):
        old = ds[name].values
        out = np.zeros(tuple(n if a else m for a, m in zip(axes, old.shape)))
        out[tuple(slice(0, m) for m in old.shape)] = old
        return out

    trade = grow("trade", (True, False, False))
    inter = grow("intermediate", (True, True, False))
    fd = grow("final_demand", (True, False))
    fi = grow("factor_income", (False, True, False))
    pos = {s: k + a for a, s in enumerate(new)}
    for r, group in groups.items():
        c = R.index(r)
        for i, users in group.items():
            for j, v in users.items():
                inter[pos[i], pos[j], c] = v
                trade[pos[i], c, c] += v
    if leak is not None:  # the leaking sector buys 0.5 of S1 and sells 0.5 more of itself to final demand
        c = next(R.index(r) for r, g in groups.items() if leak in g)
        inter[0, pos[leak], c] += 0.5
        fd[0, c] -= 0.5
        trade[pos[leak], c, c] += 0.5
        fd[pos[leak], c] += 0.5
    elast = {e: np.concatenate([ds[e].values, np.full(len(new), 2.0)]) for e in ("esubd", "esubm", "esubva")}
    return from_arrays(
        regions=R,
        sectors=S + new,
        factors=[str(f) for f in ds["factor"].values],
        trade=trade,
        tariff=grow("tariff", (True, False, False)),
        intermediate=inter,
        final_demand=fd,
        factor_income=fi,
        mobility=[str(m) for m in ds["mobility"].values],
        population=ds["population"].values,
        **elast,
    )


@pytest.fixture(scope="module")
def base():
    return make_dataset(n_regions=3, n_sectors=2, seed=5)


def test_isolated_cells_are_the_closed_groups(base):
    assert isolated_cells(benchmark(base)) == []
    assert isolated_cells(benchmark(with_groups(base))) == [("G1", "R1"), ("G2", "R2"), ("G3", "R2")]


def test_a_group_that_buys_from_outside_is_not_isolated(base):
    # G3 buys S1: G3 is not isolated, and G2, which sells to G3, is not either
    assert isolated_cells(benchmark(with_groups(base, leak="G3"))) == [("G1", "R1")]


def test_china_provinces_isolated_cell():
    assert isolated_cells(benchmark(cge.load_dataset("china-provinces"))) == [("GDT", "QIH")]


def shock(ds):
    """A tariff cut and a capital endowment shock, solved by Newton's method alone."""
    b = benchmark(ds)
    ins = Instruments.benchmark(b)
    ins.tariff = ins.tariff * 0.3
    ins.endowment[1, :, 0] = 1.1
    ins.pnum = 2.0
    return ins


def test_isolated_cells_change_nothing_else_and_newton_solves(base):
    grouped = with_groups(base)
    plain = cge.Model(base).solve(shock(base), options={"fallback": False}, steps=1).dataset
    model = cge.Model(grouped)
    res = model.solve(shock(grouped), options={"fallback": False}, steps=1).dataset
    assert res.attrs["solver"] == "newton" and res.attrs["solver_status"] == "converged"
    # pinned: the benchmark in numeraire units (PNUM = 2)
    for i, r in isolated_cells(benchmark(grouped)):
        assert res["price"].sel(sector=i, region=r) == pytest.approx(2.0, abs=1e-12)
        assert res["output"].sel(sector=i, region=r) == pytest.approx(1.0, abs=1e-12)
    # the replaced equations hold there too
    m = model.core.instance
    for k in isolated_cells(benchmark(grouped)):
        for con in (m.zero_profit[k], m.output_clearing[k]):
            assert not con.active
            assert abs(con.body() - con.upper()) < 1e-12
    # every other result is the one without the isolated cells
    for name in ("ev", "income", "utility", "factor_price"):
        np.testing.assert_allclose(res[name].values, plain[name].values, rtol=1e-11, atol=0)
    for name in ("price", "output", "composite_price"):
        got = res[name].sel(sector=plain["sector"]).values
        np.testing.assert_allclose(got, plain[name].values, rtol=1e-11, atol=0)


def test_a_fallback_names_the_unknown_and_equation_once_per_solve(base, monkeypatch, capsys):
    # without the pins, the isolated cell makes the Jacobian singular: IPOPT takes over, and the
    # message names the cell's unknown and equation by their MODEL.md names, once
    import cge.model.arrays
    import cge.model.isolated

    monkeypatch.setattr(cge.model.isolated, "add", lambda m, st: None)
    # the Pyomo model, without the pins (the model on arrays has them)
    monkeypatch.setattr(cge.model.arrays, "unsupported", lambda st: "a test's model without the pins")
    ds = with_groups(base, {"R1": GROUPS["R1"]})
    res = cge.Model(ds, verbose=True).solve(shock(ds), steps=3).dataset
    err = capsys.readouterr().err
    status = res.attrs["solver_status"]
    for text in (err, status):
        assert "PY['G1', 'R1'] (output price)" in text
        assert "zero_profit['G1', 'R1'] (zero profit)" in text
    assert err.count("newton did not converge") == 1 and err.count("PY['G1', 'R1']") == 1
    assert status.count("PY['G1', 'R1']") == 1 and "IPOPT solved steps 1, 2, 3 of 3" in status
    with pytest.raises(cge.SolveError, match=r"PY\['G1', 'R1'\].*fallback: false"):
        cge.Model(ds).solve(shock(ds), options={"fallback": False}, steps=1)


def test_a_structurally_singular_system_is_refused_with_names():
    # two equations read x alone, one reads y and z: whatever the values, one equation is left
    # over and one unknown undetermined; refused, with no fallback, naming them
    import pyomo.environ as pyo

    from cge.solve import solve

    m = pyo.ConcreteModel()
    m.x, m.y, m.z = pyo.Var(initialize=0.5), pyo.Var(initialize=1.0), pyo.Var(initialize=1.0)
    m.first = pyo.Constraint(expr=m.x == 1.0)
    m.second = pyo.Constraint(expr=m.x**2 == 1.0)
    m.third = pyo.Constraint(expr=m.y + m.z == 2.0)
    m.obj = pyo.Objective(expr=0.0)
    with pytest.raises(cge.SolveError, match=r"structurally singular.*equation (first|second).*unknown (y|z)"):
        solve(m, "newton")


@pytest.mark.parametrize("seed", range(40))
def test_the_small_systems_matching_is_as_large_as_scipys(seed):
    # random patterns, some with empty rows or columns and crowded blocks: the augmenting paths
    # (below 1,500 unknowns) match as many rows as SciPy's Hopcroft-Karp, to distinct columns
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    from cge.solve.singular import matching

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    dense = rng.random((n, n)) < rng.uniform(0.02, 0.2)
    dense[: n // 3, : n // 2] |= rng.random((n // 3, n // 2)) < 0.5
    dense[:, rng.integers(0, n)] = seed % 2 == 0  # an empty column, or a full one
    rows, cols = np.nonzero(dense)
    ours = matching(rows, cols, n, n)
    theirs = maximum_bipartite_matching(csr_matrix(dense.astype(float)), perm_type="column")
    matched = ours[ours >= 0]
    assert (ours >= 0).sum() == (theirs >= 0).sum()
    assert len(set(matched.tolist())) == matched.size
    assert all(dense[r, c] for r, c in enumerate(ours) if c >= 0)
