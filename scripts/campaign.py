"""The reliability campaign (issue 18): bad inputs of every kind, generated, run through the command
line and classified.  One source of bad inputs: tests/test_fuzz.py draws a sample of each category
from :func:`cases` (every category, a few cases each, in CI); this script runs all of them.

    python scripts/campaign.py                 # every case (about 600; 3-4 minutes of CPU)
    python scripts/campaign.py --category csv  # one category
    python scripts/campaign.py --list          # the cases, not run

Categories: ``scenario-keys`` (every key of the scenario schema, walked from its pydantic models,
with booleans, text, huge text, nan, inf, 1e308 and negatives), ``hints`` (misspelt codes and
stages), ``yaml`` (broken files: binary, UTF-16, Latin-1, deep nesting, alias bombs, tags,
duplicate keys, 7 MB), ``csv`` (tariff files), ``confinement`` (files named in a scenario or a
comparison file that lie outside its folder), ``datasets`` (text, non-finite, 1e300 scale, missing
variables, junk), ``recipes`` (every key of the calibration recipe schema, broken recipe files),
``commands`` (bad options) and ``report`` (folders that hold no results).

Each case is run in a fresh folder, in a forked copy of this process (click's runner: the command
line's own code, its last-resort handler included), and classified:

- ``ok``: exit 2, no traceback or internal error, one short message naming the place, nothing written;
- ``traceback``: an exception escaped, or the last-resort handler reported an internal error;
- ``accepted``: exit 0 (a wrong input accepted);
- ``solve-failure``: exit 1 (an invalid input reported as a failure to solve or write);
- ``unnamed``: exit 2 without the place in the message, or a message longer than 2,000 characters;
- ``left-output``: refused, but a file was written or removed;
- ``hang``: no answer within 60 seconds (the case's process is killed).

Exit status 0 when every case is ``ok``; 1 otherwise (the failures listed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import sys
import tempfile
import time
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The solving commands mark Dask absent when it is not loaded yet (cge.cli._without_dask), and xarray
# caches whether it is there: loaded here, every forked case sees one consistent state.
with contextlib.suppress(ImportError):
    import dask  # noqa: F401

FTA = {"name": "fz", "union": {"name": "U", "members": ["USA", "CAN"]}, "stage": "fta"}
HUGE = "x" * 100_000
#: bad values for any key: a boolean, text, huge text, non-finite, absurd, negative
BAD = [True, "x", HUGE, float("nan"), float("inf"), 1e308, -5.0, [1], {"a": 1}]
#: keys whose value is free text (text and huge text are not wrong there)
FREE_TEXT = {"description", "title", "citation", "licence_note", "units"}
#: values that are right for a key: etrans = inf is the core's perfect transformation
VALID = {("model", "etrans"): {"inf"}}
#: seconds a case may take before it is called a hang
LIMIT = 60


@dataclass
class Case:
    """One bad input: the files of its folder, the command line (``{dir}``: the folder) and the text
    the message must hold (the place: file, key, line or column)."""

    category: str
    id: str
    args: list[str]
    place: str
    files: dict[str, bytes] = field(default_factory=dict)
    #: writes further files into the folder (a dataset), when bytes are not enough
    make: Optional[Callable[[Path], None]] = None


def _yaml(body: Any) -> bytes:
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True).encode()


def scenario(cat: str, id: str, body: Any, place: str, extra: dict[str, bytes] | None = None) -> Case:
    """A scenario file ``s.yaml`` (a mapping, or bytes as they are) run with ``cge run``."""
    files = {"s.yaml": body if isinstance(body, bytes) else _yaml(body), **(extra or {})}
    return Case(cat, id, ["run", "{dir}/s.yaml", "-q", "--steps", "0"], place, files)


# ------------------------------------------------------------------------------ the schema's keys
def _model_of(annotation) -> type | None:
    """The pydantic model a field holds (through Optional, Annotated, a Union with literals), if one."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, dict):
        return None
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _model_of(args[0])
    models = [m for m in map(_model_of, args) if m is not None]
    return models[0] if len(models) == 1 and len(args) == 1 else None


