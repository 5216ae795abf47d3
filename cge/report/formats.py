"""A table as CSV (full precision), LaTeX (booktabs) and HTML; the group rows are set off."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from cge.results.groups import GROUPS


def to_csv(df: pd.DataFrame) -> str:
    return df.to_csv(float_format="%.17g", lineterminator="\n")


def _tex_escape(s: str) -> str:
    for a, b in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
    ):
        s = s.replace(a, b)
    return s


def to_latex(df: pd.DataFrame, caption: str, label: str, digits: int = 3) -> str:
    """A booktabs table; numbers with ``digits`` decimals, NaN as an empty cell."""
    cols = [df.index.name or ""] + list(df.columns)
    align = "l" + "".join("l" if df[c].dtype == object else "r" for c in df.columns)
    lines = [
        r"\begin{table}[htbp]",
        r"\centering",
        f"\\caption{{{_tex_escape(caption)}}}",
        f"\\label{{{label}}}",
        f"\\begin{{tabular}}{{{align}}}",
        r"\toprule",
        " & ".join(_tex_escape(str(c)) for c in cols) + r" \\",
        r"\midrule",
    ]
    for idx, row in df.iterrows():
        cells = [_tex_escape(str(idx))]
        for v in row.values:
            if isinstance(v, (float, np.floating)):
                cells.append("" if not np.isfinite(v) else f"{v:,.{digits}f}".replace(",", "{,}"))
            else:
                cells.append(_tex_escape(str(v)))
        if str(idx) in GROUPS and lines[-1] != r"\midrule" and lines[-1].split(" & ")[0] not in GROUPS:
            lines.append(r"\midrule")  # a rule above the first group row
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(lines)


def to_html_table(df: pd.DataFrame, digits: int = 2) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or ""] + list(df.columns))
    body = []
    for idx, row in df.iterrows():
        cls = ' class="total"' if str(idx) in GROUPS else ""
        cells = [f"<th>{html.escape(str(idx))}</th>"]
        for v in row.values:
            if isinstance(v, (float, np.floating)):
                txt = "" if not np.isfinite(v) else f"{v:,.{digits}f}"
                cells.append(f'<td class="num">{txt}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
