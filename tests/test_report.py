"""Reports: files, figures equal to results.nc, byte-identical re-runs, and the page in headless Chromium."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

#: solves many models or builds datasets: left out of the quick selection (-m 'not slow')
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "cge.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    for k in (1, 2):
        out = cli("run", "scenarios/east-asia-fta.yaml", "--out", str(base / f"run{k}"), "--report", "-q")
        assert out.returncode == 0, out.stderr
    out = cli("run", "scenarios/east-asia-ladder.yaml", "--out", str(base / "ladder"), "--report", "-q")
    assert out.returncode == 0, out.stderr
    return base


def test_report_files(runs):
    rep = runs / "run1" / "report"
    for stem in ("welfare", "trade_effects", "trade_effects_by_sector", "macro", "structure"):
        assert (rep / f"{stem}.csv").exists() and (rep / f"{stem}.tex").exists(), stem
    tex = (rep / "welfare.tex").read_text()
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    html = (rep / "index.html").read_text()
    assert html.count("<svg") >= 3
    # self-contained: nothing is fetched from anywhere
    assert 'src="http' not in html and "<link" not in html and "@import" not in html and "url(http" not in html
    lad = runs / "ladder" / "report"
    assert (lad / "ev_pct_by_scenario.csv").exists() and (lad / "union_effects_by_scenario.csv").exists()


def test_csv_and_latex_are_byte_identical_across_runs(runs):
    a, b = runs / "run1" / "report", runs / "run2" / "report"
    files = sorted(p.name for p in a.iterdir() if p.suffix in (".csv", ".tex", ".html"))
    assert files
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_report_figures_equal_results(runs):
    with xr.open_dataset(runs / "run1" / "results.nc") as res:
        welfare = pd.read_csv(
            runs / "run1" / "report" / "welfare.csv", index_col=0, keep_default_na=False, na_values=[""]
        )
        for r in map(str, res["region"].values):
            assert float(welfare.loc[r, "EV"]) == float(res["ev"].sel(region=r))
            assert float(welfare.loc[r, "Terms of trade"]) == float(res["welfare_terms_of_trade"].sel(region=r))
        members = [str(r) for r, m in zip(res["region"].values, res["member"].values) if m]
        assert float(welfare.loc["union", "EV"]) == pytest.approx(float(res["ev"].sel(region=members).sum()), rel=1e-12)
        by_sector = pd.read_csv(runs / "run1" / "report" / "allocative_by_sector.csv", index_col=0)
        allocative = res["welfare_allocative_members"] + res["welfare_allocative_nonmembers"]
        for r in members:  # the sectors add up to the member's allocative efficiency
            assert by_sector[r].sum() == pytest.approx(float(allocative.sel(region=r)), rel=1e-9, abs=1e-6)
        trade = pd.read_csv(runs / "run1" / "report" / "trade_effects.csv", index_col=0)
        assert float(trade.loc["CHN", "Trade diversion"]) == pytest.approx(
            float(res["trade_diversion"].sel(region="CHN").sum()), rel=1e-12
        )
    with xr.open_dataset(runs / "ladder" / "comparison.nc") as comp:
        table = pd.read_csv(runs / "ladder" / "report" / "ev_pct_by_scenario.csv", index_col=0)
        assert list(table.columns) == ["pta", "fta", "customs_union", "common_market"]
        np.testing.assert_array_equal(table.loc["KOR"].values, comp["ev_pct"].sel(region="KOR").values)


def test_report_on_a_folder_without_results_exits_2(tmp_path):
    out = cli("report", str(tmp_path))
    assert out.returncode == 2 and "neither results.nc nor comparison.nc" in out.stderr


#: the charts each page must show: one scenario with a union (EV with group totals, map, trade
#: creation and diversion by member and by sector, decomposition); a ladder (its steps, EV by stage,
#: trade effects and decomposition by stage, the map of the last stage)
CHARTS = {
    "run1": [
        "EV by region",
        "Map",
        "Creation and diversion by member",
        "Creation and diversion by sector",
        "Decomposition",
    ],
    "ladder": [
        "What each stage adds",
        "EV by region and scenario",
        "Trade effects by scenario",
        "Decomposition by scenario",
        "Map: Common market",
    ],
}


def test_page_leads_with_the_answer(runs):
    page = (runs / "run1" / "report" / "index.html").read_text()
    head = page[page.index('<div class="headline">') : page.index("</div>", page.index('<div class="headline">'))]
    assert "<b>CJK</b> (China, Japan, Korea, Republic of) gains 18,839 million USD, 2011 (+0.134% of income)" in head
    assert "largest loss: Rest of world" in head and "free trade area" in head.lower()
    assert page.index('<div class="headline">') < page.index("<h2>") < page.index("<h2>Provenance</h2>")
    welfare = page.split("<h2>Welfare (EV")[1].split("<h2>")[0]
    assert "First-order" not in welfare and "<h2>First-order approximation" in page  # apart from EV
    ladder = (runs / "ladder" / "report" / "index.html").read_text()
    assert "Preferential trade arrangement &rarr; Free trade area &rarr; Customs union &rarr; Common market" in ladder
    assert ladder.count("This stage adds") == 4


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium; CI does)")
@pytest.mark.parametrize("folder", list(CHARTS))
def test_page_loads_in_headless_chromium_and_shows_charts(runs, tmp_path, folder):
    charts = len(CHARTS[folder])
    html = (runs / folder / "report" / "index.html").read_text()
    assert [h for h in CHARTS[folder] if f'<h2>{h}</h2><div class="chart">' not in html] == []
    page = (runs / folder / "report" / "index.html").resolve()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = dom.stdout[dom.stdout.index("<body") : dom.stdout.index(">", dom.stdout.index("<body"))]
    assert 'data-errors="0"' in body, body
    attribute = lambda name: int(body.split(f'{name}="')[1].split('"')[0])
    assert attribute("data-chart-slots") == attribute("data-charts") == charts  # no chart missing
    assert attribute("data-drawn") == charts  # each drawn, with a height on the page
    # the screenshot of the whole page: every chart's box on it holds a drawing, not a blank
    boxes = [tuple(map(int, b.split(","))) for b in body.split('data-chart-boxes="')[1].split('"')[0].split(";")]
    shot = tmp_path / "page.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--window-size=1100,{attribute('data-height')}", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    from PIL import Image

    with Image.open(shot) as image:
        grey = np.asarray(image.convert("L"), dtype=float)
    assert len(boxes) == charts
    for name, (x, y, w, h) in zip(CHARTS[folder], boxes):
        ink = grey[y : y + h, x : x + w] < 200
        assert h > 100 and ink.mean() > 0.02, f"{folder}: the chart {name!r} is blank on the screenshot"