def leaves(model, prefix: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every key of a pydantic model, nested models walked (their own key too), with its annotation."""
    for name, f in model.model_fields.items():
        if f.exclude or (name == "stage" and prefix == ("stage_options",)):
            continue
        key = prefix + (f.alias or name,)
        yield key, f.annotation
        sub = _model_of(f.annotation)
        if sub is not None:
            yield from leaves(sub, key)


def _bad_values(key: tuple, annotation, n: int = 4) -> list:
    """``n`` bad values for a key, rotating through :data:`BAD` (text kept off free-text keys)."""
    text = str(annotation)
    skip = {"str"} if key[-1] in FREE_TEXT else set()
    short = annotation is str  # plain text: a short text may be right, a huge one never
    if "bool" in text:
        skip.add("bool")
    if "list" in text or "Codes" in text:
        skip.add("list")
    if "dict" in text or _model_of(annotation) is not None:
        skip.add("dict")
    valid = VALID.get(key, set())
    pool = [v for v in BAD if type(v).__name__ not in skip and str(v) not in valid and not (short and v == "x")]
    start = sum(map(len, key)) % len(pool)
    return [pool[(start + k) % len(pool)] for k in range(min(n, len(pool)))]


def _nested(key: tuple, value) -> dict:
    out: Any = value
    for k in reversed(key):
        out = {k: out}
    return out


#: a valid shock of each kind (the key under test replaces its action when it is one)
SHOCKS = {
    "tariff": {"set": 0.0},
    "trade_cost": {"scale": 0.9},
    "endowment": {"factor": "all", "scale": 1.1},
    "output_tax": {"set": 0.1},
    "export_tax": {"set": 0.1},
}
#: a valid set of options of each stage (the key under test added or replaced)
STAGE_OPTIONS = {
    "pta": {"margin": 0.5},
    "fta": {},
    "customs_union": {},
    "common_market": {},
    "economic_union": {},
    "full_integration": {"border_cost": 0.3},
}


def _scenario_key_cases() -> Iterator[Case]:
    """Every key of the scenario schema (scenario, union, shocks, stage options, model, solver), each
    with four bad values; the message must name the key's path."""
    from cge.scenario import stages
    from cge.scenario.options import ModelSection
    from cge.scenario.scenario import Scenario, Shock
    from cge.scenario.solver_options import SolverOptions

    def case(key, ann, body, place=None):
        for v in _bad_values(key, ann):
            yield scenario("scenario-keys", f"{'.'.join(key)}={str(v)[:10]!r}", body(v), place or ".".join(key))

    for key, ann in leaves(Scenario):
        if key[0] != "model":
            yield from case(key, ann, lambda v, k=key: _merged(FTA, k, v))
    for key, ann in leaves(Shock):
        if len(key) == 1:
            body = lambda v, k=key[0]: {**FTA, "shocks": [{k: v}]}
            yield from case(("shocks",) + key, ann, body, f"shocks[0].{key[0]}")
            continue
        kind, name = key
        action = name in ("set", "scale", "file")
        rest = {k: x for k, x in SHOCKS[kind].items() if not (action and k in ("set", "scale"))}
        body = lambda v, k=kind, n=name, r=rest: {**FTA, "shocks": [{k: {**r, n: v}}]}
        yield from case(("shocks", kind, name), ann, body, f"shocks[0].{kind}.{name}")
    seen: set = set()
    for model in (stages.PTA, stages.CustomsUnion, stages.EconomicUnion, stages.FullIntegration):
        stage, opts = model.model_fields["stage"].default, STAGE_OPTIONS[model.model_fields["stage"].default]
        for key, ann in leaves(model, ("stage_options",)):
            if key not in seen:  # an option a later stage inherits is tried once
                seen.add(key)
                yield from case(key, ann, lambda v, s=stage, o=opts, k=key: _staged(s, o, k, v))
    for model, top in ((ModelSection, "model"), (SolverOptions, "solver")):
        for key, ann in leaves(model, (top,)):
            yield from case(key, ann, lambda v, k=key: _merged(FTA, k, v))


def _staged(stage: str, options: dict, key: tuple, value) -> dict:
    return {**FTA, "stage": stage, "stage_options": {**options, **_nested(key[1:], value)}}


# ------------------------------------------------------------------------------ hand-written cases
def _hint_cases() -> Iterator[Case]:
    """Misspelt names: the message names the place and suggests the right one."""
    for id, body, place in [
        ("stage=FTA", {**FTA, "stage": "FTA"}, "did you mean 'fta'"),
        ("member=chn", {**FTA, "union": {"members": ["chn", "USA"]}}, "did you mean 'CHN'"),
        ("sector=agr", {**FTA, "shocks": [{"tariff": {"sector": "agr", "set": 0}}]}, "did you mean 'AGR'"),
        ("numeraire=usa", {**FTA, "model": {"closure": {"numeraire": {"utility_price": "usa"}}}}, "did you mean 'USA'"),
        ("key=shock", {**FTA, "shock": []}, "did you mean 'shocks'"),
        ("data=defualt", {**FTA, "data": "defualt"}, "did you mean 'default'"),
        ("name=path", {**FTA, "name": "../x"}, "name"),
        ("tariff 1e6", {**FTA, "shocks": [{"tariff": {"set": 1e6}}]}, "shocks[0].tariff.set"),
        (
            "scaled past max",
            {**FTA, "shocks": [{"trade_cost": {"scale": 90}}, {"trade_cost": {"scale": 90}}]},
            "shocks[1]",
        ),
        ("tariff set=true", {**FTA, "shocks": [{"tariff": {"set": True}}]}, "shocks[0].tariff.set"),
        ("shocks=map", {**FTA, "shocks": {"tariff": {"set": 0}}}, "shocks"),
    ]:
        yield scenario("hints", id, body, place)


def _yaml_cases() -> Iterator[Case]:
    """Broken scenario files."""
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n"
    for id, body, place in [
        ("binary", bytes(range(256)) * 8, "s.yaml"),
        ("utf16-bom", "name: x\n".encode("utf-16"), "UTF-16"),
        ("utf16-be", b"\xfe\xff" + "name: x\n".encode("utf-16-be"), "UTF-16"),
        ("latin1", b"name: fz\ndescription: caf\xe9\n", "line 2"),
        ("nul", b"name: fz\n\x00\n", "s.yaml"),
        ("deep-lists", b"name: x\nd: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nest"),
        ("deep-maps", b"name: x\n" + b"".join(b"  " * k + b"k:\n" for k in range(60)), "nest"),
        ("deep-flow-maps", b"name: x\nd: " + b"{a: " * 3000 + b"1" + b"}" * 3000 + b"\n", "nest"),
        ("alias-bomb", bomb, "aliases"),
        ("alias", b"name: &n fz\ndescription: *n\n", "aliases"),
        ("merge-key", b"base: &b {name: fz}\n<<: *b\n", "s.yaml"),
        ("tag-python", b"name: !!python/name:os.system x\n", "tags"),
        ("tag-local", b"name: !mytag fz\n", "tags"),
        ("tag-binary", b"name: !!binary aGVsbG8=\n", "tags"),
        ("duplicate", b"name: a\nname: b\n", "given twice"),
        ("duplicate-nested", b"name: fz\nunion: {members: [USA], members: [CAN]}\n", "given twice"),
        ("huge-2MB", b"name: x\ndescription: " + b"y" * (2 << 20) + b"\n", "larger than"),
        ("huge-7MB", b"name: x\nshocks:\n" + b"- {tariff: {set: 0}}\n" * 350_000, "larger than"),
        ("empty", b"", "mapping"),
        ("null-doc", b"~\n", "mapping"),
        ("two-docs", b"name: fz\n---\nname: other\n", "s.yaml"),
        ("top-list", b"- name: x\n", "mapping"),
        ("top-text", b"just some words\n", "mapping"),
        ("unclosed", b"name: [x\n", "line"),
        ("tab-indent", b"name: fz\nunion:\n\tmembers: [USA]\n", "line"),
        ("key-not-text", b"name: fz\n1: 2\n", "s.yaml"),
        ("long-line", b"name: fz\ndescription: " + b"z" * 900_000 + b"\nstage: nope\n", "stage"),
        ("control-chars", b"name: fz\x1b[2J\n", "s.yaml"),
    ]:
        yield scenario("yaml", id, body, place)


CSV = "sector,source,dest,rate\n"


def _csv_cases() -> Iterator[Case]:
    """Tariff files named by a tariff shock."""
    for id, text, place in [
        ("short-row", CSV + "AGR,USA\n", "line 2: 2 field(s)"),
        ("long-row", CSV + "AGR,USA,CAN,0.1,9\n", "line 2"),
        ("latin1", (CSV + "AGR,USA,CAN,0.1 \xe9\n").encode("latin-1"), "line 2"),
        ("utf16", (CSV + "AGR,USA,CAN,0.1\n").encode("utf-16"), "UTF-16"),
        ("huge-field", CSV + "AGR,USA,CAN," + "9" * 200_000 + "\n", "line 2"),
        ("huge-file", CSV + "AGR,USA,CAN,0.1\n" * 2_300_000, "larger than"),
        ("binary", b"\x00\x01\x02" * 100, "NUL"),
        ("empty", b"", "t.csv"),
        ("header-only", CSV, "t.csv"),
        ("duplicate", CSV + "AGR,USA,CAN,0.1\nAGR,USA,CAN,0.2\n", "line 3: the route AGR,USA,CAN is given twice"),
        ("header", "sec,src,dst,r\nAGR,USA,CAN,0\n", "line 1"),
        ("unclosed-quote", CSV + 'AGR,USA,"CAN,0.1\n', "line 2"),
        ("rate-text", CSV + "AGR,USA,CAN,x\n", "line 2, column rate"),
        ("rate-bool", CSV + "AGR,USA,CAN,true\n", "line 2, column rate"),
        ("rate-inf", CSV + "AGR,USA,CAN,inf\n", "line 2, column rate"),
        ("rate-nan", CSV + "AGR,USA,CAN,nan\n", "line 2, column rate"),
        ("rate-1e308", CSV + "AGR,USA,CAN,1e308\n", "line 2, column rate"),
        ("rate-negative", CSV + "AGR,USA,CAN,-2\n", "line 2, column rate"),
        ("code", CSV + "AGR,USA,CNA,0\n", "line 2, column dest"),
        ("diagonal", CSV + "AGR,USA,USA,0.1\n", "line 2"),
    ]:
        body = {**FTA, "shocks": [{"tariff": {"file": "t.csv"}}]}
        raw = text if isinstance(text, bytes) else text.encode()
        yield scenario("csv", id, body, place, {"t.csv": raw})


def _confinement_cases() -> Iterator[Case]:
    """Files named in a scenario or a comparison file that lie outside its folder: refused, unread."""
    secret = {"../outside.csv": b"secret-first-line\n", "../outside.nc": b"secret"}
    for id, shock_file in [
        ("csv-up", "../outside.csv"),
        ("csv-abs", "/etc/passwd"),
        ("csv-sub", "in/../../outside.csv"),
    ]:
        body = {**FTA, "shocks": [{"tariff": {"file": shock_file}}]}
        yield scenario("confinement", id, body, "outside the scenario's folder", secret)
    for id, data in [("data-up", "../outside.nc"), ("data-abs", "/etc/passwd.nc"), ("data-abs-dir", "/etc/passwd")]:
        yield scenario("confinement", id, {**FTA, "data": data}, "data: ", secret)
    border = {"file": "../outside.csv"}
    body = {**FTA, "stage": "full_integration", "stage_options": {"border_cost": border}}
    yield scenario("confinement", "border-estimates-up", body, "border_cost.file", secret)
    files = {"c.yaml": _yaml({"name": "c", "compare": ["../s.yaml"]}), "../s.yaml": _yaml(FTA)}
    yield Case("confinement", "compare-up", ["compare", "{dir}/c.yaml", "-q"], "outside the comparison file", files)
    files = {"c.yaml": _yaml({"name": "c", "compare": ["/etc/hosts"]})}
    yield Case("confinement", "compare-abs", ["compare", "{dir}/c.yaml", "-q"], "outside the comparison file", files)


# ------------------------------------------------------------------------------ datasets
def _default():
    from cge.dataset.schema import load_dataset

    ds = load_dataset("default")
    ds.attrs = {k: v for k, v in ds.attrs.items() if k not in ("file", "sha256")}
    return ds


def _bad_datasets() -> dict[str, tuple[Callable, str]]:
    """Benchmark files that must be refused: id -> (the dataset from the default one, the place)."""
    big = ("trade", "intermediate", "final_demand", "factor_income")

    def cell(var, value):
        def f(ds):
            a = ds[var].values.astype(float).copy()
            a.flat[1] = value
            return ds.assign(**{var: (ds[var].dims, a)})

        return f

    out: dict[str, tuple[Callable, str]] = {
        "trade-as-text": (lambda ds: ds.assign(trade=ds["trade"].astype(str)), "trade"),
        "esubd-as-text": (lambda ds: ds.assign(esubd=ds["esubd"].astype(str)), "esubd"),
        "scaled-1e300": (lambda ds: ds.assign(**{v: ds[v] * 1e300 for v in big}), "trade"),
        "scaled-1e-300": (lambda ds: ds.assign(**{v: ds[v] * 1e-300 for v in big}), "trade"),
        "mobility-bogus": (lambda ds: ds.assign(mobility=ds["mobility"].copy(data=["fluid", "mobile"])), "mobility"),
        "regions-duplicate": (lambda ds: ds.assign_coords(region=["CHN"] * ds.sizes["region"]), "region"),
        "transposed": (lambda ds: ds.assign(trade=ds["trade"].transpose("dest", "source", "sector")), "trade"),
        "population-negative": (lambda ds: ds.assign(population=ds["region"].copy(data=[-1.0] * 10)), "population"),
    }
    for var in ("trade", "tariff", "intermediate", "final_demand", "factor_income", "esubd", "esubm", "esubva"):
        out[f"{var}-nan"] = (cell(var, float("nan")), var)
        out[f"{var}-inf"] = (cell(var, float("inf")), var)
        out[f"{var}-missing"] = (lambda ds, v=var: ds.drop_vars(v), var)
    for var in ("trade", "tariff", "esubd"):
        out[f"{var}-negative"] = (cell(var, -1e6), var)
    return out


def _dataset_cases() -> Iterator[Case]:
    """Each bad dataset through `cge validate` and through `cge run` of a scenario naming it."""
    for id, (change, place) in _bad_datasets().items():
        make = lambda d, c=change: c(_default()).to_netcdf(d / "bad.nc")
        yield Case("datasets", f"validate {id}", ["validate", "{dir}/bad.nc"], place, make=make)
        if id.endswith(("nan", "text", "1e300", "missing")):
            files = {"s.yaml": _yaml({**FTA, "data": "bad.nc"})}
            yield Case("datasets", f"run {id}", ["run", "{dir}/s.yaml", "-q"], place, files, make)
    for id, raw in [("junk", b"\x89HDF not really"), ("empty", b""), ("text", b"trade,1\n"), ("yaml", _yaml(FTA))]:
        yield Case("datasets", f"validate {id}", ["validate", "{dir}/bad.nc"], "bad.nc", {"bad.nc": raw})
        files = {"bad.nc": raw, "s.yaml": _yaml({**FTA, "data": "bad.nc"})}
        yield Case("datasets", f"run {id}", ["run", "{dir}/s.yaml", "-q"], "bad.nc", files)


# ------------------------------------------------------------------------------ recipes
RECIPE = {
    "name": "pt",
    "source": {"kind": "pymrio_test"},
    "regions": {"groups": {"EAST": ["reg1", "reg2", "reg3"], "WEST": ["reg4", "reg5", "reg6"]}},
    "factors": {"labour_share": 0.55, "mobility": {"labour": "mobile", "capital": "specific"}},
    "elasticities": {"esubd": 3.0, "esubva": 1.0},
    "balance": {"method": "ras"},
}


def _recipe_cases() -> Iterator[Case]:
    """Every key of the recipe schema with two bad values, and broken recipe files."""
    from cge.dataset.recipe import Recipe

    args = ["build-dataset", "{dir}/r.yaml", "--out", "{dir}/o.nc", "-q"]
    for key, ann in leaves(Recipe):
        if key[0] == "source" and len(key) > 1:
            continue
        for v in _bad_values(key, ann, 2):
            body = _merged(RECIPE, key, v)
            place = key[0] if key[0] not in RECIPE else ".".join(key)  # a section left out names its own keys
            yield Case("recipes", f"{'.'.join(key)}={str(v)[:10]!r}", args, place, {"r.yaml": _yaml(body)})
    for id, raw, place in [
        ("binary", bytes(range(256)) * 4, "r.yaml"),
        ("duplicate", b"name: a\nname: b\n", "given twice"),
        ("alias", b"name: &n pt\ntitle: *n\n", "aliases"),
        ("unknown-key", _yaml({**RECIPE, "elasticites": {}}), "did you mean 'elasticities'"),
        ("source-kind", _yaml({**RECIPE, "source": {"kind": "bogus"}}), "source"),
        ("top-list", b"- a\n", "mapping"),
    ]:
        yield Case("recipes", id, args, place, {"r.yaml": raw})


def _merged(base: dict, key: tuple, value) -> dict:
    out = dict(base)
    if len(key) == 1:
        out[key[0]] = value
    else:
        inner = out.get(key[0])
        out[key[0]] = _merged(inner if isinstance(inner, dict) else {}, key[1:], value)
    return out


# ------------------------------------------------------------------------------ commands, report
def _command_cases() -> Iterator[Case]:
    s = {"s.yaml": _yaml(FTA)}
    mine = {**s, "mine/notes.txt": b"mine"}
    for id, args, place, files in [
        ("run --solver bogus", ["run", "{dir}/s.yaml", "--solver", "bogus"], "--solver", s),
        ("run --steps -1", ["run", "{dir}/s.yaml", "--steps", "-1"], "--steps", s),
        ("run --steps 1e9", ["run", "{dir}/s.yaml", "--steps", "1000000000"], "--steps", s),
        ("run --steps x", ["run", "{dir}/s.yaml", "--steps", "x"], "--steps", s),
        ("run --out full", ["run", "{dir}/s.yaml", "--out", "{dir}/mine"], "'notes.txt'", mine),
        ("run --out file", ["run", "{dir}/s.yaml", "--out", "{dir}/s.yaml"], "is a file", s),
        ("run --data bogus", ["run", "{dir}/s.yaml", "--data", "bogus"], "bogus", s),
        ("run --data missing.nc", ["run", "{dir}/s.yaml", "--data", "{dir}/missing.nc"], "missing.nc", s),
        ("run missing", ["run", "{dir}/missing.yaml"], "missing.yaml", {}),
        ("run folder", ["run", "{dir}"], "SCENARIO", s),
        ("run unknown option", ["run", "{dir}/s.yaml", "--bogus"], "--bogus", s),
        ("compare nothing", ["compare"], "SCENARIOS", s),
        ("compare twice", ["compare", "{dir}/s.yaml", "{dir}/s.yaml", "-q"], "must differ", s),
        ("check --data bogus", ["check", "{dir}/s.yaml", "--data", "bogus"], "bogus", s),
        ("validate bogus", ["validate", "bogus"], "bogus", {}),
        ("validate scenario", ["validate", "{dir}/s.yaml"], "a scenario file", s),
        ("sensitivity --workers 0", ["sensitivity", "{dir}/s.yaml", "--workers", "0"], "--workers", s),
        ("sensitivity --n 0", ["sensitivity", "{dir}/s.yaml", "--method", "montecarlo", "--n", "0"], "--n", s),
        ("sensitivity --n -3", ["sensitivity", "{dir}/s.yaml", "--method", "montecarlo", "--n", "-3"], "--n", s),
        ("sensitivity --spread nan", ["sensitivity", "{dir}/s.yaml", "--spread", "nan"], "--spread", s),
        ("sensitivity --spread -1", ["sensitivity", "{dir}/s.yaml", "--spread", "-1"], "--spread", s),
        ("sensitivity --parameters x", ["sensitivity", "{dir}/s.yaml", "--parameters", "esubx"], "esubx", s),
        ("sensitivity --scheduler", ["sensitivity", "{dir}/s.yaml", "--scheduler", "nowhere"], "scheduler", s),
        ("sensitivity --steps 0", ["sensitivity", "{dir}/s.yaml", "--steps", "0"], "--steps", s),
        ("build-dataset missing", ["build-dataset", "{dir}/r.yaml", "--out", "{dir}/o.nc"], "r.yaml", {}),
        ("estimate-border bogus", ["estimate-border", "bogus"], "bogus", {}),
        ("estimate-border --sectors", ["estimate-border", "china-provinces", "--sectors", "XYZ"], "XYZ", {}),
    ]:
        yield Case("commands", id, args, place, files)


def _report_cases() -> Iterator[Case]:
    """`cge report` on folders that hold no results file."""
    from cge.dataset.catalogue import builtin_path

    dataset = builtin_path("default").read_bytes()
    for id, files, place in [
        ("nowhere", {}, "nowhere"),
        ("empty folder", {"r/.keep": b""}, "r"),
        ("dataset as results", {"r/results.nc": dataset}, "not a cge results file"),
        ("junk results", {"r/results.nc": b"\x89HDF junk"}, "results.nc"),
        ("text results", {"r/results.nc": b"ev,1\n"}, "results.nc"),
        ("empty results", {"r/results.nc": b""}, "results.nc"),
        ("junk sensitivity", {"r/sensitivity.nc": b"junk"}, "sensitivity.nc"),
        ("--digits 99", {"r/results.nc": dataset}, "--digits"),
    ]:
        folder = "{dir}/nowhere" if id == "nowhere" else "{dir}/r"
        args = ["report", folder] + (["--digits", "99"] if id.startswith("--") else [])
        yield Case("report", id, args, place, files)


CATEGORIES: dict[str, Callable[[], Iterator[Case]]] = {
    "scenario-keys": _scenario_key_cases,
    "hints": _hint_cases,
    "yaml": _yaml_cases,
    "csv": _csv_cases,
    "confinement": _confinement_cases,
    "datasets": _dataset_cases,
    "recipes": _recipe_cases,
    "commands": _command_cases,
    "report": _report_cases,
}


def cases(category: str | None = None) -> list[Case]:
    """Every case (of one category)."""
    return [c for name, make in CATEGORIES.items() if category in (None, name) for c in make()]


def sample(per_category: int) -> list[Case]:
    """A representative sample: ``per_category`` cases of each category, spread over it (for CI)."""
    out = []
    for name in CATEGORIES:
        every = cases(name)
        step = max(1, len(every) // per_category)
        out += every[::step][:per_category]
    return out


# ------------------------------------------------------------------------------ running
@dataclass
class Outcome:
    case: Case
    verdict: str
    exit_code: int | None
    output: str
    seconds: float


def _tree(root: Path) -> set:
    return {(p, p.stat().st_size if p.is_file() else -1) for p in root.rglob("*")}


def run_case(case: Case, root: Path) -> Outcome:
    """Run one case in ``root/case`` (its files written there, ``..`` being ``root``) in a forked copy
    of this process (each case starts from the same state, as a new process would, without paying
    for the imports again), and classify it."""
    folder = root / "case"
    folder.mkdir(parents=True)
    for name, raw in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(raw)
    if case.make is not None:
        case.make(folder)
    before = _tree(root)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the command, send (exit code, output, escaped exception), leave
        os.close(read)
        with os.fdopen(write, "w") as out:
            json.dump(_invoke(case, folder), out)
        os._exit(0)
    os.close(write)
    answer, seconds = _collect(read, pid)
    if answer is None:
        return Outcome(case, "hang", None, "", seconds)
    code, text, escaped = answer
    return Outcome(case, classify(case, code, text, escaped, _tree(root) == before), code, text, seconds)


def _invoke(case: Case, folder: Path) -> tuple[int, str, bool]:
    from click.testing import CliRunner

    from cge.cli import cli

    os.chdir(folder)
    try:
        result = CliRunner().invoke(cli, [a.replace("{dir}", str(folder)) for a in case.args])
    except BaseException as exc:
        return 1, f"escaped: {exc!r}", True
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    return result.exit_code, result.output, escaped


def _collect(fd: int, pid: int):
    """The child's answer, or None (killed) after LIMIT seconds; and its CPU seconds."""
    chunks, deadline = [], time.time() + LIMIT
    with os.fdopen(fd, "rb") as pipe:
        while True:
            ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.time()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                return None, _cpu(pid)
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    cpu = _cpu(pid)
    return (json.loads(b"".join(chunks)) if chunks else (1, "the child died without an answer", True)), cpu


def _cpu(pid: int) -> float:
    usage = os.wait4(pid, 0)[2]
    return usage.ru_utime + usage.ru_stime


def classify(case: Case, code: int, text: str, escaped: bool, unchanged: bool) -> str:
    """The verdict on one case (the module's docstring lists them)."""
    if escaped or "Traceback" in text or "internal error" in text:
        return "traceback"
    if code == 0:
        return "accepted"
    if code != 2:
        return "solve-failure"
    if case.place not in text or len(text) > 2000:
        return "unnamed"
    return "ok" if unchanged else "left-output"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--category", choices=list(CATEGORIES))
    parser.add_argument("--list", action="store_true", help="list the cases, run none")
    parser.add_argument("--show", type=int, default=3, help="lines of each failure's message to show")
    args = parser.parse_args(argv)
    todo = cases(args.category)
    if args.list:
        for c in todo:
            print(f"{c.category:14} {c.id}")
        return 0
    import warnings

    from cge import cli  # noqa: F401 (imported once, before the cases are forked)

    warnings.simplefilter("ignore")
    outcomes = []
    for c in todo:
        with tempfile.TemporaryDirectory(prefix="cge-campaign-") as tmp:
            outcomes.append(run_case(c, Path(tmp)))
    return _summary(outcomes, args.show)


def _summary(outcomes: list[Outcome], show: int) -> int:
    bad = [o for o in outcomes if o.verdict != "ok"]
    for o in bad:
        lines = o.output.strip().splitlines()[:show]
        print(f"{o.verdict:13} {o.case.category}: {o.case.id} (exit {o.exit_code}; expected {o.case.place!r})")
        for line in lines:
            print(f"    {line[:200]}")
    table = Counter((o.case.category, o.verdict) for o in outcomes)
    verdicts = ["ok", "traceback", "accepted", "solve-failure", "unnamed", "left-output", "hang"]
    print(f"\n{'category':14}{'cases':>6}" + "".join(f"{v:>14}" for v in verdicts))
    for name in CATEGORIES:
        n = sum(1 for o in outcomes if o.case.category == name)
        if n:
            print(f"{name:14}{n:>6}" + "".join(f"{table[name, v]:>14}" for v in verdicts))
    total = Counter(o.verdict for o in outcomes)
    print(f"{'all':14}{len(outcomes):>6}" + "".join(f"{total[v]:>14}" for v in verdicts))
    print(
        f"CPU {sum(o.seconds for o in outcomes):.0f} s; slowest: "
        + ", ".join(f"{o.case.id} {o.seconds:.1f} s" for o in sorted(outcomes, key=lambda o: -o.seconds)[:3])
    )
    return 1 if bad else 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
