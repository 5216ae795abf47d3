"""Files: atomic output, the SHA-256 of a file, and the one reader of input CSV files with required
columns.  A failed, interrupted or killed write never leaves a file or folder that looks complete,
and never damages what an earlier run wrote:

* A file is written to a temporary ``.NAME.PID.XXXX.part`` beside it and renamed onto it
  (:func:`atomic_write`).  SIGINT and SIGTERM are deferred while it is written and renamed
  (:func:`signals_deferred`): an interrupt inside the netCDF library would leave its lock held
  and hang the process.  A second signal while deferred ends the process at once, removing the
  temporary file.
* A folder of outputs (``cge run``, ``cge compare``, a report) is built in a temporary
  ``.NAME.PID.XXXX.part`` folder beside it and swapped into place in one step
  (:func:`output_folder`); the earlier folder, if any, is removed only afterwards.
* Leftovers of killed processes (``.part`` files and folders whose process is gone) are removed by
  the next write in the same folder (:func:`clean_leftovers`).
* A full disk, a read-only or unwritable folder is a :class:`~cge.errors.OutputError` naming the
  path (exit status 1), with nothing partial left behind.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cge.errors import InputError, OutputError

if TYPE_CHECKING:  # imported where used: `cge validate` reads datasets with netCDF4 alone
    import pandas as pd
    import xarray as xr

#: temporary files and folders being written by this process (removed if it must end at once)
_PENDING: set[str] = set()
#: outputs this process has put in place (for the message after an interrupt)
WRITTEN: list[Path] = []
_DEFERRED = (signal.SIGINT, signal.SIGTERM)
_HINTS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENAMETOOLONG: "the file name is too long",
}


# ------------------------------------------------------------------ signals
@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver the first one received.

    A second signal while held ends the process at once (exit 128 + signal) after removing the
    temporary outputs of this process.  Outside the main thread (where handlers cannot be set)
    this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum, frame):
        if pending:
            _remove_pending()
            os._exit(128 + signum)
        pending.append(signum)

    old = {s: signal.signal(s, hold) for s in _DEFERRED}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        if pending:
            signal.raise_signal(pending[0])


def _remove_pending() -> None:
    for tmp in list(_PENDING):
        shutil.rmtree(tmp, ignore_errors=True) if os.path.isdir(tmp) else _unlink(tmp)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ------------------------------------------------------------------ leftovers
def _temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.part")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process
        return True
    return True


def clean_leftovers(folder: Path) -> None:
    """Remove the ``.NAME.PID.XXXX.part`` files and folders of processes that are gone."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for e in entries:
        parts = e.name.split(".")
        if not (e.name.startswith(".") and e.name.endswith(".part") and len(parts) >= 5 and parts[-3].isdigit()):
            continue
        if _alive(int(parts[-3])):
            continue
        try:
            shutil.rmtree(e.path) if e.is_dir(follow_symlinks=False) else os.unlink(e.path)
        except OSError:
            pass


# ------------------------------------------------------------------ errors
def _output_error(path: Path, exc: BaseException) -> OutputError:
    """A short message naming the path and what went wrong (full disk, read-only, no permission)."""
    code = getattr(exc, "errno", None)
    why = _HINTS.get(code) if code is not None else None  # type: ignore[arg-type]
    if why is None:
        why = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        free = _free_bytes(path)
        if free is not None and free < 1 << 20:  # the netCDF library reports a full disk as an HDF error
            why = f"{why}; no space left on the device ({free} bytes free)"
    hint = {
        errno.EROFS: "; write elsewhere (--out)",
        errno.EACCES: "; write elsewhere (--out)",
        errno.EPERM: "; write elsewhere (--out)",
    }.get(code, "")  # type: ignore[arg-type]
    return OutputError(f"cannot write {path}: {why}{hint}; nothing was written there")


def _free_bytes(path: Path) -> int | None:
    for p in (path, *path.parents):
        try:
            st = os.statvfs(p)
            return st.f_bavail * st.f_frsize
        except OSError:
            continue
    return None


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(folder, exc) from None


