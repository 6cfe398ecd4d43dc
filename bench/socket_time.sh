#!/usr/bin/env bash
# Carver time and accuracy of `fab plan` on the fixture limb's socket positives:
#   bench/socket_time.sh
# For the limb unmodified and with each socket Rx fixture: the nominal carving time
# (carve-check's run_time_s: every move at its programmed inverse time, rapids at the carver's
# 10 m/min), fab's own estimate (A brought up to speed at each plunge, rapids with acceleration,
# tool changes), and carve-check's rotary figures (radial error on rays from the axis, as Sanders
# et al. measured carved limb models). Needs ../shared/tools/carve-check (rs274, numpy, numba and
# scipy; `scripts/test` prepares its venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check="$root/../shared/tools/carve-check"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && cargo build --release --quiet --bin fab) >&2
fab="$root/target/release/fab"
printf '%-6s %7s %7s %7s %8s %7s %8s %6s %6s\n' rx nom_min est_min gouge MRE IQR vol_pct uncut rapids
for rx in none transtibial-ptb transtibial-tsb; do
  args=()
  [ "$rx" = none ] || args=(--rx "fixtures/rx/$rx.rx")
  json=$(cd "$root" && "$fab" plan fixtures/scans/limb-transtibial.stl "${args[@]}" -o "$work/$rx.nc" --json)
  est=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["estimated_run_time_s"])' "$json")
  finish=$(python3 -c 'import json,sys; print([t["number"] for t in json.loads(sys.argv[1])["tools"] if t["operation"] == "finishing"][0])' "$json")
  "$check" "$work/$rx.nc" "$work/$rx-design.stl" --json --rapid-rate 10000 --finish-tool "$finish" | tail -1 | python3 -c '
import json, sys
v = json.load(sys.stdin)
rx, est = sys.argv[1:3]
print("{:<6} {:7.2f} {:7.2f} {:7.4f} {:8.4f} {:7.4f} {:8.3f} {:6d} {:6d}".format(
    rx[-3:], v["run_time_s"] / 60, float(est) / 60, v["gouge"], v["MRE"], v["IQR"],
    v["volume_error_pct"], v["uncut"], v["rapid_in_stock_samples"]))
' "$rx" "$est"
done
