"""The currency of results: every money figure is in the benchmark's unit, which the dataset states
(its ``units`` attribute, e.g. "million USD (current, 2011)"; china-provinces: billion USD of 2007).

The one place that knows which result variables are money (:data:`CURRENCY`), how to name their unit
in a table header ("million USD, 2011") and how to turn a figure per person into currency per person.
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from cge.results.effects import TRADE_EFFECTS_ALL

#: result variables in the benchmark's currency (EV units); the welfare parts are added by name
CURRENCY = (
    "ev",
    "income",
    "income0",
    "trade_quantity",
    "trade",
    "factor_use",
    "endowment",
    "factor_flow",
    "tariff_revenue",
    "tariff_revenue_received",
    "walras_residual",
    "trade_deficit",
    "output_tax_revenue",
    "export_tax_revenue",
    *TRADE_EFFECTS_ALL,
    "welfare",
    "welfare_first_order",
    "welfare_decomposition_residual",
    "welfare_allocative_by_sector",
    "real_gdp",
    "gdp0",
    "output_value",
    # docs/dynamics.md's results
    "capital_stock",
    "capital_net_return",
    "investment",
    "consumption",
    "consumption0",
    "gdp",
    "gnp",
    "net_capital_income",
)
SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
#: the unit of a dataset that does not state one
UNKNOWN = "benchmark currency units"


def is_currency(name: str) -> bool:
    return name in CURRENCY or name.startswith("welfare_")


def dataset_unit(attrs: dict) -> str:
    """The dataset's full unit string, or :data:`UNKNOWN`."""
    return str(attrs.get("units") or UNKNOWN)


def short(unit: str, year=None) -> str:
    """A header's unit: "million USD, 2011" from "million USD (current, 2011)" and the year."""
    head = unit.split("(")[0].strip()
    if year is None:
        found = re.search(r"\b(1[89]\d\d|20\d\d)\b", unit)
        year = found.group(1) if found else None
    return f"{head}, {year}" if year is not None and head != UNKNOWN else head


def scale_and_currency(unit: str) -> tuple[float, str] | None:
    """(1e6, "USD") for "million USD (...)"; None when the unit does not read that way."""
    words = unit.split("(")[0].split()
    if len(words) == 2 and words[0].lower() in SCALES:
        return SCALES[words[0].lower()], words[1]
    if len(words) == 1 and words[0].isupper():
        return 1.0, words[0]
    return None


def per_person(unit: str, population_unit: str) -> tuple[float, str] | None:
    """(factor, currency) turning a figure in ``unit`` divided by a population in ``population_unit``
    into currency per person: million USD / million persons -> (1, "USD")."""
    money = scale_and_currency(unit)
    words = population_unit.split()
    people = SCALES.get(words[0].lower()) if len(words) == 2 and words[1] in ("persons", "people") else None
    if words == ["persons"]:
        people = 1.0
    if money is None or people is None:
        return None
    return money[0] / people, money[1]


def per_person_text(factor: float, currency: str) -> str:
    """The unit of a ratio currency/persons that is ``factor`` currency per person: 1e3 ->
    "thousand USD per person"."""
    words = {1.0: "", **{v: k + " " for k, v in SCALES.items()}}
    return f"{words[factor]}{currency} per person" if factor in words else f"{factor:g} {currency} per person"


def stamp(ds: xr.Dataset, unit: str, population=None) -> xr.Dataset:
    """``ds`` with the unit of every currency variable set to ``unit``; with a ``population``
    (the dataset's variable, with its ``units``) also EV per person, ``ev_per_capita``, in currency
    per person, and the unit of the per-capita incomes."""
    for name in ds.data_vars:
        if is_currency(str(name)):
            ds[name].attrs["units"] = unit
    if population is None:
        return ds
    conversion = per_person(unit, str(population.attrs.get("units", "")))
    if conversion is None:  # a unit that does not read as "<scale> <currency>": per person of its own
        factor, text = 1.0, f"{unit} per {population.attrs.get('units', 'population unit')}"
    else:
        factor, text = conversion[0], f"{conversion[1]} per person"
        for name in ("income_per_capita0", "income_per_capita"):
            if name in ds:
                ds[name].attrs["units"] = per_person_text(*conversion)
    ds["ev_per_capita"] = (
        ("region",),
        factor * ds["ev"].values / np.asarray(population.values, float),
        {"long_name": "EV per person (EV / population)", "units": text},
    )
    return ds
