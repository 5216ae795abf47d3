"""The calibration recipe: a YAML file validated by pydantic (extra keys refused).

Every path in a recipe is relative to the recipe file.  A path left out takes the documented
default, which is relative to the repository root (``../shared/data/...``).  See
``calibration/README.md`` for the format.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from cge.errors import InputError
from cge.schema import Finite, Integer, Strict, format_errors, read_yaml

#: the repository root (the folder holding cge/); default raw-data folders are relative to it
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


class RecipeError(InputError):
    """A recipe that is missing, malformed or names unknown codes (exit status 2)."""


_Strict = Strict


# ------------------------------------------------------------------------------------ sources
class WiodSource(_Strict):
    kind: Literal["wiod2013"]
    dir: Optional[str] = None  # default ../shared/data/wiod2013 (repo root)
    year: Literal[2000, 2005, 2011]


class CsvSource(_Strict):
    kind: Literal["csv"]
    dir: str
    inventory_category: Optional[str] = None  # the final-demand code of inventory changes
    year: Optional[int] = None
    units: Optional[str] = None


class PymrioSource(_Strict):
    kind: Literal["pymrio"]
    path: Optional[str] = None  # pymrio.load_all(path); None only from build_from_iosystem
    value_added_extension: Optional[str] = "factor_inputs"
    inventory_category: Optional[str] = "Changes in inventories"
    year: Optional[int] = None


class PymrioTestSource(_Strict):
    kind: Literal["pymrio_test"]
    value_added_extension: Optional[str] = "factor_inputs"
    inventory_category: Optional[str] = "Changes in inventories"


class ChinaSource(_Strict):
    kind: Literal["china_provinces"]
    dir: Optional[str] = None  # default ../shared/data/china_provinces


class GtapSource(_Strict):
    """A GTAP database in HAR format (cge/dataset/gtap.py), a finished benchmark like china_provinces."""

    kind: Literal["gtap_har"]
    path: str  # the database, e.g. basedata.har
    parameters: Optional[str] = None  # the parameter file (ESUBD, ESUBM, ESUBVA), e.g. default.prm
    year: Optional[int] = None
    units: str = "million USD"
    mobility: dict[str, Literal["mobile", "specific"]] = Field(default_factory=dict)  # default: mobile


#: sources that are finished benchmarks (no maps, tariffs or factor split from the recipe)
FINISHED = ("china_provinces", "gtap_har")

Source = Annotated[
    Union[WiodSource, CsvSource, PymrioSource, PymrioTestSource, ChinaSource, GtapSource], Field(discriminator="kind")
]


# ------------------------------------------------------------------------------------ maps
class MapSpec(_Strict):
    """A many-to-one map from the source's codes to aggregate codes."""

    file: Optional[str] = None  # CSV with a code column and an aggregate column
    code_column: str = "code"
    aggregate_column: str = "aggregate"
    groups: Optional[dict[str, list[str]]] = None  # inline: aggregate -> list of source codes
    order: Optional[list[str]] = None  # order of the aggregate codes (default: first appearance)
    names: Optional[dict[str, str]] = None  # optional long names of aggregate codes

    @model_validator(mode="after")
    def _one_form(self):
        if (self.file is None) == (self.groups is None):
            raise ValueError("give exactly one of 'file' (a CSV map) or 'groups' (inline)")
        return self


# ------------------------------------------------------------------------------------ tariffs
class NoTariffs(_Strict):
    kind: Literal["none"]


class CPTariffs(_Strict):
    kind: Literal["caliendo_parro"]
    dir: Optional[str] = None  # default ../shared/data/cp1993
    year: Integer = Field(2005, ge=1993, le=2005)  # 1993 or 2005; years between: linear interpolation
    sector_map: Optional[str] = None  # default: the package's WIOD concordance
    country_map: Optional[str] = None


class CsvTariffs(_Strict):
    kind: Literal["csv"]
    file: str  # columns sector,source,dest,rate (rate as a fraction)
    level: Literal["source", "aggregate"] = "source"


Tariffs = Annotated[Union[NoTariffs, CPTariffs, CsvTariffs], Field(discriminator="kind")]


# ------------------------------------------------------------------------------------ factors etc.
class TableFile(_Strict):
    file: str
    column: str
    code_column: str = "sector"
    level: Literal["source", "aggregate"] = "aggregate"


class Factors(_Strict):
    labour_share: Union[Finite, dict[str, Finite], TableFile]
    mobility: dict[Literal["labour", "capital"], Literal["mobile", "specific"]] = Field(
        default_factory=lambda: {"labour": "mobile", "capital": "mobile"}  # type: ignore[arg-type]
    )

    @field_validator("labour_share")
    @classmethod
    def _range(cls, v):
        vals = [v] if isinstance(v, (int, float)) else (list(v.values()) if isinstance(v, dict) else [])
        bad = [x for x in vals if not 0.0 <= x <= 1.0]
        if bad:
            raise ValueError(f"labour shares must lie in [0, 1], found {bad}")
        return v

    @model_validator(mode="after")
    def _both(self):
        if set(self.mobility) != {"labour", "capital"}:
            raise ValueError("mobility needs both 'labour' and 'capital'")
        return self


