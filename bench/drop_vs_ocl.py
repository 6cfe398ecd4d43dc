#!/usr/bin/env python3
"""fab drop vs OpenCAMLib's BatchDropCutter: same mesh, same grid, same cutter.

For each cutter it runs `fab drop FILE --tool T --step S --json` (a child process), reads its CSV,
then OpenCAMLib's BatchDropCutter on the same triangles (scaled to mm as fab decided) and the same
grid points, and prints max |z_fab - z_ocl| and the time ratio. OpenCAMLib's conventions are
matched to fab's: its cutters take the diameter (BullCutter: diameter, corner radius, length); a CL
point's Z only ever rises from the Z it starts at, so points start far below the mesh and those
that no triangle touched (still at the start Z) get the mesh's minimum Z, as `fab drop` does.

With --big N it also subdivides every triangle into N*N (N=9: 1.03 M triangles on a foot), writes
that STL in mm and times `fab drop` on it at --big-step (0.25 mm), with the child's peak RSS.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import opencamlib as ocl

UNIT_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4}


def read_stl(path):
    """Triangles as an (n, 3, 3) float64 array, in the file's units (binary or ASCII STL)."""
    data = open(path, "rb").read()
    if len(data) >= 84:
        n = int.from_bytes(data[80:84], "little")
        if 84 + 50 * n == len(data):
            rec = np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
            return np.frombuffer(data, rec, count=n, offset=84)["v"].astype(np.float64)
    verts = [
        [float(c) for c in line.split()[1:4]]
        for line in data.decode("ascii", "replace").splitlines()
        if line.strip().startswith("vertex")
    ]
    return np.array(verts, dtype=np.float64).reshape(-1, 3, 3)


def write_stl_mm(path, tris):
    rec = np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    arr = np.zeros(len(tris), dtype=rec)
    arr["v"] = tris.astype(np.float32)
    with open(path, "wb") as f:
        f.write(b"fab drop_vs_ocl subdivided".ljust(80, b" "))
        f.write(len(tris).to_bytes(4, "little"))
        f.write(arr.tobytes())


def subdivide(tris, n):
    """Each triangle into n*n similar ones (barycentric lattice)."""
    a, b, c = tris[:, 0], tris[:, 1], tris[:, 2]
    out = []
    for i in range(n):
        for j in range(n - i):
            p = lambda u, v: a + (b - a) * (u / n) + (c - a) * (v / n)
            out.append(np.stack([p(i, j), p(i + 1, j), p(i, j + 1)], axis=1))
            if i + j < n - 1:
                out.append(np.stack([p(i + 1, j), p(i + 1, j + 1), p(i, j + 1)], axis=1))
    return np.concatenate(out)


def run_fab(fab, stl, tool, step, units, out_csv, repeat=1):
    """Runs fab drop `repeat` times; returns the summary and process wall time of the median
    run (by drop time), so one busy moment on a shared machine does not decide the ratio."""
    cmd = [fab, "drop", stl, "--tool", tool, "--step", str(step), "--units", units,
           "-o", out_csv, "--json"]
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if res.returncode != 0:
            sys.exit(f"fab drop failed ({res.returncode}): {res.stderr}")
        runs.append((json.loads(res.stdout), wall))
    runs.sort(key=lambda r: r[0]["drop_seconds"])
    return runs[len(runs) // 2]


def run_ocl(tris_mm, tool, xs, ys, zstart, threads):
    kind, *dims = tool.split(":")
    dims = [float(d) for d in dims]
    length = 500.0
    if kind == "ball":
        cutter = ocl.BallCutter(dims[0], length)
    elif kind == "flat":
        cutter = ocl.CylCutter(dims[0], length)
    else:
        cutter = ocl.BullCutter(dims[0], dims[1], length)
    surf = ocl.STLSurf()
    for t in tris_mm:
        surf.addTriangle(ocl.Triangle(*(ocl.Point(*map(float, v)) for v in t)))
    bdc = ocl.BatchDropCutter()
    bdc.setSTL(surf)
    bdc.setCutter(cutter)
    bdc.setThreads(threads)
    for y in ys:
        for x in xs:
            bdc.appendPoint(ocl.CLPoint(float(x), float(y), zstart))
    t0 = time.perf_counter()
    bdc.run()
    secs = time.perf_counter() - t0
    z = np.array([p.z for p in bdc.getCLPoints()])
    return z, secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stl")
    ap.add_argument("--fab", default="target/release/fab")
    ap.add_argument("--step", type=float, default=0.5)
    ap.add_argument("--units", default="auto")
    ap.add_argument("--tools", default="ball:6,flat:10,bull:12:2")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=5, help="fab runs per cutter (median taken)")
    ap.add_argument("--big", type=int, default=0, help="also time a subdivided mesh (N*N per triangle)")
    ap.add_argument("--big-step", type=float, default=0.25)
    args = ap.parse_args()

    raw = read_stl(args.stl)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for tool in args.tools.split(","):
            out_csv = os.path.join(tmp, "cl.csv")
            summary, fab_wall = run_fab(args.fab, args.stl, tool, args.step, args.units, out_csv,
                                        args.repeat)
            fab_z = np.loadtxt(out_csv, delimiter=",", skiprows=1)[:, 2]
            tris = raw * UNIT_MM[summary["units"]]
            zmin = tris[:, :, 2].min()
            nx, ny, step = summary["nx"], summary["ny"], summary["step"]
            # The same float64 grid coordinates as fab's (x0 + i * step).
            xs = summary["x0"] + np.arange(nx) * step
            ys = summary["y0"] + np.arange(ny) * step
            zstart = zmin - 1.0e4
            ocl_z, ocl_secs = run_ocl(tris, tool, xs, ys, zstart, args.threads)
            ocl_z = np.where(ocl_z == zstart, zmin, ocl_z)
            diff = np.abs(fab_z - ocl_z)
            k = int(np.argmax(diff))
            worst = max(worst, diff[k])
            print(
                f"{tool:>10}: {nx}x{ny}={nx*ny} points, {len(tris)} triangles | "
                f"max |fab - ocl| = {diff[k]:.2e} mm (at x={xs[k % nx]:.3f} y={ys[k // nx]:.3f}), "
                f"points > 0.001 mm: {int((diff > 1e-3).sum())} | "
                f"OCL {ocl_secs:.3f} s, fab drop (median of {args.repeat}) {summary['drop_seconds']:.4f} s "
                f"(process {fab_wall:.3f} s) | ratio {ocl_secs / summary['drop_seconds']:.0f}x kernel, "
                f"{ocl_secs / fab_wall:.1f}x process",
                flush=True,
            )
        if args.big:
            big = subdivide(raw * UNIT_MM[summary["units"]], args.big)
            path = os.path.join(tmp, "big.stl")
            write_stl_mm(path, big)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            summary, wall = run_fab(args.fab, path, "ball:6", args.big_step, "mm",
                                    os.path.join(tmp, "big.csv"))
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print(
                f"big: {summary['triangles']} triangles, {summary['points']} points at "
                f"{args.big_step} mm, ball:6 | fab drop {summary['drop_seconds']:.3f} s, "
                f"process {wall:.2f} s, peak RSS {rss / 1024:.0f} MiB"
                + ("" if rss > before else " (peak of an earlier child)"),
                flush=True,
            )
    print(f"worst max |diff| over all cutters: {worst:.2e} mm -> "
          + ("PASS (<= 0.001 mm)" if worst <= 1e-3 else "FAIL (> 0.001 mm)"))
    return 0 if worst <= 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
