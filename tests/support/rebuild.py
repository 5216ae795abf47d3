"""Rebuilding a built-in dataset in a fresh interpreter with the BLAS kernels it was built with.

OpenBLAS chooses its kernels by CPU (an AVX-512 machine gets SkylakeX's), and the aggregation's
``einsum`` goes through BLAS, whose sums then round differently in the last bit (26 of the default
benchmark's 900 tariff rates differ by 1e-16 relative).  The committed datasets were built with the
Haswell kernels, so a rebuild compared number for number and byte for byte pins them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the environment of a rebuild: OpenBLAS's Haswell kernels on every x86-64 CPU
REBUILD_ENV = {**os.environ, "OPENBLAS_CORETYPE": "Haswell"}


def rebuild(args: list[str]) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` from the repository with :data:`REBUILD_ENV` (output captured)."""
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=REBUILD_ENV)
