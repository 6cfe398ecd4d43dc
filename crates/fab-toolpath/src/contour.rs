//! Planar fields on a regular grid and their level lines: the Euclidean distance transform of a
//! mask (how far each node is from the mask's outside) and marching-squares iso-lines (closed
//! loops where a field crosses a level). Roughing offsets its clearing rings from the first,
//! waterline finishing follows the second over the cutter-location surface.
//!
//! A field is sampled at `(x0 + i*step, y0 + j*step)`, `i < nx`, `j < ny`, y-major (`j*nx + i`).
//! Outside the grid, and wherever a value is not finite, the field counts as below every level,
//! so every iso-line is a closed loop.

/// A scalar field on a regular grid.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    pub x0: f64,
    pub y0: f64,
    pub step: f64,
    pub nx: usize,
    pub ny: usize,
    pub v: &'a [f64],
}

impl Field<'_> {
    #[inline]
    pub fn at(&self, i: isize, j: isize) -> f64 {
        if i < 0 || j < 0 || i as usize >= self.nx || j as usize >= self.ny {
            f64::NEG_INFINITY
        } else {
            self.v[j as usize * self.nx + i as usize]
        }
    }

    /// XY of node `(i, j)`.
    #[inline]
    pub fn node(&self, i: isize, j: isize) -> [f64; 2] {
        [
            self.x0 + i as f64 * self.step,
            self.y0 + j as f64 * self.step,
        ]
    }

    /// Bilinear value at `(x, y)`; non-finite where any of the four nodes is.
    pub fn sample(&self, x: f64, y: f64) -> f64 {
        let fx = (x - self.x0) / self.step;
        let fy = (y - self.y0) / self.step;
        let (i, j) = (fx.floor(), fy.floor());
        let (tx, ty) = (fx - i, fy - j);
        let (i, j) = (i as isize, j as isize);
        let a = self.at(i, j);
        let b = self.at(i + 1, j);
        let c = self.at(i, j + 1);
        let d = self.at(i + 1, j + 1);
        if !(a.is_finite() && b.is_finite() && c.is_finite() && d.is_finite()) {
            return f64::NEG_INFINITY;
        }
        (a * (1.0 - tx) + b * tx) * (1.0 - ty) + (c * (1.0 - tx) + d * tx) * ty
    }
}

/// One crossing of an iso-line with a grid edge: where it is, and the edge's two nodes (the
/// first at or above the level, the second below), so a caller can refine it exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Crossing {
    pub at: [f64; 2],
    pub above: [isize; 2],
    pub below: [isize; 2],
}

