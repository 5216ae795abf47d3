"""Errors the package raises on purpose.

Every error a user can cause is an :class:`InputError` (exit status 2 on the command line) and says
what is wrong and where (file, key, region, sector).  A model that cannot be solved raises
:class:`SolveError` (exit status 1) with a diagnosis.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CGEError(Exception):
    """Base class of the package's own errors."""

    exit_code = 1


class InputError(CGEError):
    """Bad input: a dataset, scenario or option that the package refuses (exit status 2)."""

    exit_code = 2


class DataError(InputError):
    """A benchmark dataset that is missing, malformed or inconsistent."""


class ScenarioError(InputError):
    """A scenario file or object that is invalid."""


class SolveError(CGEError):
    """The model could not be solved (exit status 1)."""

    exit_code = 1


class SolverNotAvailable(SolveError):
    """No usable NLP solver is installed."""


def nearest(word: str, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' hint for an unknown code, or '' if nothing is close."""
    choices = [str(c) for c in choices]
    match = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.0)
    if not match:
        low = {c.lower(): c for c in choices}
        match = [low[str(word).lower()]] if str(word).lower() in low else []
    return f" (did you mean {match[0]!r}?)" if match else ""
