//! Drop-cutter at arbitrary XY points (refining a path between CL points): triangles bucketed in
//! a uniform XY grid, each bucket listing (highest first) the triangles whose bounding box grown
//! by the cutter radius overlaps it. A query walks one bucket and stops as soon as the remaining
//! triangles are all lower than the Z already found.

use super::contact::{PreparedTriangle, Profile, Shape, with_profile};
use crate::cutter::Cutter;

/// Triangles bucketed for point drop-cutter queries with one cutter.
#[derive(Clone, Debug)]
pub struct DropIndex {
    tris: Vec<[[f64; 3]; 3]>,
    /// Highest vertex Z of each triangle.
    zmax: Vec<f64>,
    shape: Shape,
    cutter: Cutter,
    x0: f64,
    y0: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    /// Bucket b lists `items[start[b]..start[b + 1]]`.
    start: Vec<u32>,
    items: Vec<u32>,
}

/// Buckets along the longer side at most (memory stays proportional to the triangles).
const MAX_BUCKETS_PER_SIDE: f64 = 4096.0;

impl DropIndex {
    /// Indexes `tris` (mm) for drops of `cutter`. Triangles with non-finite coordinates are
    /// ignored.
    pub fn new(tris: &[[[f64; 3]; 3]], cutter: Cutter) -> Self {
        let shape = Shape::of(&cutter);
        let radius = cutter.radius();
        let mut order: Vec<u32> = (0..tris.len() as u32)
            .filter(|&k| tris[k as usize].iter().flatten().all(|c| c.is_finite()))
            .collect();
        let zmax: Vec<f64> = tris
            .iter()
            .map(|t| t[0][2].max(t[1][2]).max(t[2][2]))
            .collect();
        order.sort_unstable_by(|&a, &b| zmax[b as usize].total_cmp(&zmax[a as usize]));

        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        let mut edge_sum = 0.0;
        for &k in &order {
            let t = &tris[k as usize];
            for v in t {
                for a in 0..2 {
                    lo[a] = lo[a].min(v[a]);
                    hi[a] = hi[a].max(v[a]);
                }
            }
            edge_sum += (t[1][0] - t[0][0]).hypot(t[1][1] - t[0][1]);
        }
        let mut index = DropIndex {
            tris: Vec::new(),
            zmax: Vec::new(),
            shape,
            cutter,
            x0: 0.0,
            y0: 0.0,
            cell: 1.0,
            nx: 0,
            ny: 0,
            start: vec![0],
            items: Vec::new(),
        };
        if order.is_empty() {
            return index;
        }
        // Buckets about the size of the cutter or of a typical triangle, whichever is larger.
        let mean_edge = edge_sum / order.len() as f64;
        let span = (hi[0] - lo[0]).max(hi[1] - lo[1]) + 2.0 * radius;
        let cell = radius
            .max(mean_edge)
            .max(span / MAX_BUCKETS_PER_SIDE)
            .max(1e-6);
        index.x0 = lo[0] - radius;
        index.y0 = lo[1] - radius;
        index.cell = cell;
        index.nx = ((hi[0] - lo[0] + 2.0 * radius) / cell).floor() as usize + 1;
        index.ny = ((hi[1] - lo[1] + 2.0 * radius) / cell).floor() as usize + 1;

        let cells = |t: &[[f64; 3]; 3]| {
            let g = radius + 1e-9;
            let b =
                |v: f64, o: f64, n: usize| (((v - o) / cell).floor().max(0.0) as usize).min(n - 1);
            let xmin = t[0][0].min(t[1][0]).min(t[2][0]) - g;
            let xmax = t[0][0].max(t[1][0]).max(t[2][0]) + g;
            let ymin = t[0][1].min(t[1][1]).min(t[2][1]) - g;
            let ymax = t[0][1].max(t[1][1]).max(t[2][1]) + g;
            (
                b(xmin, index.x0, index.nx),
                b(xmax, index.x0, index.nx),
                b(ymin, index.y0, index.ny),
                b(ymax, index.y0, index.ny),
            )
        };
        let mut start = vec![0u32; index.nx * index.ny + 1];
        for &k in &order {
            let (i0, i1, j0, j1) = cells(&tris[k as usize]);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    start[j * index.nx + i + 1] += 1;
                }
            }
        }
        for b in 1..start.len() {
            start[b] += start[b - 1];
        }
        let mut fill = start.clone();
        let mut items = vec![0u32; *start.last().unwrap() as usize];
        for &k in &order {
            let (i0, i1, j0, j1) = cells(&tris[k as usize]);
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let slot = &mut fill[j * index.nx + i];
                    items[*slot as usize] = k;
                    *slot += 1;
                }
            }
        }
        index.tris = tris.to_vec();
        index.zmax = zmax;
        index.start = start;
        index.items = items;
        index
    }

    /// Lowest tip Z at `(x, y)` at which the cutter touches no triangle; `None` where no triangle
    /// is under the cutter (or the point is not finite).
    pub fn drop_point(&self, x: f64, y: f64) -> Option<f64> {
        if self.nx == 0 || !(x.is_finite() && y.is_finite()) {
            return None;
        }
        let fi = ((x - self.x0) / self.cell).floor();
        let fj = ((y - self.y0) / self.cell).floor();
        if fi < 0.0 || fj < 0.0 || fi >= self.nx as f64 || fj >= self.ny as f64 {
            return None;
        }
        let b = fj as usize * self.nx + fi as usize;
        let list = &self.items[self.start[b] as usize..self.start[b + 1] as usize];
        let mut best = f64::NEG_INFINITY;
        with_profile!(self.shape, p => {
            for &k in list {
                let zmax = self.zmax[k as usize];
                if zmax <= best {
                    break;
                }
                // No point of the triangle is nearer than its bounding box (see `raster`).
                let t = &self.tris[k as usize];
                let dx = (t[0][0].min(t[1][0]).min(t[2][0]) - x)
                    .max(x - t[0][0].max(t[1][0]).max(t[2][0]))
                    .max(0.0);
                let dy = (t[0][1].min(t[1][1]).min(t[2][1]) - y)
                    .max(y - t[0][1].max(t[1][1]).max(t[2][1]))
                    .max(0.0);
                if dx * dx + dy * dy > p.reach2(zmax - best) + 1e-9 {
                    continue;
                }
                let d = PreparedTriangle::new(&p, t).drop_above(&p, x, y, best);
                best = best.max(d);
            }
        });
        (best > f64::NEG_INFINITY).then_some(best)
    }

    /// The cutter this index drops.
    pub fn cutter(&self) -> Cutter {
        self.cutter
    }
}
