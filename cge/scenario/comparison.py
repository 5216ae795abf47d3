"""A comparison file: several scenario files solved side by side and ranked (``cge compare FILE``).

```yaml
name: china-clusters
description: free text
compare: [jing-jin-ji.yaml, yangtze-river-delta.yaml]   # scenario files, relative to this file
rank: full_integration     # rank by the union's EV% at this stage of each ladder (default: its last)
steps: 2                   # steps for the welfare decomposition (the command's --steps overrides it)
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import yaml
from pydantic import Field, ValidationError

from cge.errors import ScenarioError, show
from cge.scenario.scenario import Scenario, format_validation_error
from cge.scenario.stages import ORDER as STAGES
from cge.schema import Strict, confined, parse_yaml


class ComparisonFile(Strict):
    """Scenario files to solve on one model, and the stage whose union EV% ranks them."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    description: str = ""
    compare: list[str] = Field(min_length=1)
    rank: Optional[Literal[STAGES]] = None  # type: ignore[valid-type]
    steps: Optional[int] = Field(None, ge=0, le=1000)


def is_comparison_file(path: str | Path) -> bool:
    """A YAML mapping with a ``compare`` key (a scenario file has none)."""
    try:
        raw = parse_yaml(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return False  # the scenario reader says what is wrong
    return isinstance(raw, dict) and "compare" in raw


def read_comparison(path: str | Path) -> tuple[ComparisonFile, list[Scenario]]:
    """The comparison file and its scenarios (each read and checked as a scenario file)."""
    path = Path(path)
    raw = parse_yaml(path.read_text())
    try:
        spec = ComparisonFile.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, str(path), raw)) from None
    for p in spec.compare:
        if not confined(path.parent, p, f"{path}: compare", _ELSEWHERE, ScenarioError, "comparison file").is_file():
            raise ScenarioError(f"{path}: compare: scenario file {show(p)} not found beside the comparison file")
    return spec, [Scenario.from_yaml(path.parent / p) for p in spec.compare]


_ELSEWHERE = "name scenario files that lie elsewhere on the command line (cge compare A.yaml B.yaml)"
