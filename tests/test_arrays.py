"""The model on arrays (cge/model/arrays.py) is the Pyomo model's system, to round-off.

Its residuals and Jacobian are compared with the Pyomo model's, evaluated by the AMPL Solver
Library from Pyomo's model file (cge.solve.newton.FileSystem), equation by equation and unknown
by unknown (matched by name), at random points with random instruments (tariffs, trade costs,
endowments, revenue and factor pooling, taxes), on every dataset shipped and every closure; and a
scenario solved on arrays has the root the Pyomo model's own Newton solve finds.
"""

from __future__ import annotations

import numpy as np
import pytest

from cge.dataset.schema import load_dataset
from cge.model import names
from cge.model.arrays import ArrayModel, unsupported
from cge.model.benchmark import benchmark
from cge.model.build import EquationSystem
from cge.scenario.options import resolve as resolve_options
from cge.scenario.scenario import Instruments
from cge.solve import available, newton

pytestmark = pytest.mark.skipif("newton" not in available(), reason="cge's ASL reader is not built (scripts/setup.sh)")

CASES = {
    "default": ("default", None),
    "default, taxes, world income, utility-price numeraire": (
        "default",
        {"taxes": True, "closure": {"trade_balance": "world_income", "numeraire": {"utility_price": "USA"}}},
    ),
    "default, one region's labour as numeraire": (
        "default",
        {"closure": {"numeraire": {"factor_price": "USA", "factor": "labour"}}},
    ),
    "china-provinces (specific factor, isolated cell)": ("china-provinces", None),
    "wiod2011": ("wiod2011", None),
    "wiod2000": ("wiod2000", None),
}


def _core(data: str, options) -> EquationSystem:
    b = benchmark(load_dataset(data))
    return EquationSystem(b, resolve_options(options, b, "model options") if options else None)


def _random_instruments(core: EquationSystem, rng) -> Instruments:
    ins = Instruments.benchmark(core.bench)
    ins.tariff[...] *= rng.uniform(0.2, 1.5, ins.tariff.shape)
    ins.tau[...] = rng.uniform(0.9, 1.1, ins.tau.shape)
    ins.endowment[...] = rng.uniform(0.9, 1.1, ins.endowment.shape)
    ins.factor_pool[...] = rng.uniform(0.0, 1.0, ins.factor_pool.shape)
    ins.revenue_pool[...] = rng.uniform(0.0, 1.0, ins.revenue_pool.shape)
    ins.revenue_share[...] = rng.uniform(0.0, 1.0, ins.revenue_share.shape)
    if core.options.taxes:
        ins.output_tax[...] = rng.uniform(0.0, 0.1, ins.output_tax.shape)
        ins.export_tax[...] = rng.uniform(0.0, 0.1, ins.export_tax.shape)
    return ins


@pytest.mark.parametrize("case", CASES)
def test_residuals_and_jacobian_are_the_pyomo_models(case):
    import scipy.sparse as sp

    core = _core(*CASES[case])
    am = core.arrays
    assert am is not None
    rng = np.random.default_rng(7)
    core.set_instruments(_random_instruments(core, rng))
    pyomo_system = newton.FileSystem(core.instance)  # the instance shows the instruments set
    column = {v.name: k for k, v in enumerate(pyomo_system.unknowns)}
    row = {name: k for k, name in enumerate(pyomo_system.names)}
    cols = np.array([column[names.label(*u)] for u in am.unknowns])
    rows = np.array([row[names.label(*e)] for e in am.equations])
    assert sorted(cols.tolist()) == list(range(am.n)) and sorted(rows.tolist()) == list(range(am.n))

    x = am.start() * rng.uniform(0.8, 1.2, am.n)
    s, n = am.offset["NF"]
    x[s : s + n] = rng.uniform(-0.1, 0.1, n)
    x_file = np.empty(am.n)
    x_file[cols] = x
    pyomo_system.load()  # the instruments, from the Pyomo model
    F_file = pyomo_system.residuals(x_file)[rows]
    F, J = am.jacobian(x)
    np.testing.assert_allclose(am.residuals(x), F, rtol=0, atol=0)  # one statement, with or without J
    scale = np.maximum(1.0, np.abs(F_file))
    assert np.max(np.abs(F - F_file) / scale) < 1e-13

    jf = pyomo_system.jacobian(x_file)
    J = J.scipy()
    J_file = sp.csr_matrix((jf.values, (jf.rows, jf.cols)), shape=(am.n, am.n))[rows][:, cols]
    diff = abs(J - J_file).max()
    assert diff < 1e-13 * max(1.0, abs(J_file).max())
    J.eliminate_zeros()
    assert J.nnz <= J_file.nnz  # no entry the model file does not have


def test_a_scenario_solved_on_arrays_is_the_pyomo_models_root():
    core = _core("default", None)
    ins = Instruments.benchmark(core.bench)
    ins.tariff[...] = 0.0  # free trade everywhere
    core.set_instruments(ins)
    newton.solve(core)  # on arrays
    on_arrays = core.x.copy()
    core.reset_start()
    instance = core.instance
    newton.solve(instance)  # the Pyomo model's own file
    from_file = np.array([getattr(instance, c)[k].value for c, k in core.arrays.unknowns])
    assert np.max(np.abs(on_arrays - from_file)) < 1e-12
    assert np.max(np.abs(on_arrays - core.arrays.start())) > 1e-3  # it moved


