"""Validation shared by every input file (scenarios, model sections, recipes): the strict pydantic
base, the YAML reader that refuses duplicate keys, and the one formatter of validation errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from cge.errors import nearest


class Strict(BaseModel):
    """A schema that refuses unknown keys."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str):
    """Parse YAML text (safe types only); a key given twice in one mapping is a ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_UniqueKeyLoader)


def _location(loc: tuple) -> list:
    """The user's keys in a pydantic error location (pydantic's own tags, such as a union
    branch's class name, left out)."""
    return [x for x in loc if not (isinstance(x, str) and (x[0].isupper() or x.startswith(("literal[", "function-"))))]


def format_errors(
    exc: ValidationError,
    where: str,
    what: str,
    top_keys: Sequence[str] = (),
    choices: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """One line per error: ``key.path: message (got value)``, headed by ``where: invalid what``.

    ``top_keys``: the valid top-level keys (an unknown one gets a "did you mean" hint);
    ``choices``: valid values by top-level key, for a literal error (e.g. the stages).
    """
    lines = []
    for err in exc.errors():
        loc = _location(err["loc"])
        key = (
            ".".join(f"[{x}]" if isinstance(x, int) else str(x) for x in loc).replace(".[", "[").replace("set_", "set")
        )
        msg, value = err["msg"], err.get("input")
        if err["type"] == "extra_forbidden":
            msg = "unknown key" + (nearest(str(loc[-1]), top_keys) if len(loc) == 1 and top_keys else "")
        elif err["type"] == "literal_error" and choices and loc and loc[0] in choices:
            valid = choices[str(loc[0])]
            msg = f"unknown {str(loc[0]).rstrip('s')} {value!r}{nearest(str(value), valid)}; one of {', '.join(valid)}"
        elif err["type"] == "union_tag_invalid":
            kind = value.get("kind") if isinstance(value, dict) else ""
            msg = f"unknown kind {kind!r}; one of " + msg.split("does not match any of the expected tags:")[-1].strip()
        quiet = err["type"] in ("missing", "extra_forbidden", "union_tag_invalid") or isinstance(value, dict)
        lines.append(f"{key or '(top)'}: {msg}" + ("" if quiet else f" (got {value!r})"))
    # a union (e.g. identity | map) reports every branch: keep distinct lines only
    return f"{where}: invalid {what}\n  - " + "\n  - ".join(dict.fromkeys(lines))
