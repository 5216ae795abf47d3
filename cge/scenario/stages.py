"""Balassa's integration stages (MODEL.md section 7) as a layer that sets instruments.

Each stage includes those before it; a stage only reads the options it uses, and refuses others.

=================  ================================================================================
stage              instruments set (members M, non-members N)
=================  ================================================================================
pta                t[i,s,r] *= (1 - margin) for s, r in M, s != r, i in ``sectors``
fta                t[i,s,r] = 0 for s, r in M
customs_union      t[i,s,r] = CET[i] for s in N, r in M (import-weighted average or given);
                   tariff revenue kept, or pooled and shared by benchmark GDP or given shares
common_market      the listed mobile factors move freely among M: one union-wide price, union clearing
economic_union     tau[i,s,r] *= (1 - ntb_cut) for s, r in M
full_integration   tau[i,s,r] = 1 / (1 + border_cost) for s, r in M (replaces the ntb cut)
=================  ================================================================================
"""

from __future__ import annotations

import numpy as np

from cge.errors import ScenarioError, nearest
from cge.model.benchmark import Benchmark

ORDER = ("none", "pta", "fta", "customs_union", "common_market", "economic_union", "full_integration")
#: the stages' plain names, for readers (tables, charts, the report)
PLAIN = {
    "none": "No integration stage",
    "pta": "Preferential trade arrangement",
    "fta": "Free trade area",
    "customs_union": "Customs union",
    "common_market": "Common market",
    "economic_union": "Economic union",
    "full_integration": "Full integration",
}


def plain_name(stage: str | None) -> str:
    """A stage's plain name ("Customs union" for ``customs_union``); other text as it is."""
    return PLAIN.get(str(stage), str(stage))


#: the options each stage reads
OPTIONS = {
    "none": set(),
    "pta": {"margin", "sectors"},
    "fta": set(),
    "customs_union": {"common_external_tariff", "revenue_sharing"},
    "common_market": {"common_external_tariff", "revenue_sharing", "mobile_factors"},
    "economic_union": {"common_external_tariff", "revenue_sharing", "mobile_factors", "ntb_cut"},
    "full_integration": {"common_external_tariff", "revenue_sharing", "mobile_factors", "border_cost"},
}
REQUIRED = {"pta": {"margin"}, "economic_union": {"ntb_cut"}, "full_integration": {"border_cost"}}


def _at_least(stage: str, other: str) -> bool:
    return ORDER.index(stage) >= ORDER.index(other)


