"""Independent numpy/scipy reference of docs/dynamics.md: scale economies (Krugman, Melitz) and the
steady-state capital closure with international ownership, on top of MODEL.md's core.

Used by the test suite to check the Pyomo model. It shares no code with `cge/`; from the other
references it imports only the dataset reader and the CES index (tests/support/reference_ext.py).

Unknowns (logs, relative to the benchmark): PY[i,r] and Y[i,r] where Y0 > 0 (PY is the price of
the input bundle, which is also the mill price of a firm of benchmark productivity); N[i,r], the
mass of firms (Krugman) or of entrants (Melitz), in every scale-economy cell; NR[i,r,s], the mass
of firms of r serving s, on every Melitz route with trade > 0 (the domestic route included); W[f,r]
for mobile factors, W[f,j,r] for specific ones; under the steady-state closure the capital stock
index K for every capital cell (region, or sector and region for sector-specific capital);
INC[r]/INC0[r].

Equations (docs/dynamics.md section numbers), scaled by benchmark size: zero profit (2.1), the
bundle market (2.3 / 3.3; the largest is dropped for Walras), free entry (2.2 / 3.2), the
zero-cut-off-profit condition (3.2), factor markets, the rental rule (4.2), income (4.4) and the
numeraire. `walras_residual` is the dropped bundle market times PY (value units).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import root

from tests.support.reference_ext import _arrays, ces

KINDS = {"none": 0, "krugman": 1, "melitz": 2}


def _div(x, y):
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    return np.divide(x, y, out=np.zeros(x.shape), where=y > 0)


def _by_sector(value, sectors, default, what):
    """A per-sector array from None (default), a scalar, a sequence or a {sector: value} mapping."""
    out = np.array(default, dtype=object if isinstance(default[0], str) else float)
    if value is None:
        return out
    if isinstance(value, dict):
        for k, v in value.items():
            if str(k) not in sectors:
                raise ValueError(f"{what}: unknown sector {k!r}")
            out[sectors.index(str(k))] = v
        return out
    if np.ndim(value) == 0:
        out[:] = value
        return out
    value = list(value)
    if len(value) != len(sectors):
        raise ValueError(f"{what}: {len(value)} values for {len(sectors)} sectors")
    out[:] = value
    return out


# ------------------------------------------------------------------------------ set-up (benchmark)
def setup(
    ds,
    *,
    scale_economies=None,
    firm_elasticity=None,
    pareto_shape=None,
    capital=None,
    members=None,
    trade_balance="numeraire",
):
    """Benchmark arrays, masks and the calibrated constants of docs/dynamics.md (sections 1-4)."""
    a = _arrays(ds)
    trade, inter, final, F0 = a["trade"], a["inter"], a["final"], a["F0"]
    N, R, _ = trade.shape
    nF = F0.shape[0]
    sectors, factors = a["sectors"], a["factors"]
    off = ~np.eye(R, dtype=bool)[None]

    kind_names = _by_sector(scale_economies, sectors, ["none"] * N, "scale_economies")
    if any(k not in KINDS for k in kind_names):
        raise ValueError(f"scale_economies: unknown kind in {list(kind_names)}")
    kind = np.array([KINDS[k] for k in kind_names])
    sig = _by_sector(firm_elasticity, sectors, a["esubm"], "firm_elasticity").astype(float)
    shape = _by_sector(pareto_shape, sectors, [np.nan] * N, "pareto_shape").astype(float)
    for i in np.flatnonzero(kind > 0):
        if not sig[i] > 1.0:
            raise ValueError(f"firm_elasticity of {sectors[i]} must exceed 1 (got {sig[i]})")
    for i in np.flatnonzero(kind == 2):
        if not shape[i] > sig[i] - 1.0:
            raise ValueError(
                f"pareto_shape of {sectors[i]} must exceed firm_elasticity - 1 = {sig[i] - 1.0} (got {shape[i]})"
            )
    if trade_balance not in ("numeraire", "world_income"):
        raise ValueError(f"unknown trade_balance closure {trade_balance!r}")

    t0 = np.where(off, a["tariff"], 0.0)
    Y0 = trade.sum(axis=2)
    D0 = np.einsum("irr->ir", trade).copy()
    X0 = np.where(off, trade, 0.0)
    M0 = np.einsum("isr,isr->ir", X0, 1.0 + t0)
    A0 = D0 + M0
    VA0 = F0.sum(axis=0)
    INC0 = final.sum(axis=0)
    yv = Y0 > 0
    sc = (kind > 0)[:, None] & yv
    mz = (kind == 2)[:, None] & yv
    routes = mz[:, :, None] & (trade > 0)  # (i, r, s) Melitz routes
    Fm = F0.sum(axis=1)
    mobile = a["mobile"]

    # ---- capital (section 4) ----
    cap = {
        "closure": "fixed",
        "depreciation": 0.05,
        "rate_of_return": 0.05,
        "international": "none",
        "factor": "capital",
        "stock": None,
    }
    cap.update(capital or {})
    if cap["closure"] not in ("fixed", "steady_state"):
        raise ValueError(f"capital.closure must be fixed or steady_state (got {cap['closure']!r})")
    steady = cap["closure"] == "steady_state"
    member = np.zeros(R, bool) if members is None else np.asarray(members, bool)
    kcells = np.zeros((N, R), bool)  # capital cells (sector, region)
    kf, K0v, I0c, omega = None, np.zeros(R), np.zeros((N, R)), np.eye(R)
    if steady:
        names = [f.lower() for f in factors]
        if str(cap["factor"]).lower() not in names:
            raise ValueError(f"capital.factor {cap['factor']!r} is not a factor of the dataset {factors}")
        kf = names.index(str(cap["factor"]).lower())
        delta, rho = float(cap["depreciation"]), float(cap["rate_of_return"])
        if not 0.0 < delta < 1.0:
            raise ValueError(f"capital.depreciation must lie in (0, 1) (got {delta})")
        if not rho > 0.0:
            raise ValueError(f"capital.rate_of_return must be positive (got {rho})")
        FK0 = F0[kf]  # (j, r) benchmark capital income
        kcells = FK0 > 0
        FKr = FK0.sum(axis=0)
        K0v = FKr / (rho + delta) if cap["stock"] is None else np.asarray(cap["stock"], float)
        I0c = delta * K0v[None] * _div(FK0, FKr[None])  # (j, r) benchmark investment by cell
        if np.any(INC0 - I0c.sum(axis=0) <= 0):
            raise ValueError("benchmark investment depreciation * capital stock exceeds final demand")
        intl = cap["international"]
        if intl == "world":
            omega = np.broadcast_to((K0v / K0v.sum())[:, None], (R, R)).copy()
        elif intl == "union":
            if member.sum() < 1:
                raise ValueError("capital.international = union needs union members")
            w = K0v * member / (K0v * member).sum()
            omega[:, member] = w[:, None]
        elif intl != "none":
            raise ValueError(f"capital.international must be none, union or world (got {intl!r})")
    return {
        "a": a,
        "N": N,
        "R": R,
        "nF": nF,
        "off": off,
        "t0": t0,
        "PG0": 1.0 + t0,
        "Y0": Y0,
        "D0": D0,
        "X0": X0,
        "M0": M0,
        "A0": A0,
        "VA0": VA0,
        "INC0": INC0,
        "B": X0.sum(axis=(0, 1)) - X0.sum(axis=(0, 2)),
        "trade": trade,
        "inter": inter,
        "F0": F0,
        "Fm": Fm,
        "thD": np.where(A0 > 0, _div(D0, A0), 1.0),
        "thM": _div(X0 * (1.0 + t0), M0[:, None, :]),
        "thF": _div(F0, VA0[None]),
        "beta": _div(final, INC0[None]),
        "yv": yv,
        "sc": sc,
        "mz": mz,
        "routes": routes,
        "kind": kind,
        "sig": sig,
        "shape": shape,
        "mv": mobile[:, None] & (Fm > 0),
        "spv": ~mobile[:, None, None] & (F0 > 0),
        "mobile": mobile,
        "steady": steady,
        "kf": kf,
        "kcells": kcells,
        "K0v": K0v,
        "I0c": I0c,
        "I0": I0c.sum(axis=0),
        "omega": omega,
        "member": member,
        "trade_balance": trade_balance,
        "capital": cap,
    }


# ------------------------------------------------------------------------------ equations
def _sizes(s):
    kmob = s["steady"] and s["mobile"][s["kf"]]
    nk = 0 if not s["steady"] else (int((s["kcells"].any(axis=0)).sum()) if kmob else int(s["kcells"].sum()))
    return [s["yv"].sum(), s["yv"].sum(), s["sc"].sum(), s["routes"].sum(), s["mv"].sum(), s["spv"].sum(), nk, s["R"]]


def make_model(s, t, tau, endow, pnum):
    """The residual function of docs/dynamics.md at instruments t, tau (sector, source, dest) and
    endowment scale (factor, region)."""
    N, R, nF = s["N"], s["R"], s["nF"]
    yv, sc, mz, routes, off = s["yv"], s["sc"], s["mz"], s["routes"], s["off"]
    Y0, D0, X0, M0, A0, VA0, INC0 = s["Y0"], s["D0"], s["X0"], s["M0"], s["A0"], s["VA0"], s["INC0"]
    F0, Fm, mv, spv, trade = s["F0"], s["Fm"], s["mv"], s["spv"], s["trade"]
    sd, sm, sv = s["a"]["esubd"], s["a"]["esubm"], s["a"]["esubva"]
    sig = s["sig"][:, None]  # (i, 1)
    ash = np.where(np.isnan(s["shape"]), 1.0, s["shape"])[:, None]
    krug = (s["kind"] == 1)[:, None] & yv
    sizes = _sizes(s)
    drop = np.unravel_index(np.argmax(np.where(yv, Y0, -1.0)), Y0.shape)
    keep = yv.copy()
    keep[drop] = False
    steady, kf, kcells = s["steady"], s["kf"], s["kcells"]
    kmob = steady and s["mobile"][kf]
    kreg = kcells.any(axis=0)
    Emob = endow * Fm
    Espec = endow[:, None, :] * F0
    worldF0 = F0.sum()

    def unpack(x):
        p = np.split(x, np.cumsum(sizes)[:-1])
        PY, Y, Nf = np.ones((N, R)), np.ones((N, R)), np.ones((N, R))
        PY[yv], Y[yv], Nf[sc] = np.exp(p[0]), np.exp(p[1]), np.exp(p[2])
        NR = np.ones((N, R, R))
        NR[routes] = np.exp(p[3])
        Wm = np.ones((nF, R))
        Wm[mv] = np.exp(p[4])
        W = np.broadcast_to(Wm[:, None, :], (nF, N, R)).copy()
        W[spv] = np.exp(p[5])
        K = np.ones((N, R))
        if steady and kmob:
            Kr = np.ones(R)
            Kr[kreg] = np.exp(p[6])
            K = np.broadcast_to(Kr[None], (N, R)).copy()
        elif steady:
            K[kcells] = np.exp(p[6])
        return PY, Y, Nf, NR, Wm, W, K, INC0 * np.exp(p[7])

    def model(x):
        PY, Y, Nf, NR, Wm, W, K, INC = unpack(x)
        # variety and productivity factors V[i, source, dest] (sections 2.1, 3.1)
        lnV = np.zeros((N, R, R))
        lnN_route = np.where(krug[:, :, None], np.log(Nf)[:, :, None], 0.0)
        lnN_route = np.where(routes, np.log(NR), lnN_route)
        lnPHI = np.where(routes, (np.log(Nf)[:, :, None] - np.log(NR)) / ash[:, :, None], 0.0)
        lnV = lnN_route / (1.0 - sig[:, :, None]) - lnPHI
        V = np.exp(lnV)
        PG = PY[:, :, None] * tau * (1.0 + t)
        Pimp = PG / s["PG0"] * V
        Pdom = PY * np.einsum("irr->ir", V)
        PM = np.where(M0 > 0, ces(s["thM"], Pimp, sm[:, None, None], axis=1), 1.0)
        PA = np.where(
            A0 > 0, ces(np.stack([s["thD"], 1 - s["thD"]]), np.stack([Pdom, PM]), sd[None, :, None], axis=0), 1.0
        )
        PVA = np.where(VA0 > 0, ces(s["thF"], W, sv[None, :, None], axis=0), 1.0)
        PU = np.exp(np.sum(s["beta"] * np.log(PA), axis=0))
        PI = PU  # investment good (section 4.1)
        F = s["beta"] * INC / PA  # final demand (consumption + investment)
        A = np.einsum("ijr,jr->ir", s["inter"], Y) + F
        D = D0 * _div(A, A0) * (PA / Pdom) ** sd[:, None]
        M = M0 * _div(A, A0) * (PA / PM) ** sd[:, None]
        X = X0 * _div(M, M0)[:, None, :] * (PM[:, None, :] / Pimp) ** sm[:, None, None]
        x = np.where(off, V * X, 0.0)  # delivered firm-output units
        x[:, np.arange(R), np.arange(R)] = np.einsum("irr->ir", V) * D
        ship = np.where(off, tau, 1.0) * x  # (i, r, s) shipped from r to s
        Rev = PY[:, :, None] * ship  # firm revenue on route r -> s
        out_q = ship.sum(axis=2)  # firm output, bundle units
        FD = F0 * Y[None] * (PVA[None] / W) ** sv[None, :, None]
        # capital (section 4)
        E_mob, E_spec = Emob.copy(), Espec.copy()
        if steady:
            if kmob:
                E_mob[kf] = Fm[kf] * K[0]
            else:
                E_spec[kf] = F0[kf] * K
        n_c = np.where(kcells, W[kf] * F0[kf] - PI[None] * s["I0c"], 0.0) if steady else np.zeros((N, R))
        g = ((K - 1.0) * n_c).sum(axis=0)  # net return on capital added in h
        NFI = s["omega"] @ g - g  # net capital income from abroad
        gross = ((K - 1.0) * np.where(kcells, W[kf] * F0[kf], 0.0)).sum(axis=0) if steady else np.zeros(R)
        GNFI = s["omega"] @ gross - gross
        Inv = PI * (K * s["I0c"]).sum(axis=0) if steady else np.zeros(R)
        tariff_rev = np.einsum("isr,isr->r", t * PY[:, :, None] * tau, x * off)
        factor_inc = (Wm * E_mob * mv).sum(axis=0) + (W * E_spec * spv).sum(axis=(0, 1))
        Bterm = s["B"] * pnum if s["trade_balance"] == "numeraire" else s["B"] / INC0.sum() * INC.sum()

        ZP = PY * Y0 - np.einsum("ijr,ir->jr", s["inter"], PA) - VA0 * PVA
        bundle = out_q.copy()  # bundle demand (core: = output)
        bundle = np.where(krug, Nf * Y0 / sig + (sig - 1.0) / sig * out_q, bundle)
        melitz_fixed = np.einsum("irs,irs->ir", np.where(routes, NR, 0.0), trade)
        bundle = np.where(
            mz,
            Nf * Y0 * (sig - 1.0) / (ash * sig)
            + melitz_fixed * (ash + 1.0 - sig) / (ash * sig)
            + (sig - 1.0) / sig * out_q,
            bundle,
        )
        MC = Y * Y0 - bundle
        FE = np.where(krug, (out_q - Nf * Y0) * PY / sig, 0.0)
        FE = np.where(
            mz,
            Rev.sum(axis=2) / sig
            - PY * melitz_fixed * (ash + 1.0 - sig) / (ash * sig)
            - PY * Nf * Y0 * (sig - 1.0) / (ash * sig),
            FE,
        )
        ZCP = _div(Rev, trade) - PY[:, :, None] * NR
        FM = FD.sum(axis=1) - E_mob
        FS = FD - E_spec
        if steady and kmob:
            RENT = np.log(Wm[kf]) - np.log(PI)
            rent = RENT[kreg]
        elif steady:
            rent = (np.log(W[kf]) - np.log(PI)[None])[kcells]
        else:
            rent = np.zeros(0)
        INCeq = INC - (factor_inc + tariff_rev + Bterm + NFI)
        NUM = np.sum(F0 * W) / worldF0 - pnum
        fm_mask = mv.copy()
        if steady and kmob:
            fm_mask[kf] = False
        fs_mask = spv.copy()
        if steady and not kmob:
            fs_mask[kf] = False
        kres = np.zeros(0)
        if steady and kmob:
            kres = FM[kf][kreg] / Fm[kf][kreg]
        elif steady:
            kres = FS[kf][kcells] / F0[kf][kcells]
        resid = np.concatenate(
            [
                ZP[yv] / Y0[yv],
                MC[keep] / Y0[keep],
                FE[sc] / Y0[sc],
                ZCP[routes],
                FM[fm_mask] / Fm[fm_mask],
                FS[fs_mask] / F0[fs_mask],
                kres,
                rent,
                INCeq / INC0,
                [NUM / pnum],
            ]
        )
        Cons = INC - Inv
        gdp = (W * FD).sum(axis=(0, 1)) + tariff_rev
        o = {
            "PY": PY,
            "Y": Y,
            "N": Nf,
            "NR": NR,
            "W": W,
            "Wm": Wm,
            "K": K,
            "INC": INC,
            "V": V,
            "lnPHI": lnPHI,
            "lnN_route": lnN_route,
            "PG": PG,
            "Pimp": Pimp,
            "Pdom": Pdom,
            "PM": PM,
            "PA": PA,
            "PVA": PVA,
            "PU": PU,
            "PI": PI,
            "F": F,
            "A": A,
            "D": D,
            "M": M,
            "X": X,
            "x": x,
            "ship": ship,
            "Rev": Rev,
            "FD": FD,
            "E_mob": E_mob,
            "E_spec": E_spec,
            "n_c": n_c,
            "NFI": NFI,
            "GNFI": GNFI,
            "Inv": Inv,
            "Cons": Cons,
            "tariff_rev": tariff_rev,
            "factor_inc": factor_inc,
            "Bterm": Bterm,
            "gdp": gdp,
            "gnp": gdp + GNFI,
            "walras": PY[drop] * MC[drop],
            "out_q": out_q,
        }
        return resid, o

    return model, sizes


def _solve(f, x0, tol):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        sol = root(f, x0, method="hybr", tol=tol)
        res = f(sol.x)
        if not np.all(np.isfinite(res)) or np.max(np.abs(res)) > 1e-11:
            start = sol.x if np.all(np.isfinite(res)) else x0
            sol = root(f, start, method="lm", tol=tol)
    res = f(sol.x)
    ok = bool(np.all(np.isfinite(res)) and np.max(np.abs(res)) < 1e-10)
    return sol.x, ok


def _instruments(s, tariff, tau, endowment, lam):
    t0 = s["t0"]
    t1 = t0 if tariff is None else np.where(s["off"], np.asarray(tariff, float), 0.0)
    tau1 = np.ones_like(t0) if tau is None else np.where(s["off"], np.asarray(tau, float), 1.0)
    e1 = (
        np.ones((s["nF"], s["R"]))
        if endowment is None
        else np.broadcast_to(np.asarray(endowment, float), (s["nF"], s["R"])).copy()
    )
    if s["steady"] and not np.allclose(e1[s["kf"]], 1.0):
        raise ValueError("an endowment shock to capital is meaningless under the steady-state closure")
    return t0 + lam * (t1 - t0), 1.0 + lam * (tau1 - 1.0), 1.0 + lam * (e1 - 1.0)


def solve_dynamics(
    ds,
    *,
    scale_economies=None,
    firm_elasticity=None,
    pareto_shape=None,
    capital=None,
    members=None,
    tariff=None,
    tau=None,
    endowment=None,
    pnum=1.0,
    trade_balance="numeraire",
    lam=1.0,
    x0=None,
    tol=1e-12,
    _setup=None,
):
    """Solve docs/dynamics.md's model. Options as in the scenario's `model:` section:

    scale_economies: {sector: "none"|"krugman"|"melitz"} (or a list by sector); firm_elasticity,
    pareto_shape: {sector: value} (firm_elasticity defaults to esubm); capital: dict(closure=
    "fixed"|"steady_state", depreciation, rate_of_return, international="none"|"union"|"world",
    factor="capital", stock=None (benchmark capital stock value by region)); members: bool by region
    (the union, for international="union"). Instruments: tariff, tau (sector, source, dest),
    endowment (factor, region) scale; each moves to benchmark + lam * (scenario - benchmark).
    Returns a dict of arrays (see the end of this function); `x` is the solution vector, for warm starts.
    """
    s = _setup or setup(
        ds,
        scale_economies=scale_economies,
        firm_elasticity=firm_elasticity,
        pareto_shape=pareto_shape,
        capital=capital,
        members=members,
        trade_balance=trade_balance,
    )
    sizes = _sizes(s)
    lp = np.log(pnum)
    xb = np.concatenate(
        [
            np.full(sizes[0], lp),
            np.zeros(sum(sizes[1:4])),
            np.full(sizes[4] + sizes[5], lp),
            np.zeros(sizes[6]),
            np.full(s["R"], lp),
        ]
    )
    model, _ = make_model(s, *_instruments(s, tariff, tau, endowment, lam), pnum)
    f = lambda z: model(z)[0]
    x, ok = _solve(f, xb if x0 is None else x0, tol)
    if not ok:  # continuation along the shock path
        for n in (4, 16):
            xs, good = xb, True
            for lk in np.linspace(0.0, lam, n + 1)[1:]:
                mk, _ = make_model(s, *_instruments(s, tariff, tau, endowment, lk), pnum)
                xs, good = _solve(lambda z, mk=mk: mk(z)[0], xs, tol)
                if not good:
                    break
            if good:
                x, ok = xs, True
                break
    resid, o = model(x)
    return _report(s, o, resid, x, ok)


def _report(s, o, resid, x, ok):
    nan = np.nan
    yv, sc, R = s["yv"], s["sc"], s["R"]
    INC0 = s["INC0"]
    if s["steady"]:
        Cons0 = INC0 - s["I0"]
        U = o["Cons"] / (Cons0 * o["PU"])
    else:
        Cons0 = INC0
        U = o["INC"] / (INC0 * o["PU"])
    K = np.where(s["kcells"], o["K"], nan)
    max_res = float(np.max(np.abs(resid)))
    return {
        "PY": np.where(yv, o["PY"], nan),
        "Y": np.where(yv, o["Y"], nan),
        "firms": np.where(sc, o["N"], nan),
        "firms_route": np.where(s["routes"], o["NR"], nan),
        "productivity": np.where(s["routes"], np.exp(o["lnPHI"]), nan),
        "output_per_firm": np.where(sc, o["Y"] / o["N"], nan),
        "firm_output_per_firm": np.where(sc, o["out_q"] / (o["N"] * s["Y0"]), nan),
        "variety_factor": o["V"],
        "W": np.where(s["mv"], o["Wm"], nan),
        "Wspec": np.where(s["spv"], o["W"], nan),
        "PA": o["PA"],
        "PM": o["PM"],
        "PVA": o["PVA"],
        "PU": o["PU"],
        "PI": o["PI"],
        "INC": o["INC"],
        "U": U,
        "EV": Cons0 * (U - 1.0),
        "EV_pct": 100.0 * (U - 1.0),
        "domestic_share": _div(o["Pdom"] * o["D"], o["PA"] * o["A"]),
        "X": o["X"],
        "x": o["x"],
        "ship": o["ship"],
        "revenue": o["Rev"],
        "D": o["D"],
        "F": o["F"],
        "FD": o["FD"],
        "tariff_revenue": o["tariff_rev"],
        "factor_income": o["factor_inc"],
        "B_term": o["Bterm"],
        "capital_index": K,
        "capital_stock": np.nansum(K * s["K0v"][None] * _div(s["I0c"], s["I0"][None]), axis=0)
        if s["steady"]
        else np.full(R, nan),
        "investment": o["Inv"],
        "consumption": o["Cons"],
        "consumption0": Cons0,
        "net_capital_income": o["NFI"],
        "gdp": o["gdp"],
        "gnp": o["gnp"],
        "walras_residual": float(o["walras"]),
        "max_residual": max_res,
        "success": bool(ok and max_res < 1e-9),
        "INC0": INC0,
        "B": s["B"],
        "x_solution": x,
        "_o": o,
    }


# ------------------------------------------------------------------------------ decomposition (section 5)
PARTS = (
    "welfare_allocative_members",
    "welfare_allocative_nonmembers",
    "welfare_terms_of_trade",
    "welfare_endowment",
    "welfare_variety",
    "welfare_selection",
    "welfare_capital_accumulation",
    "welfare_capital_income",
    "welfare_trade_balance",
)


def _state(s, r, t, tau):
    """The arrays section 5's formulas need at one point of the path (NaN-free)."""
    o = r["_o"]
    off = s["off"]
    S = (1.0 + t) * o["PY"][:, :, None] * np.where(off, tau, 1.0) * o["x"]  # spending, incl. tariff
    Emob, Esp = o["E_mob"] * s["mv"], o["E_spec"] * s["spv"]
    if s["steady"]:  # the capital stock's change is section 5's capital parts
        Emob, Esp = Emob.copy(), Esp.copy()
        (Emob if s["mobile"][s["kf"]] else Esp)[s["kf"]] = 0.0
    return {
        "t": np.where(off, t, 0.0),
        "cif": np.where(off, o["PY"][:, :, None] * tau, 0.0),
        "PY": o["PY"],
        "x": np.where(off, o["x"], 0.0),
        "q_out": np.where(off, tau * o["x"], 0.0),
        "S": S,
        "lnN": np.where(s["sc"][:, :, None] | s["routes"], o["lnN_route"], 0.0),
        "lnPHI": o["lnPHI"],
        "Wm": o["Wm"] * s["mv"],
        "Emob": Emob,
        "Wsp": o["W"] * s["spv"],
        "Esp": Esp,
        "K": o["K"],
        "n": o["n_c"],
        "Bterm": o["Bterm"],
        "PU": o["PU"],
    }


