"""Errors the package raises on purpose.

Every error a user can cause is an :class:`InputError` (exit status 2 on the command line) and says
what is wrong and where (file, key, region, sector).  A model that cannot be solved raises
:class:`SolveError` (exit status 1) with a diagnosis.
"""

from __future__ import annotations

import difflib
import reprlib
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


class InputWarning(UserWarning):
    """Input that is allowed but implausible (a tariff above 500%, say): solved, with a warning."""


class SolveError(CGEError):
    """The model could not be solved (exit status 1)."""

    exit_code = 1


class NewtonNoConvergence(SolveError):
    """Newton's method did not converge and the fallback to IPOPT is off (``fallback: false``);
    ``reason``: Newton's own words (no descent, no convergence in so many iterations, ...)."""

    def __init__(self, message: str, reason: str = "", singular_at_start: bool = False):
        super().__init__(message)
        self.reason = reason
        #: the Jacobian is singular at the starting point: a shorter step of the path cannot help
        self.singular_at_start = singular_at_start


class SolverNotAvailable(SolveError):
    """No usable NLP solver is installed."""


class OutputError(CGEError):
    """An output that cannot be written (a full disk, a read-only or unwritable folder): exit status 1."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like SIGINT's KeyboardInterrupt so that the same clean-up runs (exit 143)."""


def nearest(word: object, choices: Iterable[str]) -> str:
    """A ' (did you mean X?)' hint for an unknown code, or '' if nothing is close.

    The same code in another case wins; otherwise the closest code ignoring case, if it is close
    (difflib's ratio 0.6 or more)."""
    choices = [str(c) for c in choices]
    low: dict[str, str] = {}
    for c in choices:
        low.setdefault(c.lower(), c)
    key = str(word).lower()
    match = [low[key]] if key in low else difflib.get_close_matches(key, list(low), n=1, cutoff=0.6)
    return f" (did you mean {low.get(match[0], match[0])!r}?)" if match else ""


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxdict = _REPR.maxtuple = 6
_REPR.maxlevel = 3


def show(value: object) -> str:
    """A value as messages show it: its repr, truncated (a huge or deeply nested value stays short)."""
    return _REPR.repr(value)
