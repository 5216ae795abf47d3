"""Independent numpy/scipy reference of the model extensions (docs/extensions.md sections 1-5).

Used by the test suite to check the Pyomo model. It shares no code with `cge/` (only the core
reference's idea, tests/reference_model.py, is reused): production nests `esubt` (value added vs
the intermediate bundle) and `esubc` (among intermediates), CES final demand `esubfd`, CET between
domestic sales and exports `etrans`, output and export taxes, the `world_income` trade-balance
closure and the numeraire choices.

Unknowns (all in logs, relative to the benchmark): for every produced cell (Y0 > 0) the activity Y;
its price PY where there is no CET, or its two prices PD and PE where the CET applies (finite
etrans, D0 > 0 and E0 > 0; then PY is the CET revenue index of PD and PE); W for mobile factors
with a positive endowment, W[f,j,r] for specific factors with F0 > 0; INC[r]/INC0[r]. Every price
index and demand is an explicit function of these.

Equations (scaled by benchmark size, so `max_residual` is relative):
- zero profit (j, r): PY * Y0 / (1 + to) = COST0 * PC;
- output market (i, r), in quantity units where there is no CET, `Y*Y0 = D + sum tau X`, and as the
  value balance divided by PY where there is, `Y*Y0 = (PD*D + PE*sum tau X) / PY`; one (the largest
  Y0) is dropped (Walras);
- at CET cells also the domestic market `D = DS = D0 * Y * (PD/PY)^eta`, written in logs
  (this, with the value balance, implies the export market `sum tau X = ES`);
- factor markets, income (r), numeraire.
`walras_residual` is the dropped value balance `PY*Y*Y0 - PD*D - PE*sum tau X` in value units.
"""
import numpy as np
from scipy.optimize import root

from tests.support.reference_model import _arrays as core_arrays


def ces(theta, p, sigma, axis):
    """CES price index (sum theta * p^(1-sigma))^(1/(1-sigma)) over `axis`, computed by log-sum-exp
    (safe for large |1-sigma|, e.g. a CET with a large eta as sigma = -eta); the Cobb-Douglas index
    prod p^theta where sigma == 1 exactly; the linear index at sigma == 0 (it is the general form
    with exponent 1). Cells with theta == 0 drop out. `sigma` must be constant along `axis`."""
    theta, p, sigma = np.broadcast_arrays(np.asarray(theta, float), np.asarray(p, float),
                                          np.asarray(sigma, float))
    pos = theta > 0
    lp = np.log(np.where(pos, p, 1.0))
    s = np.take(sigma, 0, axis=axis)
    cobb_douglas = np.exp(np.sum(np.where(pos, theta * lp, 0.0), axis=axis))
    e = 1.0 - sigma
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = np.where(pos, np.log(np.where(pos, theta, 1.0)) + e * lp, -np.inf)
        m = np.max(z, axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        lt = np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(z - m), axis=axis))
        general = np.exp(lt / np.where(s == 1.0, 1.0, 1.0 - s))
    return np.where(s == 1.0, cobb_douglas, general)


def _div(x, y):
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    return np.divide(x, y, out=np.zeros(x.shape), where=y > 0)


def _arrays(ds):
    """The core's arrays (read as tests/reference_model.py reads them) plus the labels and the
    extensions' optional variables, neutral where absent."""
    reg, sec = ds["region"].values, ds["sector"].values
    N, R = len(sec), len(reg)

    def opt(name, dims, default):
        if name not in ds:
            return np.full([dict(sector=N, region=R, source=R, dest=R)[d] for d in dims], default)
        v = ds[name]
        if "source" in v.dims:
            v = v.sel(source=reg, dest=reg)
        return v.transpose(*dims).values.astype(float)

    return dict(
        core_arrays(ds),
        regions=list(map(str, reg)), sectors=list(map(str, sec)),
        factors=list(map(str, ds["factor"].values)),
        output_tax=opt("output_tax", ("sector", "region"), 0.0),
        export_tax=opt("export_tax", ("sector", "source", "dest"), 0.0),
        esubt=opt("esubt", ("sector",), 0.0),
        esubc=opt("esubc", ("sector",), 0.0),
        etrans=opt("etrans", ("sector",), np.inf),
        esubfd=opt("esubfd", ("region",), 1.0),
    )