def _step(s, a, b):
    mid = lambda k: 0.5 * (a[k] + b[k])
    member = s["member"][None, :, None]
    wedge = 0.5 * (a["t"] * a["cif"] + b["t"] * b["cif"])
    dx = b["x"] - a["x"]
    tot = (mid("q_out") * (b["PY"] - a["PY"])[:, :, None]).sum(axis=(0, 2)) - (mid("x") * (b["cif"] - a["cif"])).sum(
        axis=(0, 1)
    )
    sig = s["sig"][:, None, None]
    variety = (mid("S") * (b["lnN"] - a["lnN"]) / (sig - 1.0)).sum(axis=(0, 1))
    selection = (mid("S") * (b["lnPHI"] - a["lnPHI"])).sum(axis=(0, 1))
    endow = (mid("Wm") * (b["Emob"] - a["Emob"])).sum(axis=0) + (mid("Wsp") * (b["Esp"] - a["Esp"])).sum(axis=(0, 1))
    acc_h = (mid("n") * (b["K"] - a["K"])).sum(axis=0)
    inc_h = ((mid("K") - 1.0) * (b["n"] - a["n"])).sum(axis=0)
    om = s["omega"]
    return {
        "welfare_allocative_members": (wedge * dx * member).sum(axis=(0, 1)),
        "welfare_allocative_nonmembers": (wedge * dx * ~member).sum(axis=(0, 1)),
        "welfare_terms_of_trade": tot,
        "welfare_endowment": endow,
        "welfare_variety": variety,
        "welfare_selection": selection,
        "welfare_capital_accumulation": om @ acc_h,
        "welfare_capital_income": om @ inc_h - inc_h,
        "welfare_trade_balance": b["Bterm"] - a["Bterm"],
    }


