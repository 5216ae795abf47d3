"""Files: atomic output (a failed or interrupted write never leaves a file that looks complete), the
SHA-256 of a file, and the one reader of input CSV files with required columns."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `cge validate` reads datasets with netCDF4 alone
    import pandas as pd
    import xarray as xr

from cge.errors import InputError


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def write_text(path: str | Path, text: str) -> Path:
    def write(tmp):
        with open(tmp, "w") as fh:
            fh.write(text)

    return atomic_write(path, write)


def write_netcdf(ds: xr.Dataset, path: str | Path, compress: bool = False) -> Path:
    enc = (
        {v: {"zlib": True, "complevel": 6, "shuffle": True} for v in ds.data_vars if ds[v].dtype.kind in "fiu"}
        if compress
        else None
    )
    return atomic_write(path, lambda tmp: _to_netcdf4(ds, tmp, enc))


def _to_netcdf4(ds: xr.Dataset, path: str, encoding: dict | None) -> None:
    """What ``ds.to_netcdf(path, engine="netcdf4", format="NETCDF4")`` does for in-memory data,
    without asking Dask for its scheduler (which imports ``distributed``: 0.1 to 0.3 s a run)."""
    if any(v.chunks is not None for v in ds.variables.values()):  # Dask arrays: xarray's own way
        ds.to_netcdf(path, engine="netcdf4", format="NETCDF4", encoding=encoding)
        return
    import xarray as xr
    from xarray.backends.netCDF4_ import NETCDF4_PYTHON_LOCK

    store = xr.backends.NetCDF4DataStore.open(path, mode="w", format="NETCDF4", lock=NETCDF4_PYTHON_LOCK)
    try:
        ds.dump_to_store(store, encoding=encoding or {})
    finally:
        store.close()


def sha256(path: str | Path) -> str:
    """The SHA-256 digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_csv(
    path: str | Path,
    columns: Sequence[str],
    error: type[InputError],
    where: str = "",
    hint: str = "",
    **read: Any,
) -> pd.DataFrame:
    """A CSV file that must have ``columns``: a missing or unreadable file, or a missing column, raises
    ``error`` naming the file (and ``where``, the key or file that points at it; ``hint`` says what
    to do).  ``read`` goes to :func:`pandas.read_csv`."""
    import pandas as pd

    path = Path(path)
    at = f"{where}: " if where else ""
    if not path.is_file():
        raise error(f"{at}cannot read {path}: file not found")
    try:
        df = pd.read_csv(path, **read)
    except Exception as exc:
        raise error(f"{at}cannot read {path} ({exc})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise error(
            f"{at}{path}: missing column(s) {', '.join(missing)}; expected {', '.join(columns)}"
            + (f" ({hint})" if hint else "")
        )
    return df
