"""Validation shared by every input file (scenarios, model sections, recipes): the strict pydantic
base, the YAML reader that refuses duplicate keys, and the one formatter of validation errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

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


#: union branches pydantic names by their type
_TYPE_TAGS = {"float", "int", "str", "bool", "list", "dict", "none"}


def _is_tag(x) -> bool:
    """A pydantic tag in an error location: a union branch's class or type name, ``literal[...]``..."""
    return isinstance(x, str) and (x[:1].isupper() or "[" in x or x.startswith("function-") or x in _TYPE_TAGS)


def _location(loc: tuple, data=None) -> list:
    """The user's keys in a pydantic error location, pydantic's own tags (such as a union branch's
    class name) left out. With the validated ``data``, a key found in it is the user's (``AGR``)."""
    out = []
    for x in loc:
        inside = (isinstance(data, dict) and x in data) or (
            isinstance(data, list) and isinstance(x, int) and x < len(data)
        )
        if inside:
            data = data[x]  # type: ignore[index]
        elif _is_tag(x):
            continue
        else:
            data = None
        out.append(x)
    return out


#: pydantic's bound errors, as a comparison
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
#: pydantic's type errors, in plain words
_PLAIN = {
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "missing": "required",
}


def _message(err: ErrorDetails, loc: list, top_keys: Sequence[str], choices: Mapping[str, Sequence[str]] | None) -> str:
    """pydantic's message for one error, in the project's words."""
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key" + (nearest(str(loc[-1]), top_keys) if len(loc) == 1 and top_keys else "")
    if kind == "literal_error" and choices and loc and loc[0] in choices:
        valid = choices[str(loc[0])]
        return f"unknown {str(loc[0]).rstrip('s')} {value!r}{nearest(str(value), valid)}; one of {', '.join(valid)}"
    if kind == "union_tag_invalid":
        tag = value.get("kind") if isinstance(value, dict) else ""
        return (
            f"unknown kind {tag!r}; one of " + err["msg"].split("does not match any of the expected tags:")[-1].strip()
        )
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {next(iter(ctx.values())):g}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    return _PLAIN.get(kind, err["msg"])


def format_errors(
    exc: ValidationError,
    where: str,
    what: str,
    top_keys: Sequence[str] = (),
    choices: Mapping[str, Sequence[str]] | None = None,
    prefix: Sequence[str] = (),
    explain: Callable[[ErrorDetails, list], str | None] | None = None,
    data=None,
) -> str:
    """One line per error: ``key.path: message (got value)``, headed by ``where: invalid what``.

    ``top_keys``: the valid top-level keys (an unknown one gets a "did you mean" hint);
    ``choices``: valid values by top-level key, for a literal error (e.g. the stages);
    ``prefix``: the keys above the validated part of the file (e.g. ``stage_options``);
    ``explain``: a message of the caller's own for an error (given the error and its key path), or None;
    ``data``: the validated input (tells a user's key such as a sector code from pydantic's tags).
    """
    errors = [(err, [*prefix, *_location(err["loc"], data)]) for err in exc.errors()]
    # a union reports every branch: a branch that failed deeper (``esubd.AGR``) says more than one
    # that refused the whole value (``esubd`` is not a number)
    deeper = {tuple(loc[:k]) for _, loc in errors for k in range(len(loc))}
    lines = []
    for err, loc in errors:
        if tuple(loc) in deeper:
            continue
        key = (
            ".".join(f"[{x}]" if isinstance(x, int) else str(x) for x in loc).replace(".[", "[").replace("set_", "set")
        )
        value = err.get("input")
        msg = (explain(err, loc) if explain else None) or _message(err, loc[len(prefix) :], top_keys, choices)
        quiet = err["type"] in ("missing", "extra_forbidden", "union_tag_invalid") or isinstance(value, dict)
        lines.append(f"{key or '(top)'}: {msg}" + ("" if quiet else f" (got {value!r})"))
    # the branches of a union (e.g. identity | map) may say the same: keep distinct lines only
    return f"{where}: invalid {what}\n  - " + "\n  - ".join(dict.fromkeys(lines))
