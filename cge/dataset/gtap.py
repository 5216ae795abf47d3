"""A GTAP database in header-array (HAR) format, read with ``harpy3`` into a MODEL.md benchmark.

The headers read (GTAP's names; values at market prices, million USD in GTAP's own databases):

==========  =============================  ==================================================
header      dimensions                     use
==========  =============================  ==================================================
``VDFM``    COMM x PROD_COMM x REG         domestic purchases by firms (a ``CGDS`` column:
                                           investment, which goes to final demand)
``VIFM``    COMM x PROD_COMM x REG         imported purchases by firms
``VDPM``,   COMM x REG                     domestic / imported purchases by households
``VIPM``
``VDGM``,   COMM x REG                     domestic / imported purchases by government
``VIGM``
``VIWS``    COMM x REG x REG               imports at world (cif) prices, by source
``VIMS``    COMM x REG x REG               imports at market prices (with the tariff)
``VFM``     ENDW_COMM x PROD_COMM x REG    endowments used by firms (the factor split)
``POP``     REG                            population, optional (million persons)
``ESBD``,   COMM                           Armington elasticities ESUBD, ESUBM (here or in a
``ESBM``                                   separate parameter file such as ``default.prm``)
``ESBV``    PROD_COMM                      value-added elasticity ESUBVA
==========  =============================  ==================================================

The mapping, exact for a balanced GTAP database without taxes other than tariffs:

* ``trade[i,s,r] = VIWS`` for s != r, ``tariff = VIMS / VIWS - 1`` (0 where there is no flow);
  ``trade[i,r,r]`` = domestic purchases by firms, households, government and investment;
* ``intermediate[i,j,r] = VDFM + VIFM`` (the composite at market prices, tariffs included);
  ``final_demand[i,r]`` = households + government + investment, domestic and imported;
* value added is output less intermediate inputs, output being the sales ``sum_s trade[j,r,s]``
  (so it absorbs margins and the taxes the core model has no instrument for), split over factors
  in proportion to ``VFM``. A sector whose value added comes out negative is refused, by name.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from cge.dataset.recipe import RecipeError

REQUIRED = ("VDFM", "VIFM", "VDPM", "VIPM", "VDGM", "VIGM", "VIWS", "VIMS", "VFM")
#: the parameter headers of the elasticities (GTAP's coefficients ESUBD, ESUBM, ESUBVA)
ELASTICITIES = ("ESBD", "ESBM", "ESBV")
#: the investment column of PROD_COMM, final demand here
INVESTMENT = "CGDS"


def _headers(path: Path, where: str) -> dict[str, Any]:
    """Every header of a HAR file: name -> harpy HeaderArrayObj."""
    try:
        from harpy import HarFileObj
    except ImportError:  # pragma: no cover
        raise RecipeError(f"{where}: reading GTAP HAR files needs harpy3: pip install harpy3") from None
    if not path.is_file():
        raise RecipeError(f"{where}: GTAP file not found: {path}")
    try:
        with warnings.catch_warnings():  # harpy3 (2018) uses numpy's deprecated chararray
            warnings.simplefilter("ignore", DeprecationWarning)
            har = HarFileObj.loadFromDisk(str(path))
    except Exception as exc:
        raise RecipeError(f"{where}: {path} is not a readable HAR file ({type(exc).__name__}: {exc})") from None
    return {name.strip().upper(): har.getHeaderArrayObj(name) for name in har.getHeaderArrayNames()}


def _labels(header, k: int) -> list[str]:
    return [str(x).strip() for x in header["sets"][k]["dim_desc"]]


def _array(headers: dict, name: str, path: Path, sets: list[list[str]]) -> np.ndarray:
    """A real header as float64, its set elements checked against ``sets`` (the expected order)."""
    h = headers[name]
    a = np.asarray(h["array"], dtype=float)
    got = [_labels(h, k) for k in range(a.ndim)] if h.get("sets") else None
    if a.shape != tuple(len(s) for s in sets) or (got is not None and got != sets):
        raise RecipeError(f"{path}: header {name}: dimensions {got or a.shape} do not match {sets}")
    if not np.isfinite(a).all():
        raise RecipeError(f"{path}: header {name}: cells that are not numbers")
    return a


def read_gtap_har(
    path: Path, parameters: Path | None, mobility: dict[str, str], where: str
) -> tuple[dict[str, Any], list[Path]]:
    """The benchmark's arrays (the keywords of :func:`cge.dataset.schema.from_arrays`) from a GTAP
    database, and the files read."""
    headers = _headers(path, where)
    files = [path]
    if parameters is not None:
        headers = {**_headers(parameters, where), **headers}
        files.append(parameters)
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        raise RecipeError(
            f"{where}: {path}: GTAP header(s) {', '.join(missing)} missing (needed: {', '.join(REQUIRED)})"
        )
    comm, prod, reg = (_labels(headers["VDFM"], k) for k in range(3))
    endw = _labels(headers["VFM"], 0)
    nr = len(reg)
    firms = [j for j, p in enumerate(prod) if p != INVESTMENT]
    if [prod[j] for j in firms] != comm:
        raise RecipeError(f"{where}: {path}: PROD_COMM (less {INVESTMENT}) must list the commodities COMM in order")
    vdfm, vifm = (_array(headers, h, path, [comm, prod, reg]) for h in ("VDFM", "VIFM"))
    final = {h: _array(headers, h, path, [comm, reg]) for h in ("VDPM", "VIPM", "VDGM", "VIGM")}
    viws, vims = (_array(headers, h, path, [comm, reg, reg]) for h in ("VIWS", "VIMS"))
    vfm = _array(headers, "VFM", path, [endw, prod, reg])[:, firms]
    investment = [j for j, p in enumerate(prod) if p == INVESTMENT]
    inv = (vdfm[:, investment] + vifm[:, investment]).sum(axis=1)
    off = ~np.eye(nr, dtype=bool)[None]
    trade = np.where(off, viws, 0.0)
    domestic = vdfm.sum(axis=1) + final["VDPM"] + final["VDGM"]
    trade[:, np.arange(nr), np.arange(nr)] = domestic
    tariff = np.where(off & (viws > 0), vims / np.where(viws > 0, viws, 1.0) - 1.0, 0.0)
    intermediate = (vdfm + vifm)[:, firms]
    final_demand = final["VDPM"] + final["VIPM"] + final["VDGM"] + final["VIGM"] + inv
    value_added = trade.sum(axis=2) - intermediate.sum(axis=0)  # (j, r)
    bad = np.argwhere(value_added < 0)
    if len(bad):
        cells = ", ".join(f"{comm[j]} in {reg[r]} ({value_added[j, r]:.6g})" for j, r in bad[:5])
        raise RecipeError(f"{where}: {path}: sales below intermediate costs (negative value added): {cells}")
    weights = vfm.sum(axis=0)
    share = np.where(weights > 0, vfm / np.where(weights > 0, weights, 1.0), 1.0 / len(endw))
    unknown = sorted(set(mobility) - set(endw))
    if unknown:
        raise RecipeError(f"{where}: source.mobility: unknown endowment(s) {unknown} (ENDW_COMM: {endw})")
    esub = {}
    for name, labels in zip(ELASTICITIES, (comm, comm, prod)):
        if name not in headers:
            raise RecipeError(f"{where}: header {name} missing: give the parameter file (source.parameters)")
        esub[name] = _array(headers, name, parameters or path, [labels])
    population = _array(headers, "POP", path, [reg]) if "POP" in headers else None
    return {
        "regions": reg,
        "sectors": comm,
        "factors": endw,
        "trade": trade,
        "tariff": tariff,
        "intermediate": intermediate,
        "final_demand": final_demand,
        "factor_income": share * value_added[None],
        "esubd": esub["ESBD"],
        "esubm": esub["ESBM"],
        "esubva": esub["ESBV"][firms],
        "mobility": [mobility.get(f, "mobile") for f in endw],
        "population": population,
    }, files
