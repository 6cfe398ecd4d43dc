//! The tiled drop-cutter rasteriser: every triangle's exact contact is written into the grid
//! points it can reach, instead of every point querying a tree of triangles.
//!
//! 1. Triangles (non-finite ones ignored) are ordered by their highest vertex, highest first.
//! 2. The grid is cut into tiles of [`TILE_ROWS`] x [`TILE_COLS`] points; each triangle is binned
//!    (counting sort into one flat index array) into the tiles that its XY bounding box, grown by
//!    the cutter radius, overlaps. Each tile's list keeps the height order.
//! 3. Bands of tile rows are disjoint slices of the output and run in parallel (rayon: no locks,
//!    no atomics). Within a tile, a first pass writes every facet contact (the points whose
//!    contact lies inside a triangle: that triangle moved by the contact offset, a small region
//!    per triangle). These are exact contacts, so a lower bound, and on a smooth scan nearly the
//!    final surface. The second pass takes the triangles highest first; each raises the points it
//!    reaches where its exact contact (facet, edges, vertices) is higher. Culling that never
//!    changes a result: no point of
//!    a triangle is above its highest vertex nor nearer than its bounding box, so where the
//!    cutter surface at that distance is already higher than `zmax - z` the triangle cannot lift
//!    the cutter ([`Profile::reach2`]); this is tested first per block of 4 x 4 points against the
//!    block's lowest Z (kept as a lower bound, refreshed when a point in it rises), then per
//!    point. A surviving point is dropped exactly ([`PreparedTriangle::drop_above`], itself with
//!    the plane and edge-chord bounds); the triangle is prepared (facet and edge constants, on
//!    the stack) only when a first point needs it.
//!
//! Memory: the output, one `(f64, u32)` and one tile range (`[u32; 4]`) per triangle while
//! binning, and one `u32` per triangle-tile pair; nothing per point beyond its Z, nothing
//! allocated per triangle or point.

use rayon::prelude::*;

use super::contact::{Facet, PreparedTriangle, Profile, Shape, with_profile};
use super::grid::Grid;
use crate::cutter::Cutter;

/// Grid rows per tile (and per parallel band).
pub const TILE_ROWS: usize = 16;
/// Grid columns per tile.
pub const TILE_COLS: usize = 128;

/// Slack (mm) on the reach of a triangle, so that rounding never drops a point at exactly the
/// cutter radius.
const REACH_SLACK: f64 = 1e-9;

/// Drop-cutter CL grid: for each grid point (y-major, `index = j * nx + i`), the lowest tip Z at
/// which `cutter` touches none of `tris` (mm), or `f64::NEG_INFINITY` where no triangle is under
/// the cutter. Triangles with non-finite coordinates are ignored.
pub fn drop_grid(tris: &[[[f64; 3]; 3]], cutter: &Cutter, grid: &Grid) -> Vec<f64> {
    with_profile!(Shape::of(cutter), p => raster(tris, p, grid))
}

/// The grid-index box a triangle can affect, `(i0, i1, j0, j1)` inclusive.
#[inline]
fn reach(t: &[[f64; 3]; 3], radius: f64, grid: &Grid) -> Option<(usize, usize, usize, usize)> {
    let g = radius + REACH_SLACK;
    let xmin = t[0][0].min(t[1][0]).min(t[2][0]) - g;
    let xmax = t[0][0].max(t[1][0]).max(t[2][0]) + g;
    let ymin = t[0][1].min(t[1][1]).min(t[2][1]) - g;
    let ymax = t[0][1].max(t[1][1]).max(t[2][1]) + g;
    let (i0, i1) = grid.span(grid.x0, grid.nx, xmin, xmax)?;
    let (j0, j1) = grid.span(grid.y0, grid.ny, ymin, ymax)?;
    Some((i0, i1, j0, j1))
}

/// Grid points per block side: a block's lowest Z (a lower bound, refreshed when its points
/// rise) lets a triangle skip the whole block when it cannot reach above it.
const BLOCK: usize = 4;
const BLOCK_ROWS: usize = TILE_ROWS / BLOCK;
const BLOCK_COLS: usize = TILE_COLS / BLOCK;

/// One tile being rasterised: its rows of the output and its blocks' lower bounds.
struct Tile<'a> {
    grid: &'a Grid,
    /// The band's rows (full grid width), starting at row `j_base`.
    band: &'a mut [f64],
    j_base: usize,
    rows: usize,
    /// First and last column of the tile.
    c0: usize,
    c1: usize,
    /// Lowest Z in each block (or lower): `-inf` until its points are all reached.
    bmin: [f64; BLOCK_ROWS * BLOCK_COLS],
    /// X of the tile's columns (`grid.x(c0 + li)`, the same values).
    xs: [f64; TILE_COLS],
}

