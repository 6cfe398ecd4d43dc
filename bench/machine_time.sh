#!/usr/bin/env bash
# Router time and accuracy of `fab plan` on the fixture feet, in one run:
#   bench/machine_time.sh [REV]
# For each foot: the nominal run time (carve-check's run_time_s: every feed at its programmed
# rate, rapids at 15 m/min, no acceleration), fab's own estimate (acceleration, tool changes), and
# carve-check's accuracy figures. With REV (a git revision, e.g. a commit before a change) the same
# figures are printed for that revision too, built in a temporary worktree, so a gain is shown
# side by side. Needs ../shared/tools/carve-check (LinuxCNC's rs274 and numpy, installed on first
# use).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check="$root/../shared/tools/carve-check"
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

build() { # DIR -> path of its release fab
  (cd "$1" && cargo build --release --quiet --bin fab) >&2
  echo "$1/target/release/fab"
}

figures() { # LABEL FAB
  local label=$1 fab=$2
  for foot in foot-left-m foot-right-m; do
    local out="$work/$label-$foot"
    mkdir -p "$out"
    local est
    est=$(cd "$root" && "$fab" plan "fixtures/scans/$foot.stl" -o "$out/p.nc" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["estimated_run_time_s"])')
    "$check" "$out/p.nc" "$out/p-design.stl" --json | tail -1 | python3 -c '
import json, sys
v = json.load(sys.stdin)
label, foot, est = sys.argv[1:4]
print("{:<10} {:<13} {:7.2f} {:7.2f} {:7.4f} {:8.4f} {:8.4f} {:7.4f} {:6d} {:6d}".format(
    label, foot, v["run_time_s"] / 60, float(est) / 60, v["gouge"], v["path_MRE"],
    v["path_IQR"], v["IQR"], v["uncut"], v["rapid_in_stock_samples"]))
' "$label" "$foot" "$est"
  done
}

printf '%-10s %-13s %7s %7s %7s %8s %8s %7s %6s %6s\n' code foot nom_min est_min gouge path_MRE path_IQR IQR uncut rapids
if [ $# -ge 1 ]; then
  git -C "$root" worktree add --detach "$work/base" "$1" >/dev/null 2>&1
  # share the build cache's dependencies: only fab's own crates rebuild
  mkdir -p "$work/base/target" && cp -r "$root/target/release" "$work/base/target/" 2>/dev/null || true
  figures "$(git -C "$root" rev-parse --short "$1")" "$(build "$work/base")"
fi
figures "$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . ':!bench' || echo +)" "$(build "$root")"
