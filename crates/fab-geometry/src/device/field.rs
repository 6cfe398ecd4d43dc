//! Fields on a regular XY grid, the device's working representation: the foot's plantar height
//! seen from below, masks of where the device is, exact Euclidean distance transforms and the
//! morphology built on them, and the lower envelope of balls (the plantar surface offset down).
//!
//! All in flat `Vec`s indexed `i + j * nx` (node `(i, j)` at `(x0 + i h, y0 + j h)`).

use crate::mesh::Mesh;

/// A regular grid of nodes over a rectangle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    pub x0: f64,
    pub y0: f64,
    pub h: f64,
    pub nx: usize,
    pub ny: usize,
}

impl Grid {
    /// The grid with step `h` covering `[xmin, xmax] x [ymin, ymax]`.
    pub fn covering(xmin: f64, ymin: f64, xmax: f64, ymax: f64, h: f64) -> Grid {
        Grid {
            x0: xmin,
            y0: ymin,
            h,
            nx: ((xmax - xmin) / h).ceil() as usize + 1,
            ny: ((ymax - ymin) / h).ceil() as usize + 1,
        }
    }

    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn x(&self, i: usize) -> f64 {
        self.x0 + i as f64 * self.h
    }

    pub fn y(&self, j: usize) -> f64 {
        self.y0 + j as f64 * self.h
    }

    /// Bilinear interpolation of `f` at `(x, y)` (clamped to the grid).
    pub fn sample(&self, f: &[f64], x: f64, y: f64) -> f64 {
        let u = ((x - self.x0) / self.h).clamp(0.0, (self.nx - 1) as f64);
        let v = ((y - self.y0) / self.h).clamp(0.0, (self.ny - 1) as f64);
        let (i, j) = (
            (u.floor() as usize).min(self.nx.saturating_sub(2)),
            (v.floor() as usize).min(self.ny.saturating_sub(2)),
        );
        let (s, t) = (u - i as f64, v - j as f64);
        let at = |i: usize, j: usize| f[i + j * self.nx];
        let (a, b, c, d) = (at(i, j), at(i + 1, j), at(i, j + 1), at(i + 1, j + 1));
        (a * (1.0 - s) + b * s) * (1.0 - t) + (c * (1.0 - s) + d * s) * t
    }
}

/// The lowest Z of `mesh` above each node (the plantar surface seen from below): every
/// triangle's plane at the nodes inside its XY projection, the least kept; `+inf` where the
/// mesh does not pass over a node.
pub fn lowest(mesh: &Mesh, g: &Grid) -> Vec<f64> {
    let mut z = vec![f64::INFINITY; g.len()];
    for t in 0..mesh.triangles.len() {
        let [a, b, c] = mesh.triangle(t);
        let det = (b.x - a.x) * (c.y - a.y) - (c.x - a.x) * (b.y - a.y);
        if det.abs() < 1e-12 {
            continue; // seen edge-on from below: its neighbours carry the surface
        }
        let (xmin, xmax) = (a.x.min(b.x).min(c.x), a.x.max(b.x).max(c.x));
        let (ymin, ymax) = (a.y.min(b.y).min(c.y), a.y.max(b.y).max(c.y));
        let i0 = ((xmin - g.x0) / g.h).ceil().max(0.0) as usize;
        let i1 = ((xmax - g.x0) / g.h).floor();
        let j0 = ((ymin - g.y0) / g.h).ceil().max(0.0) as usize;
        let j1 = ((ymax - g.y0) / g.h).floor();
        if i1 < 0.0 || j1 < 0.0 {
            continue;
        }
        let (i1, j1) = ((i1 as usize).min(g.nx - 1), (j1 as usize).min(g.ny - 1));
        for j in j0..=j1 {
            let y = g.y(j);
            for i in i0..=i1 {
                let x = g.x(i);
                // barycentric coordinates of (x, y)
                let l1 = ((x - a.x) * (c.y - a.y) - (c.x - a.x) * (y - a.y)) / det;
                let l2 = ((b.x - a.x) * (y - a.y) - (x - a.x) * (b.y - a.y)) / det;
                let l0 = 1.0 - l1 - l2;
                const EPS: f64 = -1e-9;
                if l0 >= EPS && l1 >= EPS && l2 >= EPS {
                    let zz = l0 * a.z + l1 * b.z + l2 * c.z;
                    let k = i + j * g.nx;
                    if zz < z[k] {
                        z[k] = zz;
                    }
                }
            }
        }
    }
    z
}

/// The lower envelope of balls of radius `r` centred on the height field `z` (`+inf`: no
/// surface): at each node the lowest point of any ball centred on a node within `r`, i.e. the
/// surface moved down by `r` along its normals, the true offset of the sampled surface.
pub fn envelope_below(z: &[f64], g: &Grid, r: f64) -> Vec<f64> {
    if r <= 0.0 {
        return z.to_vec();
    }
    let k = (r / g.h).floor() as isize;
    // the disc's offsets and depths, once
    let mut disc: Vec<(isize, isize, f64)> = Vec::new();
    for dj in -k..=k {
        for di in -k..=k {
            let d2 = ((di * di + dj * dj) as f64) * g.h * g.h;
            if d2 <= r * r {
                disc.push((di, dj, (r * r - d2).sqrt()));
            }
        }
    }
    let (nx, ny) = (g.nx as isize, g.ny as isize);
    let mut out = vec![f64::INFINITY; z.len()];
    for j in 0..ny {
        for i in 0..nx {
            let mut best = f64::INFINITY;
            for &(di, dj, depth) in &disc {
                let (ii, jj) = (i + di, j + dj);
                if ii < 0 || jj < 0 || ii >= nx || jj >= ny {
                    continue;
                }
                let zz = z[(ii + jj * nx) as usize];
                if zz.is_finite() {
                    best = best.min(zz - depth);
                }
            }
            // a node the surface does not pass over stays without surface
            if z[(i + j * nx) as usize].is_finite() {
                out[(i + j * nx) as usize] = best;
            }
        }
    }
    out
}

