"""The core model of MODEL.md sections 3-5 in Pyomo, built once, re-solved for every scenario.

Units, stated once: every price and activity is an index equal to 1 in the benchmark; quantities
(``D``, ``M``, ``X``, ``A``, ``C``, ``FD``) are in benchmark-value units (currency units at
benchmark prices, so e.g. ``X0 = trade``); income enters as the index ``inc = INC / INC0``.
Each equation is divided by its benchmark value, so residuals are relative (1e-8 means 1e-8 of the
benchmark flow of that market or account).

The blocks follow MODEL.md section 5:

* prices      -- ``PG``, ``PA``, ``PVA``, ``PU`` (expressions), ``PM`` (CES unit cost, an unknown)
* production  -- zero profit with Leontief between value added and each intermediate
* trade       -- sourcing ``D``, ``M``, ``X`` (CES demands)
* demand      -- final demand ``C``, composite demand ``A`` (an unknown), factor demand ``FD``
* markets     -- output clearing, factor clearing (one of them dropped: Walras)
* income      -- factor income + tariff revenue (an unknown, ``TRS`` = revenue / INC0, with its own
                 equation ``tariff_def``, so that revenue pooling adds regional totals) + trade
                 balance; the numeraire

Scenario instruments (tariffs ``t``, iceberg costs ``tau``, endowments, the numeraire ``PNUM``)
are mutable parameters of the system: fixed Pyomo variables (:func:`instrument`), so that the
Newton solver's model file carries them as variables and is written once (:mod:`cge.newton`).  A
counterfactual is set-and-resolve, never a rebuild.  So are the
elasticities ``esubd``, ``esubm``, ``esubva`` (for sensitivity analysis, :mod:`cge.ssa`), except
where the dataset's value is exactly 1 or 0: those nests are built in Cobb-Douglas or Leontief
form (MODEL.md section 5) and their elasticity is structural.

Extensions (docs/extensions.md), chosen by :class:`~cge.options.ModelOptions` when the model is
built and all off by default: CES production nests (``PINT``, ``PC``; elasticities ``esubt``,
``esubc``), CES final demand (``esubfd``), CET between domestic sales and exports (unknowns ``PD``,
``PE``, equations ``cet_price``, ``cet_split``), output and export taxes (mutable ``to``, ``te``),
and the closure (the ``trade_balance`` term of income, the ``numeraire`` equation).  At their
neutral values the options build exactly the core's expressions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from cge.model.benchmark import Benchmark
from cge.errors import InputError
from cge.scenario.options import ModelOptions

#: lower bound of every price and activity index (keeps CES powers real)
LB = 1e-9


def instrument(*index, initialize, doc):
    """A scenario instrument or elasticity: a Pyomo variable held fixed (:meth:`CoreModel._build`
    fixes them all), so that it is a mutable parameter of the system.

    A fixed variable rather than a mutable ``Param`` so that the model file the Newton solver
    evaluates (:mod:`cge.newton`) can carry instruments as variables: it is written once per model
    and a counterfactual only changes their values.  Pyomo's IPOPT route writes fixed variables as
    constants, exactly like parameters.
    """
    return pyo.Var(*index, initialize=initialize, doc=doc, dense=True)


def ces_price(terms, sigma: float):
    """CES unit cost ``(sum theta * p^(1-sigma))^(1/(1-sigma))`` for ``terms = [(theta, p), ...]``.

    ``p`` are prices relative to their benchmark, ``theta`` benchmark value shares summing to 1.
    An elasticity of exactly 1 is Cobb-Douglas ``prod p^theta``; 0 is Leontief ``sum theta * p``.
    ``sigma`` may be a number or an instrument variable (then always the generic CES form: the
    model passes numbers for the Cobb-Douglas and Leontief nests, see :meth:`CoreModel.sigma`).
    """
    terms = [(th, p) for th, p in terms if th > 0]
    if len(terms) == 1:  # a single input: the price itself, whatever sigma is
        return terms[0][1]
    if isinstance(sigma, (int, float, np.floating)) and sigma == 1.0:
        out = 1.0
        for th, p in terms:
            out = out * p ** th
        return out
    if isinstance(sigma, (int, float, np.floating)) and sigma == 0.0:
        return sum(th * p for th, p in terms)
    return sum(th * p ** (1.0 - sigma) for th, p in terms) ** (1.0 / (1.0 - sigma))


@dataclass(frozen=True)
class Index:
    """The sparse index sets: only cells with a positive benchmark get variables and equations."""

    YR: list      # (j, r) with output Y0 > 0
    AR: list      # (i, r) with composite A0 > 0
    DR: list      # (i, r) with domestic sales D0 > 0
    MR: list      # (i, r) with imports M0 > 0
    VR: list      # (j, r) with value added VA0 > 0
    ROUTES: list  # (i, s, r), s != r, with imports X0 > 0
    FM: list      # (f, r) mobile factor with endowment > 0
    FS: list      # (f, j, r) specific factor with F0 > 0
    FU: list      # (f, j, r) factor use F0 > 0 (mobile and specific)
    NEST: list    # (j, r) in YR with a production nest (esubt or esubc not 0; extension)
    CET: list     # (i, r) in YR with a finite CET elasticity, domestic sales and exports (extension)


class CoreModel:
    """MODEL.md's model for one benchmark; ``instance`` is the Pyomo ``ConcreteModel``."""

    #: the elasticity parameters, by sector
    ELASTICITIES = ("esubd", "esubm", "esubva")
    #: the fixed variables that act as mutable parameters (:func:`instrument`)
    INSTRUMENTS = ELASTICITIES + ("t", "tau", "endow_m", "endow_s", "PNUM", "pool_in", "pool_share",
                                  "fpool", "any_fpool", "to", "te")

    def __init__(self, bench: Benchmark, options: ModelOptions | None = None):
        #: the options (docs/extensions.md); their elasticity overrides are applied to the benchmark
        self.options = options or ModelOptions()
        bench = self.options.apply(bench)
        self.bench = bench
        #: the dataset's elasticities (the calibrated values, kept when draws change them)
        self.esub0 = {k: np.array(getattr(bench, k), dtype=float) for k in self.ELASTICITIES}
        #: (parameter, sector) -> value for the nests built in Cobb-Douglas (1) or Leontief (0) form
        self.structural = {(k, i): float(v) for k in self.ELASTICITIES
                           for i, v in zip(bench.sectors, self.esub0[k]) if v in (0.0, 1.0)}
        self.idx = self._index()
        #: the benchmark value of the unknowns that do not start at 1: {component name: value or {index: value}}
        self.start = {"NF": 0.0}
        self.instance = self._build()
        self.dropped = self._choose_dropped()
        self.instance.output_clearing[self.dropped].deactivate()

    # ------------------------------------------------------------------ index sets
    def _index(self) -> Index:
        b = self.bench
        I, R, F = b.sectors, b.regions, b.factors
        Y0, A0, D0, M0, VA0, X0, F0 = b.Y0, b.A0, b.D0, b.M0, b.VA0, b.X0, b.F0
        ir = [(i, r) for a, i in enumerate(I) for c, r in enumerate(R)]
        pos = {(i, r): (a, c) for a, i in enumerate(I) for c, r in enumerate(R)}
        mobile = [b.mobility[k] == "mobile" for k in range(len(F))]
        exports0 = X0.sum(axis=2)              # not Y0 - D0, which rounding can leave at 1e-14
        return Index(
            YR=[k for k in ir if Y0[pos[k]] > 0],
            AR=[k for k in ir if A0[pos[k]] > 0],
            DR=[k for k in ir if D0[pos[k]] > 0],
            MR=[k for k in ir if M0[pos[k]] > 0],
            VR=[k for k in ir if VA0[pos[k]] > 0],
            ROUTES=[(i, s, r) for a, i in enumerate(I) for c, s in enumerate(R) for e, r in enumerate(R)
                    if c != e and X0[a, c, e] > 0],
            FM=[(f, r) for k, f in enumerate(F) if mobile[k] for c, r in enumerate(R)
                if b.endowment0[k, c] > 0],
            FS=[(f, j, r) for k, f in enumerate(F) if not mobile[k] for a, j in enumerate(I)
                for c, r in enumerate(R) if F0[k, a, c] > 0],
            FU=[(f, j, r) for k, f in enumerate(F) for a, j in enumerate(I) for c, r in enumerate(R)
                if F0[k, a, c] > 0],
            NEST=[k for k in ir if Y0[pos[k]] > 0 and (b.esubt_[pos[k][0]] != 0 or b.esubc_[pos[k][0]] != 0)],
            CET=[k for k in ir if np.isfinite(b.etrans_[pos[k][0]]) and D0[pos[k]] > 0 and exports0[pos[k]] > 0],
        )

    def _choose_dropped(self):
        """The output market left out (Walras): the largest, ties broken by codes.

        The choice depends only on the data, not on the order of regions or sectors.
        """
        Y0 = self.p("Y0")
        return max(self.idx.YR, key=lambda k: (Y0[k], k))

    def p(self, name: str) -> dict:
        """A benchmark array as a dict keyed by labels (only nonzero cells)."""
        b = self.bench
        arr = getattr(b, name)
        labels = {2: (b.sectors, b.regions), 3: (b.sectors, b.regions, b.regions)}
        if name in ("F0", "thF"):
            labels[3] = (b.factors, b.sectors, b.regions)
        if name == "intermediate":
            labels[3] = (b.sectors, b.sectors, b.regions)
        if name == "endowment0":
            labels[2] = (b.factors, b.regions)
        dims = labels[arr.ndim]
        nz = np.argwhere(arr != 0)
        return {tuple(dims[d][k] for d, k in enumerate(pos)): float(arr[tuple(pos)]) for pos in nz}

    # ------------------------------------------------------------------ build
    def _build(self) -> pyo.ConcreteModel:
        b, ix, opt = self.bench, self.idx, self.options
        m = pyo.ConcreteModel(name="cge_core")
        R, I = list(b.regions), list(b.sectors)
        mobile = {f: mob == "mobile" for f, mob in zip(b.factors, b.mobility)}
        # elasticities: instruments (mutable), used as numbers where the dataset makes the nest
        # Cobb-Douglas (exactly 1) or Leontief (0) -- those forms are structural
        m.esubd = instrument(I, initialize=dict(zip(I, map(float, b.esubd))),
                             doc="Armington elasticity, domestic vs imported")
        m.esubm = instrument(I, initialize=dict(zip(I, map(float, b.esubm))),
                             doc="elasticity between import sources")
        m.esubva = instrument(I, initialize=dict(zip(I, map(float, b.esubva))),
                              doc="elasticity between factors in value added")
        esubd = {i: self.sigma(m, "esubd", i) for i in I}
        esubm = {i: self.sigma(m, "esubm", i) for i in I}
        esubva = {i: self.sigma(m, "esubva", i) for i in I}
        # extension elasticities (docs/extensions.md), numbers fixed when the model is built
        esubt = dict(zip(I, map(float, b.esubt_)))
        esubc = dict(zip(I, map(float, b.esubc_)))
        esubfd = dict(zip(R, map(float, b.esubfd_)))
        etrans = dict(zip(I, map(float, b.etrans_)))
        Y0, D0, M0, A0, VA0 = self.p("Y0"), self.p("D0"), self.p("M0"), self.p("A0"), self.p("VA0")
        X0, PG0, thM, F0, thF = self.p("X0"), self.p("PG0"), self.p("thM"), self.p("F0"), self.p("thF")
        thD, beta, fd0 = self.p("thD"), self.p("beta"), self.p("final_demand")
        inter = self.p("intermediate")
        INC0 = dict(zip(R, b.INC0))
        B = dict(zip(R, b.B))
        E0 = self.p("endowment0")
        t0 = self.p("tariff0")
        taxes = opt.taxes
        to0, te0, COST0 = self.p("to0"), self.p("te0"), self.p("COST0")

        users_of = {k: [] for k in ix.AR}          # (i, r) -> [(j, a_ijr)]
        inputs_of = {k: [] for k in ix.YR}         # (j, r) -> [(i, a_ijr)]
        for (i, j, r), v in inter.items():
            users_of[(i, r)].append((j, v))
            inputs_of[(j, r)].append((i, v))
        routes_into = {k: [] for k in ix.MR}       # (i, r) -> [s]
        routes_from = {k: [] for k in ix.YR}       # (i, s) -> [r]
        for (i, s, r) in ix.ROUTES:
            routes_into[(i, r)].append(s)
            routes_from[(i, s)].append(r)
        factors_of = {k: [] for k in ix.VR}        # (j, r) -> [f]
        for (f, j, r) in ix.FU:
            factors_of[(j, r)].append(f)

        # ---- instruments (fixed variables: mutable parameters of the system)
        m.t = instrument(ix.ROUTES, initialize=lambda m, i, s, r: t0.get((i, s, r), 0.0),
                         doc="ad valorem import tariff t[i,s,r]")
        m.tau = instrument(ix.ROUTES, initialize=1.0,
                           doc="iceberg trade cost factor tau[i,s,r] (1 in the benchmark)")
        m.endow_m = instrument(ix.FM, initialize=lambda m, f, r: E0[(f, r)],
                               doc="endowment of a mobile factor in region r (benchmark value units)")
        m.endow_s = instrument(ix.FS, initialize=lambda m, f, j, r: F0[(f, j, r)],
                               doc="endowment of a sector-specific factor (benchmark value units)")
        m.PNUM = instrument(initialize=1.0, doc="numeraire (MODEL.md: world average factor price)")
        # stage instruments (MODEL.md section 7), neutral by default
        m.pool_in = instrument(R, initialize=0.0,
                               doc="1 if r's tariff revenue goes to the union's common pool")
        m.pool_share = instrument(R, initialize=0.0, doc="r's share of the pooled tariff revenue")
        m.fpool = instrument(ix.FM, initialize=0.0,
                             doc="1 if mobile factor f of region r moves freely within the union")
        FMOB = sorted({f for f, _ in ix.FM}, key=b.factors.index)
        m.any_fpool = instrument(FMOB, initialize=0.0, doc="1 if factor f is pooled at all")
        if taxes:   # extension (docs/extensions.md section 4)
            m.to = instrument(ix.YR, initialize=lambda m, j, r: to0.get((j, r), 0.0),
                              doc="ad valorem output tax to[j,r]")
            m.te = instrument(ix.ROUTES, initialize=lambda m, i, s, r: te0.get((i, s, r), 0.0),
                              doc="ad valorem export tax te[i,s,r], levied by the source s")

        # ---- unknowns (indices, 1 in the benchmark)
        m.PY = pyo.Var(ix.YR, initialize=1.0, bounds=(LB, None), doc="output price")
        m.Y = pyo.Var(ix.YR, initialize=1.0, bounds=(0.0, None), doc="activity level")
        m.PM = pyo.Var(ix.MR, initialize=1.0, bounds=(LB, None), doc="import price index")
        m.Wm = pyo.Var(ix.FM, initialize=1.0, bounds=(LB, None), doc="price of a mobile factor")
        m.Ws = pyo.Var(ix.FS, initialize=1.0, bounds=(LB, None), doc="price of a sector-specific factor")
        m.inc = pyo.Var(R, initialize=1.0, doc="income index INC/INC0")
        m.QA = pyo.Var(ix.AR, initialize=1.0, bounds=(0.0, None), doc="composite demand index A/A0")
        m.NF = pyo.Var(ix.FM, initialize=0.0, doc="net inflow of a pooled factor (benchmark value units)")
        m.WU = pyo.Var(FMOB, initialize=1.0, bounds=(LB, None), doc="union-wide price of a pooled factor")
        if ix.CET:  # extension: CET between domestic sales and exports (docs/extensions.md section 3)
            m.PD = pyo.Var(ix.CET, initialize=1.0, bounds=(LB, None), doc="price of domestic sales (CET)")
            m.PE = pyo.Var(ix.CET, initialize=1.0, bounds=(LB, None), doc="price of exports (CET)")
        cet = set(ix.CET)

        def W(f, j, r):
            return m.Wm[f, r] if mobile[f] else m.Ws[f, j, r]

        def PD(i, r):   # what domestic buyers pay: PY, or the CET's domestic price
            return m.PD[i, r] if (i, r) in cet else m.PY[i, r]

        def PE(i, r):   # what foreign buyers pay before export taxes: PY, or the CET's export price
            return m.PE[i, r] if (i, r) in cet else m.PY[i, r]

        # ================================================================ prices
        if taxes:
            m.PG = pyo.Expression(ix.ROUTES, rule=lambda m, i, s, r: PE(i, s) * (1 + m.te[i, s, r]) * m.tau[i, s, r]
                                  * (1 + m.t[i, s, r]), doc="gross import price PG = PE[i,s] * (1 + te) * tau * (1 + t)")
        else:
            m.PG = pyo.Expression(ix.ROUTES, rule=lambda m, i, s, r: PE(i, s) * m.tau[i, s, r] * (1 + m.t[i, s, r]),
                                  doc="gross import price PG = PY[i,s] * tau * (1 + t)")
        m.pm_def = pyo.Constraint(ix.MR, rule=lambda m, i, r: m.PM[i, r] == ces_price(
            [(thM[(i, s, r)], m.PG[i, s, r] / PG0[(i, s, r)]) for s in routes_into[(i, r)]], esubm[i]))

        # PA and PVA are closed-form CES unit costs of local prices: kept as expressions, which
        # keeps the system small (IPOPT's sparse factorisation grows with the cube of its size)
        def pa_rule(m, i, r):
            terms = []
            if (i, r) in D0:
                terms.append((thD[(i, r)], PD(i, r)))
            if (i, r) in M0:
                terms.append((1.0 - thD.get((i, r), 0.0), m.PM[i, r]))
            return ces_price(terms, esubd[i])
        m.PA = pyo.Expression(ix.AR, rule=pa_rule, doc="Armington composite price (CES of PY and PM)")
        m.PVA = pyo.Expression(ix.VR, rule=lambda m, j, r: ces_price(
            [(thF[(f, j, r)], W(f, j, r)) for f in factors_of[(j, r)]], esubva[j]),
            doc="value-added price (CES of factor prices)")
        m.PU = pyo.Expression(R, rule=lambda m, r: ces_price(
            [(beta[(i, r)], m.PA[i, r]) for i in I if (i, r) in beta], esubfd[r]),
            doc="utility price (Cobb-Douglas over composites; CES with the esubfd extension)")

        # ================================================================ production
        # the core: Leontief between value added and each intermediate.  Extension (esubt, esubc):
        # unit cost PC = CES_esubt(VA: PVA, intermediates: PINT), PINT = CES_esubc(PA)
        nested = set(ix.NEST)
        INT0 = {k: sum(a for _, a in inputs_of[k]) for k in ix.NEST}
        m.PINT = pyo.Expression([k for k in ix.NEST if INT0[k] > 0], rule=lambda m, j, r: ces_price(
            [(a / INT0[(j, r)], m.PA[i, r]) for i, a in inputs_of[(j, r)]], esubc[j]),
            doc="intermediate bundle price (extension esubc)")
        m.PC = pyo.Expression(ix.NEST, rule=lambda m, j, r: ces_price(
            [(VA0.get((j, r), 0.0) / COST0[(j, r)], m.PVA[j, r] if (j, r) in VA0 else 1.0),
             (INT0[(j, r)] / COST0[(j, r)], m.PINT[j, r] if INT0[(j, r)] > 0 else 1.0)], esubt[j]),
            doc="unit cost index (extension esubt)")

        def unit_cost(j, r):   # cost per unit of activity, as a share of Y0
            if (j, r) in nested:
                return COST0[(j, r)] / Y0[(j, r)] * m.PC[j, r]
            return (sum(a / Y0[(j, r)] * m.PA[i, r] for i, a in inputs_of[(j, r)])
                    + (VA0[(j, r)] / Y0[(j, r)] * m.PVA[j, r] if (j, r) in VA0 else 0.0))
        if taxes:
            m.zero_profit = pyo.Constraint(ix.YR, rule=lambda m, j, r: m.PY[j, r] / (1 + m.to[j, r]) == unit_cost(j, r))
        else:
            m.zero_profit = pyo.Constraint(ix.YR, rule=lambda m, j, r: m.PY[j, r] == unit_cost(j, r))

        def input_demand(i, j, a, r):   # intermediate i used by j in r (INTD)
            if (j, r) not in nested:
                return a * m.Y[j, r]
            out = a * m.Y[j, r]
            if esubt[j] != 0.0:
                out = out * (m.PC[j, r] / m.PINT[j, r]) ** esubt[j]
            if esubc[j] != 0.0:
                out = out * (m.PINT[j, r] / m.PA[i, r]) ** esubc[j]
            return out

        # ================================================================ demand
        def c_rule(m, i, r):
            if esubfd[r] == 1.0:
                return fd0.get((i, r), 0.0) * m.inc[r] / m.PA[i, r]
            return fd0.get((i, r), 0.0) * m.inc[r] / m.PU[r] * (m.PU[r] / m.PA[i, r]) ** esubfd[r]
        m.C = pyo.Expression(ix.AR, rule=c_rule, doc="final demand C = beta * INC / PA (CES: times (PU/PA)^(esubfd-1))")
        # composite demand A = sum_j intermediate * Y + C.  A is kept as an unknown (the index QA)
        # so that the sourcing demands below depend on a few local unknowns: the Jacobian stays
        # sparse (with A substituted, every trade flow would depend on every activity of its region)
        m.A = pyo.Expression(ix.AR, rule=lambda m, i, r: A0[(i, r)] * m.QA[i, r], doc="composite demand A")
        m.composite_demand = pyo.Constraint(ix.AR, rule=lambda m, i, r: m.QA[i, r] == (
            sum(input_demand(i, j, a, r) for j, a in users_of[(i, r)]) + m.C[i, r]) / A0[(i, r)])

        # ================================================================ trade (sourcing)
        m.D = pyo.Expression(ix.DR, rule=lambda m, i, r: D0[(i, r)] * m.QA[i, r]
                             * (m.PA[i, r] / PD(i, r)) ** esubd[i], doc="domestic sales")
        m.M = pyo.Expression(ix.MR, rule=lambda m, i, r: M0[(i, r)] * m.QA[i, r]
                             * (m.PA[i, r] / m.PM[i, r]) ** esubd[i], doc="import composite")
        m.X = pyo.Expression(ix.ROUTES, rule=lambda m, i, s, r: X0[(i, s, r)] * (m.M[i, r] / M0[(i, r)])
                             * (m.PM[i, r] / (m.PG[i, s, r] / PG0[(i, s, r)])) ** esubm[i],
                             doc="delivered imports from s")

        def fd_rule(m, f, j, r):
            out = F0[(f, j, r)] * m.Y[j, r]
            if (j, r) in nested and esubt[j] != 0.0:
                out = out * (m.PC[j, r] / m.PVA[j, r]) ** esubt[j]
            return out * (m.PVA[j, r] / W(f, j, r)) ** esubva[j]
        m.FD = pyo.Expression(ix.FU, rule=fd_rule, doc="factor demand")

        # ================================================================ markets
        def exports(i, r):
            return sum(m.tau[i, r, s] * m.X[i, r, s] for s in routes_from[(i, r)])

        def clearing_rule(m, i, r):
            if (i, r) in cet:   # value balance of the CET (docs/extensions.md section 3)
                return m.Y[i, r] == (m.PD[i, r] / m.PY[i, r] * m.D[i, r]
                                     + m.PE[i, r] / m.PY[i, r] * exports(i, r)) / Y0[(i, r)]
            return m.Y[i, r] == ((m.D[i, r] if (i, r) in D0 else 0.0) + exports(i, r)) / Y0[(i, r)]
        m.output_clearing = pyo.Constraint(ix.YR, rule=clearing_rule)
        E0x = {k: sum(X0[(k[0], k[1], s)] for s in routes_from[k]) for k in ix.CET}   # benchmark exports
        m.cet_price = pyo.Constraint(ix.CET, rule=lambda m, i, r: m.PY[i, r] == ces_price(   # CET = CES at -eta
            [(D0[(i, r)] / Y0[(i, r)], m.PD[i, r]), (1.0 - D0[(i, r)] / Y0[(i, r)], m.PE[i, r])], -etrans[i]))
        m.cet_split = pyo.Constraint(ix.CET, rule=lambda m, i, r: (   # supply ratio ES/E0 : DS/D0 = (PE/PD)^eta
            exports(i, r) / E0x[(i, r)] == m.D[i, r] / D0[(i, r)] * (m.PE[i, r] / m.PD[i, r]) ** etrans[i]))
        fm_users = {k: [] for k in ix.FM}
        for (f, j, r) in ix.FU:
            if mobile[f]:
                fm_users[(f, r)].append(j)
        m.factor_clearing_mobile = pyo.Constraint(ix.FM, rule=lambda m, f, r: sum(
            m.FD[f, j, r] for j in fm_users[(f, r)]) / E0[(f, r)] == (m.endow_m[f, r] + m.NF[f, r]) / E0[(f, r)])
        # common market (MODEL.md section 7.4): a pooled factor has one union-wide price WU and
        # clears union-wide (net inflows sum to zero); elsewhere the net inflow is zero.
        # (a pooling share fpool between 0 and 1, used on the path of the welfare decomposition, is
        # partial mobility: the net inflow NF is proportional to the gap W - WU)
        m.factor_pool_link = pyo.Constraint(ix.FM, rule=lambda m, f, r: (1 - m.fpool[f, r]) * m.NF[f, r] / E0[(f, r)]
                                            == m.fpool[f, r] * (m.Wm[f, r] - m.WU[f]))
        e_tot = {f: sum(E0[k] for k in ix.FM if k[0] == f) for f in FMOB}
        m.factor_pool_clearing = pyo.Constraint(FMOB, rule=lambda m, f: sum(
            m.fpool[k] * m.NF[k] for k in ix.FM if k[0] == f) / e_tot[f] + (1 - m.any_fpool[f]) * (m.WU[f] - 1) == 0)
        m.factor_clearing_specific = pyo.Constraint(ix.FS, rule=lambda m, f, j, r:
                                                    m.FD[f, j, r] / F0[(f, j, r)] == m.endow_s[f, j, r] / F0[(f, j, r)])

        # ================================================================ income
        tariff_into = {r: [] for r in R}
        for (i, s, r) in ix.ROUTES:
            tariff_into[r].append((i, s))
        routes_out = {r: [] for r in R}
        for (i, s, r) in ix.ROUTES:
            routes_out[s].append((i, r))
        # tariff revenue is an unknown, TRS = revenue / INC0 (a share of benchmark income), with its
        # own equation: union pooling then adds regional totals, not every route of the world
        trs0 = dict(zip(R, np.asarray(b.tariff_revenue0) / np.asarray(b.INC0)))
        m.TRS = pyo.Var(R, initialize=trs0, doc="tariff revenue collected, as a share of benchmark income INC0")
        self.start[m.TRS.name] = trs0
        if taxes:   # the tariff is charged on the cif value, export tax included
            collected = {r: sum(m.t[i, s, r] * PE(i, s) * (1 + m.te[i, s, r]) * m.tau[i, s, r] * m.X[i, s, r]
                                for i, s in tariff_into[r]) for r in R}
            m.export_tax_revenue = pyo.Expression(R, rule=lambda m, s: sum(
                m.te[i, s, r] * PE(i, s) * m.tau[i, s, r] * m.X[i, s, r] for i, r in routes_out[s]))
            m.output_tax_revenue = pyo.Expression(R, rule=lambda m, r: sum(
                m.to[j, r] / (1 + m.to[j, r]) * m.PY[j, r] * m.Y[j, r] * Y0[(j, r)] for (j, rr) in ix.YR if rr == r))
        else:
            collected = {r: sum(m.t[i, s, r] * PE(i, s) * m.tau[i, s, r] * m.X[i, s, r] for i, s in tariff_into[r])
                         for r in R}
        m.tariff_def = pyo.Constraint(R, rule=lambda m, r: m.TRS[r] == collected[r] / INC0[r])
        m.tariff_revenue = pyo.Expression(R, rule=lambda m, r: INC0[r] * m.TRS[r], doc="tariff revenue collected")
        fm_of = {r: [f for (f, rr) in ix.FM if rr == r] for r in R}
        fs_of = {r: [(f, j) for (f, j, rr) in ix.FS if rr == r] for r in R}
        # each region is paid for its own endowment; a net inflow NF of a pooled factor earns the
        # host's price W and is bought from the pool at the union price WU (zero at both ends of
        # the path: NF = 0 outside a common market, W = WU inside one), so the world budget closes
        m.factor_income = pyo.Expression(R, rule=lambda m, r: sum(
            m.Wm[f, r] * m.endow_m[f, r] + (m.Wm[f, r] - m.WU[f]) * m.NF[f, r] for f in fm_of[r])
            + sum(m.Ws[f, j, r] * m.endow_s[f, j, r] for f, j in fs_of[r]))
        # customs union revenue sharing: pooled regions hand in their revenue and get a share back
        m.pooled_revenue = pyo.Expression(expr=sum(m.pool_in[r] * m.tariff_revenue[r] for r in R))
        m.revenue_received = pyo.Expression(R, rule=lambda m, r: (1 - m.pool_in[r]) * m.tariff_revenue[r]
                                            + m.pool_share[r] * m.pooled_revenue)
        # the closure (docs/extensions.md section 5): the trade balance term of income
        if opt.trade_balance == "numeraire":
            m.trade_balance = pyo.Expression(R, rule=lambda m, r: B[r] * m.PNUM,
                                             doc="trade deficit fixed in numeraire units")
        else:
            winc0 = float(sum(INC0.values()))
            m.trade_balance = pyo.Expression(R, rule=lambda m, r: B[r] / winc0 * sum(
                INC0[s] * m.inc[s] for s in R), doc="trade deficit fixed as a share of world income")
        if taxes:
            m.income = pyo.Constraint(R, rule=lambda m, r: m.inc[r] == (
                m.factor_income[r] + m.revenue_received[r] + m.export_tax_revenue[r] + m.output_tax_revenue[r]
                + m.trade_balance[r]) / INC0[r])
        else:
            m.income = pyo.Constraint(R, rule=lambda m, r: m.inc[r] == (
                m.factor_income[r] + m.revenue_received[r] + m.trade_balance[r]) / INC0[r])

        # numeraire (MODEL.md): benchmark-weighted world average factor price (GTAP's pfactwld) = PNUM;
        # or another index chosen by the closure
        kind = opt.numeraire[0]
        if kind == "utility_price":
            m.numeraire = pyo.Constraint(expr=m.PU[opt.numeraire[1]] == m.PNUM)
        else:
            fm, fs = ix.FM, ix.FS
            if kind == "factor_price":
                region, factor = opt.numeraire[1], opt.numeraire[2]
                fm = [k for k in fm if k[1] == region and factor in (None, k[0])]
                fs = [k for k in fs if k[2] == region and factor in (None, k[0])]
            wsum = sum(E0[k] for k in fm) + sum(F0[k] for k in fs)
            m.numeraire = pyo.Constraint(expr=(sum(E0[k] * m.Wm[k] for k in fm)
                                               + sum(F0[k] * m.Ws[k] for k in fs)) / wsum == m.PNUM)
        m.obj = pyo.Objective(expr=0.0)  # a square system: feasibility only
        for name in self.INSTRUMENTS:
            if hasattr(m, name):
                getattr(m, name).fix()
        return m

    def instruments(self) -> list:
        """The instrument components (fixed variables acting as mutable parameters)."""
        return [getattr(self.instance, k) for k in self.INSTRUMENTS if hasattr(self.instance, k)]

    def unknowns(self):
        """The unknowns of the system: every variable that is not an instrument."""
        skip = {id(c) for c in self.instruments()}
        return (v for v in self.instance.component_data_objects(pyo.Var)
                if id(v.parent_component()) not in skip)

    def sigma(self, m, name: str, sector: str):
        """The elasticity used in the expressions: a number for a structural (0 or 1) nest, else the
        instrument variable."""
        key = (name, sector)
        return self.structural[key] if key in self.structural else getattr(m, name)[sector]

    # ------------------------------------------------------------------ elasticities
    def set_elasticities(self, esubd=None, esubm=None, esubva=None) -> None:
        """Set the elasticities (arrays by sector, in the dataset's order; ``None`` keeps the current ones).

        The benchmark stays an equilibrium (calibrated share form), so no recalibration is needed.
        A nest whose dataset elasticity is exactly 1 (Cobb-Douglas) or 0 (Leontief) is built in that
        form: its elasticity cannot change (:class:`InputError` naming the sector). A generic CES
        elasticity must be finite, non-negative and not within 1e-6 of 1 (the CES form divides by
        ``1 - sigma``). The benchmark's arrays are replaced too, so the accounts and effects that
        are computed from a solution use the same values.
        """
        b, m = self.bench, self.instance
        new = {}
        for name, vals in (("esubd", esubd), ("esubm", esubm), ("esubva", esubva)):
            if vals is None:
                continue
            vals = np.asarray(vals, dtype=float).reshape(-1)
            if vals.shape != (len(b.sectors),):
                raise InputError(f"{name}: expected {len(b.sectors)} values (one per sector), got {vals.shape[0]}")
            for i, v in zip(b.sectors, vals):
                key = (name, i)
                if key in self.structural:
                    if v != self.structural[key]:
                        form = "Cobb-Douglas" if self.structural[key] == 1.0 else "Leontief"
                        raise InputError(
                            f"{name}[{i}] is exactly {self.structural[key]:g} in the dataset, so that nest is "
                            f"built in {form} form (MODEL.md section 5) and its elasticity cannot be varied "
                            f"(got {v:g}); leave sector {i} out of the uncertain {name}")
                elif not np.isfinite(v) or v < 0:
                    raise InputError(f"{name}[{i}]: an elasticity must be finite and >= 0, got {v:g}")
                elif abs(v - 1.0) < 1e-6:
                    raise InputError(f"{name}[{i}] = {v:.9g}: a generic CES elasticity must not be within 1e-6 "
                                     f"of 1 (the CES form divides by 1 - sigma)")
            new[name] = vals
        for name, vals in new.items():
            par = getattr(m, name)
            for i, v in zip(b.sectors, vals):
                if (name, i) not in self.structural:
                    par[i] = float(v)
            object.__setattr__(b, name, vals.copy())   # Benchmark is frozen; accounts read these

    def elasticities(self) -> dict:
        """The elasticities in use: {name: array by sector}."""
        return {k: np.array(getattr(self.bench, k), dtype=float) for k in self.ELASTICITIES}

    # ------------------------------------------------------------------ instruments
    def set_instruments(self, ins) -> None:
        """Set the mutable parameters from an :class:`~cge.scenario.Instruments` (full arrays).

        ``tariff``, ``tau``, ``export_tax``: (sector, source, dest); ``output_tax``: (sector, region);
        ``endowment``: (factor, sector, region) multiplicative scale of the benchmark factor use (a
        mobile factor's endowment is ``sum_j F0 * scale``).  Taxes that differ from zero need a model
        built with the tax instruments (:class:`InputError` otherwise).
        """
        b, m = self.bench, self.instance
        si = {x: k for k, x in enumerate(b.sectors)}
        ri = {x: k for k, x in enumerate(b.regions)}
        fi = {x: k for k, x in enumerate(b.factors)}
        tariff, tau, endowment = ins.tariff, ins.tau, ins.endowment
        for (i, s, r) in self.idx.ROUTES:
            m.t[i, s, r] = float(tariff[si[i], ri[s], ri[r]])
            m.tau[i, s, r] = float(tau[si[i], ri[s], ri[r]])
        if self.options.taxes:
            for (i, s, r) in self.idx.ROUTES:
                m.te[i, s, r] = float(ins.export_tax[si[i], ri[s], ri[r]])
            for (j, r) in self.idx.YR:
                m.to[j, r] = float(ins.output_tax[si[j], ri[r]])
        elif np.any(ins.output_tax != 0) or np.any(ins.export_tax[:, ~np.eye(len(b.regions), dtype=bool)] != 0):
            raise InputError("output or export taxes are set, but this model was built without the tax "
                             "instruments: build it with model option taxes: true (docs/extensions.md)")
        endow = (b.F0 * endowment).sum(axis=1)
        for (f, r) in self.idx.FM:
            m.endow_m[f, r] = float(endow[fi[f], ri[r]])
        for (f, j, r) in self.idx.FS:
            m.endow_s[f, j, r] = float(b.F0[fi[f], si[j], ri[r]] * endowment[fi[f], si[j], ri[r]])
        m.PNUM = float(ins.pnum)
        for c, r in enumerate(b.regions):
            m.pool_in[r] = float(ins.revenue_pool[c])
            m.pool_share[r] = float(ins.revenue_share[c])
        for (f, r) in self.idx.FM:
            m.fpool[f, r] = float(ins.factor_pool[fi[f], ri[r]])
        for f in m.any_fpool:
            m.any_fpool[f] = float(ins.factor_pool[fi[f]].any())

    def reset_start(self) -> None:
        """Start the next solve from the benchmark (indices 1, net factor flows 0, benchmark revenue)."""
        for var in self.unknowns():
            var.set_value(self.benchmark_value(var))

    def benchmark_value(self, var) -> float:
        """The benchmark value of an unknown (:attr:`start`; 1 for every price and activity index)."""
        v = self.start.get(var.parent_component().name, 1.0)
        return v[var.index()] if isinstance(v, dict) else v