impl<'a> Tile<'a> {
    fn new(grid: &'a Grid, band: &'a mut [f64], j_base: usize, c0: usize) -> Self {
        let rows = band.len() / grid.nx;
        Tile {
            grid,
            band,
            j_base,
            rows,
            c0,
            c1: (c0 + TILE_COLS).min(grid.nx) - 1,
            bmin: [f64::NEG_INFINITY; BLOCK_ROWS * BLOCK_COLS],
            xs: std::array::from_fn(|li| grid.x(c0 + li)),
        }
    }

    /// Raises the tile's points to the exact drop onto `t` where that is higher.
    #[inline]
    fn drop_triangle<P: Profile>(&mut self, p: &P, t: &[[f64; 3]; 3]) {
        let grid = self.grid;
        let nx = grid.nx;
        let Some((i0, i1, j0, j1)) = reach(t, p.radius(), grid) else {
            return;
        };
        let (i0, i1) = (i0.max(self.c0), i1.min(self.c1));
        let (j0, j1) = (j0.max(self.j_base), j1.min(self.j_base + self.rows - 1));
        if i0 > i1 || j0 > j1 {
            return;
        }
        let zmax = t[0][2].max(t[1][2]).max(t[2][2]);
        let (bx0, bx1) = (
            t[0][0].min(t[1][0]).min(t[2][0]),
            t[0][0].max(t[1][0]).max(t[2][0]),
        );
        let (by0, by1) = (
            t[0][1].min(t[1][1]).min(t[2][1]),
            t[0][1].max(t[1][1]).max(t[2][1]),
        );
        // No point of the triangle is higher than zmax nor nearer than its bounding box: a
        // point (or block) at squared distance d2 from the box, already at z, cannot be raised
        // when d2 > reach2(zmax - z).
        let dist = |lo: f64, hi: f64, a: f64, b: f64| (a - hi).max(lo - b).max(0.0);
        // Prepared on the first point that needs it (many triangles need none).
        let mut pt: Option<PreparedTriangle> = None;
        let (lj0, lj1) = (j0 - self.j_base, j1 - self.j_base);
        let (li0, li1) = (i0 - self.c0, i1 - self.c0);
        for bj in lj0 / BLOCK..=lj1 / BLOCK {
            let (rj0, rj1) = ((bj * BLOCK).max(lj0), (bj * BLOCK + BLOCK - 1).min(lj1));
            let dyb = dist(
                by0,
                by1,
                grid.y(self.j_base + rj0),
                grid.y(self.j_base + rj1),
            );
            for bi in li0 / BLOCK..=li1 / BLOCK {
                let b = bj * BLOCK_COLS + bi;
                let g = zmax - self.bmin[b];
                if g <= 0.0 {
                    continue;
                }
                let (ri0, ri1) = ((bi * BLOCK).max(li0), (bi * BLOCK + BLOCK - 1).min(li1));
                let dxb = dist(bx0, bx1, self.xs[ri0], self.xs[ri1]);
                if dxb * dxb + dyb * dyb > p.reach2(g) + REACH_SLACK {
                    continue;
                }
                let mut raised = false;
                for lj in rj0..=rj1 {
                    let j = self.j_base + lj;
                    let y = grid.y(j);
                    let dy = dist(by0, by1, y, y);
                    let dy2 = dy * dy;
                    let row = &mut self.band[lj * nx + self.c0..lj * nx + self.c0 + ri1 + 1];
                    for (li, z) in row.iter_mut().enumerate().skip(ri0) {
                        let g = zmax - *z;
                        if g <= 0.0 {
                            continue;
                        }
                        let x = self.xs[li];
                        let dx = dist(bx0, bx1, x, x);
                        if dx * dx + dy2 > p.reach2(g) + REACH_SLACK {
                            continue;
                        }
                        let pt = pt.get_or_insert_with(|| PreparedTriangle::new(p, t));
                        let d = pt.drop_above(p, x, y, *z);
                        if d > *z {
                            *z = d;
                            raised = true;
                        }
                    }
                }
                if raised {
                    self.refresh(bj, bi);
                }
            }
        }
    }

    /// First pass: facet contacts only (exact contacts, so a lower bound of the drop that is
    /// usually the drop itself on a smooth scan). The axis positions whose contact point is
    /// inside the triangle are the triangle moved by minus the contact offset: a region of the
    /// triangle's own size, cheap to cover. The second pass then culls almost everything.
    #[inline]
    fn facet_pass<P: Profile>(&mut self, p: &P, t: &[[f64; 3]; 3]) {
        let f = Facet::new(p, t);
        if !f.ok {
            return;
        }
        let grid = self.grid;
        let (ox, oy) = f.offset();
        let xmin = t[0][0].min(t[1][0]).min(t[2][0]) - ox - REACH_SLACK;
        let xmax = t[0][0].max(t[1][0]).max(t[2][0]) - ox + REACH_SLACK;
        let ymin = t[0][1].min(t[1][1]).min(t[2][1]) - oy - REACH_SLACK;
        let ymax = t[0][1].max(t[1][1]).max(t[2][1]) - oy + REACH_SLACK;
        let Some((i0, i1)) = grid.span(grid.x0, grid.nx, xmin, xmax) else {
            return;
        };
        let Some((j0, j1)) = grid.span(grid.y0, grid.ny, ymin, ymax) else {
            return;
        };
        let (i0, i1) = (i0.max(self.c0), i1.min(self.c1));
        let (j0, j1) = (j0.max(self.j_base), j1.min(self.j_base + self.rows - 1));
        let nx = grid.nx;
        for j in j0..=j1 {
            let y = grid.y(j);
            let lj = j - self.j_base;
            for i in i0..=i1 {
                let x = self.xs[i - self.c0];
                if f.inside(x, y) {
                    let z = &mut self.band[lj * nx + i];
                    let d = f.plane_at(x, y);
                    if d > *z {
                        *z = d;
                    }
                }
            }
        }
    }

