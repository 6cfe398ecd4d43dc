#!/usr/bin/env bash
# Router time and accuracy of `fab plan` on orthoses milled directly (EVA):
#   bench/orthosis_time.sh
# For each EVA Rx fixture (a single device of each extension, and the bilateral pair nested on
# one block): the nominal milling time (carve-check's run_time_s: every feed at its rate, rapids
# at 15 m/min), fab's own estimate (acceleration, tool changes), the blank, and carve-check's
# figures against the design (gouge, MRE, path MRE and IQR against what the 12 mm ball can
# reach, uncut cells, rapids through stock), with the blank's top (Z0) as the stock's top.
# Needs ../shared/tools/carve-check (rs274, numpy, numba; `scripts/test` prepares its venv).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check="$root/../shared/tools/carve-check"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && cargo build --release --quiet --bin fab) >&2
fab="$root/target/release/fab"
printf '%-22s %7s %7s %-20s %7s %7s %8s %8s %6s %6s\n' rx nom_min est_min blank_mm gouge MRE pathMRE pathIQR uncut rapids
for spec in "eva-left-metatarsal:foot-left-m" "eva-right-toes-valgus:foot-right-m" \
            "foot-left-eva:foot-left-m" "eva-pair-sulcus-varus:foot-left-m foot-right-m"; do
  rx=${spec%%:*}
  scans=()
  for s in ${spec#*:}; do scans+=("fixtures/scans/$s.stl"); done
  json=$(cd "$root" && "$fab" plan "${scans[@]}" --rx "fixtures/rx/$rx.rx" -o "$work/$rx.nc" --json)
  est=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["estimated_run_time_s"])' "$json")
  blank=$(python3 -c 'import json,sys; print("x".join("%.0f" % v for v in json.loads(sys.argv[1])["blank_mm"]))' "$json")
  "$check" "$work/$rx.nc" "$work/$rx-design.stl" --json --stock-top 0 | tail -1 | python3 -c '
import json, sys
v = json.load(sys.stdin)
rx, est, blank = sys.argv[1:4]
print("{:<22} {:7.2f} {:7.2f} {:<20} {:7.4f} {:7.4f} {:8.4f} {:8.4f} {:6d} {:6d}".format(
    rx, v["run_time_s"] / 60, float(est) / 60, blank, v["gouge"], v["MRE"], v["path_MRE"],
    v["path_IQR"], v["uncut"], v["rapid_in_stock_samples"]))
' "$rx" "$est" "$blank"
done
