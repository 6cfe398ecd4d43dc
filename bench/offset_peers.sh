#!/usr/bin/env bash
# Offset peers side by side on the same input in one run: libigl's offset_surface (grid 256),
# MeshLab's uniform-resampling offset (0.5 mm cells) and `fab mesh offset`; prints time ratios
# and the p99/max distance error of each. Makes its own venv (bench/.venv-offset, PyPI only).
#
#   bench/offset_peers.sh [SCAN.stl SCALE_TO_MM DISTANCE] [--skip-meshlab] [--runs N]
#   bench/offset_peers.sh --scale     # fab on 1.6 M triangles: wall time and peak RSS
# default: fixtures/scans/foot-left-m.stl 1000 3
set -euo pipefail
cd "$(dirname "$0")/.."
venv=bench/.venv-offset
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q libigl pymeshlab numpy
fi
# the build the lab installs (Cargo.toml's release-lto profile), as the peers are installed builds
cargo build --profile release-lto -q --bin fab
fab=target/release-lto/fab
if [ "${1:-}" = "--scale" ]; then
    exec "$venv/bin/python" bench/offset_peers.py "$fab" --scale
fi
scan=${1:-fixtures/scans/foot-left-m.stl}
scale=${2:-1000}
dist=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
"$venv/bin/python" bench/offset_peers.py "$fab" "$scan" "$scale" "$dist" "$@"
