"""README's layout lists every module of cge/, one line each, and nothing that is not there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_tree() -> set[str]:
    """The paths of README's layout block (``cge/`` and below; two spaces of indent a level)."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    stack: list[str] = []
    paths = set()
    for line in block.splitlines():
        m = re.match(r"( *)(\S+)", line)
        if not m:
            continue
        depth, name = len(m.group(1)) // 2, m.group(2)
        stack[depth:] = [name.rstrip("/")]
        paths.add("/".join(stack) + ("/" if name.endswith("/") else ""))
    return paths


def test_readme_layout_matches_the_tree() -> None:
    listed = readme_tree()
    # a package's __init__.py goes with its folder's line (listed itself where it holds the code)
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "cge").rglob("*.py") if p.name != "__init__.py"}
    assert sorted(modules - listed) == [], "modules missing from README's layout"
    missing = sorted(p for p in listed if not (ROOT / p).exists())
    assert missing == [], "README's layout names paths that do not exist"
