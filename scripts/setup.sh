#!/usr/bin/env bash
# Installs everything the package needs on a Debian/Ubuntu machine that reaches PyPI and Debian's
# packages: the system libraries for the solver, a virtual environment .venv holding the package
# (editable, with test extras) and its dependencies, and PyNumero's ASL library, which Pyomo's
# `cyipopt` solver interface needs, and the small reader of model files that cge's Newton solver
# uses. Idempotent: a second run only checks.
# Usage: bash scripts/setup.sh        (then .venv/bin/cge ..., or: source .venv/bin/activate)
# PYTHON=/path/to/python picks the interpreter the venv is made from (3.10 or newer).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_PY=${PYTHON:-python3}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  echo "setup: need root (or sudo) to run: $*" >&2; exit 1; fi; }

# 1. system packages: a C++ toolchain, cmake and the AMPL solver library (ASL) headers
need=()
for p in g++ cmake libamplsolver-dev; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
$BASE_PY -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 2. a virtual environment with the package, its dependencies (Pyomo, cyipopt-wheels = Ipopt 3.14
#    with MUMPS and OpenBLAS bundled) and pytest
[ -x .venv/bin/python ] || { echo "setup: creating .venv"; $BASE_PY -m venv .venv; }
PY=.venv/bin/python
echo "setup: installing the cge package and its Python dependencies into .venv"
$PY -m pip install -q --disable-pip-version-check -e ".[dev]"

# 3. PyNumero's ASL interface (pyomo build-extensions would clone from GitHub; this builds offline)
if ! $PY -c "from pyomo.contrib.pynumero.asl import AmplInterface as A; import sys; sys.exit(0 if A.available() else 1)" 2>/dev/null; then
  echo "setup: building PyNumero's ASL library"
  $PY -m pyomo.contrib.pynumero.build \
      -DASL_INCLUDE_DIR=/usr/include/ampl-netlib-solvers \
      -DASL_LIBRARY="$(dpkg -L libamplsolver-dev | grep -m1 'libamplsolver.so$')" >/tmp/pynumero-build.log 2>&1 \
    || { echo "setup: PyNumero build failed, see /tmp/pynumero-build.log" >&2; exit 1; }
fi
# 4. cge's own reader of model files for its Newton solver (cge/solve/_asl/cge_asl.c, a few lines of C)
if [ ! cge/solve/_asl/libcge_asl.so -nt cge/solve/_asl/cge_asl.c ]; then
  echo "setup: building cge's ASL reader"
  $PY -c "from pathlib import Path; from cge.solve.newton import build_library; build_library(Path('cge/solve/_asl/libcge_asl.so'))"
fi
$PY -c "from cge.solve import available; s = available(); assert s, 'no solver'; print('setup: solver ready:', ', '.join(s))"