def test_extensions_keep_the_pyomo_model():
    b = benchmark(load_dataset("default"))
    for options, why in (
        ({"etrans": 2.0}, "CET"),
        ({"esubt": 0.5}, "production nests"),
    ):
        core = EquationSystem(b, resolve_options(options, b, "model options"))
        assert core.arrays is None and why in unsupported(core.structure)
        with pytest.raises(ValueError, match=why):
            ArrayModel(core.structure)


def test_labels_are_named_as_model_md_names_them():
    assert names.unknown(("Wm", ("res", "SHH"))) == "W['res', 'SHH'] (price of a mobile factor)"
    assert names.equation(("numeraire", None)) == "numeraire (numeraire)"
    assert names.label("PY", ("MAN", "CHN")) == "PY[MAN,CHN]" and names.label("numeraire", None) == "numeraire"


def test_the_structural_check_starts_from_the_natural_matching():
    # every equation but the numeraire is matched to the unknown it is named after; the matching
    # found is perfect and agrees with a search from scratch
    from cge.solve import singular

    am = _core("china-provinces", None).arrays
    rows, cols = am.pattern()
    hint = am.natural_columns()
    assert (hint < 0).sum() == 1 and len(set(hint[hint >= 0].tolist())) == am.n - 1
    assert singular.structural(rows, cols, am.unknowns, am.equations, hint) is None
    matched = singular.matching(rows, cols, am.n, am.n, hint)
    assert sorted(matched.tolist()) == list(range(am.n))
    assert (singular.matching(rows, cols, am.n, am.n) >= 0).all()
    # without the isolated cells' pins the same check names what is left over
    keep = ~np.isin(rows, [k for k, (name, _) in enumerate(am.equations) if name == "isolated_activity"])
    assert "structurally singular" in singular.structural(rows[keep], cols[keep], am.unknowns, am.equations, hint)


def test_a_replayed_jacobian_is_the_recorded_one_on_the_same_pattern():
    # the tape records each operation's pattern on the first evaluation and replays it: a second
    # evaluation elsewhere has the same pattern and the values a fresh recording gives there
    core = _core("default", None)
    am, rng = core.arrays, np.random.default_rng(3)
    x1, x2 = am.start() * rng.uniform(0.9, 1.1, am.n), am.start() * rng.uniform(0.9, 1.1, am.n)
    _, J1 = am.jacobian(x1)
    F2, J2 = am.jacobian(x2)  # replayed
    _, J2_fresh = _core("default", None).arrays.jacobian(x2)  # recorded
    assert np.array_equal(J1.pattern.indices, J2.pattern.indices) and np.array_equal(
        J1.pattern.indptr, J2.pattern.indptr
    )
    np.testing.assert_array_equal(J2.data, J2_fresh.data)
    np.testing.assert_array_equal(F2, am.residuals(x2))


def test_dual_sums_and_products_differentiate_exactly():
    from cge.model.dual import Dual, Tape

    x = np.array([2.0, 3.0, 5.0])
    tape = Tape()
    u = Dual.unknowns(x, 0, 3, tape)
    y = (
        (u * u.take(np.array([1, 2, 0]))).power(0.5).sum_by(np.array([0, 0, 1]), 2)
    )  # sqrt(x0 x1) + sqrt(x1 x2), sqrt(x2 x0)
    J = y.J.scipy().toarray()
    expected = np.array(
        [
            [0.5 * np.sqrt(3 / 2), 0.5 * np.sqrt(2 / 3) + 0.5 * np.sqrt(5 / 3), 0.5 * np.sqrt(3 / 5)],
            [0.5 * np.sqrt(5 / 2), 0.0, 0.5 * np.sqrt(2 / 5)],
        ]
    )
    np.testing.assert_allclose(y.v, [np.sqrt(6) + np.sqrt(15), np.sqrt(10)], rtol=1e-15)
    np.testing.assert_allclose(J, expected, rtol=1e-14)
    empty = Dual.unknowns(x, 0, 0, tape).sum_by(np.zeros(0, dtype=np.intp), 2)  # no cells: zeros, no entries
    assert empty.v.tolist() == [0.0, 0.0] and empty.J.data.size == 0


def test_the_pyomo_model_shows_the_point_of_record_after_a_failed_ipopt_solve():
    # IPOPT solves the Pyomo model; when it fails the point of record (x) stays, and the Pyomo
    # model shows it again, not IPOPT's last iterate
    import cge
    from cge import solve as solver

    if "cyipopt" not in available():
        pytest.skip("IPOPT (cyipopt) is not installed (scripts/setup.sh)")
    core = _core("default", None)
    start = core.x.copy()
    ins = Instruments.benchmark(core.bench)
    ins.tariff[...] = 0.0
    core.set_instruments(ins)
    with pytest.raises(cge.SolveError, match="did not converge"):
        solver.solve(core, solver="cyipopt", options={"max_iter": 1, "hessian_approximation": "exact"})
    np.testing.assert_array_equal(core.x, start)
    shown = np.array([getattr(core.instance, c)[k].value for c, k in core.arrays.unknowns])
    np.testing.assert_array_equal(shown, start)
    solver.solve(core, solver="cyipopt")  # a successful solve becomes the point of record
    assert np.max(np.abs(core.x - start)) > 1e-3 and np.max(np.abs(core.arrays.residuals(core.x))) < 1e-8