def decompose_path(ds, n=8, *, tariff=None, tau=None, endowment=None, pnum=1.0, **options):
    """Section 5's decomposition along the straight instrument path in n steps (n even): trapezoid
    sums weighted by 1/PU at both ends, Richardson-extrapolated from n and n/2 steps. Returns
    (parts by name, the final solution)."""
    s = setup(
        ds,
        **{
            k: options[k]
            for k in ("scale_economies", "firm_elasticity", "pareto_shape", "capital", "members", "trade_balance")
            if k in options
        },
    )
    states, x, last = [], None, None
    for lam in np.linspace(0.0, 1.0, n + 1):
        r = solve_dynamics(ds, tariff=tariff, tau=tau, endowment=endowment, pnum=pnum, lam=lam, x0=x, _setup=s)
        assert r["success"], f"path point {lam} did not solve"
        x, last = r["x_solution"], r
        t_l, tau_l, _ = _instruments(s, tariff, tau, endowment, lam)
        states.append(_state(s, r, t_l, tau_l))

    def trapezoid(sts):
        tot = {k: np.zeros(s["R"]) for k in PARTS}
        for a, b in itertools.pairwise(sts):
            w = 0.5 * (1.0 / a["PU"] + 1.0 / b["PU"])
            for k, v in _step(s, a, b).items():
                tot[k] += w * v
        return tot

    fine, coarse = trapezoid(states), trapezoid(states[::2])
    return {k: (4.0 * fine[k] - coarse[k]) / 3.0 for k in PARTS}, last
