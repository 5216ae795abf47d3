"""MODEL.md's model stated on arrays: the residuals and the exact sparse Jacobian of the same
square system as the Pyomo model (:mod:`cge.model.build`), without building it.

Pyomo builds an expression tree per cell and writes it to a model file: at GTAP size (141 regions
x 65 sectors) that takes minutes and gigabytes, and dominates a run.  Here every block of equations
is a handful of numpy operations on all of its cells at once, and the Jacobian comes with them
(:mod:`cge.model.dual`).  The Pyomo model stays the statement of the equations: this one has the
same unknowns, the same equations in the same scaling (each divided by its benchmark value), and
``tests/test_arrays.py`` checks its residuals and Jacobian against the Pyomo model's, read through
the AMPL Solver Library, to round-off on every dataset and option it supports.

It covers MODEL.md's model with the tax extension and every closure; the other extensions (CET,
production nests, CES final demand, scale economies, steady-state capital) are Pyomo's only:
:func:`unsupported` names them, and the solver then uses the Pyomo model.  Units: see
:mod:`cge.model.ces`.  Each block below is named after its Pyomo module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cge.model.ces import LB
from cge.model.dual import CesTerms, Dual, Rows, Tape, assemble, ces_price
from cge.model.structure import Structure

#: the unknowns, in column order: (name, index set, lower bound)
UNKNOWNS = (
    ("PY", "YR", LB),
    ("Y", "YR", 0.0),
    ("PM", "MR", LB),
    ("Wm", "FM", LB),
    ("Ws", "FS", LB),
    ("inc", "R", -np.inf),
    ("QA", "AR", 0.0),
    ("NF", "FM", -np.inf),
    ("WU", "P", LB),
    ("TRS", "R", -np.inf),
)


def unsupported(st: Structure) -> str | None:
    """Why the model cannot be stated on arrays (an extension only the Pyomo model has), or None."""
    b = st.bm
    if st.sets.CET:
        return "the CET extension"
    if st.sets.NEST:
        return "the production nests (esubt, esubc)"
    if np.any(b.esubfd_ != 1.0):
        return "CES final demand (esubfd)"
    if st.scale is not None:
        return "scale economies"
    if st.capital is not None:
        return "the steady-state capital closure"
    return None


@dataclass
class Parameters:
    """The instruments (MODEL.md section 4, the stages of section 7), by cell of their sets."""

    t: np.ndarray  # routes
    tau: np.ndarray  # routes
    te: np.ndarray  # routes (tax extension; zeros without)
    to: np.ndarray  # YR (tax extension; zeros without)
    endow_m: np.ndarray  # FM, benchmark value units
    endow_s: np.ndarray  # FS
    pnum: float
    pool_in: np.ndarray  # R
    pool_share: np.ndarray  # R
    fpool: np.ndarray  # FM
    any_fpool: np.ndarray  # P


class Cells:
    """The positions of a set's cells (label tuples) along the benchmark's dimensions, and the
    position of each cell in the set (``at``: a grid holding -1 where the set has no cell)."""

    def __init__(self, keys: list, dims: tuple[str, ...], st: Structure):
        coords = st.bm.coords
        self.keys = keys
        self.n = len(keys)
        where = np.array([coords.index(dims, k) for k in keys], dtype=np.intp).reshape(self.n, len(dims))
        self.idx = tuple(where.T)
        self.at = np.full(coords.shape(dims), -1, dtype=np.intp)
        self.at[self.idx] = np.arange(self.n)

    def of(self, *idx) -> np.ndarray:
        """The positions in the set of the cells at array positions ``idx`` (all must be in it)."""
        pos = self.at[idx]
        if np.any(pos < 0):
            raise ValueError("a cell is not in the set")
        return pos


class ArrayModel:
    """The square system of one benchmark and options on arrays (see the module's doc)."""

    par: Parameters

    def __init__(self, st: Structure):
        why = unsupported(st)
        if why is not None:
            raise ValueError(f"the model on arrays does not cover {why}")
        self.st, b, sets = st, st.bm, st.sets
        SR, FR, FSR = ("sector", "region"), ("factor", "region"), ("factor", "sector", "region")
        self.YR, self.AR, self.MR = Cells(sets.YR, SR, st), Cells(sets.AR, SR, st), Cells(sets.MR, SR, st)
        self.DR, self.VR = Cells(sets.DR, SR, st), Cells(sets.VR, SR, st)
        self.ROUTES = Cells(sets.ROUTES, ("sector", "source", "dest"), st)
        self.FM, self.FS, self.FU = Cells(sets.FM, FR, st), Cells(sets.FS, FSR, st), Cells(sets.FU, FSR, st)
        self.ISO = Cells(sets.ISOLATED, SR, st)
        self.R = [(r,) for r in b.regions]
        self.P = [(f,) for f in sets.pooled_factors]
        self._kept: dict = {}
        self._tape = Tape()
        self._offsets()
        self._equations()
        self.set_instruments(None)

    # ------------------------------------------------------------ layout
    def _size(self, set_name: str) -> list:
        obj = getattr(self, set_name)
        return obj if isinstance(obj, list) else obj.keys

    def _offsets(self) -> None:
        """Where each unknown's cells start in x; their labels and bounds."""
        self.offset: dict[str, tuple[int, int]] = {}
        labels: list[tuple[str, tuple]] = []
        lower: list[float] = []
        for name, set_name, lb in UNKNOWNS:
            keys = self._size(set_name)
            self.offset[name] = (len(labels), len(keys))
            labels += [(name, k) for k in keys]
            lower += [lb] * len(keys)
        #: (component, index) of every unknown, in column order
        self.unknowns = labels
        self.lower = np.array(lower)
        self.upper = np.full(len(labels), np.inf)
        self.n = len(labels)

    def _equations(self) -> None:
        """The equations' labels in row order, and the masks that pick them out of the blocks."""
        iso = np.zeros(self.YR.n, dtype=bool)
        iso[self.YR.of(*self.ISO.idx)] = True
        dropped = np.zeros(self.YR.n, dtype=bool)
        dropped[self.YR.keys.index(self.st.dropped)] = True
        self.profit_rows, self.clearing_rows = ~iso, ~iso & ~dropped
        yr = self.YR.keys
        self.equations = (
            [("pm_def", k) for k in self.MR.keys]
            + [("zero_profit", k) for k, on in zip(yr, self.profit_rows) if on]
            + [("composite_demand", k) for k in self.AR.keys]
            + [("output_clearing", k) for k, on in zip(yr, self.clearing_rows) if on]
            + [("factor_clearing_mobile", k) for k in self.FM.keys]
            + [("factor_pool_link", k) for k in self.FM.keys]
            + [("factor_pool_clearing", k) for k in self.P]
            + [("factor_clearing_specific", k) for k in self.FS.keys]
            + [("numeraire", None)]
            + [("tariff_def", k) for k in self.R]
            + [("income", k) for k in self.R]
            + [("isolated_price", k) for k in self.ISO.keys]
            + [("isolated_activity", k) for k in self.ISO.keys]
        )
        if len(self.equations) != self.n:
            raise ValueError(f"the system is not square: {self.n} unknowns, {len(self.equations)} equations")

    #: the unknown each equation is named after (its natural match in the structural check)
    NATURAL = {
        "pm_def": "PM",
        "zero_profit": "PY",
        "composite_demand": "QA",
        "output_clearing": "Y",
        "factor_clearing_mobile": "Wm",
        "factor_pool_link": "NF",
        "factor_pool_clearing": "WU",
        "factor_clearing_specific": "Ws",
        "tariff_def": "TRS",
        "income": "inc",
        "isolated_price": "PY",
        "isolated_activity": "Y",
    }

    def natural_columns(self) -> np.ndarray:
        """The column of the unknown each equation is named after (-1 for the numeraire)."""
        column = {label: k for k, label in enumerate(self.unknowns)}
        return np.array([column.get((self.NATURAL.get(name, ""), key), -1) for name, key in self.equations])

    def start(self) -> np.ndarray:
        """The benchmark: every index 1, net factor flows 0, benchmark tariff revenue."""
        x = np.ones(self.n)
        s, n = self.offset["NF"]
        x[s : s + n] = 0.0
        s, n = self.offset["TRS"]
        x[s : s + n] = np.asarray(self.st.bm.tariff_revenue0) / np.asarray(self.st.bm.INC0)
        return x

    def pattern(self) -> tuple[np.ndarray, np.ndarray]:
        """The Jacobian's entries (rows, columns) whatever the values: its nonzeros at a generic
        point, where no instrument or unknown takes a value that makes a derivative vanish (no
        tariff, no pooling, no net factor flow)."""
        saved, n = self.par, self.n
        half, bump = 0.5, 0.01 if self.st.options.taxes else 0.0
        self.par = replace(
            saved,
            t=saved.t + 0.01,
            fpool=np.full_like(saved.fpool, half),
            any_fpool=np.full_like(saved.any_fpool, half),
            pool_in=np.full_like(saved.pool_in, half),
            pool_share=np.full_like(saved.pool_share, half),
            te=saved.te + bump,
            to=saved.to + bump,
        )
        try:
            x = self.start() * (1.0 + 0.01 * (1 + np.arange(n) % 7))
            s, k = self.offset["NF"]
            x[s : s + k] = 0.01
            _, J = self.jacobian(x)
        finally:
            self.par = saved
        rows, cols, values = nonzeros(J)
        return rows[values != 0], cols[values != 0]

    # ------------------------------------------------------------ instruments
    def set_instruments(self, ins) -> None:
        """The instruments from an :class:`~cge.scenario.Instruments` (``None``: the benchmark's),
        as :func:`cge.model.parameters.set_instruments` sets the Pyomo model's."""
        b, route = self.st.bm, self.ROUTES.idx
        if ins is None:
            from cge.scenario.scenario import Instruments

            ins = Instruments.benchmark(b)
        endowment = b.F0 * ins.endowment
        fpool = np.asarray(ins.factor_pool, dtype=float)[self.FM.idx]
        taxes = self.st.options.taxes
        self.par = Parameters(
            t=np.asarray(ins.tariff, dtype=float)[route],
            tau=np.asarray(ins.tau, dtype=float)[route],
            te=np.asarray(ins.export_tax, dtype=float)[route] if taxes else np.zeros(self.ROUTES.n),
            to=np.asarray(ins.output_tax, dtype=float)[self.YR.idx] if taxes else np.zeros(self.YR.n),
            endow_m=endowment.sum(axis=1)[self.FM.idx],
            endow_s=endowment[self.FS.idx],
            pnum=float(ins.pnum),
            pool_in=np.asarray(ins.revenue_pool, dtype=float).copy(),
            pool_share=np.asarray(ins.revenue_share, dtype=float).copy(),
            fpool=fpool,
            any_fpool=np.array(
                [float(np.asarray(ins.factor_pool)[b.factors.index(f)].any()) for (f,) in self.P], dtype=float
            ),
        )

    # ------------------------------------------------------------ the system
    def residuals(self, x: np.ndarray) -> np.ndarray:
        """``F(x)``: every equation's left side less its right side, in row order."""
        return self._system(x, jacobian=None).v

    def jacobian(self, x: np.ndarray) -> tuple[np.ndarray, Rows]:
        """``F(x)`` and its Jacobian (rows = equations, columns = unknowns; ``.scipy()`` for SciPy's CSR)."""
        self._tape.at = 0  # the operations' patterns, made on the first evaluation (cge.model.dual.Tape)
        F = self._system(x, jacobian=self._tape)
        assert F.J is not None
        return F.v, F.J

    def _system(self, x: np.ndarray, jacobian: Tape | None) -> Dual:
        u = {name: Dual.unknowns(x, s, n, jacobian) for name, (s, n) in self.offset.items()}
        p = self._prices(u)
        q = self._quantities(u, p)
        rows = [
            u["PM"] - p["PM_ces"],
            self._zero_profit(u, p),
            self._composite_demand(u, p),
            self._output_clearing(u, q),
            *self._factor_markets(u, q),
            self._numeraire(u, p),
            *self._income(u, p, q),
            *self._isolated(u),
        ]
        return Dual.concat([r for r in rows if r.v.size])

    # ------------------------------------------------------------ prices (cge.model.prices)
    def _prices(self, u: dict) -> dict:
        """PG (routes), the CES price of imports (MR), PA (AR), PVA (VR), W (FU)."""
        b, par, rt = self.st.bm, self.par, self.ROUTES
        i, s, r = rt.idx
        cif = u["PY"].take(self._once("source cell", lambda: self.YR.of(i, s))).scaled((1.0 + par.te) * par.tau)
        PG = cif.scaled(1.0 + par.t)
        cd = self._once("cobb-douglas", self._cobb_douglas)
        mi, vj = self.MR.idx[0], self.VR.idx[0]
        pm_terms = self._once("import terms", lambda: CesTerms.of(self.MR.of(i, r), self.MR.n, cd["esubm"][mi]))
        PG0, thM = self._once("route shares", lambda: (b.PG0[rt.idx], b.thM[rt.idx]))
        PM_ces = ces_price(thM, PG.scaled(1.0 / PG0), pm_terms, b.esubm[mi])
        W = self._factor_price(u)
        _, fj, fr = self.FU.idx
        va_terms = self._once("value-added terms", lambda: CesTerms.of(self.VR.of(fj, fr), self.VR.n, cd["esubva"][vj]))
        PVA = ces_price(self._once("factor shares", lambda: b.thF[self.FU.idx]), W, va_terms, b.esubva[vj])
        return {"cif": cif, "PG": PG, "PM_ces": PM_ces, "PA": self._composite_price(u, cd["esubd"]), "W": W, "PVA": PVA}

    def _once(self, key: str, make):
        """``make()``, computed on the first call with this ``key`` and kept (positions, masks and
        benchmark values, which depend only on the benchmark)."""
        if key not in self._kept:
            self._kept[key] = make()
        return self._kept[key]

    def _cobb_douglas(self) -> dict:
        """By elasticity, the sectors whose nest is built in Cobb-Douglas form (dataset value 1)."""
        sectors, structural = self.st.bm.sectors, self.st.structural
        return {k: np.array([structural.get((k, sec)) == 1.0 for sec in sectors]) for k in ("esubd", "esubm", "esubva")}

    def _utility_price(self, PA: Dual) -> Dual:
        """PU (R): Cobb-Douglas over the composites with final demand."""
        b, (ai, ar) = self.st.bm, self.AR.idx
        k = np.flatnonzero(b.beta[ai, ar] > 0)
        n = len(b.regions)
        terms = CesTerms.of(ar[k], n, np.ones(n, dtype=bool))
        return ces_price(b.beta[ai, ar][k], PA.take(k), terms, np.ones(n))

    def _composite_price(self, u: dict, cd: np.ndarray) -> Dual:
        """PA: the CES of the domestic price PY (where there are domestic sales) and PM (where imports)."""
        b, ai = self.st.bm, self.AR.idx[0]
        dom, imp, terms, theta, k = self._once("composite terms", lambda: self._composite_terms(cd[ai]))
        prices = Dual.concat([u["PY"].take(dom), u["PM"].take(imp)])
        return ces_price(theta[k], prices.take(k), terms, b.esubd[ai])

    def _composite_terms(self, cobb_douglas: np.ndarray) -> tuple:
        """PA's terms, domestic (DR cells) then imported (MR cells): the positions of their prices
        in PY and PM, their groups (:class:`CesTerms`), shares (thD, 1 - thD) and the positive ones."""
        b = self.st.bm
        dom, imp = self.YR.of(*self.DR.idx), np.arange(self.MR.n)
        group = np.concatenate([self.AR.of(*self.DR.idx), self.AR.of(*self.MR.idx)])
        theta = np.concatenate([b.thD[self.DR.idx], 1.0 - b.thD[self.MR.idx]])
        k = np.flatnonzero(theta > 0)
        return dom, imp, CesTerms.of(group[k], self.AR.n, cobb_douglas), theta, k

    def _factor_price(self, u: dict) -> Dual:
        """W by factor use (FU): the mobile factor's price in its region, or the specific factor's."""
        m, s, mobile_cell, specific_cell = self._once("factor uses", self._factor_uses)
        parts = [(m, u["Wm"].take(mobile_cell))]
        if s.size:
            parts.append((s, u["Ws"].take(specific_cell)))
        return assemble(self.FU.n, parts)

    def _factor_uses(self) -> tuple:
        """The FU cells of mobile and of specific factors, and their positions in FM and FS."""
        b, (f, j, r) = self.st.bm, self.FU.idx
        mobile = np.array([self.st.sets.mobile[x] for x in b.factors])[f]
        m, s = np.flatnonzero(mobile), np.flatnonzero(~mobile)
        return m, s, self.FM.of(f[m], r[m]), self.FS.of(f[s], j[s], r[s]) if s.size else s

    # ------------------------------------------------------------ production (cge.model.production)
    def _zero_profit(self, u: dict, p: dict) -> Dual:
        """PY / (1 + to) = unit cost: intermediates at PA and value added at PVA, shares of Y0."""
        b, yr = self.st.bm, self.YR
        use = self._once("intermediate uses", self._intermediate_uses)
        inputs = p["PA"].take(use["input"]).scaled(use["value"] / b.Y0[use["idx"][1:]])
        va = p["PVA"].scaled(b.VA0[self.VR.idx] / b.Y0[self.VR.idx])
        user = self._once("cost group", lambda: np.concatenate([use["user"], yr.of(*self.VR.idx)]))
        cost = Dual.concat([inputs, va]).sum_by(user, yr.n)
        PY = u["PY"] if not self.st.options.taxes else u["PY"] / (1.0 + self.par.to)
        return (PY - cost).take(np.flatnonzero(self.profit_rows))

    def _intermediate_uses(self) -> dict:
        """The cells (i, j, r) of intermediate use: their positions, benchmark values, the AR
        cell of the input (i, r) and the YR cell of the user (j, r)."""
        inter = self.st.bm.intermediate
        ii, jj, rr = np.nonzero(inter)
        return {
            "idx": (ii, jj, rr),
            "value": inter[ii, jj, rr],
            "input": self.AR.of(ii, rr),
            "user": self.YR.of(jj, rr),
        }

    # ------------------------------------------------------------ demand and trade
    def _quantities(self, u: dict, p: dict) -> dict:
        """D (DR), M (MR), X (routes) and FD (FU) (cge.model.trade, cge.model.demand)."""
        b, rt = self.st.bm, self.ROUTES
        di, dr = self.DR.idx
        ai_d = self._once("composite of domestic", lambda: self.AR.of(di, dr))
        yr_d = self._once("output of domestic", lambda: self.YR.of(di, dr))
        D = (u["QA"].take(ai_d) * (p["PA"].take(ai_d) / u["PY"].take(yr_d)).power(b.esubd[di])).scaled(b.D0[di, dr])
        mi, mr = self.MR.idx
        ai_m = self._once("composite of imports", lambda: self.AR.of(mi, mr))
        M = (u["QA"].take(ai_m) * (p["PA"].take(ai_m) / u["PM"]).power(b.esubd[mi])).scaled(b.M0[mi, mr])
        i, s, r = rt.idx
        mpos = self._once("import cell", lambda: self.MR.of(i, r))
        PG0, M0, X0 = self._once("route benchmark", lambda: (b.PG0[rt.idx], b.M0[i, r], b.X0[rt.idx]))
        X = (M.take(mpos).scaled(1.0 / M0) * (u["PM"].take(mpos) / p["PG"].scaled(1.0 / PG0)).power(b.esubm[i])).scaled(
            X0
        )
        f, j, fr = self.FU.idx
        vr = self._once("value-added cell", lambda: self.VR.of(j, fr))
        yr_f = self._once("output of factor use", lambda: self.YR.of(j, fr))
        FD = (u["Y"].take(yr_f) * (p["PVA"].take(vr) / p["W"]).power(b.esubva[j])).scaled(b.F0[self.FU.idx])
        return {"D": D, "M": M, "X": X, "FD": FD}

    def _composite_demand(self, u: dict, p: dict) -> Dual:
        """QA = (intermediate demand + final demand C) / A0, with C = fd0 INC / PA (Cobb-Douglas)."""
        b, (ai, ar) = self.st.bm, self.AR.idx
        use = self._once("intermediate uses", self._intermediate_uses)
        inter = u["Y"].take(use["user"]).scaled(use["value"]).sum_by(use["input"], self.AR.n)
        C = (u["inc"].take(ar) / p["PA"]).scaled(b.final_demand[ai, ar])
        return u["QA"] - (inter + C).scaled(1.0 / b.A0[ai, ar])

    # ------------------------------------------------------------ markets (cge.model.markets)
    def _output_clearing(self, u: dict, q: dict) -> Dual:
        """Y = (D + sum_s tau X[i,r,s]) / Y0 (the dropped market and isolated cells left out)."""
        b, yr, (i, s, _) = self.st.bm, self.YR, self.ROUTES.idx
        sold = Dual.concat([q["D"], q["X"].scaled(self.par.tau)])
        where = self._once("seller", lambda: np.concatenate([yr.of(*self.DR.idx), yr.of(i, s)]))
        supply = sold.sum_by(where, yr.n).scaled(1.0 / b.Y0[yr.idx])
        return (u["Y"] - supply).take(np.flatnonzero(self.clearing_rows))

    def _factor_markets(self, u: dict, q: dict) -> list[Dual]:
        """Mobile and specific factor clearing, and the common market's pool (MODEL.md 7.4)."""
        b, fm, par = self.st.bm, self.FM, self.par
        E0 = b.endowment0[fm.idx]
        m, s, mobile_cell, _ = self._once("factor uses", self._factor_uses)
        used = q["FD"].take(m).sum_by(mobile_cell, fm.n)
        clearing_m = (used - (u["NF"] + par.endow_m)).scaled(1.0 / E0)
        factor = self._once("pooled factor", self._pooled_factor)
        link = u["NF"].scaled((1.0 - par.fpool) / E0) - (u["Wm"] - u["WU"].take(factor)).scaled(par.fpool)
        e_tot = np.bincount(factor, weights=E0, minlength=len(self.P))
        pool = u["NF"].scaled(par.fpool).sum_by(factor, len(self.P)).scaled(1.0 / e_tot) + (u["WU"] - 1.0).scaled(
            1.0 - par.any_fpool
        )
        F0 = b.F0[self.FS.idx]
        clearing_s = (q["FD"].take(s) - par.endow_s).scaled(1.0 / F0) if s.size else q["FD"].take(s)
        return [clearing_m, link, pool, clearing_s]

    def _pooled_factor(self) -> np.ndarray:
        """The position in P (the pooled factors) of every FM cell's factor."""
        return np.array([self.P.index((f,)) for f, _ in self.FM.keys], dtype=np.intp)

    # ------------------------------------------------------------ closure (cge.model.closure)
    def _numeraire(self, u: dict, p: dict) -> Dual:
        """The numeraire equation: a price index = PNUM."""
        b, num = self.st.bm, self.st.options.numeraire
        if num[0] == "utility_price":
            return self._utility_price(p["PA"]).take(np.array([b.regions.index(num[1])])) - self.par.pnum
        fm, fs = np.arange(self.FM.n), np.arange(self.FS.n)
        if num[0] == "factor_price":
            region, factor = num[1], num[2]
            fm = np.array(
                [k for k, (f, r) in enumerate(self.FM.keys) if r == region and factor in (None, f)], dtype=np.intp
            )
            fs = np.array(
                [k for k, (f, _, r) in enumerate(self.FS.keys) if r == region and factor in (None, f)], dtype=np.intp
            )
        E0, F0 = b.endowment0[self.FM.idx][fm], b.F0[self.FS.idx][fs]
        wsum = E0.sum() + F0.sum()
        prices = Dual.concat([u["Wm"].take(fm).scaled(E0), u["Ws"].take(fs).scaled(F0)])
        return prices.sum_by(np.zeros(len(fm) + len(fs), dtype=np.intp), 1).scaled(1.0 / wsum) - self.par.pnum

    # ------------------------------------------------------------ income (cge.model.income)
    def _income(self, u: dict, p: dict, q: dict) -> list[Dual]:
        """tariff_def: TRS = revenue collected / INC0; income: inc = income sources / INC0."""
        b, par, n = self.st.bm, self.par, len(self.R)
        i, s, r = self.ROUTES.idx
        INC0 = np.asarray(b.INC0, dtype=float)
        collected = (p["cif"] * q["X"]).scaled(par.t).sum_by(r, n)
        tariff_def = u["TRS"] - collected.scaled(1.0 / INC0)
        revenue = u["TRS"].scaled(INC0)
        pooled = revenue.scaled(par.pool_in).sum_by(np.zeros(n, dtype=np.intp), 1).take(np.zeros(n, dtype=np.intp))
        received = revenue.scaled(1.0 - par.pool_in) + pooled.scaled(par.pool_share)
        sources = self._factor_income(u) + received
        if self.st.options.taxes:
            sources = sources + self._tax_revenue(u, q)
        income = u["inc"] - (sources + self._trade_balance(u)).scaled(1.0 / INC0)
        return [tariff_def, income]

    def _factor_income(self, u: dict) -> Dual:
        """W endowment of every factor, plus (W - WU) NF on a pooled factor's net inflow."""
        par, n, fm, fs = self.par, len(self.R), self.FM, self.FS
        factor = self._once("pooled factor", self._pooled_factor)
        mobile = u["Wm"].scaled(par.endow_m) + (u["Wm"] - u["WU"].take(factor)) * u["NF"]
        specific = u["Ws"].scaled(par.endow_s)
        return Dual.concat([mobile, specific]).sum_by(np.concatenate([fm.idx[1], fs.idx[2]]), n)

    def _tax_revenue(self, u: dict, q: dict) -> Dual:
        """Extension: export taxes (collected by the source) and output taxes."""
        b, par, n, yr = self.st.bm, self.par, len(self.R), self.YR
        i, s, r = self.ROUTES.idx
        exports = (
            (u["PY"].take(self._once("source cell", lambda: yr.of(i, s))) * q["X"])
            .scaled(par.te * par.tau)
            .sum_by(s, n)
        )
        output = (u["PY"] * u["Y"]).scaled(par.to / (1.0 + par.to) * b.Y0[yr.idx]).sum_by(yr.idx[1], n)
        return exports + output

    def _trade_balance(self, u: dict) -> Dual | np.ndarray:
        """The trade deficit: B PNUM, or B as a share of world income."""
        b, n = self.st.bm, len(self.R)
        B, INC0 = np.asarray(b.B, dtype=float), np.asarray(b.INC0, dtype=float)
        if self.st.options.trade_balance == "numeraire":
            return B * self.par.pnum
        world = u["inc"].scaled(INC0).sum_by(np.zeros(n, dtype=np.intp), 1).take(np.zeros(n, dtype=np.intp))
        return world.scaled(B / INC0.sum())

    # ------------------------------------------------------------ isolated cells (cge.model.isolated)
    def _isolated(self, u: dict) -> list[Dual]:
        k = self.YR.of(*self.ISO.idx)
        return [self.par.pnum - u["PY"].take(k), u["Y"].take(k) - 1.0]  # the model file's sign: PNUM - PY


def nonzeros(J: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows, columns and values of every entry of a Jacobian's pattern (zero or not)."""
    return J.pattern.rows, J.pattern.indices, J.data
