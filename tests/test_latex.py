"""LaTeX tables for papers (issue 16): they compile unchanged into an A4 article with a real LaTeX
compiler (no overfull lines: wide tables are set in panels), labels are unique per results and
table, minus signs are real, zeros print as 0, the digits option holds, and two solvers' results
that agree give the same bytes."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import cge
from cge.report import render
from cge.report.formats import to_latex
from tests.support.synthetic import make_dataset

PDFLATEX = shutil.which("pdflatex")
BODY = {"union": {"name": "U", "members": ["R1", "R2"]}, "stage": "customs_union"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    base = tmp_path_factory.mktemp("latex")
    ds = make_dataset(n_regions=4, n_sectors=3, seed=8)
    ds.attrs.update(name="synthetic", units="million EUR (2015)", year=2015, source="random; test data")
    one = cge.Scenario.from_dict({"name": "cu", **BODY})
    for solver in ("newton", "cyipopt"):
        cge.run(one, data=ds, solver=solver, steps=2).write(base / solver)
        render(base / solver)
    ladder = cge.Scenario.from_dict(
        {"name": "lad", **{k: v for k, v in BODY.items() if k != "stage"}, "stages": ["fta", "customs_union"]}
    )
    cge.compare([ladder], data=ds, steps=2).write(base / "ladder")
    render(base / "ladder")
    return base


def test_two_solvers_give_the_same_bytes(reports):
    a, b = reports / "newton" / "report", reports / "cyipopt" / "report"
    newton, ipopt = (pd.read_csv(d / "welfare.csv", index_col=0)["EV"] for d in (a, b))
    np.testing.assert_allclose(newton, ipopt, rtol=1e-8)  # the same numbers, perhaps not to the last bit ...
    for tex in sorted(a.glob("*.tex")):
        assert tex.read_bytes() == (b / tex.name).read_bytes(), tex.name  # ... the tables do not


def test_numbers_signs_zeros_labels_and_notes(reports):
    tex = (reports / "newton" / "report" / "welfare.tex").read_text()
    assert r"\label{tab:cu:welfare}" in tex and "million EUR (2015)" in tex and "Data: benchmark synthetic" in tex
    numbers = re.findall(r"(?<=& )[^&\\]+(?= [&\\])", tex)
    assert "$-$" in tex and not [n for n in numbers if re.match(r"-\d", n.strip())]  # real minus signs
    assert not [n for n in numbers if re.fullmatch(r"(\$-\$)?0\.0+", n.strip())]  # zeros are "0"
    ladder = reports / "ladder" / "report"
    assert r"\label{tab:lad:welfare_fta}" in (ladder / "welfare_fta.tex").read_text()
    render(reports / "ladder", digits=1)
    row = next(line for line in (ladder / "welfare_fta.tex").read_text().splitlines() if line.startswith("R1 "))
    assert all(re.fullmatch(r"(\$-\$)?[\d{},]+\.\d|0|yes|", c.strip()) for c in row.rstrip(" \\").split("&")[1:]), row


@pytest.mark.skipif(PDFLATEX is None, reason="no LaTeX compiler (apt-get install texlive-latex-base; CI does)")
def test_tables_compile_into_an_a4_article(reports, tmp_path):
    wide = pd.DataFrame(
        np.linspace(-12345.678, 9876.5, 6 * 15).reshape(6, 15),
        index=[f"Region {k}" for k in range(6)],
        columns=[f"A long column heading {k}" for k in range(15)],
    ).rename_axis("Region")
    (tmp_path / "wide.tex").write_text(to_latex(wide, "A wide table", "tab:wide", notes=("Money in USD.",)))
    tall = pd.concat([wide] * 20, ignore_index=True).rename_axis("Draw")  # 120 rows x 15 columns
    (tmp_path / "tall.tex").write_text(to_latex(tall, "A long and wide table", "tab:tall"))
    inputs = [
        reports / d / "report" / f
        for d in ("newton", "ladder")
        for f in sorted(p.name for p in (reports / d / "report").glob("*.tex"))
    ]
    doc = "\n".join(
        [r"\documentclass[a4paper]{article}", r"\usepackage{booktabs}", r"\begin{document}"]
        + [rf"\input{{{p}}}\clearpage" for p in [*inputs, tmp_path / "wide.tex", tmp_path / "tall.tex"]]
        + [r"\end{document}", ""]
    )
    (tmp_path / "paper.tex").write_text(doc)
    run = subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = (tmp_path / "paper.log").read_text(errors="replace")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "Overfull \\hbox" not in log, [line for line in log.splitlines() if "Overfull" in line]
    assert "multiply defined" not in log and "Float too large" not in log
    assert (tmp_path / "paper.pdf").stat().st_size > 10_000