# ------------------------------------------------------------------ files
def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it onto ``path``
    (signals deferred meanwhile).  An error writing it is an :class:`OutputError`."""
    path = Path(path)
    _mkdir(path.parent)
    clean_leftovers(path.parent)
    tmp = str(_temp_name(path))
    with signals_deferred():
        _PENDING.add(tmp)
        try:
            write(tmp)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except (OSError, RuntimeError) as exc:  # netCDF4 raises RuntimeError for HDF errors
            raise _output_error(path, exc) from None
        finally:
            _PENDING.discard(tmp)
            if os.path.exists(tmp):
                os.unlink(tmp)
    return path


def write_text(path: str | Path, text: str) -> Path:
    def write(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
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


def read_netcdf(path: str | Path) -> xr.Dataset:
    """A netCDF file read fully into memory, with signals deferred (an interrupt inside the netCDF
    library would leave its lock held)."""
    import xarray as xr

    with signals_deferred(), xr.open_dataset(path) as handle:
        return handle.load()


# ------------------------------------------------------------------ folders
#: names ``cge`` writes into an output folder (anything else there is the user's)
OUTPUT_NAMES = {
    "results.nc",
    "comparison.nc",
    "ev_pct.csv",
    "ranking.csv",
    "sensitivity.nc",
    "subtotals.nc",
    "tidy.csv",
    "tidy.parquet",
    "report",
}


def check_output_folder(folder: str | Path, option: str = "--out") -> None:
    """Refuse an output folder that holds anything but cge's outputs: it is replaced as a whole.

    Subfolders may hold a scenario's results (``<label>/results.nc`` of ``cge compare``)."""
    from cge.errors import InputError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{option} {folder}: is a file, not a folder")
    if not folder.is_dir():
        return
    for e in os.scandir(folder):
        if e.name in OUTPUT_NAMES or (e.name.startswith(".") and e.name.endswith(".part")):
            continue
        if e.is_dir(follow_symlinks=False) and all(x.name in OUTPUT_NAMES for x in os.scandir(e.path)):
            continue
        raise InputError(
            f"{option} {folder}: the folder holds {e.name!r}, which is not a cge output; the folder is "
            f"replaced as a whole, so give a new or empty folder (or one cge wrote)"
        )


def _exchange(a: str, b: str) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False if not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, a.encode(), at_fdcwd, b.encode(), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS):
        return False
    raise OSError(code, os.strerror(code), b)


def _swap_in(tmp: str, folder: Path) -> None:
    """Put the folder ``tmp`` in place of ``folder``; the earlier one (if any) ends up at ``tmp``."""
    try:
        os.rename(tmp, folder)  # no earlier folder (or an empty one)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    if _exchange(tmp, str(folder)):
        return
    old = str(_temp_name(folder))  # no RENAME_EXCHANGE: two renames, the earlier folder kept aside
    os.rename(folder, old)
    os.rename(tmp, folder)
    os.rename(old, tmp)


@contextmanager
def output_folder(folder: str | Path) -> Iterator[Path]:
    """Build a folder of outputs in a temporary folder beside ``folder``, then swap it into place.

    If the block fails or is interrupted, the temporary folder is removed and ``folder`` (an
    earlier run's results) is untouched.
    """
    folder = Path(folder)
    _mkdir(folder.parent)
    clean_leftovers(folder.parent)
    tmp = str(_temp_name(folder))
    _PENDING.add(tmp)
    try:
        try:
            os.mkdir(tmp)
        except OSError as exc:
            raise _output_error(folder, exc) from None
        try:
            yield Path(tmp)
        except OutputError as exc:  # name the folder the user asked for, not the temporary one
            raise OutputError(str(exc).replace(tmp, str(folder))) from None
        with signals_deferred():
            try:
                os.chmod(tmp, 0o777 & ~_umask())
                _swap_in(tmp, folder)
            except OSError as exc:
                raise _output_error(folder, exc) from None
            WRITTEN.append(folder)
    finally:
        _PENDING.discard(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


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
