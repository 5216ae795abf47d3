"""Everyday commands (issue 16): `cge check` validates a scenario without solving, `cge validate`
given a scenario says to use it, and every option of every command has --help text."""

import click
import pytest
from click.testing import CliRunner

from cge.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_check_accepts_a_shipped_ladder_without_solving():
    out = invoke("check", "scenarios/east-asia-ladder.yaml")
    assert out.exit_code == 0, out.output
    assert "ok (nothing solved)" in out.output and "stages: pta, fta, customs_union, common_market" in out.output
    assert "million USD (current, 2011)" in out.output


@pytest.mark.parametrize(
    "body,message",
    [
        ("union: {name: X, members: [CHN, JPX]}\nstage: fta\n", "unknown region code 'JPX' (did you mean 'JPN'?)"),
        ("union: {name: X, members: [CHN, JPN]}\nstage: pta\n", "margin"),
        ("shocks:\n  - tariff: {sector: [AGX], set: 0}\n", "'AGX'"),
    ],
)
def test_check_names_bad_input(tmp_path, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\n" + body)
    out = invoke("check", str(path))
    assert out.exit_code == 2 and message in out.output and "Traceback" not in out.output


def test_validate_points_a_scenario_to_check(tmp_path):
    out = invoke("validate", "scenarios/east-asia-fta.yaml")
    assert out.exit_code == 2 and "cge check scenarios/east-asia-fta.yaml" in out.output


def test_every_option_has_help():
    missing = [
        f"{name} {param.opts[0]}"
        for name, command in cli.commands.items()
        for param in command.params
        if isinstance(param, click.Option) and not param.help
    ]
    assert missing == []


def test_progress_bar_shows_the_time_remaining():
    import io

    from cge.progress import bar

    out = io.StringIO()
    with bar(3, "scenarios solved", file=out) as progress:
        for _ in range(3):
            progress.update()
    assert "scenarios solved: 3/3" in out.getvalue() and "remaining" in out.getvalue()
    quiet = io.StringIO()
    with bar(3, "scenarios solved", enabled=False, file=quiet) as progress:
        progress.update()
    assert quiet.getvalue() == ""


def test_sensitivity_progress_says_what_is_left(capsys):
    from cge.sensitivity.batch import Progress

    progress = Progress(4, enabled=True)  # standard error is not a terminal here: lines, not a bar
    progress.say("starting a local Dask cluster ...")
    for ok in (True, False, True, True):
        progress.update(ok)
    err = capsys.readouterr().err
    assert "starting a local Dask cluster" in err
    assert "draws 4/4, 1 failed" in err and "remaining" in err