    /// Recomputes every block's lowest Z.
    fn refresh_all(&mut self) {
        let blocks_down = self.rows.div_ceil(BLOCK);
        let blocks_across = (self.c1 + 1 - self.c0).div_ceil(BLOCK);
        for bj in 0..blocks_down {
            for bi in 0..blocks_across {
                self.refresh(bj, bi);
            }
        }
    }

    /// Recomputes block (bj, bi)'s lowest Z.
    fn refresh(&mut self, bj: usize, bi: usize) {
        let nx = self.grid.nx;
        let (lj0, lj1) = (bj * BLOCK, (bj * BLOCK + BLOCK).min(self.rows));
        let (li0, li1) = (bi * BLOCK, (bi * BLOCK + BLOCK).min(self.c1 + 1 - self.c0));
        let mut m = f64::INFINITY;
        for lj in lj0..lj1 {
            let row = &self.band[lj * nx + self.c0 + li0..lj * nx + self.c0 + li1];
            for &z in row {
                m = m.min(z);
            }
        }
        self.bmin[BLOCK_COLS * bj + bi] = m;
    }
}

fn finite(t: &[[f64; 3]; 3]) -> bool {
    t.iter().flatten().all(|c| c.is_finite())
}

fn raster<P: Profile>(tris: &[[[f64; 3]; 3]], p: P, grid: &Grid) -> Vec<f64> {
    let (nx, ny) = (grid.nx, grid.ny);
    let mut out = vec![f64::NEG_INFINITY; nx * ny];
    if out.is_empty() || tris.is_empty() {
        return out;
    }
    let radius = p.radius();
    let (ntx, nty) = (nx.div_ceil(TILE_COLS), ny.div_ceil(TILE_ROWS));

    // 1. Height order.
    let mut order: Vec<(f64, u32)> = tris
        .par_iter()
        .enumerate()
        .filter(|(_, t)| finite(t))
        .map(|(k, t)| (t[0][2].max(t[1][2]).max(t[2][2]), k as u32))
        .collect();
    order.par_sort_unstable_by(|a, b| b.0.total_cmp(&a.0));

    // 2. Bin into tiles: the tile range of each triangle (in parallel), then count, prefix sums
    //    and fill (serial integer loops; order kept within each tile).
    let ranges: Vec<[u32; 4]> = order
        .par_iter()
        .map(|&(_, k)| match reach(&tris[k as usize], radius, grid) {
            Some((i0, i1, j0, j1)) => [
                (i0 / TILE_COLS) as u32,
                (i1 / TILE_COLS) as u32,
                (j0 / TILE_ROWS) as u32,
                (j1 / TILE_ROWS) as u32,
            ],
            None => [1, 0, 1, 0],
        })
        .collect();
    let mut start = vec![0u32; ntx * nty + 1];
    for &[tx0, tx1, ty0, ty1] in &ranges {
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                start[ty as usize * ntx + tx as usize + 1] += 1;
            }
        }
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    let mut fill = start.clone();
    let mut bins = vec![0u32; start[ntx * nty] as usize];
    for (&(_, k), &[tx0, tx1, ty0, ty1]) in order.iter().zip(&ranges) {
        for ty in ty0..=ty1 {
            for tx in tx0..=tx1 {
                let slot = &mut fill[ty as usize * ntx + tx as usize];
                bins[*slot as usize] = k;
                *slot += 1;
            }
        }
    }
    drop(order);
    drop(ranges);
    drop(fill);

    // 3. Bands of tile rows in parallel, each writing only its own rows.
    out.par_chunks_mut(nx * TILE_ROWS)
        .enumerate()
        .for_each(|(ty, band)| {
            let j_base = ty * TILE_ROWS;
            for tx in 0..ntx {
                let tile = ty * ntx + tx;
                let list = &bins[start[tile] as usize..start[tile + 1] as usize];
                let mut tile = Tile::new(grid, band, j_base, tx * TILE_COLS);
                for &k in list {
                    tile.facet_pass(&p, &tris[k as usize]);
                }
                tile.refresh_all();
                for &k in list {
                    tile.drop_triangle(&p, &tris[k as usize]);
                }
            }
        });
    out
}
