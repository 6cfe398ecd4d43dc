#!/usr/bin/env bash
# fab drop vs OpenCAMLib BatchDropCutter: exactness (max |diff| per cutter) and time ratio, on the
# same mesh, grid and cutters. Usage: bench/drop_vs_ocl.sh [STL] [extra args for drop_vs_ocl.py]
# Default: fixtures/scans/foot-left-m.stl (metres, fab decides mm), 0.5 mm grid, ball:6, flat:10,
# bull:12:2, plus the 1 M-triangle subdivided foot at 0.25 mm (--big 9).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench/.venv-ocl
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q opencamlib numpy
fi
cargo build --release --bin fab >&2
stl=${1:-fixtures/scans/foot-left-m.stl}
shift || true
if [ $# -eq 0 ]; then set -- --big 9; fi
exec "$venv/bin/python" bench/drop_vs_ocl.py "$stl" "$@"