/// Squared distance from each node to the nearest node of `mask` (in mm², `+inf` if the mask is
/// empty): Felzenszwalb and Huttenlocher's exact transform, a lower envelope of parabolas along
/// the rows, then along the columns.
pub fn distance2(mask: &[bool], g: &Grid) -> Vec<f64> {
    let (nx, ny) = (g.nx, g.ny);
    let mut f: Vec<f64> = mask
        .iter()
        .map(|&m| if m { 0.0 } else { f64::INFINITY })
        .collect();
    let n = nx.max(ny);
    let mut line = vec![0.0; n];
    let mut out = vec![0.0; n];
    let mut v = vec![0usize; n];
    let mut zz = vec![0.0; n + 1];
    for j in 0..ny {
        for i in 0..nx {
            line[i] = f[i + j * nx];
        }
        transform_1d(&line[..nx], &mut out[..nx], &mut v, &mut zz);
        for i in 0..nx {
            f[i + j * nx] = out[i];
        }
    }
    for i in 0..nx {
        for j in 0..ny {
            line[j] = f[i + j * nx];
        }
        transform_1d(&line[..ny], &mut out[..ny], &mut v, &mut zz);
        for j in 0..ny {
            f[i + j * nx] = out[j] * g.h * g.h;
        }
    }
    f
}

/// One dimension of [`distance2`], in grid steps: `out[q] = min_p (q - p)² + f[p]`.
fn transform_1d(f: &[f64], out: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    let mut k = 0usize;
    let first = (0..n).find(|&p| f[p].is_finite());
    let Some(first) = first else {
        out.iter_mut().for_each(|o| *o = f64::INFINITY);
        return;
    };
    v[0] = first;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in first + 1..n {
        if !f[q].is_finite() {
            continue;
        }
        // z[0] is -inf, so the search stops at k = 0 at the latest
        let mut s;
        loop {
            let p = v[k];
            s = ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64)) / (2.0 * (q - p) as f64);
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
    let mut k = 0usize;
    for (q, o) in out.iter_mut().enumerate() {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        let d = q as f64 - p as f64;
        *o = d * d + f[p];
    }
}

/// The nodes within `r` of `mask`.
pub fn dilate(mask: &[bool], g: &Grid, r: f64) -> Vec<bool> {
    distance2(mask, g).iter().map(|&d| d <= r * r).collect()
}

/// The nodes farther than `r` from every node outside `mask`.
pub fn erode(mask: &[bool], g: &Grid, r: f64) -> Vec<bool> {
    let outside: Vec<bool> = mask.iter().map(|m| !m).collect();
    distance2(&outside, g).iter().map(|&d| d > r * r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(mask: &[bool], g: &Grid) -> Vec<f64> {
        (0..g.len())
            .map(|k| {
                let (i, j) = (k % g.nx, k / g.nx);
                (0..g.len())
                    .filter(|&m| mask[m])
                    .map(|m| {
                        let (a, b) = (m % g.nx, m / g.nx);
                        let (dx, dy) = (g.x(i) - g.x(a), g.y(j) - g.y(b));
                        dx * dx + dy * dy
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect()
    }

    #[test]
    fn distance_transform_is_exact() {
        let g = Grid::covering(0.0, 0.0, 9.5, 6.0, 0.5);
        let mut state = 12345u64;
        for _ in 0..5 {
            let mask: Vec<bool> = (0..g.len())
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    (state >> 33).is_multiple_of(17)
                })
                .collect();
            let fast = distance2(&mask, &g);
            let slow = brute(&mask, &g);
            for (a, b) in fast.iter().zip(&slow) {
                assert!((a - b).abs() < 1e-9 || (a.is_infinite() && b.is_infinite()));
            }
        }
    }

    #[test]
    fn lowest_of_a_tilted_square() {
        // two triangles over [0, 10]², z = x / 10 + 1, and a higher copy that must not win
        let mut vs = Vec::new();
        let mut ts = Vec::new();
        for dz in [0.0, 5.0] {
            let o = vs.len() as u32;
            for (x, y) in [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)] {
                vs.push(nalgebra::Point3::new(x, y, x / 10.0 + 1.0 + dz));
            }
            ts.push([o, o + 1, o + 2]);
            ts.push([o, o + 2, o + 3]);
        }
        let m = Mesh::new(vs, ts);
        let g = Grid::covering(-2.0, -2.0, 12.0, 12.0, 0.5);
        let z = lowest(&m, &g);
        for j in 0..g.ny {
            for i in 0..g.nx {
                let (x, y) = (g.x(i), g.y(j));
                let k = i + j * g.nx;
                if (0.0..=10.0).contains(&x) && (0.0..=10.0).contains(&y) {
                    assert!((z[k] - (x / 10.0 + 1.0)).abs() < 1e-9);
                } else {
                    assert!(z[k].is_infinite());
                }
            }
        }
        // a flat plate moved down by r: by exactly r inside, rounding off at the edge
        let env = envelope_below(&z, &g, 3.0);
        let k = 12 + 12 * g.nx; // (4, 4)
        assert!((env[k] - (z[k] - 3.0 * (1.0f64 + 0.01).sqrt())).abs() < 0.02);
    }
}
