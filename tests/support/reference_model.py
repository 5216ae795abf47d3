"""Independent numpy/scipy reference implementation of the core model (MODEL.md sections 3 and 5).

Used by the test suite to check the Pyomo model. It deliberately shares no code with `cge/`.

Unknowns (all in logs, relative to the benchmark): PY[i,r] and Y[i,r] where Y0 > 0, W[f,r] for
mobile factors with a positive endowment, W[f,j,r] for specific factors with F0 > 0, and INC[r]/INC0[r].
Price indices PM, PA, PVA, PU and the demands are explicit functions of these.
Equations: zero profit (j,r), output market clearing (i,r) minus one dropped (Walras), factor market
clearing, income (r) and the numeraire. Equations are scaled by their benchmark size, so
`max_residual` is relative; `walras_residual` is the dropped equation's residual in value units
(PY * excess supply).
"""
import numpy as np
from scipy.optimize import root


def ces(theta, p, sigma, axis):
    """CES price index (sum theta * p^(1-sigma))^(1/(1-sigma)) over `axis`; Cobb-Douglas
    prod p^theta where sigma == 1 exactly; Leontief (linear) at sigma == 0. Cells with theta == 0 are
    ignored (their price may be anything). `sigma` must be constant along `axis`."""
    theta, p, sigma = np.broadcast_arrays(theta, p, sigma)
    pos = theta > 0
    lp = np.log(np.where(pos, p, 1.0))
    s = np.take(sigma, 0, axis=axis)
    cobb_douglas = np.exp(np.sum(np.where(pos, theta * lp, 0.0), axis=axis))
    e = 1.0 - sigma
    terms = np.sum(np.where(pos, theta * np.exp(e * lp), 0.0), axis=axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        general = terms ** (1.0 / np.where(s == 1.0, 1.0, 1.0 - s))
    return np.where(s == 1.0, cobb_douglas, general)


def _arrays(ds):
    reg, sec = ds["region"].values, ds["sector"].values
    g = lambda v, *dims: ds[v].transpose(*dims).values.astype(float)
    sel = {}
    if "source" in ds["trade"].dims:
        sel = dict(source=reg, dest=reg)
    trade = ds["trade"].sel(**sel).transpose("sector", "source", "dest").values.astype(float)
    tariff = ds["tariff"].sel(**sel).transpose("sector", "source", "dest").values.astype(float)
    inter = ds["intermediate"].sel(user=sec).transpose("sector", "user", "region").values.astype(float)
    return dict(
        trade=trade, tariff=tariff, inter=inter,
        final=g("final_demand", "sector", "region"),
        F0=g("factor_income", "factor", "sector", "region"),
        esubd=g("esubd", "sector"), esubm=g("esubm", "sector"), esubva=g("esubva", "sector"),
        mobile=np.array([str(m) == "mobile" for m in ds["mobility"].values]),
    )


def solve_reference(ds, tariff=None, tau=None, endowment=None, pnum=1.0, tol=1e-12):
    a = _arrays(ds)
    trade, inter, final, F0 = a["trade"], a["inter"], a["final"], a["F0"]
    sd, sm, sv = a["esubd"], a["esubm"], a["esubva"]
    mobile = a["mobile"]
    N, R, _ = trade.shape
    nF = F0.shape[0]
    off = ~np.eye(R, dtype=bool)[None]  # (1, s, r): s != r

    # ---- benchmark (section 3) ----
    t0 = np.where(off, a["tariff"], 0.0)
    t = t0 if tariff is None else np.where(off, np.asarray(tariff, float), 0.0)
    tau = np.ones_like(trade) if tau is None else np.where(off, np.asarray(tau, float), 1.0)
    scale = np.ones((nF, R)) if endowment is None else np.asarray(endowment, float)
    PG0 = 1.0 + t0
    Y0 = trade.sum(axis=2)                      # (j, r)
    D0 = np.einsum("irr->ir", trade)            # (i, r)
    X0 = np.where(off, trade, 0.0)              # (i, s, r)
    M0 = np.einsum("isr,isr->ir", X0, PG0)
    A0 = D0 + M0
    VA0 = F0.sum(axis=0)                        # (j, r)
    INC0 = final.sum(axis=0)                    # (r)
    B = X0.sum(axis=(0, 1)) - X0.sum(axis=(0, 2))  # imports - exports at basic prices
    div = lambda x, y: np.divide(x, y, out=np.zeros(np.broadcast(x, y).shape), where=y > 0)
    thD = np.where(A0 > 0, div(D0, A0), 1.0)
    thM = div(X0 * PG0, M0[:, None, :])
    thF = div(F0, VA0[None])
    beta = div(final, INC0[None])

    # ---- masks of active cells ----
    yv = Y0 > 0                                  # PY, Y, zero profit, market clearing
    Fm = F0.sum(axis=1)                          # (f, r) benchmark endowment of mobile factors
    mv = mobile[:, None] & (Fm > 0)              # mobile W[f, r]
    spv = ~mobile[:, None, None] & (F0 > 0)      # specific W[f, j, r]
    Emob = scale * Fm                            # mobile endowment
    Espec = scale[:, None, :] * F0               # specific endowment
    drop = np.unravel_index(np.argmax(np.where(yv, Y0, -1.0)), Y0.shape)  # largest market dropped
    mc_keep = yv.copy()
    mc_keep[drop] = False
    sizes = [yv.sum(), yv.sum(), mv.sum(), spv.sum(), R]

    def unpack(x):
        parts = np.split(x, np.cumsum(sizes)[:-1])
        PY, Y, W = np.ones((N, R)), np.ones((N, R)), np.ones((nF, N, R))
        PY[yv] = np.exp(parts[0])
        Y[yv] = np.exp(parts[1])
        Wm = np.ones((nF, R))
        Wm[mv] = np.exp(parts[2])
        W[:] = Wm[:, None, :]
        W[spv] = np.exp(parts[3])
        INC = INC0 * np.exp(parts[4])
        return PY, Y, W, Wm, INC

    def model(x):
        PY, Y, W, Wm, INC = unpack(x)
        PG = PY[:, :, None] * tau * (1.0 + t)                                   # (i, s, r)
        PM = ces(thM, PG / PG0, sm[:, None, None], axis=1)
        PM = np.where(M0 > 0, PM, 1.0)
        PA = ces(np.stack([thD, 1 - thD]), np.stack([PY, PM]), sd[None, :, None], axis=0)
        PA = np.where(A0 > 0, PA, 1.0)
        PVA = ces(thF, W, sv[None, :, None], axis=0)
        PVA = np.where(VA0 > 0, PVA, 1.0)
        PU = np.exp(np.sum(beta * np.log(PA), axis=0))
        C = beta * INC / PA
        A = np.einsum("ijr,jr->ir", inter, Y) + C
        D = D0 * div(A, A0) * (PA / PY) ** sd[:, None]
        M = M0 * div(A, A0) * (PA / PM) ** sd[:, None]
        X = X0 * div(M, M0)[:, None, :] * (PM[:, None, :] / (PG / PG0)) ** sm[:, None, None]
        FD = F0 * Y[None] * (PVA[None] / W) ** sv[None, :, None]
        tariff_rev = np.einsum("isr,isr->r", t * PG / (1.0 + t), X)             # t * PY_s * tau * X
        factor_inc = (Wm * Emob * mobile[:, None]).sum(axis=0) + (W * Espec * spv).sum(axis=(0, 1))

        ZP = PY * Y0 - np.einsum("ijr,ir->jr", inter, PA) - VA0 * PVA
        MC = Y * Y0 - D - np.einsum("irs,irs->ir", tau, X)
        FM = FD.sum(axis=1) - Emob
        FS = FD - Espec
        INCeq = INC - (factor_inc + tariff_rev + B * pnum)
        NUM = np.sum(F0 * W) / np.sum(F0) - pnum
        resid = np.concatenate([
            ZP[yv] / Y0[yv], MC[mc_keep] / Y0[mc_keep], FM[mv] / Fm[mv],
            FS[spv] / F0[spv], INCeq / INC0, [NUM / pnum]])
        out = dict(PY=PY, Y=Y, W=W, Wm=Wm, INC=INC, PG=PG, PM=PM, PA=PA, PVA=PVA, PU=PU, C=C, A=A,
                   D=D, M=M, X=X, FD=FD, tariff_rev=tariff_rev,
                   walras=PY[drop] * MC[drop])
        return resid, out

    x0 = np.concatenate([np.full(sizes[0], np.log(pnum)), np.zeros(sizes[1]),
                         np.full(sizes[2] + sizes[3], np.log(pnum)), np.full(R, np.log(pnum))])
    sol = root(lambda x: model(x)[0], x0, method="hybr", tol=tol)
    if not sol.success or np.max(np.abs(model(sol.x)[0])) > 1e-9:
        sol = root(lambda x: model(x)[0], sol.x, method="lm", tol=tol)
    resid, o = model(sol.x)

    nan = np.nan
    PY = np.where(yv, o["PY"], nan)
    W = np.where(mv, o["Wm"], nan)
    Wspec = np.where(spv, o["W"], nan)
    X = np.where(off, o["X"], 0.0)
    X[:, np.arange(R), np.arange(R)] = o["D"]
    U = o["INC"] / (INC0 * o["PU"])
    return dict(
        PY=PY, Y=np.where(yv, o["Y"], nan), W=W, Wspec=Wspec,
        PA=np.where(A0 > 0, o["PA"], nan), PM=np.where(M0 > 0, o["PM"], nan),
        PVA=np.where(VA0 > 0, o["PVA"], nan), PU=o["PU"], INC=o["INC"], U=U, EV=INC0 * (U - 1.0),
        X=X, PG=np.where(off, o["PG"], nan), C=o["C"], FD=o["FD"], tariff_revenue=o["tariff_rev"],
        walras_residual=float(o["walras"]), max_residual=float(np.max(np.abs(resid))),
        success=bool(sol.success), INC0=INC0, B=B,
    )