class ElasticityOverride(_Strict):
    esubd: Optional[Finite] = Field(None, ge=0, le=100)
    esubm: Optional[Finite] = Field(None, ge=0, le=100)
    esubva: Optional[Finite] = Field(None, ge=0, le=100)


class Elasticities(_Strict):
    file: Optional[str] = None  # columns sector,esubd,esubva[,esubm]
    level: Literal["source", "aggregate"] = "aggregate"
    esubd: Optional[Finite] = Field(None, ge=0, le=100)  # uniform values (instead of a file)
    esubva: Optional[Finite] = Field(None, ge=0, le=100)
    esubm_factor: Finite = Field(2.0, gt=0)  # esubm = factor x esubd unless given
    overrides: dict[str, ElasticityOverride] = Field(default_factory=dict)
    citation: Optional[str] = None

    @model_validator(mode="after")
    def _some(self):
        if self.file is None and (self.esubd is None or self.esubva is None):
            raise ValueError("give 'file' or both uniform values 'esubd' and 'esubva'")
        return self


class Population(_Strict):
    file: str
    column: str
    code_column: str = "code"
    level: Literal["source", "aggregate"] = "source"
    world_code: Optional[str] = None  # a row that is the world total, not a region
    residual: Optional[str] = None  # the code computed as world minus all other codes
    units: str = "million persons"
    citation: str = ""

    @model_validator(mode="after")
    def _pair(self):
        if (self.world_code is None) != (self.residual is None):
            raise ValueError("'world_code' and 'residual' go together")
        return self


class Negatives(_Strict):
    cross_border_final_demand: Literal["move_to_exporter", "refuse"] = "move_to_exporter"
    domestic_sales: Literal["raise_own_inventories", "refuse"] = "raise_own_inventories"
    final_demand: Literal["net_inventories_against_intermediate_use", "refuse"] = (
        "net_inventories_against_intermediate_use"
    )


class Balance(_Strict):
    method: Literal["refuse", "ras", "least_squares"] = "refuse"
    threshold: Finite = Field(1e-6, gt=0, lt=1)  # relative tolerance of the identities
    report_above: Finite = Field(0.0, ge=0)  # list adjustments larger than this (currency units)
    output: Literal["row_sums", "source"] = "row_sums"
    value_added: Literal["auto", "residual", "source"] = "auto"
    min_value_added_share: Finite = Field(0.0, ge=0, lt=1)
    max_iter: Integer = Field(10000, ge=1)
    negatives: Negatives = Field(default_factory=Negatives)


class Recipe(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    title: str = ""
    year: Optional[int] = None
    units: Optional[str] = None
    citation: str = ""  # the 'source' attribute of the dataset
    licence_note: str = ""
    source: Source
    regions: Union[Literal["identity"], MapSpec] = "identity"
    sectors: Union[Literal["identity"], MapSpec] = "identity"
    tariffs: Tariffs = Field(default_factory=lambda: NoTariffs(kind="none"))
    factors: Optional[Factors] = None
    elasticities: Optional[Elasticities] = None
    population: Optional[Population] = None
    balance: Balance = Field(default_factory=Balance)  # type: ignore[arg-type]
    attrs: dict[str, str] = Field(default_factory=dict)  # extra dataset attributes

    #: where the recipe came from; not part of the file
    path: Optional[str] = Field(None, exclude=True)
    text: Optional[str] = Field(None, exclude=True)

    @property
    def base_dir(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def resolve(self, p: Optional[str], default: Optional[Path] = None) -> Path:
        if p is None:
            if default is None:
                raise RecipeError(f"{self.where}: a path is required")
            return default
        q = Path(p).expanduser()
        return q if q.is_absolute() else (self.base_dir / q)

    @property
    def where(self) -> str:
        return self.path or "<recipe>"

    @property
    def sha256(self) -> str:
        return hashlib.sha256((self.text or "").encode()).hexdigest()


# ------------------------------------------------------------------------------------ loading
def load_recipe(path_or_dict: Union[str, Path, dict], where: Optional[str] = None) -> Recipe:
    """Read and validate a recipe (a YAML path or an already-parsed mapping)."""
    if isinstance(path_or_dict, dict):
        raw, text, where = path_or_dict, yaml.safe_dump(path_or_dict, sort_keys=False), where or "<recipe>"
        path = None if where == "<recipe>" else where
    else:
        p = Path(path_or_dict)
        raw, text = read_yaml(p, "recipe", RecipeError)
        where = path = str(p)
    if not isinstance(raw, dict):
        raise RecipeError(f"{where}: a recipe must be a YAML mapping with 'name' and 'source'")
    if "path" in raw or "text" in raw:
        raise RecipeError(f"{where}: unknown key {'path' if 'path' in raw else 'text'!r}")
    try:
        rec = Recipe.model_validate(raw)
    except ValidationError as exc:
        raise RecipeError(format_errors(exc, where, "recipe", top_keys=_TOP, data=raw)) from None
    rec.path, rec.text = path, text
    return rec


_TOP = list(Recipe.model_fields)


def recipe_fields() -> list[str]:
    return _TOP


def as_dict(rec: Recipe) -> dict[str, Any]:
    return rec.model_dump(exclude_none=True)