def _num(v, key, lo=None, hi=None, lo_open=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise ScenarioError(f"{key}: must be a number, got {v!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ScenarioError(f"{key}: must be {'>' if lo_open else '>='} {lo:g}, got {v!r}")
    if hi is not None and v > hi:
        raise ScenarioError(f"{key}: must be <= {hi:g}, got {v!r}")
    return float(v)


def check(sc, bench: Benchmark) -> None:
    """Refuse stage options that are unknown, unused by the stage, or out of range."""
    where = f"{sc.where}: stage_options"
    stage, opts = sc.stage, sc.stage_options
    if stage == "none":
        if opts:
            raise ScenarioError(f"{where}: stage 'none' uses no options, got {', '.join(map(repr, opts))}")
        return
    if sc.union is None:
        raise ScenarioError(f"{sc.where}: stage {stage!r} needs a 'union' with its members")
    allowed = OPTIONS[stage]
    every = set().union(*OPTIONS.values())
    for key in opts:
        if key not in every:
            raise ScenarioError(f"{where}.{key}: unknown option{nearest(key, sorted(every))}")
        if key not in allowed:
            users = [s for s in ORDER if key in OPTIONS[s]]
            raise ScenarioError(
                f"{where}.{key}: stage {stage!r} does not use this option (it belongs to: {', '.join(users)})"
            )
    for key in REQUIRED.get(stage, ()):
        if key not in opts:
            raise ScenarioError(f"{where}.{key}: required by stage {stage!r}")
    members = sc.union.members
    if "margin" in opts:
        _num(opts["margin"], f"{where}.margin", 0.0, 1.0)
    if "sectors" in opts:
        sel = opts["sectors"]
        if sel != "all":
            if not isinstance(sel, list) or not sel:
                raise ScenarioError(f"{where}.sectors: give 'all' or a list of sector codes")
            for c in sel:
                if c not in bench.sectors:
                    raise ScenarioError(f"{where}.sectors: unknown sector code {c!r}{nearest(c, bench.sectors)}")
    if "common_external_tariff" in opts:
        cet = opts["common_external_tariff"]
        if isinstance(cet, dict):
            for c, v in cet.items():
                if c not in bench.sectors:
                    raise ScenarioError(
                        f"{where}.common_external_tariff: unknown sector code {c!r}{nearest(c, bench.sectors)}"
                    )
                _num(v, f"{where}.common_external_tariff.{c}", 0.0)
        elif cet != "average":
            raise ScenarioError(f"{where}.common_external_tariff: 'average' or a mapping sector: rate, got {cet!r}")
    if "revenue_sharing" in opts:
        rs = opts["revenue_sharing"]
        if isinstance(rs, dict):
            for c, v in rs.items():
                if c not in members:
                    raise ScenarioError(
                        f"{where}.revenue_sharing: {c!r} is not a member of the union{nearest(c, members)}"
                    )
                _num(v, f"{where}.revenue_sharing.{c}", 0.0, 1.0)
            missing = [c for c in members if c not in rs]
            if missing:
                raise ScenarioError(f"{where}.revenue_sharing: no share given for member(s) {', '.join(missing)}")
            if abs(sum(rs.values()) - 1.0) > 1e-9:
                raise ScenarioError(
                    f"{where}.revenue_sharing: shares must sum to 1, they sum to {sum(rs.values()):.6g}"
                )
        elif rs not in ("own", "gdp"):
            raise ScenarioError(f"{where}.revenue_sharing: 'own', 'gdp' or a mapping member: share, got {rs!r}")
    if "mobile_factors" in opts:
        mf = opts["mobile_factors"]
        mf = [mf] if isinstance(mf, str) else mf
        if not isinstance(mf, list) or not mf:
            raise ScenarioError(f"{where}.mobile_factors: give a list of factor names")
        for f in mf:
            if f not in bench.factors:
                raise ScenarioError(f"{where}.mobile_factors: unknown factor {f!r}{nearest(f, bench.factors)}")
            if bench.mobility[bench.factors.index(f)] != "mobile":
                raise ScenarioError(
                    f"{where}.mobile_factors: factor {f!r} is sector-specific in this dataset "
                    f"and cannot move between regions"
                )
    if "ntb_cut" in opts:
        _num(opts["ntb_cut"], f"{where}.ntb_cut", 0.0, 1.0)
        if opts["ntb_cut"] >= 1.0:
            raise ScenarioError(f"{where}.ntb_cut: must be < 1 (a cut of 100% makes trade costless), got 1")
    if "border_cost" in opts:
        _num(opts["border_cost"], f"{where}.border_cost", 0.0)


def common_external_tariff(bench: Benchmark, members: list[str], spec="average") -> np.ndarray:
    """CET per sector: members' benchmark tariffs on non-member imports, weighted by those imports."""
    mem = np.isin(np.asarray(bench.regions), members)
    out = np.zeros(len(bench.sectors))
    if isinstance(spec, dict):
        for k, i in enumerate(bench.sectors):
            out[k] = spec.get(i, np.nan)
        fill = _average(bench, mem)
        return np.where(np.isnan(out), fill, out)
    return _average(bench, mem)


def _average(bench: Benchmark, mem: np.ndarray) -> np.ndarray:
    ext = (~mem)[None, :, None] & mem[None, None, :] & bench.offdiag
    w = np.where(ext, bench.trade, 0.0)
    t = np.where(ext, bench.tariff0, 0.0)
    wsum = w.sum(axis=(1, 2))
    simple = t.sum(axis=(1, 2)) / max(ext[0].sum(), 1)
    return np.where(wsum > 0, (w * t).sum(axis=(1, 2)) / np.where(wsum > 0, wsum, 1.0), simple)


def gdp0(bench: Benchmark) -> np.ndarray:
    """Benchmark GDP at market prices: value added plus tariff revenue (plus output and export tax
    revenue where the data has those taxes)."""
    out = bench.VA0.sum(axis=0) + bench.tariff_revenue0
    if bench.has_taxes:
        out = out + bench.output_tax_revenue0 + bench.export_tax_revenue0
    return out


def apply(sc, bench: Benchmark, ins):
    """The stage's instruments on top of ``ins`` (benchmark instruments)."""
    stage, opts = sc.stage, sc.stage_options
    if stage == "none":
        return ins
    ins = ins.copy()
    members = sc.union.members
    mem = np.isin(np.asarray(bench.regions), members)
    internal = mem[None, :, None] & mem[None, None, :] & bench.offdiag  # (1, s, r)
    external = (~mem)[None, :, None] & mem[None, None, :] & bench.offdiag
    # 1. PTA: preference margin on internal tariffs
    if stage == "pta":
        sel = opts.get("sectors", "all")
        sec = np.ones(len(bench.sectors), bool) if sel == "all" else np.isin(np.asarray(bench.sectors), sel)
        mask = internal & sec[:, None, None]
        ins.tariff[mask] *= 1.0 - float(opts["margin"])
        return ins
    # 2. FTA: no internal tariffs
    ins.tariff[np.broadcast_to(internal, ins.tariff.shape)] = 0.0
    if not _at_least(stage, "customs_union"):
        return ins
    # 3. customs union: common external tariff and revenue sharing
    cet = common_external_tariff(bench, members, opts.get("common_external_tariff", "average"))
    ext = np.broadcast_to(external, ins.tariff.shape)
    ins.tariff = np.where(ext, cet[:, None, None], ins.tariff)
    ins.notes.append("common external tariff: " + ", ".join(f"{i} {v:.4f}" for i, v in zip(bench.sectors, cet)))
    rs = opts.get("revenue_sharing", "own")
    if rs != "own":
        if rs == "gdp":
            g = np.where(mem, gdp0(bench), 0.0)
            share = g / g.sum()
        else:
            share = np.array([float(rs.get(r, 0.0)) for r in bench.regions])
        ins.revenue_pool = mem.astype(float)
        ins.revenue_share = np.where(mem, share, 0.0)
    if not _at_least(stage, "common_market"):
        return ins
    # 4. common market: listed (default: all mobile) factors move freely among members
    mf = opts.get("mobile_factors")
    mf = [mf] if isinstance(mf, str) else mf
    if mf is None:
        mf = [f for f, m in zip(bench.factors, bench.mobility) if m == "mobile"]
    for f in mf:
        ins.factor_pool[bench.factors.index(f)] = mem.astype(float)
    if not _at_least(stage, "economic_union"):
        return ins
    tau_int = np.broadcast_to(internal, ins.tau.shape)
    if stage == "economic_union":
        ins.tau[tau_int] *= 1.0 - float(opts["ntb_cut"])
    else:  # full integration: the internal border goes entirely
        ins.tau[tau_int] = 1.0 / (1.0 + float(opts["border_cost"]))
    return ins
