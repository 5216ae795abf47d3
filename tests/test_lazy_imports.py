"""The command line answers at once: ``import cge`` and ``cge --help`` load no numerical library (issue 15.3).

Checked in a fresh interpreter by the set of loaded modules, not by timing (timings live in bench/).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "xarray", "pyomo", "scipy", "dask", "matplotlib")


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        "import cge",
        "import cge.cli",
        "import cge.dataset",
        "from click.testing import CliRunner\nfrom cge.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0",
    ],
)
def test_no_numerical_library_loaded(code: str) -> None:
    assert loaded_after(code) == set()


def test_lazy_names_still_resolve() -> None:
    import cge.dataset

    assert callable(cge.dataset.build_dataset)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        cge.dataset.nonexistent  # noqa: B018


def test_cge_datasets_reads_headers_without_xarray() -> None:
    code = (
        "from click.testing import CliRunner\nfrom cge.cli import cli\n"
        "assert CliRunner().invoke(cli, ['datasets']).exit_code == 0"
    )
    assert "xarray" not in loaded_after(code)


def test_cge_validate_reads_arrays_with_netcdf4_alone() -> None:
    code = (
        "from click.testing import CliRunner\nfrom cge.cli import cli\n"
        "r = CliRunner().invoke(cli, ['validate', 'default'])\n"
        "assert r.exit_code == 0 and ': ok:' in r.output, r.output"
    )
    assert loaded_after(code) == {"numpy"}


def test_arrays_read_from_the_file_match_the_full_load() -> None:
    import numpy as np

    from cge.dataset.catalogue import builtin_path
    from cge.dataset.schema import Arrays, load_dataset

    read, full = Arrays.read(builtin_path("default")), Arrays.of(load_dataset("default", validate=False))
    assert read.dims == full.dims and read.labels == full.labels
    for name, values in full.values.items():
        np.testing.assert_array_equal(read.values[name], values, err_msg=name)


def test_catalogue_matches_the_full_load() -> None:
    from cge.dataset.catalogue import builtin_names, builtin_path, describe_file
    from cge.dataset.schema import describe, load_dataset

    assert builtin_names(), "no built-in datasets installed"
    for name in builtin_names():
        assert describe_file(builtin_path(name)) == describe(load_dataset(name, validate=False)), name


def test_the_default_run_loads_neither_dask_scipys_linear_algebra_nor_pyomo(tmp_path) -> None:
    # xarray would import Dask (and Dask's arrays SciPy) at its first operation; the structural
    # check of a small system needs no SciPy; the newton route solves the model on arrays: no Pyomo
    from pathlib import Path

    out = tmp_path / "out"
    code = (
        "from cge.cli import main\n"
        "try:\n"
        f"    main(['run', 'scenarios/east-asia-fta.yaml', '--out', {str(out)!r}, '-q'])\n"
        "except SystemExit as e:\n    assert not e.code, e.code\nimport sys\n"
        "watched = ('dask', 'scipy.linalg', 'scipy.sparse', 'pyomo')\n"
        "print('loaded:', *(m for m in watched if sys.modules.get(m)))\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert done.stdout.splitlines()[-1].split() == ["loaded:"]
    assert (out / "results.nc").exists()