def _index(value, labels, what):
    if isinstance(value, (int, np.integer)):
        if not 0 <= value < len(labels):
            raise ValueError(f"{what} index {value} out of range")
        return int(value)
    if str(value) in labels:
        return labels.index(str(value))
    raise ValueError(f"unknown {what} {value!r}")


def solve_reference_ext(ds, *, esubt=None, esubc=None, esubfd=None, etrans=None,
                        tariff=None, tau=None, endowment=None, output_tax=None, export_tax=None,
                        pnum=1.0, trade_balance="numeraire", numeraire=("world_factor_price",),
                        tol=1e-12):
    """Solve the extended model. See the module docstring and docs/extensions.md.

    esubt, esubc, etrans: by sector (scalar broadcast); esubfd: by region. None: the dataset's
    variable if present, else the neutral value (0, 0, inf, 1). tariff, tau, export_tax:
    (sector, source, dest), diagonal ignored; output_tax: (sector, region); None: benchmark.
    endowment: (factor, region) scale of benchmark endowments. trade_balance: "numeraire" or
    "world_income". numeraire: ("world_factor_price",), ("utility_price", r), ("factor_price", r)
    or ("factor_price", r, f), r and f indices or labels.
    """
    a = _arrays(ds)
    trade, inter, final, F0 = a["trade"], a["inter"], a["final"], a["F0"]
    sd, sm, sv = a["esubd"], a["esubm"], a["esubva"]
    mobile = a["mobile"]
    N, R, _ = trade.shape
    nF = F0.shape[0]
    off = ~np.eye(R, dtype=bool)[None]  # (1, s, r): s != r

    def by(x, default, n):
        return default if x is None else np.broadcast_to(np.asarray(x, float), (n,)).copy()

    st = by(esubt, a["esubt"], N)
    sc = by(esubc, a["esubc"], N)
    sfd = by(esubfd, a["esubfd"], R)
    eta = by(etrans, a["etrans"], N)
    for name, v in (("esubt", st), ("esubc", sc), ("esubfd", sfd), ("etrans", eta)):
        if np.any(np.isnan(v)) or np.any(v < 0):
            raise ValueError(f"{name} must be >= 0")

    # ---- benchmark instruments and the scenario's ----
    t0 = np.where(off, a["tariff"], 0.0)
    te0 = np.where(off, a["export_tax"], 0.0)
    to0 = a["output_tax"]
    t1 = t0 if tariff is None else np.where(off, np.asarray(tariff, float), 0.0)
    te1 = te0 if export_tax is None else np.where(off, np.asarray(export_tax, float), 0.0)
    to1 = to0 if output_tax is None else np.broadcast_to(np.asarray(output_tax, float), (N, R)).copy()
    tau1 = np.ones_like(trade) if tau is None else np.where(off, np.asarray(tau, float), 1.0)
    sc1 = np.ones((nF, R)) if endowment is None else np.broadcast_to(np.asarray(endowment, float), (nF, R))

    # ---- benchmark quantities (MODEL.md section 3, extensions.md sections 1-4) ----
    PG0 = (1.0 + te0) * (1.0 + t0)
    Y0 = trade.sum(axis=2)                          # (j, r)
    D0 = np.einsum("irr->ir", trade).copy()         # (i, r)
    X0 = np.where(off, trade, 0.0)                  # (i, s, r)
    E0 = X0.sum(axis=2)                             # (i, r) exports of r
    M0 = np.einsum("isr,isr->ir", X0, PG0)
    A0 = D0 + M0
    VA0 = F0.sum(axis=0)                            # (j, r)
    INT0 = inter.sum(axis=0)                        # (j, r)
    COST0 = INT0 + VA0
    INC0 = final.sum(axis=0)                        # (r)
    fob0 = X0 * (1.0 + te0)
    B = fob0.sum(axis=(0, 1)) - fob0.sum(axis=(0, 2))  # fob imports - fob exports (export tax incl.)
    thD = np.where(A0 > 0, _div(D0, A0), 1.0)
    thM = _div(X0 * PG0, M0[:, None, :])
    thF = _div(F0, VA0[None])
    thI = _div(inter, INT0[None])
    thVA = _div(VA0, COST0)
    thDS = _div(D0, Y0)
    beta = _div(final, INC0[None])

    # ---- masks ----
    yv = Y0 > 0
    cet = yv & np.isfinite(eta)[:, None] & (D0 > 0) & (E0 > 0)
    ncet = yv & ~cet
    eta_f = np.where(np.isfinite(eta), eta, 0.0)[:, None] * np.ones((1, R))  # (i, r), finite
    Fm = F0.sum(axis=1)                              # (f, r)
    mv = mobile[:, None] & (Fm > 0)
    spv = ~mobile[:, None, None] & (F0 > 0)
    drop = np.unravel_index(np.argmax(np.where(yv, Y0, -1.0)), Y0.shape)
    mc_keep = yv.copy()
    mc_keep[drop] = False
    sizes = [yv.sum(), ncet.sum(), cet.sum(), cet.sum(), mv.sum(), spv.sum(), R]
    worldF0 = F0.sum()

    # ---- numeraire ----
    if isinstance(numeraire, str):
        numeraire = (numeraire,)
    kind = numeraire[0]
    if kind == "world_factor_price":
        if len(numeraire) != 1:
            raise ValueError("world_factor_price takes no arguments")
        num_w = F0 / worldF0
    elif kind == "utility_price":
        num_r = _index(numeraire[1], a["regions"], "region")
    elif kind == "factor_price":
        rr = _index(numeraire[1], a["regions"], "region")
        wmask = np.zeros_like(F0)
        if len(numeraire) == 2:
            wmask[:, :, rr] = 1.0
        elif len(numeraire) == 3:
            wmask[_index(numeraire[2], a["factors"], "factor"), :, rr] = 1.0
        else:
            raise ValueError("factor_price takes (r,) or (r, f)")
        if (F0 * wmask).sum() <= 0:
            raise ValueError("numeraire factor has no endowment in that region")
        num_w = F0 * wmask / (F0 * wmask).sum()
    else:
        raise ValueError(f"unknown numeraire {kind!r}")
    if trade_balance not in ("numeraire", "world_income"):
        raise ValueError(f"unknown trade_balance closure {trade_balance!r}")

    def make_model(lam):
        """The model with every instrument at benchmark + lam * (scenario - benchmark)."""
        mix = lambda b, s: b + lam * (s - b)
        t, te, to = mix(t0, t1), mix(te0, te1), mix(to0, to1)
        tau_ = mix(np.ones_like(tau1), tau1)
        scale = mix(np.ones_like(sc1), sc1)
        Emob = scale * Fm
        Espec = scale[:, None, :] * F0

        def unpack(x):
            p = np.split(x, np.cumsum(sizes)[:-1])
            Y = np.ones((N, R))
            Y[yv] = np.exp(p[0])
            PD, PE = np.ones((N, R)), np.ones((N, R))
            PD[ncet] = PE[ncet] = np.exp(p[1])
            PD[cet] = np.exp(p[2])
            PE[cet] = np.exp(p[3])
            PY = PD.copy()
            PY_cet = ces(np.stack([thDS, 1.0 - thDS]), np.stack([PD, PE]), -eta_f[None], axis=0)
            PY[cet] = PY_cet[cet]
            Wm = np.ones((nF, R))
            Wm[mv] = np.exp(p[4])
            W = np.broadcast_to(Wm[:, None, :], (nF, N, R)).copy()
            W[spv] = np.exp(p[5])
            INC = INC0 * np.exp(p[6])
            return PY, PD, PE, Y, W, Wm, INC

        def model(x):
            PY, PD, PE, Y, W, Wm, INC = unpack(x)
            PG = PE[:, :, None] * (1.0 + te) * tau_ * (1.0 + t)                      # (i, s, r)
            PM = np.where(M0 > 0, ces(thM, PG / PG0, sm[:, None, None], axis=1), 1.0)
            PA = np.where(A0 > 0, ces(np.stack([thD, 1 - thD]), np.stack([PD, PM]),
                                      sd[None, :, None], axis=0), 1.0)
            PVA = np.where(VA0 > 0, ces(thF, W, sv[None, :, None], axis=0), 1.0)
            PINT = np.where(INT0 > 0, ces(thI, PA[:, None, :], sc[None, :, None], axis=0), 1.0)
            PC = np.where(COST0 > 0, ces(np.stack([thVA, 1 - thVA]), np.stack([PVA, PINT]),
                                         st[None, :, None], axis=0), 1.0)
            PU = ces(beta, PA, sfd[None, :], axis=0)
            # demands
            INTD = inter * Y[None] * (_safe_ratio(PC, PINT) ** st[:, None])[None] \
                * (PINT[None] / PA[:, None, :]) ** sc[None, :, None]
            FD = F0 * Y[None] * (_safe_ratio(PC, PVA) ** st[:, None])[None] \
                * (PVA[None] / W) ** sv[None, :, None]
            C = final * (INC / INC0)[None] / PU[None] * (PU[None] / PA) ** sfd[None, :]
            A = INTD.sum(axis=1) + C
            D = D0 * _div(A, A0) * (PA / PD) ** sd[:, None]
            M = M0 * _div(A, A0) * (PA / PM) ** sd[:, None]
            X = X0 * _div(M, M0)[:, None, :] * (PM[:, None, :] / (PG / PG0)) ** sm[:, None, None]
            EX = np.einsum("irs,irs->ir", tau_, X)                                  # exports of r
            # revenues
            tariff_rev = np.einsum("isr,isr->r", t * PE[:, :, None] * (1.0 + te) * tau_, X)
            export_rev = np.einsum("isr,isr->s", te * PE[:, :, None] * tau_, X)
            output_rev = np.where(yv, to / (1.0 + to) * PY * Y * Y0, 0.0).sum(axis=0)
            factor_inc = (Wm * Emob * mv).sum(axis=0) + (W * Espec * spv).sum(axis=(0, 1))
            Bterm = B * pnum if trade_balance == "numeraire" else B / INC0.sum() * INC.sum()

            ZP = PY * Y0 / (1.0 + to) - COST0 * PC
            VB = PY * Y * Y0 - PD * D - PE * EX                                      # value balance
            MCq = np.where(cet, VB / PY, Y * Y0 - D - EX)
            with np.errstate(divide="ignore", invalid="ignore"):
                SPL = np.log(_div(D, D0 * Y)) - eta_f * np.log(PD / PY)
            FM = FD.sum(axis=1) - Emob
            FS = FD - Espec
            INCeq = INC - (factor_inc + tariff_rev + export_rev + output_rev + Bterm)
            if kind == "utility_price":
                NUM = PU[num_r] - pnum
            else:
                NUM = np.sum(num_w * W) - pnum
            resid = np.concatenate([
                ZP[yv] / Y0[yv], MCq[mc_keep] / Y0[mc_keep], SPL[cet], FM[mv] / Fm[mv],
                FS[spv] / F0[spv], INCeq / INC0, [NUM / pnum]])
            out = dict(PY=PY, PD=PD, PE=PE, Y=Y, W=W, Wm=Wm, INC=INC, PG=PG, PM=PM, PA=PA, PVA=PVA,
                       PINT=PINT, PC=PC, PU=PU, C=C, A=A, D=D, M=M, X=X, EX=EX, FD=FD, INTD=INTD,
                       DS=D0 * Y * (PD / PY) ** eta_f, ES=E0 * Y * (PE / PY) ** eta_f,
                       tariff_rev=tariff_rev, export_rev=export_rev, output_rev=output_rev,
                       factor_inc=factor_inc, Bterm=Bterm, walras=VB[drop])
            return resid, out

        return model

    lpn = np.log(pnum)
    x_bench = np.concatenate([np.zeros(sizes[0]), np.full(sum(sizes[1:6]), lpn), np.full(R, lpn)])

    def solve(model, x0):
        f = lambda x: model(x)[0]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            sol = root(f, x0, method="hybr", tol=tol)
            if not sol.success or not np.all(np.isfinite(f(sol.x))) or np.max(np.abs(f(sol.x))) > 1e-10:
                start = sol.x if np.all(np.isfinite(f(sol.x))) else x0
                sol = root(f, start, method="lm", tol=tol)
        res = f(sol.x)
        ok = bool(np.all(np.isfinite(res)) and np.max(np.abs(res)) < 1e-10)
        return sol.x, ok, sol

    model = make_model(1.0)
    x, ok, sol = solve(model, x_bench)
    if not ok:  # continuation from the benchmark along the shock path
        for n in (4, 16):
            xs, good = x_bench, True
            for lam in np.linspace(0.0, 1.0, n + 1)[1:]:
                xs, good, sol = solve(make_model(lam), xs)
                if not good:
                    break
            if good:
                x, ok = xs, True
                break
    resid, o = model(x)

    nan = np.nan
    Xout = np.where(off, o["X"], 0.0)
    Xout[:, np.arange(R), np.arange(R)] = o["D"]
    U = o["INC"] / (INC0 * o["PU"])
    max_res = float(np.max(np.abs(resid)))
    return dict(
        PY=np.where(yv, o["PY"], nan), PD=np.where(yv, o["PD"], nan), PE=np.where(yv, o["PE"], nan),
        Y=np.where(yv, o["Y"], nan), W=np.where(mv, o["Wm"], nan), Wspec=np.where(spv, o["W"], nan),
        PA=np.where(A0 > 0, o["PA"], nan), PM=np.where(M0 > 0, o["PM"], nan),
        PVA=np.where(VA0 > 0, o["PVA"], nan), PINT=np.where(INT0 > 0, o["PINT"], nan),
        PC=np.where(COST0 > 0, o["PC"], nan), PU=o["PU"], INC=o["INC"], U=U, EV=INC0 * (U - 1.0),
        X=Xout, PG=np.where(off, o["PG"], nan), C=o["C"], A=o["A"], FD=o["FD"], INTD=o["INTD"],
        DS=np.where(yv, o["DS"], nan), ES=np.where(yv, o["ES"], nan),
        tariff_revenue=o["tariff_rev"], export_tax_revenue=o["export_rev"],
        output_tax_revenue=o["output_rev"], factor_income=o["factor_inc"], B_term=o["Bterm"],
        walras_residual=float(o["walras"]), max_residual=max_res,
        success=bool(ok and max_res < 1e-9), INC0=INC0, B=B, cet=cet, dropped=tuple(map(int, drop)),
        instruments=dict(tariff=t1, export_tax=te1, output_tax=to1, tau=tau1, endowment=sc1),
        elasticities=dict(esubt=st, esubc=sc, esubfd=sfd, etrans=eta),
    )


