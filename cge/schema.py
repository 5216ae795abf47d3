"""Validation shared by every input file (scenarios, model sections, recipes): the strict pydantic
base and number types, the YAML reader (bounded size and depth, UTF-8, no tags or aliases,
duplicate keys refused), and the one formatter of validation errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import AllowInfNan, BaseModel, ConfigDict, ValidationError
from pydantic import Strict as StrictType
from pydantic_core import ErrorDetails

from cge.errors import InputError, nearest, show

#: a number: an int or a float, never a boolean or text (YAML's ``true``, ``"1"``); inf allowed
Real = Annotated[float, StrictType()]
#: a finite number (no inf, no nan)
Finite = Annotated[float, StrictType(), AllowInfNan(False)]
#: an integer, never a boolean, a float or text
Integer = Annotated[int, StrictType()]
#: input files larger than this are refused (a scenario or a recipe is a few kB)
MAX_YAML_BYTES = 1 << 20
#: nesting deeper than this is refused (the schemas need 5 levels)
MAX_YAML_DEPTH = 20


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
    """Parse YAML text (safe types only); a key given twice in one mapping, a tag, an alias or
    nesting deeper than :data:`MAX_YAML_DEPTH` is a ``yaml.YAMLError``."""
    _check_events(text)
    return yaml.load(text, Loader=_UniqueKeyLoader)


def _check_events(text: str) -> None:
    """Refuse tags, anchors and aliases (an alias bomb), and deep nesting, before anything is
    built (the event stream is flat, so a deep file cannot exhaust the recursion limit)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    for ev in yaml.parse(text, Loader=loader):
        mark = ev.start_mark
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None) is not None:
            raise yaml.MarkedYAMLError(problem="anchors and aliases (& and *) are not allowed", problem_mark=mark)
        if getattr(ev, "tag", None) is not None:
            raise yaml.MarkedYAMLError(problem=f"tags ({show(ev.tag)}) are not allowed", problem_mark=mark)
        if isinstance(ev, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise yaml.MarkedYAMLError(problem=f"nested more than {MAX_YAML_DEPTH} levels deep", problem_mark=mark)
        elif isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1


def read_yaml(path: str | Path, what: str, error: type[InputError] = InputError):
    """Read and parse a YAML input file, refusing by name (``error``) anything it should not hold:
    more than :data:`MAX_YAML_BYTES`, text that is not UTF-8, invalid YAML, a duplicate key, a
    tag or an alias, deep nesting.  Returns ``(data, text)``; messages never echo the contents."""
    path = Path(path)
    raw = read_bounded(
        path,
        MAX_YAML_BYTES,
        error,
        f"{path}: cannot read the {what} file",
        f"{path}: the {what} file is larger than {MAX_YAML_BYTES >> 20} MiB",
    )
    text = decode_utf8(raw, path, f"the {what} file", error)
    try:
        return parse_yaml(text), text
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise error(f"{path}{at}: not valid YAML ({exc.problem or exc.context})") from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({show(str(exc))})") from None


def read_bounded(path: Path, limit: int, error: type[InputError], unreadable: str, too_large: str) -> bytes:
    """The bytes of an input file of at most ``limit`` bytes, read without reading more than that;
    refused as ``error`` with ``unreadable`` (and the system's reason) or ``too_large``."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"{unreadable} ({exc.strerror})") from None
    if len(raw) > limit:
        raise error(too_large)
    return raw


def confined(
    base: Path, name: str, key: str, elsewhere: str, error: type[InputError] = InputError, owner: str = "scenario"
) -> Path:
    """A file named inside an input file (a scenario's dataset, tariff or estimates file, a comparison
    file's scenarios): resolved in ``base``, that file's folder, and refused unless it lies there or
    below it (symbolic links followed), so that an input file never makes the program read elsewhere.
    ``key`` names the place (none: the caller adds it), ``owner`` the input file's kind; ``elsewhere``
    says how to use a file that lies elsewhere."""
    path = (base / name).resolve()
    if not path.is_relative_to(base.resolve()):
        raise error(
            f"{key + ': ' if key else ''}{show(name)} is outside the {owner}'s folder ({base.resolve()}): a file "
            f"named in a {owner} is read only from its folder or below it; {elsewhere}"
        )
    return path


def decode_utf8(raw: bytes, path: Path, what: str, error: type[InputError] = InputError) -> str:
    """Bytes as UTF-8 text (a leading byte-order mark dropped); refused by name otherwise."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise error(f"{path}: {what} is UTF-16 text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise error(
            f"{path}, line {line}: {what} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None


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
        return f"unknown {str(loc[0]).rstrip('s')} {show(value)}{nearest(str(value), valid)}; one of {', '.join(valid)}"
    if kind == "union_tag_invalid":
        tag = value.get("kind") if isinstance(value, dict) else ""
        return (
            f"unknown kind {show(tag)}; one of "
            + err["msg"].split("does not match any of the expected tags:")[-1].strip()
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
        lines.append(f"{key or '(top)'}: {msg}" + ("" if quiet else f" (got {show(value)})"))
    # the branches of a union (e.g. identity | map) may say the same: keep distinct lines only
    return f"{where}: invalid {what}\n  - " + "\n  - ".join(dict.fromkeys(lines))
