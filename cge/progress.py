"""Progress on standard error: a bar with the time remaining over the scenarios of a ladder (and
the draws of a sensitivity analysis), and messages that do not break it (tqdm)."""

from __future__ import annotations

import sys
from typing import IO, Any


def say(msg: str) -> None:
    """A progress message on standard error, above any bar being drawn."""
    from tqdm import tqdm

    tqdm.write(msg, file=sys.stderr)


def bar(total: int, what: str, enabled: bool = True, file: IO[str] | None = None) -> Any:
    """A progress bar over ``total`` items (``what``: their name), with the time remaining; drawn
    only when ``enabled``, there is more than one item, and it goes to ``file`` or to a terminal
    (a log gets the progress messages only)."""
    from tqdm import tqdm

    out = file or sys.stderr
    return tqdm(
        total=total,
        desc=what,
        unit="",
        file=out,
        disable=not enabled or total < 2 or (file is None and not out.isatty()),
        dynamic_ncols=True,
        bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}| {elapsed} elapsed, {remaining} remaining{postfix}",
    )