def _safe_ratio(x, y):
    return np.divide(x, y, out=np.ones(np.broadcast(x, y).shape), where=y > 0)


def _draw(rng, rate, shape):
    if np.ndim(rate) == 0:
        return rng.uniform(0.0, float(rate), shape)
    rate = np.asarray(rate, float)
    if rate.shape == (2,) and shape != (2,):
        return rng.uniform(rate[0], rate[1], shape)
    return np.broadcast_to(rate, shape).copy()


def add_taxes(ds, output_rate=0.1, export_rate=0.1, seed=0):
    """Copy of a (MODEL.md layout) dataset with benchmark `output_tax` (sector, region) and
    `export_tax` (sector, source, dest; 0 on the diagonal) variables, re-balanced so that the two
    identities of docs/extensions.md section 4 hold. A rate is a number (uniform draws in [0, rate]),
    a pair (lo, hi) (uniform draws in [lo, hi]) or an array of the variable's shape.

    `trade`, `tariff` and `intermediate` are kept. `factor_income` is scaled so that
    sum_s trade[j,r,s] = (1+to) * (sum_i intermediate + sum_f factor_income), and `final_demand` is
    set from the composite balance sum_j intermediate + final_demand = trade[i,r,r]
    + sum_{s!=r} trade[i,s,r] * (1+te) * (1+tariff). Both must stay non-negative (asserted).
    """
    import xarray as xr
    rng = np.random.default_rng(seed)
    a = _arrays(ds)
    trade, t, inter, final, F0 = a["trade"], a["tariff"], a["inter"], a["final"], a["F0"]
    N, R, _ = trade.shape
    off = ~np.eye(R, dtype=bool)[None]
    to = _draw(rng, output_rate, (N, R))
    te = np.where(off, _draw(rng, export_rate, (N, R, R)), 0.0)
    assert (to > -1).all() and (te > -1).all()
    Y0 = trade.sum(axis=2)
    va_new = Y0 / (1.0 + to) - inter.sum(axis=0)
    va_old = F0.sum(axis=0)
    assert np.all((va_new > 0) | ((va_old == 0) & (np.abs(va_new) <= 1e-12 * Y0))), \
        "output tax leaves no room for value added"
    F = F0 * _div(va_new, va_old)[None]
    supply = np.einsum("irr->ir", trade) + np.einsum("isr,isr->ir", np.where(off, trade, 0.0),
                                                      (1.0 + te) * (1.0 + t))
    fd = supply - inter.sum(axis=1)
    assert np.all(fd >= 0) and np.all(fd[final > 0] > 0), "final demand would turn negative"
    out = ds.copy(deep=True)
    sec, reg, fac = ds["sector"].values, ds["region"].values, ds["factor"].values
    out["factor_income"] = xr.DataArray(F, dims=("factor", "sector", "region"),
                                        coords=dict(factor=fac, sector=sec, region=reg)) \
        .transpose(*ds["factor_income"].dims)
    out["final_demand"] = xr.DataArray(fd, dims=("sector", "region"),
                                       coords=dict(sector=sec, region=reg)).transpose(*ds["final_demand"].dims)
    out["output_tax"] = xr.DataArray(to, dims=("sector", "region"), coords=dict(sector=sec, region=reg))
    out["export_tax"] = xr.DataArray(te, dims=("sector", "source", "dest"),
                                     coords=dict(sector=sec, source=reg, dest=reg))
    return out


def tax_identities(ds):
    """Both identities of docs/extensions.md section 4: returns (supply, use, output, cost), each
    (sector, region); supply == use and output == cost in a balanced dataset."""
    a = _arrays(ds)
    trade, t, te, to = a["trade"], a["tariff"], a["export_tax"], a["output_tax"]
    R = trade.shape[1]
    off = ~np.eye(R, dtype=bool)[None]
    supply = np.einsum("irr->ir", trade) + np.einsum("isr,isr->ir", np.where(off, trade, 0.0),
                                                      (1.0 + np.where(off, te, 0)) * (1.0 + t))
    use = a["inter"].sum(axis=1) + a["final"]
    cost = (1.0 + to) * (a["inter"].sum(axis=0) + a["F0"].sum(axis=0))
    return supply, use, trade.sum(axis=2), cost
