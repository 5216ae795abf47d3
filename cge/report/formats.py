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


#: the text block of an A4 article (10 pt: 345 pt), less a margin, and the widths (pt) the
#: estimate of a column uses at \footnotesize: a character, and the space between columns
TEXT_WIDTH, CHAR, COLUMN_GAP = 330.0, 4.3, 12.0
#: the rows (and the rules and header of each panel, 3 rows) one float holds on an A4 page
PAGE_ROWS = 44
#: a header wraps onto lines of at most this many characters
HEADER_LINE = 12
#: a value below this fraction of its column's largest is a rounding residue, printed as zero
RESIDUE = 1e-9


def number(v: float, digits: int, scale: float = 0.0) -> str:
    """A number with ``digits`` decimals and thousands separators; "0" for a value that rounds to
    zero or is a rounding residue (below :data:`RESIDUE` of ``scale``), so no "-0.000" appears."""
    if abs(v) <= RESIDUE * scale or round(v, digits) == 0:
        return "0"
    return f"{v:,.{digits}f}"


def _tex_number(v, digits: int, scale: float) -> str:
    if not isinstance(v, (float, np.floating, int, np.integer)) or isinstance(v, bool):
        return _tex_escape(str(v))
    if not np.isfinite(v):
        return ""
    text = number(float(v), digits, scale).replace(",", "{,}")
    return "$-$" + text[1:] if text.startswith("-") else text  # a real minus sign


def _scale(column: pd.Series) -> float:
    """The largest magnitude in a numeric column (0 for text or no numbers)."""
    if not pd.api.types.is_numeric_dtype(column):
        return 0.0
    return float(np.nanmax(np.abs(column.to_numpy(float)), initial=0.0))


def _header(text: str) -> str:
    """A column heading, wrapped onto lines of at most :data:`HEADER_LINE` characters."""
    lines = _header_lines(text)
    if len(lines) <= 1:
        return _tex_escape(str(text))
    return r"\begin{tabular}[b]{@{}c@{}}" + r"\\".join(map(_tex_escape, lines)) + r"\end{tabular}"


def _width(cells: list[str], heading: str) -> float:
    longest_line = max((len(w) for w in _header_lines(heading)), default=0)
    return CHAR * max([longest_line, *(len(c) for c in cells)]) + COLUMN_GAP


def _header_lines(heading: str) -> list[str]:
    """The words of a heading on lines of at most :data:`HEADER_LINE` characters (a longer word alone)."""
    out: list[str] = []
    for word in str(heading).split():
        if out and len(out[-1]) + 1 + len(word) <= HEADER_LINE:
            out[-1] += " " + word
        else:
            out.append(word)
    return out


def column_chunks(widths: list[float], first: float, limit: float = TEXT_WIDTH) -> list[list[int]]:
    """Columns split into consecutive groups that fit ``limit`` beside the first column."""
    chunks: list[list[int]] = [[]]
    used = first
    for k, w in enumerate(widths):
        if chunks[-1] and used + w > limit:
            chunks.append([])
            used = first
        chunks[-1].append(k)
        used += w
    return chunks


def _panel(df: pd.DataFrame, cols: list, rows: list[int], index: list[str], body: dict) -> list[str]:
    """One tabular: the first column and ``cols``, the rows ``rows``."""
    align = "l" + "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in cols)
    lines = [f"\\begin{{tabular}}{{{align}}}", r"\toprule"]
    lines.append(" & ".join(_header(h) for h in [str(df.index.name or ""), *map(str, cols)]) + r" \\")
    lines.append(r"\midrule")
    for row in rows:
        if str(df.index[row]) in GROUPS and row != rows[0] and str(df.index[row - 1]) not in GROUPS:
            lines.append(r"\midrule")  # a rule above the first group row
        lines.append(" & ".join([index[row], *(body[c][row] for c in cols)]) + r" \\")
    return [*lines, r"\bottomrule", r"\end{tabular}"]


def to_latex(df: pd.DataFrame, caption: str, label: str, digits: int = 3, notes: tuple[str, ...] = ()) -> str:
    """A booktabs table for an A4 article (``\\usepackage{booktabs}``): numbers with ``digits``
    decimals, real minus signs, zeros as "0", NaN as an empty cell. Columns that would not fit the
    text block are set in further panels below (the first column repeated), and panels that would
    not fit a page go on in further floats ("continued"); ``notes`` (units, source) under the last.
    The same numbers give the same bytes."""
    scale = {c: _scale(df[c]) for c in df.columns}
    body = {c: [_tex_number(v, digits, scale[c]) for v in df[c].values] for c in df.columns}
    index = [_tex_escape(str(i)) for i in df.index]
    first = _width(index, str(df.index.name or ""))
    columns = column_chunks([_width(body[c], str(c)) for c in df.columns], first)
    n = len(df.index)
    per = PAGE_ROWS - 3
    row_chunks = [list(range(k, min(k + per, n))) for k in range(0, n, per)] or [[]]
    floats: list[list[tuple[list, list[int]]]] = [[]]
    used = 0
    for rows in row_chunks:
        for chunk in columns:
            if floats[-1] and used + len(rows) + 3 > PAGE_ROWS:
                floats.append([])
                used = 0
            floats[-1].append(([df.columns[k] for k in chunk], rows))
            used += len(rows) + 3
    lines: list[str] = []
    for k, panels in enumerate(floats):
        lines += [r"\begin{table}[htbp]", r"\centering", r"\footnotesize"]
        lines.append(f"\\caption{{{_tex_escape(caption)}{' (continued)' if k else ''}}}")
        if not k:
            lines.append(f"\\label{{{label}}}")
        for m, (cols, rows) in enumerate(panels):
            lines += ([r"\par\medskip"] if m else []) + _panel(df, cols, rows, index, body)
        if notes and k == len(floats) - 1:
            lines.append(r"\par\smallskip")
            lines.append(r"\parbox{\linewidth}{\scriptsize " + " ".join(_tex_escape(t) for t in notes) + "}")
        lines.append(r"\end{table}")
    return "\n".join([*lines, ""])


def to_html_table(df: pd.DataFrame, digits: int = 2) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in [df.index.name or ""] + list(df.columns))
    body = []
    scale = [_scale(df[c]) for c in df.columns]
    for idx, row in df.iterrows():
        cls = ' class="total"' if str(idx) in GROUPS else ""
        cells = [f"<th>{html.escape(str(idx))}</th>"]
        for col, v in enumerate(row.values):
            if isinstance(v, (float, np.floating)):
                txt = "" if not np.isfinite(v) else number(float(v), digits, scale[col])
                cells.append(f'<td class="num">{txt}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