/// The closed iso-lines of `f` at `level`: loops of crossings, each with the region where
/// `f >= level` on its left (counter-clockwise round a peak, clockwise round a hole). Saddle
/// cells are resolved by the cell's mean value. No repeated closing point.
pub fn iso_lines(f: &Field, level: f64) -> Vec<Vec<Crossing>> {
    let (nx, ny) = (f.nx as isize, f.ny as isize);
    // padded index space: nodes -1..=nx, -1..=ny
    let w = (nx + 2) as usize;
    let edge_id = |i: isize, j: isize, vertical: bool| -> usize {
        (((j + 1) as usize) * w + (i + 1) as usize) * 2 + vertical as usize
    };
    let inside = |i: isize, j: isize| f.at(i, j) >= level;
    // next[e] = the edge the line leaves to after entering at e
    let mut next: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut cross: std::collections::HashMap<usize, Crossing> = std::collections::HashMap::new();
    let crossing = |a: [isize; 2], b: [isize; 2]| -> Crossing {
        let (va, vb) = (f.at(a[0], a[1]), f.at(b[0], b[1]));
        let (above, below) = if va >= level { (a, b) } else { (b, a) };
        let (vu, vd) = if va >= level { (va, vb) } else { (vb, va) };
        let t = if vd.is_finite() && vu.is_finite() && vu > vd {
            ((vu - level) / (vu - vd)).clamp(0.0, 1.0)
        } else {
            0.5
        };
        let pu = f.node(above[0], above[1]);
        let pd = f.node(below[0], below[1]);
        Crossing {
            at: [pu[0] + t * (pd[0] - pu[0]), pu[1] + t * (pd[1] - pu[1])],
            above,
            below,
        }
    };
    for j in -1..ny {
        for i in -1..nx {
            let c = [
                inside(i, j),
                inside(i + 1, j),
                inside(i + 1, j + 1),
                inside(i, j + 1),
            ];
            let n_in = c.iter().filter(|&&b| b).count();
            if n_in == 0 || n_in == 4 {
                continue;
            }
            // the cell's edges counter-clockwise: bottom, right, top (right to left), left (down)
            let corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
            let ids = [
                edge_id(i, j, false),
                edge_id(i + 1, j, true),
                edge_id(i, j + 1, false),
                edge_id(i, j, true),
            ];
            // an edge k runs from corner k to corner k+1 (counter-clockwise)
            let out_edges: Vec<usize> = (0..4).filter(|&k| c[k] && !c[(k + 1) % 4]).collect();
            let in_edges: Vec<usize> = (0..4).filter(|&k| !c[k] && c[(k + 1) % 4]).collect();
            for &k in out_edges.iter().chain(in_edges.iter()) {
                cross
                    .entry(ids[k])
                    .or_insert_with(|| crossing(corners[k], corners[(k + 1) % 4]));
            }
            if out_edges.len() == 1 {
                next.insert(ids[out_edges[0]], ids[in_edges[0]]);
            } else {
                // saddle: inside corners 0 and 2, or 1 and 3
                let mean = [
                    f.at(i, j),
                    f.at(i + 1, j),
                    f.at(i + 1, j + 1),
                    f.at(i, j + 1),
                ];
                let centre_in =
                    mean.iter().all(|v| v.is_finite()) && mean.iter().sum::<f64>() / 4.0 >= level;
                for &k in &out_edges {
                    // centre inside: the line turns to the next in-edge counter-clockwise (the
                    // inside corners joined through the centre); else to the previous one
                    let pick = if centre_in {
                        (1..4).map(|d| (k + d) % 4).find(|e| in_edges.contains(e))
                    } else {
                        (1..4)
                            .map(|d| (k + 4 - d) % 4)
                            .find(|e| in_edges.contains(e))
                    };
                    next.insert(ids[k], ids[pick.expect("a saddle has two in-edges")]);
                }
            }
        }
    }
    let mut loops = Vec::new();
    let mut starts: Vec<usize> = next.keys().copied().collect();
    starts.sort_unstable();
    let mut seen = std::collections::HashSet::new();
    for s in starts {
        if seen.contains(&s) {
            continue;
        }
        let mut lp = Vec::new();
        let mut e = s;
        loop {
            if !seen.insert(e) {
                break;
            }
            lp.push(cross[&e]);
            match next.get(&e) {
                Some(&n) => e = n,
                None => break,
            }
        }
        if lp.len() >= 3 {
            loops.push(lp);
        }
    }
    loops
}

/// The Euclidean distance (mm) from each node of a `nx` x `ny` grid of spacing `step` to the
/// nearest node outside `mask` (0 outside; nodes beyond the grid count as outside).
pub fn distance_inside(mask: &[bool], nx: usize, ny: usize, step: f64) -> Vec<f64> {
    // exact squared distances in node units: Felzenszwalb & Huttenlocher's two 1-D passes, with
    // the grid padded by one outside node on every side
    let (px, py) = (nx + 2, ny + 2);
    let big = ((px * px + py * py) as f64) * 4.0;
    let mut d = vec![big; px * py];
    for j in 0..py {
        for i in 0..px {
            let m = i >= 1 && j >= 1 && i <= nx && j <= ny && mask[(j - 1) * nx + (i - 1)];
            if !m {
                d[j * px + i] = 0.0;
            }
        }
    }
    let mut f = vec![0.0; px.max(py)];
    let mut out = vec![0.0; px.max(py)];
    let mut v = vec![0usize; px.max(py)];
    let mut z = vec![0.0; px.max(py) + 1];
    for j in 0..py {
        f[..px].copy_from_slice(&d[j * px..(j + 1) * px]);
        edt_1d(&f[..px], &mut out[..px], &mut v, &mut z);
        d[j * px..(j + 1) * px].copy_from_slice(&out[..px]);
    }
    for i in 0..px {
        for j in 0..py {
            f[j] = d[j * px + i];
        }
        edt_1d(&f[..py], &mut out[..py], &mut v, &mut z);
        for j in 0..py {
            d[j * px + i] = out[j];
        }
    }
    let mut res = vec![0.0; nx * ny];
    for j in 0..ny {
        for i in 0..nx {
            res[j * nx + i] = d[(j + 1) * px + (i + 1)].sqrt() * step;
        }
    }
    res
}

