"""The scenarios the README promises are shipped; tests/test_golden.py runs each of them, checks its
accounts and compares it to the stored reference."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_there_are_shipped_scenarios():
    names = {p.stem for p in SHIPPED}
    assert {
        "east-asia-fta",
        "east-asia-fta-dynamic",
        "east-asia-ladder",
        "north-america-fta",
        "china-chengdu-chongqing",
        "china-yangtze-river-delta",
        "china-yangtze-river-delta-scale",
        "china-jing-jin-ji",
    } <= names
