"""The mutable parameters of the system: scenario instruments (MODEL.md section 4, the stages of
section 7) and the elasticities, declared as fixed variables (:func:`cge.model.ces.instrument`).

A counterfactual sets them and re-solves; nothing is rebuilt.  :func:`set_instruments` reads a
scenario's :class:`~cge.scenario.Instruments` (arrays along the benchmark's dimensions) by label.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np

from cge.errors import InputError
from cge.model.ces import instrument
from cge.model.structure import ELASTICITIES, Structure

if TYPE_CHECKING:
    import pyomo.core as pyo

#: the fixed variables that act as mutable parameters
INSTRUMENTS = ELASTICITIES + (
    "t",
    "tau",
    "endow_m",
    "endow_s",
    "PNUM",
    "pool_in",
    "pool_share",
    "fpool",
    "any_fpool",
    "to",
    "te",
)

ROUTE, SECTOR_REGION, FACTOR_REGION = ("sector", "source", "dest"), ("sector", "region"), ("factor", "region")
FACTOR_SECTOR_REGION = ("factor", "sector", "region")


def declare(m: pyo.ConcreteModel, st: Structure) -> None:
    """Add the elasticities and the instruments at their benchmark values."""
    b, sets = st.bm, st.sets
    docs = {
        "esubd": "Armington elasticity, domestic vs imported",
        "esubm": "elasticity between import sources",
        "esubva": "elasticity between factors in value added",
    }
    for name in ELASTICITIES:
        setattr(
            m,
            name,
            instrument(list(b.sectors), initialize=dict(zip(b.sectors, map(float, getattr(b, name)))), doc=docs[name]),
        )
    t0, E0, F0 = st.t0, st.E0, st.F0
    m.t = instrument(
        sets.ROUTES, initialize=lambda m, i, s, r: t0.get((i, s, r), 0.0), doc="ad valorem import tariff t[i,s,r]"
    )
    m.tau = instrument(sets.ROUTES, initialize=1.0, doc="iceberg trade cost factor tau[i,s,r] (1 in the benchmark)")
    m.endow_m = instrument(
        sets.FM,
        initialize=lambda m, f, r: E0[(f, r)],
        doc="endowment of a mobile factor in region r (benchmark value units)",
    )
    m.endow_s = instrument(
        sets.FS,
        initialize=lambda m, f, j, r: F0[(f, j, r)],
        doc="endowment of a sector-specific factor (benchmark value units)",
    )
    m.PNUM = instrument(initialize=1.0, doc="numeraire (MODEL.md: world average factor price)")
    # stage instruments (MODEL.md section 7), neutral by default
    R = list(b.regions)
    m.pool_in = instrument(R, initialize=0.0, doc="1 if r's tariff revenue goes to the union's common pool")
    m.pool_share = instrument(R, initialize=0.0, doc="r's share of the pooled tariff revenue")
    m.fpool = instrument(sets.FM, initialize=0.0, doc="1 if mobile factor f of region r moves freely within the union")
    m.any_fpool = instrument(sets.pooled_factors, initialize=0.0, doc="1 if factor f is pooled at all")
    if st.options.taxes:  # extension (docs/extensions.md section 4)
        to0, te0 = st.to0, st.te0
        m.to = instrument(sets.YR, initialize=lambda m, j, r: to0.get((j, r), 0.0), doc="ad valorem output tax to[j,r]")
        m.te = instrument(
            sets.ROUTES,
            initialize=lambda m, i, s, r: te0.get((i, s, r), 0.0),
            doc="ad valorem export tax te[i,s,r], levied by the source s",
        )


def fix_all(m: pyo.ConcreteModel) -> None:
    for name in INSTRUMENTS:
        if hasattr(m, name):
            getattr(m, name).fix()


def components(m: pyo.ConcreteModel) -> list:
    """The instrument components of a built model."""
    return [getattr(m, k) for k in INSTRUMENTS if hasattr(m, k)]


def set_instruments(m: pyo.ConcreteModel, st: Structure, ins) -> None:
    """Set the mutable parameters from an :class:`~cge.scenario.Instruments` (full arrays).

    ``tariff``, ``tau``, ``export_tax``: (sector, source, dest); ``output_tax``: (sector, region);
    ``endowment``: (factor, sector, region) multiplicative scale of the benchmark factor use (a
    mobile factor's endowment is ``sum_j F0 * scale``).  Taxes that differ from zero need a model
    built with the tax instruments (:class:`InputError` otherwise).
    """
    b, sets, at = st.bm, st.sets, st.bm.coords.at
    check_instruments(st, ins)
    _assign(m.t, sets.ROUTES, ins.tariff, ROUTE, st)
    _assign(m.tau, sets.ROUTES, ins.tau, ROUTE, st)
    if st.options.taxes:
        _assign(m.te, sets.ROUTES, ins.export_tax, ROUTE, st)
        _assign(m.to, sets.YR, ins.output_tax, SECTOR_REGION, st)
    endowment = b.F0 * ins.endowment
    _assign(m.endow_m, sets.FM, endowment.sum(axis=1), FACTOR_REGION, st)
    _assign(m.endow_s, sets.FS, endowment, FACTOR_SECTOR_REGION, st)
    m.PNUM = float(ins.pnum)
    for r in b.regions:
        m.pool_in[r] = at(ins.revenue_pool, ("region",), r)
        m.pool_share[r] = at(ins.revenue_share, ("region",), r)
    _assign(m.fpool, sets.FM, ins.factor_pool, FACTOR_REGION, st)
    for f in m.any_fpool:
        m.any_fpool[f] = float(ins.factor_pool[b.coords.index(("factor",), f)].any())


def check_instruments(st: Structure, ins) -> None:
    """Refuse instruments the model cannot take: taxes without the tax instruments, a capital
    shock under the steady-state closure (:class:`InputError`)."""
    if not st.options.taxes and (
        np.any(ins.output_tax != 0) or np.any(ins.export_tax[:, ~np.eye(len(st.bm.regions), dtype=bool)] != 0)
    ):
        raise InputError(
            "output or export taxes are set, but this model was built without the tax "
            "instruments: build it with model option taxes: true (docs/extensions.md)"
        )
    _check_capital(st, ins)


#: instrument component -> (its variables at the keys, their positions in the arrays): looked up
#: once per model, since a model is re-solved many times (wiod2011: 57,400 routes a solve)
_SLOTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _assign(var, keys: list, values: np.ndarray, dims: tuple[str, ...], st: Structure) -> None:
    """``var[k] = values`` at the position of label tuple ``k`` along ``dims``, for every ``k`` in ``keys``."""
    slots = _SLOTS.get(var)
    if slots is None:
        where = np.array([st.bm.coords.index(dims, k) for k in keys], dtype=np.intp).reshape(len(keys), len(dims))
        slots = _SLOTS[var] = ([var[k] for k in keys], tuple(where.T))
    for v, x in zip(slots[0], np.asarray(values, dtype=float)[slots[1]].tolist()):
        v.set_value(x, skip_validation=True)


def _check_capital(st: Structure, ins) -> None:
    """Under the steady-state closure the capital stock is an unknown (docs/dynamics.md section
    4.2): an endowment shock to capital, or pooling it in a common market, is refused."""
    cap = st.capital
    if cap is None:
        return
    k = st.bm.factors.index(cap.factor)
    if np.any(np.abs(ins.endowment[k][cap.cell_mask] - 1.0) > 0):
        raise InputError(
            f"an endowment shock to {cap.factor} under model.capital.closure: steady_state: the capital "
            f"stock is then an unknown (docs/dynamics.md section 4.2); shock another factor, or use closure: fixed"
        )
    if np.any(ins.factor_pool[k] != 0):
        raise InputError(
            f"a common market pools {cap.factor}, but under model.capital.closure: steady_state its "
            f"rental rate is fixed in each region (docs/dynamics.md section 4.2); leave it out of the pooled factors"
        )


def check_elasticity(st: Structure, name: str, sector: str, value: float) -> None:
    """Refuse an elasticity a nest cannot take (:class:`InputError` naming the parameter and sector).

    A nest whose dataset elasticity is exactly 1 (Cobb-Douglas) or 0 (Leontief) is built in that
    form: its elasticity cannot change.  A generic CES elasticity must be finite, non-negative and
    not within 1e-6 of 1 (the CES form divides by ``1 - sigma``).
    """
    key = (name, sector)
    if key in st.structural:
        if value != st.structural[key]:
            form = "Cobb-Douglas" if st.structural[key] == 1.0 else "Leontief"
            raise InputError(
                f"{name}[{sector}] is exactly {st.structural[key]:g} in the dataset, so that nest is "
                f"built in {form} form (MODEL.md section 5) and its elasticity cannot be varied "
                f"(got {value:g}); leave sector {sector} out of the uncertain {name}"
            )
    elif not np.isfinite(value) or value < 0:
        raise InputError(f"{name}[{sector}]: an elasticity must be finite and >= 0, got {value:g}")
    elif abs(value - 1.0) < 1e-6:
        raise InputError(
            f"{name}[{sector}] = {value:.9g}: a generic CES elasticity must not be within 1e-6 "
            f"of 1 (the CES form divides by 1 - sigma)"
        )


def set_elasticities(m: pyo.ConcreteModel | None, st: Structure, **given) -> None:
    """Set the elasticities (arrays by sector, in the dataset's order; absent or ``None`` keeps them)
    in the Pyomo model ``m`` (if built) and the benchmark (which the model on arrays reads).

    The benchmark stays an equilibrium (calibrated share form), so no recalibration is needed.
    The benchmark's arrays are replaced too, so the accounts and effects that are computed from a
    solution use the same values.
    """
    b = st.bm
    new = {}
    for name in ELASTICITIES:
        if given.get(name) is None:
            continue
        vals = np.asarray(given[name], dtype=float).reshape(-1)
        if vals.shape != (len(b.sectors),):
            raise InputError(f"{name}: expected {len(b.sectors)} values (one per sector), got {vals.shape[0]}")
        for i, v in zip(b.sectors, vals):
            check_elasticity(st, name, i, float(v))
        new[name] = vals
    for name, vals in new.items():
        for i, v in zip(b.sectors, vals):
            if m is not None and (name, i) not in st.structural:
                getattr(m, name)[i] = float(v)
        object.__setattr__(b, name, vals.copy())  # Benchmark is frozen; the accounts read these