/// One dimension of the squared distance transform: `out[q] = min_p (q - p)^2 + f[p]`.
fn edt_1d(f: &[f64], out: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    let mut k = 0usize;
    v[0] = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in 1..n {
        let qf = q as f64;
        let mut s;
        loop {
            let p = v[k] as f64;
            s = ((f[q] + qf * qf) - (f[v[k]] + p * p)) / (2.0 * qf - 2.0 * p);
            // z[0] is -inf, so k never goes below 0
            if s <= z[k] {
                k -= 1;
            } else {
                break;
            }
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f64::INFINITY;
    }
    k = 0;
    for (q, o) in out.iter_mut().enumerate().take(n) {
        let qf = q as f64;
        while z[k + 1] < qf {
            k += 1;
        }
        let p = v[k] as f64;
        *o = (qf - p) * (qf - p) + f[v[k]];
    }
}

/// Twice the signed area of a closed polyline (positive counter-clockwise).
pub fn signed_area2(pts: &[[f64; 2]]) -> f64 {
    let n = pts.len();
    (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            a[0] * b[1] - b[0] * a[1]
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disc_field(nx: usize, ny: usize, step: f64, c: [f64; 2], r: f64) -> Vec<f64> {
        let mut v = vec![0.0; nx * ny];
        for j in 0..ny {
            for i in 0..nx {
                let (x, y) = (i as f64 * step, j as f64 * step);
                v[j * nx + i] = r - (x - c[0]).hypot(y - c[1]);
            }
        }
        v
    }

    #[test]
    fn iso_line_of_a_cone_is_a_ccw_circle() {
        let (nx, ny, step) = (81, 61, 0.5);
        let v = disc_field(nx, ny, step, [20.0, 15.0], 10.0);
        let f = Field {
            x0: 0.0,
            y0: 0.0,
            step,
            nx,
            ny,
            v: &v,
        };
        let loops = iso_lines(&f, 0.0);
        assert_eq!(loops.len(), 1);
        let pts: Vec<[f64; 2]> = loops[0].iter().map(|c| c.at).collect();
        for p in &pts {
            let r = (p[0] - 20.0).hypot(p[1] - 15.0);
            assert!((r - 10.0).abs() < 0.02, "{p:?} at {r}");
        }
        // counter-clockwise round the peak, area close to the disc's
        let area = signed_area2(&pts) / 2.0;
        assert!((area - std::f64::consts::PI * 100.0).abs() < 1.0, "{area}");
        // each crossing's nodes straddle the level
        for c in &loops[0] {
            assert!(f.at(c.above[0], c.above[1]) >= 0.0);
            assert!(f.at(c.below[0], c.below[1]) < 0.0);
        }
    }

    #[test]
    fn a_hole_is_clockwise_and_the_grid_edge_closes_loops() {
        let (nx, ny, step) = (41, 41, 1.0);
        // above the level everywhere but a pit in the middle
        let v: Vec<f64> = disc_field(nx, ny, step, [20.0, 20.0], 5.0)
            .iter()
            .map(|d| -d)
            .collect();
        let f = Field {
            x0: 0.0,
            y0: 0.0,
            step,
            nx,
            ny,
            v: &v,
        };
        let loops = iso_lines(&f, 0.0);
        assert_eq!(loops.len(), 2, "the grid's edge and the pit");
        let mut areas: Vec<f64> = loops
            .iter()
            .map(|l| signed_area2(&l.iter().map(|c| c.at).collect::<Vec<_>>()) / 2.0)
            .collect();
        areas.sort_by(f64::total_cmp);
        assert!(areas[0] < 0.0 && (areas[0] + 78.5).abs() < 2.0, "{areas:?}");
        assert!(areas[1] > 1500.0, "{areas:?}");
    }

    #[test]
    fn distance_transform_is_euclidean() {
        let (nx, ny) = (30, 20);
        let mut mask = vec![true; nx * ny];
        mask[10 * nx + 15] = false;
        let d = distance_inside(&mask, nx, ny, 0.5);
        assert_eq!(d[10 * nx + 15], 0.0);
        // 3 right and 4 up of the hole: 5 nodes, 2.5 mm
        assert!((d[14 * nx + 18] - 2.5).abs() < 1e-12);
        // a corner node is one node from the padding outside the grid
        assert!((d[0] - 0.5).abs() < 1e-12);
        // brute force on every node
        for j in 0..ny {
            for i in 0..nx {
                let mut best = f64::MAX;
                for (jj, ii) in [(10isize, 15isize)] {
                    best = best.min(((i as isize - ii).pow(2) + (j as isize - jj).pow(2)) as f64);
                }
                let edge = [i + 1, j + 1, nx - i, ny - j]
                    .into_iter()
                    .map(|k| (k * k) as f64)
                    .fold(f64::MAX, f64::min);
                let want = best.min(edge).sqrt() * 0.5;
                assert!((d[j * nx + i] - want).abs() < 1e-9, "({i},{j})");
            }
        }
    }
}
