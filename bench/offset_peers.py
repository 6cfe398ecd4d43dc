"""Offset peers side by side: libigl offset_surface (grid 256), MeshLab uniform resampling
(0.5 mm cells) and `fab mesh offset`, on the same input, in one run.

For each: wall time, output triangles, and the distance error |dist(p, input) - |D||
(exact point-to-mesh distance, libigl's AABB) at the output's vertices, edge midpoints and
triangle centroids: p99 and max. Prints fab's speed-up over each peer twice: for the whole `fab mesh offset` process (start,
load, offset, write and fsync the STL) and for the offset alone (`offset_seconds` from its
`--json`), which is how the peers are timed (a call on a mesh already in memory).

Usage: offset_peers.py FAB_BINARY SCAN.stl SCALE_TO_MM DISTANCE [--skip-meshlab]
       offset_peers.py FAB_BINARY --scale   (fab alone on both fixture feet split 4-way three
                                             times, 1.6 M triangles: wall time and peak RSS)
"""

import json
import os
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

    t = time.perf_counter()
    sv, sf = igl.offset_surface(v, f, d, 256, igl.SIGNED_DISTANCE_TYPE_PSEUDONORMAL)[:2]
    rows.append(("libigl offset_surface s=256", time.perf_counter() - t, sv, sf))
    print(f"  libigl done ({rows[-1][1]:.2f} s)", flush=True)

    if not skip_meshlab:
        ms = pymeshlab.MeshSet()
        ms.load_new_mesh(mm)
        value = getattr(pymeshlab, "PureValue", None) or pymeshlab.AbsoluteValue
        t = time.perf_counter()
        ms.generate_resampled_uniform_mesh(
            cellsize=value(0.5), offset=value(d), mergeclosevert=True, discretize=False,
            multisample=False, absdist=False,
        )
        el = time.perf_counter() - t
        m = ms.current_mesh()
        rows.append(("MeshLab uniform resampling 0.5 mm", el, m.vertex_matrix(), m.face_matrix()))
        print(f"  MeshLab done ({el:.2f} s)", flush=True)

    out = os.path.join(tmp, "fab.stl")
    t = time.perf_counter()
    r = subprocess.run(
        [fab, "mesh", "offset", mm, "--units", "mm", "-d", str(d), "-o", out, "--json"],
        check=True, capture_output=True, text=True,
    )
    el = time.perf_counter() - t
    alone = json.loads(r.stdout)["offset_seconds"]
    fv, ff = weld(*read_stl(out))
    rows.append(("fab mesh offset (load+offset+write)", el, fv, ff))

    print(f"\n{'method':40} {'seconds':>8} {'triangles':>10} {'p99 err':>9} {'max err':>9}")
    for name, el, sv, sf in rows:
        p99, mx = errors(v, f, np.asarray(sv), np.asarray(sf, dtype=np.int64), abs(d))
        print(f"{name:40} {el:8.3f} {len(sf):10d} {p99:9.4f} {mx:9.4f}")
    print(f"{'  of which the offset alone':40} {alone:8.3f}")
    fab_t = rows[-1][1]
    for name, el, _, _ in rows[:-1]:
        print(f"fab is {el / fab_t:.1f}x faster than {name} (whole fab process: start, load, "
              f"offset, write and fsync the STL)")
        print(f"fab is {el / alone:.1f}x faster than {name} (offset alone, timed as the peer is: "
              f"the mesh in memory, no file written)")


if __name__ == "__main__":
    main()
