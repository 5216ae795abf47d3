"""cge.io: the one reader of input CSV files names the file, the key and what is missing."""

from __future__ import annotations

import pytest

from cge.errors import DataError, ScenarioError
from cge.io import read_csv


def test_read_csv_returns_the_table(tmp_path):
    (tmp_path / "t.csv").write_text("code,value\nA,1\nB,\n")
    df = read_csv(tmp_path / "t.csv", ["code", "value"], DataError, keep_default_na=False, dtype=str)
    assert df.to_dict("list") == {"code": ["A", "B"], "value": ["1", ""]}


@pytest.mark.parametrize(
    "text, expected",
    [
        (None, ["shocks[0].file: cannot read", "t.csv: file not found"]),
        ("code\nA\n", ["shocks[0].file: ", "t.csv: missing column(s) value; expected code, value (add it)"]),
        ("\n", ["shocks[0].file: cannot read", "t.csv ("]),
    ],
)
def test_read_csv_refuses_clearly(tmp_path, text, expected):
    if text is not None:
        (tmp_path / "t.csv").write_text(text)
    with pytest.raises(ScenarioError) as err:
        read_csv(tmp_path / "t.csv", ["code", "value"], ScenarioError, "shocks[0].file", "add it")
    assert all(part in str(err.value) for part in expected), str(err.value)
