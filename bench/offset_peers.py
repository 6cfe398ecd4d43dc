"""Offset peers side by side: libigl offset_surface (grid 256), MeshLab uniform resampling
(0.5 mm cells) and `fab mesh offset`, on the same input, in one run.

Each method runs `--runs N` times (default 3), in rounds (libigl, MeshLab, fab, then again), so
that a busy spell of the shared machine falls on all of them alike; each is timed by its median.
For each: wall time (median, and the range), output triangles, and the distance error
|dist(p, input) - |D|| (exact point-to-mesh distance, libigl's AABB) at the output's vertices,
edge midpoints and triangle centroids: p99 and max. Prints fab's speed-up over each peer twice:
for the whole `fab mesh offset` process (start, load, offset, write and fsync the STL) and for
the offset alone (`offset_seconds` from its `--json`), which is how the peers are timed (a call
on a mesh already in memory).

Usage: offset_peers.py FAB_BINARY SCAN.stl SCALE_TO_MM DISTANCE [--skip-meshlab] [--runs N]
       offset_peers.py FAB_BINARY --scale   (fab alone on both fixture feet split 4-way three
                                             times, 1.6 M triangles: wall time and peak RSS)
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import igl
import numpy as np
import pymeshlab


def read_stl(path):
    v, f = igl.read_triangle_mesh(path)[:2]
    return np.asarray(v, dtype=np.float64), np.asarray(f, dtype=np.int64)


def weld(v, f):
    uniq, inv = np.unique(np.round(v, 9), axis=0, return_inverse=True)
    return uniq, inv.reshape(-1)[f]


def errors(v_in, f_in, v_out, f_out, r):
    tri = v_out[f_out]
    pts = np.concatenate(
        [
            v_out,
            (tri[:, 0] + tri[:, 1]) / 2,
            (tri[:, 1] + tri[:, 2]) / 2,
            (tri[:, 2] + tri[:, 0]) / 2,
            tri.mean(axis=1),
        ]
    )
    d2 = igl.point_mesh_squared_distance(pts, v_in, f_in)[0]
    e = np.abs(np.sqrt(d2) - r)
    return float(np.percentile(e, 99)), float(e.max())


def subdivide(v, f):
    """Every triangle split into four at its (shared) edge midpoints."""
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    uniq, inv = np.unique(e, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    mid = len(v) + inv
    n = len(f)
    ab, bc, ca = mid[:n], mid[n : 2 * n], mid[2 * n :]
    v2 = np.concatenate([v, (v[uniq[:, 0]] + v[uniq[:, 1]]) / 2])
    a, b, c = f[:, 0], f[:, 1], f[:, 2]
    f2 = np.concatenate(
        [np.stack(t, axis=1) for t in ((a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca))]
    )
    return v2, f2


def scale_run(fab):
    vl, fl = weld(*read_stl("fixtures/scans/foot-left-m.stl"))
    vr, fr = weld(*read_stl("fixtures/scans/foot-right-m.stl"))
    v = np.concatenate([vl, vr]) * 1000.0
    f = np.concatenate([fl, fr + len(vl)])
    for _ in range(3):
        v, f = subdivide(v, f)
    tmp = tempfile.mkdtemp(prefix="fab-offset-scale-")
    big = os.path.join(tmp, "feet-subdivided.stl")
    igl.write_triangle_mesh(big, v, f)
    out = os.path.join(tmp, "out.stl")
    print(f"scale: both feet subdivided, {len(f)} triangles, D = 3 mm", flush=True)
    r = subprocess.run(
        ["/usr/bin/time", "-v", fab, "mesh", "offset", big, "--units", "mm", "-d", "3", "-o", out],
        capture_output=True, text=True, check=True, env={**os.environ, "FAB_OFFSET_TRACE": "1"},
    )
    info = {}
    for line in r.stderr.splitlines():
        if ":" in line:
            k, _, val = line.strip().partition(": ")
            info[k.strip()] = val.strip()
    print(r.stdout.strip())
    refined = [l for l in r.stderr.splitlines() if l.startswith("offset: refined")]
    print(f"offset alone (after loading, before writing): {refined[-1].split()[-1] if refined else '?'}")
    print(f"whole process: wall {info.get('Elapsed (wall clock) time (h:mm:ss or m:ss)', '?')}"
          f", user {info.get('User time (seconds)')} s, peak RSS {int(info['Maximum resident set size (kbytes)']) / 1024:.0f} MiB")


def main():
    if "--scale" in sys.argv:
        return scale_run(sys.argv[1])
    fab, scan, scale, d = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    skip_meshlab = "--skip-meshlab" in sys.argv
    v, f = read_stl(scan)
    v, f = weld(v * scale, f)
    tmp = tempfile.mkdtemp(prefix="fab-offset-peers-")
    mm = os.path.join(tmp, "input-mm.stl")
    igl.write_triangle_mesh(mm, v, f)
    print(f"input: {scan} x{scale:g} -> {len(f)} triangles, D = {d} mm", flush=True)
    rows = []

    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    out = os.path.join(tmp, "fab.stl")
    if not skip_meshlab:
        ms = pymeshlab.MeshSet()
        ms.load_new_mesh(mm)
        value = getattr(pymeshlab, "PureValue", None) or pymeshlab.AbsoluteValue
    times = {"igl": [], "meshlab": [], "fab": [], "alone": []}
    for k in range(runs):
        t = time.perf_counter()
        sv, sf = igl.offset_surface(v, f, d, 256, igl.SIGNED_DISTANCE_TYPE_PSEUDONORMAL)[:2]
        times["igl"].append(time.perf_counter() - t)
        if not skip_meshlab:
            ms.set_current_mesh(0)
            t = time.perf_counter()
            ms.generate_resampled_uniform_mesh(
                cellsize=value(0.5), offset=value(d), mergeclosevert=True, discretize=False,
                multisample=False, absdist=False,
            )
            times["meshlab"].append(time.perf_counter() - t)
            m = ms.current_mesh()
            mv, mf = m.vertex_matrix(), m.face_matrix()
            ms.delete_current_mesh()
        t = time.perf_counter()
        r = subprocess.run(
            [fab, "mesh", "offset", mm, "--units", "mm", "-d", str(d), "-o", out, "--json"],
            check=True, capture_output=True, text=True,
        )
        times["fab"].append(time.perf_counter() - t)
        times["alone"].append(json.loads(r.stdout)["offset_seconds"])
        print(f"  round {k + 1}/{runs}: libigl {times['igl'][-1]:.2f} s"
              + (f", MeshLab {times['meshlab'][-1]:.2f} s" if not skip_meshlab else "")
              + f", fab {times['fab'][-1]:.3f} s (offset alone {times['alone'][-1]:.3f} s)",
              flush=True)
    med = {k: statistics.median(x) for k, x in times.items() if x}
    rows.append(("libigl offset_surface s=256", "igl", sv, sf))
    if not skip_meshlab:
        rows.append(("MeshLab uniform resampling 0.5 mm", "meshlab", mv, mf))
    fv, ff = weld(*read_stl(out))
    rows.append(("fab mesh offset (load+offset+write)", "fab", fv, ff))

    print(f"\nmedian of {runs} runs each (min-max in brackets)")
    print(f"{'method':40} {'seconds':>8} {'(range)':>15} {'triangles':>10} {'p99 err':>9} {'max err':>9}")
    for name, key, sv, sf in rows:
        p99, mx = errors(v, f, np.asarray(sv), np.asarray(sf, dtype=np.int64), abs(d))
        span = f"({min(times[key]):.3f}-{max(times[key]):.3f})"
        print(f"{name:40} {med[key]:8.3f} {span:>15} {len(sf):10d} {p99:9.4f} {mx:9.4f}")
    span = f"({min(times['alone']):.3f}-{max(times['alone']):.3f})"
    print(f"{'  of which the offset alone':40} {med['alone']:8.3f} {span:>15}")
    for name, key, _, _ in rows[:-1]:
        print(f"fab is {med[key] / med['fab']:.1f}x faster than {name} (whole fab process: start, "
              f"load, offset, write and fsync the STL)")
        print(f"fab is {med[key] / med['alone']:.1f}x faster than {name} (offset alone, timed as "
              f"the peer is: the mesh in memory, no file written)")

if __name__ == "__main__":
    main()
