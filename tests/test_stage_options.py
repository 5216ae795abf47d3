"""The stage models (cge/scenario/stages.py): the README's table, the options each stage reads, and
the messages for bad options. Quick: nothing is solved (tests/test_stages.py solves the stages)."""

from pathlib import Path

import pytest

import cge
from cge.scenario import stages

ROOT = Path(__file__).resolve().parents[1]


def test_readme_table_is_the_generated_one():
    text = (ROOT / "README.md").read_text()
    begin, end = "<!-- stage-options: begin -->\n", "<!-- stage-options: end -->"
    assert begin in text and end in text, "README.md lost the markers of the stage-options table"
    table = text[text.index(begin) + len(begin) : text.index(end)].strip()
    assert table == stages.options_table(), "README.md's stage table differs: paste stages.options_table()"


def test_every_option_is_documented_and_in_the_table():
    table = stages.options_table()
    for name, cls in stages.BY_NAME.items():
        assert f"`{name}`" in table and cls.__doc__
        for key in cls.options():
            assert cls.model_fields[key].description, f"{name}.{key} has no description"
            assert f"`{key}`" in table


def test_each_stage_reads_the_options_of_the_stage_it_includes():
    for name, cls in stages.BY_NAME.items():
        if cls.includes:
            assert stages.OPTIONS[cls.includes] <= stages.OPTIONS[name]
    assert stages.OPTIONS["full_integration"] - stages.OPTIONS["common_market"] == {"border_cost"}
    assert stages.ORDER[0] == "none" and stages.ORDER[-1] == "full_integration"


def test_parse_gives_the_stage_model_with_its_defaults():
    st = stages.parse("common_market", {"mobile_factors": "capital"}, "f.yaml")
    assert isinstance(st, stages.CommonMarket) and isinstance(st, stages.CustomsUnion)
    assert st.mobile_factors == ["capital"] and st.common_external_tariff == "average" and st.revenue_sharing == "own"
    assert stages.parse("pta", {"margin": 1}, "f.yaml").margin == 1.0


def test_a_ladder_gives_each_stage_the_options_it_reads():
    opts = {"margin": 0.5, "revenue_sharing": "gdp", "ntb_cut": 0.1}
    split = stages.ladder_options(["pta", "fta", "customs_union", "economic_union"], opts, "f.yaml")
    assert split == [{"margin": 0.5}, {}, {"revenue_sharing": "gdp"}, {"revenue_sharing": "gdp", "ntb_cut": 0.1}]


BAD = [
    ("pta", {"margin": 1.5}, "stage_options.margin: must be <= 1 (got 1.5)"),
    ("pta", {"margin": True}, "stage_options.margin: must be a number (got True)"),
    ("pta", {"margin": "0.5"}, "stage_options.margin: must be a number (got '0.5')"),
    ("pta", {"margin": float("nan")}, "stage_options.margin: must be a finite number"),
    (
        "pta",
        {"margin": 0.5, "sectors": "AGR"},
        "stage_options.sectors: give 'all' or a list of sector codes (got 'AGR')",
    ),
    ("pta", {"margin": 0.5, "sectors": []}, "stage_options.sectors: needs at least 1 item(s)"),
    ("customs_union", {"common_external_tariff": {"AGR": -0.1}}, "common_external_tariff.AGR: must be >= 0"),
    ("customs_union", {"common_external_tariff": "avg"}, "give 'average' or a mapping sector: rate (got 'avg')"),
    ("customs_union", {"revenue_sharing": {"CHN": 2}}, "stage_options.revenue_sharing.CHN: must be <= 1 (got 2)"),
    ("common_market", {"mobile_factors": 5}, "stage_options.mobile_factors: must be a list (got 5)"),
    ("economic_union", {"ntb_cut": 1}, "stage_options.ntb_cut: must be < 1 (got 1)"),
    ("full_integration", {}, "stage_options.border_cost: required by stage 'full_integration'"),
    ("full_integration", {"border_cost": -1}, "stage_options.border_cost: must be >= 0 (got -1)"),
    ("fta", {"stage": "pta"}, "stage_options.stage: unknown option"),
]


@pytest.mark.parametrize("stage,opts,expect", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_option_names_the_file_key_and_value(stage, opts, expect):
    with pytest.raises(cge.ScenarioError) as err:
        cge.Scenario.from_dict(
            {"name": "x", "union": {"members": ["CHN", "JPN"]}, "stage": stage, "stage_options": opts}
        )
    msg = str(err.value)
    assert msg.startswith("<scenario>") and expect in msg, msg
    assert "Input should" not in msg and "Value error" not in msg and "[Named]" not in msg
    assert len(msg.splitlines()) <= 3, msg  # one line per error, not one per branch of a union
